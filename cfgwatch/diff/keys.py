"""Stable identity keys: how a rule is recognised across two versions of a config.

An ACL entry is keyed by its list and what it matches (object names where the config used objects,
values otherwise), never by its sequence number; a named rule (policy, term, VIP, object NAT) by its
name; an unnamed NAT by its mapping. Using object names in keys is what lets a change of an object's
meaning show up as "modified" on every rule that uses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any

from cfgwatch.model import AddressSet, Binding, FilterRule, Match, NatRule, ObjectDef, PortSet, Service


def address_key(addresses: AddressSet | None) -> Any:
    if addresses is None:
        return None
    if addresses.names:
        return ["names", sorted(addresses.names)]
    # raw intervals: exact and much cheaper than CIDR text (keys are computed for every rule)
    return ["values", addresses.v4, addresses.v6, sorted(addresses.fqdns)]


def port_key(ports: PortSet | None) -> Any:
    if ports is None:
        return None
    return ["names", sorted(ports.names)] if ports.names else ports.ranges


def service_key(service: Service) -> Any:
    if service.names:
        return ["names", sorted(service.names)]
    return [service.protocol, service.src_ports.ranges, service.dst_ports.ranges, service.icmp_type, service.icmp_code]


def match_key(match: Match) -> Any:
    services = sorted(repr(service_key(service)) for service in match.services)
    return [address_key(match.src), address_key(match.dst), services]


def _address_identity(addresses: AddressSet) -> Hashable:
    if addresses.names:
        return ("names", tuple(sorted(addresses.names)))
    return ("values", addresses.v4, addresses.v6, addresses.fqdns)


def _service_identity(service: Service) -> Hashable:
    if service.names:
        return ("names", tuple(sorted(service.names)))
    return (service.protocol, service.src_ports.ranges, service.dst_ports.ranges, service.icmp_type, service.icmp_code)


def filter_identity(rule: FilterRule) -> Hashable:
    """The same identity as `filter_key`, as a hashable tuple: matching 10,000-entry lists needs no text."""
    if rule.name:
        return ("filter", rule.list_name, "named", rule.name)
    match = rule.match
    services = frozenset(_service_identity(service) for service in match.services)
    identity = (_address_identity(match.src), _address_identity(match.dst), services)
    return ("filter", rule.list_name, identity, rule.from_zones, rule.to_zones)


def filter_key(rule: FilterRule) -> str:
    """Deterministic text of a filter rule's identity (recorded on changes and hashed into finding ids)."""
    if rule.name:
        body: Any = ["filter", rule.list_name, "named", rule.name]
    else:
        body = ["filter", rule.list_name, match_key(rule.match), list(rule.from_zones), list(rule.to_zones)]
    return repr(body)


def nat_origin_key(rule: NatRule) -> str:
    """What a NAT rule applies to (its original side): pairs a re-pointed NAT as one modification."""
    body = ["nat-origin", rule.kind.value, list(rule.ingress), list(rule.egress), rule.context, match_key(rule.match)]
    return repr(body)


def nat_key(rule: NatRule) -> str:
    if rule.name:
        body: Any = ["nat", "named", rule.section, rule.context, rule.name]
    else:
        body = [
            "nat",
            rule.kind.value,
            list(rule.ingress),
            list(rule.egress),
            rule.context,
            match_key(rule.match),
            address_key(rule.translated_src),
            address_key(rule.translated_dst),
            port_key(rule.translated_src_ports),
            port_key(rule.translated_dst_ports),
            rule.translate_to_interface,
        ]
    return repr(body)


def binding_key(binding: Binding) -> str:
    body = ["binding", binding.kind.value, binding.name, binding.interface, binding.direction, binding.context]
    return repr(body)


def object_key(obj: ObjectDef) -> str:
    return repr(["object", obj.context, obj.name])


def short_id(*parts: str) -> str:
    """A short, stable digest used in finding ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]
