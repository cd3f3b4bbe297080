"""SARIF 2.1.0 (`cfgwatch audit --format sarif`): findings as code-scanning alerts on the config file and lines.

A network-as-code repository is what cfgwatch's snapshot store is (one file per device under `configs/`), so each
finding points at `configs/<device>` (`uriBaseId` SNAPSHOTS, the snapshot repository's root) and at the changed
lines of the newer config; a removal points at the file without a region, its old lines in the message. GitHub
code scanning resolves the path against the checked-out repository (upload with `checkout_path` when the
snapshot repository is not the workflow's root).

Mapping: one rule per category (`cfgwatch/egress-forward`, ...; `security-severity` from the category's base
severity), the result's rule is the finding's first category; `level` error for critical/high, warning for
medium, note below; `partialFingerprints` carry the finding id, stable across runs, so an alert is tracked
rather than re-opened; the story, why-lines and rollback commands are in the message and in `properties`.
Audit problems (devices not compared, unreadable tickets) and coverage gaps (pull failed, stale, exporter silent)
become tool execution notifications: a device the audit could not see is never a silent absence.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.model import changes as r
from cfgwatch.policy.findings import ATTACK, severity_for
from cfgwatch.report.coverage import coverage_gaps
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.story import CATEGORY_MEANING
from cfgwatch.report.view import ATTACK_URL, FindingView, finding_views

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE_ID = "SNAPSHOTS"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub's security-severity bands: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.5"}


def _rule(category: str) -> dict[str, Any]:
    base = severity_for((category,), (), (), "not-checked")
    meaning = CATEGORY_MEANING.get(category, category)
    return {
        "id": f"cfgwatch/{category}",
        "name": "".join(part.capitalize() for part in category.split("-")),
        "shortDescription": {"text": f"{category}: {meaning}"},
        "fullDescription": {
            "text": f"A NAT, filter, binding or object change where {meaning}, not covered by an approval. "
            f"ATT&CK {ATTACK['technique']} ({ATTACK['technique_name']}), analytic {ATTACK['analytic']}."
        },
        "helpUri": ATTACK_URL,
        "help": {"text": "Review the change, its ticket and its traffic; approve it or roll it back."},
        "defaultConfiguration": {"level": _LEVEL.get(base, "warning")},
        "properties": {
            "tags": ["security", "network", "configuration", ATTACK["technique"]],
            "security-severity": _SECURITY_SEVERITY.get(base, "5.0"),
        },
    }


def _location(view: FindingView) -> dict[str, Any]:
    artifact = {"uri": quote(f"configs/{view.device}"), "uriBaseId": BASE_ID}  # a URI reference: escaped
    physical: dict[str, Any] = {"artifactLocation": artifact}
    lines = view.lines_after
    if lines is not None:
        physical["region"] = {
            "startLine": lines.start,
            "endLine": lines.end,
            "snippet": {"text": "\n".join(lines.lines)},
        }
    return {"physicalLocation": physical}


def _message(view: FindingView) -> dict[str, str]:
    rollback = view.rollback
    text = [view.story.sentence, "Why this severity: " + "; ".join(view.story.why) + "."]
    if view.lines_after is None and view.lines_before is not None:
        old = view.lines_before
        text.append(f"Removed lines {old.start}-{old.end}: " + " / ".join(old.lines))
    if rollback.commands:
        text.append(f"Rollback ({rollback.method} {rollback.syntax}): " + " / ".join(rollback.commands))
    markdown = [
        view.story.sentence,
        "",
        "**Why this severity:**",
        "",
        *(f"- {line}" for line in view.story.why),
        "",
        f"**Rollback** ({rollback.method} {rollback.syntax}; not applied by cfgwatch)"
        + (f": {rollback.note}" if rollback.note else ""),
    ]
    if rollback.commands:
        markdown += ["", "```", *rollback.commands, "```"]
    return {"text": " ".join(text), "markdown": "\n".join(markdown)}


def _result(view: FindingView, rule_index: dict[str, int]) -> dict[str, Any]:
    category = view.categories[0] if view.categories else r.OBJECT_CHANGED
    return {
        "ruleId": f"cfgwatch/{category}",
        "ruleIndex": rule_index[category],
        "level": _LEVEL.get(view.severity, "warning"),
        "message": _message(view),
        "locations": [_location(view)],
        "partialFingerprints": {"cfgwatchFindingId/v1": view.id},
        "properties": {
            "finding_id": view.id,
            "severity": view.severity,
            "device": view.device,
            "platform": view.platform,
            "change": view.change,
            "family": view.family,
            "categories": list(view.categories),
            "tags": list(view.tags),
            "flags": list(view.flags),
            "flow_verdict": view.flow.verdict,
            "story": view.story.to_json(),
            "rule_model": view.rule,
            "rule_device_syntax": list(view.device_lines),
            "rollback": view.rollback.to_json(),
            "user": view.user,
            "change_time": view.when or None,
            "rev_before": view.rev_before,
            "rev_after": view.rev_after,
        },
    }


def audit_sarif_document(result: AuditResult) -> dict[str, Any]:
    """The SARIF log of an audit (one run)."""
    views = finding_views(result.findings, result.rollbacks)
    categories = list(r.CATEGORIES)
    categories += sorted({c for view in views for c in view.categories} - set(categories))
    rule_index = {category: index for index, category in enumerate(categories)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "cfgwatch",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": ATTACK_URL,
                "rules": [_rule(category) for category in categories],
            }
        },
        "automationDetails": {"id": "cfgwatch/audit/"},
        "originalUriBaseIds": {
            BASE_ID: {"description": {"text": "The cfgwatch snapshot repository: one config per device in configs/."}}
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": problem}} for problem in result.problems
                ]
                + [
                    {
                        "level": "warning",
                        "descriptor": {"id": f"cfgwatch/coverage/{kind}"},
                        "message": {"text": f"{name}: {kind}: {reason}" + (f" (since {since})" if since else "")},
                    }
                    for kind, name, reason, since in coverage_gaps(result.coverage)
                ],
            }
        ],
        "results": [_result(view, rule_index) for view in views],
        "properties": {
            "generated": result.generated.isoformat(),
            "worst": result.worst(),
            "runs": [{"before": pair.before.commit, "after": pair.after.commit} for pair in result.pairs],
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def audit_sarif(result: AuditResult) -> str:
    return json.dumps(audit_sarif_document(result), indent=2) + "\n"


# Registered as report format "sarif" in pyproject.toml (audits only).
SARIF = ReportFormat(audit_sarif)
