"""RouterOS parser: NAT actions, address lists, continuation lines, quoted values, jumps, interface lists."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import Action, AddressSet, BindingKind, NatKind, PortSet, RuleSet, Service
from cfgwatch.vendors.golden import CONFIGS
from cfgwatch.vendors.mikrotik_routeros.parser import detect, parse

FIXTURES = CONFIGS / "mikrotik_routeros"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


def test_dst_nat_port_forward_across_continuation_lines() -> None:
    rules = _load("forms_nat_filter.rsc")
    nat = next(n for n in rules.nats if n.source and n.source.start_line == 33)
    assert nat.source is not None and nat.source.end_line == 35
    assert nat.kind is NatKind.DESTINATION
    assert nat.ingress == ("ether1",)
    assert nat.match.dst == AddressSet.parse("203.0.113.2")
    assert nat.match.services == (Service(6, PortSet(), PortSet.of(8443)),)
    assert nat.translated_dst == AddressSet.parse("192.168.88.10")
    assert nat.translated_dst_ports == PortSet.of(443)
    assert nat.comment == "CHG-5 web"
    assert nat.section == "nat/dstnat"


def test_dst_nat_ranges_interface_list_redirect_and_disabled() -> None:
    rules = _load("forms_nat_filter.rsc")
    ranged = next(n for n in rules.nats if n.source and n.source.start_line == 36)
    assert ranged.ingress == ("WAN",)
    assert ranged.translated_dst == AddressSet.parse("192.168.88.20-192.168.88.21")
    assert ranged.match.dst_ports() == PortSet.of((5000, 5010))
    redirect = next(n for n in rules.nats if n.source and n.source.start_line == 38)
    assert "redirect" in redirect.options and redirect.translated_dst_ports == PortSet.of(53)
    assert redirect.match.src.names == ("lan-nets",)
    disabled = next(n for n in rules.nats if n.source and n.source.start_line == 40)
    assert not disabled.enabled and disabled.translated_dst == AddressSet.parse("198.51.100.7")


def test_src_nat_masquerade_netmap_and_one_liner() -> None:
    rules = _load("forms_nat_filter.rsc")
    snat = next(n for n in rules.nats if n.source and n.source.start_line == 42)
    assert snat.kind is NatKind.SOURCE and snat.translated_src == AddressSet.parse("203.0.113.3")
    assert snat.egress == ("ether1",)
    masq = next(n for n in rules.nats if n.source and n.source.start_line == 44)
    assert masq.kind is NatKind.PAT and masq.translate_to_interface == "WAN"
    assert masq.translated_src_ports == PortSet.of((10000, 20000))
    netmap = next(n for n in rules.nats if n.source and n.source.start_line == 45)
    assert netmap.kind is NatKind.DESTINATION and netmap.translated_dst == AddressSet.parse("192.168.88.0/29")
    one_liner = next(n for n in rules.nats if n.source and n.source.start_line == 46)
    assert one_liner.translated_dst_ports == PortSet.of(22)


def test_filter_address_lists_quoted_comment_and_negation() -> None:
    rules = _load("forms_nat_filter.rsc")
    forward = rules.filter_lists()["forward"]
    proxy = next(f for f in forward if f.comment and "TICKET-77" in f.comment)
    assert proxy.comment == 'TICKET-77 "proxy" egress'
    assert proxy.match.src == AddressSet.parse("192.168.88.0/24", "10.10.0.0/24")
    assert proxy.match.dst.contains_ip("198.51.100.7") and "proxy.example.net" in proxy.match.dst.fqdns
    assert not proxy.match.dst.contains_ip("192.0.2.1")  # disabled list entry
    assert proxy.match.dst_ports() == PortSet.of(3128, 8080)
    negated = next(f for f in forward if f.from_zones == ("bridge",))
    assert not negated.match.src.contains_ip("192.168.88.5") and negated.match.src.contains_ip("8.8.8.8")
    disabled = next(f for f in forward if not f.enabled)
    assert disabled.match.src == AddressSet.parse("192.168.88.66")
    assert forward[-1].action is Action.PERMIT and "chain-policy" in forward[-1].options


def test_jump_inlines_custom_chain_until_return() -> None:
    forward = _load("forms_nat_filter.rsc").filter_lists()["forward"]
    inlined = [f for f in forward if "chain:wan-in" in f.options]
    assert len(inlined) == 2
    assert all(f.from_zones == ("WAN",) for f in inlined)
    assert inlined[1].match.dst == AddressSet.parse("192.168.88.10")


def test_interface_lists_are_zones_and_unmodelled_keys_reported() -> None:
    rules = _load("forms_nat_filter.rsc")
    assert {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.ZONE} == {
        ("WAN", "ether1"),
        ("LAN", "bridge"),
    }
    ether1 = next(i for i in rules.interfaces if i.name == "ether1")
    assert ether1.zone == "WAN" and ether1.addresses == AddressSet.parse("203.0.113.2")
    assert [d.code for d in rules.diagnostics] == ["MIKROTIK-UNSUPPORTED"]
    icmp = next(f for f in rules.filter_lists()["input"] if f.match.services[0].protocol == 1)
    assert icmp.match.services == (Service(1, icmp_type=8, icmp_code=0),)


def test_netutils_export_one_liners() -> None:
    rules = _load("netutils_routeros_full.rsc")
    dnat = next(n for n in rules.nats if n.kind is NatKind.DESTINATION)
    assert dnat.match.dst == AddressSet.parse("50.106.77.11") and dnat.match.dst_ports() == PortSet.of(443)
    assert dnat.translated_dst == AddressSet.parse("10.1.15.10")
    drop = rules.filter_lists()["input"][0]
    assert drop.match.src.names == ("!google-vpc-acl",)
    assert not drop.match.src.contains_ip("34.157.17.38")
    assert not rules.diagnostics


def test_detect_and_garbage() -> None:
    assert detect((FIXTURES / "forms_nat_filter.rsc").read_text())
    assert not detect("*nat\n-A PREROUTING -j ACCEPT\nCOMMIT\n")
    assert parse("/ip firewall nat\nadd action=dst-nat to-addresses=\\\n").nats == ()


_V4 = st.integers(min_value=1, max_value=(1 << 32) - 2).map(lambda v: str(ipaddress.IPv4Address(v)))


@settings(max_examples=60, deadline=None)
@given(
    dst=_V4,
    to=_V4,
    port=st.integers(1, 65535),
    to_port=st.integers(1, 65535),
    proto=st.sampled_from(["tcp", "udp"]),
    split=st.booleans(),
)
def test_property_dst_nat_round_trips(dst: str, to: str, port: int, to_port: int, proto: str, split: bool) -> None:
    joiner = " \\\n    " if split else " "
    text = (
        "/ip firewall nat\n"
        f"add action=dst-nat chain=dstnat dst-address={dst} dst-port={port}{joiner}"
        f'protocol={proto} to-addresses={to} to-ports={to_port} comment="c {port}"\n'
    )
    rules = parse(text)
    (nat,) = rules.nats
    assert nat.match.dst == AddressSet.parse(dst)
    assert nat.match.dst_ports() == PortSet.of(port)
    assert nat.translated_dst == AddressSet.parse(to)
    assert nat.translated_dst_ports == PortSet.of(to_port)
    assert nat.comment == f"c {port}"
    assert not rules.diagnostics


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=' =/\\"!abcdeinprst-0123456789.,', max_size=40), max_size=10))
def test_property_random_lines_never_crash(lines: list[str]) -> None:
    assert isinstance(parse("/ip firewall filter\n" + "\n".join(lines) + "\n"), RuleSet)


def test_place_before_puts_the_rule_in_front_of_that_menu_item() -> None:
    """RouterOS `add ... place-before=N` inserts the new item before item N of the menu (numbered across
    chains); appended at the end, an accept behind `drop` would look like it changes nothing."""
    text = """/ip firewall filter
add action=accept chain=forward connection-state=established,related
add action=accept chain=input protocol=icmp
add action=drop chain=forward
add action=accept chain=forward dst-address=203.0.113.7 dst-port=3128 protocol=tcp place-before=2
add action=accept chain=forward protocol=udp dst-port=53 place-before=[ find comment=x ]
"""
    rules = parse(text)
    forward = [f for f in rules.filters if f.list_name == "forward" and "chain-policy" not in f.options]
    assert [f.source.start_line for f in forward if f.source] == [2, 5, 4, 6]
    assert {d.code for d in rules.diagnostics} == {"MIKROTIK-PLACE-BEFORE", "MIKROTIK-UNSUPPORTED"}


def test_negated_unknown_address_list_is_every_address_not_the_list() -> None:
    """`dst-address-list=!blocked` where no line fills `blocked` (it matches nothing until filled): every
    address of the family; modelled as the list itself it would invert the rule."""
    rules = parse("/ip firewall filter\nadd chain=forward action=accept dst-address-list=!blocked\n")
    rule = next(f for f in rules.filters if f.action is Action.PERMIT)
    assert rule.match.dst == AddressSet.any_v4() and not rule.match.dst.fqdns
    assert rule.match.dst.names == ("!blocked",)
