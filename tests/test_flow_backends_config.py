"""Backend selection from cfgwatch.yaml's `flows:` section."""

from __future__ import annotations

from pathlib import Path

import pytest
from _flow_fixtures import require_binary

from cfgwatch.errors import ConfigError
from cfgwatch.flows.backends import open_backend
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.backends.nfdump import NfdumpBackend
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.settings import FlowSettings


def test_default_backend_is_the_embedded_store(tmp_path: Path) -> None:
    backend = open_backend(FlowSettings(), store=tmp_path / "flows", base_dir=tmp_path, enricher=Enricher())
    assert isinstance(backend, DuckDBBackend)
    backend.close()


def test_nfdump_backend_resolves_its_directory_against_the_config(tmp_path: Path) -> None:
    require_binary("nfdump", "nfdump")
    (tmp_path / "nfcapd").mkdir()
    settings = FlowSettings.model_validate(
        {"backend": "nfdump", "nfdump": {"directory": "nfcapd", "exporters": {"edge-fw1": {"address": "192.0.2.1"}}}}
    )
    backend = open_backend(settings, store=tmp_path / "flows", base_dir=tmp_path, enricher=Enricher())
    assert isinstance(backend, NfdumpBackend)
    assert backend.directory == tmp_path / "nfcapd"
    assert backend.exporters["edge-fw1"].address == "192.0.2.1"
    assert backend.time_range() is None  # an empty nfcapd tree holds no flows


def test_nfdump_backend_needs_its_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"flows\.nfdump"):
        open_backend(FlowSettings(backend="nfdump"), store=tmp_path, base_dir=tmp_path, enricher=Enricher())


def test_clickhouse_password_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CFGWATCH_TEST_CH_PASSWORD", raising=False)
    settings = FlowSettings.model_validate(
        {"backend": "clickhouse", "clickhouse": {"password_env": "CFGWATCH_TEST_CH_PASSWORD"}}
    )
    with pytest.raises(ConfigError, match="CFGWATCH_TEST_CH_PASSWORD"):
        open_backend(settings, store=tmp_path, base_dir=tmp_path, enricher=Enricher())


def test_unknown_backend_settings_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="extra"):
        FlowSettings.model_validate({"backend": "clickhouse", "clickhouse": {"hots": "db1"}})
