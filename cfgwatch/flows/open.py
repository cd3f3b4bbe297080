"""Open the configured flow backend and enricher from cfgwatch.yaml (shared by the CLI and the audit)."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from typing import Any

from cfgwatch.config import CfgwatchConfig
from cfgwatch.errors import InputError
from cfgwatch.flows.backends.base import FlowBackend
from cfgwatch.flows.enrich import Enricher
from cfgwatch.model import AddressSet

# RFC 1918, RFC 6598 (CGNAT) and IPv6 ULA: internal unless the inventory says more.
DEFAULT_INTERNAL = AddressSet.parse("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
BACKENDS = ("duckdb", "nfdump", "clickhouse")


def make_enricher(config: CfgwatchConfig) -> Enricher:
    settings = config.flows
    return Enricher(
        config.resolve(settings.asn_db) if settings.asn_db else None,
        [config.resolve(path) for path in settings.provider_ranges],
        config.resolve(settings.tor_exits) if settings.tor_exits else None,
    )


def open_backend(config: CfgwatchConfig, name: str | None = None, **options: Any) -> FlowBackend:
    """The backend named (default: flows.backend). Other backends live in cfgwatch.flows.backends.<name>
    and expose `open_backend(config, enricher, **options) -> FlowBackend`."""
    chosen = name or config.flows.backend
    if chosen not in BACKENDS:
        raise InputError(f"unknown flow backend {chosen!r} (known: {', '.join(BACKENDS)})", key="flows.backend")
    enricher = make_enricher(config)
    if chosen == "duckdb":
        from cfgwatch.flows.backends.duckdb import DuckDBBackend

        root = config.resolve(config.flows.store_path(config.snapshots))
        return DuckDBBackend(root, enricher=enricher)
    try:
        module = importlib.import_module(f"cfgwatch.flows.backends.{chosen}")
    except ImportError as exc:
        raise InputError(f"flow backend {chosen!r} is not available: {exc}", key="flows.backend") from exc
    opener = getattr(module, "open_backend", None)
    if opener is None:
        raise InputError(f"flow backend {chosen!r} has no open_backend()", key="flows.backend")
    backend: FlowBackend = opener(config, enricher, **options)
    return backend


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30m', '24h', '7d', '2w' -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise InputError(f"bad duration {text!r} (use e.g. 30m, 24h, 7d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})
