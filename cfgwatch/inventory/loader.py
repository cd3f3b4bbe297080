"""Load a Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml) into validated, resolved devices.

The files are the ones Nornir reads, so an existing Nornir inventory can be reused as is. cfgwatch's own
keys live under `data:` (platform, site, role, collector, credentials). Values are inherited the Nornir
way: host, then its groups in order (each before its own parent groups), then defaults.
Errors name the file and the key (e.g. `hosts.yaml: key 'rtr1.data.collector'`).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cfgwatch.errors import ConfigError, UnknownPlatformError
from cfgwatch.inventory.credentials import CredentialRef, Credentials, resolve
from cfgwatch.inventory.platforms import canonical
from cfgwatch.names import closest
from cfgwatch.yamlio import YamlDocument, load_yaml_document

HOSTS_FILE = "hosts.yaml"
GROUPS_FILE = "groups.yaml"
DEFAULTS_FILE = "defaults.yaml"

Collector = Literal["napalm", "netmiko"]
_SECRET_WORDS = ("password", "secret", "passphrase")
_PLAIN_PASSWORD = (
    "plain-text passwords are not allowed in the inventory; name an environment variable "
    "(data.credentials.password_env) or a file (data.credentials.password_file) instead"
)


# --- input models (pydantic, only at the file edge) ------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialsIn(_Strict):
    username: str | None = None
    username_env: str | None = None
    username_file: Path | None = None
    password_env: str | None = None
    password_file: Path | None = None
    secret_env: str | None = None
    secret_file: Path | None = None


class DataIn(BaseModel):
    """`data:` of a host/group/defaults. Extra keys are kept (Nornir users keep their own data here), but a
    key that looks like a typo of a cfgwatch key is an error."""

    model_config = ConfigDict(extra="allow")

    platform: str | None = None
    site: str | None = None
    role: str | None = None
    collector: Collector | None = None
    credentials: CredentialsIn | None = None

    @model_validator(mode="after")
    def _no_typos(self) -> DataIn:
        known = [name for name in type(self).model_fields if name != "model_config"]
        for key in self.model_extra or {}:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
            if close:
                raise ValueError(f"unknown key '{key}' (did you mean '{close[0]}'?)")
            if key.lower() in _SECRET_WORDS:
                raise ValueError(_PLAIN_PASSWORD)
        return self


def _check_no_secrets(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() in _SECRET_WORDS and item not in (None, ""):
                raise ValueError(f"{where}{key}: {_PLAIN_PASSWORD}")
            _check_no_secrets(item, f"{where}{key}.")


class ConnectionOptionIn(_Strict):
    hostname: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    platform: str | None = None
    extras: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _no_plain_password(self) -> ConnectionOptionIn:
        if self.password:
            raise ValueError(_PLAIN_PASSWORD)
        _check_no_secrets(self.extras or {}, "extras.")
        return self


class DefaultsIn(_Strict):
    hostname: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    platform: str | None = None
    data: DataIn | None = None
    connection_options: dict[str, ConnectionOptionIn] | None = None

    @field_validator("password")
    @classmethod
    def _no_plain_password(cls, value: str | None) -> str | None:
        if value:
            raise ValueError(_PLAIN_PASSWORD)
        return value


class GroupIn(DefaultsIn):
    groups: list[str] = []


class HostIn(GroupIn):
    pass


# --- resolved data --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    """A group as written (its values are inherited by member hosts)."""

    name: str
    groups: tuple[str, ...]
    platform: str | None
    site: str | None
    role: str | None


@dataclass(frozen=True, slots=True)
class Device:
    """One device with everything inherited from groups and defaults already applied."""

    name: str
    hostname: str
    port: int
    platform: str | None  # canonical netutils/netmiko name
    groups: tuple[str, ...]
    site: str | None
    role: str | None
    collector: Collector
    credentials: CredentialRef
    data: Mapping[str, Any] = field(default_factory=dict)  # the user's own data keys (not cfgwatch's)
    connection_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Inventory:
    directory: Path
    hosts: dict[str, Device]
    groups: dict[str, Group]

    def select(self, names: Iterable[str] = (), groups: Iterable[str] = ()) -> list[Device]:
        """Devices by name and/or group membership (direct or inherited); everything when both are empty."""
        names, groups = list(names), set(groups)
        for kind, wanted, known in (("device", names, self.hosts), ("group", sorted(groups), self.groups)):
            for name in wanted:
                if name not in known:
                    hint = closest(name, known)
                    near = f" (closest: {hint!r})" if hint else ""
                    raise ConfigError(f"not in the inventory: {kind} {name!r}{near}", path=self.directory)
        if not names and not groups:
            return list(self.hosts.values())
        return [
            d
            for d in self.hosts.values()
            if d.name in names or groups.intersection(_group_closure(d.groups, self.groups))
        ]


def resolve_credentials(device: Device) -> Credentials:
    """Read the device's referenced env vars / files now (never cached, never stored)."""
    return resolve(device.name, device.credentials)


# --- loading --------------------------------------------------------------------------------------------


def _read_yaml(path: Path, *, required: bool) -> YamlDocument:
    """The file's mapping (empty when it is absent and optional), with its key lines for later errors."""
    if not path.exists():
        if required:
            raise ConfigError("inventory file not found", path=path)
        return YamlDocument(str(path), {}, {})
    document = load_yaml_document(path, what="inventory file")
    if document.data is None:
        return YamlDocument(str(path), {}, {})
    if not isinstance(document.data, dict):
        raise ConfigError("expected a mapping of names to settings", path=path)
    return document


def _validate(model: type[BaseModel], value: Any, document: YamlDocument, prefix: str) -> Any:
    try:
        return model.model_validate(value if value is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = [p for p in (prefix, *first["loc"]) if p != ""]
        raise document.error_at(str(first["msg"]).removeprefix("Value error, "), location) from exc


def _group_closure(start: Iterable[str], groups: Mapping[str, Group]) -> list[str]:
    """Groups in Nornir inheritance order: each group, then its parents, depth first, no repeats."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        order.append(name)
        for parent in groups[name].groups:
            visit(parent)

    for name in start:
        visit(name)
    return order


def _check_cycles(groups: Mapping[str, GroupIn], path: Path) -> None:
    def walk(name: str, stack: tuple[str, ...]) -> None:
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            raise ConfigError(f"group inheritance loop: {cycle}", path=path, key=f"{name}.groups")
        for parent in groups[name].groups:
            walk(parent, (*stack, name))

    for name in groups:
        walk(name, ())


def _chain(
    host: HostIn, group_order: list[str], groups_in: Mapping[str, GroupIn], defaults: DefaultsIn
) -> Iterator[Any]:
    yield host
    for name in group_order:
        yield groups_in[name]
    yield defaults


def _first(items: Iterable[Any], attr: str) -> Any:
    for item in items:
        value = getattr(item, attr, None)
        if value is not None:
            return value
    return None


def _canonical(name: str | None, path: Path, key: str) -> str | None:
    if name is None:
        return None
    try:
        return canonical(name)
    except UnknownPlatformError as exc:
        raise ConfigError(exc.message, path=path, key=key) from exc


def _resolve_device(
    name: str,
    host: HostIn,
    groups_in: Mapping[str, GroupIn],
    groups: Mapping[str, Group],
    defaults: DefaultsIn,
    directory: Path,
) -> Device:
    order = _group_closure(host.groups, groups)
    chain = list(_chain(host, order, groups_in, defaults))
    datas = [item.data for item in chain if item.data is not None]
    creds = [item.credentials for item in datas if item.credentials is not None]

    def cred(attr: str) -> Any:
        value = _first(creds, attr)
        if isinstance(value, Path) and not value.expanduser().is_absolute():
            value = directory / value
        return value

    platform_raw = _first(datas, "platform") or _first(chain, "platform")
    user_data: dict[str, Any] = {}
    for item in reversed(datas):  # nearest definition wins
        user_data.update(item.model_extra or {})
    options: dict[str, Any] = {}
    for item in reversed(chain):
        for plugin, opt in (item.connection_options or {}).items():
            options[plugin] = opt.model_dump(exclude_none=True)
    return Device(
        name=name,
        hostname=_first(chain, "hostname") or name,
        port=_first(chain, "port") or 22,
        platform=_canonical(platform_raw, directory / HOSTS_FILE, f"{name}.data.platform"),
        groups=tuple(host.groups),
        site=_first(datas, "site"),
        role=_first(datas, "role"),
        collector=_first(datas, "collector") or "netmiko",
        credentials=CredentialRef(
            username=cred("username") or _first(chain, "username"),
            username_env=cred("username_env"),
            username_file=cred("username_file"),
            password_env=cred("password_env"),
            password_file=cred("password_file"),
            secret_env=cred("secret_env"),
            secret_file=cred("secret_file"),
        ),
        data=user_data,
        connection_options=options,
    )


def _check_name_clashes(hosts: Mapping[str, Any], document: YamlDocument) -> None:
    """Refuse two devices whose names differ only in case or Unicode form (`R1` and `r1`).

    Device names become file names in the snapshot repository: on a case-insensitive file system (or a
    checkout on one) the two would overwrite each other's snapshots, and reports could not tell them apart.
    """
    seen: dict[str, str] = {}
    for name in hosts:
        first = seen.setdefault(unicodedata.normalize("NFKC", name).casefold(), name)
        if first != name:
            line = document.line_of((first,))
            where = f" (line {line})" if line is not None else ""
            raise document.error_at(
                f"device '{name}' clashes with '{first}'{where}: names that differ only in case are one "
                "file in the snapshot repository",
                (name,),
            )


def load_inventory(directory: Path) -> Inventory:
    """Read and validate hosts.yaml (required), groups.yaml and defaults.yaml (optional) from directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError("inventory directory not found", path=directory)
    hosts_path, groups_path, defaults_path = (directory / n for n in (HOSTS_FILE, GROUPS_FILE, DEFAULTS_FILE))
    hosts_file = _read_yaml(hosts_path, required=True)
    groups_file = _read_yaml(groups_path, required=False)
    defaults_file = _read_yaml(defaults_path, required=False)

    defaults: DefaultsIn = _validate(DefaultsIn, defaults_file.data, defaults_file, "")
    groups_in: dict[str, GroupIn] = {
        str(n): _validate(GroupIn, v, groups_file, str(n)) for n, v in groups_file.data.items()
    }
    hosts_in: dict[str, HostIn] = {str(n): _validate(HostIn, v, hosts_file, str(n)) for n, v in hosts_file.data.items()}
    _check_name_clashes(hosts_in, hosts_file)

    for name, group in groups_in.items():
        for parent in group.groups:
            if parent not in groups_in:
                raise ConfigError(f"unknown group '{parent}'", path=groups_path, key=f"{name}.groups")
    _check_cycles(groups_in, groups_path)
    groups = {
        name: Group(
            name=name,
            groups=tuple(g.groups),
            platform=_canonical(
                (g.data.platform if g.data else None) or g.platform, groups_path, f"{name}.data.platform"
            ),
            site=g.data.site if g.data else None,
            role=g.data.role if g.data else None,
        )
        for name, g in groups_in.items()
    }
    hosts: dict[str, Device] = {}
    for name, host in hosts_in.items():
        for group_name in host.groups:
            if group_name not in groups_in:
                raise ConfigError(f"unknown group '{group_name}'", path=hosts_path, key=f"{name}.groups")
        hosts[name] = _resolve_device(name, host, groups_in, groups, defaults, directory)
    return Inventory(directory=directory, hosts=hosts, groups=groups)
