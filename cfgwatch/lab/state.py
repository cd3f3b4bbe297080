"""The lab's state directory: which devices exist, their current configs, host keys, faults and syslog.

Layout (all under one directory, so `cfgwatch lab apply` in another process changes what a running
`cfgwatch lab serve` answers):

    lab.json            devices (name, platform, port), lab username, listen address
    credentials.env     CFGWATCH_LAB_USERNAME / _PASSWORD / _SECRET (0600); never in the inventory
    configs/<name>.cfg  the config each device serves right now
    hostkeys/<name>.key the device's SSH host key (ECDSA P-256); <name>.alt.key for the changed-key fault
    faults.json         {device: fault} with fault in FAULTS
    syslog.log          one line per config change, in each platform's own format
    known_hosts         OpenSSH known_hosts for every device's real host key (and the jump host's)
    client.key          the lab user's SSH private key (ECDSA, 0600); authorized_keys holds its public key
    hostkeys/_jump.key  the host key of the lab's jump host (an SSH bastion with direct-tcpip to 127.0.0.1)
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import secrets
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paramiko
import yaml

from cfgwatch.errors import InputError
from cfgwatch.lab.platforms import LabError, lab_platforms, lab_profiles
from cfgwatch.yamlio import load_yaml

# Failure modes a lab device can be put in, for tests of the collection layer.
FAULTS = ("auth", "hang", "truncated", "hostkey")
USERNAME_ENV = "CFGWATCH_LAB_USERNAME"
PASSWORD_ENV = "CFGWATCH_LAB_PASSWORD"
SECRET_ENV = "CFGWATCH_LAB_SECRET"
DEFAULT_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "lab"  # package data: works from a wheel
JUMP_NAME = "_jump"  # host key file name of the jump host (not a device name: those start alphanumeric)


@dataclass(frozen=True, slots=True)
class LabDevice:
    """One emulated device: its name (also its hostname), platform and TCP port on the loopback."""

    name: str
    platform: str
    port: int


@dataclass(frozen=True, slots=True)
class LabCredentials:
    """The credentials every lab device accepts (a test lab: one set for all)."""

    username: str
    password: str
    secret: str

    def env(self) -> dict[str, str]:
        """Environment variables the generated inventory refers to."""
        return {USERNAME_ENV: self.username, PASSWORD_ENV: self.password, SECRET_ENV: self.secret}


def _atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_fixture_devices(fixtures: Path = DEFAULT_FIXTURES) -> dict[str, str]:
    """The base device set (name -> platform) shipped in cfgwatch/data/lab/devices.yaml."""
    path = fixtures / "devices.yaml"
    raw = load_yaml(path, what="lab device list", error=InputError)
    if not isinstance(raw, dict):
        raise InputError("must map device name to platform", path=path)
    for name, platform in raw.items():
        if platform not in lab_platforms():
            raise InputError(f"unknown lab platform {platform!r}", path=path, key=str(name))
    return {str(k): str(v) for k, v in raw.items()}


class LabState:
    """Read and change a lab state directory (see the module docstring for its layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        root: Path,
        *,
        devices: int | None = None,
        fixtures: Path = DEFAULT_FIXTURES,
        ports: dict[str, int] | None = None,
        username: str = "netops",
        password: str | None = None,
        secret: str | None = None,
    ) -> LabState:
        """Make a lab of `devices` devices (default: the fixture set), cycling through the fixture platforms.

        Devices beyond the fixture set are copies named `<fixture>-<n>` with their own hostname. Ports are
        0 (ephemeral, filled in by the server when it binds) unless given.
        """
        state = cls(root)
        if state.manifest_path.exists():
            raise InputError("lab state directory already holds a lab", path=state.root)
        base = load_fixture_devices(fixtures)
        names = list(base)
        count = len(names) if devices is None else devices
        if count < 1:
            raise InputError("a lab needs at least one device", key="devices")
        chosen: list[LabDevice] = []
        for i in range(count):
            src = names[i % len(names)]
            name = src if i < len(names) else f"{src}-{i // len(names) + 1:03d}"
            chosen.append(LabDevice(name, base[src], (ports or {}).get(name, 0)))
            text = (fixtures / f"{src}.cfg").read_text(encoding="utf-8")
            if name != src:
                text = text.replace(src, name)
            _atomic_write(state.config_path(name), text)
        creds = LabCredentials(username, password or secrets.token_urlsafe(12), secret or secrets.token_urlsafe(12))
        (state.root / "hostkeys").mkdir(parents=True, exist_ok=True)
        for dev in chosen:
            paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(state.hostkey_path(dev.name)))
        _atomic_write(
            state.root / "credentials.env",
            "".join(f"{k}={v}\n" for k, v in creds.env().items()),
            mode=0o600,
        )
        state._write_manifest(chosen, creds.username)
        state.syslog_path.touch()
        return state

    # ------------------------------------------------------------------ paths
    @property
    def manifest_path(self) -> Path:
        return self.root / "lab.json"

    @property
    def syslog_path(self) -> Path:
        return self.root / "syslog.log"

    @property
    def syslog_forward_path(self) -> Path:
        return self.root / "syslog-forward"

    def set_syslog_forward(self, address: tuple[str, int] | None) -> None:
        """Also send each change's syslog lines over UDP to HOST:PORT (a loopback address), or stop doing so."""
        if address is None:
            self.syslog_forward_path.unlink(missing_ok=True)
            return
        _check_loopback(address[0])
        _atomic_write(self.syslog_forward_path, f"{address[0]} {address[1]}\n")

    def syslog_forward(self) -> tuple[str, int] | None:
        try:
            host, port = self.syslog_forward_path.read_text(encoding="utf-8").split()
        except (OSError, ValueError):
            return None
        return host, int(port)

    @property
    def known_hosts_path(self) -> Path:
        return self.root / "known_hosts"

    @property
    def client_key_path(self) -> Path:
        """The lab user's private key (made on first use, so labs created before keys existed get one)."""
        path = self.root / "client.key"
        if not path.exists():
            with self._locked():
                if not path.exists():
                    key = paramiko.ECDSAKey.generate(bits=256)
                    key.write_private_key_file(str(path))  # paramiko writes it 0600
                    _atomic_write(self.root / "authorized_keys", f"{key.get_name()} {key.get_base64()} lab\n")
        return path

    def authorized_keys(self) -> set[str]:
        """Base64 public keys the lab devices and jump host accept for the lab user."""
        self.client_key_path  # noqa: B018 -- creates the pair when missing
        lines = (self.root / "authorized_keys").read_text(encoding="utf-8").splitlines()
        return {line.split()[1] for line in lines if len(line.split()) >= 2}

    def jump_port(self) -> int:
        """The jump host's port (0 until a server bound it)."""
        return int(str(self._manifest().get("jump_port", 0)))

    def config_path(self, name: str) -> Path:
        return self.root / "configs" / f"{name}.cfg"

    def hostkey_path(self, name: str, *, alternate: bool = False) -> Path:
        return self.root / "hostkeys" / (f"{name}.alt.key" if alternate else f"{name}.key")

    # ------------------------------------------------------------------ reading
    def _manifest(self) -> dict[str, object]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError("not a lab state directory (run `cfgwatch lab serve`)", path=self.root) from exc
        if not isinstance(data, dict):
            raise InputError("malformed lab manifest", path=self.manifest_path)
        return data

    def devices(self) -> list[LabDevice]:
        raw = self._manifest().get("devices", [])
        assert isinstance(raw, list)
        return [LabDevice(str(d["name"]), str(d["platform"]), int(d["port"])) for d in raw]

    def device(self, name: str) -> LabDevice:
        for dev in self.devices():
            if dev.name == name:
                return dev
        raise InputError(f"no lab device named {name!r}", path=self.manifest_path)

    def credentials(self) -> LabCredentials:
        values: dict[str, str] = {}
        for line in (self.root / "credentials.env").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            values[key] = value
        return LabCredentials(values[USERNAME_ENV], values[PASSWORD_ENV], values[SECRET_ENV])

    def read_config(self, name: str) -> str:
        return self.config_path(name).read_text(encoding="utf-8")

    def faults(self) -> dict[str, str]:
        path = self.root / "faults.json"
        if not path.exists():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()}

    def fault(self, name: str) -> str | None:
        return self.faults().get(name)

    def jump_hostkey(self) -> paramiko.PKey:
        """The jump host's key (made on first use)."""
        path = self.hostkey_path(JUMP_NAME)
        if not path.exists():
            paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(path))
        return paramiko.ECDSAKey.from_private_key_file(str(path))

    def hostkey(self, name: str, *, alternate: bool = False) -> paramiko.PKey:
        path = self.hostkey_path(name, alternate=alternate)
        if alternate and not path.exists():
            paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(path))
        return paramiko.ECDSAKey.from_private_key_file(str(path))

    # ------------------------------------------------------------------ changing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _write_manifest(
        self, devices: list[LabDevice], username: str, host: str = "127.0.0.1", jump_port: int = 0
    ) -> None:
        data = {
            "host": host,
            "username": username,
            "jump_port": jump_port,
            "devices": [{"name": d.name, "platform": d.platform, "port": d.port} for d in devices],
        }
        _atomic_write(self.manifest_path, json.dumps(data, indent=2) + "\n")

    def set_ports(self, ports: dict[str, int], jump_port: int | None = None) -> None:
        """Record the ports the server bound (ephemeral ports are only known after binding)."""
        with self._locked():
            devs = [LabDevice(d.name, d.platform, ports.get(d.name, d.port)) for d in self.devices()]
            jump = self.jump_port() if jump_port is None else jump_port
            self._write_manifest(devs, self.credentials().username, jump_port=jump)

    def set_fault(self, name: str, fault: str | None) -> None:
        """Put a device into a failure mode (None clears it); takes effect on the next connection."""
        self.device(name)
        if fault is not None and fault not in FAULTS:
            raise InputError(f"unknown fault {fault!r} (one of {', '.join(FAULTS)})", key="fault")
        with self._locked():
            faults = self.faults()
            if fault is None:
                faults.pop(name, None)
            else:
                faults[name] = fault
            _atomic_write(self.root / "faults.json", json.dumps(faults, indent=2, sort_keys=True) + "\n")

    def apply(
        self,
        name: str,
        text: str,
        *,
        user: str = "admin",
        at: datetime | None = None,
        source: str = "10.99.0.250",
    ) -> list[str]:
        """Replace a device's config as an admin would: header moves, a syslog line is appended.

        Returns the syslog lines written.
        """
        dev = self.device(name)
        when = (at or datetime.now(UTC)).astimezone(UTC)
        platform = lab_platforms()[dev.platform]
        text = text.replace("\r\n", "\n")
        new = platform.apply_header(text, name, user, when)
        if not new.endswith("\n"):
            new += "\n"
        lines = platform.syslog(name, user, when, source)
        with self._locked():
            _atomic_write(self.config_path(name), new)
            with self.syslog_path.open("a", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
        forward = self.syslog_forward()
        if forward is not None:
            send_syslog(lines, forward)
        return lines

    # ------------------------------------------------------------------ outputs for cfgwatch
    def write_known_hosts(self, host: str = "127.0.0.1") -> Path:
        """An OpenSSH known_hosts file with each device's real host key (`[host]:port` entries)."""
        lines = []
        for dev in self.devices():
            key = self.hostkey(dev.name)
            lines.append(f"[{host}]:{dev.port} {key.get_name()} {key.get_base64()}\n")
        if self.jump_port():
            key = self.jump_hostkey()
            lines.append(f"[{host}]:{self.jump_port()} {key.get_name()} {key.get_base64()}\n")
        _atomic_write(self.known_hosts_path, "".join(lines))
        return self.known_hosts_path

    def write_inventory(
        self, directory: Path, host: str = "127.0.0.1", *, key_auth: bool = False, via_jump: bool = False
    ) -> Path:
        """A Nornir SimpleInventory (hosts/groups/defaults.yaml) for the lab; credentials by env var name.

        key_auth: log in with the lab's client key instead of the password; via_jump: reach every device
        through the lab's jump host (`data.jump_host`; the server must have bound it)."""
        hosts: dict[str, object] = {}
        profiles = lab_profiles()
        for dev in self.devices():
            hosts[dev.name] = {
                "hostname": host,
                "port": dev.port,
                "platform": dev.platform,
                "groups": ["lab", dev.platform],
                "data": {
                    "site": "lab",
                    "role": profiles[dev.platform].role if dev.platform in profiles else "router",
                    "collector": profiles[dev.platform].collector if dev.platform in profiles else "netmiko",
                },
            }
        groups = {"lab": {"data": {"site": "lab"}}, **{p: {} for p in sorted({d.platform for d in self.devices()})}}
        credentials: dict[str, object] = {"username_env": USERNAME_ENV, "secret_env": SECRET_ENV}
        if key_auth:
            credentials["key_file"] = str(self.client_key_path.resolve())
        else:
            credentials["password_env"] = PASSWORD_ENV
        data: dict[str, object] = {"credentials": credentials, "known_hosts": str(self.known_hosts_path.resolve())}
        if via_jump:
            if not self.jump_port():
                raise InputError("the lab's jump host has no port yet (start the lab first)", path=self.root)
            data["jump_host"] = f"[{host}]:{self.jump_port()}" if ":" in host else f"{host}:{self.jump_port()}"
        defaults = {"data": data}
        directory.mkdir(parents=True, exist_ok=True)
        for fname, content in (("hosts.yaml", hosts), ("groups.yaml", groups), ("defaults.yaml", defaults)):
            _atomic_write(directory / fname, yaml.safe_dump(content, sort_keys=False))
        return directory


def _check_loopback(host: str) -> None:
    """The lab only ever talks to this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LabError(f"the lab sends syslog only to a loopback address, not {host!r}")


def send_syslog(lines: list[str], address: tuple[str, int]) -> None:
    """Each line as one UDP syslog datagram (PRI local7.notice, then the line as the device logs it)."""
    _check_loopback(address[0])
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        for line in lines:
            sock.sendto(b"<189>" + line.encode("utf-8"), address)
