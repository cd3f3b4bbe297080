"""Coverage everywhere (issue 16 item 4): a device that failed to pull, a stale one and a silent flow exporter
show in every audit format, in the nightly's summary, exit code and monitoring files; never as "no change"."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from _report_fixtures import RUN3, build_project, open_store

from cfgwatch.config import load_config
from cfgwatch.coverage import device_coverage
from cfgwatch.flows.synth import SynthFlow, write_nfdump_csv
from cfgwatch.project import Project
from cfgwatch.store import DeviceFailure, DeviceSnapshot, JournalEntry
from tests.conftest import Cli

FAILED_AT = RUN3 + timedelta(hours=2)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """Three runs (see _report_fixtures), then a run in which fw1 refuses the login."""
    config = build_project(tmp_path)
    open_store(config).write_run(
        [], (DeviceFailure("fw1", "auth", "login refused"),), collector="test", started=FAILED_AT
    )
    return config.base_dir


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html", "csv", "jsonl"])
def test_failed_device_is_in_every_audit_format(project_dir: Path, cli: Cli, fmt: str) -> None:
    code, out, err = cli("audit", "--no-flows", "--since", "3650d", "--format", fmt, cwd=project_dir)
    assert code in (0, 1), err
    if fmt == "json":
        coverage = json.loads(out)["coverage"]
        (failed,) = coverage["failed"]
        assert (failed["device"], failed["reason"], failed["stale_since"]) == ("fw1", "auth", RUN3.isoformat())
        assert coverage["pulled"] == [] and coverage["complete"] is False
        assert coverage["exporters_checked"] is False
    elif fmt == "csv":
        rows = [row for row in csv.DictReader(io.StringIO(out)) if row["id"] == "COVERAGE"]
        assert [(r["device"], r["change"], r["flags"]) for r in rows] == [("fw1", "pull-failed", "auth: login refused")]
    elif fmt == "jsonl":
        events = [json.loads(line) for line in out.splitlines()]
        (gap,) = [e for e in events if e["event"]["kind"] == "event"]
        assert gap["observer"]["name"] == "fw1" and gap["event"]["action"] == "pull-failed"
        assert gap["event"]["outcome"] == "failure"
    else:
        assert "1 FAILED (fw1 auth)" in out and "fw1: auth (login refused)" in out
        assert f"snapshot stale since {RUN3.isoformat()}" in out
    if fmt == "html":
        assert '<section id="coverage" class="coverage-incomplete">' in out


def test_complete_coverage_adds_no_rows_to_csv_and_jsonl(tmp_path: Path, cli: Cli) -> None:
    base = build_project(tmp_path).base_dir
    _, out, _ = cli("audit", "--no-flows", "--since", "3650d", "--format", "csv", cwd=base)
    assert all(row["id"] != "COVERAGE" for row in csv.DictReader(io.StringIO(out)))
    _, out, _ = cli("audit", "--no-flows", "--since", "3650d", "--format", "text", cwd=base)
    assert "coverage: 2 pulled, 0 failed, flow exporters not checked" in out


def _entry(when: datetime, ok: tuple[str, ...], failed: tuple[str, ...] = ()) -> JournalEntry:
    failures = tuple(DeviceFailure(name, "timeout", "no answer") for name in failed)
    return JournalEntry("r", "test", when, when, None, (), (), ok, failures)


def test_device_coverage_streaks_and_staleness() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    entries = [
        _entry(day, ("a", "b", "c")),
        _entry(day + timedelta(days=1), ("a", "c"), ("b",)),
        _entry(day + timedelta(days=2), ("a",), ("b",)),  # c not tried: stale after 36 h
        _entry(day + timedelta(days=3), ("a",), ("b",)),
    ]
    source, at, pulled, failed, stale = device_coverage(
        entries, [], devices=["a", "b", "c", "d"], at=None, stale_after=timedelta(hours=36)
    )
    assert source == "run-journal" and at == day + timedelta(days=3) and pulled == ("a",)
    (b,) = failed
    assert (b.device, b.failing_since, b.stale_since) == ("b", day + timedelta(days=1), day)
    assert [(s.device, s.since) for s in stale] == [("c", day + timedelta(days=1)), ("d", None)]
    # as of day 2, c is still fresh (pulled a day before)
    _, _, _, _, stale = device_coverage(
        entries, [], devices=["a", "b", "c"], at=day + timedelta(days=2), stale_after=timedelta(hours=36)
    )
    assert stale == ()


def _nightly_project(root: Path, *, flows: bool) -> Path:
    (root / "inventory").mkdir(parents=True)
    hosts = {name: {"hostname": "127.0.0.1", "data": {"platform": "cisco_ios"}} for name in ("edge1", "fw1")}
    (root / "inventory" / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    config = {"state_dir": "state", "nightly": {"flows": flows}, "flows": {"store": "flows"}}
    (root / "cfgwatch.yaml").write_text(yaml.safe_dump(config))
    from cfgwatch import api

    api.init_project(root)
    return root


def _write_run(root: Path, when: datetime, ok: dict[str, str], failed: tuple[str, ...] = ()) -> None:
    from cfgwatch import api

    store = api.open_store(load_config(root / "cfgwatch.yaml"))
    store.write_run(
        [DeviceSnapshot(name, "cisco_ios", text) for name, text in ok.items()],
        [DeviceFailure(name, "auth", "login refused") for name in failed],
        collector="test",
        started=when,
    )


def test_nightly_names_a_failed_device_and_exits_1_without_findings(tmp_path: Path, cli: Cli) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    root = _nightly_project(tmp_path / "p", flows=False)
    _write_run(root, now - timedelta(hours=30), {"edge1": "hostname edge1\nend\n", "fw1": "hostname fw1\nend\n"})
    _write_run(root, now - timedelta(hours=1), {"edge1": "hostname edge1\nend\n"}, failed=("fw1",))
    code, out, _ = cli("nightly", "--no-pull", "--no-notify", cwd=root)
    assert code == 1, out
    assert out.splitlines()[0] == "cfgwatch nightly: pull skipped, last run: 1 FAILED (fw1 auth), 0 findings"
    assert "fw1: auth (login refused)" in out
    summary = json.loads((root / "state" / "nightly-summary.json").read_text())
    assert summary["devices"]["failed_devices"] == [{"device": "fw1", "reason": "auth", "detail": "login refused"}]
    assert summary["exit_code"] == 1 and summary["devices"]["from"] == "last-run" and summary["devices"]["ok"] == 1


def test_nightly_exits_1_when_a_flow_exporter_went_silent(tmp_path: Path, cli: Cli) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    root = _nightly_project(tmp_path / "p", flows=True)
    _write_run(root, now - timedelta(hours=30), {"edge1": "hostname edge1\nend\n", "fw1": "hostname fw1\nend\n"})
    _write_run(root, now - timedelta(hours=1), {"edge1": "hostname edge1\nend\n", "fw1": "hostname fw1\nend\n"})
    flows = [
        SynthFlow(now - timedelta(hours=hours), "10.0.0.5", "192.0.2.9", 40000, 443, 6, 10, 900, exporter)
        for hours in range(2, 60)
        for exporter in ("edge1", "fw1")
        if exporter == "edge1" or hours > 40  # fw1 stopped sending 40 hours ago
    ]
    csv_file = write_nfdump_csv(tmp_path / "flows.csv", flows)
    project = Project.open(root / "cfgwatch.yaml")
    project.ingest_flows([csv_file], "nfdump-csv")
    code, out, _ = cli("nightly", "--no-pull", "--no-notify", cwd=root)
    assert code == 1, out
    assert "1 exporter(s) SILENT (fw1)" in out.splitlines()[0]
    assert "silent exporter: fw1: no flow records since" in out
    prom = (root / "state" / "cfgwatch_nightly.prom").read_text()
    assert "cfgwatch_nightly_exporters_silent 1" in prom
