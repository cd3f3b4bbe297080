"""Diff two snapshot revisions: only devices git reports as changed are read, parsed and compared.

This is the pipeline step above diff/ and classify/ (parse, diff, then classify), so it lives beside
them rather than in either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from cfgwatch.classify.categories import classify_changes
from cfgwatch.classify.networks import Networks
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.errors import CfgwatchError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.model import RuleSet
from cfgwatch.model.changes import RuleChange
from cfgwatch.vendors.registry import canonical_platform, detect_platform, get_parser


class SnapshotReader(Protocol):
    """The part of the snapshot store the diff needs."""

    def changed_devices(self, rev_a: str | None, rev_b: str) -> list[str]: ...

    def read_many(self, names: Sequence[str], rev: str = "HEAD") -> dict[str, tuple[str, str | None]]: ...


@dataclass(frozen=True, slots=True)
class DeviceDiff:
    """The changes on one device; `error` says why a device could not be compared (data, not exception)."""

    device: str
    platform: str | None
    changes: tuple[RuleChange, ...] = ()
    diagnostics: int = 0  # unmodelled lines in the newer version
    error: str | None = None
    first_snapshot: bool = False  # no earlier version: every rule is "added" (the posture audit's input)


@dataclass(frozen=True, slots=True)
class DiffResult:
    rev_a: str  # "" when compared with nothing (a first snapshot)
    rev_b: str
    devices: tuple[DeviceDiff, ...]

    @property
    def changes(self) -> list[RuleChange]:
        return [change for device in self.devices for change in device.changes]


def _parse(platform: str, text: str | None, device: str, rev: str) -> RuleSet:
    if text is None:
        return RuleSet(platform=platform, device=device, revision=rev)
    return replace(get_parser(platform).parse(text), device=device, revision=rev)


def diff_device(
    device: str,
    platform: str,
    text_before: str | None,
    text_after: str | None,
    networks: Networks,
    *,
    rev_a: str | None = None,
    rev_b: str | None = None,
) -> DeviceDiff:
    """Parse both versions of one device, diff and classify."""
    before = _parse(platform, text_before, device, rev_a or "")
    after = _parse(platform, text_after, device, rev_b or "")
    changes = diff_rulesets(before, after, device=device, text_before=text_before, text_after=text_after)
    return DeviceDiff(
        device=device,
        platform=platform,
        changes=tuple(classify_changes(changes, networks, before, after)),
        diagnostics=len(after.diagnostics),
        first_snapshot=text_before is None and text_after is not None,
    )


def diff_revisions(
    store: SnapshotReader,
    rev_a: str | None,
    rev_b: str,
    networks: Networks,
    *,
    devices: Sequence[str] | None = None,
    events: Events = NO_EVENTS,
) -> DiffResult:
    """Classified changes between two revisions for the devices git says changed (optionally filtered).

    `rev_a` None compares `rev_b` with nothing: every device's first snapshot (the posture audit)."""
    changed = store.changed_devices(rev_a, rev_b)
    if devices:
        wanted = set(devices)
        changed = [name for name in changed if name in wanted]
    # two batched reads (one git process each) instead of three reads per device
    before = store.read_many(changed, rev_a) if changed and rev_a is not None else {}
    after = store.read_many(changed, rev_b) if changed else {}
    results: list[DeviceDiff] = []
    events.stage_started("diff", len(changed))
    for index, name in enumerate(changed, start=1):
        results.append(_diff_one(name, before.get(name), after.get(name), rev_a or "", rev_b, networks))
        events.item_done("diff", name, index, len(changed))
    events.stage_finished("diff")
    return DiffResult(rev_a=rev_a or "", rev_b=rev_b, devices=tuple(results))


def _diff_one(
    name: str,
    before: tuple[str, str | None] | None,
    after: tuple[str, str | None] | None,
    rev_a: str,
    rev_b: str,
    networks: Networks,
) -> DeviceDiff:
    """One device's diff as data: whatever goes wrong in its parse, diff or classify is its `error`.

    Device configs are attacker-controlled text and parsers may come from site plugins, so an unexpected
    exception here is a bug on this one device, not a reason to stop auditing the others: the device is
    reported as not compared (never as unchanged) and the run goes on.
    """
    text_before = before[0] if before else None
    text_after = after[0] if after else None
    declared = (after[1] if after else None) or (before[1] if before else None)
    platform: str | None = None
    try:
        platform = canonical_platform(declared) if declared else None
        if platform is None:
            platform = detect_platform(text_after or text_before or "")
        if platform is None:
            return DeviceDiff(device=name, platform=None, error="platform unknown and not detectable from the config")
        return diff_device(name, platform, text_before, text_after, networks, rev_a=rev_a, rev_b=rev_b)
    except CfgwatchError as exc:  # e.g. no parser registered for this platform
        return DeviceDiff(device=name, platform=platform, error=str(exc))
    except Exception as exc:  # a bug on one device (IndexError, RecursionError...) is data
        return DeviceDiff(device=name, platform=platform, error=f"internal error ({type(exc).__name__}: {exc})")
