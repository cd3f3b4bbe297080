"""The collector's shortcuts in paramiko/netmiko give exactly the libraries' answers (issue 19 goal 8).

Each shortcut is compared with the original code on the same inputs, including the cases that must
take the original path (out-of-range DH bases, ANSI codes present, hashed known_hosts names).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import paramiko
import pytest
from netmiko.base_connection import BaseConnection
from paramiko.kex_group14 import KexGroup14SHA256
from paramiko.kex_group16 import KexGroup16SHA512

from cfgwatch.collect import fastpaths
from cfgwatch.collect.runner import _KnownHosts, pin_host_keys
from cfgwatch.inventory import Device


def _python_bytes_eq(a: bytes, b: bytes) -> bool:
    """paramiko's original constant_time_bytes_eq."""
    if len(a) != len(b):
        return False
    res = 0
    for x, y in zip(a, b, strict=True):
        res |= x ^ y
    return res == 0


@pytest.mark.parametrize("prime", [KexGroup14SHA256.P, KexGroup16SHA512.P], ids=["2048", "4096"])
def test_modexp_is_pow(prime: int) -> None:
    for _ in range(3):
        exponent = secrets.randbelow(prime - 3) + 2
        base = secrets.randbelow(prime - 3) + 2
        assert fastpaths._modexp(base, exponent, prime) == pow(base, exponent, prime)
        assert fastpaths._modexp(2, exponent, prime) == pow(2, exponent, prime)


def test_modexp_edge_cases_take_pythons_pow() -> None:
    prime = KexGroup14SHA256.P
    exponent = secrets.randbelow(prime - 3) + 2
    for base in (0, 1, prime - 1, prime, prime + 5):  # OpenSSL would refuse these as a peer's public value
        assert fastpaths._modexp(base, exponent, prime) == pow(base, exponent, prime)
    assert fastpaths._modexp(3, 5, 7) == pow(3, 5, 7)  # a small modulus
    assert fastpaths._modexp(2, 10) == 1024  # two arguments, as paramiko's packet module uses pow
    assert fastpaths._modexp(5, prime + 3, prime) == pow(5, prime + 3, prime)  # exponent past the modulus


def test_installed_in_paramikos_kex_modules() -> None:
    import paramiko.kex_gex
    import paramiko.kex_group14

    fastpaths.install()
    assert paramiko.kex_gex.pow is fastpaths._modexp  # type: ignore[attr-defined]
    assert paramiko.kex_group14.pow is fastpaths._modexp  # type: ignore[attr-defined]
    assert paramiko.util.constant_time_bytes_eq is fastpaths._bytes_eq


def test_mac_comparison_matches_paramikos() -> None:
    fastpaths.install()
    mac = secrets.token_bytes(32)
    for other in (mac, mac[:-1] + bytes([mac[-1] ^ 1]), mac[:16], b"", secrets.token_bytes(32)):
        assert paramiko.util.constant_time_bytes_eq(mac, other) is _python_bytes_eq(mac, other)


class _Bare(BaseConnection):
    """Enough of a netmiko connection to call strip_ansi_escape_codes (no session)."""

    def __init__(self) -> None:
        self.RETURN = "\n"


def test_ansi_strip_shortcut_matches_netmiko() -> None:
    fastpaths.install()
    conn = _Bare()
    original = fastpaths._original_strip
    samples = [
        "",
        "router1#show running-config\nhostname router1\n",
        "\x1b[24;1Hrouter1# ",
        "abc\x1b[2Kdef\x1b[?25h\x1b[1D",
        "line\x1b[3Lnext",
        "\x1bEnext line",
    ]
    for text in samples:
        assert conn.strip_ansi_escape_codes(text) == original(conn, text)
    plain = "no escape codes here\n"
    assert conn.strip_ansi_escape_codes(plain) is plain


def _write_known_hosts(path: Path, keys: dict[str, paramiko.PKey]) -> None:
    first, second = keys["a"], keys["b"]
    hashed = paramiko.HostKeys.hash_host("hashed.example")
    path.write_text(
        "# comment\n\n"
        f"r1,10.0.0.1 {first.get_name()} {first.get_base64()}\n"
        f"[127.0.0.1]:2201 {second.get_name()} {second.get_base64()}\n"
        f"r1 {second.get_name()} {second.get_base64()}\n"  # a second key of the same type: the first wins
        f"r2 ssh-unknown-type AAAA\n"
        f"{hashed} {first.get_name()} {first.get_base64()}\n",
        encoding="utf-8",
    )


def test_known_hosts_index_answers_like_paramiko(tmp_path: Path) -> None:
    keys = {"a": paramiko.ECDSAKey.generate(), "b": paramiko.ECDSAKey.generate()}
    path = tmp_path / "known_hosts"
    _write_known_hosts(path, keys)
    index, reference = _KnownHosts(path), paramiko.HostKeys(str(path))
    for name in ("r1", "10.0.0.1", "[127.0.0.1]:2201", "127.0.0.1", "hashed.example", "r2", "absent"):
        expected = reference.lookup(name)
        got = index.lookup(name)
        want = {kind: expected[kind].get_base64() for kind in expected} if expected else {}
        assert {kind: key.get_base64() for kind, key in got.items()} == want, name


def _device(name: str, hostname: str, port: int = 22) -> Device:
    """pin_host_keys reads a device's name, hostname and port only."""
    return cast(Device, SimpleNamespace(name=name, hostname=hostname, port=port))


def test_pinned_files_hold_only_the_devices_keys(tmp_path: Path) -> None:
    keys = {"a": paramiko.ECDSAKey.generate(), "b": paramiko.ECDSAKey.generate()}
    path = tmp_path / "known_hosts"
    _write_known_hosts(path, keys)
    devices = [
        (_device("r1", "r1"), path),
        (_device("lab", "127.0.0.1", 2201), path),
        (_device("gone", "r9"), path),
        (_device("nofile", "r1"), tmp_path / "absent"),
    ]
    out = tmp_path / "pinned"
    out.mkdir()
    pinned = pin_host_keys(devices, out)
    assert pinned["nofile"] is None
    r1 = paramiko.HostKeys(str(pinned["r1"]))
    assert r1.check("r1", keys["a"]) and not r1.check("r1", keys["b"])
    lab = paramiko.HostKeys(str(pinned["lab"]))
    assert lab.check("[127.0.0.1]:2201", keys["b"])
    assert Path(str(pinned["gone"])).read_text() == ""


def test_read_ahead_socket_gives_the_same_bytes_eof_and_timeouts() -> None:
    import socket

    from cfgwatch.collect.ssh import ReadAheadSocket

    left, right = socket.socketpair()
    wrapped = ReadAheadSocket(left)
    wrapped.settimeout(0.2)  # delegated to the socket
    payload = secrets.token_bytes(200_000)
    right.sendall(payload[:100_000])
    got = b""
    for size in (16, 1, 5000, 64, 100_000):
        chunk = wrapped.recv(size)
        assert 0 < len(chunk) <= size
        got += chunk
    while len(got) < 100_000:
        got += wrapped.recv(4096)
    assert got == payload[:100_000]
    with pytest.raises(TimeoutError):  # nothing buffered, nothing sent: the socket's own timeout
        wrapped.recv(16)
    right.sendall(payload[100_000:])
    right.close()
    rest = b""
    while chunk := wrapped.recv(7):
        rest += chunk
    assert rest == payload[100_000:]
    assert wrapped.recv(16) == b""  # end of file stays end of file
    assert wrapped.gettimeout() == 0.2
    wrapped.close()


def test_watchdog_runs_due_alarms_in_order_and_never_cancelled_ones() -> None:
    import threading
    import time

    from cfgwatch.collect.runner import _Watchdog

    watchdog = _Watchdog()
    fired: list[str] = []
    done = threading.Event()
    watchdog.schedule(0.3, lambda: (fired.append("late"), done.set()))
    cancelled = watchdog.schedule(0.1, lambda: fired.append("cancelled"))
    watchdog.schedule(0.05, lambda: fired.append("early"))  # due before the one the thread waits for
    watchdog.schedule(0.0, lambda: 1 / 0)  # a failing action does not stop the others
    cancelled.cancel()
    started = time.monotonic()
    assert done.wait(5)
    assert fired == ["early", "late"]
    assert time.monotonic() - started >= 0.25
