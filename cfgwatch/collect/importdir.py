"""Collector that reads a folder of config files (another backup tool's output, or hand-saved configs).

Layouts (cfgwatch.collect.backups): files directly in the folder, Oxidized group sub-folders
(`GROUP/DEVICE`) and RANCID groups (`GROUP/configs/DEVICE` beside `GROUP/router.db`). A device is named
after its file (config extensions such as .cfg/.conf/.txt dropped). README, router.db, hidden files and
folders (.git) are never devices: they are listed as skipped. The platform comes from --platform, else
the inventory, else the backup tool's own type (router.db, RANCID content-type header), else detection
from the text; each device says which. Every text goes through sanitize() before it reaches the store.
Devices not in the folder keep their last snapshot. Bad input (missing folder, unreadable or binary
file, two files for one device) stops the run before anything is committed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
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
from cfgwatch.store import DeviceFailure, DeviceSnapshot, RunResult, SnapshotStore, check_device_name
from cfgwatch.vendors.registry import detect_platform, platform_names

__all__ = ["CONFIG_SUFFIXES", "device_name", "import_dir", "list_device_files"]

if TYPE_CHECKING:
    from cfgwatch.store.remote import PushResult

COLLECTOR = "import"
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
    """Every regular file below directory as a relative POSIX path (symlinked folders are not followed)."""
    found: list[str] = []

    def failed(exc: OSError) -> None:
        raise InputError(f"cannot list folder: {exc.strerror}", path=Path(exc.filename or directory))

    for root, dirs, files in os.walk(directory, onerror=failed):
        dirs[:] = [d for d in dirs if d != ".git"]  # a backup tool's git repo: never walk its objects
        base = Path(root)
        for name in files:
            path = base / name
            if path.is_file():
                found.append(path.relative_to(directory).as_posix())
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


def _read(file: Path, limit: int = DEFAULT_MAX_CONFIG_BYTES) -> bytes:
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)  # never more than the limit in memory, even if the file grows
    except OSError as exc:
        raise InputError(f"cannot read config file: {exc.strerror}", path=file) from exc
    if len(data) > limit:
        raise InputError(_too_big(len(data), limit) + " (it grew while being read)", path=file)
    if b"\0" in data[:_BINARY_PROBE]:
        raise InputError("not a text config file (binary data); move it out of the folder", path=file)
    return data


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
) -> ImportResult:
    """Snapshot every config file of `directory` into `store` as one run (one commit, or none if unchanged)."""
    directory = Path(directory)
    forced = forced_platform(platform)
    started = started or datetime.now(UTC)
    found, skipped = scan_folder(directory)
    resolver = PlatformResolver(forced=forced, inventory=inventory, tool_types=read_router_dbs(directory, skipped))
    entries = sorted((d.name, directory / d.path) for d in found)
    failures: list[DeviceFailure] = []
    readable: list[tuple[str, Path]] = []
    for name, file in entries:
        try:
            size = file.stat().st_size
        except OSError as exc:
            raise InputError(f"cannot read config file: {exc.strerror}", path=file) from exc
        if size > max_bytes:  # before anything is read or committed
            raise InputError(_too_big(size, max_bytes), path=file)
        if size == 0:
            failures.append(DeviceFailure(name, "incomplete", f"{file.name} is empty"))
        else:
            readable.append((name, file))

    details: dict[str, ImportedDevice] = {}

    def snapshots() -> Iterator[DeviceSnapshot]:
        for done, (name, file) in enumerate(readable, start=1):
            raw = _read(file, max_bytes)
            device_platform, source = resolver.resolve(name, raw.decode("utf-8-sig", "replace"))
            clean = sanitize(raw, device_platform, key)
            del raw  # the raw bytes are not needed once sanitized: one copy less while the store writes
            details[name] = ImportedDevice(
                name, file, device_platform, source, "pending", clean.redactions, tuple(clean.notes)
            )
            yield DeviceSnapshot(name=name, platform=device_platform, text=clean.text, metadata=clean.metadata)
            events.item_done("import", name, done, len(readable))

    events.stage_started("import", len(readable))
    run = store.write_run(snapshots(), failures, collector=COLLECTOR, started=started)
    events.stage_finished("import")
    statuses = {name: "added" for name in run.added} | {name: "changed" for name in run.changed}
    devices = [replace(d, status=statuses.get(d.name, "unchanged")) for d in details.values()]
    for name, file in entries:
        if name not in details:
            devices.append(ImportedDevice(name, file, None, PlatformSource.UNKNOWN, "failed", 0, ("file is empty",)))
    return ImportResult(run=run, devices=tuple(sorted(devices, key=lambda d: d.name)), skipped=tuple(skipped))
