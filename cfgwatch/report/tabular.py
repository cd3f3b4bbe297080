"""CSV (one row per finding, for spreadsheets) and markdown (pasteable into a change ticket)."""

from __future__ import annotations

import csv
import io
import re

from cfgwatch.audit import AuditResult
from cfgwatch.policy.findings import ATTACK, Finding
from cfgwatch.report.changes import changes_markdown
from cfgwatch.report.coverage import coverage_markdown, coverage_rows
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.readable import figure_lines
from cfgwatch.report.view import CSV_COLUMNS, FindingView, finding_views, numbered

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns whose values cfgwatch itself makes (ids, enums, times): never formula-like, left untouched.
_SAFE_COLUMNS = frozenset({"id", "severity", "change", "family", "change_time", "ticket_approved", "flow_verdict"})


def _cell(column: str, value: str) -> str:
    if column not in _SAFE_COLUMNS and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def findings_csv(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """RFC 4180 CSV with a header row; columns in CSV_COLUMNS order, formula-like cells quoted with '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for view in finding_views(findings):
        row = view.row()
        writer.writerow([_cell(column, row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def audit_csv(result: AuditResult) -> str:
    """The findings, then one row per coverage gap (id COVERAGE): a failed device is never a silent absence."""
    text = findings_csv(result.findings)
    gaps = coverage_rows(result, CSV_COLUMNS)
    if not gaps:
        return text
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in gaps:
        writer.writerow([_cell(column, row[column]) for column in CSV_COLUMNS])
    return text + buffer.getvalue()


def _md(text: str) -> str:
    """Text safe inside a markdown table cell or paragraph: pipes, backticks, markup and HTML neutralised."""
    text = text.replace("\\", "\\\\")
    for char in "|`*_<>[]#":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def _fence(lines: list[str]) -> str:
    """A code fence longer than any backtick run inside, so config lines can never close it early."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def finding_markdown(view: FindingView) -> list[str]:
    row = view.row()
    out = [
        f"#### {view.severity.upper()} {view.id} on {_md(view.device)}",
        "",
        f"- **Change:** {_md(row['change'])} {_md(row['family'])}: {_md(row['rule'])}",
        *([f"- **Rule comment:** {_md(row['comment'])}"] if row["comment"] else []),
        f"- **Enables:** {_md(', '.join(view.enables))}",
        f"- **Flags:** {_md(', '.join(view.flags) or 'none')}",
        f"- **Who / when:** {_md(row['user'] or 'unknown')} at {_md(row['change_time'] or 'unknown time')}"
        f" from {_md(row['origin'] or 'unknown')} ({_md(row['attribution'])})",
        f"- **Ticket:** {_md(row['ticket'] or 'none')} ({_md(row['ticket_how'])}"
        f"{', approved' if view.ticket.approved else ', not approved'})"
        + (f"; referenced: {_md(row['tickets_referenced'])}" if row["tickets_referenced"] else ""),
        f"- **Affected:** internal {_md(row['internal'] or '-')}; public {_md(row['public'] or '-')};"
        f" ports {_md(row['ports'] or '-')}",
        f"- **Flow verdict:** {_md(view.flow.verdict)}",
    ]
    out.extend(f"  - {_md(line)}" for line in figure_lines(view.flow.figures))
    diff = [f"- {line}" for line in numbered(view.lines_before)]
    diff += [f"+ {line}" for line in numbered(view.lines_after)]
    if diff:
        fence = _fence(diff)
        out += ["", f"{fence}diff", *diff, fence]
    return out


def audit_markdown(result: AuditResult) -> str:
    """A summary table and one section per finding; renders on GitHub, GitLab, Jira and ServiceNow markdown."""
    out = [
        "### cfgwatch audit",
        "",
        f"{len(result.findings)} finding(s) from {len(result.changes)} change(s) in {len(result.pairs)} run pair(s);"
        f" worst: **{result.worst() or 'none'}**. ATT&CK {ATTACK['technique']} ({ATTACK['technique_name']}),"
        f" analytic {ATTACK['analytic']}.",
        "",
    ]
    if result.findings:
        views = finding_views(result.findings)
        out += ["| id | severity | device | change | enables | flags | who | ticket | flow |", "|---" * 9 + "|"]
        for view in views:
            row = view.row()
            cells = [
                row["id"],
                row["severity"],
                row["device"],
                f"{row['change']} {row['family']}",
                ", ".join(view.enables),
                ", ".join(view.flags),
                row["user"] or "unknown",
                row["ticket"] or "none",
                row["flow_verdict"],
            ]
            out.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
        for view in views:
            out.append("")
            out.extend(finding_markdown(view))
    if result.problems:
        out += ["", "**Problems:**", ""]
        out += [f"- {_md(problem)}" for problem in result.problems]
    out += coverage_markdown(result, _md)
    return "\n".join(out) + "\n"


# Registered as report formats "csv" (audits only) and "markdown" in pyproject.toml.
CSV = ReportFormat(audit_csv)
MARKDOWN = ReportFormat(audit_markdown, render_changes=changes_markdown)
