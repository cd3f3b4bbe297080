"""Shared CLI plumbing: the per-invocation state (one Project) and the consoles (stdout for results, stderr for
the rest)."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from rich.console import Console

from cfgwatch.config import CfgwatchConfig
from cfgwatch.project import Project

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class State:
    config_arg: str | None = None
    _project: Project | None = field(default=None, repr=False)

    def project(self) -> Project:
        """The project --config names, opened on first use (commands that need none never read it)."""
        if self._project is None:
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
