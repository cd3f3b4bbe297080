"""The coverage section of every report format: devices pulled, failed (reason, since when stale), not pulled
recently, flow exporters silent. Kept apart from the finding renderers so each format adds one call.

Text, markdown, HTML, the terminal view and JSON always carry the section; CSV and JSON lines (one record per
finding for spreadsheets and SIEMs) add one record per coverage gap, so complete coverage adds nothing there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from cfgwatch.coverage import Coverage
from cfgwatch.terminal import printable

if TYPE_CHECKING:
    from cfgwatch.audit import AuditResult

COVERAGE_ID = "COVERAGE"


def coverage_lines(result: AuditResult) -> list[str]:
    """Plain-text lines (headline first); a note when nothing computed it (an audit outside a project)."""
    coverage = result.coverage
    return coverage.lines() if coverage is not None else ["coverage: not computed"]


def coverage_json(result: AuditResult) -> dict[str, Any] | None:
    return result.coverage.to_json() if result.coverage is not None else None


def coverage_gaps(coverage: Coverage | None) -> list[tuple[str, str, str, str]]:
    """(kind, name, reason, since) per gap: failed, stale, not compared, exporter silent."""
    if coverage is None:
        return []
    gaps = [
        ("pull-failed", f.device, f"{f.reason}: {f.detail}", f.stale_since.isoformat() if f.stale_since else "")
        for f in coverage.failed
    ]
    gaps += [("stale", s.device, "not pulled recently", s.since.isoformat() if s.since else "") for s in coverage.stale]
    gaps += [("not-compared", name, "change could not be compared", "") for name in coverage.uncompared]
    gaps += [
        ("exporter-silent", e.exporter, "no flow records", e.last_seen.isoformat() if e.last_seen else "")
        for e in coverage.silent
    ]
    return gaps


def coverage_rows(result: AuditResult, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """CSV rows for the gaps, in the findings' columns: id COVERAGE, family coverage, change = the kind."""
    rows: list[dict[str, str]] = []
    for kind, name, reason, since in coverage_gaps(result.coverage):
        row = dict.fromkeys(columns, "")
        row.update({"id": COVERAGE_ID, "severity": "info", "device": name, "change": kind, "family": "coverage"})
        row.update({"flags": reason, "change_time": since})
        rows.append({column: row.get(column, "") for column in columns})
    return rows


def coverage_events(result: AuditResult, run_time: str) -> list[dict[str, Any]]:
    """ECS events (kind `event`, outcome failure) for the gaps: a SIEM sees a device that went dark."""
    return [
        {
            "@timestamp": run_time,
            "event": {
                "kind": "event",
                "category": ["configuration"],
                "type": ["info"],
                "action": kind,
                "outcome": "failure",
                "reason": reason,
                "dataset": "cfgwatch.coverage",
            },
            "observer": {"name": name},
            "cfgwatch": {"coverage": {"kind": kind, "since": since or None}},
        }
        for kind, name, reason, since in coverage_gaps(result.coverage)
    ]


def coverage_markdown(result: AuditResult, escape: Callable[[str], str]) -> list[str]:
    """A **Coverage** list; `escape` is the markdown format's cell/paragraph escaping."""
    lines = coverage_lines(result)
    return ["", f"**{escape(lines[0])}**", "", *(f"- {escape(line.strip())}" for line in lines[1:])]


def coverage_html(result: AuditResult, escape: Callable[[object], str]) -> str:
    """`<section id="coverage">`, marked incomplete when a device failed, is stale or an exporter is silent."""
    lines = coverage_lines(result)
    complete = result.coverage is not None and result.coverage.complete
    items = "".join(f"<li>{escape(line.strip())}</li>" for line in lines[1:])
    state = "complete" if complete else "incomplete"
    return (
        f'<section id="coverage" class="coverage-{state}"><h2>Coverage</h2>'
        f"<p><strong>{escape(lines[0])}</strong></p>{f'<ul>{items}</ul>' if items else ''}</section>"
    )


def coverage_renderable(result: AuditResult) -> Text:
    """The terminal view: the headline bold (yellow when incomplete), then one line per gap."""
    lines = coverage_lines(result)
    complete = result.coverage is not None and result.coverage.complete
    text = Text(printable(lines[0]) + "\n", style="bold" if complete else "bold yellow")
    for line in lines[1:]:
        text.append(printable(line) + "\n")
    return text
