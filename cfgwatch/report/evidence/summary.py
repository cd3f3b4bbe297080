"""The bundle's human summary (summary.md / summary.html): the period's counts and findings mapped to
PCI DSS 1.2.2 / 1.2.7, SOX change management, ISO/IEC 27001:2022 A.8.32 and NIST SP 800-53 CM-3."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cfgwatch import __version__
from cfgwatch.policy.findings import ATTACK
from cfgwatch.report.evidence.collect import Evidence
from cfgwatch.report.html import esc
from cfgwatch.report.view import finding_views


@dataclass(frozen=True, slots=True)
class Controls:
    """One compliance control and what in the bundle evidences it."""

    framework: str
    control: str
    requirement: str
    evidence: str
    files: tuple[str, ...]


CONTROLS: tuple[Controls, ...] = (
    Controls(
        "PCI DSS v4.0",
        "1.2.2",
        "All changes to network connections and to configurations of NSCs are approved and managed in "
        "accordance with the change control process.",
        "Every NAT/ACL/binding change on every collected device, the approval or ticket that covered it, and "
        "the changes nobody approved (findings).",
        ("changes.json", "approvals.json", "findings.json", "findings.csv"),
    ),
    Controls(
        "PCI DSS v4.0",
        "1.2.7",
        "Configurations of NSCs are reviewed at least once every six months to confirm they are relevant, "
        "effective and secure.",
        "Configurations were collected and reviewed automatically on every run of the period; coverage shows "
        "which devices were reviewed in each run and which could not be collected.",
        ("coverage.json", "commits.json", "findings.json"),
    ),
    Controls(
        "SOX ITGC",
        "Change management",
        "Changes to systems supporting financial reporting are authorized, approved and traceable to the "
        "person who made them.",
        "Attribution (who, when, from where, how known) of each change, the matching ticket and approval, "
        "and exceptions raised for unticketed, out-of-window or unexpected-admin changes.",
        ("attribution.json", "changes.json", "approvals.json", "findings.json"),
    ),
    Controls(
        "ISO/IEC 27001:2022",
        "A.8.32",
        "Changes to information processing facilities and information systems are subject to change "
        "management procedures.",
        "Detected changes compared against approved rules, change tickets and change windows, with the "
        "exceptions listed as findings.",
        ("changes.json", "approvals.json", "findings.json", "summary.md"),
    ),
    Controls(
        "NIST SP 800-53 Rev. 5",
        "CM-3",
        "Configuration change control: determine, review, approve, document, retain and monitor "
        "configuration-controlled changes.",
        "Documented change decisions (finding / approved / no effect), retained snapshot commits, run "
        "coverage, and the signed manifest that protects the record.",
        ("changes.json", "commits.json", "coverage.json", "manifest.json"),
    ),
)


def _counts(evidence: Evidence) -> dict[str, Any]:
    decisions = Counter(entry["decision"] for entry in evidence.decisions)
    failures = sum(len(entry.failed) for entry in evidence.journal) or sum(len(run.failed) for run in evidence.runs)
    devices = sorted({entry["device"] for entry in evidence.decisions})
    return {
        "changes": len(evidence.decisions),
        "findings": len(evidence.audit.findings),
        "approved": decisions["approved"],
        "no_effect": decisions["no-effect"],
        "runs": len(evidence.journal) or len(evidence.runs),
        "commits": len(evidence.runs),
        "failed_pulls": failures,
        "devices_changed": devices,
        "by_severity": dict(sorted(Counter(f.severity for f in evidence.audit.findings).items())),
    }


def summary_markdown(evidence: Evidence) -> str:
    counts = _counts(evidence)
    lines = [
        "# cfgwatch change-control evidence",
        "",
        f"Period: {evidence.start.isoformat()} to {evidence.end.isoformat()} · cfgwatch {__version__}",
        "",
        f"- Collection runs: {counts['runs']} ({counts['failed_pulls']} failed device pull(s)); "
        f"snapshot commits: {counts['commits']}",
        f"- Rule changes: {counts['changes']} on {len(counts['devices_changed'])} device(s): "
        f"{counts['approved']} approved, {counts['no_effect']} with no effect on permitted traffic, "
        f"{counts['findings']} finding(s) (not approved)",
        f"- Findings by severity: {', '.join(f'{n} {s}' for s, n in counts['by_severity'].items()) or 'none'}",
        f"- Detection: MITRE ATT&CK {ATTACK['technique']} ({ATTACK['technique_name']}), "
        f"{ATTACK['detection_strategy']} / {ATTACK['analytic']}",
        "",
        "## Control mapping",
        "",
        "| framework | control | requirement | evidence in this bundle | files |",
        "|---|---|---|---|---|",
    ]
    for control in CONTROLS:
        lines.append(
            f"| {control.framework} | {control.control} | {control.requirement} | {control.evidence} | "
            f"{', '.join(control.files)} |"
        )
    lines += ["", "## Findings (exceptions)", ""]
    if evidence.audit.findings:
        lines += ["| id | severity | device | enables | flags | who | ticket |", "|---|---|---|---|---|---|---|"]
        for view in finding_views(evidence.audit.findings):
            cells = [
                view.id,
                view.severity,
                view.device,
                ", ".join(view.enables),
                ", ".join(view.flags),
                view.user or "unknown",
                view.ticket.matched or "none",
            ]
            lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("`", "'") for cell in cells) + " |")
    else:
        lines.append("None: every change in the period was approved or had no effect on permitted traffic.")
    lines += ["", "Integrity: `manifest.json` lists the SHA-256 of every file; check with `cfgwatch export verify`."]
    return "\n".join(lines) + "\n"


def summary_html(evidence: Evidence) -> str:
    counts = _counts(evidence)
    controls = "".join(
        f"<tr><td>{esc(c.framework)}</td><td>{esc(c.control)}</td><td>{esc(c.requirement)}</td>"
        f"<td>{esc(c.evidence)}</td><td>{esc(', '.join(c.files))}</td></tr>"
        for c in CONTROLS
    )
    findings = "".join(
        f"<tr><td><code>{esc(v.id)}</code></td><td>{esc(v.severity)}</td><td>{esc(v.device)}</td>"
        f"<td>{esc(', '.join(v.enables))}</td><td>{esc(', '.join(v.flags))}</td>"
        f"<td>{esc(v.user or 'unknown')}</td><td>{esc(v.ticket.matched or 'none')}</td></tr>"
        for v in finding_views(evidence.audit.findings)
    )
    table = (
        "<table><tr><th>id</th><th>severity</th><th>device</th><th>enables</th><th>flags</th><th>who</th>"
        f"<th>ticket</th></tr>{findings}</table>"
        if findings
        else "<p>None: every change in the period was approved or had no effect on permitted traffic.</p>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>cfgwatch change-control evidence</title><style>"
        "body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:16px}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;"
        "vertical-align:top}th{background:#f0f0f0}</style></head><body>"
        "<h1>cfgwatch change-control evidence</h1>"
        f"<p>Period {esc(evidence.start.isoformat())} to {esc(evidence.end.isoformat())} · cfgwatch "
        f"{esc(__version__)}</p><ul>"
        f"<li>Collection runs: {counts['runs']} ({counts['failed_pulls']} failed device pull(s)); snapshot "
        f"commits: {counts['commits']}</li>"
        f"<li>Rule changes: {counts['changes']}: {counts['approved']} approved, {counts['no_effect']} with no "
        f"effect on permitted traffic, {counts['findings']} finding(s) (not approved)</li>"
        f"<li>Detection: MITRE ATT&amp;CK {esc(ATTACK['technique'])} ({esc(ATTACK['technique_name'])}), "
        f"{esc(ATTACK['detection_strategy'])} / {esc(ATTACK['analytic'])}</li></ul>"
        "<h2>Control mapping</h2><table><tr><th>framework</th><th>control</th><th>requirement</th>"
        f"<th>evidence in this bundle</th><th>files</th></tr>{controls}</table>"
        f"<h2>Findings (exceptions)</h2>{table}"
        "<p>Integrity: <code>manifest.json</code> lists the SHA-256 of every file; check with "
        "<code>cfgwatch export verify</code>.</p></body></html>\n"
    )
