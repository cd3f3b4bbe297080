"""A site's cfgwatch plugins: a ticket-bot report format, Excel-friendly CSV, a smaller embedded flow store
and the flow log of the site's own proxy appliance.

Everything here uses cfgwatch's public plugin types (`ReportFormat`, `BackendPlugin`, `FlowFormat` with the
row helpers of `cfgwatch.flows.formats.base`); cfgwatch finds it through this package's entry points.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cfgwatch.flows.backends.base import BackendPlugin, FlowBackend
from cfgwatch.flows.formats.base import FlowFormat, ReadStats, RecordError, Row, make_row, micros
from cfgwatch.flows.schema import Direction
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


def read_proxy_log(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """`time|client|server|port|packets|bytes` lines (ISO time, UTC) from the site's proxy appliance."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                when, client, server, port, packets, size = line.strip().split("|")
                start = micros(datetime.fromisoformat(when))
                yield make_row(
                    time_start=start,
                    time_end=start,
                    exporter=exporter or "proxy",
                    src=client,
                    dst=server,
                    dst_port=int(port),
                    proto=6,
                    packets=int(packets),
                    bytes_=int(size),
                    direction=Direction.EGRESS,
                )
                stats.records += 1
            except (RecordError, ValueError) as exc:
                stats.reject(number, str(exc))


PLUGIN_DEMO = ReportFormat(ticket_lines)
PROXY_LOG = FlowFormat(read_proxy_log)
SEMICOLON_CSV = ReportFormat(semicolon_csv)
SITE_DUCKDB = BackendPlugin(open_site_duckdb, embedded_store=True)
