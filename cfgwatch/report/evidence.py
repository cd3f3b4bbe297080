"""The compliance evidence bundle: what changed in a period, who did it, what approved it, and proof of integrity.

A bundle is a folder or a zip file holding:

* ``findings.json`` / ``findings.csv``: the audit findings of the period.
* ``changes.json``: every classified rule change with its before/after config lines, the decision taken
  (``finding``, ``approved`` or ``no-effect``), the approval and ticket matched, and attribution.
* ``approvals.json``: the approvals and tickets that matched a change in the period.
* ``attribution.json``: who changed what, when, from where, and how that is known.
* ``coverage.json``: per collection run the devices pulled OK and failed (from the run journal, else from
  the snapshot commits), per device totals, and flow coverage (findings by flow verdict).
* ``commits.json``: the snapshot commits covered.
* ``tool.json``: tool name and version, the range, the ATT&CK mapping.
* ``config/cfgwatch.yaml``: the configuration used, with anything secret-looking replaced by ``<redacted>``.
* ``summary.md`` / ``summary.html``: the period mapped to PCI DSS 1.2.2 / 1.2.7, SOX change management,
  ISO/IEC 27001:2022 A.8.32 and NIST SP 800-53 CM-3.
* ``manifest.json``: SHA-256 and size of every file above; optionally ``manifest.sig`` (Ed25519 signature of
  the manifest bytes, base64) and ``manifest.pub`` (the signer's public key, PEM).

Exporting the same range twice gives byte-identical files (no wall-clock time inside; zip entries sorted,
dated 1980-01-01, fixed permissions). ``verify_bundle`` recomputes every hash, checks the signature and
names the altered, missing and extra files.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cfgwatch import __version__
from cfgwatch.audit import (
    AuditResult,
    ChangeReview,
    FlowChecker,
    device_context,
    load_policy_inputs,
    run_audit,
    run_pairs_between,
)
from cfgwatch.config import CfgwatchConfig, config_path
from cfgwatch.errors import InputError
from cfgwatch.inventory import Inventory
from cfgwatch.policy.approved import find_approval
from cfgwatch.policy.findings import ATTACK, evaluate, finding_id
from cfgwatch.policy.tickets import Ticket
from cfgwatch.report.findings import audit_document
from cfgwatch.report.html import esc
from cfgwatch.report.tabular import findings_csv
from cfgwatch.report.view import finding_views
from cfgwatch.store import JournalEntry, RunInfo, SnapshotStore
from cfgwatch.yamlio import load_yaml

FORMAT = "cfgwatch-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "manifest.pub"
_CONTROL_FILES = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
REDACTED = "<redacted>"
SIGN_PASSPHRASE_ENV = "CFGWATCH_SIGN_KEY_PASSPHRASE"

# Keys whose values are secret whatever they hold, and values that look like secrets under any key.
_SECRET_KEY = re.compile(
    r"pass|secret|token|credential|auth|community|cookie|private|session|bearer|api[_-]?key|webhook|(^|_)key$",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_TOKEN_LIKE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_\-.]{32,}$")


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


# --- keys ------------------------------------------------------------------------------------------------


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key in PEM (PKCS#8) or OpenSSH form; a passphrase comes from $CFGWATCH_SIGN_KEY_PASSPHRASE."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the signing key: {exc.strerror}", path=path) from exc
    passphrase = os.environ.get(SIGN_PASSPHRASE_ENV, "").encode() or None
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key: object = serialization.load_ssh_private_key(data, password=passphrase)
        else:
            key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not a usable private key ({exc})", path=path) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key must be an Ed25519 key (openssl genpkey -algorithm ed25519)", path=path)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key: PEM, an OpenSSH `ssh-ed25519 ...` line, or the private key file itself."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the public key: {exc.strerror}", path=path) from exc
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        if data.lstrip().startswith(b"ssh-"):
            key: object = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not a usable public key ({exc})", path=path) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key must be an Ed25519 key", path=path)
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as people compare them (first 16 hex digits)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


def generate_key(path: Path) -> Path:
    """Write a new Ed25519 private key (PEM, mode 0600) and its public key next to it (PATH.pub)."""
    if path.exists():
        raise InputError("refusing to overwrite an existing key", path=path)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    public = path.with_name(path.name + ".pub")
    public.write_bytes(public_pem(key.public_key()))
    return public


# --- gathering -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything a bundle is made of, gathered once; rendering it is a pure function."""

    start: datetime
    end: datetime
    audit: AuditResult
    decisions: tuple[dict[str, Any], ...]  # one per change (changes.json)
    approvals: tuple[dict[str, Any], ...]
    tickets: tuple[dict[str, Any], ...]
    runs: tuple[RunInfo, ...]  # snapshot commits in range, oldest first
    base_commit: str | None  # the commit the first change is compared against
    journal: tuple[JournalEntry, ...]  # collection runs in range (empty when the project has no journal)
    config_text: str  # redacted cfgwatch.yaml


def _secret_key(key: str) -> bool:
    return bool(key) and bool(_SECRET_KEY.search(key)) and not key.endswith("_env")  # *_env names a variable


def redact(value: Any, key: str = "", *, inside_secret: bool = False) -> Any:
    """A copy of parsed YAML with secret-looking keys and values replaced by <redacted>.

    A key like `password` or `webhook` makes every string below it secret (a webhook's `url` carries its token).
    """
    secret = inside_secret or _secret_key(key)
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k), inside_secret=secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, key, inside_secret=secret) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if secret:
        return REDACTED
    text = str(value)
    if _TOKEN_LIKE.match(text):
        return REDACTED
    return _URL_USERINFO.sub(lambda match: f"{match.group('scheme')}{REDACTED}@", text)


def redacted_config(config: CfgwatchConfig, path: Path | None = None) -> str:
    """cfgwatch.yaml with secrets removed (comments dropped, keys sorted); the defaults when there is none."""
    source = path or config_path()
    if source.exists():
        raw = load_yaml(source, what="the config for the evidence bundle", error=InputError) or {}
        header = "# cfgwatch.yaml as used (secret-looking values replaced by <redacted>)\n"
    else:
        raw = config.model_dump(mode="json", exclude={"base_dir"})
        header = "# no cfgwatch.yaml: the built-in defaults were used\n"
    return header + yaml.safe_dump(redact(raw), sort_keys=True, allow_unicode=True)


def _ticket_json(ticket: Ticket, base: Path) -> dict[str, Any]:
    source = ticket.source
    try:
        source = str(Path(source).resolve().relative_to(base)) if source else source
    except ValueError:
        source = Path(source).name
    return {
        "id": ticket.id,
        "state": ticket.state,
        "approval": ticket.approval,
        "approved": ticket.approved,
        "start": ticket.start.isoformat() if ticket.start else None,
        "end": ticket.end.isoformat() if ticket.end else None,
        "devices": list(ticket.devices),
        "description": ticket.description,
        "source": source,
    }


def _review_json(review: ChangeReview) -> dict[str, Any]:
    return {
        "device": review.change.device,
        "family": review.change.family,
        "key": review.change.key,
        "finding_id": review.finding_id,
        "change_time": review.change_time.isoformat() if review.change_time else None,
        "run_before": review.pair.before.commit,
        "run_after": review.pair.after.commit,
        "attribution": review.attribution.to_json(),
    }


def gather(
    store: SnapshotStore,
    config: CfgwatchConfig,
    inventory: Inventory | None,
    start: datetime,
    end: datetime,
    *,
    journal: Sequence[JournalEntry] = (),
    flow_checker: FlowChecker | None = None,
    config_file: Path | None = None,
) -> Evidence:
    """Audit the runs whose time lies in [start, end] and collect what the bundle records.

    Approvals are judged as of the end of the range, so the same range gives the same evidence later.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("the export range needs timezone-aware times")
    if end < start:
        raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    today = end.date()
    pairs = run_pairs_between(store, start, end)
    inputs = load_policy_inputs(config)
    result = run_audit(store, config, inventory, today=today, flow_checker=flow_checker, pairs=pairs, inputs=inputs)
    findings = {finding.id: finding for finding in result.findings}
    decisions: list[dict[str, Any]] = []
    used_approvals: dict[str, dict[str, Any]] = {}
    used_tickets: set[str] = set()
    for review in result.reviews:
        change = review.change
        entry = _review_json(review)
        entry["change"] = change.to_json()
        approval: dict[str, Any] | None = None
        ticket: dict[str, Any] | None = None
        if review.finding_id is not None and review.finding_id in findings:
            decision = "finding"
            finding = findings[review.finding_id]
            ticket = finding.ticket.to_json()
            if finding.approval:
                approval = {"id": finding.approval, "expired": True}
        elif change.categories:
            decision = "approved"
            context = device_context(change.device, inventory, config.policy.groups)
            hit = find_approval(inputs.approvals, change, finding_id(change), context.groups, today)
            if hit is not None:
                data = hit.approval.model_dump(mode="json")
                label = hit.approval.id or f"{hit.approval.ticket}:{hit.approval.owner}"
                used_approvals[label] = {"label": label, **data}
                approval = {"id": label, "ticket": hit.approval.ticket, "expired": hit.expired}
            unapproved = evaluate(
                change,
                context,
                review.attribution,
                review.change_time,
                [],
                inputs.tickets,
                config.policy.ticket_pattern,
                today,
                observed_between=(review.pair.before.time, review.pair.after.time),
            )
            ticket = unapproved.ticket.to_json() if unapproved is not None else None
        else:
            decision = "no-effect"  # permits nothing new: nothing to approve
        if ticket is not None and ticket.get("matched"):
            used_tickets.add(str(ticket["matched"]).upper())
        entry.update({"decision": decision, "approval": approval, "ticket": ticket})
        decisions.append(entry)
    base = config.base_dir.resolve()
    tickets = tuple(
        _ticket_json(item, base)
        for item in sorted(inputs.tickets, key=lambda t: t.id)
        if item.id.upper() in used_tickets
    )
    runs = tuple(sorted((run for run in store.runs() if start <= run.time <= end), key=lambda run: run.time))
    in_range = tuple(entry for entry in journal if start <= entry.started <= end)
    return Evidence(
        start=start,
        end=end,
        audit=result,
        decisions=tuple(decisions),
        approvals=tuple(used_approvals[label] for label in sorted(used_approvals)),
        tickets=tickets,
        runs=runs,
        base_commit=pairs[0].before.commit if pairs else None,
        journal=tuple(sorted(in_range, key=lambda entry: (entry.started, entry.run_id))),
        config_text=redacted_config(config, config_file),
    )


# --- rendering -------------------------------------------------------------------------------------------


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _range(evidence: Evidence) -> dict[str, str]:
    return {"from": evidence.start.isoformat(), "to": evidence.end.isoformat()}


def coverage_document(evidence: Evidence) -> dict[str, Any]:
    """Devices collected OK / failed per run, per device totals, and flow coverage of the findings."""
    runs: list[dict[str, Any]] = []
    if evidence.journal:
        source = "run-journal"
        for entry in evidence.journal:
            runs.append(
                {
                    "run_id": entry.run_id,
                    "started": entry.started.isoformat(),
                    "finished": entry.finished.isoformat(),
                    "collector": entry.collector,
                    "commit": entry.commit,
                    "ok": list(entry.ok),
                    "failed": [{"device": f.name, "reason": f.reason, "detail": f.detail} for f in entry.failed],
                }
            )
    else:
        source = "snapshot-commits"  # runs that changed nothing are not in git: coverage is partial
        for run in evidence.runs:
            runs.append(
                {
                    "run_id": run.run_id,
                    "started": run.time.isoformat(),
                    "finished": None,
                    "collector": run.collector,
                    "commit": run.commit,
                    "ok": sorted((*run.changed, *run.added)),
                    "unchanged_count": run.unchanged_count,
                    "failed": [{"device": f.name, "reason": f.reason, "detail": f.detail} for f in run.failed],
                }
            )
    per_device: dict[str, Counter[str]] = defaultdict(Counter)
    for record in runs:
        for name in record["ok"]:
            per_device[name]["ok"] += 1
        for failure in record["failed"]:
            per_device[failure["device"]]["failed"] += 1
    verdicts = Counter(finding.flow.verdict for finding in evidence.audit.findings)
    return {
        "range": _range(evidence),
        "source": source,
        "runs": runs,
        "devices": {
            name: {"ok": counts["ok"], "failed": counts["failed"]} for name, counts in sorted(per_device.items())
        },
        "flows": {
            "findings_by_verdict": dict(sorted(verdicts.items())),
            "no_coverage": sorted(f.id for f in evidence.audit.findings if f.flow.verdict == "no-coverage"),
        },
    }


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


def render_files(evidence: Evidence) -> dict[str, bytes]:
    """Every bundle file except the manifest and signature, keyed by its path in the bundle."""
    document = audit_document(evidence.audit)
    document.pop("generated", None)  # wall-clock time would break byte-identical exports
    document["range"] = _range(evidence)
    attribution = [
        {key: entry[key] for key in ("device", "family", "key", "finding_id", "change_time", "attribution")}
        for entry in evidence.decisions
    ]
    commits = {
        "range": _range(evidence),
        "base_commit": evidence.base_commit,
        "commits": [
            {
                "commit": run.commit,
                "run_id": run.run_id,
                "time": run.time.isoformat(),
                "collector": run.collector,
                "changed": list(run.changed),
                "added": list(run.added),
                "failed": [f.name for f in run.failed],
            }
            for run in evidence.runs
        ],
    }
    tool = {
        "name": "cfgwatch",
        "version": __version__,
        "format": FORMAT,
        "range": _range(evidence),
        "attack": dict(ATTACK),
        "controls": [f"{c.framework} {c.control}" for c in CONTROLS],
    }
    return {
        "findings.json": _json_bytes(document),
        "findings.csv": findings_csv(evidence.audit.findings).encode("utf-8"),
        "changes.json": _json_bytes({"range": _range(evidence), "changes": list(evidence.decisions)}),
        "approvals.json": _json_bytes({"approvals": list(evidence.approvals), "tickets": list(evidence.tickets)}),
        "attribution.json": _json_bytes({"range": _range(evidence), "changes": attribution}),
        "coverage.json": _json_bytes(coverage_document(evidence)),
        "commits.json": _json_bytes(commits),
        "tool.json": _json_bytes(tool),
        "config/cfgwatch.yaml": evidence.config_text.encode("utf-8"),
        "summary.md": summary_markdown(evidence).encode("utf-8"),
        "summary.html": summary_html(evidence).encode("utf-8"),
    }


def manifest_bytes(files: Mapping[str, bytes], evidence_range: Mapping[str, str]) -> bytes:
    entries = [
        {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        for path, data in sorted(files.items())
    ]
    return _json_bytes({"format": FORMAT, "tool": f"cfgwatch {__version__}", "range": dict(evidence_range),
                        "files": entries})  # fmt: skip


def bundle_files(evidence: Evidence, signing_key: Ed25519PrivateKey | None = None) -> dict[str, bytes]:
    """The complete bundle: files, manifest and (when a key is given) signature and public key."""
    files = render_files(evidence)
    manifest = manifest_bytes(files, _range(evidence))
    files[MANIFEST] = manifest
    if signing_key is not None:
        files[SIGNATURE] = base64.b64encode(signing_key.sign(manifest)) + b"\n"
        files[PUBLIC_KEY] = public_pem(signing_key.public_key())
    return dict(sorted(files.items()))


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A zip with sorted entries, fixed dates and permissions: same files, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, whatever the host
            archive.writestr(info, files[path], compresslevel=9)
    return buffer.getvalue()


def write_bundle(files: Mapping[str, bytes], out: Path) -> Path:
    """Write to OUT.zip (replaced atomically) or into the folder OUT (which must be new or empty)."""
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = out.with_name(out.name + ".tmp")
        temporary.write_bytes(zip_bytes(files))
        temporary.replace(out)
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("the output folder must be new or empty (or give a .zip file)", path=out)
    for path, data in files.items():
        target = out.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return out


# --- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `cfgwatch export verify` found. Tampering is data (ok False), not an exception."""

    path: str
    files: int  # files listed in the manifest
    altered: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    signature: str  # valid | invalid | absent | missing (a key was given but the bundle is unsigned)
    key: str | None  # fingerprint of the key the signature was checked with
    key_source: str  # given | embedded | none
    problems: tuple[str, ...] = ()  # a malformed manifest entry, a public key that does not match

    @property
    def ok(self) -> bool:
        return not (self.altered or self.missing or self.extra or self.problems) and self.signature in (
            "valid",
            "absent",
        )


def read_bundle(path: Path) -> dict[str, bytes]:
    """The files of a bundle folder or zip, keyed by their bundle path."""
    if path.is_dir():
        files: dict[str, bytes] = {}
        for item in sorted(path.rglob("*")):
            if item.is_file():
                files[item.relative_to(path).as_posix()] = item.read_bytes()
        return files
    if path.is_file():
        try:
            with zipfile.ZipFile(path) as archive:
                return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"not an evidence bundle (a folder or zip): {exc}", path=path) from exc
    raise InputError("evidence bundle not found", path=path)


def verify_bundle(path: Path, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Recompute every hash in manifest.json, check the signature, and name altered/missing/extra files.

    With `public_key` the signature must be present and made by that key; without it an embedded
    manifest.pub is used (which proves integrity only against accidents, not against a forger).
    """
    files = read_bundle(path)
    if MANIFEST not in files:
        raise InputError(f"not an evidence bundle: no {MANIFEST}", path=path)
    try:
        manifest = json.loads(files[MANIFEST])
        entries = manifest["files"]
        if manifest.get("format") != FORMAT or not isinstance(entries, list):
            raise ValueError(f"format is not {FORMAT}")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{MANIFEST} is not a cfgwatch evidence manifest: {exc}", path=path) from exc
    problems: list[str] = []
    listed: dict[str, str] = {}
    for entry in entries:
        name = entry.get("path") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str):
            problems.append(f"{MANIFEST}: malformed entry {entry!r}")
            continue
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or name in _CONTROL_FILES:
            problems.append(f"{MANIFEST}: unsafe path {name!r}")
            continue
        if name in listed:
            problems.append(f"{MANIFEST}: {name} listed twice")
        listed[name] = digest
    missing = tuple(sorted(name for name in listed if name not in files))
    altered = tuple(
        sorted(
            name
            for name, digest in listed.items()
            if name in files and hashlib.sha256(files[name]).hexdigest() != digest
        )
    )
    extra = tuple(sorted(name for name in files if name not in listed and name not in _CONTROL_FILES))

    key = public_key
    key_source = "given" if public_key is not None else "none"
    if key is None and PUBLIC_KEY in files:
        try:
            embedded = serialization.load_pem_public_key(files[PUBLIC_KEY])
        except (ValueError, UnsupportedAlgorithm):
            embedded = None
        if isinstance(embedded, Ed25519PublicKey):
            key, key_source = embedded, "embedded"
        else:
            problems.append(f"{PUBLIC_KEY} is not an Ed25519 public key")
    if SIGNATURE not in files:
        signature = "missing" if public_key is not None or PUBLIC_KEY in files else "absent"
    elif key is None:
        signature = "invalid"
        problems.append(f"{SIGNATURE} present but no public key to check it (pass --public-key)")
    else:
        try:
            key.verify(base64.b64decode(files[SIGNATURE].strip(), validate=True), files[MANIFEST])
            signature = "valid"
        except (InvalidSignature, ValueError):
            signature = "invalid"
    return VerifyResult(
        path=str(path),
        files=len(listed),
        altered=altered,
        missing=missing,
        extra=extra,
        signature=signature,
        key=key_fingerprint(key) if key is not None else None,
        key_source=key_source,
        problems=tuple(problems),
    )
