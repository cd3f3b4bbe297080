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
from cfgwatch.model.rules import CONN_STATES


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
    """The same identity as `filter_key`, as a hashable tuple: matching 10,000-entry lists needs no text.

    Runs for every entry of both lists, so the common shapes take short paths: a single service is its
    own identity rather than a one-element frozenset (a set of services with one distinct member is
    written the same way, so equal service sets still give equal identities and unequal ones never do).
    """
    if rule.name:
        return ("filter", rule.list_name, "named", rule.name)
    match = rule.match
    services = match.services
    if len(services) == 1:
        service_identity = _service_identity(services[0])
    else:
        distinct = frozenset(_service_identity(service) for service in services)
        service_identity = next(iter(distinct)) if len(distinct) == 1 else distinct
    states = states_text(rule.states) if rule.options else ""
    identity = (_address_identity(match.src), _address_identity(match.dst), service_identity, states)
    return ("filter", rule.list_name, identity, rule.from_zones, rule.to_zones)


def states_text(states: frozenset[str]) -> str:
    """The connection states a rule is limited to ('' when it matches every state): part of its match."""
    if len(states) == len(CONN_STATES):
        return ""
    return ",".join(name for name in CONN_STATES if name in states) or "none"


def _address_text(addresses: AddressSet | None) -> str:
    if addresses is None:
        return "-"
    if addresses.names:
        return "obj:" + ",".join(sorted(addresses.names))
    if addresses.is_any:
        return "any"
    return ",".join(addresses.ranges() + sorted(addresses.fqdns)) or "none"


def _ports_text(ports: PortSet | None) -> str:
    if ports is None:
        return "-"
    return "obj:" + ",".join(sorted(ports.names)) if ports.names else ports.text()


def _services_text(services: tuple[Service, ...]) -> str:
    parts = sorted({"obj:" + ",".join(sorted(svc.names)) if svc.names else svc.text() for svc in services})
    return ";".join(parts)


def _match_text(match: Match) -> str:
    return f"src {_address_text(match.src)} dst {_address_text(match.dst)} svc {_services_text(match.services)}"


def filter_key(rule: FilterRule) -> str:
    """Readable, deterministic text of a filter rule's identity (recorded on changes, hashed into finding ids):
    `filter OUT name web` for a named rule, else the list, what it matches and its zones."""
    if rule.name:
        return f"filter {rule.list_name} name {rule.name}"
    zones = _sides(" from ", rule.from_zones, " to ", rule.to_zones)
    states = states_text(rule.states)
    return f"filter {rule.list_name} {_match_text(rule.match)}{' state ' + states if states else ''}{zones}"


def _sides(first: str, left: tuple[str, ...], second: str, right: tuple[str, ...]) -> str:
    """` from a,b to c`: the zones (or NAT ingress/egress) a rule is scoped to, where it has any."""
    return (first + ",".join(left) if left else "") + (second + ",".join(right) if right else "")


def nat_origin_key(rule: NatRule) -> str:
    """What a NAT rule applies to (its original side): pairs a re-pointed NAT as one modification."""
    body = ["nat-origin", rule.kind.value, list(rule.ingress), list(rule.egress), rule.context, match_key(rule.match)]
    return repr(body)


def nat_key(rule: NatRule) -> str:
    """Readable identity of a NAT rule: its name where it has one, else its whole mapping."""
    scope = "/".join(part for part in (rule.context, rule.section) if part)
    if rule.name:
        return f"nat {scope + ' ' if scope else ''}name {rule.name}"
    text = f"nat {rule.kind.value}{' ' + scope if scope else ''} {_match_text(rule.match)}"
    text += _sides(" in ", rule.ingress, " out ", rule.egress)
    if rule.translated_src is not None or rule.translated_src_ports is not None:
        text += f" to-src {_address_text(rule.translated_src)}:{_ports_text(rule.translated_src_ports)}"
    if rule.translated_dst is not None or rule.translated_dst_ports is not None:
        text += f" to-dst {_address_text(rule.translated_dst)}:{_ports_text(rule.translated_dst_ports)}"
    if rule.translate_to_interface:
        text += f" to-interface {rule.translate_to_interface}"
    return text


def binding_key(binding: Binding) -> str:
    text = f"binding {binding.kind.value} {binding.name} {binding.interface}"
    if binding.direction:
        text += f" {binding.direction}"
    if binding.context:
        text += f" context {binding.context}"
    return text


def object_key(obj: ObjectDef) -> str:
    return f"object {obj.context}/{obj.name}" if obj.context else f"object {obj.name}"


def short_id(*parts: str) -> str:
    """A short, stable digest used in finding ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]
