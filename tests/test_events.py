"""The one progress interface: what a receiver hears from a pull and the audit after it, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pull import FAST, KEY, Lab, lab_env

from cfgwatch.audit import run_audit
from cfgwatch.collect.runner import DeviceOutcome, pull
from cfgwatch.config import load_config
from cfgwatch.events import Events, FanOut, NoEvents
from cfgwatch.project import init_project
from cfgwatch.store import SnapshotStore

Event = tuple[object, ...]


class Recorder(NoEvents):
    """Keeps every event as a tuple (method name, arguments...); items reduced by `name` to stay comparable."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def stage_started(self, stage: str, total: int | None) -> None:
        self.events.append(("stage_started", stage, total))

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None:
        self.events.append(("item_done", stage, item.name if isinstance(item, DeviceOutcome) else item, done, total))

    def stage_finished(self, stage: str) -> None:
        self.events.append(("stage_finished", stage))

    def message(self, stage: str, text: str) -> None:
        self.events.append(("message", stage, text))


def test_a_recorder_hears_a_pull_and_the_audit_after_it_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with lab_env(tmp_path, monkeypatch) as lab:
        seen = _pull_twice_and_audit(lab, tmp_path)
    pulled_items = seen.events[1:3]  # the sessions run in parallel: any order, but counted up in order
    assert sorted(event[2] for event in pulled_items) == ["branch-srx-01", "core-rtr-01"]  # type: ignore[type-var]
    assert [event[3:] for event in pulled_items] == [(1, 2), (2, 2)]
    assert seen.events[:1] + seen.events[3:] == [
        ("stage_started", "pull", 2),
        ("stage_finished", "pull"),
        ("stage_started", "diff", 1),
        ("item_done", "diff", "branch-srx-01", 1, 1),
        ("stage_finished", "diff"),
    ]


def _pull_twice_and_audit(lab: Lab, tmp_path: Path) -> Recorder:
    """Two pulls with one device changed in between; the second pull and the audit go to a Recorder."""
    init_project(tmp_path / "project")
    config = load_config(tmp_path / "project" / "cfgwatch.yaml")
    store = SnapshotStore(config.snapshots_path)
    devices = lab.devices("core-rtr-01", "branch-srx-01")
    pull(store, devices, key=KEY, options=FAST)
    srx = lab.state.read_config("branch-srx-01").replace("8443;", "9050;")
    lab.state.apply("branch-srx-01", srx, user="mallory")

    seen = Recorder()
    pulled = pull(store, devices, key=KEY, options=FAST, events=seen)
    audit = run_audit(store, config, None, events=seen)

    assert pulled.run.changed == ("branch-srx-01",) and audit.changes
    return seen


def test_fan_out_sends_each_event_to_every_receiver_in_order() -> None:
    first, second = Recorder(), Recorder()
    events: Events = FanOut(first, second, NoEvents())
    events.stage_started("ingest", None)
    events.item_done("ingest", "a.csv", 1, 1)
    events.message("ingest", "done")
    events.stage_finished("ingest")
    expected: list[Event] = [
        ("stage_started", "ingest", None),
        ("item_done", "ingest", "a.csv", 1, 1),
        ("message", "ingest", "done"),
        ("stage_finished", "ingest"),
    ]
    assert first.events == expected and second.events == expected
