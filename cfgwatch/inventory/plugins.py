"""Devices from a Nornir inventory plugin (NetBox, Nautobot, SimpleInventory, a site's own), validated as
if they had been written in hosts.yaml.

The plugin is looked up in Nornir's own InventoryPluginRegister (entry points `nornir.plugins.inventory`,
so `pip install 'cfgwatch[netbox]'` makes `NetBoxInventory2` available), built with the configured
options and loaded. Its hosts and groups are turned back into SimpleInventory mappings and go through the
same pydantic models and inheritance as the files: the no-plaintext-password rule, unknown-key and
platform checks all hold, and errors name the plugin and the key. The inventory folder's groups.yaml and
defaults.yaml are layered on top (credentials, collector and known_hosts rarely live in a CMDB).

NetBox and Nautobot put whole objects in host data (`site: {id, name, slug}`); cfgwatch's own keys
(site, role) take their slug (else name), and an object-valued data.platform gives way to the host's
platform, which those plugins set from the platform's slug or NAPALM driver.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cfgwatch.collect.settings import InventoryPluginSettings
from cfgwatch.errors import ConfigError
from cfgwatch.inventory.loader import DEFAULTS_FILE, GROUPS_FILE, Inventory, _read_yaml, build_inventory
from cfgwatch.notify.settings import Secret
from cfgwatch.yamlio import YamlDocument

_SECRET_OPTION = re.compile(r"token|password|secret|passphrase", re.IGNORECASE)
_PATH_OPTION = re.compile(r"_file$|_path$")
_OBJECT_KEYS = ("site", "role", "device_role")


def _options(settings: InventoryPluginSettings, base_dir: Path, where: str) -> dict[str, Any]:
    """The plugin's keyword arguments: secrets read from env/file, relative *_file paths made absolute."""
    options: dict[str, Any] = {}
    for key, value in settings.options.items():
        if _SECRET_OPTION.search(key) and value is not None:
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"plain-text secret in inventory_plugin.options.{key}: give {{env: VAR}} or {{file: PATH}}",
                    path=where,
                    key=f"inventory_plugin.options.{key}",
                )
            try:
                value = Secret.model_validate(value).read(base_dir)
            except (ValueError, LookupError) as exc:
                raise ConfigError(str(exc), path=where, key=f"inventory_plugin.options.{key}") from exc
        elif _PATH_OPTION.search(key) and isinstance(value, str) and not Path(value).expanduser().is_absolute():
            value = str(base_dir / value)
        options[key] = value
    return options


def _slug(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get("slug") or value.get("name")
    return value


def _element(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A Nornir host/group/defaults `.dict()` as a SimpleInventory entry: unset values left out."""
    entry: dict[str, Any] = {}
    for key in ("hostname", "port", "username", "password", "platform"):
        if raw.get(key) is not None:
            entry[key] = raw[key]
    if raw.get("groups"):
        entry["groups"] = list(raw["groups"])
    data = dict(raw.get("data") or {})
    if isinstance(data.get("platform"), Mapping):
        data.pop("platform")
    if "role" not in data and isinstance(data.get("device_role"), Mapping):
        data["role"] = data["device_role"]
    for key in _OBJECT_KEYS:
        if key in data:
            data[key] = _slug(data[key])
    data.pop("device_role", None)
    if data:
        entry["data"] = data
    options = {
        name: {k: v for k, v in opts.items() if v is not None and v != {}}
        for name, opts in (raw.get("connection_options") or {}).items()
    }
    if options:
        entry["connection_options"] = options
    return entry


def load_plugin_inventory(settings: InventoryPluginSettings, directory: Path, base_dir: Path) -> Inventory:
    """Load the plugin's inventory, then validate and resolve it like the inventory folder's files."""
    from nornir.core.plugins.inventory import InventoryPluginRegister

    where = f"inventory plugin {settings.plugin}"
    InventoryPluginRegister.auto_register()
    plugin = InventoryPluginRegister.available.get(settings.plugin)
    if plugin is None:
        known = ", ".join(sorted(InventoryPluginRegister.available))
        hint = " (NetBox: pip install 'cfgwatch[netbox]'; Nautobot: 'cfgwatch[nautobot]')"
        raise ConfigError(
            f"no Nornir inventory plugin named {settings.plugin!r}; registered: {known}{hint}",
            key="inventory_plugin.plugin",
        )
    try:
        loaded = plugin(**_options(settings, base_dir, "cfgwatch.yaml")).load()
    except ConfigError:
        raise
    except Exception as exc:  # a CMDB that is down or a bad option: the user's problem, said plainly
        raise ConfigError(f"{where} failed to load: {type(exc).__name__}: {exc}", key="inventory_plugin") from exc
    hosts = {str(name): _element(host.dict()) for name, host in loaded.hosts.items()}
    groups = {str(name): _element(group.dict()) for name, group in loaded.groups.items()}
    defaults = _element(loaded.defaults.dict())
    local_groups = _read_yaml(directory / GROUPS_FILE, required=False)
    local_defaults = _read_yaml(directory / DEFAULTS_FILE, required=False)
    groups.update(local_groups.data)  # the folder's groups.yaml wins for a group of the same name
    merged_defaults = {**defaults, **local_defaults.data}
    if isinstance(defaults.get("data"), Mapping) and isinstance(local_defaults.data.get("data"), Mapping):
        merged_defaults["data"] = {**defaults["data"], **local_defaults.data["data"]}
    return build_inventory(
        directory,
        YamlDocument(f"{where} (hosts)", hosts, {}),
        YamlDocument(f"{where} (groups) + {local_groups.source}", groups, {}),
        YamlDocument(f"{where} (defaults) + {local_defaults.source}", merged_defaults, {}),
    )
