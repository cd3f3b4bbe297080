"""Shared CLI plumbing: the per-invocation state and the consoles (stdout for results, stderr for the rest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.console import Console

from cfgwatch.config import CfgwatchConfig, load_config
from cfgwatch.plugins import Registry

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
