"""How one device is reached over SSH: the route (target, jump hosts, keys) and the socket along it.

Production estates reach devices the way their engineers' `ssh` does: key files or the SSH agent,
`~/.ssh/config` Host blocks (HostName, User, Port, IdentityFile, ProxyJump) and bastions. A route is
resolved once per device in the parent process (inventory first, then the OpenSSH config for what the
inventory leaves open, as OpenSSH lets the command line win over its config file), then opened per
attempt: a TCP socket to the first hop, an SSH session on each jump host and a `direct-tcpip` channel
to the next, and the last channel handed to netmiko/NAPALM as their `sock`. Every jump host's key is
checked against the same known_hosts file as the devices (strict unless trust on first use), which is
why OpenSSH's own ProxyCommand (netmiko's ssh_config_file) is not used: it would check keys elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import paramiko

from cfgwatch.errors import ConfigError
from cfgwatch.inventory import Credentials, Device
from cfgwatch.inventory.credentials import resolve
from cfgwatch.inventory.loader import parse_hop


@dataclass(frozen=True, slots=True)
class Hop:
    """One SSH endpoint on the way: a jump host, or the device itself (the route's target)."""

    hostname: str
    port: int
    creds: Credentials = field(repr=False)


@dataclass(frozen=True, slots=True)
class Route:
    """The device's effective endpoint and login, and the jump hosts before it (first hop first)."""

    target: Hop
    hops: tuple[Hop, ...] = ()

    @property
    def hidden(self) -> tuple[str, ...]:
        """Every credential value along the route (scrubbed from error texts)."""
        return tuple(v for hop in (*self.hops, self.target) for v in hop.creds.hidden)


def load_ssh_config(path: Path | None) -> paramiko.SSHConfig | None:
    """The parsed OpenSSH client config at `path`; None when not configured or absent."""
    if path is None or not path.is_file():
        return None
    try:
        return paramiko.SSHConfig.from_path(str(path))
    except (OSError, ValueError, paramiko.ConfigParseError) as exc:
        raise ConfigError(f"cannot read the SSH client config: {exc}", path=path) from exc


@functools.lru_cache(maxsize=64)
def _loadable(path: Path, passphrase: str | None) -> bool:
    try:
        paramiko.PKey.from_path(path, passphrase.encode() if passphrase else None)  # type: ignore[arg-type]
    except (OSError, ValueError, TypeError, paramiko.SSHException):
        return False
    return True


def _identity_files(entry: dict[str, Any], passphrase: str | None = None) -> tuple[Path, ...]:
    """IdentityFile paths of a Host block that exist and can be used: like OpenSSH (which skips missing
    identities and, without a terminal, ones it cannot decrypt), a config-supplied key that cannot be
    loaded is left out instead of failing a login that the password would have opened."""
    found = [Path(str(p)).expanduser() for p in entry.get("identityfile", [])]
    return tuple(p for p in found if p.is_file() and _loadable(p, passphrase))


def _lookup(config: paramiko.SSHConfig | None, host: str) -> dict[str, Any]:
    return dict(config.lookup(host)) if config is not None else {}


def plan_route(device: Device, creds: Credentials, config: paramiko.SSHConfig | None) -> Route:
    """Target and jump hosts for `device`: inventory values first, the OpenSSH config for the rest.

    Port and User from the config apply where the inventory has the defaults (port 22, no username), as
    netmiko does; IdentityFile where the inventory names no key file. A jump host comes from
    `data.jump_host`, else the config's ProxyJump (each hop looked up in the config in turn). Jump hosts
    use their own `credentials:` when the inventory gives them, else the device's login.
    """
    options = device.connection_options.get(device.collector, {})
    host = str(options.get("hostname") or device.hostname)
    entry = _lookup(config, host)
    port = int(options.get("port") or device.port)
    if port == 22 and "port" in entry:
        port = int(entry["port"])
    username = options.get("username") or creds.username or entry.get("user")
    keys = creds.key_files or _identity_files(entry, creds.passphrase)
    target_creds = replace(creds, username=username, key_files=keys)
    target = Hop(str(entry.get("hostname", host)), port, target_creds)

    hops: list[Hop] = []
    if device.jump_host is not None:
        jump = device.jump_host
        jump_creds = resolve(f"{device.name} (jump host)", jump.credentials) if jump.credentials else creds
        jump_entry = _lookup(config, jump.hostname)
        jump_creds = replace(
            jump_creds,
            username=jump.username or jump_creds.username or jump_entry.get("user"),
            key_files=jump_creds.key_files or _identity_files(jump_entry, jump_creds.passphrase),
        )
        jump_port = int(jump_entry["port"]) if jump.port == 22 and "port" in jump_entry else jump.port
        hops.append(Hop(str(jump_entry.get("hostname", jump.hostname)), jump_port, jump_creds))
    elif str(entry.get("proxyjump", "none")).lower() != "none":
        for text in str(entry["proxyjump"]).split(","):
            try:
                user, name, hop_port = parse_hop(text)
            except ValueError as exc:
                raise ConfigError(f"device '{device.name}': ProxyJump {exc}", key="ProxyJump") from exc
            hop_entry = _lookup(config, name)
            hop_creds = replace(
                creds,
                username=user or hop_entry.get("user") or creds.username,
                key_files=_identity_files(hop_entry, creds.passphrase) or creds.key_files,
            )
            hops.append(
                Hop(str(hop_entry.get("hostname", name)), hop_port or int(hop_entry.get("port", 22)), hop_creds)
            )
    return Route(target, tuple(hops))


class KeyFileError(Exception):
    """A key file that cannot be used (unreadable, wrong passphrase, unknown format)."""


def load_key(creds: Credentials) -> paramiko.PKey | None:
    """The login's key, loaded here (first of key_files) so a wrong key fails as `auth` with its reason.

    Handing paramiko a key *file* instead makes it try every key type in turn and report the last
    parse error rather than the rejected login.
    """
    if not creds.key_files:
        return None
    path = creds.key_files[0]
    try:
        passphrase: Any = creds.passphrase.encode() if creds.passphrase else None  # bytes, whatever the stubs say
        return paramiko.PKey.from_path(path, passphrase)
    except (OSError, ValueError, TypeError, paramiko.SSHException) as exc:  # TypeError: encrypted, no passphrase
        raise KeyFileError(f"cannot use key file {path}: {type(exc).__name__}: {exc}") from exc


def auth_arguments(creds: Credentials) -> dict[str, Any]:
    """paramiko SSHClient.connect arguments for a login: password, key, agent.

    Keys are only those named (inventory key_file, IdentityFile) or the agent's when use_agent is set:
    never a silent scan of ~/.ssh, so what authenticates is what the inventory says.
    """
    return {
        "username": creds.username,
        "password": creds.password,
        "pkey": load_key(creds),
        "key_filename": [str(p) for p in creds.key_files[1:]] or None,
        "allow_agent": creds.use_agent,
        "look_for_keys": False,
    }


def netmiko_auth(creds: Credentials) -> dict[str, Any]:
    """The same login as ConnectHandler keyword arguments (NAPALM passes them on in optional_args).
    netmiko takes one key: the first (the inventory's key_file, else the first IdentityFile that exists)."""
    args: dict[str, Any] = {"allow_agent": creds.use_agent, "use_keys": False}
    key = load_key(creds)
    if key is not None:
        args["pkey"] = key
    return args


class JumpHostError(Exception):
    """A failure on a jump host (its text names the hop); the cause says what failed."""


class _RecordingPolicy(paramiko.MissingHostKeyPolicy):
    """Trust on first use for a jump host: accept the unknown key and hand it to `remember`."""

    def __init__(self, remember: Callable[[str, int, paramiko.PKey], None], port: int) -> None:
        self._remember = remember
        self._port = port

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        name = hostname.rsplit("]:", 1)[0].lstrip("[") if hostname.startswith("[") else hostname
        self._remember(name, self._port, key)


class ReadAheadSocket:
    """A connected TCP socket whose recv() reads ahead: one system call fetches what has arrived and the
    following recv() calls are served from it.

    paramiko reads every packet in two or more recv() calls (the first cipher block, then the rest), and
    each one on a socket with a timeout is a poll() and a recv() plus a release and re-take of the GIL:
    with a hundred sessions in one process those were most of the transport threads' CPU. The bytes,
    their order, end of file (b"") and timeouts (raised by the underlying recv when nothing is buffered)
    are the socket's own; everything else (send, settimeout, close, ...) goes to the socket unchanged.
    """

    CHUNK = 1 << 16

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._ahead = b""
        self._at = 0  # what is served of _ahead: an offset, so a chunk of small packets is not re-copied per read

    def recv(self, size: int, flags: int = 0) -> bytes:
        pending = len(self._ahead) - self._at
        if flags:  # paramiko passes none; anything else must see the socket as it is
            if pending:
                raise OSError("recv flags with read-ahead data pending")
            return self._sock.recv(size, flags)
        if not pending:
            data = self._sock.recv(max(size, self.CHUNK))
            if len(data) <= size:
                return data
            self._ahead, self._at = data, 0
        out = self._ahead[self._at : self._at + size]
        self._at += len(out)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@dataclass
class OpenRoute:
    """An opened route: `sock` goes to the collector, `tcp` is what a deadline shuts down."""

    sock: Any
    tcp: socket.socket
    clients: list[paramiko.SSHClient]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sock.close()
        for client in reversed(self.clients):
            with contextlib.suppress(Exception):
                client.close()
        with contextlib.suppress(OSError):
            self.tcp.close()


def open_route(
    route: Route,
    *,
    timeout: float,
    known_hosts: Path,
    strict: bool,
    remember: Callable[[str, int, paramiko.PKey], None],
    on_tcp: Callable[[socket.socket], None] = lambda _sock: None,
) -> OpenRoute:
    """Connect along the route; the returned `sock` reaches the target's SSH port.

    `on_tcp` gets the first TCP socket as soon as it exists, so a deadline can cut a hop that hangs.
    Raises OSError for the first TCP connection, JumpHostError (with the cause chained) for a hop.
    """
    first = route.hops[0] if route.hops else route.target
    tcp = socket.create_connection((first.hostname, first.port), timeout=timeout)
    tcp.settimeout(None)
    on_tcp(tcp)
    opened = OpenRoute(ReadAheadSocket(tcp), tcp, [])
    try:
        for index, hop in enumerate(route.hops):
            nxt = route.hops[index + 1] if index + 1 < len(route.hops) else route.target
            client = paramiko.SSHClient()
            opened.clients.append(client)
            if known_hosts.is_file():
                client.get_host_keys().load(str(known_hosts))
            client.set_missing_host_key_policy(
                paramiko.RejectPolicy() if strict else _RecordingPolicy(remember, hop.port)
            )
            where = f"jump host {hop.hostname}:{hop.port}"
            try:
                client.connect(
                    hop.hostname,
                    hop.port,
                    sock=opened.sock,
                    timeout=timeout,
                    banner_timeout=timeout,
                    auth_timeout=timeout,
                    **auth_arguments(hop.creds),
                )
                transport = client.get_transport()
                assert transport is not None
                opened.sock = transport.open_channel(
                    "direct-tcpip", (nxt.hostname, nxt.port), ("127.0.0.1", 0), timeout=timeout
                )
            except Exception as exc:
                raise JumpHostError(where) from exc
    except BaseException:
        opened.close()
        raise
    return opened
