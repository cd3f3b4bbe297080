"""`pull:` settings of cfgwatch.yaml, in a module light enough for cfgwatch.config to import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from cfgwatch.collect.validate import DEFAULT_MIN_RATIO
from cfgwatch.sanitize.settings import DEFAULT_MAX_CONFIG_BYTES
from cfgwatch.section import Section


class InventoryPluginSettings(Section):
    """`inventory_plugin:` in cfgwatch.yaml: read devices through a Nornir inventory plugin instead of the
    inventory folder's hosts.yaml (NetBoxInventory2 from nornir-netbox, NautobotInventory from
    nornir-nautobot, SimpleInventory, or any plugin registered under Nornir's `nornir.plugins.inventory`
    entry points). `options` are the plugin's keyword arguments; a key naming a token, password or secret
    takes `{env: VAR}` or `{file: PATH}`, never the value. The inventory folder's defaults.yaml and
    groups.yaml still apply (credentials, collector, known_hosts), so the plugin only has to list devices.
    """

    plugin: str
    options: dict[str, Any] = {}


class PullSettings(Section):
    """`pull:` in cfgwatch.yaml."""

    workers: int = Field(default=100, ge=1, le=1000)  # SSH sessions at once (Nornir threads, all processes)
    processes: int = Field(default=0, ge=0, le=64)  # worker processes; 0 = one per core for big pulls, 1 = none
    timeout: float = Field(default=60.0, gt=0)  # seconds one attempt on one device may take, end to end
    # seconds the whole pull may take: devices still busy (or not yet started) then fail as `timeout`;
    # null = no run-wide limit. 900 s keeps an hourly pull well clear of the next one.
    deadline: float | None = Field(default=900.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)  # extra attempts after a transient failure
    backoff: float = Field(default=2.0, ge=0)  # first retry delay in seconds; doubles each retry
    known_hosts: Path | None = None  # default ~/.ssh/known_hosts (or the inventory's data.known_hosts)
    trust_on_first_use: bool = False  # accept and record unknown host keys (a changed key still fails)
    # OpenSSH client config read for each device's Host block (HostName, User, Port, IdentityFile,
    # ProxyJump); a missing file is skipped, null reads none.
    ssh_config: Path | None = Path("~/.ssh/config")
    min_size_ratio: float = Field(default=DEFAULT_MIN_RATIO, ge=0, le=1)  # smaller than this x last good fails

    def options(self, base_dir: Path | None = None, **overrides: Any) -> PullOptions:
        known = self.known_hosts
        if known is not None and base_dir is not None and not known.is_absolute():
            known = base_dir / known
        ssh_config = self.ssh_config.expanduser() if self.ssh_config is not None else None
        if ssh_config is not None and base_dir is not None and not ssh_config.is_absolute():
            ssh_config = base_dir / ssh_config
        values: dict[str, Any] = {
            "workers": self.workers,
            "processes": self.processes,
            "timeout": self.timeout,
            "deadline": self.deadline,
            "retries": self.retries,
            "backoff": self.backoff,
            "known_hosts": known,
            "trust_on_first_use": self.trust_on_first_use,
            "ssh_config": ssh_config,
            "min_size_ratio": self.min_size_ratio,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return PullOptions(**values)


@dataclass(frozen=True, slots=True)
class PullOptions:
    """How a pull behaves (see PullSettings for the meaning of each field)."""

    workers: int = 100
    processes: int = 0
    timeout: float = 60.0
    deadline: float | None = None  # run-wide; the PullSettings default applies to configured pulls
    retries: int = 2
    backoff: float = 2.0
    known_hosts: Path | None = None
    trust_on_first_use: bool = False
    min_size_ratio: float = DEFAULT_MIN_RATIO
    ssh_config: Path | None = None  # API default: none (PullSettings reads ~/.ssh/config)
    # a bigger pulled config fails the device before it is sanitized or stored (sanitize.max_config_bytes)
    max_config_bytes: int = DEFAULT_MAX_CONFIG_BYTES
