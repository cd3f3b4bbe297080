"""Cisco NX-OS parser: sequence semantics, addrgroup/portgroup, bindings and ip nat, field by field; properties."""

from __future__ import annotations

from pathlib import Path

from _held_out import egress
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import AddressSet, BindingKind, NatKind, PortSet, RuleSet, Service, tcp
from cfgwatch.vendors.cisco_nxos import PARSER
from cfgwatch.vendors.cisco_nxos.parser import parse

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "cisco_nxos"


def _load(name: str) -> RuleSet:
    return parse((CONFIGS / name).read_text(encoding="utf-8"))


def test_sequence_numbering_and_order() -> None:
    acl = _load("nxos_ip_access_list.cfg").filter_lists()["acl_indices"]
    assert [(rule.sequence, rule.match.services[0].protocol) for rule in acl] == [(10, 1), (13, 4), (15, 2), (25, 3)]
    edge = _load("forms_nxos.cfg").filter_lists()["EDGE-IN"]
    assert [rule.sequence for rule in edge] == [10, 15, 20, 30, 40, 50]
    assert edge[0].comment == "CHG-55 web farm"


def test_addrgroup_portgroup_resolved() -> None:
    edge = _load("forms_nxos.cfg").filter_lists()["EDGE-IN"]
    assert edge[0].match.dst == AddressSet.parse("10.2.0.10", "10.2.1.0/24", "10.2.2.0/24")
    assert edge[0].match.dst.names == ("WEB",)
    assert edge[2].match.services == (tcp(3128, (8080, 8081)),)
    assert edge[2].match.services[0].dst_ports.names == ("PROXY",)


def test_match_options_are_kept() -> None:
    lists = _load("nxos_ip_access_list.cfg").filter_lists()
    assert {"dscp af11", "dscp ef"} <= {opt for rule in lists["acl_common_ip_options_dscp"] for opt in rule.options}
    assert lists["acl_common_ip_options_ttl"][0].options == frozenset({"ttl eq 5"})
    assert lists["acl_tcp_established"][0].options == frozenset({"established"})
    src_ports = lists["acl_tcp_source_ports"]
    assert src_ports[3].match.services[0].src_ports == PortSet.of((0, 14), (16, 65535))
    assert src_ports[4].match.services[0].src_ports == PortSet.of(54321)
    icmp = lists["acl_icmp"]
    assert icmp[2].match.services == (Service(1, icmp_type=1, icmp_code=2),)


def test_bindings_and_vrf() -> None:
    rules = _load("forms_nxos.cfg")
    filters = {(b.name, b.interface, b.direction, b.context) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert filters == {
        ("EDGE-IN", "Vlan10", "in", "TENANT"),
        ("EDGE-IN", "Ethernet1/1", "out", None),
        ("EDGE-IN", "Ethernet1/2", "in", None),
        ("V6", "Ethernet1/2", "in", None),
    }
    roles = {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.NAT_ROLE}
    assert roles == {("inside", "Vlan10"), ("outside", "Ethernet1/1")}


def test_nat_forms() -> None:
    rules = _load("forms_nxos.cfg")
    forward = rules.nats[0]
    assert forward.kind is NatKind.STATIC and forward.match.src == AddressSet.parse("10.2.0.10")
    assert forward.match.services == (Service(6, src_ports=PortSet.of(443)),)
    assert forward.translated_src == AddressSet.parse("192.0.2.5") and forward.translated_src_ports == PortSet.of(8443)
    pat = rules.nats[2]
    assert pat.kind is NatKind.PAT and pat.match.src == AddressSet.parse("10.2.0.0/16")
    assert pat.translated_src == AddressSet.parse("192.0.2.10-192.0.2.20")
    assert rules.nats[3].translate_to_interface == "Ethernet1/1"
    outside = rules.nats[4]
    assert outside.ingress == ("outside",) and outside.translated_src == AddressSet.parse("10.2.0.99")
    assert len(rules.nats) == 5  # the banner's `ip nat` text is not a rule


def test_list_options_are_reported() -> None:
    rules = _load("nxos_ip_access_list.cfg")
    assert {d.code for d in rules.diagnostics} == {"NXOS-ACL-LIST-OPTION"}


def test_detect() -> None:
    assert PARSER.detect((CONFIGS / "forms_nxos.cfg").read_text(encoding="utf-8"))
    assert not PARSER.detect("ASA Version 9.8\n")


octets = st.integers(min_value=0, max_value=255)
ipv4 = st.tuples(octets, octets, octets, octets).map(lambda t: ".".join(map(str, t)))


@settings(max_examples=150, deadline=None)
@given(src=ipv4, length=st.integers(min_value=0, max_value=32), dst=ipv4, low=st.integers(0, 65535),
       high=st.integers(0, 65535), seq=st.integers(1, 100000))  # fmt: skip
def test_random_entry_round_trips(src: str, length: int, dst: str, low: int, high: int, seq: int) -> None:
    low, high = min(low, high), max(low, high)
    text = f"ip access-list A\n  {seq} permit udp {src}/{length} range {low} {high} host {dst}\n"
    (rule,) = parse(text).filters
    assert rule.sequence == seq
    assert rule.match.src == AddressSet.parse(f"{src}/{length}") and rule.match.dst == AddressSet.parse(dst)
    assert rule.match.services[0].src_ports == PortSet.of((low, high))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["permit", "deny", "tcp", "any", "addrgroup", "portgroup", "eq", "10", "1.2.3.0/24",
                                 "log", "range", "ip", "nat", "inside", "source", "static", "remark", "\n", "  "]),
                max_size=25))  # fmt: skip
def test_random_token_soup_never_raises(words: list[str]) -> None:
    text = "ip access-list X\n  " + " ".join(words) + "\nip nat inside source " + " ".join(words) + "\n"
    assert isinstance(parse(text), RuleSet)


_V6_BEFORE = """version 9.3(8)
feature nat
object-group ipv6 address CLIENTS
  10 fd00:1::/48
object-group ip address CLIENTS
  10 10.1.0.0/16
ipv6 access-list V6-OUT
  10 permit tcp addrgroup CLIENTS 2001:db8:99::1/128 eq 443
interface Ethernet1/2
  ipv6 traffic-filter V6-OUT in
"""


def test_ipv6_addrgroup_is_its_own_namespace() -> None:
    """`object-group ipv6 address` groups feed `addrgroup` in IPv6 ACLs; an IPv4 group of the same name
    does not shadow them (NX-OS keeps the two address families apart)."""
    rules = parse(_V6_BEFORE)
    assert not rules.diagnostics
    (entry,) = rules.filter_lists()["V6-OUT"]
    assert entry.match.src == AddressSet.parse("fd00:1::/48")
    after = _V6_BEFORE.replace("eq 443", "eq 1080")
    change = egress("cisco_nxos", _V6_BEFORE, after, "eq 1080")
    assert tuple(change.affected.internal.ranges()) == ("fd00:1::/48",)


def test_interface_prefix_address_is_the_host_and_static_nat_to_it_resolves() -> None:
    """`ip address A/len` is the interface's own address A (as IOS `ip address A MASK`, Junos and PAN-OS
    give it), so `ip nat inside source static tcp L P interface X P2` translates to A: an exposure."""
    text = (
        "feature nat\ninterface Ethernet1/1\n  ip address 203.0.113.2/24\n  ip nat outside\n"
        "ip nat inside source static tcp 10.1.5.6 1080 interface Ethernet1/1 1080\n"
    )
    rules = parse(text)
    assert rules.interfaces[0].addresses == AddressSet.parse("203.0.113.2")
    assert rules.nats[0].translated_src == AddressSet.parse("203.0.113.2")
    assert rules.nats[0].translate_to_interface is None
