"""Collector that reads a folder of config files (another backup tool's output, or hand-saved configs).

Layouts (cfgwatch.collect.backups): files directly in the folder, Oxidized group sub-folders
(`GROUP/DEVICE`) and RANCID groups (`GROUP/configs/DEVICE` beside `GROUP/router.db`). A device is named
after its file (config extensions such as .cfg/.conf/.txt dropped). README, router.db, hidden files and
folders (.git) are never devices: they are listed as skipped. The platform comes from --platform, else
the inventory, else the backup tool's own type (router.db, RANCID content-type header), else detection
from the text; each device says which. Every text goes through sanitize() before it reaches the store.
With a file cache (store.filecache, in the state directory) a file whose stat stamp, platform inputs and
cfgwatch code are those of a verified entry is neither read nor sanitized: the run counts it unchanged
when the branch still holds the cached blob ids, and reads it otherwise.
Devices not in the folder keep their last snapshot. Bad input (missing folder, unreadable or binary
file, two files for one device) stops the run before anything is committed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cfgwatch.collect.backups import (
    CISCO_FAMILY,
    CONFIG_SUFFIXES,
    DevicePath,
    Skipped,
    classify_paths,
    device_name,
    rancid_content_type,
    router_db_types,
    tool_platform,
)
from cfgwatch.errors import InputError, UnknownPlatformError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.inventory import Inventory, canonical
from cfgwatch.sanitize import sanitize
from cfgwatch.sanitize.settings import DEFAULT_MAX_CONFIG_BYTES
from cfgwatch.store import DeviceFailure, DeviceSnapshot, KnownSnapshot, RunResult, SnapshotStore, check_device_name
from cfgwatch.store.filecache import CachedFile, FileCache, Stamp, code_fingerprint, now_ns, settled
from cfgwatch.vendors.registry import detect_platform, platform_names

__all__ = ["CONFIG_SUFFIXES", "device_name", "import_dir", "list_device_files"]

if TYPE_CHECKING:
    from cfgwatch.store.remote import PushResult

COLLECTOR = "import"
CACHE_NAME = "import-cache"  # in the state directory
_BINARY_PROBE = 8192


class PlatformSource(StrEnum):
    """Where a device's platform came from (shown to the user next to the platform)."""

    OPTION = "option"
    INVENTORY = "inventory"
    BACKUP_TOOL = "backup-tool"
    DETECTED = "detected"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ImportedDevice:
    name: str
    file: Path
    platform: str | None
    platform_source: PlatformSource
    status: str  # added | changed | unchanged | failed
    redactions: int
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    run: RunResult
    devices: tuple[ImportedDevice, ...]
    skipped: tuple[Skipped, ...] = ()
    push: PushResult | None = None  # the push to store.remote, when one is configured


def _walk(directory: Path) -> list[str]:
    """Every regular file below directory as a relative POSIX path (symlinked folders are not followed).

    os.scandir with the entries' own type (no stat per file unless it is a symlink): listing 5,000 files is
    part of every import, also one that finds nothing changed.
    """
    found: list[str] = []
    pending = [(os.fspath(directory), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    if entry.is_dir():
                        # a backup tool's git repo is never walked; a symlinked folder is not followed
                        if entry.name != ".git" and not entry.is_symlink():
                            pending.append((entry.path, f"{prefix}{entry.name}/"))
                    elif entry.is_file():
                        found.append(prefix + entry.name)
        except OSError as exc:
            raise InputError(f"cannot list folder: {exc.strerror}", path=Path(exc.filename or folder)) from exc
    return found


def list_device_files(directory: Path) -> list[tuple[str, Path]]:
    """(device, file) for every device config below directory, sorted by device name."""
    devices, _ = scan_folder(directory)
    return sorted((d.name, Path(directory) / d.path) for d in devices)


def scan_folder(directory: Path) -> tuple[list[DevicePath], list[Skipped]]:
    """Device configs and skipped files of a folder (flat, Oxidized groups or RANCID groups)."""
    if not directory.exists():
        raise InputError("folder not found", path=directory)
    if not directory.is_dir():
        raise InputError("not a folder", path=directory)
    try:
        devices, skipped = classify_paths(_walk(directory))
    except InputError as exc:
        raise InputError(exc.message, path=directory) from None
    for device in devices:
        try:
            check_device_name(device.name)
        except InputError as exc:
            raise InputError(exc.message, path=directory / device.path) from None
    return devices, skipped


def read_router_dbs(directory: Path, skipped: list[Skipped]) -> dict[str, str]:
    """Device (lower case) -> backup-tool type from every router.db in the folder (root and groups)."""
    types: dict[str, str] = {}
    for entry in skipped:
        if Path(entry.path).name == "router.db":
            try:
                text = (directory / entry.path).read_text("utf-8", "replace")
            except OSError as exc:
                raise InputError(f"cannot read router.db: {exc.strerror}", path=directory / entry.path) from exc
            types.update(router_db_types(text))
    return types


class PlatformResolver:
    """Picks each device's platform: --platform, inventory, backup-tool type, detection (in that order)."""

    def __init__(
        self, *, forced: str | None, inventory: Inventory | None, tool_types: dict[str, str] | None = None
    ) -> None:
        self.forced = forced
        self.inventory = inventory
        self.tool_types = tool_types or {}
        self.known = frozenset(platform_names())

    def scope(self, name: str) -> str:
        """Everything besides the text that resolve() and the snapshot depend on (a file cache entry's scope)."""
        host = self.inventory.hosts.get(name) if self.inventory is not None else None
        return f"{name}\t{self.forced}\t{host.platform if host else None}\t{self.tool_types.get(name.lower())}"

    def resolve(self, name: str, text: str) -> tuple[str | None, PlatformSource]:
        if self.forced is not None:
            return self.forced, PlatformSource.OPTION
        host = self.inventory.hosts.get(name) if self.inventory is not None else None
        if host is not None and host.platform is not None:
            return host.platform, PlatformSource.INVENTORY
        tool_type = self.tool_types.get(name.lower()) or rancid_content_type(text)
        mapped = tool_platform(tool_type, self.known) if tool_type else None
        if mapped is not None and mapped != CISCO_FAMILY:
            return mapped, PlatformSource.BACKUP_TOOL
        detected = detect_platform(text)
        if mapped == CISCO_FAMILY:
            # RANCID's "cisco" covers IOS and the ASA/PIX family: detection decides within the family.
            if detected is not None and detected.startswith("cisco_"):
                return detected, PlatformSource.DETECTED
            return "cisco_ios", PlatformSource.BACKUP_TOOL
        if detected is not None:
            return detected, PlatformSource.DETECTED
        return None, PlatformSource.UNKNOWN


def forced_platform(platform: str | None) -> str | None:
    """The --platform option as a canonical platform name (bad names are an error naming the option)."""
    if platform is None:
        return None
    try:
        return canonical(platform)
    except UnknownPlatformError as exc:
        raise UnknownPlatformError(f"--platform: {exc.message}") from None


def _too_big(size: int, limit: int) -> str:
    return f"config file is {size:,} bytes, over the limit of {limit:,} (sanitize.max_config_bytes in cfgwatch.yaml)"


def _read(file: Path, limit: int = DEFAULT_MAX_CONFIG_BYTES) -> tuple[bytes, Stamp | None]:
    """The file's bytes, and its stat stamp when the file may be cached (unchanged while read, not racy)."""
    started = now_ns()
    try:
        with file.open("rb") as handle:
            before = os.fstat(handle.fileno())
            data = handle.read(limit + 1)  # never more than the limit in memory, even if the file grows
            stamp = settled(before, os.fstat(handle.fileno()), started)
    except OSError as exc:
        raise InputError(f"cannot read config file: {exc.strerror}", path=file) from exc
    if len(data) > limit:
        raise InputError(_too_big(len(data), limit) + " (it grew while being read)", path=file)
    if b"\0" in data[:_BINARY_PROBE]:
        raise InputError("not a text config file (binary data); move it out of the folder", path=file)
    return data, stamp


def open_cache(state_dir: Path, key: bytes) -> FileCache:
    """The import's file cache in the state directory, valid for this cfgwatch code and platform list."""
    context = json.dumps([code_fingerprint(), sorted(platform_names())])
    return FileCache(Path(state_dir) / CACHE_NAME, key, context)


def import_dir(
    store: SnapshotStore,
    directory: Path,
    *,
    key: bytes,
    platform: str | None = None,
    inventory: Inventory | None = None,
    started: datetime | None = None,
    events: Events = NO_EVENTS,
    max_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
    cache: FileCache | None = None,
) -> ImportResult:
    """Snapshot every config file of `directory` into `store` as one run (one commit, or none if unchanged).

    `cache` (open_cache(state_dir, key)): files it vouches for are not read unless the branch moved on.
    """
    directory = Path(directory)
    forced = forced_platform(platform)
    started = started or datetime.now(UTC)
    found, skipped = scan_folder(directory)
    resolver = PlatformResolver(forced=forced, inventory=inventory, tool_types=read_router_dbs(directory, skipped))
    base = os.path.join(os.path.abspath(directory), "")  # absolute file paths are the cache's keys
    entries = sorted((d.name, d.path) for d in found)
    failures: list[DeviceFailure] = []
    readable: list[tuple[str, str, os.stat_result]] = []  # device, absolute path, stat
    for name, rel in entries:
        try:
            st = os.stat(base + rel)
        except OSError as exc:
            raise InputError(f"cannot read config file: {exc.strerror}", path=directory / rel) from exc
        if st.st_size > max_bytes:  # before anything is read or committed
            raise InputError(_too_big(st.st_size, max_bytes), path=directory / rel)
        if st.st_size == 0:
            failures.append(DeviceFailure(name, "incomplete", f"{Path(rel).name} is empty"))
        else:
            readable.append((name, base + rel, st))

    details: dict[str, _Shown] = {}
    read: set[str] = set()  # devices whose file was read in this run (not vouched for by the cache)
    stamps: dict[str, tuple[str, Stamp]] = {}  # device -> (scope, stamp) of files read and cacheable

    def load(name: str, path: str, scope: str) -> DeviceSnapshot:
        read.add(name)
        raw, stamp = _read(Path(path), max_bytes)
        device_platform, source = resolver.resolve(name, raw.decode("utf-8-sig", "replace"))
        clean = sanitize(raw, device_platform, key)
        del raw  # the raw bytes are not needed once sanitized: one copy less while the store writes
        details[name] = (device_platform, source, clean.redactions, tuple(clean.notes))
        if stamp is not None:
            stamps[name] = (scope, stamp)
        return DeviceSnapshot(name=name, platform=device_platform, text=clean.text, metadata=clean.metadata)

    def snapshots() -> Iterator[DeviceSnapshot | KnownSnapshot]:
        for done, (name, path, st) in enumerate(readable, start=1):
            scope = resolver.scope(name) if cache is not None else ""
            hit = cache.get(path, st, scope) if cache is not None else None
            shown = _shown(hit.details) if hit is not None else None
            if hit is not None and shown is not None:
                details[name] = shown
                yield KnownSnapshot(name, hit.config_blob, hit.meta_blob, partial(load, name, path, scope))
            else:
                yield load(name, path, scope)
            events.item_done("import", name, done, len(readable))

    events.stage_started("import", len(readable))
    run = store.write_run(snapshots(), failures, collector=COLLECTOR, started=started)
    events.stage_finished("import")
    if cache is not None:
        _update_cache(cache, run, readable, read, stamps, details)
    statuses = {name: "added" for name in run.added} | {name: "changed" for name in run.changed}
    devices = []
    for name, rel in entries:
        if name in details:
            platform_name, source, redactions, notes = details[name]
            status = statuses.get(name, "unchanged")
            devices.append(ImportedDevice(name, directory / rel, platform_name, source, status, redactions, notes))
        else:
            file = directory / rel
            devices.append(ImportedDevice(name, file, None, PlatformSource.UNKNOWN, "failed", 0, ("file is empty",)))
    return ImportResult(run=run, devices=tuple(devices), skipped=tuple(skipped))


# what an import shows for a device besides its name, file and status: platform, its source, redactions, notes
_Shown = tuple[str | None, PlatformSource, int, tuple[str, ...]]


def _shown(cached: object) -> _Shown | None:
    """A cache entry's details as this code writes them, or None (then the file is read)."""
    if not isinstance(cached, list) or len(cached) != 4:
        return None
    platform, source, redactions, notes = cached
    if not (platform is None or isinstance(platform, str)) or not isinstance(redactions, int):
        return None
    if not isinstance(notes, list) or source not in PlatformSource._value2member_map_:
        return None
    return platform, PlatformSource(source), redactions, tuple(str(note) for note in notes)


def _update_cache(
    cache: FileCache,
    run: RunResult,
    readable: list[tuple[str, str, os.stat_result]],
    read: set[str],
    stamps: dict[str, tuple[str, Stamp]],
    details: dict[str, _Shown],
) -> None:
    """Record what every file read in this run became (as the branch now holds it); forget files gone.

    A file read but not settled (changed while read, or racy) is dropped: the cache never vouches for it.
    """
    for name, path, _ in readable:
        if name not in read:
            continue  # vouched for by the cache and confirmed against the branch: the entry stands
        blobs = run.blobs.get(name)
        if name not in stamps or blobs is None:
            cache.drop(path)
            continue
        scope, stamp = stamps[name]
        platform_name, source, redactions, notes = details[name]
        shown = [platform_name, source.value, redactions, list(notes)]
        cache.put(path, CachedFile(stamp, scope, blobs[0], blobs[1], shown))
    cache.keep_only(path for _, path, _ in readable)
    cache.save()
