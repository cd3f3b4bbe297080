"""The git snapshot store: one commit per collection run, plus the run journal of every run."""

from cfgwatch.store.git import SnapshotStore, new_run_id
from cfgwatch.store.journal import JOURNAL_NAME, JournalEntry, RunJournal, journal_path
from cfgwatch.store.types import (
    FAILURE_REASONS,
    DeviceFailure,
    DeviceSnapshot,
    RunInfo,
    RunResult,
    check_device_name,
)

__all__ = [
    "FAILURE_REASONS",
    "JOURNAL_NAME",
    "DeviceFailure",
    "DeviceSnapshot",
    "JournalEntry",
    "RunInfo",
    "RunJournal",
    "RunResult",
    "SnapshotStore",
    "check_device_name",
    "journal_path",
    "new_run_id",
]
