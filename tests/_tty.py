"""Run cfgwatch on a real pseudo-terminal of a given width: what an operator at an 80-column xterm sees."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_on_tty(args: list[str], *, columns: int, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """(exit code, what the terminal received: stdout and stderr, CRLF as LF) of `python -m cfgwatch ARGS`."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR")}
    environment |= {"COLUMNS": str(columns), "TERM": "xterm-256color", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "cfgwatch", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=environment,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    code = process.wait(timeout=120)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def plain(text: str) -> str:
    """Terminal output without its escape sequences."""
    return _ESCAPE.sub("", text)


def colours(text: str) -> list[str]:
    """The SGR parameters that set a foreground or background colour (30-49, 90-107; 38/48 extended)."""
    found = []
    for match in _SGR.finditer(text):
        for part in match.group(1).split(";"):
            if part.isdigit() and (30 <= int(part) <= 49 or 90 <= int(part) <= 107):
                found.append(part)
    return found
