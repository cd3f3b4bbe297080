"""Cisco ASA parser: object/twice NAT, port forwards, ACL forms and bindings field by field; property tests."""

from __future__ import annotations

from pathlib import Path

from _held_out import changes, egress
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import AddressSet, BindingKind, NatKind, NatRule, PortSet, RuleSet, Service, tcp
from cfgwatch.vendors.cisco_asa import PARSER
from cfgwatch.vendors.cisco_asa.parser import parse

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "cisco_asa"


def _load(name: str) -> RuleSet:
    return parse((CONFIGS / name).read_text(encoding="utf-8"))


def _at(rules: RuleSet, needle: str) -> NatRule:
    lines = (CONFIGS / "forms_asa.cfg").read_text(encoding="utf-8").splitlines()
    number = next(i for i, text in enumerate(lines, 1) if text.strip() == needle)
    (nat,) = [n for n in rules.nats if n.source is not None and n.source.start_line == number]
    return nat


def test_object_nat_port_forward() -> None:
    rules = _load("forms_asa.cfg")
    nat = _at(rules, "nat (dmz,outside) static WEB-PUBLIC service tcp www 8080")
    assert nat.kind is NatKind.STATIC and nat.section == "auto" and nat.name == "WEB-REAL"
    assert nat.match.src == AddressSet.parse("172.16.1.10")
    assert nat.match.services == (Service(6, src_ports=PortSet.of(80)),)
    assert nat.translated_src == AddressSet.parse("203.0.113.10")
    assert nat.translated_src_ports == PortSet.of(8080)
    assert nat.ingress == ("dmz",) and nat.egress == ("outside",) and nat.bidirectional


def test_object_nat_dynamic_forms() -> None:
    rules = _load("forms_asa.cfg")
    iface = _at(rules, "nat (inside,outside) dynamic interface")
    assert iface.kind is NatKind.PAT and iface.translate_to_interface == "outside" and not iface.bidirectional
    pool = _at(rules, "nat (inside,outside) dynamic pat-pool PAT-POOL interface flat")
    assert pool.kind is NatKind.PAT and pool.translated_src == AddressSet.parse("203.0.113.100-203.0.113.110")
    subnet = _at(rules, "nat (dmz,outside) static 203.0.113.64")
    assert subnet.translated_src is not None and subnet.translated_src.count() == 256


def test_twice_nat_redirect_to_proxy() -> None:
    rules = _load("forms_asa.cfg")
    nat = _at(
        rules,
        "nat (inside,outside) source dynamic LAN interface destination static PROXY-MAPPED PROXY-REAL "
        "service PROXY-8080 PROXY-3128 description CHG-7 redirect to vendor proxy",
    )
    assert nat.kind is NatKind.TWICE and nat.section == "manual"
    assert nat.match.src == AddressSet.parse("10.0.0.0/24")
    assert nat.match.dst == AddressSet.parse("10.0.0.250")  # the mapped destination clients connect to
    assert nat.translated_dst == AddressSet.parse("198.51.100.80")  # the real destination
    assert nat.match.services[0].dst_ports == PortSet.of(8080)
    assert nat.translated_dst_ports == PortSet.of(3128)
    assert nat.translate_to_interface == "outside"
    assert nat.comment == "CHG-7 redirect to vendor proxy"


def test_twice_nat_sections_order_inactive_identity() -> None:
    rules = _load("forms_asa.cfg")
    manual = [n for n in rules.nats if n.section == "manual"]
    assert [n.sequence for n in manual] == [1, 2, 3, 4, 5]
    first = manual[0]  # `line 1` puts it first although it is written later
    assert not first.enabled and first.kind is NatKind.DESTINATION
    identity = manual[1]
    assert identity.kind is NatKind.STATIC and identity.translated_src is None and identity.translated_dst is None
    assert identity.options == frozenset({"no-proxy-arp", "route-lookup"})
    sections = [n.section for n in rules.nats]
    assert sections == ["manual"] * 5 + ["auto"] * 4 + ["after-auto"]
    after = rules.nats[-1]
    assert after.kind is NatKind.DYNAMIC and after.match.src.is_any
    inbound = _at(
        rules, "nat (outside,inside) source static any any destination static interface WEB-REAL unidirectional"
    )
    assert inbound.match.dst == AddressSet.parse("203.0.113.1") and not inbound.bidirectional


def test_twice_static_with_service_ports() -> None:
    rules = _load("forms_asa.cfg")
    nat = _at(rules, "nat (dmz,outside) source static WEB-REAL WEB-PUBLIC service HTTP-REAL HTTP-MAPPED")
    assert nat.kind is NatKind.STATIC
    assert nat.match.services[0].src_ports == PortSet.of(80)
    assert nat.translated_src_ports == PortSet.of(8080)


def test_corpus_twice_static() -> None:
    rules = _load("asa-nat-twice-static.cfg")
    first = rules.nats[0]
    assert first.section == "manual" and first.translated_src == AddressSet.parse("2.2.2.2")
    after = [n for n in rules.nats if n.section == "after-auto"]
    (twice,) = after
    assert twice.kind is NatKind.TWICE
    assert twice.match.dst == AddressSet.parse("3.3.3.3") and twice.translated_dst == AddressSet.parse("4.4.4.4")
    assert twice.comment == "Static Twice NAT"
    assert {d.code for d in rules.diagnostics} == {"ASA-NAT-UNKNOWN-OBJECT"}


def test_acl_forms() -> None:
    rules = _load("forms_asa.cfg")
    acl = rules.filter_lists()["OUTSIDE-IN"]
    assert acl[0].comment == "CHG-100 publish the web server"
    assert acl[1].match.services == (tcp(80, 443, (8000, 8010)),)
    assert acl[1].match.services[0].dst_ports.names == ("WEB-PORTS",)
    assert {(s.protocol, s.icmp_type) for s in acl[2].match.services} == {(6, None), (17, None), (1, 8)}
    assert acl[2].match.src == AddressSet.parse("0.0.0.0/0")
    assert {s.protocol for s in acl[3].match.services} == {6, 17}
    assert acl[4].match.dst == AddressSet.parse("203.0.113.1") and acl[4].match.dst.names == ("interface outside",)
    assert acl[6].match.dst.fqdns == frozenset({"cdn.example.net"}) and "log" in acl[6].options
    assert not acl[7].enabled
    assert acl[8].match.services == (Service(17, PortSet.of((1024, 65535)), PortSet.of(53)),)
    inside = rules.filter_lists()["INSIDE-OUT"]
    assert inside[0].options == frozenset({"time-range WORKHOURS"})
    assert inside[2].match.dst == AddressSet.parse("2001:db8::/32") and not inside[2].match.src.v4
    split = rules.filter_lists()["SPLIT"]
    assert split[0].match.dst == AddressSet.parse("10.0.0.0/24") and split[0].match.src.is_any


def test_bindings_interfaces_objects() -> None:
    rules = _load("forms_asa.cfg")
    filters = {(b.name, b.interface, b.direction) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert filters == {("OUTSIDE-IN", "outside", "in"), ("INSIDE-OUT", "inside", "out"), ("GLOBAL-ACL", "global", "in")}
    outside = next(i for i in rules.interfaces if i.nameif == "outside")
    assert outside.security_level == 0 and outside.addresses == AddressSet.parse("203.0.113.1")
    kinds = {obj.name: obj.kind for obj in rules.objects}
    assert kinds["ADMINS"] == "network-group" and kinds["WEB-PORTS"] == "service-group"
    assert kinds["TCP-UDP"] == "protocol-group" and kinds["SSH"] == "service" and kinds["CDN"] == "network"
    codes = sorted(d.code for d in rules.diagnostics)
    assert codes == ["ASA-ACL-UNSUPPORTED", "ASA-NAT-LEGACY", "ASA-NAT-UNKNOWN-OBJECT", "ASA-NAT-UNKNOWN-OBJECT"]


def test_banner_lines_are_not_rules() -> None:
    rules = _load("forms_asa.cfg")
    assert not any(n.match.src == AddressSet.parse("1.1.1.1") for n in rules.nats)
    assert len(rules.nats) == 10


def test_detect() -> None:
    assert PARSER.detect((CONFIGS / "forms_asa.cfg").read_text(encoding="utf-8"))
    assert not PARSER.detect("hostname r1\nip access-list extended X\n permit ip any any\n")


octets = st.integers(min_value=0, max_value=255)
ipv4 = st.tuples(octets, octets, octets, octets).map(lambda t: ".".join(map(str, t)))
ports = st.integers(min_value=1, max_value=65535)


def _netmask(length: int) -> str:
    value = ((1 << 32) - 1) ^ ((1 << (32 - length)) - 1)
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


@settings(max_examples=150, deadline=None)
@given(src=ipv4, length=st.integers(min_value=0, max_value=32), dst=ipv4, port=ports)
def test_random_acl_round_trips(src: str, length: int, dst: str, port: int) -> None:
    text = f"access-list A extended permit tcp {src} {_netmask(length)} host {dst} eq {port}\n"
    (rule,) = parse(text).filters
    assert rule.match.src == AddressSet.parse(f"{src}/{length}")
    assert rule.match.dst == AddressSet.parse(dst) and rule.match.services == (tcp(port),)


@settings(max_examples=150, deadline=None)
@given(real=ipv4, mapped=ipv4, real_port=ports, mapped_port=ports)
def test_random_object_nat_round_trips(real: str, mapped: str, real_port: int, mapped_port: int) -> None:
    text = (
        f"object network S\n host {real}\n nat (inside,outside) static {mapped} service tcp {real_port} {mapped_port}\n"
    )
    (nat,) = parse(text).nats
    assert nat.match.src == AddressSet.parse(real) and nat.translated_src == AddressSet.parse(mapped)
    assert nat.match.services == (Service(6, src_ports=PortSet.of(real_port)),)
    assert nat.translated_src_ports == PortSet.of(mapped_port)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "nat",
                "(inside,outside)",
                "source",
                "static",
                "dynamic",
                "any",
                "X",
                "destination",
                "service",
                "interface",
                "access-list",
                "extended",
                "permit",
                "tcp",
                "object",
                "eq",
                "80",
                "host",
                "1.2.3.4",
                "inactive",
                "line",
                "1",
                "\n",
                " ",
            ]
        ),
        max_size=25,
    )
)
def test_random_token_soup_never_raises(words: list[str]) -> None:
    text = "object network X\n host 1.2.3.4\n " + " ".join(words) + "\n" + " ".join(words) + "\n"
    assert isinstance(parse(text), RuleSet)


def test_static_interface_port_forward_is_an_exposure() -> None:
    """`nat (inside,outside) static interface service tcp P P` maps to the outside interface's address
    (ASA: the interface IP is the mapped address), the usual ASA port forward: an inbound exposure."""
    before = (
        "interface GigabitEthernet0/0\n nameif outside\n security-level 0\n ip address 203.0.113.1 255.255.255.0\n"
        "interface GigabitEthernet0/1\n nameif inside\n security-level 100\n ip address 10.1.0.1 255.255.0.0\n"
    )
    forward = " nat (inside,outside) static interface service tcp 1080 1080\n"
    after = before + "object network SOCKS\n host 10.1.5.6\n" + forward
    nat = parse(after).nats[0]
    assert nat.translated_src == AddressSet.parse("203.0.113.1") and nat.translate_to_interface is None
    (change,) = changes("cisco_asa", before, after)
    assert change.categories == ("inbound-exposure", "nat-added") and change.tags == ("proxy-port",)
    assert tuple(change.affected.internal.ranges()) == ("10.1.5.6",)


def test_identity_and_security_group_criteria_are_options() -> None:
    """ASA identity firewall (`user`, `user-group`, `object-group-user`) and TrustSec (`security-group
    name|tag`, `object-group-security`) criteria before an address narrow the entry: kept as options,
    the entry itself modelled (it was a diagnostic and the permit was lost)."""
    base = "interface GigabitEthernet0/1\n nameif inside\n security-level 100\n ip address 10.1.0.1 255.255.0.0\n"
    lines = (
        "access-list IN extended permit tcp user LOCAL\\bob any host 198.51.100.5 eq 3128\n"
        "access-list IN extended permit tcp user-group CORP\\\\eng 10.1.0.0 255.255.0.0"
        " security-group tag 7 any eq 8080\n"
        "access-list IN extended permit ip object-group-user U object-group-security SG any any\n"
    )
    rules = parse(base + "object-group user U\n user LOCAL\\al\n" + lines)
    assert not [d for d in rules.diagnostics if d.code.startswith("ASA-ACL")]
    first, second, third = rules.filters
    assert first.options == frozenset({"source user LOCAL\\bob"})
    assert first.match.dst == AddressSet.parse("198.51.100.5")
    assert second.options == frozenset({"source user-group CORP\\\\eng", "destination security-group tag 7"})
    assert third.options == frozenset({"source object-group-user U", "source object-group-security SG"})


def test_access_list_line_number_inserts() -> None:
    """`access-list NAME line N extended ...` inserts the entry as line N of the list (ASA: remarks count
    as lines), so first-match order follows it; it was appended at the end, below the deny it bypasses."""
    text = (
        "access-list IN remark CHG-1\n"
        "access-list IN extended deny tcp any any eq 3128\n"
        "access-list IN extended permit ip any any\n"
        "access-list IN line 2 extended permit tcp 10.1.0.0 255.255.0.0 host 198.51.100.5 eq 3128\n"
        "access-list IN line 99 extended deny ip any any\n"
    )
    rules = parse(text)
    assert [(rule.action.value, rule.source.start_line) for rule in rules.filters if rule.source] == [
        ("permit", 4),
        ("deny", 2),
        ("permit", 3),
        ("deny", 5),
    ]
    assert rules.filters[0].comment == "CHG-1"


_ASA_FQDN = """\
ASA Version 9.8(4)
hostname fw
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.0
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.255.255.0
object network X
 fqdn v4 relay.example.net
object-group network RELAYS
 network-object object X
access-list IN extended permit tcp 10.0.0.0 255.0.0.0 any eq 443
access-group IN in interface inside
"""


def test_permit_to_an_fqdn_object_on_a_proxy_port_is_an_egress_forward() -> None:
    """`object network X / fqdn relay.example.net` resolves by DNS at run time (an Internet host): a new
    inside permit to it on 9050, directly or through a group, is an egress forward on a proxy port."""
    for destination in ("object X", "object-group RELAYS"):
        line = f"access-list IN extended permit tcp 10.0.0.0 255.0.0.0 {destination} eq 9050\n"
        after = _ASA_FQDN.replace("access-group", line + "access-group")
        change = egress("cisco_asa", _ASA_FQDN, after, "eq 9050")
        assert change.affected.public.fqdns == frozenset({"relay.example.net"})
    # the same permit bound only on the outside interface: its internal sources are spoofed, no egress
    outside = _ASA_FQDN.replace("in interface inside", "in interface outside")
    after = outside.replace(
        "access-group", "access-list IN extended permit tcp 10.0.0.0 255.0.0.0 object X eq 9050\n" + "access-group"
    )
    found = [c for c in changes("cisco_asa", outside, after) if c.family == "filter"]
    assert found and all("egress-forward" not in c.categories for c in found)
