"""Load a Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml) into validated, resolved devices.

The files are the ones Nornir reads, so an existing Nornir inventory can be reused as is. cfgwatch's own
keys live under `data:` (platform, site, role, collector, credentials). Values are inherited the Nornir
way: host, then its groups in order (each before its own parent groups), then defaults.
Errors name the file and the key (e.g. `hosts.yaml: key 'rtr1.data.collector'`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
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
    key_file: Path | None = None
    passphrase_env: str | None = None
    passphrase_file: Path | None = None
    use_agent: bool | None = None


_HOP_RE = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]\s]+\]|[^:@\s\[\]]+)(?::(?P<port>\d{1,5}))?$")


def parse_hop(text: str) -> tuple[str | None, str, int | None]:
    """(user, host, port) of an OpenSSH ProxyJump hop `[user@]host[:port]` (IPv6 in brackets)."""
    m = _HOP_RE.match(text.strip())
    if m is None or (m["port"] is not None and not 1 <= int(m["port"]) <= 65535):
        raise ValueError(f"not a jump host of the form [user@]host[:port]: {text!r}")
    return m["user"], m["host"].strip("[]"), int(m["port"]) if m["port"] else None


class JumpHostIn(_Strict):
    """`data.jump_host`: the SSH bastion a device is reached through (`[user@]host[:port]` or this mapping)."""

    hostname: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str | None = None
    credentials: CredentialsIn | None = None  # default: the device's own credentials

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            user, host, port = parse_hop(value)
            return {"hostname": host, "port": port or 22, "username": user}
        return value


class DataIn(BaseModel):
    """`data:` of a host/group/defaults. Extra keys are kept (Nornir users keep their own data here), but a
    key that looks like a typo of a cfgwatch key is an error."""

    model_config = ConfigDict(extra="allow")

    platform: str | None = None
    site: str | None = None
    role: str | None = None
    collector: Collector | None = None
    credentials: CredentialsIn | None = None
    jump_host: JumpHostIn | None = None

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


# ConnectHandler / NAPALM optional_args keys cfgwatch sets itself: the socket (its deadline and jump hosts)
# and host-key checking, which stays strict (pull.known_hosts / --trust-on-first-use decide it).
RESERVED_EXTRAS = frozenset(
    {"sock", "ssh_strict", "system_host_keys", "alt_host_keys", "alt_key_file", "ssh_config_file", "host", "ip"}
)


def _check_reserved(extras: Mapping[str, Any], where: str) -> None:
    for key, value in extras.items():
        if key in RESERVED_EXTRAS:
            raise ValueError(
                f"{where}{key}: set by cfgwatch (host keys stay strictly checked: use pull.known_hosts or "
                "--trust-on-first-use; jump hosts: data.jump_host or ~/.ssh/config ProxyJump)"
            )
        if key == "optional_args" and isinstance(value, Mapping):
            _check_reserved(value, f"{where}{key}.")


class ConnectionOptionIn(_Strict):
    """`connection_options.<netmiko|napalm>`: passed to the connection (extras: ConnectHandler keyword
    arguments, or the NAPALM driver's with `optional_args`)."""

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
        _check_reserved(self.extras or {}, "extras.")
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
class JumpHost:
    """The SSH bastion a device is reached through; credentials None: the device's own are used."""

    hostname: str
    port: int = 22
    username: str | None = None
    credentials: CredentialRef | None = None


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
    jump_host: JumpHost | None = None


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


def _relative(value: Any, directory: Path) -> Any:
    """A relative file path in the inventory is relative to the inventory folder."""
    if isinstance(value, Path) and not value.expanduser().is_absolute():
        return directory / value
    return value


def _credential_ref(get: Callable[[str], Any]) -> CredentialRef:
    """A CredentialRef from `get(field name)` (None where unset)."""
    values = {name: get(name) for name in CredentialRef.__dataclass_fields__}
    values["use_agent"] = bool(values["use_agent"])
    return CredentialRef(**values)


def _resolve_device(
    name: str,
    host: HostIn,
    groups_in: Mapping[str, GroupIn],
    groups: Mapping[str, Group],
    defaults: DefaultsIn,
    directory: Path,
    hosts_path: Path,
) -> Device:
    order = _group_closure(host.groups, groups)
    chain = list(_chain(host, order, groups_in, defaults))
    datas = [item.data for item in chain if item.data is not None]
    creds = [item.credentials for item in datas if item.credentials is not None]

    def cred(attr: str) -> Any:
        return _relative(_first(creds, attr), directory)

    jump_in: JumpHostIn | None = _first(datas, "jump_host")
    jump = None
    if jump_in is not None:
        jump_creds = None
        if jump_in.credentials is not None:
            jump_creds = _credential_ref(lambda attr: _relative(getattr(jump_in.credentials, attr), directory))
        jump = JumpHost(jump_in.hostname, jump_in.port, jump_in.username, jump_creds)

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
        platform=_canonical(platform_raw, hosts_path, f"{name}.data.platform"),
        groups=tuple(host.groups),
        site=_first(datas, "site"),
        role=_first(datas, "role"),
        collector=_first(datas, "collector") or "netmiko",
        credentials=_credential_ref(lambda attr: cred(attr) or (_first(chain, attr) if attr == "username" else None)),
        data=user_data,
        connection_options=options,
        jump_host=jump,
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
    return build_inventory(
        directory,
        _read_yaml(hosts_path, required=True),
        _read_yaml(groups_path, required=False),
        _read_yaml(defaults_path, required=False),
    )


def build_inventory(
    directory: Path, hosts_file: YamlDocument, groups_file: YamlDocument, defaults_file: YamlDocument
) -> Inventory:
    """Validate SimpleInventory-shaped hosts/groups/defaults (from files or an inventory plugin) and resolve
    every device; errors name the document (file or plugin) and the key. Relative paths are relative to
    `directory`."""
    hosts_path, groups_path = Path(hosts_file.source), Path(groups_file.source)
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
        hosts[name] = _resolve_device(name, host, groups_in, groups, defaults, directory, hosts_path)
    return Inventory(directory=directory, hosts=hosts, groups=groups)
