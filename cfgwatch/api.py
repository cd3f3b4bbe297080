"""Typed entry points that the CLI (and scripts) call. They return data and report progress via callbacks.

Each function takes an optional CfgwatchConfig; without one it reads ./cfgwatch.yaml (or $CFGWATCH_CONFIG).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cfgwatch.collect.importdir import ImportProgress, ImportResult
from cfgwatch.config import DEFAULT_CONFIG_NAME, CfgwatchConfig, load_config
from cfgwatch.errors import StoreError
from cfgwatch.inventory import HOSTS_FILE, Inventory, load_inventory
from cfgwatch.inventory.templates import FILES as INVENTORY_TEMPLATES
from cfgwatch.model import RuleSet
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceRevision, JournalEntry, RunInfo, RunJournal, SnapshotStore, journal_path

CONFIG_TEMPLATE = """\
# cfgwatch settings. Relative paths are relative to the folder holding this file.
snapshots: snapshots   # git repository of sanitized device configs, one commit per collection run
inventory: inventory   # hosts.yaml, groups.yaml, defaults.yaml (Nornir SimpleInventory format)
state_dir: .cfgwatch   # secret-fingerprint key, run journal, caches (never inside snapshots/)
"""


def _config(config: CfgwatchConfig | None) -> CfgwatchConfig:
    return config if config is not None else load_config()


def open_store(config: CfgwatchConfig | None = None) -> SnapshotStore:
    """The project's snapshot store, with its run journal in the state directory."""
    cfg = _config(config)
    return SnapshotStore(cfg.snapshots_path, journal=journal_path(cfg.state_path))


def project_inventory(config: CfgwatchConfig | None = None, *, required: bool = False) -> Inventory | None:
    """The project's inventory, or None when it has no hosts.yaml yet (unless required)."""
    cfg = _config(config)
    if not required and not (cfg.inventory_path / HOSTS_FILE).exists():
        return None
    return load_inventory(cfg.inventory_path)


# --- init ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitResult:
    directory: Path
    created: tuple[Path, ...]  # files and folders made now
    kept: tuple[Path, ...]  # already there, left untouched


def init_project(directory: str | Path = ".") -> InitResult:
    """Scaffold a project: cfgwatch.yaml, inventory/, snapshots/ (a git repo), state dir. Never overwrites."""
    base = Path(directory).resolve()
    created: list[Path] = []
    kept: list[Path] = []
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the project folder: {exc.strerror}", path=base) from exc
    config_file = base / DEFAULT_CONFIG_NAME
    if config_file.exists():
        kept.append(config_file)
    else:
        config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        created.append(config_file)
    cfg = load_config(config_file)  # an existing file may move the paths below

    inventory = cfg.inventory_path
    inventory.mkdir(parents=True, exist_ok=True)
    for name, text in INVENTORY_TEMPLATES.items():
        target = inventory / name
        if target.exists():
            kept.append(target)
        else:
            target.write_text(text, encoding="utf-8")
            created.append(target)

    state = cfg.state_path
    if state.exists():
        kept.append(state)
    else:
        state.mkdir(parents=True, mode=0o700)
        created.append(state)

    snapshots = cfg.snapshots_path
    existed = (snapshots / "HEAD").exists() or (snapshots / ".git").exists()
    SnapshotStore.init(snapshots)
    (kept if existed else created).append(snapshots)
    return InitResult(base, tuple(created), tuple(kept))


# --- import, log, show ----------------------------------------------------------------------------------


def import_dir(
    directory: str | Path,
    *,
    platform: str | None = None,
    config: CfgwatchConfig | None = None,
    progress: ImportProgress | None = None,
) -> ImportResult:
    """Snapshot every config file in `directory` as one run (see cfgwatch.collect.importdir)."""
    from cfgwatch.collect.importdir import import_dir as run_import
    from cfgwatch.sanitize import load_or_create_key

    cfg = _config(config)
    store = open_store(cfg)  # a missing / non-git snapshot path fails before anything is read
    inventory = project_inventory(cfg)
    with store.lock():
        key = load_or_create_key(cfg.state_path, snapshots=cfg.snapshots_path)
        return run_import(store, Path(directory), key=key, platform=platform, inventory=inventory, progress=progress)


def runs(*, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[RunInfo]:
    """Runs that committed a change, newest first."""
    return open_store(config).runs(limit)


def history(device: str, *, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[DeviceRevision]:
    """The runs that changed one device, newest first (InputError naming it if it was never snapshotted)."""
    return open_store(config).history(device, limit)


def journal(*, limit: int | None = None, config: CfgwatchConfig | None = None) -> list[JournalEntry]:
    """Every run, including those that changed nothing, newest first (from the run journal)."""
    entries = RunJournal(journal_path(_config(config).state_path)).entries()
    entries.reverse()
    return entries[:limit] if limit is not None else entries


@dataclass(frozen=True, slots=True)
class DeviceView:
    name: str
    rev: str
    commit: str
    platform: str | None
    metadata: ChangeMetadata | None
    text: str


def show(device: str, *, rev: str = "HEAD", config: CfgwatchConfig | None = None) -> DeviceView:
    """A device's sanitized config, platform and last-change metadata at a revision."""
    store = open_store(config)
    text = store.read(device, rev)
    commit = store.resolve(rev)
    return DeviceView(device, rev, commit, store.platform(device, rev), store.metadata(device, rev), text)


# --- pull (SSH collection through Nornir) -----------------------------------------------------------------


if TYPE_CHECKING:
    from cfgwatch.collect.runner import PullProgress, PullResult


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
    progress: PullProgress | None = None,
    started: datetime | None = None,
) -> PullResult:
    """Pull the running config of the selected inventory devices (all by default) and commit one run.

    `started` stamps the run (default now); the demo uses it to replay a night on a simulated clock.

    Options left None come from the `pull:` section of cfgwatch.yaml. The store lock is held for the whole
    pull, so an overlapping cron run fails fast with LockedError instead of racing.
    """
    from cfgwatch.collect.runner import pull as run_pull
    from cfgwatch.sanitize import load_or_create_key

    cfg = _config(config)
    store = open_store(cfg)
    inventory = project_inventory(cfg, required=True)
    assert inventory is not None
    selected = inventory.select(devices, groups)
    options = cfg.pull.options(
        cfg.base_dir,
        workers=workers,
        processes=processes,
        timeout=timeout,
        retries=retries,
        known_hosts=cfg.resolve(known_hosts) if known_hosts is not None else None,
        trust_on_first_use=trust_on_first_use,
    )
    with store.lock():
        key = load_or_create_key(cfg.state_path, snapshots=cfg.snapshots_path)
        return run_pull(
            store, selected, key=key, options=options, allow_shrink=allow_shrink, progress=progress, started=started
        )


# --- parse ---------------------------------------------------------------------------------------------


def parse_file(path: str | Path, platform: str = "auto") -> RuleSet:
    """One config file -> RuleSet. `auto` asks each importable parser's detector in registry order.

    Raises InputError for an unreadable file or an undetectable platform, UnknownPlatformError for a
    platform no parser is registered for.
    """
    from cfgwatch.errors import InputError
    from cfgwatch.vendors.registry import all_parsers, get_parser

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read config: {exc.strerror or exc}", path=file) from exc
    if platform.strip().lower() != "auto":
        try:
            info = get_parser(platform)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"the parser for '{platform}' is not available: {exc}", path=file) from exc
    else:
        # a platform package still being written is skipped for detection
        found = next((candidate for candidate in all_parsers() if candidate.detect(text)), None)
        if found is None:
            raise InputError("cannot detect the platform; pass --platform", path=file)
        info = found
    return info.parse(text)
