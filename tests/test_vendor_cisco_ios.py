"""Cisco IOS parser: the important rules checked field by field, plus property tests on random lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from _held_out import changes, egress
from _platform_fixtures import extra_platforms
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.errors import InputError, UnknownPlatformError
from cfgwatch.model import Action, AddressSet, BindingKind, NatKind, PortSet, RuleSet, Service, tcp, udp
from cfgwatch.vendors.cisco_ios import PARSER
from cfgwatch.vendors.cisco_ios.parser import parse

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "cisco_ios"


def _load(name: str) -> RuleSet:
    return parse((CONFIGS / name).read_text(encoding="utf-8"))


def _nat(rules: RuleSet, line: int):  # type: ignore[no-untyped-def]
    found = [nat for nat in rules.nats if nat.source is not None and nat.source.start_line == line]
    assert len(found) == 1, f"expected one NAT rule on line {line}"
    return found[0]


def _line_of(name: str, needle: str) -> int:
    for number, text in enumerate((CONFIGS / name).read_text(encoding="utf-8").splitlines(), 1):
        if text.strip() == needle:
            return number
    raise AssertionError(f"{needle!r} not in {name}")


# -- NAT ----------------------------------------------------------------------------------------


def test_banner_with_ip_nat_text_is_not_a_rule() -> None:
    rules = _load("forms_nat.cfg")
    banner_hosts = {AddressSet.parse(a) for a in ("10.9.9.9", "198.51.100.99", "1.1.1.1")}
    assert not any(nat.match.src in banner_hosts for nat in rules.nats)
    assert len(rules.nats) == 12
    assert not any("10.9.9.9" in d.text for d in rules.diagnostics)


def test_inside_static_port_forward() -> None:
    rules = _load("forms_nat.cfg")
    nat = _nat(
        rules, _line_of("forms_nat.cfg", "ip nat inside source static tcp 10.0.0.10 80 203.0.113.5 8080 extendable")
    )
    assert nat.kind is NatKind.STATIC
    assert nat.match.src == AddressSet.parse("10.0.0.10")
    assert nat.match.services == (Service(6, src_ports=PortSet.of(80)),)
    assert nat.translated_src == AddressSet.parse("203.0.113.5")
    assert nat.translated_src_ports == PortSet.of(8080)
    assert nat.ingress == ("inside",) and nat.egress == ("outside",)
    assert nat.bidirectional
    assert nat.options == frozenset({"extendable"})


def test_static_to_interface_and_network_and_vrf() -> None:
    rules = _load("forms_nat.cfg")
    to_if = _nat(
        rules, _line_of("forms_nat.cfg", "ip nat inside source static udp 10.0.0.11 53 interface GigabitEthernet0/1 53")
    )
    # `interface X` maps to X's one address (203.0.113.1), as if written out: an exposure on a known address
    assert to_if.translate_to_interface is None and to_if.translated_src_ports == PortSet.of(53)
    assert to_if.translated_src == AddressSet.parse("203.0.113.1")
    assert to_if.translated_src.names == ("interface GigabitEthernet0/1",)
    network = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside source static network 10.0.8.0 203.0.113.128 /25"))
    assert network.match.src == AddressSet.parse("10.0.8.0/25")
    assert network.translated_src == AddressSet.parse("203.0.113.128/25")
    vrf = _nat(
        rules, _line_of("forms_nat.cfg", "ip nat inside source static 172.16.0.5 203.0.113.7 vrf CUST match-in-vrf")
    )
    assert vrf.context == "CUST" and "match-in-vrf" in vrf.options


def test_outside_source_static() -> None:
    rules = _load("forms_nat.cfg")
    nat = _nat(rules, _line_of("forms_nat.cfg", "ip nat outside source static 198.51.100.80 10.0.0.200 add-route"))
    assert nat.kind is NatKind.STATIC
    assert nat.match.src == AddressSet.parse("198.51.100.80")
    assert nat.translated_src == AddressSet.parse("10.0.0.200")
    assert nat.ingress == ("outside",) and nat.egress == ("inside",)
    assert nat.bidirectional


def test_dynamic_forms_resolve_acls_pools_route_maps() -> None:
    rules = _load("forms_nat.cfg")
    overload_if = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside source list 1 interface Dialer1 overload"))
    assert overload_if.kind is NatKind.PAT
    assert overload_if.translate_to_interface == "Dialer1"
    assert overload_if.match.src == AddressSet.parse("10.0.0.0/23")
    assert overload_if.match.src.names == ("1",)
    pool_pat = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside source list 2 pool PUBLIC overload"))
    assert pool_pat.kind is NatKind.PAT
    assert pool_pat.translated_src == AddressSet.parse("203.0.113.10-203.0.113.20")
    assert pool_pat.translated_src.names == ("PUBLIC",)
    dynamic = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside source list NAT-CUST pool PUBLIC-PFX vrf CUST"))
    assert dynamic.kind is NatKind.DYNAMIC and dynamic.context == "CUST"
    assert dynamic.match.src == AddressSet.parse("172.16.0.0/16")
    policy = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside source route-map RM-POLICY pool PUBLIC"))
    assert policy.match.src == AddressSet.parse("10.0.3.0/24")
    assert policy.match.dst == AddressSet.parse("198.51.100.0/24")
    assert policy.match.src.names == ("RM-POLICY", "POLICY-NAT")
    dest = _nat(rules, _line_of("forms_nat.cfg", "ip nat inside destination list 1 pool SERVERS"))
    assert dest.kind is NatKind.DESTINATION
    assert dest.match.dst == AddressSet.parse("10.0.0.0/23")
    assert dest.translated_dst == AddressSet.parse("10.0.5.10-10.0.5.12")


def test_nat_diagnostics_have_stable_codes() -> None:
    rules = _load("forms_nat.cfg")
    codes = {d.code: d for d in rules.diagnostics}
    assert set(codes) == {"IOS-NAT-ACL-DENY", "IOS-NAT-UNKNOWN-ACL", "IOS-NAT-UNSUPPORTED"}
    assert codes["IOS-NAT-UNKNOWN-ACL"].text == "ip nat inside source list MISSING pool PUBLIC"
    assert codes["IOS-NAT-UNSUPPORTED"].line == _line_of(
        "forms_nat.cfg", "ip nat inside source static 10.0.0.13 203.0.113.9 frobnicate"
    )
    # `ip nat translation timeout` is a global setting, not a rule and not a diagnostic
    assert all("translation" not in d.text for d in rules.diagnostics)


def test_nat_roles_and_pools() -> None:
    rules = _load("forms_nat.cfg")
    roles = {(b.name, b.interface, b.context) for b in rules.bindings if b.kind is BindingKind.NAT_ROLE}
    assert roles == {
        ("inside", "GigabitEthernet0/0", None),
        ("outside", "GigabitEthernet0/1", None),
        ("inside", "GigabitEthernet0/2", "CUST"),
        ("outside", "Dialer1", None),
    }
    pools = {obj.name: obj for obj in rules.objects if obj.kind == "pool"}
    assert pools["SERVERS"].addresses == AddressSet.parse("10.0.5.10-10.0.5.12")
    assert pools["PUBLIC-PFX"].addresses == AddressSet.parse("203.0.113.32/28")


def test_corpus_gns3_outside_static_added() -> None:
    before, after = _load("gns3-nat_R1-Blue.before.cfg"), _load("gns3-nat_R1-Blue.after.cfg")
    added = set(after.nats) - set(before.nats)
    assert len(added) == 1
    (nat,) = added
    assert nat.ingress == ("outside",)
    assert nat.match.src == AddressSet.parse("12.0.1.1") and nat.translated_src == AddressSet.parse("10.0.2.1")


def test_corpus_vrf_static_nat() -> None:
    rules = _load("genie_show-running-config-vrf_nat.txt")
    assert {nat.context for nat in rules.nats} == {"CUST_A", "CUST_B"}
    assert all(nat.kind is NatKind.STATIC and "match-in-vrf" in nat.options for nat in rules.nats)


# -- ACLs ---------------------------------------------------------------------------------------


def test_numbered_extended_acl_entries() -> None:
    rules = _load("forms_acl.cfg")
    acl = rules.filter_lists()["101"]
    assert acl[0].comment == "CHG-3003 allow web to the farm"
    assert acl[0].match.dst.names == ("WEB-SERVERS",)
    assert acl[0].match.dst == AddressSet.parse("10.1.1.10", "10.1.1.16/28", "10.1.1.40-10.1.1.42")
    assert acl[0].match.services == (tcp(80, 443),)
    assert acl[2].options == frozenset({"established"})
    assert acl[3].match.services == (Service(17, PortSet.of(53), PortSet.of((1024, 65535))),)
    assert acl[4].match.services[0].dst_ports == PortSet.of((0, 22), (24, 65535))
    assert acl[5].match.services == (tcp((0, 1023)),)
    assert acl[7].match.services == (Service(1, icmp_type=3, icmp_code=4),)
    assert acl[8].options == frozenset({"fragments"})
    assert acl[9].match.src.count() == 256 * 256  # non-contiguous wildcard expanded exactly
    assert acl[-1].action is Action.DENY and "log" in acl[-1].options


def test_named_acl_with_groups_sequences_and_diagnostics() -> None:
    rules = _load("forms_acl.cfg")
    lan = rules.filter_lists()["LAN-IN"]
    assert [rule.sequence for rule in lan] == [10, 20, 30, 40, 50, 80]
    assert lan[0].comment == "TICKET-42 web to the farm"
    assert lan[0].match.dst.names == ("ALL-SERVERS",)
    assert lan[0].match.dst.contains_ip("10.1.2.2") and lan[0].match.dst.contains_ip("10.1.1.41")
    assert {svc.protocol for svc in lan[0].match.services} == {6, 17}
    assert lan[1].match.services == (
        Service(6, dst_ports=PortSet.of(3128)).named("PROXY-PORTS"),
        Service(6, dst_ports=PortSet.of(1080)).named("PROXY-PORTS"),
        Service(17, dst_ports=PortSet.of(1080)).named("PROXY-PORTS"),
    )
    assert lan[2].options == frozenset({"time-range WORKHOURS"})
    assert lan[4].options == frozenset({"dscp af11"})
    codes = [d.code for d in sorted(rules.diagnostics, key=lambda d: d.line)]
    assert codes == ["IOS-ACL-UNSUPPORTED", "IOS-ACL-UNKNOWN-OBJECT"]


def test_standard_ipv6_and_bindings() -> None:
    rules = _load("forms_acl.cfg")
    lists = rules.filter_lists()
    assert lists["10"][0].match.src == AddressSet.parse("10.1.0.5")
    assert lists["MGMT"][1].action is Action.DENY and lists["MGMT"][1].match.src.is_any
    v6 = lists["V6-IN"]
    assert [rule.sequence for rule in v6] == [10, 20, 30]
    assert v6[0].match.dst == AddressSet.parse("2001:db8:1::10") and v6[0].match.services == (tcp(443),)
    # `icmp` inside an IPv6 ACL is ICMPv6 and echo-request is ICMPv6 type 128 (IOS IPv6 command reference)
    assert v6[1].match.services == (Service(58, icmp_type=128),)
    filters = {(b.name, b.interface, b.direction, b.context) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert ("101", "GigabitEthernet0/1", "in", "INTERNET") in filters
    assert ("V6-IN", "GigabitEthernet0/0", "in", None) in filters
    assert ("WAN-OUT", "INSIDE>OUTSIDE", "zone-pair", None) in filters
    zones = {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.ZONE}
    assert zones == {("INSIDE", "GigabitEthernet0/2"), ("OUTSIDE", "GigabitEthernet0/3")}
    gi0 = next(i for i in rules.interfaces if i.name == "GigabitEthernet0/0")
    assert gi0.addresses == AddressSet.parse("10.1.0.1", "10.1.9.1", "2001:db8:1::1")


def test_blank_line_ends_remark_block() -> None:
    rules = _load("aerleon_sample_multitarget.acl")
    comments = [rule.comment for rule in rules.filter_lists()["edge-inbound"]]
    assert comments[0] is not None and comments[0].startswith("deny-from-bogons\n")
    assert "permit-mail-services" in comments


def test_zone_pair_removed_between_versions() -> None:
    before = _load("example-filters-current_firewall.cfg")
    after = _load("example-filters-candidate1_firewall.cfg")
    pairs_before = {b.interface for b in before.bindings if b.direction == "zone-pair"}
    pairs_after = {b.interface for b in after.bindings if b.direction == "zone-pair"}
    assert pairs_before - pairs_after == {"zone-z2>zone-z3"}


def test_fcv_change_opens_port_80() -> None:
    before = set(_load("fcv-base_border1.cfg").filters)
    after = set(_load("fcv-change2_border1.cfg").filters)
    (added,) = after - before
    assert added.list_name == "OUTSIDE_TO_INSIDE"
    assert added.match.dst == AddressSet.parse("2.128.0.0/23") and added.match.services == (tcp(80),)


def test_detect() -> None:
    assert PARSER.detect((CONFIGS / "forms_acl.cfg").read_text(encoding="utf-8"))
    assert not PARSER.detect("set system host-name x\n")


# -- properties -----------------------------------------------------------------------------------

octets = st.integers(min_value=0, max_value=255)
ipv4 = st.tuples(octets, octets, octets, octets).map(lambda t: ".".join(map(str, t)))
prefix_len = st.integers(min_value=0, max_value=32)
ports = st.integers(min_value=0, max_value=65535)


def _wildcard(length: int) -> str:
    value = (1 << (32 - length)) - 1
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


@settings(max_examples=150, deadline=None)
@given(src=ipv4, src_len=prefix_len, dst=ipv4, low=ports, high=ports, proto=st.sampled_from(["tcp", "udp"]))
def test_random_extended_entry_round_trips(src: str, src_len: int, dst: str, low: int, high: int, proto: str) -> None:
    low, high = min(low, high), max(low, high)
    text = f"ip access-list extended P\n permit {proto} {src} {_wildcard(src_len)} host {dst} range {low} {high}\n"
    (rule,) = parse(text).filters
    assert rule.match.src == AddressSet.parse(f"{src}/{src_len}")
    assert rule.match.dst == AddressSet.parse(dst)
    expected = tcp((low, high)) if proto == "tcp" else udp((low, high))
    assert rule.match.services == (expected,)


@settings(max_examples=150, deadline=None)
@given(local=ipv4, glob=ipv4, lport=ports, gport=ports, proto=st.sampled_from(["tcp", "udp"]))
def test_random_static_port_nat_round_trips(local: str, glob: str, lport: int, gport: int, proto: str) -> None:
    rules = parse(f"ip nat inside source static {proto} {local} {lport} {glob} {gport}\n")
    (nat,) = rules.nats
    assert nat.match.src == AddressSet.parse(local) and nat.translated_src == AddressSet.parse(glob)
    assert nat.match.services[0].src_ports == PortSet.of(lport)
    assert nat.translated_src_ports == PortSet.of(gport)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "permit",
                "deny",
                "tcp",
                "any",
                "host",
                "eq",
                "10.0.0.1",
                "0.0.0.255",
                "80",
                "log",
                "range",
                "object-group",
                "ip",
                "nat",
                "inside",
                "source",
                "static",
                "list",
                "pool",
                "remark",
                "!",
                "access-list",
                "101",
                "\n",
                " ",
            ]
        ),
        max_size=25,
    )
)
def test_random_token_soup_never_raises(words: list[str]) -> None:
    text = "ip access-list extended X\n " + " ".join(words) + "\nip nat inside source " + " ".join(words) + "\n"
    result = parse(text)
    assert isinstance(result, RuleSet)
    for diag in result.diagnostics:
        assert 1 <= diag.line <= len(text.splitlines())


# -- CLI: cfgwatch vendors / cfgwatch parse -----------------------------------------------------------


def test_cli_parse_json_text_and_errors(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from cfgwatch.cli import app

    runner = CliRunner()
    config = str(CONFIGS / "forms_nat.cfg")
    result = runner.invoke(app, ["parse", config, "--platform", "ios", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["platform"] == "cisco_ios" and len(data["nats"]) == 12
    text = runner.invoke(app, ["parse", config, "--platform", "auto"])
    assert text.exit_code == 0 and "12 NAT rules" in text.stdout
    missing = runner.invoke(app, ["parse", str(tmp_path / "nope.cfg"), "--platform", "cisco_ios"])
    assert isinstance(missing.exception, InputError) and "nope.cfg" in str(missing.exception)
    unknown = runner.invoke(app, ["parse", config, "--platform", "bogus"])
    assert isinstance(unknown.exception, UnknownPlatformError)


def test_cli_vendors_lists_unimportable_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from cfgwatch.cli import vendors

    with extra_platforms(monkeypatch, not_yet="cfgwatch.vendors.not_yet_written:SPEC"):
        rows = {row.platform: row for row in vendors.vendor_rows()}
    assert rows["not_yet"].info is None and "ModuleNotFoundError" in (rows["not_yet"].problem or "")
    assert rows["cisco_ios"].info is PARSER


_GROUPS_BEFORE = """hostname r1
interface GigabitEthernet0/1
 ip address 10.1.0.1 255.255.0.0
 ip access-group IN-OUT in
object-group network PROXIES
 host 10.9.9.9
object-group service PROXYPORTS
 tcp eq 8080
ip access-list extended IN-OUT
 20 permit object-group PROXYPORTS 10.1.0.0 0.0.255.255 object-group PROXIES
"""


def test_group_object_defined_further_down_resolves() -> None:
    """IOS `group-object NAME` may name a group printed later: it resolves (no diagnostic), so widening a
    group through a nested group reaches the ACL entry that uses it."""
    after = _GROUPS_BEFORE.replace(" host 10.9.9.9\n", " host 10.9.9.9\n group-object EXT\n") + (
        "object-group network EXT\n 198.51.100.50 255.255.255.254\n"
    )
    rules = parse(after)
    assert not rules.diagnostics
    (entry,) = rules.filter_lists()["IN-OUT"]
    assert entry.match.dst == AddressSet.parse("10.9.9.9").union(AddressSet.parse("198.51.100.50/31"))
    change = egress("cisco_ios", _GROUPS_BEFORE, after, "permit object-group PROXYPORTS")
    assert tuple(change.affected.public.ranges()) == ("198.51.100.50/31",)


_NAT_BEFORE = """hostname r2
interface GigabitEthernet1
 ip address 203.0.113.2 255.255.255.0
 ip nat outside
interface GigabitEthernet2
 ip address 10.1.0.1 255.255.0.0
 ip nat inside
ip nat pool PX 198.51.100.80 198.51.100.81 prefix-length 24 type rotary
ip access-list extended VIP
 permit tcp 10.1.0.0 0.0.255.255 host 10.1.0.250 eq 443
"""


def test_inside_destination_list_with_extended_acl() -> None:
    """`ip nat inside destination list ACL pool P`: an extended ACL names the virtual destination in its
    destination field, beside the clients and the service; clients sent to a public pool on a proxy port
    are an egress forward. A standard ACL's one address is the destination (forms_nat.cfg)."""
    after = _NAT_BEFORE.replace("eq 443", "eq 8080") + "ip nat inside destination list VIP pool PX\n"
    nat = parse(after).nats[0]
    assert nat.kind is NatKind.DESTINATION
    assert nat.match.src == AddressSet.parse("10.1.0.0/16") and nat.match.dst == AddressSet.parse("10.1.0.250")
    assert nat.match.services == (tcp(8080),)
    change = egress("cisco_ios", _NAT_BEFORE, after, "ip nat inside destination list VIP")
    assert tuple(change.affected.public.ranges()) == ("198.51.100.80/31",)


def test_static_port_forward_to_interface_address_is_an_exposure() -> None:
    """`ip nat inside source static tcp L P interface X P2` publishes L on X's own address: with X's
    address in the config it is an inbound exposure like the written-out form; a DHCP address stays
    `translate_to_interface`."""
    after = _NAT_BEFORE + "ip nat inside source static tcp 10.1.5.6 1080 interface GigabitEthernet1 1080\n"
    (change,) = [c for c in changes("cisco_ios", _NAT_BEFORE, after) if c.family == "nat"]
    assert change.categories == ("inbound-exposure", "nat-added") and change.tags == ("proxy-port",)
    assert tuple(change.affected.public.ranges()) == ("203.0.113.2",)
    dhcp = parse(after.replace(" ip address 203.0.113.2 255.255.255.0", " ip address dhcp")).nats[-1]
    assert dhcp.translate_to_interface == "GigabitEthernet1" and dhcp.translated_src is None


def test_ipv6_acl_leading_sequence_keyword() -> None:
    """IOS-XE prints IPv6 ACL entries as `sequence N permit ...` (older IOS: trailing `sequence N`): both
    are the entry's number, not a diagnostic that dropped the entry."""
    before = "ipv6 access-list V6-IN\n sequence 10 permit tcp FD00:1::/48 any eq www\n deny ipv6 any any log\n"
    before = "interface GigabitEthernet2\n ipv6 traffic-filter V6-IN in\n" + before
    after = before.replace(" deny ipv6", " sequence 15 permit tcp FD00:1::/48 host 2001:DB8:99::1 eq 1080\n deny ipv6")
    rules = parse(after)
    assert not rules.diagnostics
    assert [rule.sequence for rule in rules.filters] == [10, 15, None]
    egress("cisco_ios", before, after, "sequence 15")
    entry = " sequence 10 permit tcp FD00:1::/48 any eq www"
    trailing = parse(before.replace(entry, " permit tcp any any sequence 20"))
    assert trailing.filters[0].sequence == 20 and not trailing.diagnostics


def test_named_acl_entries_evaluate_in_sequence_order() -> None:
    """IOS evaluates a named ACL in sequence-number order (`5 permit ...` added later goes first; an
    unnumbered entry takes 10 more than the highest so far); sequences stay as written."""
    text = (
        "ip access-list extended X\n 20 deny tcp any any eq 3128\n permit ip any any\n"
        " 5 permit tcp 10.1.0.0 0.0.255.255 host 198.51.100.5 eq 3128\n"
    )
    assert [(rule.sequence, rule.action) for rule in parse(text).filters] == [
        (5, Action.PERMIT),
        (20, Action.DENY),
        (None, Action.PERMIT),
    ]
