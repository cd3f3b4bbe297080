"""Collecting a period's evidence: audit the runs in range and record every change's decision (finding,
approved, no effect), the approvals and tickets used, the runs and journal entries, and the redacted config."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cfgwatch.approvals import approved_path, record_of, ticket_status
from cfgwatch.audit import (
    AuditResult,
    ChangeReview,
    FlowChecker,
    PolicyInputs,
    device_context,
    load_policy_inputs,
    run_audit,
    run_pairs_between,
)
from cfgwatch.config import CfgwatchConfig, config_path
from cfgwatch.errors import InputError
from cfgwatch.inventory import Inventory
from cfgwatch.policy.approved import find_approval
from cfgwatch.policy.findings import evaluate, finding_id
from cfgwatch.policy.history import HistoryCommit
from cfgwatch.policy.tickets import Ticket
from cfgwatch.store import JournalEntry, RunInfo, SnapshotStore
from cfgwatch.yamlio import load_yaml

if TYPE_CHECKING:
    from cfgwatch.classify.networks import Networks

REDACTED = "<redacted>"

# Keys whose values are secret whatever they hold, and values that look like secrets under any key.
_SECRET_KEY = re.compile(
    r"pass|secret|token|credential|auth|community|cookie|private|session|bearer|api[_-]?key|webhook|(^|_)key$",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_TOKEN_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_\-.]{32,}$")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything a bundle is made of, gathered once; rendering it is a pure function."""

    start: datetime
    end: datetime
    audit: AuditResult
    decisions: tuple[dict[str, Any], ...]  # one per change (changes.json)
    approvals: tuple[dict[str, Any], ...]
    tickets: tuple[dict[str, Any], ...]
    runs: tuple[RunInfo, ...]  # snapshot commits in range, oldest first
    base_commit: str | None  # the commit the first change is compared against
    journal: tuple[JournalEntry, ...]  # collection runs in range (empty when the project has no journal)
    config_text: str  # redacted cfgwatch.yaml
    history: tuple[dict[str, Any], ...] = ()  # approval history commits with their raw objects, oldest first
    history_pending: bool = False  # approved.yaml differs from the last history commit (an unrecorded edit)

    def approval_counts(self) -> dict[str, int]:
        """Approved changes split by when they were approved: in advance, after the fact, time unknown."""
        counts = {"approved_in_advance": 0, "approved_after_the_fact": 0, "approved_time_unknown": 0}
        for entry in self.decisions:
            if entry["decision"] != "approved" or not entry.get("approval"):
                continue
            retroactive = entry["approval"].get("retroactive")
            key = {True: "approved_after_the_fact", False: "approved_in_advance"}.get(retroactive)
            counts[key or "approved_time_unknown"] += 1
        return counts

    def range_json(self) -> dict[str, str]:
        """The period as every bundle file records it."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _secret_key(key: str) -> bool:
    return bool(key) and bool(_SECRET_KEY.search(key)) and not key.endswith("_env")  # *_env names a variable


def redact(value: Any, key: str = "", *, inside_secret: bool = False) -> Any:
    """A copy of parsed YAML with secret-looking keys and values replaced by <redacted>.

    A key like `password` or `webhook` makes every string below it secret (a webhook's `url` carries its token).
    """
    secret = inside_secret or _secret_key(key)
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k), inside_secret=secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, key, inside_secret=secret) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if secret:
        return REDACTED
    text = str(value)
    if _TOKEN_LIKE.match(text):
        return REDACTED
    return _URL_USERINFO.sub(lambda match: f"{match.group('scheme')}{REDACTED}@", text)


def redacted_config(config: CfgwatchConfig, path: Path | None = None) -> str:
    """cfgwatch.yaml with secrets removed (comments dropped, keys sorted); the defaults when there is none."""
    source = path or config_path()
    if source.exists():
        raw = load_yaml(source, what="the config for the evidence bundle", error=InputError) or {}
        header = "# cfgwatch.yaml as used (secret-looking values replaced by <redacted>)\n"
    else:
        raw = config.model_dump(mode="json", exclude={"base_dir"})
        header = "# no cfgwatch.yaml: the built-in defaults were used\n"
    return header + yaml.safe_dump(redact(raw), sort_keys=True, allow_unicode=True)


def _ticket_json(ticket: Ticket, base: Path) -> dict[str, Any]:
    source = ticket.source
    try:
        source = str(Path(source).resolve().relative_to(base)) if source else source
    except ValueError:
        source = Path(source).name
    return {
        "id": ticket.id,
        "state": ticket.state,
        "approval": ticket.approval,
        "approved": ticket.approved,
        "start": ticket.start.isoformat() if ticket.start else None,
        "end": ticket.end.isoformat() if ticket.end else None,
        "devices": list(ticket.devices),
        "description": ticket.description,
        "source": source,
    }


def _review_json(review: ChangeReview) -> dict[str, Any]:
    return {
        "device": review.change.device,
        "family": review.change.family,
        "key": review.change.key,
        "finding_id": review.finding_id,
        "change_time": review.change_time.isoformat() if review.change_time else None,
        "run_before": review.pair.before.commit,
        "run_after": review.pair.after.commit,
        "attribution": review.attribution.to_json(),
    }


def gather(
    store: SnapshotStore,
    config: CfgwatchConfig,
    inventory: Inventory | None,
    start: datetime,
    end: datetime,
    *,
    journal: Sequence[JournalEntry] = (),
    flow_checker: FlowChecker | None = None,
    config_file: Path | None = None,
    inputs: PolicyInputs | None = None,
    networks: Networks | None = None,
    history: Sequence[HistoryCommit] = (),
) -> Evidence:
    """Audit the runs whose time lies in [start, end] and collect what the bundle records.

    Approvals are judged as of the end of the range, so the same range gives the same evidence later.
    `inputs` and `networks` let a caller that already loaded them (the Project) reuse them.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("the export range needs timezone-aware times")
    if end < start:
        raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    today = end.date()
    commits = list(history)
    pairs = run_pairs_between(store, start, end)
    inputs = inputs if inputs is not None else load_policy_inputs(config)
    result = run_audit(
        store, config, inventory, today=today, flow_checker=flow_checker, pairs=pairs, inputs=inputs, networks=networks
    )
    findings = {finding.id: finding for finding in result.findings}
    decisions: list[dict[str, Any]] = []
    used_approvals: dict[str, dict[str, Any]] = {}
    used_tickets: set[str] = set()
    for review in result.reviews:
        change = review.change
        entry = _review_json(review)
        entry["change"] = change.to_json()
        approval: dict[str, Any] | None = None
        ticket: dict[str, Any] | None = None
        if review.finding_id is not None and review.finding_id in findings:
            decision = "finding"
            finding = findings[review.finding_id]
            ticket = finding.ticket.to_json()
            if finding.approval:
                approval = {"id": finding.approval, "expired": True}
        elif change.categories:
            decision = "approved"
            context = device_context(change.device, inventory, config.policy.groups)
            hit = find_approval(inputs.approvals, change, finding_id(change), context.groups, today)
            if hit is not None:
                record = record_of(hit.approval, commits, inputs.tickets, today)
                label = hit.approval.label
                # without an attributed change time the two runs bound it
                if review.change_time is not None:
                    retroactive = record.retroactive_for(review.change_time)
                else:
                    retroactive = record.retroactive_for(review.pair.before.time, review.pair.after.time)
                used = used_approvals.setdefault(
                    label, {"label": label, **hit.approval.model_dump(mode="json"), **record.to_json()}
                )
                used["retroactive_changes"] = used.get("retroactive_changes", 0) + bool(retroactive)
                approval = {
                    "id": label,
                    "ticket": hit.approval.ticket,
                    "ticket_status": ticket_status(record.ticket),
                    "ticket_approved": record.ticket.approved if record.ticket is not None else False,
                    "approved_by": record.approved_by,
                    "approved_at": record.approved_at.isoformat() if record.approved_at else None,
                    "approved_at_source": record.when_source,
                    "retroactive": retroactive,
                    "mode": hit.approval.mode,
                    "flags": [flag for flag in record.flags if flag != "retroactive"]
                    + (["retroactive"] if retroactive else []),
                    "expired": hit.expired,
                }
            unapproved = evaluate(
                change,
                context,
                review.attribution,
                review.change_time,
                [],
                inputs.tickets,
                config.policy.ticket_pattern,
                today,
                observed_between=(review.pair.before.time, review.pair.after.time),
            )
            ticket = unapproved.ticket.to_json() if unapproved is not None else None
        else:
            decision = "no-effect"  # permits nothing new: nothing to approve
        if ticket is not None and ticket.get("matched"):
            used_tickets.add(str(ticket["matched"]).upper())
        entry.update({"decision": decision, "approval": approval, "ticket": ticket})
        decisions.append(entry)
    base = config.base_dir.resolve()
    tickets = tuple(
        _ticket_json(item, base)
        for item in sorted(inputs.tickets, key=lambda t: t.id)
        if item.id.upper() in used_tickets
    )
    runs = tuple(sorted((run for run in store.runs() if start <= run.time <= end), key=lambda run: run.time))
    in_range = tuple(entry for entry in journal if start <= entry.started <= end)
    return Evidence(
        start=start,
        end=end,
        audit=result,
        decisions=tuple(decisions),
        approvals=tuple(used_approvals[label] for label in sorted(used_approvals)),
        tickets=tickets,
        runs=runs,
        base_commit=pairs[0].before.commit if pairs else None,
        journal=tuple(sorted(in_range, key=lambda entry: (entry.started, entry.run_id))),
        config_text=redacted_config(config, config_file),
        history=tuple(commit.to_json() for commit in commits),
        history_pending=_pending(config, commits),
    )


def _pending(config: CfgwatchConfig, commits: list[HistoryCommit]) -> bool:
    """Does approved.yaml differ from what the approval history last recorded?"""
    path = approved_path(config)
    current = path.read_bytes() if path.exists() else None
    if not commits:
        return current is not None
    return current != commits[-1].content
