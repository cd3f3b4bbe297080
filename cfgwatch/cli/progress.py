"""The CLI's `Events` receiver: a transient rich bar per stage on stderr, and the stages' messages.

Only on a terminal (and not with --quiet): logs and pipes get neither, so their output stays byte-stable.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn

from cfgwatch.events import NoEvents

_LABELS = {"pull": "pulling", "import": "importing"}


class ProgressBars(NoEvents):
    """Draws each stage as a bar; the pull bar also counts failed devices and devices per second."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.active = not quiet and console.is_terminal
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._failed = 0
        self._started = 0.0

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop()  # a failing stage must not leave a live bar behind

    def stage_started(self, stage: str, total: int | None) -> None:
        if not self.active:
            return
        self._stop()
        columns: list[ProgressColumn] = [TextColumn(_LABELS.get(stage, stage)), BarColumn(), MofNCompleteColumn()]
        if stage == "pull":
            columns += [TextColumn("{task.fields[failed]} failed  {task.fields[rate]:.1f} dev/s"), TimeElapsedColumn()]
        self._bar = Progress(*columns, console=self.console, transient=True)
        self._failed, self._started = 0, time.monotonic()
        self._task = self._bar.add_task(stage, total=total, failed=0, rate=0.0)
        self._bar.start()

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None:
        if self._bar is None or self._task is None:
            return
        self._failed += 0 if getattr(item, "ok", True) else 1  # a pull's DeviceOutcome
        rate = done / max(time.monotonic() - self._started, 1e-6)
        self._bar.update(self._task, completed=done, total=total, failed=self._failed, rate=rate)

    def stage_finished(self, stage: str) -> None:
        self._stop()

    def message(self, stage: str, text: str) -> None:
        if self.active:
            self.console.print(f"[dim]{stage}: {text}[/dim]")

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar = self._task = None
