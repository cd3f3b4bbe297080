"""Pulls sharded over worker processes store exactly what a single-process pull stores."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_events import Recorder
from test_pull import FAST, KEY, Lab, lab_env

from cfgwatch.collect.runner import DEVICES_PER_PROCESS, processes_for, pull
from cfgwatch.store import SnapshotStore

STARTED = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)


def _tree(store: SnapshotStore) -> str:
    """Every path and blob of HEAD: equal trees mean byte-identical stored files."""
    return subprocess.run(
        ["git", "-C", str(store.path), "ls-tree", "-r", "HEAD"], capture_output=True, text=True, check=True
    ).stdout


def _message(store: SnapshotStore) -> str:
    return subprocess.run(
        ["git", "-C", str(store.path), "log", "-1", "--format=%B"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with lab_env(tmp_path, monkeypatch) as env:
        yield env


def test_multi_process_pull_commits_exactly_what_a_single_process_pull_does(lab: Lab, tmp_path: Path) -> None:
    lab.state.set_fault("dc-eos-01", "auth")
    lab.state.set_fault("edge-fw-01", "truncated")
    devices = lab.devices()
    single_store = SnapshotStore.init(tmp_path / "single")
    multi_store = SnapshotStore.init(tmp_path / "multi")
    recorder = Recorder()
    single = pull(single_store, devices, key=KEY, options=replace(FAST, processes=1), started=STARTED)
    multi = pull(multi_store, devices, key=KEY, options=replace(FAST, processes=3), started=STARTED, events=recorder)

    assert single.run.commit is not None and multi.run.commit is not None
    assert _tree(multi_store) == _tree(single_store)
    # the same commit message but for the run's own random id
    assert _message(multi_store).replace(multi.run.run_id, "RUN") == _message(single_store).replace(
        single.run.run_id, "RUN"
    )
    assert multi.run.added == single.run.added
    assert multi.run.failed == single.run.failed
    assert {(f.name, f.reason) for f in multi.run.failed} == {("dc-eos-01", "auth"), ("edge-fw-01", "incomplete")}
    # outcomes come back in input order whatever process collected them
    assert [o.name for o in multi.outcomes] == [d.name for d in devices]
    assert [(o.name, o.ok, o.attempts) for o in multi.outcomes] == [(o.name, o.ok, o.attempts) for o in single.outcomes]
    # progress is relayed from the workers: once per device, counting up to the total
    seen = [event[2:] for event in recorder.events if event[0] == "item_done"]
    assert sorted(name for name, _, _ in seen) == sorted(d.name for d in devices)
    assert [done for _, done, _ in seen] == list(range(1, len(devices) + 1))
    assert {total for _, _, total in seen} == {len(devices)}


def test_trust_on_first_use_from_several_processes_records_each_key_once(lab: Lab, tmp_path: Path) -> None:
    devices = lab.devices()
    known = tmp_path / "known_hosts"
    tofu = replace(FAST, processes=2, known_hosts=known, trust_on_first_use=True)
    run = pull(lab.store, devices, key=KEY, options=tofu)
    assert run.run.failed == ()
    lines = known.read_text().splitlines()
    assert sorted(lines) == sorted(
        f"[127.0.0.1]:{d.port} ecdsa-sha2-nistp256 {lab.state.hostkey(d.name).get_base64()}" for d in devices
    )
    # a changed key still fails under TOFU, in a worker process too
    lab.state.set_fault("dc-nx-01", "hostkey")
    again = pull(lab.store, devices, key=KEY, options=tofu)
    assert [(f.name, f.reason) for f in again.run.failed] == [("dc-nx-01", "hostkey")]
    assert known.read_text().splitlines() == lines


class _KillsItsProcess:
    """Device data that ends the worker process unpickling it (stands in for an OOM kill or a crash)."""

    def __getstate__(self) -> dict[str, int]:
        return {"boom": 1}

    def __setstate__(self, state: dict[str, int]) -> None:
        os._exit(3)


def test_a_dead_worker_fails_only_its_own_devices_as_data(lab: Lab) -> None:
    devices = lab.devices()
    devices[0] = replace(devices[0], data={**devices[0].data, "poison": _KillsItsProcess()})
    run = pull(lab.store, devices, key=KEY, options=replace(FAST, processes=2))
    dead = {d.name for d in devices[0::2]}  # shard 0: every other device, round-robin
    assert {f.name for f in run.run.failed} == dead
    assert all(f.reason == "error" and "worker process" in f.detail for f in run.run.failed)
    assert sorted(run.run.added) == sorted(d.name for d in devices[1::2])
    assert sorted(lab.store.devices()) == sorted(d.name for d in devices[1::2])


def test_cli_pull_with_worker_processes(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cfgwatch.cli import app

    (tmp_path / "cfgwatch.yaml").write_text(
        "snapshots: snapshots\ninventory: inventory\nstate_dir: state\npull:\n  timeout: 3\n  retries: 0\n"
    )
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["pull", "--processes", "2", "-d", "dc-nx-01", "-d", "branch-srx-01", "-q"])
    assert res.exit_code == 0, res.output
    assert sorted(lab.store.devices()) == ["branch-srx-01", "dc-nx-01"]


def test_process_count_choice() -> None:
    assert processes_for(8, 1) == 1
    assert processes_for(8, 3) == 3
    assert processes_for(2, 5) == 2  # never more processes than devices
    assert processes_for(DEVICES_PER_PROCESS - 1) == 1  # automatic: small pulls stay in one process
    assert 1 <= processes_for(100 * DEVICES_PER_PROCESS) <= max(1, os.cpu_count() or 1)
