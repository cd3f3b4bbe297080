"""Shared CLI plumbing: the per-invocation state and the consoles (stdout for results, stderr for the rest)."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer
from rich.console import Console

from cfgwatch.config import CfgwatchConfig, load_config

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class State:
    config_arg: str | None = None
    _config: CfgwatchConfig | None = field(default=None, repr=False)

    def config(self) -> CfgwatchConfig:
        if self._config is None:
            self._config = load_config(self.config_arg)
        return self._config


def state(ctx: typer.Context) -> State:
    """The State made by the global callback (a fresh default one when a command runs standalone)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj
