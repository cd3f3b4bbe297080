"""The audit for a terminal: a rich table of findings, then one panel per finding (diff, who, ticket, flow).

Returns a renderable and never prints: the CLI decides where it goes (a tty gets this, pipes and files
get the plain text of cfgwatch.report.findings.audit_text).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from cfgwatch.audit import AuditResult
from cfgwatch.report.changes import changes_text
from cfgwatch.report.coverage import coverage_renderable
from cfgwatch.report.findings import audit_text
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.readable import figure_lines
from cfgwatch.report.view import FindingView, finding_views
from cfgwatch.terminal import Listing, printable

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _severity(view: FindingView) -> Text:
    return Text(view.severity.upper(), style=SEVERITY_STYLE.get(view.severity, ""))


def _text(text: str) -> Text:
    """A cell from device-derived text: no control character reaches the terminal (cfgwatch.terminal)."""
    return Text(printable(text))


class _SafeText(Text):
    """A Text whose appended strings are made printable: the panel body mixes styles and device text."""

    def append(self, text: str | Text, style: str | None = None) -> _SafeText:  # type: ignore[override]
        super().append(printable(text) if isinstance(text, str) else text, style)
        return self


def findings_table(views: list[FindingView]) -> Listing:
    """The findings as a table where it fits the terminal, else as a list (ids and names never folded)."""
    rows = tuple(
        (
            view.severity.upper(),
            view.id,
            view.device,
            ", ".join(view.enables),
            ", ".join(view.flags) or "-",
            view.user or "unknown",
            view.ticket.matched or "none",
            view.flow.verdict,
        )
        for view in views
    )
    return Listing(
        f"{len(views)} finding(s)",
        ("severity", "id", "device", "enables", "flags", "who", "ticket", "flow"),
        rows,
        head=1,
        keep=frozenset({"severity", "id", "device", "ticket", "flow"}),
        styles=tuple((number, 0, SEVERITY_STYLE.get(view.severity, "")) for number, view in enumerate(views)),
    )


def finding_panel(view: FindingView) -> Panel:
    affected = view.affected_text
    body = _SafeText()
    body.append(f"{view.change} {view.family}: ", style="bold")
    body.append(view.rule + "\n")
    if view.comment:
        body.append("comment: ", style="bold")
        body.append(view.comment + "\n")
    if view.reasons:
        body.append("why: ", style="bold")
        body.append("; ".join(view.reasons) + "\n")
    body.append("flags: ", style="bold")
    body.append((", ".join(view.flags) or "-") + "\n")
    body.append("who: ", style="bold")
    body.append(
        f"{view.user or 'unknown'} at {view.when or 'unknown time'} from {view.origin or 'unknown'} ({view.how})\n"
    )
    body.append("ticket: ", style="bold")
    body.append(
        f"{view.ticket.matched or 'none'} ({view.ticket.how}"
        f"{', approved' if view.ticket.approved else ', not approved'})"
        + (f"; referenced {', '.join(view.ticket.referenced)}" if view.ticket.referenced else "")
        + "\n"
    )
    body.append("affected: ", style="bold")
    body.append(
        f"internal {affected.internal or '-'}; public {affected.public or '-'}; ports {affected.ports or '-'}\n"
    )
    body.append("flow: ", style="bold")
    body.append(view.flow.verdict + "\n")
    for line in figure_lines(view.flow.figures):
        body.append(f"  {line}\n")
    for note in view.flow.notes:
        body.append(f"  {note}\n", style="dim")
    for marker, lines, style in (("-", view.lines_before, "red"), ("+", view.lines_after, "green")):
        if lines is None:
            continue
        for offset, line in enumerate(lines.lines):
            body.append(f"{marker} {lines.start + offset:>5} | {line}\n", style=style)
    body.rstrip()
    title = Text.assemble(_severity(view), " ", printable(f"{view.id} {view.device} ({view.platform})"))
    return Panel(body, title=title, title_align="left")


def audit_renderable(result: AuditResult) -> RenderableType:
    headline = Text(
        f"cfgwatch audit: {len(result.findings)} finding(s) from {len(result.changes)} change(s) "
        f"in {len(result.pairs)} run pair(s); worst: {result.worst() or 'none'}",
        style="bold",
    )
    parts: list[RenderableType] = [headline]
    if result.findings:
        views = finding_views(result.findings)
        parts.append(findings_table(views))
        parts.extend(finding_panel(view) for view in views)
    if result.problems:
        problems = _SafeText("problems:\n", style="bold yellow")
        for problem in result.problems:
            problems.append(f"  {problem}\n")
        parts.append(problems)
    parts.append(coverage_renderable(result))
    return Group(*parts)


# Registered as report format "text" in pyproject.toml: plain text, with the rich view on a terminal.
TEXT = ReportFormat(audit_text, tty=audit_renderable, render_changes=changes_text)
