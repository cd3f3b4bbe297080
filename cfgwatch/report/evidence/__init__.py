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
* ``approval-history.json``: every commit of the approval history with its raw git objects, so
  ``verify_bundle`` recomputes each commit id and the parent chain.
* ``manifest.json``: SHA-256 and size of every file above; optionally ``manifest.sig`` (Ed25519 signature of
  the manifest bytes, base64) and ``manifest.pub`` (the signer's public key, PEM).

Exporting the same range twice gives byte-identical files (no wall-clock time inside; zip entries sorted,
dated 1980-01-01, fixed permissions). ``verify_bundle`` recomputes every hash, checks the signature and
names the altered, missing and extra files.
"""

from cfgwatch.report.evidence.collect import REDACTED, Evidence, gather, redact, redacted_config
from cfgwatch.report.evidence.files import bundle_files, coverage_document, render_files, write_bundle, zip_bytes
from cfgwatch.report.evidence.manifest import (
    FORMAT,
    HISTORY_FILE,
    MANIFEST,
    PUBLIC_KEY,
    SIGN_PASSPHRASE_ENV,
    SIGNATURE,
    VerifyResult,
    generate_key,
    json_bytes,
    key_fingerprint,
    load_private_key,
    load_public_key,
    manifest_bytes,
    public_pem,
    read_bundle,
    verify_bundle,
)
from cfgwatch.report.evidence.summary import CONTROLS, Controls, summary_html, summary_markdown

__all__ = [
    "CONTROLS",
    "FORMAT",
    "HISTORY_FILE",
    "MANIFEST",
    "PUBLIC_KEY",
    "REDACTED",
    "SIGNATURE",
    "SIGN_PASSPHRASE_ENV",
    "Controls",
    "Evidence",
    "VerifyResult",
    "bundle_files",
    "coverage_document",
    "gather",
    "generate_key",
    "json_bytes",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "manifest_bytes",
    "public_pem",
    "read_bundle",
    "redact",
    "redacted_config",
    "render_files",
    "summary_html",
    "summary_markdown",
    "verify_bundle",
    "write_bundle",
    "zip_bytes",
]
