"""Run journal vs. git: committed runs whose journal line was lost (kill -9 at/after `update-ref`, a full
disk) are rebuilt from the commit trailers; a torn tail never corrupts the next append; a failed journal
write after a committed run is a warning, not an error. Includes a real, bounded kill -9 loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgwatch.errors import LockedError
from cfgwatch.store import DeviceFailure, DeviceSnapshot, RunJournal, SnapshotStore
from cfgwatch.store.journal import missing_runs, sync_journal

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
Cli = Callable[..., tuple[int, str, str]]
IMPORT = Path(__file__).resolve().parent.parent / "fixtures" / "import"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True).stdout


def snap(name: str, text: str) -> DeviceSnapshot:
    return DeviceSnapshot(name=name, platform="cisco_ios", text=text, metadata=None)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore.init(tmp_path / "snapshots", journal=tmp_path / "state" / "runs.jsonl")


def _journal(tmp_path: Path) -> Path:
    return tmp_path / "state" / "runs.jsonl"


def _killed_after_update_ref(store: SnapshotStore, monkeypatch: pytest.MonkeyPatch, *snaps: DeviceSnapshot) -> str:
    """A run that dies right after `update-ref` (the journal append never happens)."""

    def die(self: RunJournal, *entries: object) -> None:
        raise KeyboardInterrupt  # the process is gone: nothing after this runs

    with monkeypatch.context() as patch:
        patch.setattr(RunJournal, "append", die)
        with pytest.raises(KeyboardInterrupt):
            store.write_run(
                list(snaps), [DeviceFailure("r9", "timeout", "no answer")], collector="pull", started=T0 + timedelta(1)
            )
    return git(store.path, "rev-parse", "HEAD").strip()


def test_lost_line_is_rebuilt_from_trailers(
    store: SnapshotStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.write_run([snap("r1", "a\n"), snap("r2", "b\n"), snap("r3", "c\n")], collector="import", started=T0)
    commit = _killed_after_update_ref(store, monkeypatch, snap("r1", "a2\n"), snap("r2", "b\n"), snap("r3", "c\n"))
    assert commit != first.commit
    journal = RunJournal(_journal(tmp_path))
    assert [e.commit for e in journal.entries()] == [first.commit]  # the kill window: git has the run, journal not
    lost = missing_runs(store, journal)
    assert [e.commit for e in lost] == [commit]
    entry = lost[0]
    assert entry.rebuilt and entry.collector == "pull" and entry.started == T0 + timedelta(1)
    assert entry.changed == ("r1",) and entry.unchanged == ("r2", "r3")
    assert [(f.name, f.reason) for f in entry.failed] == [("r9", "timeout")]
    # Reading through the project-level path writes the line back, once.
    assert [e.commit for e in sync_journal(store)] == [commit]
    assert sync_journal(store) == []
    assert [e.commit for e in journal.entries()] == [first.commit, commit]
    assert json.loads(_journal(tmp_path).read_text().splitlines()[-1])["rebuilt"] is True


def test_next_run_writes_the_lost_line_first(
    store: SnapshotStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    lost = _killed_after_update_ref(store, monkeypatch, snap("r1", "a2\n"))
    later = store.write_run([snap("r1", "a3\n")], collector="import", started=T0 + timedelta(2))
    commits = [e.commit for e in RunJournal(_journal(tmp_path)).entries()]
    assert commits[1:] == [lost, later.commit]
    assert missing_runs(store, RunJournal(_journal(tmp_path))) == []


def test_torn_tail_is_cut_before_the_next_append(store: SnapshotStore, tmp_path: Path) -> None:
    store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    path = _journal(tmp_path)
    whole = path.read_bytes()
    with path.open("ab") as handle:  # a crash half-way through an append
        handle.write(whole[: len(whole) // 2])
    assert len(RunJournal(path).entries()) == 1  # the torn tail is skipped when reading
    store.write_run([snap("r1", "b\n")], collector="import", started=T0 + timedelta(hours=1))
    entries = RunJournal(path).entries()  # no "malformed journal entry": the fragment did not glue on
    assert len(entries) == 2 and path.read_bytes().endswith(b"\n")


def test_journal_write_failure_after_commit_is_a_warning(store: SnapshotStore, tmp_path: Path) -> None:
    path = _journal(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir()  # the append fails (EISDIR), as on a full or read-only state disk
    result = store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    assert result.commit is not None
    assert result.warnings and "run journal was not written" in result.warnings[0]
    assert git(store.path, "rev-parse", "HEAD").strip() == result.commit
    path.rmdir()
    assert [e.commit for e in sync_journal(store)] == [result.commit]


def test_cli_import_warns_and_log_all_shows_the_rebuilt_run(tmp_path: Path, cli: Cli) -> None:
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    journal = project / ".cfgwatch" / "runs.jsonl"
    journal.parent.mkdir(parents=True, exist_ok=True)
    if journal.exists():
        journal.unlink()
    journal.mkdir()
    code, out, err = cli("import", str(IMPORT / "run1"), cwd=project)
    assert code == 0, err
    assert "warning: run committed" in err and "error" not in err
    journal.rmdir()
    code, out, err = cli("log", "--all", cwd=project)
    assert code == 0, err
    head = git(project / "snapshots", "rev-parse", "HEAD").strip()
    assert head[:7] in out
    assert json.loads(journal.read_text().splitlines()[-1])["commit"] == head


_WRITER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from cfgwatch.store import DeviceSnapshot, SnapshotStore

store = SnapshotStore(Path(sys.argv[1]), journal=Path(sys.argv[2]))
n = int(sys.argv[3])
while True:
    n += 1
    snaps = [DeviceSnapshot(f"r{i}", "cisco_ios", f"hostname r{i}\\n! rev {n if i < 3 else 0}\\n" * 50, None)
             for i in range(8)]
    store.write_run(snaps, collector="pull", started=datetime.now(UTC))
    print(n, flush=True)
"""


def test_kill_9_loop_loses_no_committed_run(store: SnapshotStore, tmp_path: Path) -> None:
    """Real SIGKILLs at random points of back-to-back runs: git stays consistent and, after a sync, every
    committed run has exactly one journal line (bounded: 12 kills)."""
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    journal = _journal(tmp_path)
    counter = 0
    for kill in range(12):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(store.path), str(journal), str(counter)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.8 + (kill % 5) * 0.2)  # interpreter start plus a varying part of a run
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        counter += 1000
        reopened = SnapshotStore(store.path, journal=journal)
        for _ in range(100):  # a git child of the killed run (fast-import, repack) holds the lock until it ends
            try:
                with reopened.lock():
                    break
            except LockedError:
                time.sleep(0.1)
        # Every object of the history is there (reflogs aside: see the report on refs/cfgwatch/pending).
        fsck = subprocess.run(
            ["git", "--git-dir", str(store.path), "fsck", "--no-dangling", "--no-reflogs"],
            capture_output=True,
            text=True,
        )
        assert fsck.returncode == 0, (kill, fsck.stdout, fsck.stderr)
        sync_journal(reopened)
        entries = RunJournal(journal).entries()
        born = subprocess.run(["git", "--git-dir", str(store.path), "rev-parse", "-q", "--verify", "HEAD"], check=False)
        committed = (
            [] if born.returncode else git(store.path, "log", "--format=%H", "--grep=^Cfgwatch-Run: ", "HEAD").split()
        )
        journaled = [e.commit for e in entries if e.commit]
        assert sorted(journaled) == sorted(committed), kill
        assert len(set(e.run_id for e in entries)) == len(entries)
    assert committed, "no run committed in 12 tries: the loop tested nothing"
