"""The git snapshot store: one commit per collection run, plus the run journal of every run."""

from cfgwatch.store.git import SnapshotStore
from cfgwatch.store.journal import JOURNAL_NAME, JournalEntry, RunJournal, journal_path
from cfgwatch.store.types import (
    FAILURE_REASONS,
    REVISION_STATUSES,
    DeviceFailure,
    DeviceRevision,
    DeviceSnapshot,
    KnownSnapshot,
    RunInfo,
    RunResult,
    UpkeepReport,
    check_device_name,
)
from cfgwatch.store.writer import new_run_id

__all__ = [
    "FAILURE_REASONS",
    "JOURNAL_NAME",
    "REVISION_STATUSES",
    "DeviceFailure",
    "DeviceRevision",
    "DeviceSnapshot",
    "JournalEntry",
    "KnownSnapshot",
    "RunInfo",
    "RunJournal",
    "RunResult",
    "SnapshotStore",
    "UpkeepReport",
    "check_device_name",
    "journal_path",
    "new_run_id",
]
