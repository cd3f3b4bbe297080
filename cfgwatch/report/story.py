"""The story of a finding: one sentence of what the change does and what traffic did, then why this severity.

Built from the finding's data only (the rule, its categories, affected addresses, flow figures, flags), so
every category and platform gets a sentence without templates tuned to one example:

    Inside clients connecting to 10.255.0.80:8080 are now relayed to 198.51.100.80:3128 (AS20473 Vultr,
    hosting). After the change 10.10.0.23 sent 28,800 packets there and 5% came back; none in the 7 days before.

Every report format prints the same `Story.sentence` and `Story.why` lines.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from cfgwatch.flows.figures import Destination, FlowFigures
from cfgwatch.model import AddressSet, Binding, FilterRule, NatRule, ObjectDef, PortSet
from cfgwatch.model import changes as r
from cfgwatch.model.intervals import size as iv_size
from cfgwatch.policy.findings import Finding, severity_for

# flag -> what it means, as the "why" lines say it
FLAG_MEANING = {
    "unapproved": "no approval in approved.yaml covers it",
    "expired-approval": "the approval that covered it has expired",
    "unticketed": "no change ticket is referenced",
    "ticket-not-approved": "the referenced ticket is not approved for this time",
    "outside-window": "made outside the device's change window",
    "unexpected-admin": "made by an admin not listed for this device",
    "unexpected-device": "NAT changes are not expected on this device",
    "pre-existing": "already in the device's first snapshot (posture audit): who made it and when is unknown",
    "unexpected-destination": "approved, but it reaches destinations the approval did not expect",
}
_NOT_PROCESS = ("unapproved", "expired-approval", "pre-existing")
CATEGORY_MEANING = {
    r.EGRESS_FORWARD: "inside hosts gain a path to an outside address",
    r.INBOUND_EXPOSURE: "an outside address now reaches an inside host",
    r.ACL_WIDENED: "the filter permits traffic it did not before",
    r.ACL_NARROWED: "the filter permits less than before",
    r.NAT_ADDED: "a new translation",
    r.NAT_REMOVED: "a translation was removed",
    r.NAT_MODIFIED: "a translation changed",
    r.BINDING_CHANGED: "where a filter or NAT applies changed",
    r.OBJECT_CHANGED: "an object used by rules changed meaning",
}


@dataclass(frozen=True, slots=True)
class Story:
    """What a reviewer reads first: the sentence, then why this severity."""

    sentence: str
    why: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "why": list(self.why)}


def _hosts(addresses: AddressSet | None, fallback: str = "any address") -> str:
    if addresses is None or addresses.is_empty:
        return fallback
    if addresses.is_any or (not addresses.v6 and addresses.v4 == ((0, 2**32 - 1),)):
        return "any address"
    shown = addresses.ranges() + sorted(addresses.fqdns)
    text = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
    names = [name for name in addresses.names if name]
    return f"{'/'.join(names)} ({text})" if names and text else (text or "/".join(names))


def _ports(ports: PortSet | None) -> str:
    if ports is None or ports.is_empty or ports.is_any:
        return ""
    return ports.text()


def _at(address: str, ports: str) -> str:
    if not ports:
        return address
    return f"{address}:{ports}" if "," not in ports and " " not in address else f"{address} port {ports}"


def _who(destination: Destination | None) -> str:
    if destination is None or not (destination.asn or destination.org or destination.provider_class):
        return ""
    parts = [" ".join(part for part in (f"AS{destination.asn}" if destination.asn else "", destination.org) if part)]
    if destination.provider_class:
        parts.append(destination.provider_class)
    return " (" + ", ".join(part for part in parts if part) + ")"


def _src_ports(rule: NatRule) -> PortSet | None:
    """The source ports the rule's match names (None when any)."""
    specific = [service.src_ports for service in rule.match.services if not service.src_ports.is_any]
    return specific[0] if len(specific) == 1 else None


def _inbound(rule: NatRule, finding: Finding) -> bool:
    """Does the translation lead from outside to an inside host? Categories say so; for a removal (no category
    says it any more) an inside (private) translated destination does."""
    if r.INBOUND_EXPOSURE in finding.categories:
        return True
    if r.EGRESS_FORWARD in finding.categories or rule.translated_dst is None:
        return False
    first = rule.translated_dst.ranges()[:1]
    try:
        return bool(first) and ipaddress.ip_network(first[0].split("-")[0], strict=False).is_private
    except ValueError:
        return False


def _nat_sentence(rule: NatRule, finding: Finding, lead: Destination | None) -> str:
    removed = finding.change.change is r.ChangeType.REMOVED
    are = "are no longer" if removed else "are now"
    is_ = "is no longer" if removed else "is now"
    match_ports = _ports(rule.match.dst_ports())
    src_ports = _ports(_src_ports(rule))
    if rule.translated_dst is None and rule.bidirectional and rule.translated_src is not None:
        inside_facing = _at(_hosts(rule.translated_src), _ports(rule.translated_src_ports) or src_ports)
        real = _at(_hosts(rule.match.src), src_ports)
        if r.EGRESS_FORWARD in finding.categories:
            # `outside source static`: inside clients reach the outside host through its inside-facing address
            return f"Inside clients connecting to {inside_facing} {are} relayed to {real}{_who(lead)}"
        # `inside source static` (1:1 both ways): the inside host answers on its outside address
        return f"Inside host {real} {is_} reachable from outside as {inside_facing}"
    if rule.translated_dst is not None:
        target = _at(_hosts(rule.translated_dst), _ports(rule.translated_dst_ports) or match_ports)
        original = _at(_hosts(rule.match.dst), match_ports)
        if _inbound(rule, finding):
            return f"Outside clients connecting to {original} {are} forwarded to inside host {target}"
        return f"Inside clients connecting to {original} {are} relayed to {target}{_who(lead)}"
    if rule.translated_src is not None or rule.translate_to_interface:
        to = f"interface {rule.translate_to_interface}'s address"
        if rule.translated_src is not None:
            to = _hosts(rule.translated_src)
        return f"Traffic from {_hosts(rule.match.src)} to {_hosts(rule.match.dst)} {is_} sent out as {to}"
    return f"A {rule.kind.value} translation of {_hosts(rule.match.src)} -> {_hosts(rule.match.dst)} {is_} in place"


def _filter_sentence(rule: FilterRule, finding: Finding) -> str:
    change = finding.change
    services = ", ".join(str(service) for service in rule.match.services)
    where = f"rule {rule.name} of {rule.list_name}" if rule.name else f"list {rule.list_name}"
    if rule.from_zones or rule.to_zones:
        where += f" ({','.join(rule.from_zones) or 'any'} -> {','.join(rule.to_zones) or 'any'})"
    affected = change.affected
    action = "permitted" if rule.action.allows else f"{rule.action.value}-listed"
    if r.EGRESS_FORWARD in finding.categories or r.INBOUND_EXPOSURE in finding.categories:
        egress = r.EGRESS_FORWARD in finding.categories
        source = _hosts(affected.internal if egress else rule.match.src)
        target = _hosts(affected.public if egress else affected.internal)
        if egress and iv_size(affected.public.v4) >= 2**31:  # the public space minus a few holes: say so
            target = "any outside address"
        return f"{source} can now reach {_at(target, _ports(affected.ports))} through {where}"
    between = f"{services} from {_hosts(rule.match.src)} to {_hosts(rule.match.dst)}"
    if change.change is r.ChangeType.REMOVED:
        entry = where if rule.name else f"the entry of {where}"
        return f"{_first_up(entry)} that {action} {between} was removed"
    if r.ACL_WIDENED in finding.categories:
        return f"{_first_up(where)} now lets through {between}"
    if r.ACL_NARROWED in finding.categories:
        return f"{_first_up(where)} now lets less through: {rule.action.value} {between}"
    return f"{_first_up(where)} now has a {rule.action.value} of {between}"


def _first_up(text: str) -> str:
    """Only the first letter raised: names and addresses keep their case."""
    return text[:1].upper() + text[1:]


def _plain(obj: ObjectDef) -> str:
    if obj.addresses is not None:
        return _hosts(replace(obj.addresses, names=()))
    if obj.services:
        return ", ".join(str(service) for service in obj.services)
    return ", ".join(obj.members) or "nothing"


def _what(finding: Finding, lead: Destination | None) -> str:
    change = finding.change
    rule = change.rule
    if isinstance(rule, NatRule):
        return _nat_sentence(rule, finding, lead)
    if isinstance(rule, FilterRule):
        return _filter_sentence(rule, finding)
    if isinstance(rule, Binding):
        verb = {"added": "now applies", "removed": "no longer applies", "modified": "changed"}[change.change.value]
        direction = f" {rule.direction}" if rule.direction else ""
        return f"{_first_up(rule.kind.value)} {rule.name} {verb} on {rule.interface}{direction}"
    assert isinstance(rule, ObjectDef)
    if isinstance(change.before, ObjectDef) and change.change is r.ChangeType.MODIFIED:
        return f"Object {rule.name} now means {_plain(rule)} (was {_plain(change.before)})"
    return f"Object {rule.name} was {change.change.value}"


def _lead(figures: FlowFigures | None) -> Destination | None:
    if figures is None or not figures.top_destinations:
        return None
    return max(figures.top_destinations, key=lambda item: item.packets)


def _days(figures: FlowFigures) -> str:
    window = figures.baseline_window
    hours = (window.end - window.start).total_seconds() / 3600
    return f"{hours / 24:g} days" if hours >= 48 else f"{hours:g} hours"


def _traffic(finding: Finding, lead: Destination | None) -> str:
    flow = finding.flow
    figures = flow.measured
    if flow.verdict == "traffic-confirmed" and figures is not None:
        internal = finding.change.affected.internal
        sender = (
            internal.ranges()[0]
            if internal.count() == 1
            else f"{figures.distinct_sources:,} inside host{'s' if figures.distinct_sources != 1 else ''}"
        )
        there = "there" if lead is not None else "on that path"
        ratio = figures.return_ratio
        returned = f"{ratio:.0%} came back" if ratio is not None else "none came back"
        baseline = (
            f"none in the {_days(figures)} before"
            if figures.baseline_packets == 0
            else f"{figures.baseline_packets:,} in the {_days(figures)} before"
        )
        return f"After the change {sender} sent {figures.packets:,} packets {there} and {returned}; {baseline}."
    if flow.verdict == "no-traffic" and figures is not None:
        before = f"{figures.baseline_packets:,} packets in the {_days(figures)} before"
        return f"No traffic took the new path after the change ({before})."
    if flow.verdict == "no-traffic":
        return "No traffic took the new path after the change."
    if flow.verdict == "no-coverage":
        return "No flow records cover this device and time, so whether traffic used it is unknown."
    return f"Traffic was not checked{': ' + flow.notes[0] if flow.notes else ''}."


def why(finding: Finding) -> tuple[str, ...]:
    """The steps that gave this severity: categories, then each tag, flag set and flow verdict that raised it."""
    categories, tags, flags = finding.categories, finding.tags, finding.flags
    base = severity_for(categories, (), (), "not-checked")
    lines = [
        f"{base}: {', '.join(categories)} ("
        + "; ".join(CATEGORY_MEANING.get(category, category) for category in categories)
        + ")"
    ]
    with_tags = severity_for(categories, tags, (), "not-checked")
    if with_tags != base:
        port = _ports(finding.change.affected.ports) or "a port"
        lines.append(f"raised to {with_tags}: {', '.join(tags)} ({port} is a proxy port)")
    with_flags = severity_for(categories, tags, flags, "not-checked")
    if with_flags != with_tags:
        process = [flag for flag in flags if flag not in _NOT_PROCESS]
        lines.append(f"raised to {with_flags}: {len(process)} process flags at once ({', '.join(process)})")
    final = severity_for(categories, tags, flags, finding.flow.verdict)
    if final != with_flags:
        lines.append(f"raised to {final}: flow check {finding.flow.verdict}")
    if final != finding.severity:  # severity rules changed since: say what the finding itself carries
        lines.append(f"severity recorded: {finding.severity}")
    lines.extend(f"{flag}: {FLAG_MEANING.get(flag, flag)}" for flag in flags)
    lines.extend(f"diff: {reason}" for reason in finding.change.reasons)
    return tuple(lines)


def story(finding: Finding) -> Story:
    """The finding's sentence and why-lines."""
    lead = _lead(finding.flow.measured)
    what = _first_up(_what(finding, lead).rstrip("."))
    if "pre-existing" in finding.flags:  # the posture audit: nothing changed "now", the rule was already there
        for now, always in ((" are now ", " are "), (" is now ", " is "), (" can now ", " can "), (" now ", " ")):
            what = what.replace(now, always)
        what += " (already so in the first snapshot)"
    return Story(f"{what}. {_traffic(finding, lead)}", why(finding))
