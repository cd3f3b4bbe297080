"""What classification needs to know about a device beyond one rule: which lists face the Internet, and
what a filter binding change does to the traffic through its interface.

A rule's category depends on where its list applies. `permit ip any any` on a LAN egress ACL is a broad
widening; the same line at the top of the ACL bound inbound on the Internet-facing interface (an ASA
`outside` ACL, an SRX/PAN-OS policy from `untrust`, a RouterOS chain `in-interface-list=WAN`) exposes the
inside to the Internet. The Internet side is recognised the way operators name it and vendors document it:

* ASA: the interface with security-level 0 (the documented default for nameif `outside`), or a nameif
  such as `outside`; `access-group NAME global` applies to every interface, outside included.
* IOS / IOS-XE / NX-OS / EOS: the interface with `ip nat outside`; zone-pairs whose source zone is an
  untrusted name (ZBF).
* Zone-based platforms (SRX, PAN-OS, FortiOS, RouterOS interface lists): a zone named `untrust`,
  `outside`, `internet`, `wan`, ... (`networks.untrusted_name`), or a zone holding such an interface.
* iptables / nftables / any platform: the interface a masquerade or interface PAT leaves through
  (`-o eth0 -j MASQUERADE`), and rules matching on arrival through it (`-i eth0`); interfaces named like
  the Internet side (FortiOS `wan1`, `ppp0`, IOS `Dialer1`).
* Any platform: an interface description naming the ISP, the Internet or the WAN, or an interface in a
  VRF / routing instance so named (`vrf forwarding INTERNET`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cfgwatch.classify.networks import untrusted_name
from cfgwatch.model import Binding, BindingKind, FilterRule, NatKind, RuleSet

INBOUND_DIRECTIONS = frozenset({"in", "input", "ingress", "inbound", "local-in", "zone-pair"})


@dataclass(frozen=True, slots=True)
class DeviceView:
    """Interfaces and zones on the Internet side of one device, and where each filter list is bound."""

    platform: str
    outside: frozenset[str]  # interface names and nameifs facing the Internet
    untrusted_zones: frozenset[str]
    bindings: tuple[Binding, ...]
    lists: dict[str, tuple[FilterRule, ...]] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(cls, ruleset: RuleSet) -> DeviceView:
        outside: set[str] = set()
        for interface in ruleset.interfaces:
            names = {interface.name} | ({interface.nameif} if interface.nameif else set())
            if (
                interface.security_level == 0
                or untrusted_name(interface.name)
                or untrusted_name(interface.nameif)
                or untrusted_name(interface.vrf)
                or untrusted_name(interface.zone)
                or _describes_uplink(interface.description)
            ):
                outside |= names
        for binding in ruleset.bindings:
            if binding.kind is BindingKind.NAT_ROLE and binding.name == "outside":
                outside.add(binding.interface)
        for nat in ruleset.nats:
            # masquerade / PAT to an interface's own address: that interface is where the Internet is
            if nat.enabled and nat.kind is NatKind.PAT:
                outside.update(name for name in nat.egress if name.lower() not in ("inside", "any"))
        zones: set[str] = set()
        for binding in ruleset.bindings:
            if binding.kind is BindingKind.ZONE and (untrusted_name(binding.name) or binding.interface in outside):
                zones.add(binding.name)
                outside.add(binding.interface)
        for interface in ruleset.interfaces:
            if interface.zone and untrusted_name(interface.zone):
                zones.add(interface.zone)
        return cls(ruleset.platform, frozenset(outside), frozenset(zones), ruleset.bindings, ruleset.filter_lists())

    def untrusted_zone(self, zone: str) -> bool:
        """A zone, interface list or (iptables/nftables `-i`) interface on the Internet side."""
        return zone in self.untrusted_zones or zone in self.outside or untrusted_name(zone)

    def filter_bindings(self, list_name: str) -> list[Binding]:
        return [b for b in self.bindings if b.kind is BindingKind.FILTER and _same_list(b.name, list_name)]

    def binding_faces_internet(self, binding: Binding) -> bool:
        """A filter binding that judges traffic arriving from the Internet."""
        direction = binding.direction.lower()
        if direction == "zone-pair":
            return self.untrusted_zone(binding.interface.split(">", 1)[0])
        if direction not in INBOUND_DIRECTIONS:
            return False
        if binding.interface == "global" and self.platform == "cisco_asa":
            return True
        return binding.interface in self.outside

    def faces_internet(self, rule: FilterRule) -> bool:
        """Whether a filter rule judges traffic that comes in from the Internet."""
        if any(self.untrusted_zone(zone) for zone in rule.from_zones if zone.lower() != "any"):
            return True
        return any(self.binding_faces_internet(binding) for binding in self.filter_bindings(rule.list_name))

    def only_internet(self, rule: FilterRule) -> bool:
        """Whether a filter rule judges nothing but traffic from the Internet (so its internal sources are
        spoofed, never an egress path): every from-zone untrusted, or every binding of its list an inbound
        one on the Internet side (an ASA `global` ACL judges every interface, the inside too)."""
        if rule.from_zones:
            return all(zone.lower() != "any" and self.untrusted_zone(zone) for zone in rule.from_zones)
        bindings = self.filter_bindings(rule.list_name)
        return bool(bindings) and all(self.binding_only_internet(binding) for binding in bindings)

    def binding_only_internet(self, binding: Binding) -> bool:
        return self.binding_faces_internet(binding) and binding.interface != "global"

    def rules_of(self, list_name: str) -> tuple[FilterRule, ...] | None:
        """The rules of a bound list (None when no list of that name exists)."""
        if list_name in self.lists:
            return self.lists[list_name]
        for name, rules in self.lists.items():
            if _same_list(list_name, name):
                return rules
        return None


def _same_list(binding_name: str, list_name: str) -> bool:
    """A binding names its list as the parser keys it, or by the bare name of a family-qualified key
    (`inet/NAME`, `ipv6 NAME`)."""
    if binding_name == list_name:
        return True
    return any(list_name.rsplit(separator, 1)[-1] == binding_name for separator in ("/", " ", ":"))


# not "uplink"/"upstream": LAN switches describe their uplinks to the core that way too
UPLINK_WORDS = frozenset({"internet", "isp", "wan", "outside"})


def _describes_uplink(description: str | None) -> bool:
    words = re.split(r"[^a-z0-9]+", (description or "").lower())
    return any(word in UPLINK_WORDS for word in words)


EMPTY_VIEW = DeviceView("", frozenset(), frozenset(), ())
