"""Flow stores behind one interface (`base.FlowBackend`), chosen by name from the `cfgwatch.flow_backends` registry.

The built-ins (embedded DuckDB, nfdump, ClickHouse) are declared in cfgwatch's pyproject.toml and pointed at
the `BackendPlugin`s below; their factories import the backend module only when a backend is opened, so
choosing or validating a name never imports duckdb or clickhouse-driver. A site package adds a backend, or
replaces one of these, by declaring an entry point of its own under the same group.
"""

from __future__ import annotations

import os
from pathlib import Path

from cfgwatch.errors import ConfigError
from cfgwatch.flows.backends.base import BackendPlugin, FlowBackend
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.plugins import FLOW_BACKENDS_GROUP, Registry, instance_of

FLOW_BACKENDS: Registry[BackendPlugin] = Registry(
    FLOW_BACKENDS_GROUP, "flow backend", validate=instance_of(BackendPlugin)
)


def open_backend(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
    """The backend `flows.backend` names in cfgwatch.yaml, opened by its registered factory."""
    return FLOW_BACKENDS.get(settings.backend).open(settings, store=store, base_dir=base_dir, enricher=enricher)


def _open_duckdb(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
    from cfgwatch.flows.backends.duckdb import DuckDBBackend

    return DuckDBBackend(store, enricher=enricher)


def _open_nfdump(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
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
        enricher=enricher,
    )


def _open_clickhouse(settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend:
    from cfgwatch.flows.backends.clickhouse import ClickHouseBackend

    ch = settings.clickhouse
    password = ""
    if ch.password_env:
        if ch.password_env not in os.environ:
            raise ConfigError(f"environment variable {ch.password_env} is not set", key="flows.clickhouse.password_env")
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
        cluster=ch.cluster,
        enricher=enricher,
    )


# The built-ins, registered by name in pyproject.toml ([project.entry-points."cfgwatch.flow_backends"]).
DUCKDB = BackendPlugin(_open_duckdb, embedded_store=True)
NFDUMP = BackendPlugin(_open_nfdump)
CLICKHOUSE = BackendPlugin(_open_clickhouse)
