"""FortiOS parser: VIPs (port forwards, ranges, extintf any, load balance), pools, policies with NAT, VDOMs."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import Action, AddressSet, BindingKind, NatKind, PortSet, RuleSet, Service
from cfgwatch.vendors.fortinet import PARSER
from cfgwatch.vendors.fortinet.parser import detect, parse
from cfgwatch.vendors.golden import CONFIGS

FIXTURES = CONFIGS / "fortinet"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


def test_static_vip_is_destination_nat_on_extintf() -> None:
    rules = _load("forms_vip.cfg")
    vip = next(n for n in rules.nats if n.name == "vip-static-1to1")
    assert vip.kind is NatKind.DESTINATION
    assert vip.ingress == ("wan1",)
    assert vip.match.dst == AddressSet.parse("203.0.113.3")
    assert vip.match.src.is_any
    assert vip.translated_dst == AddressSet.parse("10.20.0.10")
    assert vip.translated_dst_ports is None
    assert vip.comment == "TICKET-101 one to one"
    assert vip.source is not None and vip.source.start_line == 49


def test_vip_ranges_map_extip_range_to_mappedip_range() -> None:
    vip = next(n for n in _load("forms_vip.cfg").nats if n.name == "vip-range")
    assert vip.match.dst == AddressSet.parse("203.0.113.4-203.0.113.5")
    assert vip.translated_dst == AddressSet.parse("10.20.0.20-10.20.0.21")


def test_portforward_vip_rewrites_port() -> None:
    vip = next(n for n in _load("forms_vip.cfg").nats if n.name == "vip-https")
    assert vip.match.services == (Service(6, PortSet(), PortSet.of(443)),)
    assert vip.translated_dst_ports == PortSet.of(8443)
    assert vip.is_port_forward


def test_portforward_range_stretches_single_mappedport_and_any_extintf() -> None:
    vip = next(n for n in _load("forms_vip.cfg").nats if n.name == "vip-rdp-range")
    assert vip.ingress == ()
    assert vip.match.services == (Service(17, PortSet(), PortSet.of((50000, 50009))),)
    assert vip.translated_dst_ports == PortSet.of((3389, 3398))


def test_vip_src_filter_and_nat_source_vip() -> None:
    vip = next(n for n in _load("forms_vip.cfg").nats if n.name == "vip-src-filtered")
    assert vip.match.src == AddressSet.parse("198.51.100.0/24", "192.0.2.7")
    assert vip.bidirectional and "nat-source-vip" in vip.options
    assert vip.translated_dst_ports is None  # mappedport == extport: unchanged


def test_load_balance_vip_maps_to_real_servers() -> None:
    vip = next(n for n in _load("forms_vip.cfg").nats if n.name == "vip-lb")
    assert vip.translated_dst == AddressSet.parse("10.20.0.51", "10.20.0.52")
    assert vip.translated_dst_ports == PortSet.of(8080)


def test_policy_with_vip_group_resolves_mapped_side_and_service_group() -> None:
    rules = _load("forms_vip.cfg")
    policy = next(f for f in rules.filters if f.name == "inbound-web")
    assert policy.list_name == "policy"
    assert policy.sequence == 10
    assert policy.from_zones == ("wan1",) and policy.to_zones == ("dmz",)
    assert policy.match.dst == AddressSet.parse("10.20.0.10")
    assert policy.match.dst.names == ("vipgrp-web",)
    assert {svc.dst_ports.text() for svc in policy.match.services} == {"80", "443", "8443"}
    assert policy.comment == "CHG-2231 publish web"


def test_policy_nat_to_interface_and_to_pools() -> None:
    rules = _load("forms_vip.cfg")
    to_iface = next(n for n in rules.nats if n.name == "lan-out")
    assert to_iface.kind is NatKind.PAT
    assert to_iface.translate_to_interface == "wan1"
    assert to_iface.ingress == ("LAN",) and to_iface.egress == ("wan1",)
    assert to_iface.match.src == AddressSet.parse("192.168.10.0/24")
    overload = next(n for n in rules.nats if n.name == "lan-out-pool")
    assert overload.kind is NatKind.PAT
    assert overload.translated_src == AddressSet.parse("203.0.113.4-203.0.113.5")
    assert overload.match.dst == AddressSet.parse("198.51.100.10-198.51.100.12")
    one_to_one = next(n for n in rules.nats if n.name == "dmz-out-1to1")
    assert one_to_one.kind is NatKind.DYNAMIC
    assert not one_to_one.enabled
    # a policy without `set nat enable` adds no NAT rule
    assert not [n for n in rules.nats if n.name == "inbound-web"]


def test_negated_destination_and_default_deny() -> None:
    rules = _load("forms_vip.cfg")
    policy = next(f for f in rules.filters if f.name == "deny-rest")
    assert policy.action is Action.DENY
    assert not policy.match.dst.contains_ip("10.20.0.10")
    assert policy.match.dst.contains_ip("10.20.0.11")


def test_zones_and_interfaces() -> None:
    rules = _load("forms_vip.cfg")
    zones = {(b.name, b.interface) for b in rules.bindings if b.kind is BindingKind.ZONE}
    assert zones == {("LAN", "internal"), ("LAN", "dmz")}
    wan = next(i for i in rules.interfaces if i.name == "wan1")
    assert wan.addresses == AddressSet.parse("203.0.113.2") and wan.nameif == "internet"


def test_vdoms_set_context_and_central_nat_is_reported() -> None:
    rules = _load("forms_vdom.cfg")
    vip = next(n for n in rules.nats if n.name == "vip-root")
    assert vip.context == "root"
    assert vip.translated_dst_ports == PortSet.of(80)
    lists = {f.list_name for f in rules.filters}
    assert lists == {"root/policy", "CUST-A/policy"}
    cust = next(f for f in rules.filters if f.list_name == "CUST-A/policy")
    # addrgrp with exclude-member: net-a minus srv
    assert cust.match.src.contains_ip("172.16.1.4") and not cust.match.src.contains_ip("172.16.1.5")
    objects = rules.object_map()
    assert objects["CUST-A/srv"].addresses == AddressSet.parse("172.16.1.5")
    assert objects["root/srv"].addresses == AddressSet.parse("10.0.0.5")
    codes = {d.code for d in rules.diagnostics}
    assert {"FORTI-CENTRAL-NAT", "FORTI-UNKNOWN-OBJECT", "FORTI-POLICY-UNSUPPORTED"} <= codes
    # central NAT: the policy nat flag is ignored, the central-snat-map entry is the source NAT
    (snat,) = [n for n in rules.nats if n.context == "CUST-A"]
    assert snat.section == "central-snat-map" and snat.ingress == ("port2",) and snat.egress == ("port4",)
    assert snat.match.src == AddressSet.parse("172.16.1.0/24") and snat.match.dst.is_any


def test_batfish_policy_semantics_append_and_disable() -> None:
    rules = _load("firewall_policy.conf")
    names = [f.name for f in rules.filters]
    assert names == ["0", "longest allowed firewall policy nam", "Permit Custom TCP Traffic", "2", "3"]
    disabled = rules.filters[0]
    assert not disabled.enabled and disabled.action is Action.DENY
    appended = rules.filters[2]
    assert appended.from_zones == ("port1", "port2") and appended.to_zones == ("port2", "port1")
    assert appended.match.src == AddressSet.parse("10.0.1.0/24", "10.0.2.0/24")
    assert rules.filters[4].to_zones == ("zone1", "zone3")
    # `12:11` is destination port 12 from source port 11
    svc = next(s for s in appended.match.services if s.names == ("custom_tcp_12_from_11",))
    assert svc.dst_ports == PortSet.of(12) and svc.src_ports == PortSet.of(11)


def test_service_protocol_change_and_unset() -> None:
    objects = _load("service_custom.conf").object_map()
    assert objects["change_protocol"].services == (Service(),)
    assert objects["unset_icmp_1"].services == (Service(1, icmp_type=5),)
    assert objects["unset_icmp_2"].services == (Service(1, icmp_type=3),)
    assert objects["unset_icmp_3"].services == (Service(1),)
    assert objects["custom_ip"].services == (Service(254),)


def test_template_placeholder_extip_is_kept_by_name_with_diagnostic() -> None:
    rules = _load("fgt-gcp-ha-lb-active.conf")
    vip = next(n for n in rules.nats if n.name == "lb-probe")
    assert vip.translated_dst == AddressSet.parse("192.168.199.1")
    assert vip.match.dst.fqdns == frozenset({"extip:${fgt_public_ip}"})
    assert [d.code for d in rules.diagnostics] == ["FORTI-ADDRESS-UNRESOLVABLE"]


def test_indentation_only_config_without_end_lines() -> None:
    rules = _load("hier_config_fortios_generated.conf")
    assert rules.object_map()["LAN_SUBNET"].addresses == AddressSet.parse("10.0.0.0/16")
    assert {i.name for i in rules.interfaces} == {"wan1", "lan1", "lan3"}


def test_detect_and_garbage() -> None:
    assert detect((FIXTURES / "forms_vip.cfg").read_text())
    assert not detect("set nat destination rule 10 translation address 10.0.0.1\n")
    assert PARSER.platform == "fortinet"
    assert parse("config firewall vip\n    edit\n    set extip\n    set\nend\n").nats == ()


_V4 = st.integers(min_value=1, max_value=(1 << 32) - 2).map(lambda v: str(ipaddress.IPv4Address(v)))


@settings(max_examples=60, deadline=None)
@given(
    ext=_V4,
    mapped=_V4,
    ext_lo=st.integers(1, 60000),
    width=st.integers(0, 50),
    mapped_lo=st.integers(1, 60000),
    proto=st.sampled_from(["tcp", "udp", "sctp"]),
)
def test_property_vip_round_trips_addresses_and_ports(
    ext: str, mapped: str, ext_lo: int, width: int, mapped_lo: int, proto: str
) -> None:
    ext_hi = ext_lo + width
    extport = str(ext_lo) if width == 0 else f"{ext_lo}-{ext_hi}"
    text = (
        "config firewall vip\n"
        '    edit "v"\n'
        f"        set extip {ext}\n"
        '        set extintf "port1"\n'
        "        set portforward enable\n"
        f"        set protocol {proto}\n"
        f'        set mappedip "{mapped}"\n'
        f"        set extport {extport}\n"
        f"        set mappedport {mapped_lo}\n"
        "    next\n"
        "end\n"
    )
    rules = parse(text)
    (vip,) = rules.nats
    assert vip.match.dst == AddressSet.parse(ext)
    assert vip.translated_dst == AddressSet.parse(mapped)
    assert vip.match.services[0].dst_ports == PortSet.of((ext_lo, ext_hi))
    expected = PortSet.of((mapped_lo, mapped_lo + width)) if mapped_lo + width <= 65535 else PortSet.of(mapped_lo)
    if expected == PortSet.of((ext_lo, ext_hi)):
        assert vip.translated_dst_ports is None
    else:
        assert vip.translated_dst_ports == expected
    assert not rules.diagnostics


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=" \"'\\setdiconfgxnrvp12.-", max_size=30), max_size=12))
def test_property_random_lines_never_crash(lines: list[str]) -> None:
    text = "config firewall policy\n" + "\n".join(lines) + "\nend\n"
    assert isinstance(parse(text), RuleSet)


_CENTRAL = """config system settings
    set central-nat enable
end
config firewall address
    edit "LAN"
        set subnet 10.10.0.0 255.255.0.0
    next
    edit "vps"
        set subnet 192.0.2.77 255.255.255.255
    next
end
config firewall ippool
    edit "pool1"
        set startip 198.51.100.10
        set endip 198.51.100.10
    next
end
config firewall central-snat-map
    edit 1
        set srcintf "port2"
        set dstintf "port1"
        set orig-addr "LAN"
        set dst-addr "vps"
        set nat-ippool "pool1"
        set protocol 6
        set orig-port 1024-65535
        set dst-port 1080
        set comments "relay"
    next
    edit 2
        set status disable
        set srcintf "port2"
        set dstintf "port1"
        set orig-addr "LAN"
        set dst-addr "all"
    next
    edit 3
        set srcintf "port2"
        set dstintf "port3"
        set orig-addr "LAN"
        set dst-addr "all"
        set nat disable
        set bogus-key 1
    next
end
"""


def test_central_snat_map_entries_are_source_nat_rules() -> None:
    """FortiOS central-snat-map: orig-addr/dst-addr match, protocol 0 = any, orig-port is the original
    source port, 7.4 dst-port the destination port, nat-ippool (else the egress interface) the new source,
    `nat disable` exempts, `status disable` turns the entry off; unknown keys are diagnostics."""
    rules = parse(_CENTRAL)
    first, second, third = (n for n in rules.nats if n.section == "central-snat-map")
    assert first.match.src == AddressSet.parse("10.10.0.0/16") and first.match.dst == AddressSet.parse("192.0.2.77")
    (service,) = first.match.services
    assert service.protocol == 6 and service.src_ports == PortSet.of((1024, 65535))
    assert service.dst_ports == PortSet.of(1080)
    assert first.translated_src == AddressSet.parse("198.51.100.10") and first.comment == "relay"
    assert not second.enabled and second.translate_to_interface == "port1" and second.match.services == (Service(),)
    assert third.translated_src is None and third.translate_to_interface is None and "no-nat" in third.options
    bad = [d for d in rules.diagnostics if d.code == "FORTI-CENTRAL-SNAT-MAP-UNSUPPORTED"]
    assert [d.text for d in bad] == ["set bogus-key 1"]


def test_central_snat_relay_to_public_proxy_is_egress_forward() -> None:
    """A central-snat-map entry that sends LAN clients to a public host on 1080 is an egress forward."""
    from cfgwatch.classify.networks import Networks
    from cfgwatch.revisions import diff_device

    start, end = _CENTRAL.index("    edit 1\n"), _CENTRAL.index("    edit 2\n")
    before = _CENTRAL[:start] + _CENTRAL[end:]
    result = diff_device("fgt", "fortinet", before, _CENTRAL, Networks.default())
    (change,) = [c for c in result.changes if c.family == "nat"]
    assert change.categories == ("egress-forward", "nat-added") and change.tags == ("proxy-port",)
    assert change.affected.public == AddressSet.parse("192.0.2.77")


def test_service_group_change_marks_the_policies_using_it() -> None:
    """A service group widened by one member (PROXIES += TOR/9050) changes the meaning of every policy that
    names the group: that policy's change carries object-changed, as for an addrgrp change."""
    from cfgwatch.classify.networks import Networks
    from cfgwatch.revisions import diff_device

    before = """config firewall address
    edit "LAN"
        set subnet 10.10.0.0 255.255.0.0
    next
    edit "up"
        set subnet 203.0.113.50 255.255.255.255
    next
end
config firewall service custom
    edit "SQUID"
        set tcp-portrange 3128
    next
    edit "TOR"
        set tcp-portrange 9050
    next
end
config firewall service group
    edit "PROXIES"
        set member "SQUID"
    next
end
config firewall policy
    edit 5
        set name "upstream-proxies"
        set srcaddr "LAN"
        set dstaddr "up"
        set srcintf "internal"
        set dstintf "wan1"
        set action accept
        set service "PROXIES"
    next
end
"""
    after = before.replace('set member "SQUID"', 'set member "SQUID" "TOR"')
    policy = parse(after).filters[0]
    assert {svc.names for svc in policy.match.services} == {("SQUID", "PROXIES"), ("TOR", "PROXIES")}
    result = diff_device("fgt", "fortinet", before, after, Networks.default())
    change = next(c for c in result.changes if c.family == "filter")
    assert change.categories == ("egress-forward", "acl-widened", "object-changed")
    assert change.tags == ("proxy-port",) and change.affected.ports == PortSet.of(9050)


_VIP_STATUS = """config firewall service custom
    edit "TCP-8080"
        set tcp-portrange 8080
    next
end
config firewall vip
    edit "relay"
        set extip 10.10.255.80
        set extintf "internal"
        set mappedip "203.0.113.80"
        set service "TCP-8080"
        set status disable
    next
end
"""


def test_vip_status_and_services() -> None:
    """FortiOS 7.0 CLI reference: a VIP has `set status enable|disable`; a "VIP with services" (`set service`,
    no portforward) translates only traffic of those services and keeps the ports."""
    (vip,) = parse(_VIP_STATUS).nats
    assert not vip.enabled
    assert vip.match.services == (Service(6, PortSet(), PortSet.of(8080)),) and vip.translated_dst_ports is None
    assert not parse(_VIP_STATUS).diagnostics
    from cfgwatch.classify.networks import Networks
    from cfgwatch.revisions import diff_device

    enabled = _VIP_STATUS.replace("        set status disable\n", "")
    result = diff_device("fgt", "fortinet", _VIP_STATUS, enabled, Networks.default())
    change = next(c for c in result.changes if c.family == "nat")
    assert change.categories == ("egress-forward", "nat-modified") and change.tags == ("proxy-port",)
