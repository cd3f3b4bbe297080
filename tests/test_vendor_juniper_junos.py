"""Junos parser: curly and set forms agree, NAT/policy/filter fields are right, bad input never crashes."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from _held_out import changes, egress
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import (
    ANY_ADDRESS,
    Action,
    AddressSet,
    BindingKind,
    NatKind,
    PortSet,
    RuleSet,
    Service,
    tcp,
    udp,
)
from cfgwatch.vendors.juniper_junos import PARSER
from cfgwatch.vendors.juniper_junos.parser import detect, parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "juniper_junos"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def srx() -> RuleSet:
    return _load("forms_srx.conf")


def _nat(rules: RuleSet, name: str) -> object:
    return next(n for n in rules.nats if n.name == name)


def test_curly_and_set_forms_give_identical_rulesets() -> None:
    curly, flat = _load("forms_srx.conf"), _load("forms_srx.set")
    assert curly == flat
    # equality skips comments/spans: check the comments survive in both forms too
    assert [f.comment for f in curly.filters if f.name == "allow-web"] == ["CHG-2002 web out"]
    assert [f.comment for f in flat.filters if f.name == "allow-web"] == ["CHG-2002 web out"]
    assert curly.nats and curly.filters and curly.bindings and curly.objects


def test_source_nat_pool_interface_off_and_inactive(srx: RuleSet) -> None:
    off = next(n for n in srx.nats if n.name == "TRUST-OUT/NO-NAT-VPN")
    assert off.kind is NatKind.SOURCE and "no-translate" in off.options
    assert off.translated_src is None and off.match.dst == AddressSet.parse("172.16.0.0/12")
    pool = next(n for n in srx.nats if n.name == "TRUST-OUT/POOL-NAT")
    assert pool.kind is NatKind.PAT
    assert pool.match.src == AddressSet.parse("10.1.1.10", "10.1.1.11")
    assert pool.match.src.names == ("WEB-SERVERS",)
    assert pool.translated_src == AddressSet.parse("203.0.113.3-203.0.113.5")
    assert pool.ingress == ("trust",) and pool.egress == ("untrust",)
    assert pool.section == "source" and pool.sequence == 2 and pool.comment == "pool PAT for servers"
    dynamic = next(n for n in srx.nats if n.name == "TRUST-OUT/DYNAMIC-NAT")
    assert dynamic.kind is NatKind.DYNAMIC and dynamic.enabled is False
    iface = next(n for n in srx.nats if n.name == "TRUST-OUT/IFACE-PAT")
    assert iface.kind is NatKind.PAT and iface.translate_to_interface == "ge-0/0/0.0"


def test_destination_nat_port_forward_and_static(srx: RuleSet) -> None:
    fwd = next(n for n in srx.nats if n.name == "FROM-UNTRUST/WEB-FWD")
    assert fwd.kind is NatKind.DESTINATION and fwd.is_port_forward
    assert fwd.match.dst == AddressSet.parse("203.0.113.10") and fwd.match.services == (tcp(80),)
    assert fwd.translated_dst == AddressSet.parse("10.1.1.10")
    assert fwd.translated_dst_ports == PortSet.of(8080)
    assert fwd.ingress == ("ge-0/0/0.0",)
    proxy = next(n for n in srx.nats if n.name == "FROM-TRUST/TO-PROXY")
    assert proxy.match.services == (tcp((8080, 8081)), udp((8080, 8081)))
    assert proxy.translated_dst == AddressSet.parse("198.51.100.15") and proxy.translated_dst_ports == PortSet.of(3128)
    mail = next(n for n in srx.nats if n.name == "STATIC-IN/MAIL")
    assert mail.kind is NatKind.STATIC and mail.bidirectional
    assert mail.match.dst == AddressSet.parse("203.0.113.25")
    assert mail.translated_dst == AddressSet.parse("10.9.9.25") and mail.translated_dst_ports == PortSet.of(2525)
    assert mail.context == "VR-DMZ"
    web = next(n for n in srx.nats if n.name == "STATIC-IN/WEB-STATIC")
    assert web.translated_dst == AddressSet.parse("10.1.1.10") and web.translated_dst.names == ("WEB1",)


def test_security_policies_resolve_books_and_applications(srx: RuleSet) -> None:
    lists = srx.filter_lists()
    names = [f.name for f in lists["trust>untrust"]]
    assert names == ["allow-web", "old-telnet", "deny-rest", "group-allow-dns"]  # group policy appended
    allow = lists["trust>untrust"][0]
    assert allow.action is Action.PERMIT and allow.from_zones == ("trust",) and allow.to_zones == ("untrust",)
    assert allow.match.dst.contains(AddressSet.parse("198.51.100.10-198.51.100.20"))
    assert "updates.example.com" in allow.match.dst.fqdns
    assert set(allow.match.services) == {tcp(80), tcp(443), tcp(8443)} and "log" in allow.options
    assert lists["trust>untrust"][1].enabled is False
    assert lists["trust>untrust"][2].action is Action.REJECT
    web_in = lists["untrust>dmz"][0]
    assert web_in.match.dst == AddressSet.parse("10.9.9.25")  # zone address book
    assert set(web_in.match.services) == {tcp(80), tcp(2525), tcp(587)}
    bad = lists["global"][0]
    assert bad.from_zones == ("untrust",) and "unresolved:BAD-NETS" in bad.match.src.fqdns
    assert [d.code for d in srx.diagnostics] == ["JUNOS-UNKNOWN-ADDRESS"]


def test_firewall_filters_except_either_and_bindings(srx: RuleSet) -> None:
    edge = srx.filter_lists()["EDGE-IN"]
    spoof = edge[0]
    assert spoof.action is Action.DENY and spoof.comment == "CHG-3003 block spoofed"
    assert spoof.match.src == AddressSet.parse("10.0.0.0/8").difference(AddressSet.parse("10.99.0.0/16"))
    ssh = edge[1]
    assert ssh.match.src == AddressSet.parse("192.0.2.10/31") and ssh.match.services == (tcp(22, 830),)
    assert edge[2].name == "allow-telnet" and edge[2].enabled is False
    either = [f for f in edge if f.name == "either-dns"]
    assert [f.match.src for f in either] == [AddressSet.parse("192.0.2.53"), ANY_ADDRESS]
    assert [f.match.dst for f in either] == [ANY_ADDRESS, AddressSet.parse("192.0.2.53")]
    assert "established" in edge[-2].options and edge[-1].action is Action.REJECT
    v6 = srx.filter_lists()["inet6:EDGE6-OUT"]
    assert v6[0].match.services == (Service(58, icmp_type=128),)
    bindings = {(b.name, b.interface, b.direction) for b in srx.bindings if b.kind is BindingKind.FILTER}
    assert bindings == {("EDGE-IN", "ge-0/0/0.0", "input"), ("inet6:EDGE6-OUT", "ge-0/0/1.0", "output")}
    zones = {(b.name, b.interface) for b in srx.bindings if b.kind is BindingKind.ZONE}
    assert zones == {("trust", "ge-0/0/1.0"), ("untrust", "ge-0/0/0.0"), ("dmz", "ge-0/0/2.0")}
    dmz = next(i for i in srx.interfaces if i.name == "ge-0/0/2.0")
    assert dmz.vrf == "VR-DMZ" and dmz.zone == "dmz" and dmz.addresses == AddressSet.parse("10.9.9.1")


def test_corpus_nat_files() -> None:
    dest = _load("nat-dest.set")
    rule2 = next(n for n in dest.nats if n.name == "RULE-SET-ZONE/RULE2")
    assert rule2.translated_dst == AddressSet.parse("50.50.50.50-50.50.50.60")
    ri = next(n for n in dest.nats if n.name == "RULE-SET-RI/RULE1")
    assert ri.context == "RI" and "no-translate" in ri.options
    static = _load("juniper-nat-static.set")
    rule1 = next(n for n in static.nats if n.name == "RULESET1/RULE1")
    assert rule1.kind is NatKind.STATIC and rule1.match.dst == AddressSet.parse("1.0.0.0/24")
    assert rule1.translated_dst == AddressSet.parse("10.10.10.0/24") and "routing-instance:RI1" in rule1.options
    srx300 = _load("oxidized_srx300_22.4.conf")
    (pat,) = srx300.nats
    assert pat.kind is NatKind.PAT and pat.translate_to_interface == "egress"  # untrust has two interfaces
    assert not srx300.diagnostics
    codes = {d.code for d in _load("juniper_firewall.set").diagnostics}
    assert codes == {"JUNOS-FILTER-FAMILY-UNSUPPORTED"}


def test_apply_groups_wildcards_and_except() -> None:
    text = """
set groups G firewall family inet filter <F*> term from-group then discard
set groups G interfaces <ge-*> unit 0 family inet filter input F1
set interfaces ge-0/0/0 unit 0 family inet address 10.0.0.1/24
set interfaces xe-0/0/0 unit 0 family inet address 10.0.1.1/24
set firewall family inet filter F1 term t1 then accept
set firewall family inet filter X1 term t1 then accept
set firewall family inet filter F2 term t1 then accept
set firewall family inet filter F2 apply-groups-except G
set apply-groups G
"""
    rules = parse(text)
    assert [f.name for f in rules.filter_lists()["F1"]] == ["t1", "from-group"]
    assert [f.name for f in rules.filter_lists()["X1"]] == ["t1"]
    assert [f.name for f in rules.filter_lists()["F2"]] == ["t1"]
    assert {(b.name, b.interface) for b in rules.bindings} == {("F1", "ge-0/0/0.0")}


def test_deactivate_whole_rule_set_and_inactive_leaf() -> None:
    text = """security {
    nat {
        source {
            rule-set RS {
                from zone a;
                to zone b;
                rule R {
                    match {
                        source-address 10.0.0.0/8;
                        inactive: destination-address 192.0.2.0/24;
                    }
                    then {
                        source-nat {
                            interface;
                        }
                    }
                }
            }
        }
    }
}
"""
    (rule,) = parse(text).nats
    assert rule.enabled and rule.match.dst == ANY_ADDRESS  # inactive leaf ignored
    (off,) = parse(text + "deactivate security nat source rule-set RS\n").nats
    assert off.enabled is False


def test_detect_and_declared_forms() -> None:
    assert PARSER.forms == ("curly", "set")
    assert detect((FIXTURES / "forms_srx.set").read_text())
    assert detect((FIXTURES / "oxidized_srx300_22.4.conf").read_text())
    assert not detect("set firewall name WAN-IN rule 10 action accept\nset interfaces ethernet eth0 address dhcp\n")
    assert not detect("hostname r1\ninterface Gi0/0\n ip nat inside\n")


# -- property tests -------------------------------------------------------------------------------

_v4 = st.builds(
    lambda value, length: ipaddress.ip_network((value, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
_port = st.integers(1, 65535)


@settings(max_examples=60, deadline=None)
@given(src=_v4, dst=_v4, port=_port, mapped=_port, curly=st.booleans())
def test_destination_nat_round_trips_addresses_and_ports(
    src: ipaddress.IPv4Network, dst: ipaddress.IPv4Network, port: int, mapped: int, curly: bool
) -> None:
    set_text = (
        f"set security nat destination pool P address {dst.network_address}/32 port {mapped}\n"
        "set security nat destination rule-set RS from zone untrust\n"
        f"set security nat destination rule-set RS rule R match source-address {src}\n"
        f"set security nat destination rule-set RS rule R match destination-address {dst}\n"
        f"set security nat destination rule-set RS rule R match destination-port {port}\n"
        "set security nat destination rule-set RS rule R match protocol tcp\n"
        "set security nat destination rule-set RS rule R then destination-nat pool P\n"
    )
    curly_text = (
        "security { nat { destination {\n"
        f"pool P {{ address {dst.network_address}/32 port {mapped}; }}\n"
        "rule-set RS { from zone untrust; rule R {\n"
        f"match {{ source-address {src}; destination-address {dst}; destination-port {port}; protocol tcp; }}\n"
        "then { destination-nat { pool { P; } } } } } } } }\n"
    )
    (rule,) = parse(curly_text if curly else set_text).nats
    assert rule.match.src == AddressSet.parse(str(src))
    assert rule.match.dst == AddressSet.parse(str(dst))
    assert rule.match.services == (tcp(port),)
    assert rule.translated_dst == AddressSet.parse(str(dst.network_address))
    assert rule.translated_dst_ports == PortSet.of(mapped)


@settings(max_examples=60, deadline=None)
@given(src=_v4, low=_port, span=st.integers(0, 100), action=st.sampled_from(["accept", "discard", "reject"]))
def test_filter_terms_round_trip(src: ipaddress.IPv4Network, low: int, span: int, action: str) -> None:
    high = min(65535, low + span)
    text = (
        f"set firewall family inet filter F term T from source-address {src}\n"
        f"set firewall family inet filter F term T from protocol udp\n"
        f"set firewall family inet filter F term T from destination-port {low}-{high}\n"
        f"set firewall family inet filter F term T then {action}\n"
    )
    (term,) = parse(text).filters
    assert term.match.src == AddressSet.parse(str(src))
    assert term.match.services == (udp((low, high)),)
    assert term.action is {"accept": Action.PERMIT, "discard": Action.DENY, "reject": Action.REJECT}[action]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "set",
                "security",
                "nat",
                "{",
                "}",
                ";",
                "[",
                "]",
                "rule",
                "inactive:",
                "/*",
                "*/",
                '"',
                "source",
                "pool",
                "10.0.0.1/33",
                "\n",
                "deactivate",
                "x",
            ]
        ),
        max_size=60,
    )
)
def test_random_token_soup_never_crashes(tokens: list[str]) -> None:
    assert isinstance(parse(" ".join(tokens)), RuleSet)


def test_policy_whose_statements_are_all_deactivated_does_not_crash() -> None:
    """A policy/term with every statement deactivated used to crash the parse (min() of nothing)."""
    from cfgwatch.vendors.registry import get_parser

    text = (
        "set security policies from-zone trust to-zone untrust policy p match source-address any\n"
        "deactivate security policies from-zone trust to-zone untrust policy p match\n"
        "set firewall family inet filter F term t from source-address 10.0.0.0/8\n"
        "deactivate firewall family inet filter F term t from\n"
    )
    rules = get_parser("juniper_junos").parse(text)
    assert all(rule.source is None or rule.source.start_line >= 1 for rule in rules.filters)


_SRX_BEFORE = """set security zones security-zone trust interfaces ge-0/0/1.0
set security zones security-zone untrust interfaces ge-0/0/0.0
set security address-book global address LAN 10.1.0.0/16
set security address-book global address VPS 198.51.100.7/32
set applications application OUT protocol tcp
set applications application OUT destination-port https
set security policies from-zone trust to-zone untrust policy p1 match source-address LAN
set security policies from-zone trust to-zone untrust policy p1 match destination-address VPS
set security policies from-zone trust to-zone untrust policy p1 match application OUT
set security policies from-zone trust to-zone untrust policy p1 then permit
"""


def test_junos_port_names() -> None:
    """Junos's own port names (Port Names Supported table): `socks` is 1080, `radius` 1812 (not Cisco's
    1645), and a hyphenated name such as `ftp-data` is one port, not a range."""
    for name, port in (("socks", 1080), ("radius", 1812), ("ftp-data", 20), ("snmp-trap", 162), ("nfsd", 2049)):
        rules = parse(_SRX_BEFORE.replace("destination-port https", f"destination-port {name}"))
        assert not rules.diagnostics, name
        (policy,) = rules.filters
        assert policy.match.services == (tcp(port),), name
    after = _SRX_BEFORE.replace("destination-port https", "destination-port socks")
    change = egress("juniper_junos", _SRX_BEFORE, after, "policy p1 then permit")
    assert change.affected.ports.text() == "1080"


def test_predefined_transport_any_applications() -> None:
    """`junos-tcp-any` / `junos-udp-any` (junos-defaults: every port of one protocol) resolve without a
    diagnostic and keep the protocol, so a policy using them is not widened to every protocol."""
    rules = parse(_SRX_BEFORE.replace("match application OUT", "match application [ junos-tcp-any junos-udp-any ]"))
    assert not rules.diagnostics
    (policy,) = rules.filters
    assert [service.protocol for service in policy.match.services] == [6, 17]
    assert all(service.dst_ports.is_any for service in policy.match.services)


def test_insert_reorders_policies() -> None:
    """`insert ... policy A before|after policy B` moves A next to B (first match wins, so the order is
    the semantics): a permit inserted above a deny is reported with the order it really has."""
    deny = _SRX_BEFORE.replace("then permit", "then deny").replace("policy p1", "policy block")
    text = deny + _SRX_BEFORE.replace("destination-port https", "destination-port 3128")
    rules = parse(text + "insert security policies from-zone trust to-zone untrust policy p1 before policy block\n")
    assert not rules.diagnostics
    assert [policy.name for policy in rules.filters] == ["p1", "block"]
    after = parse(text + "insert security policies from-zone trust to-zone untrust policy block after policy p1\n")
    assert [policy.name for policy in after.filters] == ["p1", "block"]
    unknown = parse(text + "insert security policies from-zone trust to-zone untrust policy p1 before policy nope\n")
    assert [d.code for d in unknown.diagnostics] == ["JUNOS-SET-VERB-UNSUPPORTED"]


def test_command_script_session_lines() -> None:
    """`configure` / `commit and-quit` around set commands (a change script) do not swallow the script."""
    rules = parse("configure private\n" + _SRX_BEFORE + "commit and-quit\n")
    assert [policy.name for policy in rules.filters] == ["p1"] and not rules.diagnostics


def test_default_policy_permit_all_is_a_rule() -> None:
    """`security policies default-policy permit-all` permits whatever no zone-pair or global policy
    matched (Junos' factory default is deny-all): it is the last rule, and turning it on is a widening."""
    rules = parse(_SRX_BEFORE + "set security policies default-policy permit-all\n")
    assert not rules.diagnostics
    last = rules.filters[-1]
    assert last.list_name == "default-policy" and last.action is Action.PERMIT and last.match.dst.is_any
    assert [f.name for f in parse(_SRX_BEFORE + "set security policies default-policy deny-all\n").filters] == ["p1"]
    curly = parse("security { policies { default-policy { permit-all; } } }\n")
    assert [f.list_name for f in curly.filters] == ["default-policy"]
    after = _SRX_BEFORE + "set security policies default-policy permit-all\n"
    (change,) = changes("juniper_junos", _SRX_BEFORE, after)
    assert "acl-widened" in change.categories


def test_unknown_application_set_member_is_named() -> None:
    """An application-set with an unknown member names that member in its diagnostic (the set is judged
    as any application, conservatively)."""
    text = _SRX_BEFORE.replace("match application OUT", "match application SET") + (
        "set applications application-set SET application OUT\n"
        "set applications application-set SET application junos-nonesuch\n"
    )
    (diagnostic,) = parse(text).diagnostics
    assert diagnostic.code == "JUNOS-UNKNOWN-APPLICATION"
    assert "application-set 'SET' member 'junos-nonesuch'" in diagnostic.message


_LAN_FILTER = (
    "set interfaces ge-0/0/1 unit 0 family inet filter input LAN-IN\n"
    "set firewall family inet filter LAN-IN term dns from destination-address 10.1.0.53/32\n"
    "set firewall family inet filter LAN-IN term dns then accept\n"
)


def test_filter_term_port_matches_either_side_and_is_tagged_proxy_port() -> None:
    """`from port 9050` matches packets whose source OR destination port is 9050: the term is two services,
    (sport 9050, any dport) and (any sport, dport 9050). The first leaves every destination port open, so
    the widened ports as a whole are `any`; the second still sends inside clients to any Internet host on
    9050: an egress forward on a proxy port. The same term on a non-proxy port is neither."""
    term = "set firewall family inet filter LAN-IN term tor from {}\n"
    after = _LAN_FILTER + "".join(
        term.format(clause) for clause in ("source-address 10.9.0.0/16", "protocol tcp", "port 9050")
    )
    after += "set firewall family inet filter LAN-IN term tor then accept\n"
    change = egress("juniper_junos", _LAN_FILTER, after, "term tor")
    assert change.affected.internal == AddressSet.parse("10.9.0.0/16")
    # the exact meaning is kept: one service per side, nothing else
    services = {(s.src_ports, s.dst_ports) for s in change.rule.match.services}  # type: ignore[union-attr]
    assert services == {(PortSet.of(9050), PortSet.any()), (PortSet.any(), PortSet.of(9050))}
    plain = after.replace("port 9050", "port 4443")
    found = [c for c in changes("juniper_junos", _LAN_FILTER, plain) if c.family == "filter"]
    assert found and all("proxy-port" not in c.tags and "egress-forward" not in c.categories for c in found)
    # `source-port 9050` alone: traffic from a proxy's port; tagged, but no path to a proxy (no egress)
    source_side = after.replace("from port 9050", "from source-port 9050")
    (reply,) = [c for c in changes("juniper_junos", _LAN_FILTER, source_side) if c.family == "filter"]
    assert reply.tags == ("proxy-port",) and "egress-forward" not in reply.categories
