"""Arista EOS parser: interface NAT forms, pools and ACLs field by field; property tests."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import AddressSet, BindingKind, NatKind, NatRule, PortSet, RuleSet, Service, tcp
from cfgwatch.vendors.arista_eos import PARSER
from cfgwatch.vendors.arista_eos.parser import parse

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "arista_eos"


def _load(name: str) -> RuleSet:
    return parse((CONFIGS / name).read_text(encoding="utf-8"))


def _at(rules: RuleSet, name: str, needle: str) -> NatRule:
    lines = (CONFIGS / name).read_text(encoding="utf-8").splitlines()
    number = next(i for i, text in enumerate(lines, 1) if text.strip() == needle)
    (nat,) = [n for n in rules.nats if n.source is not None and n.source.start_line == number]
    return nat


def test_source_static_with_ports_and_protocol() -> None:
    rules = _load("forms_eos.cfg")
    nat = _at(rules, "forms_eos.cfg", "ip nat source static 10.3.0.10 80 192.0.2.10 8080 protocol tcp")
    assert nat.kind is NatKind.STATIC and nat.bidirectional
    assert nat.match.src == AddressSet.parse("10.3.0.10")
    assert nat.match.services == (Service(6, src_ports=PortSet.of(80)),)
    assert nat.translated_src == AddressSet.parse("192.0.2.10") and nat.translated_src_ports == PortSet.of(8080)
    assert nat.egress == ("Ethernet1",) and nat.context == "INTERNET"


def test_source_static_access_list_filters_destination() -> None:
    rules = _load("forms_eos.cfg")
    nat = _at(rules, "forms_eos.cfg", "ip nat source static 10.3.0.11 access-list PROXY-DST 192.0.2.11")
    assert nat.match.dst == AddressSet.parse("203.0.113.80") and nat.match.dst.names == ("PROXY-DST",)


def test_destination_static_port_forward() -> None:
    rules = _load("forms_eos.cfg")
    nat = _at(
        rules,
        "forms_eos.cfg",
        "ip nat destination static 192.0.2.12 443 access-list WEB-CLIENTS 10.3.0.12 8443 protocol tcp",
    )
    assert nat.kind is NatKind.DESTINATION and nat.is_port_forward
    assert nat.match.dst == AddressSet.parse("192.0.2.12") and nat.match.services == (tcp(443),)
    assert nat.match.src == AddressSet.parse("198.51.100.0/24")
    assert nat.translated_dst == AddressSet.parse("10.3.0.12") and nat.translated_dst_ports == PortSet.of(8443)
    assert nat.ingress == ("Ethernet1",)


def test_dynamic_forms_and_pools() -> None:
    rules = _load("forms_eos.cfg")
    pool = _at(rules, "forms_eos.cfg", "ip nat source dynamic access-list NAT-INSIDE pool PUB")
    assert pool.kind is NatKind.DYNAMIC and pool.match.src == AddressSet.parse("10.3.0.0/16")
    assert pool.translated_src == AddressSet.parse("192.0.2.100-192.0.2.110")
    overload = _at(rules, "forms_eos.cfg", "ip nat source dynamic access-list NAT-INSIDE overload")
    assert overload.kind is NatKind.PAT and overload.translate_to_interface == "Ethernet1"
    dest = _at(rules, "forms_eos.cfg", "ip nat destination dynamic access-list PROXY-DST pool SRV")
    assert dest.kind is NatKind.DESTINATION and dest.translated_dst == AddressSet.parse("10.3.5.10-10.3.5.12")
    corpus = _load("arista-dynamic-source-nat.cfg")
    pools = {obj.name: obj.addresses for obj in corpus.objects}
    assert pools["pool3"] == AddressSet.parse("2.0.0.0/29")


def test_banner_and_diagnostics() -> None:
    rules = _load("forms_eos.cfg")
    assert len(rules.nats) == 7
    assert [d.code for d in rules.diagnostics] == ["EOS-NAT-UNSUPPORTED"]
    corpus = _load("ip-nat-source-static.cfg")
    codes = [d.code for d in corpus.diagnostics]
    assert codes.count("EOS-NAT-INVALID") == 3 and "EOS-NAT-UNKNOWN-ACL" in codes
    assert "EOS-NAT-ACL-INVALID" in codes


def test_acls_and_bindings() -> None:
    rules = _load("forms_eos.cfg")
    edge = rules.filter_lists()["EDGE-IN"]
    assert [rule.sequence for rule in edge] == [20, 30, 40, 50]
    assert edge[0].comment == "CHG-900 publish web" and edge[0].match.services == (tcp(80, 443),)
    assert edge[2].match.dst == AddressSet.parse("10.3.0.0/16")
    assert edge[2].match.services == (Service(17, src_ports=PortSet.of(53)),)
    filters = {(b.name, b.interface, b.direction, b.context) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert filters == {("EDGE-IN", "Ethernet1", "in", "INTERNET"), ("EDGE-IN", "Ethernet2", "out", None)}
    before = set(_load("example-filters-current_rtr-with-acl.cfg").filters)
    after = set(_load("example-filters-candidate1_rtr-with-acl.cfg").filters)
    assert {rule.sequence for rule in after - before} == {462, 463}


def test_detect() -> None:
    assert PARSER.detect((CONFIGS / "forms_eos.cfg").read_text(encoding="utf-8"))
    assert not PARSER.detect("ASA Version 9.8\n")


octets = st.integers(min_value=0, max_value=255)
ipv4 = st.tuples(octets, octets, octets, octets).map(lambda t: ".".join(map(str, t)))
ports = st.integers(min_value=1, max_value=65535)


@settings(max_examples=150, deadline=None)
@given(orig=ipv4, new=ipv4, orig_port=ports, new_port=ports, proto=st.sampled_from(["tcp", "udp"]))
def test_random_destination_nat_round_trips(orig: str, new: str, orig_port: int, new_port: int, proto: str) -> None:
    text = f"interface Ethernet1\n   ip nat destination static {orig} {orig_port} {new} {new_port} protocol {proto}\n"
    (nat,) = parse(text).nats
    assert nat.match.dst == AddressSet.parse(orig) and nat.translated_dst == AddressSet.parse(new)
    assert nat.match.services[0].dst_ports == PortSet.of(orig_port)
    assert nat.translated_dst_ports == PortSet.of(new_port)


@settings(max_examples=150, deadline=None)
@given(src=ipv4, length=st.integers(min_value=0, max_value=32), dst=ipv4, port=ports)
def test_random_acl_round_trips(src: str, length: int, dst: str, port: int) -> None:
    (rule,) = parse(f"ip access-list A\n   10 permit tcp {src}/{length} host {dst} eq {port}\n").filters
    assert rule.match.src == AddressSet.parse(f"{src}/{length}") and rule.match.services == (tcp(port),)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ip", "nat", "source", "destination", "static", "dynamic", "access-list", "pool",
                                 "overload", "protocol", "tcp", "1.2.3.4", "80", "0", "X", "permit", "any", "\n"]),
                max_size=25))  # fmt: skip
def test_random_token_soup_never_raises(words: list[str]) -> None:
    text = "ip access-list X\n   " + " ".join(words) + "\ninterface Ethernet1\n   ip nat " + " ".join(words) + "\n"
    assert isinstance(parse(text), RuleSet)
