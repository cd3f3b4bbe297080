"""Shared CLI plumbing: the per-invocation state (one Project) and the consoles (stdout for results, stderr for
the rest; made on first use, see cfgwatch.cli.consoles)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # loaded when a command runs, not for `cfgwatch --help` (start-up time)
    from cfgwatch.cli.consoles import console as console
    from cfgwatch.cli.consoles import err_console as err_console
    from cfgwatch.config import CfgwatchConfig
    from cfgwatch.plugins import Registry
    from cfgwatch.project import Project


def __getattr__(name: str) -> Any:
    """`console` and `err_console`, imported from here by every command module, load rich.console only
    when first asked for (cfgwatch.cli.consoles): `--version` and completion never are."""
    if name in ("console", "err_console"):
        from cfgwatch.cli import consoles

        return getattr(consoles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
