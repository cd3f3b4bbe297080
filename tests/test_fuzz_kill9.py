"""kill -9 loop over the real CLI: pull (against the SSH lab on 127.0.0.1), import, flows ingest and
nightly, each killed at a varying moment and then run to completion. After every kill: git consistent
(fsck), every committed run in the journal (rebuilt from trailers where the kill lost its line), the next
run of the same command ends normally (exit 0 or 1, no traceback), and flow ingest is not counted twice.
Bounded: ROUNDS kills per command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_pull import lab_env

from cfgwatch.config import load_config
from cfgwatch.project import Project, init_project

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("CFGWATCH_KILL_ROUNDS", "2"))  # ~1 minute a round
CLI = [sys.executable, "-c", "from cfgwatch.cli import main; main()"]


def _git(snapshots: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(snapshots), *args], capture_output=True, text=True, check=True
    ).stdout


def _check_consistent(project: Path) -> None:
    snapshots = project / "snapshots"
    _git(snapshots, "fsck", "--no-dangling")
    entries = Project.open(load_config(project / "cfgwatch.yaml")).journal_entries()  # rebuilds lost lines
    has_head = subprocess.run(["git", "--git-dir", str(snapshots), "rev-parse", "-q", "--verify", "HEAD"], check=False)
    committed = (
        _git(snapshots, "log", "--format=%H", "--grep=^Cfgwatch-Run: ", "HEAD").split()
        if not has_head.returncode
        else []
    )
    assert sorted(e.commit for e in entries if e.commit) == sorted(committed)
    assert len({e.run_id for e in entries}) == len(entries)
    assert "cfgwatch/pending" not in _git(snapshots, "for-each-ref")


def _kill_then_finish(args: list[str], project: Path, env: dict[str, str], delay: float) -> None:
    proc = subprocess.Popen([*CLI, *args], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _check_consistent(project)
    done = subprocess.run([*CLI, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), (args, done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    _check_consistent(project)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, str], object]]:
    with lab_env(tmp_path / "labroot", monkeypatch) as lab:
        root = tmp_path / "proj"
        init_project(root)
        lab.state.write_inventory(root / "inventory")
        with (root / "cfgwatch.yaml").open("a", encoding="utf-8") as handle:
            handle.write(f"\npull:\n  known_hosts: {lab.known_hosts}\n  timeout: 5\n  retries: 0\n")
        yield root, dict(os.environ), lab


@pytest.mark.timeout(900)
def test_kill_9_loop_over_pull_import_ingest_nightly(project: tuple[Path, dict[str, str], object]) -> None:
    root, env, lab = project
    state = lab.state  # type: ignore[attr-defined]
    flow = ROOT / "fixtures" / "flows" / "nfdump_replayed.csv"
    for round_ in range(ROUNDS):
        delay = 0.4 + 0.45 * round_  # early (interpreter start, connect) to late (commit, journal)
        config = state.read_config("branch-srx-01")
        state.apply("branch-srx-01", config.replace("8443;", f"{8500 + round_};"), user="fuzz")
        _kill_then_finish(["pull", "--quiet"], root, env, delay)
        folder = ROOT / "fixtures" / "import" / ("run1" if round_ % 2 == 0 else "run2")
        _kill_then_finish(["import", str(folder)], root, env, delay * 0.8)
        _kill_then_finish(["flows", "ingest", "-f", "nfdump-csv", "-e", "edge-fw-01", str(flow)], root, env, delay)
        _kill_then_finish(["nightly", "--no-pull", "--no-notify", "--quiet"], root, env, delay * 1.5)
    # The flow file ingested again and again (some attempts killed) is stored once.
    counted = subprocess.run(
        [*CLI, "flows", "ingest", "-f", "nfdump-csv", "-e", "edge-fw-01", str(flow)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert counted.returncode == 0, counted.stderr
    assert "0 new" in counted.stdout or "nothing new" in counted.stdout or "already" in counted.stdout, counted.stdout
