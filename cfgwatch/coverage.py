"""Coverage: what the audit could see. A device that failed to pull must never look like an unchanged one.

Every report format, the nightly summary and the evidence bundle carry one `Coverage`: the devices pulled
in the last collection run, those that failed (with reason, failing since when, and since when their
snapshot is stale), devices not pulled recently at all, and flow exporters that went silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cfgwatch.flows.backends.base import FlowBackend, TimeWindow
from cfgwatch.store import JournalEntry, RunInfo


@dataclass(frozen=True, slots=True)
class FailedDevice:
    """A device the last run could not collect: the audit compared its last good snapshot."""

    device: str
    reason: str  # auth, timeout, refused, hostkey, incomplete, ...
    detail: str
    failing_since: datetime  # first failure of the current streak
    stale_since: datetime | None  # last successful pull (None: never pulled)

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "reason": self.reason,
            "detail": self.detail,
            "failing_since": self.failing_since.isoformat(),
            "stale_since": self.stale_since.isoformat() if self.stale_since else None,
        }

    def text(self) -> str:
        stale = self.stale_since.isoformat() if self.stale_since else "never pulled"
        return f"{self.device}: {self.reason} ({self.detail}); failing since {self.failing_since.isoformat()}, " + (
            f"snapshot stale since {stale}" if self.stale_since else stale
        )


@dataclass(frozen=True, slots=True)
class StaleDevice:
    """A device with no successful pull within the staleness limit (not failed in the last run: not tried)."""

    device: str
    since: datetime | None  # last successful pull (None: never)

    def to_json(self) -> dict[str, Any]:
        return {"device": self.device, "since": self.since.isoformat() if self.since else None}

    def text(self) -> str:
        return f"{self.device}: not pulled since {self.since.isoformat() if self.since else 'ever'}"


@dataclass(frozen=True, slots=True)
class SilentExporter:
    """A flow exporter that sent records before but none in the silence window: flow verdicts are blind."""

    exporter: str
    last_seen: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"exporter": self.exporter, "last_seen": self.last_seen.isoformat() if self.last_seen else None}

    def text(self) -> str:
        return f"{self.exporter}: no flow records since {self.last_seen.isoformat() if self.last_seen else 'ever'}"


@dataclass(frozen=True, slots=True)
class Coverage:
    at: datetime | None  # time of the last collection run considered
    source: str  # run-journal | snapshot-commits | none
    pulled: tuple[str, ...]
    failed: tuple[FailedDevice, ...]
    stale: tuple[StaleDevice, ...]
    exporters_checked: bool  # False when the flow store was not asked (--no-flows, no store)
    exporters: tuple[str, ...]  # exporters known to the flow store
    silent: tuple[SilentExporter, ...]
    uncompared: tuple[str, ...] = ()  # devices whose change could not be compared
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not (self.failed or self.stale or self.silent or self.uncompared)

    def headline(self) -> str:
        """One line: `coverage: 7 pulled, 1 FAILED (edge2 auth), 0 stale, exporters: 1 silent (core1)`."""
        parts = [f"{len(self.pulled)} pulled"]
        if self.failed:
            parts.append(f"{len(self.failed)} FAILED ({', '.join(f'{f.device} {f.reason}' for f in self.failed)})")
        else:
            parts.append("0 failed")
        if self.stale:
            parts.append(f"{len(self.stale)} STALE ({', '.join(s.device for s in self.stale)})")
        if self.uncompared:
            parts.append(f"{len(self.uncompared)} NOT COMPARED ({', '.join(self.uncompared)})")
        if not self.exporters_checked:
            parts.append("flow exporters not checked")
        elif self.silent:
            parts.append(f"{len(self.silent)} exporter(s) SILENT ({', '.join(s.exporter for s in self.silent)})")
        else:
            parts.append(f"{len(self.exporters)} exporter(s) reporting")
        return "coverage: " + ", ".join(parts)

    def lines(self) -> list[str]:
        """The headline, then one line per failed, stale, silent and uncompared item (text reports)."""
        out = [self.headline()]
        out += [f"  failed: {item.text()}" for item in self.failed]
        out += [f"  stale: {item.text()}" for item in self.stale]
        out += [f"  not compared: {device}" for device in self.uncompared]
        out += [f"  silent exporter: {item.text()}" for item in self.silent]
        out += [f"  note: {note}" for note in self.notes]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat() if self.at else None,
            "source": self.source,
            "complete": self.complete,
            "pulled": list(self.pulled),
            "failed": [item.to_json() for item in self.failed],
            "stale": [item.to_json() for item in self.stale],
            "not_compared": list(self.uncompared),
            "exporters_checked": self.exporters_checked,
            "exporters": list(self.exporters),
            "exporters_silent": [item.to_json() for item in self.silent],
            "notes": list(self.notes),
        }


def device_coverage(
    entries: Sequence[JournalEntry],
    runs: Sequence[RunInfo],
    *,
    devices: Iterable[str] | None,
    at: datetime | None,
    stale_after: timedelta,
) -> tuple[str, datetime | None, tuple[str, ...], tuple[FailedDevice, ...], tuple[StaleDevice, ...]]:
    """(source, time of the last run, pulled, failed, stale) from the run journal up to `at` (else the
    snapshot commits, which miss runs that changed nothing). `devices`: the inventory (None: every device seen)."""
    journal = sorted((e for e in entries if at is None or e.started <= at), key=lambda e: e.started)
    history: list[tuple[datetime, tuple[str, ...], tuple[tuple[str, str, str], ...]]]
    if journal:
        source = "run-journal"
        history = [(e.started, e.ok, tuple((f.name, f.reason, f.detail) for f in e.failed)) for e in journal]
    else:
        commits = sorted((r for r in runs if at is None or r.time <= at), key=lambda r: r.time)
        source = "snapshot-commits" if commits else "none"
        history = [
            (r.time, tuple(sorted((*r.changed, *r.added))), tuple((f.name, f.reason, f.detail) for f in r.failed))
            for r in commits
        ]
    if not history:
        return source, None, (), (), ()
    last_ok: dict[str, datetime] = {}
    streak: dict[str, datetime] = {}
    for when, ok, failed in history:
        for name in ok:
            last_ok[name] = when
            streak.pop(name, None)
        for name, _, _ in failed:
            streak.setdefault(name, when)
    latest, pulled, failures = history[-1]
    failed_devices = tuple(
        FailedDevice(name, reason, detail, streak.get(name, latest), last_ok.get(name))
        for name, reason, detail in sorted(failures)
    )
    failed_names = {f.device for f in failed_devices}
    known = set(devices) if devices is not None else set(last_ok) | {name for _, _, fs in history for name, _, _ in fs}
    stale = tuple(
        StaleDevice(name, last_ok.get(name))
        for name in sorted(known - failed_names - set(pulled))
        if source != "snapshot-commits" or name not in last_ok  # commits do not list unchanged devices
        if last_ok.get(name) is None or latest - last_ok[name] > stale_after
    )
    return source, latest, pulled, failed_devices, stale


def exporter_coverage(
    backend: FlowBackend, at: datetime, *, silent_after: timedelta, lookback: timedelta = timedelta(days=30)
) -> tuple[tuple[str, ...], tuple[SilentExporter, ...]]:
    """Exporters that sent records in the `lookback` before `at`, and those of them silent for `silent_after`."""
    seen = backend.coverage((), TimeWindow.ending(at, lookback))
    last = {row.exporter: row.last for row in seen if row.records}
    known = tuple(sorted(last))
    if not known:
        return (), ()
    recent = {row.exporter: row.records for row in backend.coverage(known, TimeWindow.ending(at, silent_after))}
    silent = tuple(SilentExporter(name, last[name]) for name in known if not recent.get(name))
    return known, silent


def build_coverage(
    entries: Sequence[JournalEntry],
    runs: Sequence[RunInfo],
    *,
    devices: Iterable[str] | None,
    until: datetime | None,
    stale_after: timedelta,
    uncompared: Sequence[str] = (),
    exporters: tuple[tuple[str, ...], tuple[SilentExporter, ...]] | None = None,
    notes: Sequence[str] = (),
) -> Coverage:
    """The coverage of an audit: devices from the journal (or commits), exporters when the flow store was asked."""
    source, at, pulled, failed, stale = device_coverage(
        entries, runs, devices=devices, at=until, stale_after=stale_after
    )
    known, silent = exporters if exporters is not None else ((), ())
    return Coverage(
        at, source, pulled, failed, stale, exporters is not None, known, silent, tuple(uncompared), tuple(notes)
    )
