"""One view of a finding that every report format renders from (text, console, JSON, SIEM, CSV, markdown, HTML).

`FindingView.of(finding)` works out once what a reader sees: the rule text, the attribution, the ticket, the
affected addresses as text, the config lines and the typed flow result; renderers only phrase it. The flat
row (`FindingView.row`) is the shared shape behind the CSV and markdown renderers.

Column names and order are a contract (spreadsheets and ticket templates depend on them): add new
columns at the end, never rename or reorder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cfgwatch.flows.figures import Destination, SeriesPoint
from cfgwatch.model.changes import Affected, SourceLines
from cfgwatch.policy.findings import ATTACK, Finding, FlowResult, TicketStatus
from cfgwatch.report.changes import change_text, describe
from cfgwatch.report.rollback import NOT_KNOWN, Rollback
from cfgwatch.report.story import Story, story

ATTACK_URL = "https://attack.mitre.org/techniques/T1090/002/"
TACTIC_NAME = "Command and Control"

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "severity",
    "device",
    "platform",
    "change",
    "family",
    "rule",
    "comment",
    "categories",
    "tags",
    "flags",
    "user",
    "change_time",
    "origin",
    "attribution",
    "ticket",
    "ticket_approved",
    "ticket_how",
    "tickets_referenced",
    "approval",
    "flow_verdict",
    "internal",
    "public",
    "translated",
    "ports",
    "rev_before",
    "rev_after",
    "lines_before",
    "lines_after",
    "attack_technique",
    "attack_analytic",
    "story",
    "why",
    "rollback",
)


def numbered(lines: SourceLines | None) -> list[str]:
    """Config lines with their line numbers, as shown in every format."""
    if lines is None:
        return []
    return [f"{lines.start + offset}: {text}" for offset, text in enumerate(lines.lines)]


@dataclass(frozen=True, slots=True)
class AffectedText:
    """Affected addresses and ports of a finding as display strings (empty string when none)."""

    internal: str
    public: str
    translated: str
    ports: str

    @classmethod
    def of(cls, affected: Affected) -> AffectedText:
        return cls(
            internal=" ".join(affected.internal.ranges()),
            public=" ".join(affected.public.ranges() + sorted(affected.public.fqdns)),
            translated=" ".join(affected.translated.ranges()),
            ports=affected.ports.text() if not affected.ports.is_empty else "",
        )


@dataclass(frozen=True, slots=True)
class FindingView:
    """What every report shows of one finding, built once from the finding, its change, attribution and flow."""

    id: str
    severity: str
    device: str
    platform: str
    change: str  # added | removed | modified
    family: str
    key: str
    rule: str  # the rule as it is now (or was, for a removal), in one readable line
    before: str  # "-" when there was none
    after: str
    comment: str | None  # the rule's own comment / remark
    reasons: tuple[str, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    flags: tuple[str, ...]
    user: str | None
    origin: str | None
    how: str  # how the change was attributed
    evidence: str  # the log line or header the attribution rests on
    commit_comment: str | None
    change_time: datetime | None  # attributed change time used by the policy (None when unknown)
    attributed_time: datetime | None  # the time the attribution itself found
    seen: datetime | None  # time of the run that saw the change
    ticket: TicketStatus
    approval: str | None
    affected: Affected
    affected_text: AffectedText
    rev_before: str | None
    rev_after: str | None
    lines_before: SourceLines | None
    lines_after: SourceLines | None
    change_block: tuple[str, ...]  # the change as `cfgwatch diff` prints it
    flow: FlowResult
    story: Story  # the one-sentence story and why this severity (cfgwatch.report.story)
    rollback: Rollback  # how to undo it on the device (cfgwatch.report.rollback); never applied
    finding: Finding = field(repr=False, compare=False)  # only for the JSON contract (`to_json`)

    @classmethod
    def of(cls, finding: Finding, rollback: Rollback = NOT_KNOWN) -> FindingView:
        change = finding.change
        who = finding.attribution
        return cls(
            id=finding.id,
            severity=finding.severity,
            device=finding.device,
            platform=change.platform,
            change=change.change.value,
            family=change.family,
            key=change.key,
            rule=describe(change.rule),
            before=describe(change.before),
            after=describe(change.after),
            comment=change.comment,
            reasons=change.reasons,
            categories=finding.categories,
            tags=finding.tags,
            flags=finding.flags,
            user=who.user,
            origin=who.origin,
            how=who.how,
            evidence=who.evidence,
            commit_comment=who.comment,
            change_time=finding.change_time,
            attributed_time=who.time,
            seen=finding.observed_between[1] if finding.observed_between else None,
            ticket=finding.ticket,
            approval=finding.approval,
            affected=change.affected,
            affected_text=AffectedText.of(change.affected),
            rev_before=change.rev_before,
            rev_after=change.rev_after,
            lines_before=change.lines_before,
            lines_after=change.lines_after,
            change_block=tuple(change_text(change)),
            flow=finding.flow,
            story=story(finding),
            rollback=rollback,
            finding=finding,
        )

    def to_json(self) -> dict[str, Any]:
        """The finding's JSON contract (`cfgwatch audit --format json`, evidence bundles, notifications)."""
        return {
            **self.finding.to_json(),
            "story": self.story.to_json(),
            "rule_device_syntax": list(self.device_lines),
            "rollback": self.rollback.to_json(),
        }

    @property
    def device_lines(self) -> tuple[str, ...]:
        """The rule in the device's own syntax: its config lines now (or before, for a removal), numbered."""
        return tuple(numbered(self.lines_after if self.lines_after is not None else self.lines_before))

    @property
    def enables(self) -> tuple[str, ...]:
        """Categories, then tags: what the change enables."""
        return self.categories + self.tags

    @property
    def when(self) -> str:
        """The change time as ISO text, '' when unknown."""
        return self.change_time.isoformat() if self.change_time else ""

    @property
    def figures_json(self) -> dict[str, Any]:
        """The flow figures as their JSON object ({} when the store was not asked)."""
        return self.flow.figures_json()

    @property
    def inline_figures_json(self) -> dict[str, Any]:
        """The figures a text report prints inline (the series is drawn, not listed)."""
        return {key: value for key, value in self.figures_json.items() if key != "series"}

    @property
    def series(self) -> tuple[SeriesPoint, ...]:
        measured = self.flow.measured
        return (measured.series or ()) if measured is not None else ()

    @property
    def top_destinations(self) -> tuple[Destination, ...]:
        measured = self.flow.measured
        return measured.top_destinations if measured is not None else ()

    def row(self) -> dict[str, str]:
        """The finding as strings keyed by CSV_COLUMNS (multi-valued cells joined with a space or newline)."""
        affected = self.affected_text
        return {
            "id": self.id,
            "severity": self.severity,
            "device": self.device,
            "platform": self.platform,
            "change": self.change,
            "family": self.family,
            "rule": self.rule,
            "comment": self.comment or "",
            "categories": " ".join(self.categories),
            "tags": " ".join(self.tags),
            "flags": " ".join(self.flags),
            "user": self.user or "",
            "change_time": self.when,
            "origin": self.origin or "",
            "attribution": self.how,
            "ticket": self.ticket.matched or "",
            "ticket_approved": "yes" if self.ticket.approved else "no",
            "ticket_how": self.ticket.how,
            "tickets_referenced": " ".join(self.ticket.referenced),
            "approval": self.approval or "",
            "flow_verdict": self.flow.verdict,
            "internal": affected.internal,
            "public": affected.public,
            "translated": affected.translated,
            "ports": affected.ports,
            "rev_before": self.rev_before or "",
            "rev_after": self.rev_after or "",
            "lines_before": "\n".join(numbered(self.lines_before)),
            "lines_after": "\n".join(numbered(self.lines_after)),
            "attack_technique": ATTACK["technique"],
            "attack_analytic": ATTACK["analytic"],
            "story": self.story.sentence,
            "why": "\n".join(self.story.why),
            "rollback": "\n".join(self.rollback.commands) or self.rollback.note,
        }


def finding_views(
    findings: tuple[Finding, ...] | list[Finding], rollbacks: Mapping[str, Rollback] | None = None
) -> list[FindingView]:
    """One view per finding, in order (with its rollback when the audit derived one)."""
    known = rollbacks or {}
    return [FindingView.of(finding, known.get(finding.id, NOT_KNOWN)) for finding in findings]
