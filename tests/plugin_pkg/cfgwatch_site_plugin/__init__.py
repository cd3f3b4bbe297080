"""A site's cfgwatch plugins: a ticket-bot report format, Excel-friendly CSV, a smaller embedded flow store.

Everything here uses cfgwatch's public plugin types only (`ReportFormat`, `BackendPlugin`); cfgwatch finds
it through the entry points in this package's pyproject.toml.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from cfgwatch.flows.backends.base import BackendPlugin, FlowBackend
from cfgwatch.report.formats import ReportFormat

if TYPE_CHECKING:
    from cfgwatch.audit import AuditResult
    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.settings import FlowSettings

MEMORY_LIMIT = "256MB"  # the collector host is shared: the embedded store gets a smaller budget


def ticket_lines(result: AuditResult) -> str:
    """One tab-separated line per finding (id, severity, device), the input of the site's ticket bot."""
    lines = ["plugin-demo report"] + [f"{item.id}\t{item.severity}\t{item.device}" for item in result.findings]
    return "\n".join(lines) + "\n"


def semicolon_csv(result: AuditResult) -> str:
    """cfgwatch's CSV with `;` between fields, as spreadsheets in comma-decimal locales expect."""
    from cfgwatch.report.tabular import audit_csv

    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(csv.reader(io.StringIO(audit_csv(result))))
    return out.getvalue()


def open_site_duckdb(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
    from cfgwatch.flows.backends.duckdb import DuckDBBackend

    return DuckDBBackend(store, enricher=enricher, memory_limit=MEMORY_LIMIT, threads=1)


PLUGIN_DEMO = ReportFormat(ticket_lines)
SEMICOLON_CSV = ReportFormat(semicolon_csv)
SITE_DUCKDB = BackendPlugin(open_site_duckdb, embedded_store=True)
