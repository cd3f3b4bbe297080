"""Render audit findings: JSON (the stable contract) and plain text for a terminal or a job log."""

from __future__ import annotations

import json
from typing import Any

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.policy.findings import ATTACK
from cfgwatch.report.changes import changes_json
from cfgwatch.report.coverage import coverage_json, coverage_lines
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.readable import figure_lines
from cfgwatch.report.view import FindingView, finding_views
from cfgwatch.terminal import printable


def audit_document(result: AuditResult) -> dict[str, Any]:
    """The JSON document of `cfgwatch audit --format json`."""
    return {
        "tool": {"name": "cfgwatch", "version": __version__},
        "generated": result.generated.isoformat(),
        "attack": dict(ATTACK),
        "runs": [
            {
                "before": pair.before.commit,
                "after": pair.after.commit,
                "before_time": pair.before.time.isoformat(),
                "after_time": pair.after.time.isoformat(),
            }
            for pair in result.pairs
        ],
        "summary": {
            "findings": len(result.findings),
            "changes": len(result.changes),
            "worst": result.worst(),
        },
        "findings": [view.to_json() for view in finding_views(result.findings)],
        "problems": list(result.problems),
        "coverage": coverage_json(result),
    }


def audit_json(result: AuditResult) -> str:
    return json.dumps(audit_document(result), indent=2)


def finding_text(view: FindingView) -> list[str]:
    attributed = view.attributed_time.isoformat() if view.attributed_time else "unknown time"
    lines = [
        f"[{view.severity.upper()}] {view.id} {view.device}: {', '.join(view.enables)}",
        f"    flags: {', '.join(view.flags) or '-'}",
        f"    who: {view.user or 'unknown'} at {attributed} from {view.origin or 'unknown'} ({view.how})",
        f"    ticket: {view.ticket.matched or '-'} ({view.ticket.how}"
        f"{', approved' if view.ticket.approved else ''})"
        + (f"; referenced {', '.join(view.ticket.referenced)}" if view.ticket.referenced else ""),
        f"    flow: {view.flow.verdict}",
        *(f"      {line}" for line in figure_lines(view.flow.figures)),
    ]
    lines.extend("    " + line for line in view.change_block)
    return lines


def audit_text(result: AuditResult) -> str:
    out = [
        f"cfgwatch audit: {len(result.findings)} finding(s) from {len(result.changes)} change(s) "
        f"in {len(result.pairs)} run pair(s); worst: {result.worst() or 'none'}"
    ]
    for view in finding_views(result.findings):
        out.append("")
        out.extend(finding_text(view))
    if result.problems:
        out.append("")
        out.append("problems:")
        out.extend(f"  {problem}" for problem in result.problems)
    out += ["", *coverage_lines(result)]
    return printable("\n".join(out) + "\n")


# Registered as report format "json" in pyproject.toml.
JSON = ReportFormat(lambda result: audit_json(result) + "\n", render_changes=changes_json)
