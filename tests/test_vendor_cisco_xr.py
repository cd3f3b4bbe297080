"""Cisco IOS XR parser: ACL sequence semantics, object-groups, bindings, per the IOS XR command reference;
an XR config read as IOS is a diagnostic, never a silent zero-rule parse."""

from __future__ import annotations

from pathlib import Path

from cfgwatch.classify.networks import Networks
from cfgwatch.model import ANY_ADDRESS, Action, AddressSet, BindingKind, PortSet, Service, tcp, udp
from cfgwatch.revisions import diff_device
from cfgwatch.sanitize import sanitize
from cfgwatch.vendors.cisco_ios.parser import parse as parse_ios
from cfgwatch.vendors.cisco_xr.parser import detect, parse
from cfgwatch.vendors.registry import detect_platform

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "cisco_xr"


def _addrs(*texts: str) -> AddressSet:
    result = AddressSet()
    for text in texts:
        result = result.union(AddressSet.parse(text))
    return result


def _edge() -> str:
    return (FIXTURES / "edge_pe.cfg").read_text(encoding="utf-8")


def test_edge_pe_acls_objects_and_bindings() -> None:
    rules = parse(_edge())
    assert not rules.diagnostics
    lists = rules.filter_lists()
    assert list(lists) == ["EDGE-IN", "MGMT-IN", "LAN-OUT", "EDGE-IN6"]
    edge = lists["EDGE-IN"]
    assert [rule.sequence for rule in edge] == [20, 30, 40, 60, 70, 80, 90, 100, 110, 120, 130, 140]
    web = edge[3]
    assert web.action is Action.PERMIT and web.comment == "CHG-1002 customer web and DNS"
    assert web.match.dst == _addrs("198.51.100.0/24", "203.0.113.0/25")
    assert web.match.services == (Service(6, dst_ports=PortSet.of(80, 443, (8080, 8090))),)
    assert edge[6].match.services == (Service(1, icmp_type=8),)
    assert "counter BGP-HITS" in edge[10].options and edge[10].match.services == (tcp(179),)
    mgmt = lists["MGMT-IN"]
    assert mgmt[0].match.src == _addrs("10.20.0.10-10.20.0.11", "10.20.0.20-10.20.0.29")
    assert mgmt[0].match.services == (Service(6, dst_ports=PortSet.of(22, 80, 443, 830, (8080, 8090))),)
    assert mgmt[1].match.services == (udp(161),)
    # `permit 10.20.1.0 0.0.0.255`: no protocol, the source only
    assert mgmt[2].match.src == AddressSet.parse("10.20.1.0/24") and mgmt[2].match.is_any is False
    assert mgmt[2].match.dst == ANY_ADDRESS and mgmt[2].match.services[0].protocol is None
    v6 = lists["EDGE-IN6"]
    assert [s.icmp_type for rule in v6[:4] for s in rule.match.services] == [135, 136, 2, 128]
    assert {s.protocol for rule in v6[:4] for s in rule.match.services} == {58}  # `icmp` in IPv6 is ICMPv6
    bindings = {(b.name, b.interface, b.direction) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert bindings == {
        ("EDGE-IN", "Bundle-Ether10", "in"),
        ("EDGE-IN6", "Bundle-Ether10", "in"),
        ("LAN-OUT", "Bundle-Ether20.100", "out"),
        ("MGMT-IN", "MgmtEth0/RP0/CPU0/0", "in"),
    }
    mgmt_if = next(i for i in rules.interfaces if i.name == "MgmtEth0/RP0/CPU0/0")
    assert mgmt_if.vrf == "MGMT" and mgmt_if.addresses == AddressSet.parse("10.20.0.2")
    kinds = {o.name: o.kind for o in rules.objects}
    assert kinds["WEB-PORTS"] == "port-group" and kinds["ALL-INTERNAL"] == "network-group"


def test_entries_are_evaluated_in_sequence_order_across_stanzas() -> None:
    text = "ipv4 access-list A\n 10 permit tcp any any eq 22\n 30 deny ipv4 any any\n!\nipv4 access-list A\n"
    text += " 20 permit udp any any eq 53\n!\nipv4 access-list A permit icmp any any\n"
    rules = parse(text).filters
    assert [(r.sequence, r.action) for r in rules] == [
        (10, Action.PERMIT),
        (20, Action.PERMIT),
        (30, Action.DENY),
        (40, Action.PERMIT),  # an entry without a number gets 10 more than the highest
    ]


def test_no_access_list_removes_what_came_before() -> None:
    text = "ipv4 access-list A\n 10 permit ipv4 any any\nno ipv4 access-list A\n"
    text += "ipv4 access-list A\n 10 deny ipv4 any any\n"
    (rule,) = parse(text).filters
    assert rule.action is Action.DENY


def test_net_group_of_the_lists_family_only() -> None:
    text = "\n".join(
        [
            "object-group network ipv4 INT",
            " 10.0.0.0/8",
            "object-group network ipv6 INT",
            " 2001:db8::/32",
            "ipv4 access-list A",
            " 10 permit ipv4 net-group INT any",
            "ipv6 access-list B",
            " 10 permit ipv6 net-group INT any",
        ]
    )
    a, b = parse(text + "\n").filters
    assert a.match.src == AddressSet.parse("10.0.0.0/8") and b.match.src == AddressSet.parse("2001:db8::/32")


def test_common_acl_binds_before_the_interface_acl() -> None:
    rules = parse((FIXTURES / "batfish_interface_acl_common.cfg").read_text(encoding="utf-8"))
    first = [(b.name, b.direction) for b in rules.bindings if b.interface == "GigabitEthernet0/0/0/0"]
    assert first == [("common-acl", "in"), ("interface-acl", "in")]


def test_unknown_group_and_bad_entry_are_diagnostics() -> None:
    text = "ipv4 access-list A\n 10 permit tcp net-group NOPE any\n 20 permit frobnicate any any\n"
    rules = parse(text)
    assert not rules.filters
    assert [d.code for d in rules.diagnostics] == ["XR-ACL-UNKNOWN-OBJECT", "XR-ACL-UNKNOWN-PROTOCOL"]


def test_detection_picks_xr_not_ios() -> None:
    text = _edge()
    assert detect(text) and detect_platform(text) == "cisco_xr"
    assert detect_platform((FIXTURES / "aerleon_object_group.xacl").read_text(encoding="utf-8")) == "cisco_xr"


def test_xr_config_read_as_ios_is_a_diagnostic_not_silence() -> None:
    rules = parse_ios(_edge())
    assert {rule.list_name for rule in rules.filters} == {"EDGE-IN6"}  # `ipv6 access-list` is IOS syntax too
    codes = {d.code for d in rules.diagnostics}
    assert "IOS-XR-SYNTAX" in codes
    assert sum(d.text.startswith("ipv4 access-list ") for d in rules.diagnostics) == 3


def test_an_inserted_xr_entry_is_judged_through_the_diff() -> None:
    """A new first entry in the ingress ACL of the transit uplink opens RDP: a widening with its port."""
    before = _edge()
    after = before.replace(" 20 deny ipv4 10.0.0.0", " 5 permit tcp any any eq 3389\n 20 deny ipv4 10.0.0.0", 1)
    (change,) = diff_device("pe", "cisco_xr", before, after, Networks.default()).changes
    assert change.change == "added" and change.family == "filter"
    assert "acl-widened" in change.categories and change.affected.ports == PortSet.of(3389)


def test_xr_secret_forms_are_redacted_with_their_type_kept() -> None:
    """IOS XR writes `secret 10 <sha512crypt>`, `password encrypted K` and `message-digest-key N md5 encrypted K`:
    the value is redacted, never the `encrypted` keyword in its place (a leak before)."""
    text = Path(__file__).resolve().parents[1] / "fixtures" / "sanitize" / "configs" / "cisco_xr" / "xr_secrets.cfg"
    out = sanitize(text.read_text(encoding="utf-8"), "cisco_xr", b"k" * 32).text
    for secret in ("$6$Hn3pW", "0507070D2E4F4B1C", "13061E010803", "0822455D0A16", "FakeCommunity-9x", "104D000A0618"):
        assert secret not in out, secret
    assert " secret 10 <redacted:" in out and "password encrypted <redacted:" in out
    assert "md5 encrypted <redacted:" in out
    assert "14:05:27.301" not in out  # the time XR prints before the show output is volatile
