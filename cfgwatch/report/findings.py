"""Render audit findings: JSON (the stable contract) and plain text for a terminal or a job log."""

from __future__ import annotations

import json
from typing import Any

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.policy.findings import ATTACK, Finding
from cfgwatch.report.changes import change_text, changes_json
from cfgwatch.report.formats import ReportFormat


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
        "findings": [finding.to_json() for finding in result.findings],
        "problems": list(result.problems),
    }


def audit_json(result: AuditResult) -> str:
    return json.dumps(audit_document(result), indent=2)


def finding_text(finding: Finding) -> list[str]:
    who = finding.attribution
    lines = [
        f"[{finding.severity.upper()}] {finding.id} {finding.device}: {', '.join(finding.categories + finding.tags)}",
        f"    flags: {', '.join(finding.flags) or '-'}",
        f"    who: {who.user or 'unknown'} at {who.time.isoformat() if who.time else 'unknown time'}"
        f" from {who.origin or 'unknown'} ({who.how})",
        f"    ticket: {finding.ticket.matched or '-'} ({finding.ticket.how}"
        f"{', approved' if finding.ticket.approved else ''})"
        + (f"; referenced {', '.join(finding.ticket.referenced)}" if finding.ticket.referenced else ""),
        f"    flow: {finding.flow.verdict}"
        + (f" {json.dumps(finding.flow.figures, sort_keys=True)}" if finding.flow.figures else ""),
    ]
    lines.extend("    " + line for line in change_text(finding.change))
    return lines


def audit_text(result: AuditResult) -> str:
    out = [
        f"cfgwatch audit: {len(result.findings)} finding(s) from {len(result.changes)} change(s) "
        f"in {len(result.pairs)} run pair(s); worst: {result.worst() or 'none'}"
    ]
    for finding in result.findings:
        out.append("")
        out.extend(finding_text(finding))
    if result.problems:
        out.append("")
        out.append("problems:")
        out.extend(f"  {problem}" for problem in result.problems)
    return "\n".join(out) + "\n"


# Registered as report format "json" in pyproject.toml.
JSON = ReportFormat(lambda result: audit_json(result) + "\n", render_changes=changes_json)
