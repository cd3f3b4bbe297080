"""VyOS parser: NAT rules in 1.3 and 1.4 syntax, port-forward before/after, firewall rulesets, bindings, curly form."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import Action, AddressSet, BindingKind, NatKind, PortSet, RuleSet, Service
from cfgwatch.vendors.golden import CONFIGS
from cfgwatch.vendors.vyos.parser import detect, parse

FIXTURES = CONFIGS / "vyos"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


def test_port_forward_before_and_after() -> None:
    before = {n.name: n for n in _load("forms_portforward.before.vyos").nats}
    after = {n.name: n for n in _load("forms_portforward.after.vyos").nats}
    old, new = before["destination/10"], after["destination/10"]
    assert old.kind is NatKind.DESTINATION and old.ingress == ("eth0",)  # 1.3 syntax
    assert new.ingress == ("eth0",)  # 1.4 `inbound-interface name eth0`
    assert old.translated_dst == new.translated_dst == AddressSet.parse("192.168.1.10")
    assert old.translated_dst_ports is None and new.translated_dst_ports == PortSet.of(8443)
    assert old.comment == "CHG-100 https to web" and old.sequence == 10
    socks = after["destination/20"]
    assert socks.match.dst == AddressSet.parse("203.0.113.3")
    assert socks.match.services == (
        Service(6, PortSet(), PortSet.of((1080, 1081))),
        Service(17, PortSet(), PortSet.of((1080, 1081))),
    )
    assert "destination/20" not in before
    disabled = after["destination/30"]
    assert not disabled.enabled and disabled.ingress == ("group:WANS",)


def test_source_nat_masquerade_and_pool() -> None:
    after = {n.name: n for n in _load("forms_portforward.after.vyos").nats}
    masq = after["source/100"]
    assert masq.kind is NatKind.PAT and masq.translate_to_interface == "eth0"
    assert masq.match.src == AddressSet.parse("192.168.0.0/16")
    pool = after["source/110"]
    assert pool.kind is NatKind.SOURCE and pool.translated_src == AddressSet.parse("203.0.113.4-203.0.113.5")
    exempt = after["source/120"]  # exclude: an exemption that translates nothing
    assert exempt.kind is NatKind.SOURCE and "no-nat" in exempt.options
    assert exempt.translated_src is None and exempt.translate_to_interface is None
    rules = _load("forms_portforward.after.vyos")
    assert not rules.diagnostics
    # `firewall zone LAN interface eth1` (1.4) is a zone membership, no longer an unmodelled line
    assert ("LAN", "eth1") in {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.ZONE}


def test_13_firewall_groups_default_action_and_bindings() -> None:
    rules = _load("forms_portforward.before.vyos")
    wan = rules.filter_lists()["WAN-IN"]
    assert "established" in wan[0].options
    assert wan[1].match.dst == AddressSet.parse("192.168.1.10") and wan[1].match.dst.names == ("WEB",)
    assert wan[1].match.services == (Service(6, PortSet(), PortSet.of(443, (8000, 8010))),)
    assert wan[-1].action is Action.DENY and wan[-1].comment == "default-action"
    local = rules.filter_lists()["LAN-LOCAL"]
    assert not local[0].match.src.contains_ip("192.168.20.5") and local[0].match.src.contains_ip("10.0.0.1")
    bindings = {(b.name, b.interface, b.direction) for b in rules.bindings if b.kind is BindingKind.FILTER}
    assert bindings == {("WAN-IN", "eth0", "in"), ("LAN-LOCAL", "eth1.20", "local")}


def test_14_base_chain_jump_is_inlined_and_state_policy_first() -> None:
    lists = _load("forms_portforward.after.vyos").filter_lists()
    forward = lists["ipv4/forward"]
    assert "state-policy" in forward[0].options
    jumped = [f for f in forward if "chain:ipv4/WAN-IN" in f.options]
    assert [f.action for f in jumped] == [Action.PERMIT, Action.PERMIT, Action.DENY]
    assert all(f.from_zones == ("eth0",) for f in jumped)
    assert forward[-1].action is Action.DENY
    assert "ipv4/WAN-IN" in lists


def test_corpus_negated_destination_and_tcp_udp() -> None:
    rules = {n.name: n for n in _load("bjw-s_nat.before.vyos").nats}
    dns = rules["destination/102"]
    assert not dns.match.dst.contains_ip("10.5.0.4") and dns.match.dst.contains_ip("1.1.1.1")
    assert {s.protocol for s in dns.match.services} == {6, 17}
    assert dns.translated_dst == AddressSet.parse("10.5.0.4")
    https = rules["destination/100"]
    assert https.ingress == ("eth5",) and https.match.dst_ports() == PortSet.of(443)
    after = {n.name for n in _load("bjw-s_nat.after.vyos").nats}
    assert set(rules) - after == {"destination/100", "destination/101"}


def test_curly_form_equals_set_form() -> None:
    curly = _load("forms_curly.conf")
    text = (
        "set interfaces ethernet eth0 address 203.0.113.2/29\n"
        "set nat destination rule 10 description 'curly https forward'\n"
        "set nat destination rule 10 destination port 443\n"
        "set nat destination rule 10 inbound-interface name eth0\n"
        "set nat destination rule 10 protocol tcp\n"
        "set nat destination rule 10 translation address 192.168.1.10\n"
        "set nat destination rule 10 translation port 8443\n"
        "set nat source rule 100 outbound-interface name eth0\n"
        "set nat source rule 100 translation address masquerade\n"
    )
    assert parse(text) == curly
    assert detect((FIXTURES / "forms_curly.conf").read_text())


def test_groups_and_bindings_from_corpus() -> None:
    rules = _load("hier_config_vyos_generated.conf")
    assert [(b.name, b.interface, b.direction) for b in rules.bindings] == [("LAN-IN", "eth1", "in")]
    objects = _load("bjw-s_firewall.vyos").object_map()
    assert objects["k8s_nodes"].addresses == AddressSet.parse("10.1.1.31-10.1.1.33", "10.1.3.121-10.1.3.123")
    assert objects["wireguard"].services[0].dst_ports == PortSet.of(51820)


def test_detect_and_garbage() -> None:
    assert detect((FIXTURES / "soulwhisper_nat.vyos").read_text())
    assert not detect("/ip firewall nat\nadd chain=dstnat\n")
    assert parse("set nat destination rule x\nset nat destination rule 5 translation address\n").nats == ()


_V4 = st.integers(min_value=1, max_value=(1 << 32) - 2).map(lambda v: str(ipaddress.IPv4Address(v)))


@settings(max_examples=60, deadline=None)
@given(
    dst=_V4,
    to=_V4,
    lo=st.integers(1, 60000),
    width=st.integers(0, 100),
    proto=st.sampled_from(["tcp", "udp"]),
    syntax14=st.booleans(),
    neg=st.booleans(),
)
def test_property_destination_rule_round_trips(
    dst: str, to: str, lo: int, width: int, proto: str, syntax14: bool, neg: bool
) -> None:
    port = str(lo) if width == 0 else f"{lo}-{lo + width}"
    iface = "inbound-interface name 'eth0'" if syntax14 else "inbound-interface 'eth0'"
    text = (
        f"set nat destination rule 7 destination address '{'!' if neg else ''}{dst}'\n"
        f"set nat destination rule 7 destination port '{port}'\n"
        f"set nat destination rule 7 {iface}\n"
        f"set nat destination rule 7 protocol '{proto}'\n"
        f"set nat destination rule 7 translation address '{to}'\n"
    )
    rules = parse(text)
    (nat,) = rules.nats
    expected = AddressSet.parse(dst)
    if neg:
        assert not nat.match.dst.contains_ip(dst) and nat.match.dst.overlaps(AddressSet.any_v4() - expected)
    else:
        assert nat.match.dst == expected
    assert nat.match.dst_ports() == PortSet.of((lo, lo + width))
    assert nat.translated_dst == AddressSet.parse(to)
    assert nat.ingress == ("eth0",)
    assert not rules.diagnostics


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=" setnaruldoifwxp'\"!#0123456789.-/{}", max_size=40), max_size=10))
def test_property_random_lines_never_crash(lines: list[str]) -> None:
    assert isinstance(parse("\n".join("set nat destination " + line for line in lines)), RuleSet)
    assert isinstance(parse("nat {\n" + "\n".join(lines) + "\n"), RuleSet)


_PROXY_RULE = """set firewall group network-group LAN network '10.0.0.0/16'
set firewall group address-group PROXY address '203.0.113.50'
set firewall group port-group PROXYPORTS port '3128'
set firewall ipv4 forward filter default-action 'drop'
set firewall ipv4 forward filter rule 30 action 'accept'
set firewall ipv4 forward filter rule 30 source group network-group 'LAN'
set firewall ipv4 forward filter rule 30 destination group address-group 'PROXY'
set firewall ipv4 forward filter rule 30 destination group port-group 'PROXYPORTS'
set firewall ipv4 forward filter rule 30 protocol 'tcp'
"""


def test_port_group_change_marks_the_rules_using_it() -> None:
    """A port-group is an object like an address-group: widening it changes the meaning of every rule that
    names it, so the rule's change carries object-changed (as for address-groups) beside the egress path."""
    from cfgwatch.classify.networks import Networks
    from cfgwatch.revisions import diff_device

    after = _PROXY_RULE + "set firewall group port-group PROXYPORTS port '1080-1081'\n"
    rule = next(f for f in parse(after).filters if f.sequence == 30)
    assert rule.match.services[0].names == ("PROXYPORTS",)
    result = diff_device("vyos", "vyos", _PROXY_RULE, after, Networks.default())
    change = next(c for c in result.changes if c.family == "filter")
    assert change.categories == ("egress-forward", "acl-widened", "object-changed")
    assert change.tags == ("proxy-port",) and change.affected.ports == PortSet.of((1080, 1081))


def test_domain_group_and_translation_redirect_14() -> None:
    """VyOS 1.4: `firewall group domain-group G address NAME` is a set of DNS names (kept as FQDNs, so a
    permit to it is judged as reaching Internet hosts); `nat destination rule N translation redirect port P`
    sends matching packets to the router itself on P (no translation address)."""
    text = """set firewall group domain-group PROXYDOM address 'Proxy.Example.net'
set firewall ipv4 forward filter rule 20 action 'accept'
set firewall ipv4 forward filter rule 20 destination group domain-group 'PROXYDOM'
set firewall ipv4 forward filter rule 20 destination port '3128'
set firewall ipv4 forward filter rule 20 protocol 'tcp'
set nat destination rule 20 inbound-interface name 'eth1'
set nat destination rule 20 destination port '80'
set nat destination rule 20 protocol 'tcp'
set nat destination rule 20 translation redirect port '3128'
"""
    rules = parse(text)
    assert not rules.diagnostics
    (permit,) = [f for f in rules.filters if f.action is Action.PERMIT]
    assert permit.match.dst.fqdns == frozenset({"proxy.example.net"}) and permit.match.dst.names == ("PROXYDOM",)
    (redirect,) = rules.nats
    assert redirect.kind is NatKind.DESTINATION and redirect.translated_dst is None
    assert redirect.translate_to_interface == "eth1" and "redirect" in redirect.options
    assert redirect.translated_dst_ports == PortSet.of(3128)


def test_zone_policy_13_and_firewall_zone_14_bind_rulesets_to_zone_pairs() -> None:
    """VyOS zone-based firewall: `zone Z from F firewall name N` applies ruleset N to traffic from zone F to
    zone Z (1.3 `zone-policy zone`, 1.4 `firewall zone`, members by `interface` / `member interface`), so a
    permit-all added to the WAN->LAN ruleset is an inbound exposure, not an unbound list's widening."""
    v13 = """set firewall name WAN-LAN default-action 'drop'
set firewall name WAN-LAN rule 10 action 'accept'
set firewall name WAN-LAN rule 10 state established 'enable'
set zone-policy zone LAN interface 'eth1'
set zone-policy zone LAN default-action 'drop'
set zone-policy zone LAN from WAN firewall name 'WAN-LAN'
set zone-policy zone WAN interface 'eth0'
"""
    v14 = """set firewall ipv4 name WAN-LAN default-action 'drop'
set firewall ipv4 name WAN-LAN rule 10 action 'accept'
set firewall ipv4 name WAN-LAN rule 10 state 'established'
set firewall zone LAN member interface 'eth1'
set firewall zone LAN from WAN firewall name 'WAN-LAN'
set firewall zone WAN member interface 'eth0'
"""
    from cfgwatch.classify.networks import Networks
    from cfgwatch.revisions import diff_device

    for text, ruleset, rule in (
        (v13, "WAN-LAN", "name WAN-LAN rule 20"),
        (v14, "ipv4/WAN-LAN", "ipv4 name WAN-LAN rule 20"),
    ):
        rules = parse(text)
        assert not rules.diagnostics
        pairs = {(b.name, b.interface, b.direction) for b in rules.bindings if b.kind is BindingKind.FILTER}
        assert pairs == {(ruleset, "WAN>LAN", "zone-pair")}
        zones = {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.ZONE}
        assert zones == {("LAN", "eth1"), ("WAN", "eth0")}
        after = text + f"set firewall {rule} action 'accept'\n"
        change = next(
            c for c in diff_device("r", "vyos", text, after, Networks.default()).changes if c.family == "filter"
        )
        assert change.categories == ("inbound-exposure", "acl-widened")
