"""Approving findings, listing and revoking approvals: the API behind `cfgwatch approve` and `cfgwatch approvals`.

An approval is evidence, so it is only recorded for something real: a finding id the audit shows (or, with
`force`, an explicit pre-approval by match, recorded as such), under a ticket that exists in the ticket
sources and is approved (or, with `allow_unapproved_ticket`, recorded with a visible flag). Each records
who approved it, when (UTC), why and when the change was made, so an approval given after the change is
marked retroactive wherever it is shown. Every approve and revoke is a commit in the approval history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgwatch.errors import InputError
from cfgwatch.names import unknown_message
from cfgwatch.policy.approved import (
    FINDING_APPROVAL,
    PRE_APPROVAL,
    Approval,
    ApprovalMatch,
    append_approval,
    load_approved,
    update_approval,
)
from cfgwatch.policy.history import ApprovalHistory, HistoryCommit, Ident, default_approver, first_seen, touching
from cfgwatch.policy.tickets import Ticket

if TYPE_CHECKING:
    from cfgwatch.config import CfgwatchConfig
    from cfgwatch.project import Project

APPROVED_FILE = "approved.yaml"
FINDING_ID = re.compile(r"CW-[0-9a-f]{12}")


def approved_path(config: CfgwatchConfig) -> Path:
    return config.inventory_path / APPROVED_FILE


def approval_history(config: CfgwatchConfig) -> ApprovalHistory:
    return ApprovalHistory(config.resolve(config.policy.approvals_history))


def ticket_status(ticket: Ticket | None) -> str:
    """`scheduled/approved`, or `unknown ticket` when no ticket source has it."""
    if ticket is None:
        return "unknown ticket"
    return f"{ticket.state or '-'}/{ticket.approval or '-'}"


def find_ticket(tickets: list[Ticket], ticket_id: str) -> Ticket | None:
    wanted = ticket_id.strip().upper()
    return next((ticket for ticket in tickets if ticket.id.upper() == wanted), None)


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    """One approval as `approvals list/show` and the evidence bundle present it."""

    approval: Approval
    approved_by: str | None
    approved_at: datetime | None
    when_source: str  # recorded (by `approve`), history (first commit holding it), hand-edit (upper bound), unknown
    retroactive: bool | None  # approved after the change it covers (None: a time is unknown)
    ticket: Ticket | None
    history: tuple[HistoryCommit, ...] = ()
    today: date | None = None  # what "expired" is judged against (None: today)

    @property
    def upper_bound(self) -> bool:
        """The approval time is only known to be no later than `approved_at` (found in a hand edit)."""
        return self.when_source == "hand-edit"

    def retroactive_for(self, earliest: datetime | None, latest: datetime | None = None) -> bool | None:
        """Approved after a change made between `earliest` and `latest` (one time when known)? None: unknown."""
        latest = latest or earliest
        if self.approved_at is None or earliest is None or latest is None:
            return None
        if self.approved_at <= earliest:
            return False
        if self.upper_bound:
            return None
        return True if self.approved_at > latest else None

    @property
    def status(self) -> str:
        if self.approval.revoked is not None:
            return "revoked"
        if self.approval.expires is not None and self.approval.expires < (self.today or datetime.now(UTC).date()):
            return "expired"
        return "active"

    @property
    def flags(self) -> tuple[str, ...]:
        flags = []
        if self.retroactive:
            flags.append("retroactive")
        if self.approval.unapproved_ticket or (self.ticket is not None and not self.ticket.approved):
            flags.append("ticket-not-approved")
        if self.ticket is None:
            flags.append("ticket-unknown")
        if self.approval.mode == PRE_APPROVAL:
            flags.append("pre-approval")
        if any(commit.hand_edit for commit in self.history):
            flags.append("hand-edited")
        return tuple(flags)

    def to_json(self) -> dict[str, Any]:
        approval = self.approval
        return {
            "id": approval.label,
            "status": self.status,
            "mode": approval.mode,
            "match": approval.match.model_dump(mode="json", exclude_defaults=True),
            "ticket": approval.ticket,
            "ticket_status": ticket_status(self.ticket),
            "ticket_status_when_approved": approval.ticket_status,
            "ticket_approved": self.ticket.approved if self.ticket is not None else False,
            "owner": approval.owner,
            "reason": approval.reason,
            "expires": approval.expires.isoformat() if approval.expires else None,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "approved_at_source": self.when_source,
            "change_time": approval.change_time.isoformat() if approval.change_time else None,
            "retroactive": self.retroactive,
            "flags": list(self.flags),
            "revoked": approval.revoked.model_dump(mode="json") if approval.revoked else None,
            "history": [
                {"commit": c.id, "author": c.author, "time": c.time.isoformat(), "message": c.message}
                for c in self.history
            ],
        }


def record_of(
    approval: Approval, commits: list[HistoryCommit], tickets: list[Ticket], today: date | None = None
) -> ApprovalRecord:
    """An approval with its approver and time: as `approve` recorded it; from the first history commit holding
    it; or, when that commit is a hand edit, that commit's time as an upper bound (a time written into the
    file by hand is not trusted: anyone could date an approval back)."""
    approved_at, approved_by, source = approval.approved_at, approval.approved_by, "recorded"
    first = first_seen(commits, approval.id) if approval.id else None
    if first is not None and first.hand_edit:
        approved_at, source = first.time, "hand-edit"
        approved_by = f"{approved_by} (claimed in a hand edit)" if approved_by else first.author
    elif approved_at is None:
        if first is not None:
            approved_at, source = first.time, "history"
            approved_by = approved_by or first.author
        else:
            source = "unknown"
    changes = tuple(touching(commits, approval.id)) if approval.id else ()
    record = ApprovalRecord(
        approval, approved_by, approved_at, source, None, find_ticket(tickets, approval.ticket), changes, today
    )
    return replace(record, retroactive=record.retroactive_for(approval.change_time))


def list_approvals(project: Project) -> list[ApprovalRecord]:
    """Every approval in approved.yaml with approver, time, ticket status and history."""
    config = project.config
    commits = approval_history(config).commits()
    tickets = project.policy_inputs.tickets
    return [record_of(a, commits, tickets) for a in load_approved(approved_path(config))]


def show_approval(project: Project, approval_id: str) -> ApprovalRecord:
    records = list_approvals(project)
    for record in records:
        if record.approval.label == approval_id:
            return record
    raise InputError(unknown_message("approval", approval_id, [r.approval.label for r in records]))


def _unique_id(base: str, approvals: list[Approval]) -> str:
    taken = {approval.id for approval in approvals}
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequest:
    """What `cfgwatch approve` was asked to record."""

    finding_id: str | None
    ticket: str
    by: str | None = None
    owner: str | None = None
    reason: str = ""
    expires: date | None = None
    since: str | None = None
    force: bool = False
    allow_unapproved_ticket: bool = False
    match: dict[str, Any] | None = None


def approve(project: Project, request: ApprovalRequest, *, now: datetime | None = None) -> Approval:
    """Record one approval (see the module doc for what is refused); returns the entry written."""
    config = project.config
    finding_id, ticket, match, since = request.finding_id, request.ticket, request.match, request.since
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    path = approved_path(config)
    existing = load_approved(path)
    if finding_id is not None and not FINDING_ID.fullmatch(finding_id):
        raise InputError(f"{finding_id!r} is not a finding id (like CW-0123456789ab)")
    if match and finding_id is not None:
        raise InputError("give a finding id or match options (--device, --family, --dst, --ports), not both")
    if match and not request.force:
        raise InputError("approving by match is a pre-approval: add --force")
    if finding_id is None and not match:
        raise InputError("give the finding id to approve (from `cfgwatch audit`), or --force with match options")
    tickets = project.policy_inputs.tickets
    found_ticket = find_ticket(tickets, ticket)
    if found_ticket is None:
        raise InputError(unknown_message("ticket", ticket, [t.id for t in tickets], where=" in the ticket sources"))
    if not found_ticket.approved and not request.allow_unapproved_ticket:
        raise InputError(
            f"ticket {found_ticket.id} is not approved ({ticket_status(found_ticket)} in {found_ticket.source}); "
            "approve it in the change system, or pass --allow-unapproved-ticket to record it flagged"
        )
    mode, change_time = PRE_APPROVAL, None
    if finding_id is not None:
        findings = {finding.id: finding for finding in project.audit(since=since).findings}
        finding = findings.get(finding_id)
        if finding is not None:
            mode = FINDING_APPROVAL
            change_time = finding.change_time or (finding.observed_between[1] if finding.observed_between else None)
        elif not request.force:
            holder = next(
                (a for a in existing if a.revoked is None and a.match.finding == finding_id),
                None,
            )
            if holder is not None:
                raise InputError(f"finding {finding_id} is already approved by {holder.label}")
            scope = f"since {since}" if since else "of the last run (try --since 7d)"
            raise InputError(unknown_message("finding", finding_id, findings, where=f" in the audit {scope}"))
        match = {"finding": finding_id}
    assert match is not None
    ApprovalMatch(**match)  # validate the match before anything is written
    approver = Ident.named(request.by) if request.by else default_approver(config.base_dir)
    label = finding_id or "-".join([*match.get("devices", []), *([match["family"]] if match.get("family") else [])])
    base = f"{'approve' if mode == FINDING_APPROVAL else 'pre'}-{label or found_ticket.id}"
    entry: dict[str, Any] = {
        "id": _unique_id(re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip("-"), existing),
        "mode": mode,
        "match": match,
        "ticket": found_ticket.id,
        "ticket_status": ticket_status(found_ticket),
        "owner": request.owner or approver.name,
        "reason": request.reason or f"approved with {found_ticket.id}",
        "approved_by": approver.name,
        "approved_at": now.isoformat(),
    }
    if change_time is not None:
        entry["change_time"] = change_time.astimezone(UTC).isoformat()
    if not found_ticket.approved:
        entry["unapproved_ticket"] = True
    if request.expires is not None:
        entry["expires"] = request.expires.isoformat()
    Approval(**entry)
    history = approval_history(config)
    history.record_hand_edits(path, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    append_approval(path, entry)
    what = finding_id or f"match {match}"
    history.commit(path, approver, now, f"approve {what} with {found_ticket.id} ({mode}): {entry['reason']}")
    return Approval(**entry)


def revoke(
    project: Project, approval_id: str, *, by: str | None = None, reason: str = "", now: datetime | None = None
) -> Approval:
    """Withdraw an approval: the entry stays (with who/when/why revoked) and the next audit shows the finding."""
    config = project.config
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    path = approved_path(config)
    approvals = load_approved(path)
    target = next((approval for approval in approvals if approval.id == approval_id), None)
    if target is None:
        raise InputError(unknown_message("approval", approval_id, [a.id for a in approvals if a.id]))
    if target.revoked is not None:
        raise InputError(f"approval {approval_id} was already revoked by {target.revoked.by} at {target.revoked.at}")
    approver = Ident.named(by) if by else default_approver(config.base_dir)
    history = approval_history(config)
    history.record_hand_edits(path, now)
    revoked = {"by": approver.name, "at": now.isoformat(), "reason": reason}
    update_approval(path, approval_id, {"revoked": revoked})
    history.commit(path, approver, now, f"revoke {approval_id}: {reason or 'no reason given'}")
    return next(approval for approval in load_approved(path) if approval.id == approval_id)
