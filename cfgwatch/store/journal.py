"""The run journal: one JSON line per collection run, including runs that changed nothing.

git only records runs that committed something; coverage-gap findings ("device X has not been collected
for 3 nights") and the evidence export need every run with its ok and failed devices, so each run is
appended here too. It lives in the state directory, never inside the snapshot repo.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cfgwatch.errors import StoreError
from cfgwatch.store.types import DeviceFailure, RunResult

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

    @property
    def ok(self) -> tuple[str, ...]:
        return tuple(sorted((*self.changed, *self.added, *self.unchanged)))

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
        }

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
        )


class RunJournal:
    """Append-only JSON-lines file. A torn last line (crash mid-write) is skipped when reading."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: JournalEntry) -> None:
        self.append_many((entry,))

    def append_many(self, entries: Iterable[JournalEntry]) -> None:
        """Append runs in one write and one fsync (a replayed history journals thousands at once)."""
        line = "".join(json.dumps(e.to_dict(), sort_keys=True, separators=(",", ":")) + "\n" for e in entries)
        if not line:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
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
        return [e for e in self if since is None or e.started >= since]
