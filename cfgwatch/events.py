"""One progress interface for every long-running API call (after nornir's `Processor`).

Pull, import, diff/audit, flow verification, flow ingest, the secrets audit and the nightly all report
through an `Events` object instead of each having its own callback shape, so a caller (the CLI's rich
bars, a test, a web UI) implements one small interface. Subclass `NoEvents` and override what you need;
`FanOut` sends every event to several receivers. Events are notices only: a receiver cannot change the
result, and exceptions it raises propagate. `pull` may call from a relay thread (one at a time).

Stages and their items: "pull" (DeviceOutcome), "import" and "diff" (device name), "verify"
(FlowCheck, before it is queried), "ingest" (IngestReport, after each file), "secrets" (blob id),
"insert" (rows in a ClickHouse batch; `done` counts rows, the total is unknown);
the nightly sends `message` for its stages "pull", "audit", "export" and "notify".
"""

from __future__ import annotations

from typing import Protocol


class Events(Protocol):
    """What a long-running call reports: stages with a known or unknown size, their items, notes."""

    def stage_started(self, stage: str, total: int | None) -> None: ...

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None: ...

    def stage_finished(self, stage: str) -> None: ...

    def message(self, stage: str, text: str) -> None: ...


class NoEvents:
    """Ignores every event: the default receiver, and a base class that needs only the methods it uses."""

    def stage_started(self, stage: str, total: int | None) -> None:
        pass

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None:
        pass

    def stage_finished(self, stage: str) -> None:
        pass

    def message(self, stage: str, text: str) -> None:
        pass


class FanOut:
    """Sends every event to each receiver in order (e.g. a progress bar and a log)."""

    def __init__(self, *receivers: Events) -> None:
        self.receivers = receivers

    def stage_started(self, stage: str, total: int | None) -> None:
        for receiver in self.receivers:
            receiver.stage_started(stage, total)

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None:
        for receiver in self.receivers:
            receiver.item_done(stage, item, done, total)

    def stage_finished(self, stage: str) -> None:
        for receiver in self.receivers:
            receiver.stage_finished(stage)

    def message(self, stage: str, text: str) -> None:
        for receiver in self.receivers:
            receiver.message(stage, text)


NO_EVENTS: Events = NoEvents()
