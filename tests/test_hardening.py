"""Hostile-input regressions (issue 20): one device's odd config never crashes or blinds the audit."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Cli
from test_audit import ASA_BASE, IOS_BASE, IOS_EVIL, POLICY, _project, _run
from test_nightly import NOW
from test_nightly import _project as nightly_project
from test_nightly import _run as nightly_run

from cfgwatch import api
from cfgwatch.audit import diff_range, run_audit
from cfgwatch.classify.networks import Networks
from cfgwatch.collect.importdir import import_dir
from cfgwatch.collect.validate import check_output
from cfgwatch.config import load_config
from cfgwatch.errors import EXIT_INTERNAL
from cfgwatch.model import AddressSet, RuleSet
from cfgwatch.revisions import diff_device
from cfgwatch.sanitize import sanitize
from cfgwatch.store import SnapshotStore
from cfgwatch.vendors.registry import PLATFORMS, get_parser, get_spec

NETWORKS = Networks.default()

# -- item 1: a rule over an empty set or group ---------------------------------------------------------

# (platform, config without the rule, config with a rule over an empty group); the group names EMPTY
EMPTY_GROUP_CASES: dict[str, tuple[str, str]] = {
    "cisco_ios": (
        "hostname r1\nip access-list extended OUT\n permit tcp any host 10.0.0.1 eq 22\n",
        "hostname r1\nobject-group network EMPTY\nip access-list extended OUT\n"
        " permit tcp any host 10.0.0.1 eq 22\n permit ip object-group EMPTY any\n",
    ),
    "cisco_asa": (
        "ASA Version 9.8(4)\nhostname fw1\naccess-list OUT extended permit tcp any host 10.0.0.1 eq 22\n",
        "ASA Version 9.8(4)\nhostname fw1\nobject-group network EMPTY\n"
        "access-list OUT extended permit tcp any host 10.0.0.1 eq 22\n"
        "access-list OUT extended permit ip object-group EMPTY any\n",
    ),
    "cisco_nxos": (
        "hostname n1\nfeature bgp\nip access-list OUT\n  10 permit tcp any 10.0.0.1/32 eq 22\n",
        "hostname n1\nfeature bgp\nobject-group ip address EMPTY\nip access-list OUT\n"
        "  10 permit tcp any 10.0.0.1/32 eq 22\n  20 permit ip addrgroup EMPTY any\n",
    ),
    "arista_eos": (  # EOS object-groups are not modelled: the entry is a diagnostic, not a crash
        "hostname e1\nip access-list OUT\n   10 permit tcp any host 10.0.0.1 eq 22\n",
        "hostname e1\nobject-group network EMPTY\nip access-list OUT\n"
        "   10 permit tcp any host 10.0.0.1 eq 22\n   20 permit ip object-group EMPTY any\n",
    ),
    "juniper_junos": (
        "security { policies { from-zone untrust to-zone trust { policy p0 { match { source-address any;"
        " destination-address any; application junos-ssh; } then { permit; } } } } }\n",
        "security { address-book { global { address-set EMPTY { } } }\n"
        " policies { from-zone untrust to-zone trust {"
        " policy p0 { match { source-address any; destination-address any; application junos-ssh; }"
        " then { permit; } }"
        " policy p1 { match { source-address EMPTY; destination-address any; application any; }"
        " then { permit; } } } } }\n",
    ),
    "paloalto_panos": (
        "<config><devices><entry name='localhost.localdomain'><vsys><entry name='vsys1'>"
        "<rulebase><security><rules/></security></rulebase></entry></vsys></entry></devices></config>\n",
        "<config><devices><entry name='localhost.localdomain'><vsys><entry name='vsys1'>"
        "<address-group><entry name='EMPTY'><static/></entry></address-group>"
        "<rulebase><security><rules><entry name='r1'>"
        "<from><member>untrust</member></from><to><member>trust</member></to>"
        "<source><member>EMPTY</member></source><destination><member>any</member></destination>"
        "<application><member>any</member></application><service><member>any</member></service>"
        "<action>allow</action></entry></rules></security></rulebase>"
        "</entry></vsys></entry></devices></config>\n",
    ),
    "fortinet": (
        'config firewall address\n    edit "all"\n        set subnet 0.0.0.0 0.0.0.0\n    next\nend\n',
        'config firewall address\n    edit "all"\n        set subnet 0.0.0.0 0.0.0.0\n    next\nend\n'
        'config firewall addrgrp\n    edit "EMPTY"\n    next\nend\n'
        'config firewall policy\n    edit 1\n        set srcintf "wan1"\n        set dstintf "lan"\n'
        '        set srcaddr "EMPTY"\n        set dstaddr "all"\n        set action accept\n'
        '        set service "ALL"\n    next\nend\n',
    ),
    "mikrotik_routeros": (
        "/ip firewall filter\nadd chain=forward action=drop\n",
        "/ip firewall address-list\n/ip firewall filter\nadd chain=forward action=accept src-address-list=EMPTY\n"
        "add chain=forward action=drop\n",
    ),
    "vyos": (
        "firewall {\n    name OUT {\n        default-action drop\n    }\n}\n",
        "firewall {\n    group {\n        address-group EMPTY {\n        }\n    }\n    name OUT {\n"
        "        default-action drop\n        rule 10 {\n            action accept\n            source {\n"
        "                group {\n                    address-group EMPTY\n                }\n"
        "            }\n        }\n    }\n}\n",
    ),
    "linux": (
        "table inet filter {\n  set blocklist {\n    type ipv4_addr\n  }\n  chain input {\n"
        "    type filter hook input priority 0; policy drop;\n    tcp dport 22 accept\n  }\n}\n",
        "table inet filter {\n  set blocklist {\n    type ipv4_addr\n  }\n  chain input {\n"
        "    type filter hook input priority 0; policy drop;\n    ip saddr @blocklist drop\n"
        "    tcp dport 22 accept\n  }\n}\n",
    ),
}


@pytest.mark.parametrize("platform", sorted(EMPTY_GROUP_CASES))
def test_a_rule_over_an_empty_group_matches_nothing(platform: str) -> None:
    before, after = EMPTY_GROUP_CASES[platform]
    for old, new in ((before, after), (after, before)):  # added and removed
        result = diff_device("r1", platform, old, new, NETWORKS)
        assert result.error is None
        for change in result.changes:
            if change.family == "filter":  # the rule over the empty group opens and closes nothing
                assert change.affected.public.is_empty and change.affected.internal.is_empty, change
                assert "acl-widened" not in change.categories and "acl-narrowed" not in change.categories


def test_empty_group_rule_changes_no_traffic_when_moved_above_a_deny() -> None:
    head = "hostname r1\nobject-group network EMPTY\nip access-list extended OUT\n"
    before = head + " deny ip any any\n permit ip object-group EMPTY any\n"
    after = head + " permit ip object-group EMPTY any\n deny ip any any\n"
    result = diff_device("r1", "cisco_ios", before, after, NETWORKS)
    assert result.error is None
    assert not [c for c in result.changes if "acl-widened" in c.categories]


@pytest.mark.parametrize(
    "text",
    [
        "security { policies { from-zone a to-zone b { policy p1 { } } } }\n",
        "security { policies { from-zone a to-zone b { policy p1; } } }\n",
        "security { policies { global { policy g1 { } } } }\n",
        "set security policies from-zone a to-zone b policy p1\nset security policies global policy g1\n",
    ],
)
def test_junos_policy_without_body_is_a_diagnostic(text: str) -> None:
    rules = get_parser("juniper_junos").parse(text)
    assert [d.code for d in rules.diagnostics] and all(d.code == "JUNOS-POLICY-NO-ACTION" for d in rules.diagnostics)


@pytest.mark.parametrize(
    "text",
    [
        "firewall { family inet { filter F { term t1 { } } } }\n",
        "firewall { filter F { term t1; } }\n",
        "set firewall family inet filter F term t1\n",
    ],
)
def test_junos_term_without_body_accepts_everything(text: str) -> None:
    # Junos: a term without `from` matches every packet, and without `then` its action is accept
    (rule,) = get_parser("juniper_junos").parse(text).filters
    assert rule.action.allows and rule.match.is_any


# -- item 1: one device's crash is data on that device ----------------------------------------------


@contextmanager
def planted_parser(platform: str, parse: Callable[[str], RuleSet]) -> Iterator[None]:
    """The platform's spec with another parse function, through the platform registry (as a site plugin)."""
    spec = get_spec(platform)
    PLATFORMS.register(
        platform, dataclasses.replace(spec, parser=dataclasses.replace(spec.parser, parse=parse)), replace=True
    )
    try:
        yield
    finally:
        PLATFORMS.reset()


@pytest.fixture
def crashing_asa() -> Iterator[None]:
    """Replace the ASA parser with one that crashes, as a buggy site plugin or an unforeseen line would."""

    def boom(text: str) -> RuleSet:
        raise IndexError("tuple index out of range")

    with planted_parser("cisco_asa", boom):
        yield


def test_one_crashing_parser_does_not_stop_the_audit(tmp_path: Path, crashing_asa: None) -> None:
    config = load_config(_project(tmp_path, POLICY))
    store = SnapshotStore(config.snapshots_path)
    asa_changed = ASA_BASE + "access-list OUT extended permit tcp any any eq 22\n"
    _run(
        store,
        {"edge1": ("cisco_ios", IOS_BASE), "fw1": ("cisco_asa", ASA_BASE)},
        datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )
    _run(
        store,
        {"edge1": ("cisco_ios", IOS_EVIL), "fw1": ("cisco_asa", asa_changed)},
        datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        user="mallory",
    )
    diff = diff_range(store, config)
    by_device = {device.device: device for device in diff.devices}
    assert by_device["edge1"].error is None and by_device["edge1"].changes
    assert by_device["fw1"].error is not None and "IndexError" in by_device["fw1"].error
    assert not by_device["fw1"].changes

    result = run_audit(store, config, None, today=date(2026, 11, 28))
    assert result.findings and {f.device for f in result.findings} == {"edge1"}
    assert any(problem.startswith("fw1: not compared: internal error (IndexError") for problem in result.problems)


# -- item 4: lines end at newlines only; a BOM is not part of the config ------------------------------

# every character str.splitlines() breaks at that is not a newline to a router, the sanitizer or the store
NOT_NEWLINES = ("\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")

# (platform, config whose <SEP> sits inside a remark/comment/description that precedes more rules)
REMARK_CASES: dict[str, str] = {
    "cisco_ios": "hostname r1\nip access-list extended OUT\n remark proxy<SEP>change\n"
    " permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128\n deny ip any any\n"
    "ip access-list extended IN\n permit tcp any any eq 22\n",
    "cisco_asa": "ASA Version 9.8(4)\nhostname fw1\naccess-list OUT remark proxy<SEP>change\n"
    "access-list OUT extended permit tcp 10.0.0.0 255.255.255.0 host 45.77.1.2 eq 3128\n"
    "access-list OUT extended deny ip any any\n",
    "cisco_nxos": "hostname n1\nfeature bgp\nip access-list OUT\n  5 remark proxy<SEP>change\n"
    "  10 permit tcp 10.0.0.0/24 45.77.1.2/32 eq 3128\n  20 deny ip any any\n",
    "juniper_junos": "firewall {\n    filter F {\n        /* proxy<SEP>change */\n        term t1 {\n"
    "            from {\n                destination-address {\n                    45.77.1.2/32;\n"
    "                }\n            }\n            then accept;\n        }\n        term t2 {\n"
    "            then discard;\n        }\n    }\n}\n",
    "fortinet": 'config firewall policy\n    edit 1\n        set comments "proxy<SEP>change"\n'
    '        set srcintf "lan"\n        set dstintf "wan1"\n        set srcaddr "all"\n'
    '        set dstaddr "all"\n        set action accept\n        set service "ALL"\n    next\n'
    '    edit 2\n        set srcintf "wan1"\n        set dstintf "lan"\n        set srcaddr "all"\n'
    '        set dstaddr "all"\n        set action deny\n        set service "ALL"\n    next\nend\n',
    "vyos": "set firewall name OUT rule 10 description 'proxy<SEP>change'\n"
    "set firewall name OUT rule 10 action accept\n"
    "set firewall name OUT rule 20 action drop\n",
    "mikrotik_routeros": '/ip firewall filter\nadd chain=forward action=accept comment="proxy<SEP>change"'
    " dst-address=45.77.1.2 protocol=tcp dst-port=3128\nadd chain=forward action=drop\n",
    "linux": "table inet filter {\n  chain forward {\n    type filter hook forward priority 0; policy drop;\n"
    '    ip daddr 45.77.1.2 tcp dport 3128 accept comment "proxy<SEP>change"\n    tcp dport 22 accept\n  }\n}\n',
}


@pytest.mark.parametrize("separator", NOT_NEWLINES, ids=[f"U+{ord(c):04X}" for c in NOT_NEWLINES])
@pytest.mark.parametrize("platform", sorted(REMARK_CASES))
def test_a_line_separator_in_a_remark_keeps_every_later_entry(platform: str, separator: str) -> None:
    parse = get_parser(platform).parse
    plain = parse(REMARK_CASES[platform].replace("<SEP>", " "))
    odd = parse(REMARK_CASES[platform].replace("<SEP>", separator))
    assert len(plain.filters) >= 2
    assert [(r.list_name, r.action, r.match) for r in odd.filters] == [
        (r.list_name, r.action, r.match) for r in plain.filters
    ]
    assert [(r.source.start_line, r.source.end_line) for r in odd.filters if r.source] == [
        (r.source.start_line, r.source.end_line) for r in plain.filters if r.source
    ]
    assert len(odd.diagnostics) == len(plain.diagnostics)


def test_proxy_permit_after_a_u2028_remark_is_still_a_change(tmp_path: Path) -> None:
    """Through sanitize, store and diff: the permit after the remark is seen, with its own source line."""
    config = load_config(_project(tmp_path, POLICY))
    store = SnapshotStore(config.snapshots_path)
    permit = " permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128\n"
    before = REMARK_CASES["cisco_ios"].replace("<SEP>", " ").replace(permit, "")
    after = REMARK_CASES["cisco_ios"].replace("<SEP>", "\u2028")
    _run(store, {"edge1": ("cisco_ios", before)}, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    _run(store, {"edge1": ("cisco_ios", after)}, datetime(2026, 11, 25, tzinfo=UTC))
    (device,) = diff_range(store, config).devices
    (change,) = device.changes
    assert change.change == "added" and change.after is not None
    assert change.lines_after is not None and change.lines_after.lines == (
        " permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128",
    )
    assert "45.77.1.2" in change.affected.public.ranges()


@pytest.mark.parametrize("platform", sorted(EMPTY_GROUP_CASES))
def test_a_bom_does_not_hide_the_config(platform: str, tmp_path: Path) -> None:
    text = EMPTY_GROUP_CASES[platform][1]
    plain = get_parser(platform).parse(text)
    file = tmp_path / "r1.cfg"
    file.write_bytes(b"\xef\xbb\xbf" + text.encode())
    from_file = api.parse_file(file, platform if platform in ("arista_eos", "paloalto_panos") else "auto")
    assert from_file.filters == plain.filters and from_file.diagnostics == plain.diagnostics
    # the sanitizer drops it from str input as utf-8-sig does from bytes, so the store never holds one
    assert not sanitize("\ufeff" + text, platform, b"k" * 32).text.startswith("\ufeff")


def test_a_bom_stored_earlier_is_not_read_back(tmp_path: Path) -> None:
    config = load_config(_project(tmp_path, POLICY))
    store = SnapshotStore(config.snapshots_path)
    junos_before, junos_after = EMPTY_GROUP_CASES["juniper_junos"]
    # an older cfgwatch stored the BOM a file came with: write it past the sanitizer
    _run(store, {"r1": ("juniper_junos", "\ufeff" + junos_before)}, datetime(2026, 11, 20, tzinfo=UTC))
    _run(store, {"r1": ("juniper_junos", "\ufeff" + junos_after)}, datetime(2026, 11, 21, tzinfo=UTC))
    assert not store.read("r1").startswith("\ufeff")
    assert store.read_many(["r1"])["r1"][0] == junos_after
    (device,) = diff_range(store, config).devices
    assert device.error is None and [c.after.name for c in device.changes if c.after is not None] == ["p1"]


def test_import_detects_a_platform_behind_a_bom(tmp_path: Path) -> None:
    config = load_config(_project(tmp_path, POLICY))
    store = SnapshotStore(config.snapshots_path)
    folder = tmp_path / "cfgs"
    folder.mkdir()
    (folder / "r1.conf").write_bytes(b"\xef\xbb\xbf" + EMPTY_GROUP_CASES["vyos"][1].encode())
    result = import_dir(store, folder, key=b"k" * 32)
    assert [(d.name, d.platform) for d in result.devices] == [("r1", "vyos")]
    assert not store.read("r1").startswith("\ufeff")


# -- item 12: parser tracebacks become diagnostics ----------------------------------------------------


def _codes(platform: str, text: str) -> list[str]:
    return [d.code for d in get_parser(platform).parse(text).diagnostics]


@pytest.mark.parametrize("operator", ["foo", "eqq", "80", "destination"])
def test_asa_service_source_with_a_bad_operator_is_a_diagnostic(operator: str) -> None:
    text = (
        "ASA Version 9.8(4)\nhostname fw1\nobject service S1\n"
        f" service tcp source {operator} 80\naccess-list OUT extended permit object S1 any any\n"
    )
    assert "ASA-BAD-PORT" in _codes("cisco_asa", text) or "ASA-OBJECT-UNSUPPORTED" in _codes("cisco_asa", text)


@pytest.mark.parametrize("ports", ["99999", "1-99999", "70000-80000"])
def test_junos_application_port_out_of_range_is_a_diagnostic(ports: str) -> None:
    text = (
        f"applications {{ application A {{ protocol tcp; destination-port {ports}; }} }}\n"
        "security { policies { from-zone a to-zone b { policy p { match { source-address any;"
        " destination-address any; application A; } then { permit; } } } } }\n"
    )
    rules = get_parser("juniper_junos").parse(text)
    assert "JUNOS-BAD-APPLICATION" in [d.code for d in rules.diagnostics]
    (rule,) = rules.filters
    assert rule.match.services[0].is_any  # conservative: an application that cannot be read is any


def test_junos_filter_port_out_of_range_is_a_diagnostic() -> None:
    text = "firewall { filter F { term t1 { from { destination-port 99999; } then accept; } } }\n"
    assert "JUNOS-FILTER-BAD-PORT" in _codes("juniper_junos", text)


def _junos_address_set_chain(length: int) -> str:
    lines = [f"set security address-book global address-set S{i} address-set S{i + 1}\n" for i in range(length)]
    lines.append(f"set security address-book global address-set S{length} address A\n")
    lines.append("set security address-book global address A 10.0.0.0/24\n")
    lines.append(
        "set security policies from-zone a to-zone b policy p match source-address S0 destination-address any"
        " application any\nset security policies from-zone a to-zone b policy p then permit\n"
    )
    return "".join(lines)


def test_junos_address_set_chain_of_1000_is_a_diagnostic_not_a_recursion_error() -> None:
    rules = get_parser("juniper_junos").parse(_junos_address_set_chain(1000))
    assert "JUNOS-SET-TOO-DEEP" in [d.code for d in rules.diagnostics]
    (rule,) = rules.filters
    assert rule.match.src.v4 == () and rule.match.src.fqdns == {"unresolved:S0"}  # opaque, neither any nor none


def test_junos_address_set_chain_within_the_limit_resolves() -> None:
    rules = get_parser("juniper_junos").parse(_junos_address_set_chain(20))
    assert rules.diagnostics == ()
    (rule,) = rules.filters
    assert rule.match.src == AddressSet.parse("10.0.0.0/24")


def test_junos_application_set_chain_and_cycles_are_diagnostics() -> None:
    chain = "".join(f"set applications application-set A{i} application-set A{i + 1}\n" for i in range(1000))
    chain += "set applications application-set A1000 application junos-ssh\n"
    chain += (
        "set security policies from-zone a to-zone b policy p match source-address any destination-address any"
        " application A0\nset security policies from-zone a to-zone b policy p then permit\n"
    )
    assert "JUNOS-SET-TOO-DEEP" in _codes("juniper_junos", chain)
    cycle = (
        "set security address-book global address-set S1 address-set S2\n"
        "set security address-book global address-set S2 address-set S1\n"
        "set security policies from-zone a to-zone b policy p match source-address S1 destination-address any"
        " application any\nset security policies from-zone a to-zone b policy p then permit\n"
    )
    assert "JUNOS-SET-CYCLE" in _codes("juniper_junos", cycle)  # was silently an empty set


def _panos_group_chain(length: int) -> str:
    groups = "".join(f"<entry name='G{i}'><static><member>G{i + 1}</member></static></entry>" for i in range(length))
    groups += f"<entry name='G{length}'><static><member>A</member></static></entry>"
    return (
        EMPTY_GROUP_CASES["paloalto_panos"][1]
        .replace(
            "<address-group>",
            "<address><entry name='A'><ip-netmask>10.0.0.0/24</ip-netmask></entry></address><address-group>" + groups,
        )
        .replace("<source><member>EMPTY</member></source>", "<source><member>G0</member></source>")
    )


def test_panos_address_group_chain_of_400_is_a_diagnostic_not_a_recursion_error() -> None:
    rules = get_parser("paloalto_panos").parse(_panos_group_chain(400))
    assert "PANOS-GROUP-TOO-DEEP" in [d.code for d in rules.diagnostics]
    (rule,) = rules.filters
    assert rule.match.src.v4 == () and rule.match.src.fqdns == {"unresolved:G64"}  # cut where it got too deep


def test_panos_address_group_chain_within_the_limit_resolves() -> None:
    rules = get_parser("paloalto_panos").parse(_panos_group_chain(20))
    assert rules.diagnostics == ()
    (rule,) = rules.filters
    assert rule.match.src == AddressSet.parse("10.0.0.0/24")


def test_panos_group_cycle_is_named_as_a_cycle() -> None:
    text = (
        "set address-group G1 static G2\nset address-group G2 static G1\n"
        "set service-group V1 members V2\nset service-group V2 members V1\n"
        "set rulebase security rules r1 from any to any source G1 destination any application any service V1\n"
        "set rulebase security rules r1 action allow\n"
    )
    assert "PANOS-GROUP-CYCLE" in _codes("paloalto_panos", text)


def test_panos_xml_nested_1000_deep_parses() -> None:
    deep = "<config>" + "<a>" * 1000 + "x" + "</a>" * 1000 + "</config>"
    assert get_parser("paloalto_panos").parse(deep).filters == ()
    # and the walk is unchanged for a real config: a rule inside a deep-but-valid document still parses
    rule = EMPTY_GROUP_CASES["paloalto_panos"][1].replace(
        "<action>allow</action>", "<action>allow</action>" + deep[8:-9]
    )
    assert len(get_parser("paloalto_panos").parse(rule).filters) == 1


# -- item 2: a crash is never mistaken for a night with findings ----------------------------------------


@pytest.fixture
def ios_crashes_on_marker() -> Iterator[None]:
    """The IOS parser crashes on configs holding CRASH-ME (a parser bug one device's config triggers)."""
    real = get_spec("cisco_ios").parser.parse

    def parse(text: str) -> RuleSet:
        if "CRASH-ME" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real(text)

    with planted_parser("cisco_ios", parse):
        yield


def test_nightly_reports_a_device_it_could_not_compare_and_exits_1(
    tmp_path: Path, cli: Cli, ios_crashes_on_marker: None
) -> None:
    root = nightly_project(tmp_path / "p", None)
    nightly_run(root, {"edge1": IOS_BASE, "core9": IOS_BASE}, NOW - timedelta(days=1))
    nightly_run(root, {"edge1": IOS_BASE + "! tidy\n", "core9": IOS_BASE + "! CRASH-ME\n"}, NOW)
    code, out, err = cli("nightly", "--no-pull", cwd=root)
    assert code == 1, (out, err)  # nothing at or above fail_on, but a device was not compared: not clean
    assert out.splitlines()[0] == "cfgwatch nightly: pull skipped, 0 findings, 1 device NOT COMPARED"
    assert "core9: not compared: internal error (RecursionError" in out
    assert "edge1" not in out  # compared, unchanged in meaning


def test_a_crash_exits_70_not_1(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    root = nightly_project(tmp_path / "p", None)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr("cfgwatch.cli.nightly.run_nightly", crash)
    code, out, err = cli("nightly", "--no-pull", cwd=root)
    assert code == EXIT_INTERNAL == 70
    assert "Traceback" in err and "internal error: KeyError: 'bug'" in err and out == ""


def test_a_crash_while_importing_the_cli_exits_70() -> None:
    # sys.modules[name] = None makes `import name` raise ImportError, as a broken install would
    program = "import sys; sys.modules['cfgwatch.cli'] = None; from cfgwatch.entry import main; main()"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=False)
    assert done.returncode == EXIT_INTERNAL
    assert "internal error: cannot load cfgwatch: ModuleNotFoundError" in done.stderr


def test_the_nightly_unit_counts_only_findings_as_success() -> None:
    unit = (Path(__file__).resolve().parent.parent / "contrib" / "cfgwatch-nightly.service").read_text()
    (line,) = [line for line in unit.splitlines() if line.startswith("SuccessExitStatus=")]
    assert line.split("=", 1)[1].split() == ["1"]
    assert "70 internal error" in unit
    entry = [
        line
        for line in (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text().splitlines()
        if line.startswith("cfgwatch = ")
    ]
    assert 'cfgwatch = "cfgwatch.entry:main"' in entry  # the guarded entry point


def test_a_line_separator_does_not_fake_the_end_of_a_truncated_config() -> None:
    cut = "hostname r1\nip access-list extended OUT\n remark cut here\u2028end\n"
    verdict = check_output(cut, "cisco_ios")
    assert not verdict.ok and verdict.reason == "incomplete"
    assert check_output(cut.replace("\u2028", "\n"), "cisco_ios").ok


@pytest.mark.parametrize(
    ("platform", "text"),
    [
        ("linux", "table inet f {\n  chain c {\n    type filter hook\n    policy\n    tcp dport 22 accept\n  }\n}\n"),
        ("linux", "*filter\n:INPUT ACCEPT [0:0]\n[0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"),
        ("fortinet", 'config firewall address\n    edit "a"\n        set subnet\n    next\nend\n'),
        ("cisco_asa", "ASA Version 9.8(4)\nobject-group service G MIXED\n port-object eq 80\n"),
    ],
    ids=["nft-cut-chain-header", "iptables-bare-counter", "fortinet-empty-subnet", "asa-bad-group-protocol"],
)
def test_cut_lines_found_by_mutation_parse(platform: str, text: str) -> None:
    get_parser(platform).parse(text)  # raised IndexError / SyntaxProblem before


_NXOS_CONFIGS = (
    "cfgwatch/data/lab/dc-nx-01.cfg",
    "fixtures/configs/cisco_nxos/netutils_nxos_full.txt",
    "fixtures/configs/cisco_nxos/napalm_nxos_initial.conf",
    "fixtures/configs/cisco_nxos/napalm_nxos_new_good.conf",
)


@pytest.mark.parametrize("name", _NXOS_CONFIGS)
def test_a_truncated_nxos_running_config_is_incomplete(name: str) -> None:
    text = (Path(__file__).resolve().parent.parent / name).read_text()
    assert check_output(text, "cisco_nxos").ok
    assert check_output(text.replace("\n", "\r\n"), "cisco_nxos").ok
    tail = text.index("\nboot ")
    cuts = [int(len(text) * ratio) for ratio in (0.1, 0.3, 0.5, 0.7, 0.8)]
    cuts += [tail, tail + 3, text.index("\nline "), text.index("\nline vty")]
    for cut in (c for c in cuts if c <= tail + 3):
        verdict = check_output(text[:cut], "cisco_nxos")
        assert not verdict.ok and verdict.reason == "incomplete", (cut, verdict)
    # a remark cannot stand in for the sections: they count only as top-level commands
    cut = text[: int(len(text) * 0.7)] + "\n  remark line vty\n version\n boot x\n"
    assert not check_output(cut, "cisco_nxos").ok
