"""The run journal: one JSON line per collection run, including runs that changed nothing.

git only records runs that committed something; coverage-gap findings ("device X has not been collected
for 3 nights") and the evidence export need every run with its ok and failed devices, so each run is
appended here too. It lives in the state directory, never inside the snapshot repo.

git is the truth for committed runs: a kill -9 (or a full disk) between `update-ref` and the append
leaves a commit without a journal line. :func:`sync_journal` finds such commits (every commit on HEAD
with a `Cfgwatch-Run` trailer whose id is not in the journal) and appends lines rebuilt from the
trailers, marked ``rebuilt``. Appends are fsync'd single writes; a torn tail left by a crash is cut
off before the next append, so it never glues onto a good line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgwatch.errors import LockedError, StoreError
from cfgwatch.store.message import parse_message
from cfgwatch.store.types import DeviceFailure, RunInfo, RunResult

if TYPE_CHECKING:
    from cfgwatch.store.repo import GitRepo

JOURNAL_NAME = "runs.jsonl"


def journal_path(state_dir: Path) -> Path:
    """Where the journal of a project lives (config.state_path / runs.jsonl)."""
    return state_dir / JOURNAL_NAME


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One run: who collected, when, what it committed, which devices were ok and which failed."""

    run_id: str
    collector: str
    started: datetime
    finished: datetime
    commit: str | None
    changed: tuple[str, ...]
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    failed: tuple[DeviceFailure, ...]
    rebuilt: bool = False  # read back from the commit trailers after the journal line was lost

    @property
    def ok(self) -> tuple[str, ...]:
        return tuple(sorted((*self.changed, *self.added, *self.unchanged)))

    @classmethod
    def from_run(cls, info: RunInfo, *, finished: datetime, unchanged: tuple[str, ...]) -> JournalEntry:
        """The line a committed run would have written (``unchanged`` as far as the tree tells)."""
        return cls(
            run_id=info.run_id,
            collector=info.collector,
            started=info.time,
            finished=finished,
            commit=info.commit,
            changed=info.changed,
            added=info.added,
            unchanged=unchanged,
            failed=info.failed,
            rebuilt=True,
        )

    @classmethod
    def from_result(cls, result: RunResult, *, collector: str, started: datetime, finished: datetime) -> JournalEntry:
        return cls(
            run_id=result.run_id,
            collector=collector,
            started=started,
            finished=finished,
            commit=result.commit,
            changed=result.changed,
            added=result.added,
            unchanged=result.unchanged,
            failed=result.failed,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "collector": self.collector,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "commit": self.commit,
            "changed": list(self.changed),
            "added": list(self.added),
            "unchanged": list(self.unchanged),
            "failed": [{"name": f.name, "reason": f.reason, "detail": f.detail} for f in self.failed],
        } | ({"rebuilt": True} if self.rebuilt else {})

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> JournalEntry:
        return cls(
            run_id=doc["run_id"],
            collector=doc["collector"],
            started=datetime.fromisoformat(doc["started"]),
            finished=datetime.fromisoformat(doc["finished"]),
            commit=doc.get("commit"),
            changed=tuple(doc.get("changed", ())),
            added=tuple(doc.get("added", ())),
            unchanged=tuple(doc.get("unchanged", ())),
            failed=tuple(DeviceFailure(f["name"], f["reason"], f["detail"]) for f in doc.get("failed", ())),
            rebuilt=bool(doc.get("rebuilt", False)),
        )


class RunJournal:
    """Append-only JSON-lines file. A torn last line (crash mid-write) is skipped when reading."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, *entries: JournalEntry) -> None:
        self.append_many(entries)

    def append_many(self, entries: Iterable[JournalEntry]) -> None:
        """Append runs in one fsync'd write (callers hold the store lock; a replayed history journals
        thousands at once); a torn tail left by a crash is cut off first."""
        data = "".join(json.dumps(e.to_dict(), sort_keys=True, separators=(",", ":")) + "\n" for e in entries)
        if not data:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _cut_torn_tail(fd)
                view = memoryview(data.encode("utf-8"))
                while view:  # os.write may write less than asked (signals, quotas)
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot append to the run journal: {exc.strerror}", path=self.path) from exc

    def __iter__(self) -> Iterator[JournalEntry]:
        if not self.path.exists():
            return
        try:
            handle = self.path.open(encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"cannot read the run journal: {exc.strerror}", path=self.path) from exc
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield JournalEntry.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError) as exc:
                    if not line.endswith("\n"):  # torn last line of an interrupted append
                        return
                    raise StoreError(f"malformed journal entry: {exc}", path=self.path, line=number) from exc

    def entries(self, since: datetime | None = None) -> list[JournalEntry]:
        """Every run (optionally only those started at or after `since`), oldest first."""
        found = [e for e in self if since is None or e.started >= since]
        found.sort(key=lambda e: e.started)  # stable: file order for equal starts; rebuilt lines come late
        return found


def _cut_torn_tail(fd: int) -> None:
    """Truncate a last line without its newline (an append cut short by a crash or a full disk)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        chunk = os.pread(fd, pos - start, start)
        newline = chunk.rfind(b"\n")
        if newline != -1:
            os.ftruncate(fd, start + newline + 1)
            return
        pos = start
    os.ftruncate(fd, 0)


def missing_runs(store: GitRepo, journal: RunJournal) -> list[JournalEntry]:
    """Committed runs on HEAD that have no journal line, rebuilt from their trailers, oldest first."""
    if store._head() is None:
        return []
    known = {entry.commit for entry in journal if entry.commit}
    ours = store._git("log", "--format=%H", "--grep=^Cfgwatch-Run: ", "HEAD").split()
    lost = [commit for commit in ours if commit not in known]
    if not lost:
        return []
    out = store._run_git(
        ["log", "--no-walk=unsorted", "--stdin", "--format=%H%x00%aI%x00%cI%x00%B%x01"],
        stdin=("\n".join(lost) + "\n").encode(),
    ).decode("utf-8", "replace")
    known_ids = {entry.run_id for entry in journal}
    rebuilt: list[JournalEntry] = []
    for record in out.split("\x01"):
        record = record.lstrip("\n")
        if not record:
            continue
        commit, author, committer, message = record.split("\0", 3)
        info = parse_message(commit, datetime.fromisoformat(author), message)
        if info is None or info.run_id in known_ids:
            continue
        rebuilt.append(
            JournalEntry.from_run(info, finished=datetime.fromisoformat(committer), unchanged=_unchanged(store, info))
        )
    rebuilt.reverse()  # git log lists newest first
    rebuilt.sort(key=lambda e: e.started)
    return rebuilt


def _unchanged(store: GitRepo, info: RunInfo) -> tuple[str, ...]:
    """The run's unchanged devices: its tree's devices not changed, added or failed, when their count
    matches the `Cfgwatch-Unchanged` trailer (otherwise unknown: empty)."""
    if not info.unchanged_count:
        return ()
    from cfgwatch.store.repo import CONFIG_DIR

    listed = store._git("ls-tree", "--name-only", "-z", info.commit, f"{CONFIG_DIR}/").split("\0")
    touched = {*info.changed, *info.added, *(f.name for f in info.failed)}
    names = sorted(n.removeprefix(f"{CONFIG_DIR}/") for n in listed if n)
    rest = tuple(n for n in names if n not in touched)
    return rest if len(rest) == info.unchanged_count else ()


def sync_journal(store: GitRepo) -> list[JournalEntry]:
    """Append the journal lines committed runs lost; returns them. Without the lock (a run is writing)
    nothing is written and the lines are only returned (the next reader or run writes them)."""
    journal = store.journal
    if journal is None:
        return []
    try:
        with store.lock():
            rebuilt = missing_runs(store, journal)
            if rebuilt:
                with suppress(StoreError):  # e.g. a full disk: returned all the same, written next time
                    journal.append(*rebuilt)
            return rebuilt
    except LockedError:
        return missing_runs(store, journal)
