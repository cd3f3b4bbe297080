"""Writing a bundle: every file of the period rendered to bytes, the manifest and signature added, and the
result written as a folder or a reproducible zip (sorted entries, fixed dates and permissions)."""

from __future__ import annotations

import io
import zipfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cfgwatch import __version__
from cfgwatch.errors import InputError
from cfgwatch.policy.findings import ATTACK
from cfgwatch.report.evidence.collect import Evidence
from cfgwatch.report.evidence.manifest import FORMAT, HISTORY_FILE, json_bytes, key_fingerprint, manifest_bytes, signed
from cfgwatch.report.evidence.summary import CONTROLS, summary_html, summary_markdown
from cfgwatch.report.findings import audit_document
from cfgwatch.report.tabular import findings_csv

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


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
    last = evidence.audit.coverage
    return {
        "last_run": last.to_json() if last is not None else None,
        "range": evidence.range_json(),
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


def render_files(evidence: Evidence, signed: str | None = None) -> dict[str, bytes]:
    """Every bundle file except the manifest and signature, keyed by its path in the bundle."""
    document = audit_document(evidence.audit)
    document.pop("generated", None)  # wall-clock time would break byte-identical exports
    document["range"] = evidence.range_json()
    attribution = [
        {key: entry[key] for key in ("device", "family", "key", "finding_id", "change_time", "attribution")}
        for entry in evidence.decisions
    ]
    commits = {
        "range": evidence.range_json(),
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
        "range": evidence.range_json(),
        "attack": dict(ATTACK),
        "controls": [f"{c.framework} {c.control}" for c in CONTROLS],
    }
    return {
        "findings.json": json_bytes(document),
        "findings.csv": findings_csv(evidence.audit.findings).encode("utf-8"),
        "changes.json": json_bytes({"range": evidence.range_json(), "changes": list(evidence.decisions)}),
        "approvals.json": json_bytes({"approvals": list(evidence.approvals), "tickets": list(evidence.tickets)}),
        "attribution.json": json_bytes({"range": evidence.range_json(), "changes": attribution}),
        "coverage.json": json_bytes(coverage_document(evidence)),
        "commits.json": json_bytes(commits),
        "tool.json": json_bytes(tool),
        "config/cfgwatch.yaml": evidence.config_text.encode("utf-8"),
        "summary.md": summary_markdown(evidence, signed).encode("utf-8"),
        "summary.html": summary_html(evidence, signed).encode("utf-8"),
        HISTORY_FILE: json_bytes({"pending_hand_edit": evidence.history_pending, "commits": list(evidence.history)}),
    }


def bundle_files(evidence: Evidence, signing_key: Ed25519PrivateKey | None = None) -> dict[str, bytes]:
    """The complete bundle: files, manifest and (when a key is given) signature and public key."""
    fingerprint = key_fingerprint(signing_key.public_key()) if signing_key is not None else None
    files = render_files(evidence, fingerprint)
    return signed(files, manifest_bytes(files, evidence.range_json()), signing_key)


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
