"""Two exact shortcuts in the SSH libraries' per-packet and per-read loops (profiled: issue 19 goal 8).

Why: over a 200-device pull these two pure-Python loops were about a fifth of the collector's CPU.
Both replacements return exactly what the originals return, for every input:

- paramiko checks each received packet's MAC with `util.constant_time_bytes_eq`, a Python loop over
  the bytes (two `byte_ord` calls per byte). `hmac.compare_digest` is the standard library's
  constant-time comparison in C: same answer, still constant-time, so no timing leak is added and no
  algorithm (cipher, MAC, key exchange: the device's choice) changes.
- netmiko's `strip_ansi_escape_codes` runs ~35 `re.sub` calls on every read, including empty ones;
  every pattern it removes starts with ESC (0x1b), so a text without ESC comes back unchanged and is
  returned as is. Platform overrides (Huawei, Zyxel, ...) that pre-process and call the base method
  still run their own code; only the base method's no-op case is skipped.

`install()` is idempotent and runs when cfgwatch.collect.runner is imported.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any

_ESC = "\x1b"
_lock = threading.Lock()
_installed = False


def _bytes_eq(a: Any, b: Any) -> bool:
    """paramiko.util.constant_time_bytes_eq, in C (hmac.compare_digest is constant-time too)."""
    return hmac.compare_digest(a, b)


def install() -> None:
    """Apply both shortcuts once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        import paramiko.util
        from netmiko.base_connection import BaseConnection

        paramiko.util.constant_time_bytes_eq = _bytes_eq  # packet.py calls it through the module

        strip = BaseConnection.strip_ansi_escape_codes

        def strip_ansi_escape_codes(self: BaseConnection, string_buffer: str) -> str:
            if _ESC not in string_buffer:  # every code netmiko removes starts with ESC
                return string_buffer
            return strip(self, string_buffer)

        strip_ansi_escape_codes.__doc__ = strip.__doc__
        BaseConnection.strip_ansi_escape_codes = strip_ansi_escape_codes  # type: ignore[method-assign]
        _installed = True
