"""`cfgwatch nightly` end to end on tmp projects: exit codes, the summary line, audit since the previous
nightly, coverage gaps from the run journal, the lock, real pulls that fail, notifications to a local
webhook (and to a dead one)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from _webhook import WebhookSink, webhook_sink
from test_audit import IOS_BASE, IOS_EVIL

from cfgwatch import api
from cfgwatch.config import load_config
from cfgwatch.nightly import STATE_NAME, coverage_gaps, read_state, run_nightly
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceFailure, DeviceSnapshot, JournalEntry

# the audit scenario's configs: a base IOS router and the malicious proxy forward on it
CORE_PLAIN = "hostname core9\n!\nend\n"

NOW = datetime.now(UTC).replace(microsecond=0)
Cli = Callable[..., tuple[int, str, str]]


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def hook() -> Iterator[tuple[WebhookSink, int]]:
    with webhook_sink() as receiver:
        yield receiver


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _project(root: Path, hook_port: int | None) -> Path:
    """Three devices on a port nobody listens on (pulls are refused fast), a webhook, policy as in test_audit."""
    inventory = root / "inventory"
    inventory.mkdir(parents=True)
    dead = _dead_port()
    hosts = {
        "edge1": {"hostname": "127.0.0.1", "port": dead, "groups": ["branch"], "data": {"platform": "cisco_ios"}},
        "fw1": {"hostname": "127.0.0.1", "port": dead, "groups": ["dc"], "data": {"platform": "cisco_asa"}},
        "core9": {"hostname": "127.0.0.1", "port": dead, "groups": ["dc"], "data": {"platform": "cisco_ios"}},
    }
    (inventory / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inventory / "groups.yaml").write_text(yaml.safe_dump({"branch": {}, "dc": {}}))
    (inventory / "defaults.yaml").write_text(
        yaml.safe_dump(
            {"data": {"collector": "netmiko", "credentials": {"username_env": "CW_U", "password_env": "CW_P"}}}
        )
    )
    config: dict[str, Any] = {
        "state_dir": "state",
        "policy": {
            "groups": {"default": {"change_windows": ["sat 22:00-sun 04:00"], "admins": ["netops"]}},
            "fail_on": "high",
        },
        "pull": {"retries": 0, "timeout": 5, "known_hosts": "known_hosts"},
        "nightly": {"coverage_gap_nights": 3, "flows": False},
    }
    if hook_port is not None:
        config["notify"] = {
            "min_severity": "high",
            "webhooks": [{"url": f"http://127.0.0.1:{hook_port}/nightly", "name": "soc"}],
        }
    (root / "cfgwatch.yaml").write_text(yaml.safe_dump(config))
    (root / "known_hosts").write_text("")
    api.init_project(root)
    return root


def _run(
    root: Path, texts: dict[str, str], when: datetime, *, failed: dict[str, str] | None = None, user: str = ""
) -> None:
    """One collection run written through the project's store (so the run journal records it too)."""
    store = api.open_store(load_config(root / "cfgwatch.yaml"))
    snaps = [
        DeviceSnapshot(
            name,
            "cisco_ios",
            text,
            ChangeMetadata(user=user, time=when, source="ios-header", raw="") if user else None,
        )
        for name, text in texts.items()
    ]
    failures = [DeviceFailure(name, reason, f"{reason} talking to {name}") for name, reason in (failed or {}).items()]
    store.write_run(snaps, failures, collector="test", started=when)


# --- end to end -------------------------------------------------------------------------------------------------


def test_nightly_audits_since_previous_notifies_and_reports_coverage_gap(
    tmp_path: Path, hook: tuple[WebhookSink, int], cli: Cli
) -> None:
    state, port = hook
    root = _project(tmp_path / "p", port)
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=3), failed={"core9": "timeout"})
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=2), failed={"core9": "timeout"})
    _run(root, {"edge1": IOS_EVIL}, NOW - timedelta(hours=20), failed={"core9": "auth"}, user="mallory")

    code, out, err = cli("nightly", "--no-pull", "--quiet", cwd=root)
    assert code == 1, (out, err)
    lines = out.splitlines()
    assert len(lines) == 1
    summary = lines[0]
    assert summary.startswith("cfgwatch nightly: pull skipped, ")
    assert "1 coverage gap" in summary and "notified webhook" in summary and "critical)" in summary
    # the webhook got every item at or above `high`, with the gap naming the failure reasons
    (body,) = state.bodies
    ids = [finding["id"] for finding in body["findings"]]
    gap = next(f for f in body["findings"] if f["id"].startswith("GAP-"))
    assert gap["device"] == "core9" and gap["categories"] == ["coverage-gap"]
    assert gap["flags"] == ["pull-failed:auth", "pull-failed:timeout"]
    assert gap["coverage"]["nights"] == 3 and gap["coverage"]["reason"] == "auth"
    assert any(f.get("categories") and "egress-forward" in f["categories"] for f in body["findings"])
    assert all(f["severity"] in ("high", "critical") for f in body["findings"]) and len(ids) == len(set(ids))
    head = api.open_store(load_config(root / "cfgwatch.yaml")).runs(1)[0].commit
    assert read_state(root / "state").last_commit == head

    # next night: core9 is back and nothing else changed -> nothing new since the previous nightly, exit 0
    _run(root, {"edge1": IOS_EVIL, "core9": CORE_PLAIN}, NOW - timedelta(minutes=5))
    code, out, err = cli("nightly", "--no-pull", cwd=root)
    assert code == 0, (out, err)
    assert out.splitlines()[0] == "cfgwatch nightly: pull skipped, 0 findings"
    assert len(state.bodies) == 1  # nothing at or above `high`: the webhook was not contacted
    state_doc = json.loads((root / "state" / STATE_NAME).read_text())
    assert state_doc["last_commit"] == api.open_store(load_config(root / "cfgwatch.yaml")).runs(1)[0].commit


def test_first_nightly_with_one_run_is_clean_and_text_lists_findings(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path / "p", None)
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=1))
    code, out, _ = cli("nightly", "--no-pull", cwd=root)
    assert code == 0
    assert out.splitlines()[0] == "cfgwatch nightly: pull skipped, 0 findings"
    assert "first nightly: audited the last run only" in out
    _run(root, {"edge1": IOS_EVIL}, NOW, user="mallory")
    code, out, _ = cli("nightly", "--no-pull", cwd=root)
    assert code == 1
    assert "[CRITICAL] CW-" in out and "egress-forward" in out


def test_real_pull_failures_feed_the_coverage_gap_and_a_dead_webhook_is_data(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_U", "admin")
    monkeypatch.setenv("CW_P", "n0t-a-real-s3cret")
    root = _project(tmp_path / "p", _dead_port())
    _run(
        root,
        {"edge1": IOS_BASE, "fw1": IOS_BASE.replace("edge1", "fw1")},
        NOW - timedelta(days=2),
        failed={"core9": "refused"},
    )
    _run(root, {}, NOW - timedelta(days=1), failed={"core9": "refused"})

    code, out, err = cli("nightly", "--quiet", cwd=root)  # pulls for real: every device refuses
    assert code == 1, (out, err)
    summary = out.strip()
    assert summary.startswith(
        "cfgwatch nightly: 0 pulled, 3 failed (core9 refused, edge1 refused, fw1 refused), 1 finding (1 high), "
        "1 coverage gap"
    )
    # the monitoring files name the failed devices too
    monitor = json.loads((root / "state" / "nightly-summary.json").read_text())
    assert monitor["exit_code"] == 1 and monitor["devices"]["ok"] == 0 and monitor["devices"]["failed"] == 3
    assert [f["device"] for f in monitor["devices"]["failed_devices"]] == ["core9", "edge1", "fw1"]
    assert monitor["findings"]["high"] == 1 and set(monitor["findings"]) == {
        "info",
        "low",
        "medium",
        "high",
        "critical",
    }
    prom = (root / "state" / "cfgwatch_nightly.prom").read_text()
    assert 'cfgwatch_nightly_devices{state="failed"} 3' in prom and 'cfgwatch_nightly_devices{state="ok"} 0' in prom
    assert 'cfgwatch_nightly_device_pull_failed{device="core9",reason="refused"} 1' in prom
    assert 'cfgwatch_nightly_findings{severity="high"} 1' in prom and "cfgwatch_nightly_duration_seconds " in prom
    assert "# TYPE cfgwatch_nightly_last_run_timestamp_seconds gauge" in prom
    assert "notify FAILED webhook(soc)" in summary
    assert "n0t-a-real-s3cret" not in out + err

    result = run_nightly(load_config(root / "cfgwatch.yaml"), send=False)  # the journal now has 4 entries
    (gap,) = result.gaps
    assert (gap.device, gap.nights, gap.reason) == ("core9", 3, "refused")
    assert result.pulled == 0 and result.pull_failed == 3 and result.notifications == ()
    doc = json.loads(json.dumps(result.to_json()))
    assert doc["exit_code"] == 1 and doc["pull"] == {"ok": 0, "failed": 3}
    assert doc["coverage_gaps"][0]["coverage"]["reason"] == "refused" and doc["audit"]["findings"] == []


def test_stage_error_exits_2_and_is_still_notified(tmp_path: Path, hook: tuple[WebhookSink, int], cli: Cli) -> None:
    state, port = hook
    root = _project(tmp_path / "p", port)
    (root / "snapshots").rename(root / "moved")
    (root / "snapshots").mkdir()
    (root / "snapshots" / "junk").write_text("x")
    code, out, _ = cli("nightly", "--no-pull", "-q", cwd=root)
    assert code == 2
    assert "error in audit: " in out and "not a git repository" in out
    (body,) = state.bodies
    assert body["errors"] and body["errors"][0].startswith("audit: ")
    assert not (root / "state" / STATE_NAME).exists()  # a failed audit does not move the "since" mark


def test_bad_notify_config_is_one_line_exit_2(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path / "p", None)
    config = yaml.safe_load((root / "cfgwatch.yaml").read_text())
    config["notify"] = {"email": [{"host": "h", "from": "a@b", "to": ["c@d"], "password": "x"}]}  # inline: refused
    (root / "cfgwatch.yaml").write_text(yaml.safe_dump(config))
    code, out, err = cli("nightly", "--no-pull", cwd=root)
    assert code == 2 and out == ""
    assert "cfgwatch.yaml" in err and "notify.email.0.password" in err and len(err.strip().splitlines()) == 1


# --- the lock -------------------------------------------------------------------------------------------------


def test_second_nightly_exits_2_while_one_runs_and_a_killed_holder_frees_the_lock(tmp_path: Path, cli: Cli) -> None:
    root = _project(tmp_path / "p", None)
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=1))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from cfgwatch.nightly import nightly_lock\n"
            "with nightly_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(600)\n",
            str(root / "state"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, out, err = cli("nightly", "--no-pull", cwd=root)
        assert code == 2 and out == ""
        assert f"another cfgwatch nightly is running (pid {holder.pid} since " in err
        assert "nightly.lock" in err
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    code, out, _ = cli("nightly", "--no-pull", cwd=root)  # the kernel released the dead holder's lock
    assert code == 0 and out.startswith("cfgwatch nightly: pull skipped, 0 findings")


# --- coverage gaps from the journal ------------------------------------------------------------------------------


def _entry(when: datetime, ok: tuple[str, ...] = (), failed: dict[str, str] | None = None) -> JournalEntry:
    return JournalEntry(
        run_id=when.isoformat(),
        collector="test",
        started=when,
        finished=when,
        commit=None,
        changed=(),
        added=(),
        unchanged=ok,
        failed=tuple(DeviceFailure(n, r, r) for n, r in (failed or {}).items()),
    )


def test_coverage_gap_counts_nights_not_runs() -> None:
    day = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
    entries = [
        _entry(day, ok=("a", "b")),
        _entry(day + timedelta(days=1), failed={"a": "timeout", "b": "auth"}),
        _entry(day + timedelta(days=1, hours=1), failed={"a": "timeout"}),  # a retry the same night
        _entry(day + timedelta(days=1, hours=2), ok=("c",)),  # a run that did not touch a or b
        _entry(day + timedelta(days=2), failed={"a": "refused", "b": "auth"}),
        _entry(day + timedelta(days=3), ok=("b",), failed={"a": "refused"}),
    ]
    (gap,) = coverage_gaps(entries, nights=3, severity="high")
    assert (gap.device, gap.nights, gap.runs, gap.reason) == ("a", 3, 4, "refused")
    assert gap.flags == ("pull-failed:refused", "pull-failed:timeout")
    assert gap.since == day + timedelta(days=1)
    assert gap.id == coverage_gaps(entries[::-1], nights=3, severity="high")[0].id  # stable
    assert coverage_gaps(entries, nights=4, severity="high") == ()
    assert [g.device for g in coverage_gaps(entries, nights=2, severity="medium")] == ["a"]
    assert coverage_gaps(entries, nights=3, severity="high", devices={"b", "c"}) == ()


# --- export ------------------------------------------------------------------------------------------------------


def test_export_step_writes_a_verifiable_bundle_for_the_nights_range(tmp_path: Path, cli: Cli) -> None:
    from cfgwatch.report.evidence import generate_key, load_public_key, verify_bundle

    root = _project(tmp_path / "p", None)
    public = load_public_key(generate_key(root / "keys" / "evidence.key"))
    config = yaml.safe_load((root / "cfgwatch.yaml").read_text())
    config["nightly"]["sign_key"] = "keys/evidence.key"
    (root / "cfgwatch.yaml").write_text(yaml.safe_dump(config))
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(hours=10))
    _run(root, {"edge1": IOS_EVIL}, NOW - timedelta(hours=2), user="mallory")
    code, out, err = cli("nightly", "--no-pull", "-q", "--export-dir", "evidence", cwd=root)
    assert code == 1, (out, err)
    (bundle,) = (root / "evidence").glob("cfgwatch-evidence-*.zip")
    assert f", export {bundle}" in out.strip()
    verified = verify_bundle(bundle, public)
    assert verified.ok and verified.signature == "valid"
    with zipfile.ZipFile(bundle) as archive:
        findings = json.loads(archive.read("findings.json"))
    text = json.dumps(findings)
    assert "egress-forward" in text and "mallory" in text
    # the next nightly exports from where this one stopped: no run since, so no change in its bundle
    code, out, _ = cli("nightly", "--no-pull", "-q", "--export-dir", "evidence", cwd=root)
    assert code == 0
    newest = max((root / "evidence").glob("cfgwatch-evidence-*.zip"))  # names sort by time
    assert verify_bundle(newest).ok
    with zipfile.ZipFile(newest) as archive:
        assert "egress-forward" not in archive.read("findings.json").decode()


def test_pull_blocked_by_a_running_pull_is_a_stage_error_and_the_audit_still_runs(
    tmp_path: Path, hook: tuple[WebhookSink, int], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, port = hook
    monkeypatch.setenv("CW_U", "admin")
    monkeypatch.setenv("CW_P", "pw")
    root = _project(tmp_path / "p", port)
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=1))
    _run(root, {"edge1": IOS_EVIL}, NOW - timedelta(hours=1), user="mallory")
    store = api.open_store(load_config(root / "cfgwatch.yaml"))
    with store.lock():  # an hourly pull that is still running
        code, out, _ = cli("nightly", "-q", "--lock-wait", "0", cwd=root)
    assert code == 2
    assert out.startswith("cfgwatch nightly: pull FAILED, ") and "critical)" in out
    assert "error in pull: " in out and "another cfgwatch run holds the lock" in out
    (body,) = state.bodies
    assert body["errors"][0].startswith("pull: ") and any(f["severity"] == "critical" for f in body["findings"])


def test_nightly_compacts_the_days_ingest_batches(tmp_path: Path, cli: Cli) -> None:
    """Ingest appends unsorted batches; the nightly merges each day into one file and the flows stay the same."""
    from cfgwatch.flows.synth import write_aws_vpc_sql
    from cfgwatch.project import Project

    root = _project(tmp_path / "p", None)
    _run(root, {"edge1": IOS_BASE}, NOW - timedelta(days=1))
    exports = [write_aws_vpc_sql(tmp_path / f"vpc{index}.log", 500, start=NOW, seed=index) for index in range(3)]
    project = Project.open(load_config(root / "cfgwatch.yaml"))

    def stored() -> tuple[list[tuple[object, ...]], list[Path]]:
        with project.flows() as session:
            backend = session.backend
            backend.refresh()  # type: ignore[attr-defined]
            rows = backend.con.execute("SELECT * FROM flows ORDER BY ALL").fetchall()  # type: ignore[attr-defined]
            files = sorted(backend.root.glob("data/day=*/*.parquet"))  # type: ignore[attr-defined]
        return rows, files

    with project.flows() as session:
        for path in exports:
            assert session.backend.ingest(path, "aws-vpc").records == 500
    rows_before, files_before = stored()
    days = {path.parent.name for path in files_before}
    assert len(files_before) > len(days)

    code, out, err = cli("nightly", "--no-pull", cwd=root)
    assert code == 0, (out, err)
    assert f"flow store compacted: {len(days)} days, {len(files_before)} files merged, 1500 rows" in out
    rows_after, files_after = stored()
    assert rows_after == rows_before and len(files_after) == len(days)
    code, out, _ = cli("nightly", "--no-pull", cwd=root)
    assert code == 0 and "flow store compacted" not in out  # nothing left to merge
