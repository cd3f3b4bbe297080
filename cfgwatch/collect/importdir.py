"""Collector that reads a folder of config files (another backup tool's output, or hand-saved configs).

Every regular file directly in the folder is one device named after the file (config extensions such as
.cfg/.conf/.txt dropped, so `rtr1.cfg` is `rtr1` while `rtr1.example.net` keeps its dots). The platform
comes from --platform, else the inventory, else detection from the text; each device says which.
Every text goes through sanitize() before it reaches the store. Devices not in the folder keep their
last snapshot. Bad input (missing folder, unreadable or binary file, two files for one device) stops the
run before anything is committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from cfgwatch.errors import InputError, UnknownPlatformError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.inventory import Inventory, canonical
from cfgwatch.sanitize import sanitize
from cfgwatch.sanitize.settings import DEFAULT_MAX_CONFIG_BYTES
from cfgwatch.store import DeviceFailure, DeviceSnapshot, RunResult, SnapshotStore, check_device_name
from cfgwatch.vendors.registry import detect_platform

COLLECTOR = "import"
# Extensions that are dropped from the file name to form the device name.
CONFIG_SUFFIXES = frozenset({".cfg", ".conf", ".config", ".txt", ".rsc", ".set", ".xml", ".json", ".log", ".rtf"})
_BINARY_PROBE = 8192


class PlatformSource(StrEnum):
    """Where a device's platform came from (shown to the user next to the platform)."""

    OPTION = "option"
    INVENTORY = "inventory"
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


def device_name(file: Path) -> str:
    """Device name for a file: its name without a known config extension."""
    return file.stem if file.suffix.lower() in CONFIG_SUFFIXES else file.name


def list_device_files(directory: Path) -> list[tuple[str, Path]]:
    """(device, file) for every non-hidden regular file directly in directory, sorted by device name."""
    if not directory.exists():
        raise InputError("folder not found", path=directory)
    if not directory.is_dir():
        raise InputError("not a folder", path=directory)
    try:
        files = sorted(p for p in directory.iterdir() if not p.name.startswith(".") and p.is_file())
    except OSError as exc:
        raise InputError(f"cannot list folder: {exc.strerror}", path=directory) from exc
    seen: dict[str, Path] = {}
    for file in files:
        name = device_name(file)
        try:
            check_device_name(name)
        except InputError as exc:
            raise InputError(exc.message, path=file) from None
        if name in seen:
            raise InputError(f"two files for device '{name}': {seen[name].name} and {file.name}", path=directory)
        seen[name] = file
    return sorted(seen.items())


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
    forced: str | None = None
    if platform is not None:
        try:
            forced = canonical(platform)
        except UnknownPlatformError as exc:
            raise UnknownPlatformError(f"--platform: {exc.message}") from None
    started = started or datetime.now(UTC)
    entries = list_device_files(directory)
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
            source = PlatformSource.UNKNOWN
            device_platform: str | None = None
            host = inventory.hosts.get(name) if inventory is not None else None
            if forced is not None:
                device_platform, source = forced, PlatformSource.OPTION
            elif host is not None and host.platform is not None:
                device_platform, source = host.platform, PlatformSource.INVENTORY
            else:
                device_platform = detect_platform(raw.decode("utf-8-sig", "replace"))
                if device_platform is not None:
                    source = PlatformSource.DETECTED
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
    return ImportResult(run=run, devices=tuple(sorted(devices, key=lambda d: d.name)))
