"""The lab's SSH server: one process, one loopback listening port per device, paramiko server side.

One thread runs a selector over all listening sockets; each accepted connection gets a handler
thread (plus paramiko's transport thread) that runs the device's emulated CLI. Faults are read from
the state directory at connection time, so tests flip them without restarting the lab.

Logins are by password (or keyboard-interactive) or by the lab's client key (authorized_keys). One
more port is a jump host: an SSH bastion that only opens `direct-tcpip` channels to loopback targets,
so pulls through a bastion are tested with real SSH-in-SSH.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_FAILED_CONNECT_FAILED,
    OPEN_SUCCEEDED,
)
from paramiko.server import InteractiveQuery

from cfgwatch.errors import InputError
from cfgwatch.lab.platforms import CRLF, Session, lab_platforms
from cfgwatch.lab.state import JUMP_NAME, LabDevice, LabState

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "::1", "localhost")
_moduli_lock = threading.Lock()


def _load_moduli(directory: Path) -> None:
    """Enable diffie-hellman-group-exchange on the server side (FortiOS clients in netmiko insist on it).

    paramiko needs an OpenSSH moduli file for that; hosts without /etc/ssh/moduli get one written from
    the well-known RFC 3526 MODP safe primes (groups 14 and 16, generator 2) that paramiko ships.
    """
    from paramiko.kex_group14 import KexGroup14SHA256
    from paramiko.kex_group16 import KexGroup16SHA512

    with _moduli_lock:
        if paramiko.Transport._modulus_pack is not None:  # type: ignore[attr-defined]
            return
        path = directory / "moduli"
        if not path.exists():
            lines = [
                f"20250101000000 2 6 100 {p.bit_length() - 1} 2 {p:X}\n"
                for p in (KexGroup14SHA256.P, KexGroup16SHA512.P)
            ]
            path.write_text("".join(lines), encoding="ascii")
        paramiko.Transport.load_server_moduli(str(path))


class _DeviceSSH(paramiko.ServerInterface):
    """Password authentication and one interactive shell channel, as network devices offer."""

    def __init__(self, username: str, password: str, reject_all: bool, keys: frozenset[str] = frozenset()) -> None:
        self._username = username
        self._password = password
        self._reject_all = reject_all
        self._keys = keys
        self.login: str | None = None
        self._interactive_user = ""
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password,keyboard-interactive"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        login = username.split("+", 1)[0]
        if not self._reject_all and login == self._username and key.get_base64() in self._keys:
            self.login = login
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_password(self, username: str, password: str) -> int:
        # MikroTik clients append terminal options to the login name ("netops+ct511w4098h").
        login = username.split("+", 1)[0]
        if not self._reject_all and login == self._username and password == self._password:
            self.login = login
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_interactive(self, username: str, submethods: str) -> InteractiveQuery:
        # PAN-OS logins are keyboard-interactive (netmiko answers the banner and the password prompt).
        self._interactive_user = username
        return InteractiveQuery("", "", ("Password: ", False))

    def check_auth_interactive_response(self, responses: list[str]) -> int:
        if len(responses) != 1:
            return AUTH_FAILED
        return self.check_auth_password(self._interactive_user, responses[0])

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_SUCCEEDED if kind == "session" else OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(
        self, channel: paramiko.Channel, term: bytes, width: int, height: int, pw: int, ph: int, modes: bytes
    ) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell.set()
        return True

    def check_channel_window_change_request(
        self, channel: paramiko.Channel, width: int, height: int, pixelwidth: int, pixelheight: int
    ) -> bool:
        return True


def _wire(text: str) -> bytes:
    """Device output uses CRLF line ends."""
    return text.replace("\r\n", "\n").replace("\n", CRLF).encode("utf-8")


def run_cli(chan: paramiko.Channel, session: Session, platform_name: str) -> None:
    """Drive one emulated CLI session: echo typed characters, run each line, print the prompt."""
    platform = lab_platforms()[platform_name]
    chan.sendall(_wire(platform.banner(session) + platform.prompt(session)))
    line: list[str] = []
    last_cr = False
    while not session.closed:
        data = chan.recv(4096)
        if not data:
            return
        echo: list[str] = []
        for ch in data.decode("utf-8", "replace"):
            if ch == "\n" and last_cr:
                last_cr = False
                continue
            last_cr = ch == "\r"
            if ch in "\r\n":
                text = "".join(line)
                line.clear()
                chan.sendall("".join(echo).encode("utf-8") + b"\r\n")
                echo.clear()
                out = platform.handle(session, text)
                if session.closed:
                    chan.sendall(_wire(out))
                    return
                prompt = "" if session.pending is not None else platform.prompt(session)
                if session.pending is not None:
                    chan.sendall(_wire(out))  # "Password: " stays on its line
                else:
                    chan.sendall(_wire(out + prompt))
            elif ch in "\x7f\x08":
                if line:
                    line.pop()
                    echo.append("\x08 \x08")
            elif ch == "\x03":
                line.clear()
                echo.append("^C")
            elif ch.isprintable() or ch == "\t":
                line.append(ch)
                if session.pending is None:  # passwords are not echoed
                    echo.append(ch)
        if echo:
            chan.sendall("".join(echo).encode("utf-8"))


class _JumpSSH(_DeviceSSH):
    """A bastion: the device logins, no shell, `direct-tcpip` to loopback targets only (connected here)."""

    def __init__(self, username: str, password: str, keys: frozenset[str], relayed: list[tuple[str, int]]) -> None:
        super().__init__(username, password, reject_all=False, keys=keys)
        self.targets: dict[int, socket.socket] = {}
        self._relayed = relayed

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]
    ) -> int:
        host, port = destination
        if host not in LOOPBACK:
            return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        try:
            self.targets[chanid] = socket.create_connection((host, port), timeout=10)
        except OSError:
            return OPEN_FAILED_CONNECT_FAILED
        self._relayed.append((host, port))
        return OPEN_SUCCEEDED


def _relay(chan: paramiko.Channel, sock: socket.socket) -> None:
    """Copy bytes both ways between a forwarded channel and its TCP connection until either side closes."""
    sock.settimeout(None)
    try:
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException), selectors.DefaultSelector() as sel:
            sel.register(chan, selectors.EVENT_READ)
            sel.register(sock, selectors.EVENT_READ)
            while not chan.closed:
                for key, _ in sel.select(timeout=1.0):
                    data = chan.recv(32768) if key.fileobj is chan else sock.recv(32768)
                    if not data:
                        return
                    (sock.sendall if key.fileobj is chan else chan.sendall)(data)
    finally:
        for end in (chan, sock):
            with contextlib.suppress(Exception):
                end.close()


@dataclass(frozen=True, slots=True)
class _Listener:
    device: LabDevice | None  # None: the jump host
    sock: socket.socket


class LabServer:
    """Serve every device of a lab state directory over SSH on the loopback until stop()."""

    def __init__(self, state: LabState, host: str = "127.0.0.1") -> None:
        if host not in LOOPBACK:
            raise InputError("the lab listens on the loopback only (127.0.0.1 or ::1)", key="host")
        self.state = state
        self.host = "127.0.0.1" if host == "localhost" else host
        self._listeners: list[_Listener] = []
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: set[paramiko.Transport] = set()
        self._lock = threading.Lock()
        self.ports: dict[str, int] = {}
        self.jump_port = 0
        self.relayed: list[tuple[str, int]] = []  # every (host, port) the jump host forwarded to, in order

    def start(self) -> dict[str, int]:
        """Bind every device's port (ephemeral where the state says 0) and start serving; returns the ports."""
        _load_moduli(self.state.root)
        self.state.client_key_path  # noqa: B018 -- the client key pair exists before anyone logs in with it
        for dev in self.state.devices():
            self.ports[dev.name] = self._listen(dev, dev.port, dev.name)
        self.jump_port = self._listen(None, self.state.jump_port(), JUMP_NAME)
        self.state.set_ports(self.ports, self.jump_port)
        self._thread = threading.Thread(target=self._accept_loop, name="cfgwatch-lab", daemon=True)
        self._thread.start()
        return dict(self.ports)

    def _listen(self, dev: LabDevice | None, port: int, name: str) -> int:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            self._close_listeners()
            raise InputError(f"cannot listen on {self.host}:{port}: {exc.strerror}", key=name) from exc
        sock.listen(128)
        sock.setblocking(False)
        self._listeners.append(_Listener(dev, sock))
        self._selector.register(sock, selectors.EVENT_READ, dev)
        return int(sock.getsockname()[1])

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    conn, _addr = sock.accept()
                except (BlockingIOError, OSError):
                    continue
                conn.setblocking(True)
                dev = key.data
                target, name = (self._handle, dev.name) if dev is not None else (self._handle_jump, JUMP_NAME)
                threading.Thread(target=target, args=(conn, dev), name=f"lab-{name}", daemon=True).start()

    def _handle(self, conn: socket.socket, dev: LabDevice) -> None:
        fault = self.state.fault(dev.name)
        creds = self.state.credentials()
        transport = paramiko.Transport(conn)
        with self._lock:
            self._conns.add(transport)
        try:
            transport.add_server_key(self.state.hostkey(dev.name, alternate=fault == "hostkey"))
            keys = frozenset(self.state.authorized_keys())
            iface = _DeviceSSH(creds.username, creds.password, reject_all=fault == "auth", keys=keys)
            try:
                transport.start_server(server=iface)
            except (paramiko.SSHException, EOFError, OSError):
                return
            chan = transport.accept(timeout=30)
            if chan is None or not iface.shell.wait(timeout=30):
                return
            if fault == "hang":
                # Logged in, then never a byte: the client's own timeout has to end this session.
                while not self._stop.is_set() and chan.recv(1024):
                    pass
                return
            session = Session(
                hostname=dev.name,
                username=iface.login or creds.username,
                config=lambda: self.state.read_config(dev.name),
                secret=creds.secret,
                truncated=fault == "truncated",
                mode=lab_platforms()[dev.platform].start_mode,
            )
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                run_cli(chan, session, dev.platform)
            with contextlib.suppress(Exception):
                chan.close()
        except Exception:  # one broken session must never take the lab down
            log.exception("lab session for %s failed", dev.name)
        finally:
            transport.close()
            with self._lock:
                self._conns.discard(transport)

    def _handle_jump(self, conn: socket.socket, _dev: None) -> None:
        """One bastion session: authenticate, then relay every direct-tcpip channel it opens."""
        creds = self.state.credentials()
        transport = paramiko.Transport(conn)
        with self._lock:
            self._conns.add(transport)
        try:
            transport.add_server_key(self.state.jump_hostkey())
            iface = _JumpSSH(creds.username, creds.password, frozenset(self.state.authorized_keys()), self.relayed)
            try:
                transport.start_server(server=iface)
            except (paramiko.SSHException, EOFError, OSError):
                return
            while transport.is_active() and not self._stop.is_set():
                chan = transport.accept(timeout=0.5)
                if chan is None:
                    continue
                target = iface.targets.pop(chan.get_id(), None)
                if target is None:
                    chan.close()
                    continue
                threading.Thread(target=_relay, args=(chan, target), name="lab-jump-relay", daemon=True).start()
        except Exception:  # one broken session must never take the lab down
            log.exception("lab jump host session failed")
        finally:
            transport.close()
            with self._lock:
                self._conns.discard(transport)

    def _close_listeners(self) -> None:
        for lst in self._listeners:
            with contextlib.suppress(Exception):
                self._selector.unregister(lst.sock)
            lst.sock.close()
        self._listeners.clear()

    def stop(self) -> None:
        """Stop accepting, close every open session, release the ports."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_listeners()
        with self._lock:
            conns = list(self._conns)
        for t in conns:
            t.close()
        self._selector.close()

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_lab(state: LabState, host: str = "127.0.0.1") -> Iterator[LabServer]:
    """Serve a lab in background threads for the duration of a with-block (tests, demo, bench)."""
    server = LabServer(state, host)
    server.start()
    try:
        yield server
    finally:
        server.stop()
