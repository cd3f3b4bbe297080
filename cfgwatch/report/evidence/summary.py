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
        "coverage, the approval history's commits, and the hash manifest that protects the record.",
        ("changes.json", "commits.json", "coverage.json", "manifest.json"),
    ),
)


def _counts(evidence: Evidence) -> dict[str, Any]:
    decisions = Counter(entry["decision"] for entry in evidence.decisions)
    failures = sum(len(entry.failed) for entry in evidence.journal) or sum(len(run.failed) for run in evidence.runs)
    devices = sorted({entry["device"] for entry in evidence.decisions})
    return {
        **evidence.approval_counts(),
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


def summary_markdown(evidence: Evidence, signed: str | None = None) -> str:
    counts = _counts(evidence)
    lines = [
        "# cfgwatch change-control evidence",
        "",
        f"Period: {evidence.start.isoformat()} to {evidence.end.isoformat()} · cfgwatch {__version__}",
        "",
        f"- Collection runs: {counts['runs']} ({counts['failed_pulls']} failed device pull(s)); "
        f"snapshot commits: {counts['commits']}",
        f"- Rule changes: {counts['changes']} on {len(counts['devices_changed'])} device(s): "
        f"{counts['no_effect']} with no effect on permitted traffic",
        f"- Findings (not approved): {counts['findings']}",
        f"- Approved in advance: {counts['approved_in_advance']}",
        f"- Approved after the fact (retroactive): {counts['approved_after_the_fact']}"
        + (f"; approval time unknown: {counts['approved_time_unknown']}" if counts["approved_time_unknown"] else ""),
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
    lines += ["", "## Approved changes", ""]
    approved = approved_rows(evidence)
    if approved:
        lines += [
            "| device | change | approval | approved by | approved at | ticket (status) | retroactive |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in approved:
            lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("`", "'") for cell in row) + " |")
    else:
        lines.append("None.")
    lines += ["", "## Coverage", ""]
    lines += [f"- {line.strip()}" for line in coverage_lines(evidence)]
    lines += ["", integrity_text(signed, markdown=True)]
    return "\n".join(lines) + "\n"


def approved_rows(evidence: Evidence) -> list[list[str]]:
    """One row per approved change: device, change key, approval, approver, time, ticket + status, retroactive."""
    rows: list[list[str]] = []
    for entry in evidence.decisions:
        approval = entry.get("approval")
        if entry["decision"] != "approved" or not approval:
            continue
        retro = {True: "RETROACTIVE", False: "no"}.get(approval.get("retroactive"), "unknown")
        ticket = f"{approval.get('ticket')} ({approval.get('ticket_status')})"
        if "ticket-not-approved" in approval.get("flags", []):
            ticket += " NOT APPROVED"
        rows.append(
            [
                entry["device"],
                _change_line(entry),
                str(approval.get("id")) + (" (pre-approval)" if approval.get("mode") == "pre-approval" else ""),
                approval.get("approved_by") or "unknown",
                approval.get("approved_at") or "unknown",
                ticket,
                retro,
            ]
        )
    return rows


def _change_line(entry: dict[str, Any]) -> str:
    """The config line of the change (its first line after, else before), else its family."""
    change = entry.get("change") or {}
    for side in ("lines_after", "lines_before"):
        lines = (change.get(side) or {}).get("lines") or []
        if lines:
            return f"{change.get('change', '')} {lines[0].strip()}".strip()
    return str(entry["family"])


def coverage_lines(evidence: Evidence) -> list[str]:
    coverage = evidence.audit.coverage
    lines = coverage.lines() if coverage is not None else ["coverage: not computed"]
    if evidence.history_pending:
        lines.append("approved.yaml has edits not in the approval history (made by hand, unrecorded)")
    lines.append(f"approval history: {len(evidence.history)} commit(s) (approval-history.json)")
    return lines


def integrity_text(signed: str | None, *, markdown: bool) -> str:
    """Says "signed" only when the bundle is."""
    code = (lambda text: f"`{text}`") if markdown else (lambda text: f"<code>{esc(text)}</code>")
    verify = code("cfgwatch export verify")
    base = f"Integrity: {code('manifest.json')} lists the SHA-256 of every file; check with {verify}."
    if signed:
        return base + f" The manifest is signed (Ed25519, key {code(signed)})."
    return base + " This bundle is NOT signed: hashes alone do not prove the manifest was not rewritten."


def summary_html(evidence: Evidence, signed: str | None = None) -> str:
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
    approved_cells = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in approved_rows(evidence)
    )
    approved = (
        "<table><tr><th>device</th><th>change</th><th>approval</th><th>approved by</th><th>approved at</th>"
        f"<th>ticket (status)</th><th>retroactive</th></tr>{approved_cells}</table>"
        if approved_cells
        else "<p>None.</p>"
    )
    coverage = "".join(f"<li>{esc(line.strip())}</li>" for line in coverage_lines(evidence))
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
        f"<li>Rule changes: {counts['changes']}: {counts['no_effect']} with no effect on permitted traffic</li>"
        f"<li>Findings (not approved): {counts['findings']}</li>"
        f"<li>Approved in advance: {counts['approved_in_advance']}</li>"
        f"<li>Approved after the fact (retroactive): {counts['approved_after_the_fact']}"
        + (f"; approval time unknown: {counts['approved_time_unknown']}" if counts["approved_time_unknown"] else "")
        + "</li>"
        f"<li>Detection: MITRE ATT&amp;CK {esc(ATTACK['technique'])} ({esc(ATTACK['technique_name'])}), "
        f"{esc(ATTACK['detection_strategy'])} / {esc(ATTACK['analytic'])}</li></ul>"
        "<h2>Control mapping</h2><table><tr><th>framework</th><th>control</th><th>requirement</th>"
        f"<th>evidence in this bundle</th><th>files</th></tr>{controls}</table>"
        f"<h2>Findings (exceptions)</h2>{table}"
        f"<h2>Approved changes</h2>{approved}"
        f"<h2>Coverage</h2><ul>{coverage}</ul>"
        f"<p>{integrity_text(signed, markdown=False)}</p></body></html>\n"
    )
