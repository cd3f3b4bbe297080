"""One flat row per finding: the shared shape behind the CSV, markdown and HTML renderers.

Column names and order are a contract (spreadsheets and ticket templates depend on them): add new
columns at the end, never rename or reorder.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfgwatch.model.changes import SourceLines
from cfgwatch.policy.findings import ATTACK, Finding
from cfgwatch.report.changes import describe

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
)


def numbered(lines: SourceLines | None) -> list[str]:
    """Config lines with their line numbers, as shown in every format."""
    if lines is None:
        return []
    return [f"{lines.start + offset}: {text}" for offset, text in enumerate(lines.lines)]


@dataclass(frozen=True, slots=True)
class Affected:
    """Affected addresses and ports of a finding as display strings (empty string when none)."""

    internal: str
    public: str
    translated: str
    ports: str


def affected_text(finding: Finding) -> Affected:
    affected = finding.change.affected
    return Affected(
        internal=" ".join(affected.internal.ranges()),
        public=" ".join(affected.public.ranges() + sorted(affected.public.fqdns)),
        translated=" ".join(affected.translated.ranges()),
        ports=affected.ports.text() if not affected.ports.is_empty else "",
    )


def finding_row(finding: Finding) -> dict[str, str]:
    """The finding as strings keyed by CSV_COLUMNS (multi-valued cells joined with a space or newline)."""
    change = finding.change
    who = finding.attribution
    affected = affected_text(finding)
    return {
        "id": finding.id,
        "severity": finding.severity,
        "device": finding.device,
        "platform": change.platform,
        "change": change.change.value,
        "family": change.family,
        "rule": describe(change.rule),
        "comment": change.comment or "",
        "categories": " ".join(finding.categories),
        "tags": " ".join(finding.tags),
        "flags": " ".join(finding.flags),
        "user": who.user or "",
        "change_time": finding.change_time.isoformat() if finding.change_time else "",
        "origin": who.origin or "",
        "attribution": who.how,
        "ticket": finding.ticket.matched or "",
        "ticket_approved": "yes" if finding.ticket.approved else "no",
        "ticket_how": finding.ticket.how,
        "tickets_referenced": " ".join(finding.ticket.referenced),
        "approval": finding.approval or "",
        "flow_verdict": finding.flow.verdict,
        "internal": affected.internal,
        "public": affected.public,
        "translated": affected.translated,
        "ports": affected.ports,
        "rev_before": change.rev_before or "",
        "rev_after": change.rev_after or "",
        "lines_before": "\n".join(numbered(change.lines_before)),
        "lines_after": "\n".join(numbered(change.lines_after)),
        "attack_technique": ATTACK["technique"],
        "attack_analytic": ATTACK["analytic"],
    }
