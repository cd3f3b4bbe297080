"""Issue 15 items 5, 6, 7, 9: bindings, bounded destinations, breadth, NAT flow targets, on several platforms.

The oracle is the vendors' documentation: an interface without an ACL passes everything (IOS, Junos,
VyOS), except the ASA's security-level-0 outside interface (nothing enters from a lower level without an
ACL); `ip access-group` filters IPv4 only; an SRX/PAN-OS policy from zone `untrust`, an ASA ACL bound in on
`outside` and an IOS ACL bound in on the `ip nat outside` interface judge traffic from the Internet.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.classify import categories, networks
from cfgwatch.classify.networks import Networks
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.model import Action, AddressSet, Binding, BindingKind, FilterRule, Match, PortSet, RuleSet, Service, tcp
from cfgwatch.model.changes import RuleChange
from cfgwatch.policy.attribution import Attribution
from cfgwatch.policy.findings import DeviceContext, evaluate
from cfgwatch.revisions import diff_device

NETWORKS = Networks.default()
EGRESS, INBOUND, WIDENED, NARROWED, BINDING = (
    "egress-forward",
    "inbound-exposure",
    "acl-widened",
    "acl-narrowed",
    "binding-changed",
)


def changes(platform: str, before: str, after: str) -> tuple[RuleChange, ...]:
    result = diff_device("dev", platform, before, after, NETWORKS)
    assert result.error is None
    return result.changes


def only(found: tuple[RuleChange, ...], family: str, change: str = "", category: str = "") -> RuleChange:
    picked = [
        c
        for c in found
        if c.family == family
        and (not change or c.change.value == change)
        and (not category or category in c.categories)
    ]
    assert len(picked) == 1, [(c.family, c.change.value, c.categories) for c in found]
    return picked[0]


def severity(change: RuleChange) -> str:
    context = DeviceContext(groups=(), policies=())
    finding = evaluate(
        change, context, Attribution(None, None, None, "run-time"), None, [], [], r"CHG\d+", date(2026, 12, 1)
    )
    assert finding is not None
    return finding.severity


# -- item 5: bindings change what is permitted ------------------------------------------------------

IOS_LAN = """\
hostname r1
ip access-list extended LAN-OUT
 permit tcp 10.1.0.0 0.0.255.255 any eq 80
 permit tcp 10.1.0.0 0.0.255.255 any eq 443
 permit udp 10.1.0.0 0.0.255.255 host 10.0.0.53 eq 53
 deny ip any any
ip access-list extended LAN-OPEN
 permit ip any any
!
interface GigabitEthernet0/1
 description LAN users
 ip address 10.1.0.1 255.255.0.0
 ip access-group LAN-OUT in
!
interface GigabitEthernet0/0
 ip address 198.51.100.2 255.255.255.252
 ip nat outside
"""

JUNOS_LAN = """\
set interfaces ge-0/0/0 unit 0 family inet address 198.51.100.1/24
set interfaces ge-0/0/1 unit 0 family inet address 10.1.0.1/16
set interfaces ge-0/0/1 unit 0 family inet filter input LAN-IN
set firewall family inet filter LAN-IN term web from source-address 10.1.0.0/16
set firewall family inet filter LAN-IN term web from protocol tcp
set firewall family inet filter LAN-IN term web from destination-port 443
set firewall family inet filter LAN-IN term web then accept
set firewall family inet filter LAN-IN term rest then discard
"""

VYOS_LAN = """\
set interfaces ethernet eth0 address '198.51.100.2/24'
set interfaces ethernet eth1 address '10.1.0.1/16'
set interfaces ethernet eth1 firewall in name 'LAN-OUT'
set firewall name LAN-OUT default-action 'drop'
set firewall name LAN-OUT rule 10 action 'accept'
set firewall name LAN-OUT rule 10 source address '10.1.0.0/16'
set firewall name LAN-OUT rule 10 destination port '443'
set firewall name LAN-OUT rule 10 protocol 'tcp'
"""

UNBIND = {
    "cisco_ios": (IOS_LAN, " ip access-group LAN-OUT in\n"),
    "juniper_junos": (JUNOS_LAN, "set interfaces ge-0/0/1 unit 0 family inet filter input LAN-IN\n"),
    "vyos": (VYOS_LAN, "set interfaces ethernet eth1 firewall in name 'LAN-OUT'\n"),
}


@pytest.mark.parametrize("platform", sorted(UNBIND))
def test_removing_a_restrictive_lan_filter_is_an_egress_path(platform: str) -> None:
    before, line = UNBIND[platform]
    change = only(changes(platform, before, before.replace(line, "")), "binding")
    assert change.categories == (EGRESS, WIDENED, BINDING)
    assert change.tags == ("proxy-port",)
    assert change.affected.internal.contains(AddressSet.parse("10.1.0.0/16"))
    assert change.affected.public.contains(AddressSet.parse("198.51.100.7"))  # the Internet is now reachable
    assert change.affected.ports.contains(PortSet.of(3128, 8080))
    assert any("no longer applied" in reason for reason in change.reasons)
    assert change.delta is not None and change.delta.widened
    # binding it again narrows (and is the inverse)
    back = only(changes(platform, before.replace(line, ""), before), "binding")
    assert back.categories == (NARROWED, BINDING)


def test_ip_access_group_filters_ipv4_only() -> None:
    change = only(changes("cisco_ios", IOS_LAN, IOS_LAN.replace(" ip access-group LAN-OUT in\n", "")), "binding")
    assert change.affected.internal.v4 and change.affected.public.v4
    assert change.affected.internal.v6 == () and change.affected.public.v6 == ()


def test_swapping_the_bound_list_reports_each_part_once_and_inverts() -> None:
    after = IOS_LAN.replace(" ip access-group LAN-OUT in\n", " ip access-group LAN-OPEN in\n")
    found = changes("cisco_ios", IOS_LAN, after)
    removed, added = only(found, "binding", "removed"), only(found, "binding", "added")
    assert removed.categories == (BINDING,)  # LAN-OPEN denies nothing LAN-OUT permitted
    assert added.categories == (EGRESS, WIDENED, BINDING)
    assert any("instead of LAN-OUT" in reason for reason in added.reasons)
    back = changes("cisco_ios", after, IOS_LAN)
    assert only(back, "binding", "removed").categories == (NARROWED, BINDING)  # LAN-OPEN goes: denies again
    assert any("replaced by LAN-OUT" in reason for reason in only(back, "binding", "removed").reasons)
    assert only(back, "binding", "added").categories == (BINDING,)


ASA = """\
hostname edge-fw
interface GigabitEthernet0/1
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.0
interface GigabitEthernet0/0
 nameif inside
 security-level 100
 ip address 10.1.0.1 255.255.255.0
access-list IN extended permit tcp 10.1.0.0 255.255.255.0 any eq https
access-list OUTSIDE-IN extended permit tcp any host 10.1.0.10 eq https
access-group IN in interface inside
access-group OUTSIDE-IN in interface outside
"""


def test_asa_outside_without_an_acl_lets_nothing_in() -> None:
    # ASA: traffic entering from a lower security level needs an ACL; level 0 has nothing below it
    outside = only(
        changes("cisco_asa", ASA, ASA.replace("access-group OUTSIDE-IN in interface outside\n", "")), "binding"
    )
    assert outside.categories == (NARROWED, BINDING)
    inside = only(changes("cisco_asa", ASA, ASA.replace("access-group IN in interface inside\n", "")), "binding")
    assert EGRESS in inside.categories and WIDENED in inside.categories


# -- item 6: a bounded public destination ----------------------------------------------------------

IOS_BOGONS = """\
hostname r1
ip access-list extended LAN-OUT
 deny ip any 0.0.0.0 0.255.255.255
 deny ip any 192.0.2.0 0.0.0.255
 deny ip any 224.0.0.0 15.255.255.255
 deny ip any 5.188.10.0 0.0.0.255
 permit tcp 10.1.0.0 0.0.255.255 any eq 80
 deny ip any any
interface GigabitEthernet0/1
 ip address 10.1.0.1 255.255.0.0
 ip access-group LAN-OUT in
"""

SRX_BLOCKLIST = """\
set security zones security-zone trust interfaces ge-0/0/1.0
set security zones security-zone untrust interfaces ge-0/0/0.0
set security address-book global address LAN 10.1.0.0/16
set security address-book global address BAD1 5.188.10.0/24
set security address-book global address BAD2 45.9.148.0/24
set security address-book global address-set BLOCK address BAD1
set security address-book global address-set BLOCK address BAD2
set security policies from-zone trust to-zone untrust policy block match source-address any
set security policies from-zone trust to-zone untrust policy block match destination-address BLOCK
set security policies from-zone trust to-zone untrust policy block match application any
set security policies from-zone trust to-zone untrust policy block then deny
"""
SRX_PERMIT = """\
set security policies from-zone trust to-zone untrust policy web match source-address LAN
set security policies from-zone trust to-zone untrust policy web match destination-address {dst}
set security policies from-zone trust to-zone untrust policy web match application junos-https
set security policies from-zone trust to-zone untrust policy web then permit
"""


def test_any_minus_a_blocklist_is_not_a_specific_destination() -> None:
    ios_after = IOS_BOGONS.replace(
        " deny ip any any\n", " permit tcp 10.1.0.0 0.0.255.255 any eq 443\n deny ip any any\n"
    )
    assert only(changes("cisco_ios", IOS_BOGONS, ios_after), "filter").categories == (WIDENED,)
    srx_after = SRX_BLOCKLIST + SRX_PERMIT.format(dst="any")
    assert only(changes("juniper_junos", SRX_BLOCKLIST, srx_after), "filter").categories == (WIDENED,)


def test_a_bounded_destination_behind_a_blocklist_is_still_an_egress_path() -> None:
    ios_after = IOS_BOGONS.replace(
        " deny ip any any\n", " permit tcp 10.1.0.0 0.0.255.255 198.51.100.0 0.0.0.255 eq 443\n deny ip any any\n"
    )
    change = only(changes("cisco_ios", IOS_BOGONS, ios_after), "filter")
    assert change.categories == (EGRESS, WIDENED)
    assert change.affected.public.ranges() == ["198.51.100.0/24"]
    srx_after = SRX_BLOCKLIST + "set security address-book global address EXT 198.51.100.0/24\n"
    srx_after += SRX_PERMIT.format(dst="EXT")
    assert EGRESS in only(changes("juniper_junos", SRX_BLOCKLIST, srx_after), "filter").categories


def test_bounded_threshold_is_a_fraction_of_each_familys_public_space() -> None:
    public_v4 = AddressSet(v4=NETWORKS.public.v4).count()
    assert not NETWORKS.bounded_public(AddressSet.parse("5.0.0.0/8")).is_empty  # 1/~220 of it
    assert AddressSet.parse("5.0.0.0/8").count() * networks.BOUNDED_FRACTION <= public_v4
    assert AddressSet.parse("4.0.0.0/7").count() * networks.BOUNDED_FRACTION > public_v4
    assert NETWORKS.bounded_public(AddressSet.parse("4.0.0.0/7")).is_empty
    assert NETWORKS.bounded_public(AddressSet.any() - AddressSet.parse("5.188.10.0/24")).is_empty
    assert NETWORKS.bounded_public(AddressSet.parse("2001:db8::/32")).ranges() == ["2001:db8::/32"]


# -- item 7: breadth decides severity --------------------------------------------------------------

SRX_INBOUND = """\
set interfaces ge-0/0/0 unit 0 family inet address 198.51.100.1/24
set interfaces ge-0/0/1 unit 0 family inet address 10.1.0.1/16
set security zones security-zone trust interfaces ge-0/0/1.0
set security zones security-zone untrust interfaces ge-0/0/0.0
set security address-book global address WEB 10.1.1.10/32
set security policies from-zone untrust to-zone trust policy web match source-address any
set security policies from-zone untrust to-zone trust policy web match destination-address WEB
set security policies from-zone untrust to-zone trust policy web match application junos-https
set security policies from-zone untrust to-zone trust policy web then permit
"""
SRX_ANY = """\
set security policies from-zone untrust to-zone trust policy all match source-address any
set security policies from-zone untrust to-zone trust policy all match destination-address any
set security policies from-zone untrust to-zone trust policy all match application any
set security policies from-zone untrust to-zone trust policy all then permit
"""
PANOS_INBOUND = """\
set network interface ethernet ethernet1/1 layer3 ip 198.51.100.2/24
set network interface ethernet ethernet1/2 layer3 ip 10.1.0.1/16
set zone untrust network layer3 ethernet1/1
set zone trust network layer3 ethernet1/2
"""
PANOS_ANY = """\
set rulebase security rules all from untrust
set rulebase security rules all to trust
set rulebase security rules all source any
set rulebase security rules all destination any
set rulebase security rules all application any
set rulebase security rules all service any
set rulebase security rules all action allow
"""
IOS_OUTSIDE = """\
hostname r1
ip access-list extended FROM-ISP
 permit tcp any host 10.1.1.10 eq 443
 deny ip any any
interface GigabitEthernet0/0
 ip address 198.51.100.2 255.255.255.252
 ip nat outside
 ip access-group FROM-ISP in
interface GigabitEthernet0/1
 ip address 10.1.0.1 255.255.0.0
 ip nat inside
"""

FORTIOS_INBOUND = """\
config system interface
    edit "wan1"
        set ip 198.51.100.2 255.255.255.0
    next
    edit "internal"
        set ip 10.1.0.1 255.255.0.0
    next
end
config firewall policy
end
"""
FORTIOS_ANY = """\
config firewall policy
    edit 1
        set name "everything-in"
        set srcintf "wan1"
        set dstintf "internal"
        set action accept
        set srcaddr "all"
        set dstaddr "all"
        set schedule "always"
        set service "ALL"
    next
end
"""
ROUTEROS_INBOUND = """\
/interface list
add name=WAN
add name=LAN
/interface list member
add interface=ether1 list=WAN
add interface=ether2 list=LAN
/ip firewall filter
add action=drop chain=forward in-interface-list=WAN
"""

ANY_ANY_AT_THE_TOP = {
    "fortinet": (FORTIOS_INBOUND, FORTIOS_INBOUND.replace("config firewall policy\nend\n", FORTIOS_ANY)),
    "mikrotik_routeros": (
        ROUTEROS_INBOUND,
        ROUTEROS_INBOUND.replace(
            "add action=drop chain=forward in-interface-list=WAN\n",
            "add action=accept chain=forward in-interface-list=WAN\n"
            "add action=drop chain=forward in-interface-list=WAN\n",
        ),
    ),
    "cisco_asa": (
        ASA,
        ASA.replace(
            "access-list OUTSIDE-IN extended permit tcp any host 10.1.0.10 eq https\n",
            "access-list OUTSIDE-IN extended permit ip any any\n"
            "access-list OUTSIDE-IN extended permit tcp any host 10.1.0.10 eq https\n",
        ),
    ),
    "juniper_junos": (SRX_INBOUND, SRX_INBOUND + SRX_ANY),
    "paloalto_panos": (PANOS_INBOUND, PANOS_INBOUND + PANOS_ANY),
    "cisco_ios": (IOS_OUTSIDE, IOS_OUTSIDE.replace(" permit tcp any host", " permit ip any any\n permit tcp any host")),
}


@pytest.mark.parametrize("platform", sorted(ANY_ANY_AT_THE_TOP))
def test_permit_any_any_from_the_internet_is_a_critical_inbound_exposure(platform: str) -> None:
    before, after = ANY_ANY_AT_THE_TOP[platform]
    change = only(changes(platform, before, after), "filter", category=WIDENED)
    assert change.categories == (INBOUND, WIDENED)
    assert "broad" in change.tags
    assert change.affected.internal.contains(AddressSet.parse("10.0.0.0/8"))
    assert any(reason.startswith("breadth:") and "every port" in reason for reason in change.reasons)
    assert severity(change) == "critical"


def test_one_https_server_exposed_is_high_not_critical() -> None:
    before = SRX_INBOUND.replace("set security policies", "#", 4).split("#")[0]
    change = only(changes("juniper_junos", before, SRX_INBOUND), "filter")
    assert change.categories == (INBOUND, WIDENED) and "broad" not in change.tags
    assert change.affected.internal.ranges() == ["10.1.1.10"] and change.affected.ports.text() == "443"
    assert severity(change) == "high"


def test_asa_outside_acl_for_one_host_every_port_is_broad() -> None:
    after = ASA.replace(
        "access-list OUTSIDE-IN extended permit tcp any host 10.1.0.10 eq https\n",
        "access-list OUTSIDE-IN extended permit ip any host 10.1.0.10\n",
    )
    change = only(changes("cisco_asa", ASA, after), "filter", category=WIDENED)
    assert INBOUND in change.categories and "broad" in change.tags


def test_permit_any_any_on_a_lan_list_is_no_inbound_exposure() -> None:
    after = IOS_LAN.replace(" permit tcp 10.1.0.0 0.0.255.255 any eq 80\n", " permit ip any any\n")
    change = [c for c in changes("cisco_ios", IOS_LAN, after) if c.family == "filter" and WIDENED in c.categories]
    assert change and all(INBOUND not in c.categories for c in change)


# -- item 9: NAT flow targets on both sides of the translation --------------------------------------


def assert_targets(change: RuleChange, real: str, inside_global: str) -> None:
    """The flow check looks for the real destination and the address inside clients connect to, and for
    the proxy port on both sides (3128 real, 8080 as the clients see it)."""
    targets = categories.egress_flow_targets(change, NETWORKS)
    assert targets is not None
    destinations, ports = targets
    assert destinations.contains(AddressSet.parse(real, inside_global))
    assert ports is not None and ports.contains(PortSet.of(3128, 8080))


def test_outside_static_nat_flow_targets_include_what_inside_clients_connect_to() -> None:
    before = "hostname r1\n"
    after = before + "ip nat outside source static tcp 45.77.10.5 3128 10.10.0.200 8080\n"
    change = only(changes("cisco_ios", before, after), "nat")
    assert EGRESS in change.categories
    assert_targets(change, "45.77.10.5", "10.10.0.200")


def test_junos_destination_pool_port_is_kept_and_both_ports_are_flow_targets() -> None:
    base = """\
set security zones security-zone trust interfaces ge-0/0/1.0
set security zones security-zone untrust interfaces ge-0/0/0.0
"""
    after = base + (
        "set security nat destination pool PROXY address 198.51.100.80/32 port 3128\n"
        "set security nat destination rule-set R from zone trust\n"
        "set security nat destination rule-set R rule r1 match destination-address 10.0.0.250/32\n"
        "set security nat destination rule-set R rule r1 match destination-port 8080\n"
        "set security nat destination rule-set R rule r1 match protocol tcp\n"
        "set security nat destination rule-set R rule r1 then destination-nat pool PROXY\n"
    )
    change = only(changes("juniper_junos", base, after), "nat")
    assert EGRESS in change.categories and change.affected.ports.text() == "3128"
    assert_targets(change, "198.51.100.80", "10.0.0.250")


# -- which side faces the Internet -------------------------------------------------------------------


def test_internet_side_is_recognised_as_operators_name_it() -> None:
    from cfgwatch.classify.context import DeviceView
    from cfgwatch.vendors.registry import get_parser

    ios = get_parser("cisco_ios").parse(
        "interface Gi0/0\n description Internet via ISP1\ninterface Gi0/1\n description uplink to core\n"
        "interface Gi0/2\n ip nat outside\n"
    )
    assert DeviceView.of(ios).outside == {"Gi0/0", "Gi0/2"}
    asa = get_parser("cisco_asa").parse(ASA)
    assert {"outside", "GigabitEthernet0/1"} <= DeviceView.of(asa).outside
    assert "inside" not in DeviceView.of(asa).outside
    assert networks.untrusted_name("UNTRUST-ZONE") and networks.untrusted_name("wan1")
    assert not networks.untrusted_name("next-hop") and not networks.untrusted_name("trust")


IPTABLES = """\
*nat
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.1.0.0/16 -o eth0 -j MASQUERADE
COMMIT
*filter
:FORWARD DROP [0:0]
-A FORWARD -i eth0 -o eth1 -d 10.1.1.10/32 -p tcp -m tcp --dport 443 -j ACCEPT
-A FORWARD -i eth1 -o eth0 -s 10.1.0.0/16 -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
"""


def test_iptables_interface_behind_the_masquerade_is_the_internet_side() -> None:
    after = IPTABLES.replace(":FORWARD DROP [0:0]\n", ":FORWARD DROP [0:0]\n-A FORWARD -i eth0 -j ACCEPT\n")
    change = only(changes("linux", IPTABLES, after), "filter", category=WIDENED)
    assert change.categories == (INBOUND, WIDENED) and "broad" in change.tags
    # the same accept arriving from the LAN side is no inbound exposure
    lan = IPTABLES.replace(":FORWARD DROP [0:0]\n", ":FORWARD DROP [0:0]\n-A FORWARD -i eth1 -j ACCEPT\n")
    assert INBOUND not in only(changes("linux", IPTABLES, lan), "filter", category=WIDENED).categories


IOS_ZBF = """\
hostname r1
ip access-list extended WEB-IN
 permit tcp any host 10.1.1.10 eq 443
ip access-list extended ALL-IN
 permit ip any any
zone security INSIDE
zone security OUTSIDE
class-map type inspect match-any CM-WEB
 match access-group name WEB-IN
policy-map type inspect PM-OUT-IN
 class type inspect CM-WEB
  inspect
 class class-default
  drop
interface GigabitEthernet0/2
 zone-member security INSIDE
interface GigabitEthernet0/3
 zone-member security OUTSIDE
"""
ZONE_PAIR = "zone-pair security OUT-TO-IN source OUTSIDE destination INSIDE\n service-policy type inspect PM-OUT-IN\n"


def test_ios_zone_pair_from_outside_opens_what_its_acls_permit() -> None:
    # IOS ZBF: no zone-pair, no traffic between the zones; the pair's inspect classes let their ACLs through
    added = only(changes("cisco_ios", IOS_ZBF, IOS_ZBF + ZONE_PAIR), "binding")
    assert added.categories == (INBOUND, WIDENED, BINDING)
    assert added.affected.internal.ranges() == ["10.1.1.10"] and added.affected.ports.text() == "443"
    wide = IOS_ZBF.replace(" match access-group name WEB-IN\n", " match access-group name ALL-IN\n") + ZONE_PAIR
    assert "broad" in only(changes("cisco_ios", IOS_ZBF, wide), "binding").tags
    removed = only(changes("cisco_ios", IOS_ZBF + ZONE_PAIR, IOS_ZBF), "binding")
    assert removed.categories == (NARROWED, BINDING)


def test_asa_global_acl_judges_both_directions() -> None:
    base = ASA.replace("access-group IN in interface inside\n", "access-group IN global\n")
    proxy = base.replace(
        "access-list IN extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
        "access-list IN extended permit tcp 10.1.0.0 255.255.255.0 host 198.51.100.9 eq 3128\n"
        "access-list IN extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
    )
    assert EGRESS in only(changes("cisco_asa", base, proxy), "filter", category=WIDENED).categories
    opened = base.replace(
        "access-list IN extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
        "access-list IN extended permit ip any any\n"
        "access-list IN extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
    )
    assert INBOUND in only(changes("cisco_asa", base, opened), "filter", category=WIDENED).categories


# -- property: unbinding widens exactly what binding narrows ------------------------------------------

_prefixes = st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "198.51.100.7", "192.168.0.0/24", "any"])
_services = st.sampled_from([Service(), tcp(443), tcp(3128), tcp((1000, 2000))])
_entries = st.lists(
    st.tuples(st.sampled_from([Action.PERMIT, Action.DENY]), _prefixes, _prefixes, _services), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(_entries)
def test_unbinding_widens_what_binding_narrows(entries: list[tuple[Action, str, str, Service]]) -> None:
    rules = tuple(
        FilterRule("L", action, Match(AddressSet.parse(src), AddressSet.parse(dst), (svc,)))
        for action, src, dst, svc in entries
    )
    bound = RuleSet("cisco_ios", filters=rules, bindings=(Binding(BindingKind.FILTER, "L", "Gi0/1", "in"),))
    unbound = replace(bound, bindings=())
    (removed,) = categories.classify_changes(diff_rulesets(bound, unbound, device="r"), NETWORKS, bound, unbound)
    (added,) = categories.classify_changes(diff_rulesets(unbound, bound, device="r"), NETWORKS, unbound, bound)
    assert (WIDENED in removed.categories) == (NARROWED in added.categories)
    assert NARROWED not in removed.categories and WIDENED not in added.categories
    assert removed.delta is not None and added.delta is not None
    assert removed.delta.widened_src() == added.delta.narrowed_src()
    assert removed.delta.widened_dst_ports() == added.delta.narrowed_dst_ports()
    permits_everything = any(
        rule.action is Action.PERMIT
        and rule.match.src.is_any
        and rule.match.dst.is_any
        and rule.match.services[0].is_any
        for rule in rules[:1]
    )
    if permits_everything:
        assert removed.categories == (BINDING,)


REDIRECTS = {
    "linux": (
        "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n",
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -i eth1 -d 10.0.0.250/32 -p tcp -m tcp --dport 8080 "
        "-j DNAT --to-destination 198.51.100.80:3128\nCOMMIT\n",
    ),
    "mikrotik_routeros": (
        "/ip firewall nat\n",
        "/ip firewall nat\nadd action=dst-nat chain=dstnat in-interface-list=LAN dst-address=10.0.0.250 "
        "dst-port=8080 protocol=tcp to-addresses=198.51.100.80 to-ports=3128\n",
    ),
}


@pytest.mark.parametrize("platform", sorted(REDIRECTS))
def test_redirect_flow_targets_on_packet_filters(platform: str) -> None:
    before, after = REDIRECTS[platform]
    change = only(changes(platform, before, after), "nat")
    assert EGRESS in change.categories
    assert_targets(change, "198.51.100.80", "10.0.0.250")


# -- opaque names: FQDN objects and sets whose contents the config does not hold ---------------------
_FGT_FQDN = """config firewall address
    edit "LAN"
        set subnet 10.10.0.0 255.255.0.0
    next
    edit "relay"
        set type fqdn
        set fqdn "relay.example.net"
    next
end
config firewall policy
    edit 3
        set srcintf "port2"
        set dstintf "port1"
        set srcaddr "LAN"
        set dstaddr "relay"
        set action accept
        set schedule "always"
        set service "HTTPS"
    next
end
"""
_IPT_SET = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -s 10.0.0.0/16 -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
"""


def test_permit_to_an_fqdn_on_a_proxy_port_is_an_egress_forward() -> None:
    """FortiOS resolves `type fqdn` addresses by DNS at run time: a new permit to one (or a permit whose
    service moves to a proxy port) matches Internet hosts the packet space cannot place; judged as widening."""
    added = only(changes("fortinet", "", _FGT_FQDN), "filter")
    assert added.categories == (EGRESS, WIDENED) and added.tags == () and not added.exact
    assert added.affected.public.fqdns == frozenset({"relay.example.net"})
    proxied = _FGT_FQDN.replace('"HTTPS"', '"SQUID"').replace(
        "config firewall policy",
        'config firewall service custom\n    edit "SQUID"\n'
        "        set tcp-portrange 3128\n    next\nend\nconfig firewall policy",
    )
    moved = only(changes("fortinet", _FGT_FQDN, proxied), "filter")
    assert EGRESS in moved.categories and moved.tags == ("proxy-port",)
    # the same FQDN permit, only commented: nothing new is permitted
    commented = _FGT_FQDN.replace('set service "HTTPS"', 'set service "HTTPS"\n        set comments "x"')
    assert not [c for c in changes("fortinet", _FGT_FQDN, commented) if c.family == "filter" and c.categories]
    # disabling it widens nothing
    disabled = _FGT_FQDN.replace('set service "HTTPS"', 'set service "HTTPS"\n        set status disable')
    assert WIDENED not in only(changes("fortinet", _FGT_FQDN, disabled), "filter").categories


def test_permit_to_an_unresolved_ipset_is_judged_as_widening() -> None:
    """iptables `-m set --match-set NAME dst`: the set's members live in ipset, not in iptables-save."""
    after = _IPT_SET.replace(
        "COMMIT",
        "-A FORWARD -s 10.0.0.0/16 -p tcp -m set --match-set proxies dst -m tcp --dport 1080 -j ACCEPT\nCOMMIT",
    )
    added = only(changes("linux", _IPT_SET, after), "filter")
    assert added.categories == (EGRESS, WIDENED) and added.tags == ("proxy-port",)
    assert added.affected.internal == AddressSet.parse("10.0.0.0/16")
    assert any("not in the config" in reason for reason in added.reasons)


def test_dnat_of_clients_in_an_unresolved_ipset_to_a_public_proxy_is_an_egress_forward() -> None:
    """The clients of `-m set --match-set clients src` are whatever the ipset holds at run time, internal
    hosts included: sending them to a public host on 8080 is judged an egress forward, kept by name."""
    before = "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"
    after = before.replace(
        "COMMIT",
        "-A PREROUTING -i eth1 -p tcp -m set --match-set clients src -m tcp --dport 443"
        " -j DNAT --to-destination 203.0.113.67:8080\nCOMMIT",
    )
    added = only(changes("linux", before, after), "nat")
    assert added.categories == (EGRESS, "nat-added") and added.tags == ("proxy-port",)
    assert added.affected.internal.fqdns == frozenset({"ipset:clients"})
    assert added.affected.public == AddressSet.parse("203.0.113.67")


_FQDN_VIP = """config firewall address
    edit "relay"
        set type fqdn
        set fqdn "proxy.example.net"
    next
end
config firewall vip
    edit "fq"
        set type fqdn
        set extip 10.10.255.90
        set extintf "lan"
        set mapped-addr "relay"
        set portforward enable
        set extport 80
        set mappedport 3128
    next
end
"""


def test_fqdn_vip_on_the_lan_side_is_an_egress_forward() -> None:
    """A FortiOS `type fqdn` VIP sends its clients to whatever the name resolves to at run time: on the LAN
    side, internal clients go to an Internet host on 3128; the same VIP on the WAN side publishes a server."""
    added = only(changes("fortinet", "", _FQDN_VIP), "nat")
    assert added.categories == (EGRESS, "nat-added") and added.tags == ("proxy-port",)
    assert added.affected.public.fqdns == frozenset({"proxy.example.net"})
    published = only(changes("fortinet", "", _FQDN_VIP.replace('"lan"', '"wan1"')), "nat")
    assert EGRESS not in published.categories


def test_narrowing_the_sources_of_an_fqdn_permit_widens_nothing() -> None:
    """Fewer sources or services toward the same FQDN permit nothing new (only more would)."""
    one_host = _FGT_FQDN.replace("set subnet 10.10.0.0 255.255.0.0", "set subnet 10.10.0.5 255.255.255.255")
    narrowed = [c for c in changes("fortinet", _FGT_FQDN, one_host) if c.family == "filter"]
    assert narrowed and all(WIDENED not in c.categories for c in narrowed)
    widened = [c for c in changes("fortinet", one_host, _FGT_FQDN) if c.family == "filter"]
    assert widened and all(EGRESS in c.categories for c in widened)


def test_narrowing_an_unnamed_dnat_is_no_new_egress_path() -> None:
    """An iptables DNAT has no name, so narrowing its clients (10/8 -> 10.0/16) is a removal plus an addition;
    the added rule's path (same interface, translation and ports, fewer clients) already existed, so it is
    no egress-forward. Widening it is one."""
    rule = "-A PREROUTING -i eth1 -s {src} -p tcp -m tcp --dport 80 -j DNAT --to-destination 203.0.113.66:3128\n"
    head = "*nat\n:PREROUTING ACCEPT [0:0]\n"
    wide, narrow = head + rule.format(src="10.0.0.0/8") + "COMMIT\n", head + rule.format(src="10.0.0.0/16") + "COMMIT\n"
    added = only(changes("linux", wide, narrow), "nat", "added")
    assert added.categories == ("nat-added",) and added.tags == ()
    assert any("no new egress path" in reason for reason in added.reasons)
    widened = only(changes("linux", narrow, wide), "nat", "added")
    assert widened.categories == (EGRESS, "nat-added") and widened.tags == ("proxy-port",)


# -- static NAT to an interface whose address the config does not hold (DHCP, PPP) -------------------
_DHCP_IOS = """\
hostname r1
interface GigabitEthernet0/0
 ip address {addr}
 ip nat outside
interface GigabitEthernet0/1
 ip address 10.0.0.1 255.255.255.0
 ip nat inside
"""
_DHCP_ASA = """\
ASA Version 9.8(4)
hostname fw
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address dhcp setroute
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.255.255.0
"""
_INTERFACE_FORWARDS = {
    "ios-dhcp": (
        "cisco_ios",
        _DHCP_IOS.format(addr="dhcp"),
        "ip nat inside source static tcp 10.0.0.5 80 interface GigabitEthernet0/0 80\n",
    ),
    "ios-negotiated": (
        "cisco_ios",
        _DHCP_IOS.format(addr="negotiated"),
        "ip nat inside source static tcp 10.0.0.5 80 interface GigabitEthernet0/0 80\n",
    ),
    "nxos-dhcp": (
        "cisco_nxos",
        _DHCP_IOS.format(addr="dhcp"),
        "ip nat inside source static tcp 10.0.0.5 80 interface GigabitEthernet0/0 80\n",
    ),
    "asa-dhcp": (
        "cisco_asa",
        _DHCP_ASA,
        "object network WEB\n host 10.0.0.5\n nat (inside,outside) static interface service tcp 80 80\n",
    ),
}


@pytest.mark.parametrize("case", sorted(_INTERFACE_FORWARDS))
def test_port_forward_to_a_dhcp_interface_is_an_inbound_exposure_not_egress(case: str) -> None:
    """IOS `ip nat inside source static tcp L P interface X P` / ASA `static interface service`: outside
    packets to X's own address (whatever DHCP gives it) on P reach the inside server; inside clients are
    not sent anywhere new. The interface is the mapped (outside) address, never an egress destination."""
    platform, before, line = _INTERFACE_FORWARDS[case]
    added = only(changes(platform, before, before + line), "nat")
    assert INBOUND in added.categories and EGRESS not in added.categories, added.categories
    assert added.affected.internal == AddressSet.parse("10.0.0.5")
    assert added.affected.ports == PortSet.of(80)
    assert added.tags == ()
