"""cfgwatch.yaml: where things live and how each stage behaves. Validated at the edge with pydantic.

Relative paths are resolved against the directory holding cfgwatch.yaml, so a project folder can be
moved or cloned as a whole. Each stage owns its own settings section (a pydantic model in that
stage's package); this module only assembles them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cfgwatch.collect.settings import InventoryPluginSettings, PullSettings
from cfgwatch.diff.settings import DiffSettings
from cfgwatch.errors import ConfigError
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.notify.settings import NightlySettings, NotifySettings
from cfgwatch.policy.settings import PolicySettings
from cfgwatch.sanitize.settings import SanitizeSettings
from cfgwatch.section import Section
from cfgwatch.store_settings import StoreSettings
from cfgwatch.yamlio import load_yaml_document

DEFAULT_CONFIG_NAME = "cfgwatch.yaml"
CONFIG_ENV = "CFGWATCH_CONFIG"


class CfgwatchConfig(Section):
    snapshots: Path = Path("snapshots")  # the snapshot git repository
    inventory: Path = Path("inventory")  # hosts.yaml, groups.yaml, defaults.yaml, approved.yaml, ...
    state_dir: Path = Path(".cfgwatch")  # keys, locks, caches: never inside the snapshot repo
    base_dir: Path = Path(".")  # directory of cfgwatch.yaml; set by load_config
    inventory_plugin: InventoryPluginSettings | None = None  # devices from a Nornir inventory plugin (NetBox ...)
    policy: PolicySettings = PolicySettings()
    diff: DiffSettings = DiffSettings()  # packet-space budget per changed rule
    flows: FlowSettings = FlowSettings()
    pull: PullSettings = PullSettings()
    nightly: NightlySettings = NightlySettings()  # the unattended job (cfgwatch nightly)
    notify: NotifySettings = NotifySettings()  # webhook / email / syslog targets of the nightly
    sanitize: SanitizeSettings = SanitizeSettings()  # limits on what is read before it reaches git
    store: StoreSettings = StoreSettings()  # store.remote: push the snapshot repo after each run

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def snapshots_path(self) -> Path:
        return self.resolve(self.snapshots)

    @property
    def inventory_path(self) -> Path:
        return self.resolve(self.inventory)

    @property
    def state_path(self) -> Path:
        return self.resolve(self.state_dir)


__all__ = ["CfgwatchConfig", "Section", "load_config"]


def config_path(explicit: str | Path | None = None) -> Path:
    """--config, else $CFGWATCH_CONFIG, else ./cfgwatch.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_config(path: str | Path | None = None, *, required: bool = False) -> CfgwatchConfig:
    """Read cfgwatch.yaml. A missing file gives defaults rooted at its directory unless required."""
    resolved = config_path(path)
    if not resolved.exists():
        if required or path is not None:
            raise ConfigError("config file not found (run `cfgwatch init` to create one)", path=resolved)
        return CfgwatchConfig(base_dir=resolved.parent.resolve())
    document = load_yaml_document(resolved, what="config")
    raw: Any = document.data
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("config must be a mapping of keys", path=resolved)
    if "base_dir" in raw:
        raise document.error_at("base_dir is derived from the file location and cannot be set", ["base_dir"])
    try:
        return CfgwatchConfig(**raw, base_dir=resolved.parent.resolve())
    except ValidationError as exc:
        first = exc.errors()[0]
        raise document.error_at(first["msg"], first["loc"]) from exc
