"""Backend selection from cfgwatch.yaml's `flows:` section."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from _flow_fixtures import export_rows_to_nfcapd, require_binary

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


# -- the enricher is part of every backend ------------------------------------------------------------------

CHANGE = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # edge1's proxy NAT in _report_fixtures (RUN2)


def _flow(start: datetime, src: str, dst: str, sport: int, dport: int, packets: int, **extra: int) -> dict[str, Any]:
    return {
        "time_start": start,
        "time_end": start + timedelta(seconds=2),
        "src_v4": int(ipaddress.IPv4Address(src)),
        "dst_v4": int(ipaddress.IPv4Address(dst)),
        "src_port": sport,
        "dst_port": dport,
        "packets": packets,
        "bytes": packets * 800,
        **extra,
    }


def _edge1_flows() -> list[dict[str, Any]]:
    """A day of CDN traffic with returns, then edge1's inside clients to the proxy (45.77.1.2:3128) with few."""
    rows: list[dict[str, Any]] = []
    for step in range(45):
        moment = CHANGE - timedelta(hours=15) + timedelta(minutes=20 * step)
        rows.append(_flow(moment, "10.0.0.7", "104.16.5.7", 40000 + step, 443, 20, direction=2))
        rows.append(_flow(moment + timedelta(seconds=1), "104.16.5.7", "10.0.0.7", 443, 40000 + step, 18))
    for step in range(40):
        moment = CHANGE + timedelta(minutes=30 + 8 * step)
        rows.append(_flow(moment, "10.0.0.5", "45.77.1.2", 50000 + step, 3128, 50, direction=2))
    rows.append(_flow(CHANGE + timedelta(hours=1), "45.77.1.2", "10.0.0.5", 3128, 50000, 10))
    return rows


@pytest.fixture(scope="module")
def edge1_flows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same flows as an nfcapd tree (via a real nfcapd) and as `nfdump -o csv` for the embedded store."""
    nfdump = require_binary("nfdump", "nfdump")
    require_binary("nfcapd", "nfdump")
    root = tmp_path_factory.mktemp("edge1-flows")
    flowdir = export_rows_to_nfcapd(_edge1_flows(), root / "nfcapd")
    csv_file = root / "flows.csv"
    with csv_file.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [nfdump, "-R", str(flowdir), "-o", "csv"],
            stdout=handle,
            check=True,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        )
    return flowdir, csv_file


def _cli(*args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "cfgwatch", *args], capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("asn_db", [False, True], ids=["no-asn-db", "asn-db"])
def test_nfdump_verdicts_and_hunt_see_the_asn_database_as_duckdb_does(
    tmp_path: Path, edge1_flows: tuple[Path, Path], asn_db: bool
) -> None:
    """Verdict notes and `flows hunt` read the enricher from the backend: nfdump must expose the same one."""
    from _report_fixtures import build_project

    from cfgwatch.demo import build_demo_asn_db
    from cfgwatch.flows.enrich import NO_ASN_DB_NOTE

    flowdir, csv_file = edge1_flows
    config = build_project(tmp_path)
    config_file = tmp_path / "cfgwatch.yaml"
    raw = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    raw["flows"] = {
        "store": "flows",
        "nfdump": {
            "directory": str(flowdir),
            "exporters": {"edge1": {"address": "127.0.0.1"}, "fw1": {"address": "127.0.0.9"}},
        },
        **({"asn_db": str(build_demo_asn_db(tmp_path / "asn.mmdb"))} if asn_db else {}),
    }
    config_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    base = ["-c", str(config_file)]
    code, _, err = _cli(*base, "flows", "ingest", str(csv_file), "--format", "nfdump-csv", "--exporter", "edge1")
    assert code == 0, err
    since = subprocess.run(
        ["git", "--git-dir", str(config.snapshots_path), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    verdicts: dict[str, list[tuple[str, str, list[str]]]] = {}
    hunts: dict[str, dict[str, Any]] = {}
    for backend in ("duckdb", "nfdump"):
        raw["flows"]["backend"] = backend
        config_file.write_text(yaml.safe_dump(raw), encoding="utf-8")
        code, out, err = _cli(*base, "audit", "--since", since, "--format", "json")
        assert code == 1, err
        findings = json.loads(out)["findings"]
        verdicts[backend] = [(item["id"], item["flow"]["verdict"], item["flow"]["notes"]) for item in findings]
        code, out, err = _cli(*base, "flows", "hunt", "--since", "24h", "--until", "latest", "--format", "json")
        assert code in (0, 1), err
        hunts[backend] = json.loads(out)

    assert verdicts["nfdump"] == verdicts["duckdb"]
    checked = [notes for _, verdict, notes in verdicts["nfdump"] if verdict != "not-checked"]
    assert any(verdict == "traffic-confirmed" for _, verdict, _ in verdicts["nfdump"])
    assert checked and all((NO_ASN_DB_NOTE in notes) is not asn_db for notes in checked)
    assert hunts["nfdump"]["notes"] == hunts["duckdb"]["notes"]
    assert (NO_ASN_DB_NOTE in hunts["nfdump"]["notes"]) is not asn_db
    assert hunts["nfdump"]["findings"] == hunts["duckdb"]["findings"] != []
