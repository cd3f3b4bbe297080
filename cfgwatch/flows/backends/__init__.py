"""Flow stores behind one interface (`base.FlowBackend`): embedded DuckDB, nfdump, ClickHouse."""

from __future__ import annotations

from pathlib import Path

from cfgwatch.errors import ConfigError
from cfgwatch.flows.backends.base import FlowBackend
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.settings import FlowSettings


def open_backend(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
    """The backend `flows.backend` selects in cfgwatch.yaml (duckdb, nfdump or clickhouse)."""
    if settings.backend == "nfdump":
        from cfgwatch.flows.backends.nfdump import NfdumpBackend, NfdumpExporter

        if settings.nfdump is None:
            raise ConfigError("flows.backend is nfdump but flows.nfdump.directory is not set", key="flows.nfdump")
        nf = settings.nfdump
        directory = nf.directory if nf.directory.is_absolute() else base_dir / nf.directory
        return NfdumpBackend(
            directory,
            exporters=[NfdumpExporter(name, item.address, item.subdir) for name, item in nf.exporters.items()],
            binary=nf.binary,
            max_flow_seconds=nf.max_flow_seconds,
            file_slack_seconds=nf.file_slack_seconds,
            enrich=enricher,
        )
    if settings.backend == "clickhouse":
        import os

        from cfgwatch.flows.backends.clickhouse import ClickHouseBackend

        ch = settings.clickhouse
        password = ""
        if ch.password_env:
            if ch.password_env not in os.environ:
                raise ConfigError(
                    f"environment variable {ch.password_env} is not set", key="flows.clickhouse.password_env"
                )
            password = os.environ[ch.password_env]
        return ClickHouseBackend(
            host=ch.host,
            port=ch.port,
            database=ch.database,
            user=ch.user,
            password=password,
            secure=ch.secure,
            table=ch.table,
            columns=ch.columns,
            create=ch.create,
            enricher=enricher,
        )
    from cfgwatch.flows.backends.duckdb import DuckDBBackend

    return DuckDBBackend(store, enricher=enricher)
