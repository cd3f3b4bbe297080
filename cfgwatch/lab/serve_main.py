"""Entry point of a lab child process: serve STATE_DIR until SIGTERM/SIGINT; ports go to ready.json."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from cfgwatch.lab.server import LabServer
from cfgwatch.lab.state import LabState


def main(argv: list[str]) -> int:
    state = LabState(Path(argv[0]))
    server = LabServer(state)
    ports = server.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    (state.root / "ready.json").write_text(json.dumps(ports), encoding="utf-8")
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
