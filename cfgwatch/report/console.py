"""The audit for a terminal: a rich table of findings, then one panel per finding (diff, who, ticket, flow).

Returns a renderable and never prints: the CLI decides where it goes (a tty gets this, pipes and files
get the plain text of cfgwatch.report.findings.audit_text).
"""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cfgwatch.audit import AuditResult
from cfgwatch.policy.findings import Finding
from cfgwatch.report.changes import changes_text, describe
from cfgwatch.report.findings import audit_text
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.rows import affected_text

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _severity(finding: Finding) -> Text:
    return Text(finding.severity.upper(), style=SEVERITY_STYLE.get(finding.severity, ""))


def findings_table(result: AuditResult) -> Table:
    table = Table(title=f"{len(result.findings)} finding(s)", show_lines=False, expand=False)
    for column in ("severity", "id", "device", "enables", "flags", "who", "ticket", "flow"):
        table.add_column(column, overflow="fold")
    for finding in result.findings:
        table.add_row(
            _severity(finding),
            Text(finding.id),
            Text(finding.device),
            Text(", ".join(finding.categories + finding.tags)),
            Text(", ".join(finding.flags) or "-"),
            Text(finding.attribution.user or "unknown"),
            Text(finding.ticket.matched or "none"),
            Text(finding.flow.verdict),
        )
    return table


def finding_panel(finding: Finding) -> Panel:
    change = finding.change
    who = finding.attribution
    affected = affected_text(finding)
    body = Text()
    body.append(f"{change.change.value} {change.family}: ", style="bold")
    body.append(describe(change.rule) + "\n")
    if change.comment:
        body.append("comment: ", style="bold")
        body.append(change.comment + "\n")
    if change.reasons:
        body.append("why: ", style="bold")
        body.append("; ".join(change.reasons) + "\n")
    body.append("flags: ", style="bold")
    body.append((", ".join(finding.flags) or "-") + "\n")
    body.append("who: ", style="bold")
    when = finding.change_time.isoformat() if finding.change_time else "unknown time"
    body.append(f"{who.user or 'unknown'} at {when} from {who.origin or 'unknown'} ({who.how})\n")
    body.append("ticket: ", style="bold")
    body.append(
        f"{finding.ticket.matched or 'none'} ({finding.ticket.how}"
        f"{', approved' if finding.ticket.approved else ', not approved'})"
        + (f"; referenced {', '.join(finding.ticket.referenced)}" if finding.ticket.referenced else "")
        + "\n"
    )
    body.append("affected: ", style="bold")
    body.append(
        f"internal {affected.internal or '-'}; public {affected.public or '-'}; ports {affected.ports or '-'}\n"
    )
    body.append("flow: ", style="bold")
    figures = {key: value for key, value in finding.flow.figures.items() if key != "series"}
    body.append(finding.flow.verdict + (f" {json.dumps(figures, sort_keys=True)}" if figures else "") + "\n")
    for note in finding.flow.notes:
        body.append(f"  {note}\n", style="dim")
    for marker, lines, style in (("-", change.lines_before, "red"), ("+", change.lines_after, "green")):
        if lines is None:
            continue
        for offset, line in enumerate(lines.lines):
            body.append(f"{marker} {lines.start + offset:>5} | {line}\n", style=style)
    body.rstrip()
    title = Text.assemble(_severity(finding), " ", finding.id, " ", finding.device, f" ({change.platform})")
    return Panel(body, title=title, title_align="left")


def audit_renderable(result: AuditResult) -> RenderableType:
    headline = Text(
        f"cfgwatch audit: {len(result.findings)} finding(s) from {len(result.changes)} change(s) "
        f"in {len(result.pairs)} run pair(s); worst: {result.worst() or 'none'}",
        style="bold",
    )
    parts: list[RenderableType] = [headline]
    if result.findings:
        parts.append(findings_table(result))
        parts.extend(finding_panel(finding) for finding in result.findings)
    if result.problems:
        problems = Text("problems:\n", style="bold yellow")
        for problem in result.problems:
            problems.append(f"  {problem}\n")
        parts.append(problems)
    return Group(*parts)


# Registered as report format "text" in pyproject.toml: plain text, with the rich view on a terminal.
TEXT = ReportFormat(audit_text, tty=audit_renderable, render_changes=changes_text)
