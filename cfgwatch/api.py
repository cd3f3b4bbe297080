"""The public API: typed functions over `cfgwatch.project.Project`, returning data and reporting progress
to a `cfgwatch.events.Events` receiver. Each takes an optional CfgwatchConfig; without one it reads ./cfgwatch.yaml (or
$CFGWATCH_CONFIG). A caller that does several things with one project opens a `Project` itself and keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cfgwatch.config import CfgwatchConfig
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.project import CONFIG_TEMPLATE, DeviceView, InitResult, Project, init_project

if TYPE_CHECKING:
    from cfgwatch.collect.importdir import ImportResult
    from cfgwatch.collect.runner import PullResult
    from cfgwatch.model import RuleSet
    from cfgwatch.store import DeviceRevision, JournalEntry, RunInfo, SnapshotStore

__all__ = [
    "CONFIG_TEMPLATE",
    "DeviceView",
    "InitResult",
    "Project",
    "history",
    "import_dir",
    "init_project",
    "journal",
    "open_store",
    "parse_file",
    "pull",
    "runs",
    "show",
]


def open_store(config: CfgwatchConfig | None = None) -> SnapshotStore:
    """The project's snapshot store, with its run journal in the state directory."""
    return Project.open(config).store


# --- import, log, show ----------------------------------------------------------------------------------


def import_dir(
    directory: str | Path,
    *,
    platform: str | None = None,
    config: CfgwatchConfig | None = None,
    events: Events = NO_EVENTS,
) -> ImportResult:
    """Snapshot every config file in `directory` as one run (see cfgwatch.collect.importdir)."""
    return Project.open(config).import_dir(directory, platform=platform, events=events)


def runs(*, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[RunInfo]:
    """Runs that committed a change, newest first."""
    return Project.open(config).runs(limit)


def history(device: str, *, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[DeviceRevision]:
    """The runs that changed one device, newest first (InputError naming it if it was never snapshotted)."""
    return Project.open(config).history(device, limit)


def journal(*, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[JournalEntry]:
    """Every run, including those that changed nothing, newest first (from the run journal)."""
    return Project.open(config).journal(limit)


def show(device: str, *, rev: str = "HEAD", config: CfgwatchConfig | None = None) -> DeviceView:
    """A device's sanitized config, platform and last-change metadata at a revision."""
    return Project.open(config).show(device, rev)


# --- pull (SSH collection through Nornir) -----------------------------------------------------------------


def pull(
    *,
    devices: Sequence[str] = (),
    groups: Sequence[str] = (),
    workers: int | None = None,
    processes: int | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    known_hosts: Path | None = None,
    trust_on_first_use: bool | None = None,
    allow_shrink: bool = False,
    config: CfgwatchConfig | None = None,
    events: Events = NO_EVENTS,
    started: datetime | None = None,
) -> PullResult:
    """Pull the running config of the selected inventory devices (all by default) and commit one run
    (see `Project.pull`)."""
    return Project.open(config).pull(
        devices=devices,
        groups=groups,
        workers=workers,
        processes=processes,
        timeout=timeout,
        retries=retries,
        known_hosts=known_hosts,
        trust_on_first_use=trust_on_first_use,
        allow_shrink=allow_shrink,
        events=events,
        started=started,
    )


# --- parse ---------------------------------------------------------------------------------------------


def parse_file(path: str | Path, platform: str = "auto") -> RuleSet:
    """One config file -> RuleSet (`cfgwatch.vendors.registry.parse_file`, where it lives so that
    `cfgwatch parse` need not import the project and settings modules)."""
    from cfgwatch.vendors.registry import parse_file as parse_config_file

    return parse_config_file(path, platform)
