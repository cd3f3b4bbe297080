"""Exact shortcuts in the SSH libraries' per-packet, per-read and key-exchange code (issue 19 goal 8).

Why: profiled over a 200-device pull, these pure-Python loops were about a third of the collector's CPU.
Every replacement returns exactly what the original returns, for every input:

- paramiko checks each received packet's MAC with `util.constant_time_bytes_eq`, a Python loop over
  the bytes (two `byte_ord` calls per byte). `hmac.compare_digest` is the standard library's
  constant-time comparison in C: same answer, still constant-time, so no timing leak is added and no
  algorithm (cipher, MAC, key exchange: the device's choice) changes.
- netmiko's `strip_ansi_escape_codes` runs ~35 `re.sub` calls on every read, including empty ones;
  every pattern it removes starts with ESC (0x1b), so a text without ESC comes back unchanged and is
  returned as is. Platform overrides (Huawei, Zyxel, ...) that pre-process and call the base method
  still run their own code; only the base method's no-op case is skipped.
- paramiko's finite-field Diffie-Hellman (group exchange, group14/16: what netmiko's FortiOS driver
  limits itself to) computes g^x mod p and f^x mod p with Python's `pow`, ~20 ms each for 2048 bits.
  The same modular exponentiation, same x, runs in OpenSSL (through `cryptography`'s DH exchange,
  constant-time, ~10x faster); anything OpenSSL refuses (an out-of-range base, a missing or retired
  FFDH API) falls back to Python's pow. The algorithm, group and exponent are unchanged.

`install()` is idempotent and runs when cfgwatch.collect.runner is imported.
"""

from __future__ import annotations

import builtins
import hmac
import importlib
import threading
import warnings
from typing import Any

_ESC = "\x1b"
_lock = threading.Lock()
_installed = False
_original_strip: Any = None  # netmiko's own strip_ansi_escape_codes, once install() ran


def _bytes_eq(a: Any, b: Any) -> bool:
    """paramiko.util.constant_time_bytes_eq, in C (hmac.compare_digest is constant-time too)."""
    return hmac.compare_digest(a, b)


def _modexp(base: Any, exponent: Any = None, modulus: Any = None) -> Any:
    """pow() for paramiko's DH modules: a big modular exponentiation goes to OpenSSL, the rest to pow."""
    if (
        type(base) is int
        and type(exponent) is int
        and type(modulus) is int
        and modulus.bit_length() >= 512
        and modulus & 1
        and 1 < base < modulus - 1
        and 0 < exponent < modulus
    ):
        try:
            from cryptography.hazmat.primitives.asymmetric import dh

            numbers = dh.DHParameterNumbers(modulus, 2)  # the generator only fills the key's parameters
            # exchange() computes peer^x mod p: with the base as the "peer" that is base^exponent mod modulus
            key = dh.DHPrivateNumbers(exponent, dh.DHPublicNumbers(2, numbers)).private_key()
            return int.from_bytes(key.exchange(dh.DHPublicNumbers(base, numbers).public_key()), "big")
        except Exception:  # refused by OpenSSL, or FFDH gone from cryptography: the exact slow path
            pass
    if modulus is None:
        return builtins.pow(base, exponent)
    return builtins.pow(base, exponent, modulus)


def install() -> None:
    """Apply both shortcuts once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        import paramiko.util
        from netmiko.base_connection import BaseConnection

        paramiko.util.constant_time_bytes_eq = _bytes_eq  # packet.py calls it through the module
        warnings.filterwarnings("ignore", message="Diffie-Hellman over finite fields", module=__name__)
        for name in ("kex_gex", "kex_group1", "kex_group14", "kex_group16"):
            try:
                module = importlib.import_module(f"paramiko.{name}")
            except ImportError:
                continue
            module.pow = _modexp  # type: ignore[attr-defined]  # a module global shadows the builtin

        global _original_strip
        strip = _original_strip = BaseConnection.strip_ansi_escape_codes

        def strip_ansi_escape_codes(self: BaseConnection, string_buffer: str) -> str:
            if _ESC not in string_buffer:  # every code netmiko removes starts with ESC
                return string_buffer
            return strip(self, string_buffer)

        strip_ansi_escape_codes.__doc__ = strip.__doc__
        BaseConnection.strip_ansi_escape_codes = strip_ansi_escape_codes  # type: ignore[method-assign]
        _installed = True
