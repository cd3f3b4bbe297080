"""Shared CLI plumbing: the per-invocation state (one Project) and the consoles (stdout for results, stderr for
the rest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from cfgwatch.terminal import fold, printable

if TYPE_CHECKING:  # loaded when a command runs, not for `cfgwatch --help` (start-up time)
    from cfgwatch.config import CfgwatchConfig
    from cfgwatch.plugins import Registry
    from cfgwatch.project import Project


class PlainConsole(Console):
    """The CLI's consoles: every string printed is made printable (device names, remarks and error texts
    are device-derived; cfgwatch.terminal), so none can send an escape sequence to the operator's terminal.
    A soft-wrapped line (one rich must not wrap: it holds paths, ids, addresses) is folded at spaces on a
    terminal, so the terminal never has to cut it inside a word (`cfgwatch.terminal.fold`)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        texts = [printable(item) if isinstance(item, str) else item for item in objects]
        if kwargs.get("soft_wrap") and self.is_terminal:
            texts = [fold(item, self.width) if isinstance(item, str) else item for item in texts]
        super().print(*texts, **kwargs)


console = PlainConsole(highlight=False)
err_console = PlainConsole(stderr=True, highlight=False)


@dataclass
class State:
    config_arg: str | None = None
    _project: Project | None = field(default=None, repr=False)

    def project(self) -> Project:
        """The project --config names, opened on first use (commands that need none never read it)."""
        if self._project is None:
            from cfgwatch.project import Project

            self._project = Project.open(self.config_arg)
        return self._project

    def config(self) -> CfgwatchConfig:
        return self.project().config


def state(ctx: typer.Context) -> State:
    """The State made by the global callback (a fresh default one when a command runs standalone)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def registered(registry: Registry[Any]) -> Callable[[str], str]:
    """A typer `parser` for an option that names a plugin: an unknown name is a usage error (exit 2) that
    names the option, the registered names and the closest one. Only names are checked: nothing loads."""

    def parse(value: str) -> str:
        if value not in registry:
            raise typer.BadParameter(registry.unknown_message(value))
        return value

    return parse


def one_of(registry: Registry[Any]) -> str:
    """The registered names, for an option's help text."""
    return ", ".join(registry.names())
