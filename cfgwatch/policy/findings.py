"""Findings: classified changes that nobody fully approved, with flags, severity and the ATT&CK mapping.

Severity comes from what the change enables (categories) raised by what is wrong with how it was made
(flags). An approved change is no finding unless its approval expired.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from cfgwatch.diff.keys import short_id
from cfgwatch.flows.figures import FlowFigures, FlowFlags
from cfgwatch.model import AddressSet, NatRule, to_json
from cfgwatch.model import changes as r
from cfgwatch.model.changes import RuleChange
from cfgwatch.policy.approved import Approval, find_approval
from cfgwatch.policy.attribution import Attribution
from cfgwatch.policy.settings import SEVERITIES, GroupPolicy, in_window
from cfgwatch.policy.tickets import Ticket, ticket_ids_in

ATTACK = {
    "technique": "T1090.002",
    "technique_name": "Proxy: External Proxy",
    "tactic": "TA0011",
    "detection_strategy": "DET0325",
    "analytic": "AN0926",
}

# flags (JSON contract)
UNAPPROVED = "unapproved"
UNTICKETED = "unticketed"
TICKET_NOT_APPROVED = "ticket-not-approved"
OUTSIDE_WINDOW = "outside-window"
UNEXPECTED_ADMIN = "unexpected-admin"
UNEXPECTED_DEVICE = "unexpected-device"
EXPIRED_APPROVAL = "expired-approval"
PRE_EXISTING = "pre-existing"  # found by the posture audit of a device's first snapshot, not made in a run
UNEXPECTED_DESTINATION = "unexpected-destination"  # approved, but toward destinations the approval did not expect
FLAGS = (
    UNAPPROVED,
    UNTICKETED,
    TICKET_NOT_APPROVED,
    OUTSIDE_WINDOW,
    UNEXPECTED_ADMIN,
    UNEXPECTED_DEVICE,
    EXPIRED_APPROVAL,
    PRE_EXISTING,
    UNEXPECTED_DESTINATION,
)
PATH_OPENING = frozenset({r.EGRESS_FORWARD, r.INBOUND_EXPOSURE})

_BASE_SEVERITY = {
    r.EGRESS_FORWARD: 3,
    r.INBOUND_EXPOSURE: 3,
    r.ACL_WIDENED: 2,
    r.NAT_ADDED: 2,
    r.NAT_MODIFIED: 2,
    r.BINDING_CHANGED: 2,
    r.OBJECT_CHANGED: 1,
    r.NAT_REMOVED: 1,
    r.ACL_NARROWED: 1,
}


@dataclass(frozen=True, slots=True)
class FlowResult:
    """The flow verdict slot of a finding (filled by the flow check).

    `figures` is None when the store was not asked (JSON `{}`), the bare `FlowFlags` when it was asked but
    measured nothing (the change affects no internal address), else the full `FlowFigures`.
    """

    verdict: str = "not-checked"  # traffic-confirmed | no-traffic | no-coverage | not-checked
    figures: FlowFigures | FlowFlags | None = None
    notes: tuple[str, ...] = ()

    @property
    def measured(self) -> FlowFigures | None:
        """The full figures, when the store measured something."""
        return self.figures if isinstance(self.figures, FlowFigures) else None

    def figures_json(self) -> dict[str, Any]:
        return self.figures.to_json() if self.figures is not None else {}

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "figures": self.figures_json(), "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowResult:
        raw = data["figures"]
        figures: FlowFigures | FlowFlags | None
        if not raw:
            figures = None
        elif tuple(raw) == FlowFlags.KEYS:
            figures = FlowFlags.from_json(raw)
        else:
            figures = FlowFigures.from_json(raw)
        return cls(data["verdict"], figures, tuple(data["notes"]))


@dataclass(frozen=True, slots=True)
class TicketStatus:
    referenced: tuple[str, ...]  # ticket ids found in the rule's comment or commit comment
    matched: str | None  # the ticket that covers the change, if any
    approved: bool
    how: str  # "rule-comment", "commit-comment", "device-window", "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "referenced": list(self.referenced),
            "matched": self.matched,
            "approved": self.approved,
            "how": self.how,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    device: str
    severity: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    flags: tuple[str, ...]
    change: RuleChange
    attribution: Attribution
    ticket: TicketStatus
    change_time: datetime | None  # attributed change time (syslog / config header), None when unknown
    approval: str | None = None  # id/ticket of the (expired) approval that matched
    flow: FlowResult = FlowResult()
    observed_between: tuple[datetime | None, datetime] | None = None  # previous run .. the run that saw it

    @property
    def window_start(self) -> datetime | None:
        """Where the post-change flow window starts: the change time, else the previous run's time; for a
        pre-existing rule (no previous run) the run that first saw it: does the path carry traffic now?"""
        if self.change_time is not None:
            return self.change_time
        if self.observed_between is None:
            return None
        return self.observed_between[0] or self.observed_between[1]

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device": self.device,
            "platform": self.change.platform,
            "severity": self.severity,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "flags": list(self.flags),
            "change": self.change.to_json(),
            "attribution": self.attribution.to_json(),
            "ticket": self.ticket.to_json(),
            "change_time": self.change_time.isoformat() if self.change_time else None,
            "observed_between": [
                self.observed_between[0].isoformat() if self.observed_between[0] else None,
                self.observed_between[1].isoformat(),
            ]
            if self.observed_between
            else None,
            "approval": self.approval,
            "flow": self.flow.to_json(),
            "attack": dict(ATTACK),
        }


def _strip_volatile(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip_volatile(v) for k, v in data.items() if k not in ("source", "sequence", "names")}
    if isinstance(data, list):
        return [_strip_volatile(item) for item in data]
    return data


def finding_id(change: RuleChange) -> str:
    """Same change on the same device -> same id in every run (line numbers and revisions excluded)."""
    meaning = json.dumps(
        [
            _strip_volatile(to_json(change.before)) if change.before is not None else None,
            _strip_volatile(to_json(change.after)) if change.after is not None else None,
        ],
        sort_keys=True,
    )
    return "CW-" + short_id(change.device, change.family, change.change.value, change.key, meaning)[:12]


@dataclass(frozen=True, slots=True)
class DeviceContext:
    """What policy knows about the device a change is on."""

    groups: tuple[str, ...]
    policies: tuple[GroupPolicy, ...]  # the group policies that apply (default first)


def severity_for(categories: Sequence[str], tags: Sequence[str], flags: Sequence[str], flow_verdict: str) -> str:
    level = max((_BASE_SEVERITY.get(category, 0) for category in categories), default=0)
    risky = r.EGRESS_FORWARD in categories or r.INBOUND_EXPOSURE in categories
    if r.PROXY_PORT in tags and risky:
        level += 1
    if r.BROAD in tags and r.INBOUND_EXPOSURE in categories:
        level += 1  # many inside addresses and/or ports reachable from the Internet (reasons say how many)
    serious_flags = {
        UNTICKETED,
        UNEXPECTED_ADMIN,
        OUTSIDE_WINDOW,
        UNEXPECTED_DEVICE,
        TICKET_NOT_APPROVED,
        UNEXPECTED_DESTINATION,
    } & set(flags)
    if risky and len(serious_flags) >= 2:
        level += 1
    if flow_verdict == "traffic-confirmed" and risky:
        level += 1
    return SEVERITIES[min(level, len(SEVERITIES) - 1)]


def evaluate(
    change: RuleChange,
    context: DeviceContext,
    attribution: Attribution,
    change_time: datetime | None,
    approvals: list[Approval],
    tickets: Sequence[Ticket],
    ticket_pattern: str,
    today: date,
    observed_between: tuple[datetime | None, datetime] | None = None,
    *,
    pre_existing: bool = False,
) -> Finding | None:
    """Turn one classified change into a finding, or None when it is approved or enables nothing.

    `pre_existing`: the change is a rule of a device's first snapshot (the posture audit); only the paths
    it opens (egress-forward, inbound-exposure) that no approval covers are findings, flagged
    `pre-existing`; how it was made (ticket, window, admin) is unknown, so it raises no such flags.
    An approval covers a change only toward the destinations it expects (`expected_destinations`): an
    approved change reaching elsewhere is a finding flagged `unexpected-destination`.
    """
    if not change.categories:
        return None
    if pre_existing and not PATH_OPENING & set(change.categories):
        return None
    identifier = finding_id(change)
    hit = find_approval(approvals, change, identifier, context.groups, today)
    flags: list[str] = []
    if hit is not None and not hit.expired:
        outside = unexpected_destinations(hit.approval, change)
        if outside is None:
            return None
        flags.append(UNEXPECTED_DESTINATION)
        expected = ", ".join(hit.approval.expected_destinations.prefixes)
        reached = ", ".join(outside.ranges() + sorted(outside.fqdns))
        name = hit.approval.id or hit.approval.ticket
        reason = f"approval {name} expects destinations {expected}; also reaches {reached}"
        change = replace(change, reasons=(*change.reasons, reason))
    elif hit is not None and hit.expired:
        flags.append(EXPIRED_APPROVAL)
    else:
        flags.append(UNAPPROVED)
    # without an attributed time, ticket windows are judged at the run that saw the change
    ticket_time = change_time or (observed_between[1] if observed_between else None)
    ticket = _ticket_status(change, attribution, ticket_time, tickets, ticket_pattern)
    if pre_existing:
        flags.append(PRE_EXISTING)
    elif UNEXPECTED_DESTINATION not in flags:
        flags.extend(_how_flags(change, context, attribution, change_time, ticket))
    ordered_flags = tuple(flag for flag in FLAGS if flag in flags)
    approval = (hit.approval.id or hit.approval.ticket) if hit is not None else None
    return _finding(change, ordered_flags, attribution, ticket, change_time, approval, observed_between)


def _finding(
    change: RuleChange,
    flags: tuple[str, ...],
    attribution: Attribution,
    ticket: TicketStatus,
    change_time: datetime | None,
    approval: str | None,
    observed_between: tuple[datetime | None, datetime] | None,
) -> Finding:
    """A finding before its flow check (severity from categories, tags and flags)."""
    return Finding(
        id=finding_id(change),
        device=change.device,
        severity=severity_for(change.categories, change.tags, flags, "not-checked"),
        categories=change.categories,
        tags=change.tags,
        flags=flags,
        change=change,
        attribution=attribution,
        ticket=ticket,
        change_time=change_time,
        approval=approval,
        observed_between=observed_between,
    )


def _how_flags(
    change: RuleChange,
    context: DeviceContext,
    attribution: Attribution,
    change_time: datetime | None,
    ticket: TicketStatus,
) -> list[str]:
    """What is wrong with how an unapproved change was made: ticket, change window, admin, device."""
    flags: list[str] = []
    if ticket.matched is None:
        flags.append(UNTICKETED if not ticket.referenced else TICKET_NOT_APPROVED)
    elif not ticket.approved:
        flags.append(TICKET_NOT_APPROVED)
    windows = [window for policy in context.policies for window in policy.windows()]
    if windows and change_time is not None and not in_window(change_time, windows):
        flags.append(OUTSIDE_WINDOW)
    admins = {admin.lower() for policy in context.policies for admin in policy.admins}
    if admins and attribution.user and attribution.user.lower() not in admins:
        flags.append(UNEXPECTED_ADMIN)
    nat_like = change.family == "nat" or (isinstance(change.rule, NatRule))
    if nat_like and any(not policy.nat_changes_allowed for policy in context.policies):
        flags.append(UNEXPECTED_DEVICE)
    return flags


def new_destinations(change: RuleChange) -> AddressSet:
    """Where a path-opening change leads: the public destinations of an egress path, the inside hosts an
    inbound exposure reaches; empty for other changes."""
    affected = change.affected
    if r.EGRESS_FORWARD in change.categories:
        return affected.public
    if r.INBOUND_EXPOSURE in change.categories:
        return affected.internal | affected.translated
    return AddressSet()


def unexpected_destinations(approval: Approval, change: RuleChange) -> AddressSet | None:
    """The new destinations outside an approval's expected prefixes, None when all are expected (or the
    approval expects no particular prefixes). FQDNs cannot be placed offline, so they never match.

    When the approval also expects ASNs or provider classes, a destination outside the prefixes may still
    be expected: that is decided on observed traffic (`destination_probe`), not here."""
    expected = approval.expected_destinations
    if not expected.prefixes or expected.asns or expected.provider_classes:
        return None
    outside = new_destinations(change) - AddressSet.parse(*expected.prefixes)
    return outside if not outside.is_empty else None


def destination_probe(
    change: RuleChange,
    context: DeviceContext,
    attribution: Attribution,
    change_time: datetime | None,
    approvals: list[Approval],
    today: date,
    observed_between: tuple[datetime | None, datetime] | None = None,
) -> tuple[Finding, Approval] | None:
    """An approved egress path whose approval expects ASNs or provider classes: a candidate finding
    (flag `unexpected-destination`) that only observed traffic can confirm (`confirm_destinations`)."""
    if r.EGRESS_FORWARD not in change.categories:
        return None
    identifier = finding_id(change)
    hit = find_approval(approvals, change, identifier, context.groups, today)
    if hit is None or hit.expired:
        return None
    expected = hit.approval.expected_destinations
    if not expected.asns and not expected.provider_classes:
        return None
    ticket = TicketStatus((), None, False, "none")
    approval = hit.approval.id or hit.approval.ticket
    flags = (UNEXPECTED_DESTINATION,)
    return _finding(change, flags, attribution, ticket, change_time, approval, observed_between), hit.approval


def confirm_destinations(finding: Finding, approval: Approval, flow: FlowResult) -> Finding | None:
    """The probe with its flow verdict when traffic went to a destination the approval does not expect
    (by prefix, ASN or provider class), else None (nothing observed, or all of it expected)."""
    figures = flow.measured
    if figures is None or flow.verdict != "traffic-confirmed":
        return None
    expected = approval.expected_destinations
    prefixes = AddressSet.parse(*expected.prefixes) if expected.prefixes else AddressSet()
    classes = {name.lower() for name in expected.provider_classes}
    outside = [
        item
        for item in figures.top_destinations
        if not (item.asn and item.asn in expected.asns)
        and not (item.provider_class and item.provider_class.lower() in classes)
        and not (item.sample_address and prefixes.contains_ip(item.sample_address))
    ]
    if not outside:
        return None
    seen = ", ".join(f"{item.prefix} (AS{item.asn or '?'} {item.provider_class or 'unclassed'})" for item in outside)
    reason = f"approval {finding.approval} expects other destinations; traffic went to {seen}"
    change = replace(finding.change, reasons=(*finding.change.reasons, reason))
    return with_flow(replace(finding, change=change), flow)


def with_flow(finding: Finding, flow: FlowResult) -> Finding:
    """Attach a flow verdict and recompute severity."""
    severity = severity_for(finding.categories, finding.tags, finding.flags, flow.verdict)
    return replace(finding, flow=flow, severity=severity)


def _ticket_status(
    change: RuleChange,
    attribution: Attribution,
    change_time: datetime | None,
    tickets: Sequence[Ticket],
    pattern: str,
) -> TicketStatus:
    by_id = {ticket.id.upper(): ticket for ticket in tickets}
    known = set(by_id)
    for how, text in (("rule-comment", change.comment), ("commit-comment", attribution.comment)):
        referenced = ticket_ids_in(text, pattern, known)
        if referenced:
            for ticket_id in referenced:
                ticket = by_id.get(ticket_id.upper())
                if ticket is not None:
                    approved = ticket.approved and (
                        change_time is None or ticket.window_contains(change_time) or ticket.start is None
                    )
                    return TicketStatus(tuple(referenced), ticket.id, approved, how)
            return TicketStatus(tuple(referenced), None, False, how)
    if change_time is not None:
        for ticket in tickets:
            if change.device in ticket.devices and ticket.approved and ticket.window_contains(change_time):
                return TicketStatus((), ticket.id, True, "device-window")
    return TicketStatus((), None, False, "none")
