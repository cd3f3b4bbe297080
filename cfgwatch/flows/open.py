"""Open the configured flow backend and enricher from cfgwatch.yaml (shared by the CLI and the audit)."""

from __future__ import annotations

import re
from datetime import timedelta

from cfgwatch.config import CfgwatchConfig
from cfgwatch.errors import InputError
from cfgwatch.flows.backends import FLOW_BACKENDS
from cfgwatch.flows.backends import open_backend as open_selected
from cfgwatch.flows.backends.base import FlowBackend
from cfgwatch.flows.enrich import Enricher


def make_enricher(config: CfgwatchConfig) -> Enricher:
    settings = config.flows
    return Enricher(
        config.resolve(settings.asn_db) if settings.asn_db else None,
        [config.resolve(path) for path in settings.provider_ranges],
        config.resolve(settings.tor_exits) if settings.tor_exits else None,
    )


def open_backend(config: CfgwatchConfig, name: str | None = None) -> FlowBackend:
    """The backend named (default: flows.backend), built from cfgwatch.yaml by its registered factory."""
    chosen = name or config.flows.backend
    if chosen not in FLOW_BACKENDS:
        raise InputError(FLOW_BACKENDS.unknown_message(chosen), key="flows.backend")
    settings = config.flows if chosen == config.flows.backend else config.flows.model_copy(update={"backend": chosen})
    return open_selected(
        settings,
        store=config.resolve(settings.store_path(config.snapshots)),
        base_dir=config.base_dir,
        enricher=make_enricher(config),
    )


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30m', '24h', '7d', '2w' -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise InputError(f"bad duration {text!r} (use e.g. 30m, 24h, 7d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})
