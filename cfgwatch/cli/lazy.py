"""Commands loaded when they run: `cfgwatch --help` (and `--version`, shell completion) imports no command
module, so it costs typer's start-up, not numpy's, pydantic's, duckdb's or the SSH stack's.

Why a table: the help listing needs each command's name and one-line help before anything is imported,
so they are written down here, in help order, next to the area module that registers the command
(`register(app)`). tests/test_cli_startup.py loads every area and fails when the table and the real
commands disagree, printing the line to write.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import typer
import typer.core
import typer.main

# command -> (area module under cfgwatch.cli that registers it, the one-line help `cfgwatch --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "The whole pipeline end to end on the built-in lab: pull, change, pull, flows, audit, report, evidence.",
    ),
    "init": (
        "store",
        "Set up a cfgwatch project: cfgwatch.yaml, inventory/ (device list), snapshots/ (git repo of configs).",
    ),
    "import": (
        "store",
        "Snapshot saved configs as one run, or replay a backup tool's git history as one run per commit.",
    ),
    "log": ("store", "List collection runs, newest first: when, which collector, devices changed/added/failed."),
    "show": ("store", "Print a device's stored (sanitized) config at a revision. Details about it go to stderr."),
    "pull": ("pull", "Collect running configs over SSH and commit them as one run (none if nothing changed)."),
    "diff": (
        "audit",
        "Rule-level changes between two snapshots (NAT, ACL, bindings), classified by what they enable.",
    ),
    "audit": (
        "audit",
        "Findings: changes nobody approved or ticketed, with who/when, severity and ATT&CK mapping.",
    ),
    "approve": (
        "audit",
        "Approve a finding the audit shows under an approved ticket, recording who, when and why.",
    ),
    "approvals": ("approvals", "Recorded approvals: list, show one with its history, revoke."),
    "nightly": (
        "nightly",
        "Pull, audit every run since the previous nightly, export evidence, notify; one summary line.",
    ),
    "watch": (
        "watch",
        "Pull a device when its syslog reports a config change, audit that change and notify (until SIGTERM).",
    ),
    "vendors": ("vendors", "List the registered parsers: platform, accepted forms, modelled features, description."),
    "parse": (
        "vendors",
        "Show the NAT rules, ACL entries, bindings and diagnostics cfgwatch extracts from one config.",
    ),
    "audit-secrets": (
        "secrets",
        "Scan every commit, file and commit message in the snapshot history (all refs) for anything that still "
        "looks like a secret, and report commit, file and line. The report masks what it found.",
    ),
    "lab": ("lab", "Emulated routers and firewalls over real SSH on 127.0.0.1, for tests and the demo."),
    "flows": ("flows", "Flow telemetry: ingest exports and hunt for outbound spikes with few returns."),
    "export": ("export", "Compliance evidence: export a signed, hash-listed bundle for a period, or verify one."),
}


@cache
def area_commands(area: str) -> dict[str, Any]:
    """Every command (or command group) the area module registers, as typer builds them."""
    module = importlib.import_module(f"cfgwatch.cli.{area}")
    scratch = typer.Typer()
    module.register(scratch)
    return dict(typer.main.get_group(scratch).commands)


def real_command(name: str) -> Any:
    area, _ = COMMANDS[name]
    return area_commands(area)[name]


class LazyCommand(typer.core.TyperCommand):
    """Stands in for a command in the help listing; everything else is the real command's."""

    def __init__(self, name: str, short_help: str) -> None:
        super().__init__(name=name, help=short_help, short_help=short_help, add_help_option=False)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return real_command(self.name or "").make_context(info_name, args, parent=parent, **extra)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        return real_command(self.name or "").shell_complete(ctx, incomplete)


class LazyGroup(typer.core.TyperGroup):
    """The top-level group: its commands are LazyCommand placeholders until one is run."""

    def __init__(self, *, commands: dict[str, Any] | Sequence[Any] | None = None, **attrs: Any) -> None:
        super().__init__(commands=commands, **attrs)
        for name, (_, short_help) in COMMANDS.items():
            self.commands.setdefault(name, LazyCommand(name, short_help))
