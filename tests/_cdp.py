"""A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (no websocket, no extra package).

Headless chromium's command line cannot make a window narrower than ~500 px; a phone-width check needs
device emulation (`Emulation.setDeviceMetricsOverride`), which only the protocol offers. Chromium reads
commands on fd 3 and writes replies and events on fd 4, each message JSON terminated by a NUL byte.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Browser:
    """One chromium process driven over the pipe; `console` collects console and log messages."""

    process: subprocess.Popen[bytes]
    to_browser: int
    from_browser: int
    console: list[str] = field(default_factory=list)
    _next: int = 0
    _buffer: bytes = b""
    _events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, chromium: str, flags: tuple[str, ...], profile: Path) -> Browser:
        command_read, command_write = os.pipe()
        reply_read, reply_write = os.pipe()

        def wire() -> None:  # in the child: the pipe ends chromium expects on fds 3 and 4
            high_read = fcntl.fcntl(command_read, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            high_write = fcntl.fcntl(reply_write, fcntl.F_DUPFD, 10)
            os.dup2(high_read, 3)
            os.dup2(high_write, 4)

        process = subprocess.Popen(
            [chromium, *flags, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # fds 3 and 4 are made in `wire`, after the point pass_fds is applied
            preexec_fn=wire,
        )
        os.close(command_read)
        os.close(reply_write)
        return cls(process, command_write, reply_read)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the devtools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        method = message.get("method", "")
        params = message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.console.append(str(details.get("exception", {}).get("description", details.get("text", ""))))
        elif method == "Log.entryAdded":
            self.console.append(str(params["entry"]["text"]))
        return message

    def send(self, method: str, session: str | None = None, timeout: float = 60, **params: Any) -> dict[str, Any]:
        """Run one command and return its result (events that arrive meanwhile are kept)."""
        self._next += 1
        command: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            command["sessionId"] = session
        os.write(self.to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> dict[str, Any]:
        """The next event named `method` (one that already arrived counts)."""
        for index, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self._events.append(message)

    def open(self, url: str, *, width: int, height: int, mobile: bool) -> str:
        """A new tab with the given viewport, `url` loaded: returns its session id."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = str(self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"])
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        self.send("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired")
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path) -> None:
        """The whole page (not just the viewport) as a PNG."""
        data = self.send("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
