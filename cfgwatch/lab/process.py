"""Run the lab as a separate process (`python -m cfgwatch.lab.serve_main`), stopped by its own handle.

The benchmark uses this so the lab's SSH work does not share a GIL with the collectors it serves.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cfgwatch.errors import CfgwatchError


@dataclass(frozen=True, slots=True)
class LabProcess:
    """A lab server child process and the ports it bound."""

    process: subprocess.Popen[bytes]
    ports: dict[str, int]


def start_lab_process(state_dir: Path, *, timeout: float = 30.0) -> LabProcess:
    """Start `cfgwatch lab serve --state DIR` as a child; returns once every port is bound."""
    ready = Path(state_dir) / "ready.json"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cfgwatch.lab.serve_main", str(state_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise CfgwatchError(f"lab process exited with {proc.returncode}: {err.strip()[-400:]}")
        if ready.exists():
            return LabProcess(proc, {k: int(v) for k, v in json.loads(ready.read_text()).items()})
        time.sleep(0.05)
    proc.terminate()
    raise CfgwatchError(f"lab process did not start within {timeout:.0f}s")


def stop_lab_process(lab: LabProcess, *, timeout: float = 10.0) -> None:
    """Stop the child started by start_lab_process (this PID only)."""
    if lab.process.poll() is None:
        lab.process.terminate()
        try:
            lab.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            lab.process.kill()
            lab.process.wait(timeout=timeout)
    if lab.process.stderr:
        lab.process.stderr.close()


def wait_for_lab(state_dir: Path, *, timeout: float = 30.0) -> dict[str, int]:
    """Wait until a lab serving STATE_DIR is ready: ready.json written and every port accepting connections.

    A ready.json left behind by a lab that was killed does not count: its ports refuse. Returns the ports.
    """
    ready = Path(state_dir) / "ready.json"
    deadline = time.monotonic() + timeout
    while True:
        ports: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError, AttributeError):
            ports = {str(k): int(v) for k, v in json.loads(ready.read_text(encoding="utf-8")).items()}
        if ports and all(_accepts(port) for port in ports.values()):
            return ports
        if time.monotonic() >= deadline:
            raise CfgwatchError(
                f"the lab in {state_dir} was not ready within {timeout:g}s (is `cfgwatch lab serve` running?)"
            )
        time.sleep(0.1)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False
