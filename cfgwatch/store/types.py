"""Data that goes in and out of the snapshot store: what a collector hands over and what a run produced."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cfgwatch.errors import InputError

if TYPE_CHECKING:
    from cfgwatch.sanitize import ChangeMetadata

# Why a device could not be collected. Collectors pick one; reports and coverage-gap findings group by it.
FAILURE_REASONS: frozenset[str] = frozenset(
    {"auth", "timeout", "refused", "hostkey", "incomplete", "cli-error", "unreadable", "error"}
)

# Device names become file names in the snapshot repo: keep them to characters that are safe everywhere
# (hostnames, FQDNs, and the usual backup-tool file names).
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@+-]{0,199}")


def check_device_name(name: str) -> str:
    """Return the name if it can be a file in the snapshot repo, else raise InputError saying why."""
    if not _NAME_RE.fullmatch(name) or name.endswith(".lock"):
        raise InputError(
            f"'{name}' is not a usable device name (letters, digits and . _ @ + - only, "
            "starting with a letter or digit, at most 200 characters)"
        )
    return name


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """One device's config as collected in a run, already sanitized (no secrets, no volatile lines)."""

    name: str
    platform: str | None
    text: str
    metadata: ChangeMetadata | None = None


@dataclass(frozen=True, slots=True)
class KnownSnapshot:
    """A device whose sanitized config a collector knows only by its git blob ids (from a verified cache).

    write_run counts it unchanged only when the tree it commits onto holds exactly these two blobs for the
    device; otherwise it calls `load` for the real snapshot. A stale or forged id costs a re-read, never a
    missed change: the ids are compared under the run lock, against the same tree the run commits onto.
    """

    name: str
    config_blob: str
    meta_blob: str
    load: Callable[[], DeviceSnapshot]


@dataclass(frozen=True, slots=True)
class DeviceFailure:
    """A device that could not be collected in a run. `detail` is human text and never holds credentials."""

    name: str
    reason: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in FAILURE_REASONS:
            raise ValueError(f"unknown failure reason '{self.reason}' (one of {sorted(FAILURE_REASONS)})")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one collection run did to the snapshot repo. `commit` is None when nothing changed."""

    run_id: str
    commit: str | None
    changed: tuple[str, ...]
    added: tuple[str, ...]
    unchanged: tuple[str, ...]
    failed: tuple[DeviceFailure, ...]
    warnings: tuple[str, ...] = ()  # e.g. the run journal could not be written (the commit stands)
    # device -> (config blob id, meta blob id) of every device of the run, as the branch now holds them:
    # what a collector may cache next to the file it read (see store.filecache)
    blobs: Mapping[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> tuple[str, ...]:
        """Every device collected successfully in this run, whether or not its config changed."""
        return tuple(sorted((*self.changed, *self.added, *self.unchanged)))


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run as recorded in the snapshot repo's history (read back from the commit and its trailers)."""

    commit: str
    run_id: str
    time: datetime  # when the run started (author date of the commit)
    collector: str
    changed: tuple[str, ...]
    added: tuple[str, ...]
    failed: tuple[DeviceFailure, ...]
    unchanged_count: int = 0


# How a device's snapshot changed in one revision of its history.
REVISION_STATUSES: frozenset[str] = frozenset({"added", "changed", "platform", "removed"})


@dataclass(frozen=True, slots=True)
class DeviceRevision:
    """One run that changed a device, as read back from git (newest first in SnapshotStore.history).

    status: "added" (first snapshot), "changed" (config text changed), "platform" (text unchanged, only
    the meta file changed, e.g. the platform was corrected), "removed" (deleted by hand outside cfgwatch).
    platform and metadata are those stored with the device at this revision (metadata: the last-change
    user/time read from the config header, when the platform has one).
    """

    commit: str
    run_id: str  # "" for a commit cfgwatch did not make (e.g. a hand commit)
    time: datetime  # when the run started (author date of the commit)
    collector: str
    status: str
    platform: str | None
    metadata: ChangeMetadata | None


@dataclass(frozen=True, slots=True)
class UpkeepReport:
    """What SnapshotStore.upkeep did: why a run took longer than its own commit, and how big the repo is."""

    seconds: float
    graph_seconds: float  # incremental commit-graph layer (with changed-path Bloom filters)
    repack_seconds: float  # geometric repack of the small per-run packs + `git gc --auto`
    packs: int  # pack files after upkeep
    loose_objects: int
    graph_layers: int
    bloom_filters: bool  # every commit-graph layer carries changed-path Bloom filters
    size_bytes: int  # objects/ on disk after upkeep
