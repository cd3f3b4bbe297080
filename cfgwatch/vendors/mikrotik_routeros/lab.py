"""The lab's emulated RouterOS CLI (`/export` with its export-time header line)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cfgwatch.lab.platforms import CRLF, Platform, Session, rfc3339


class MikroTikRouterOS(Platform):
    name = "mikrotik_routeros"
    version = "7.18.2"
    config_commands = ("/export", "export", "/export terse", "/export compact")
    header_re = re.compile(r"^# \d{4}-\d\d-\d\d \d\d:\d\d:\d\d by RouterOS ")

    def prompt(self, s: Session) -> str:
        return f"[{s.username}@{s.hostname}] > "

    def banner(self, s: Session) -> str:
        return CRLF.join(
            [
                "",
                "  MMM      MMM       KKK                          TTTTTTTTTTT      KKK",
                f"  MikroTik RouterOS {self.version} (c) 1999-2025       https://www.mikrotik.com/",
                "",
                "",
            ]
        )

    def invalid(self, s: Session, line: str) -> str:
        return f"bad command name {line.split()[0].lstrip('/')} (line 1 column 1){CRLF}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if low in ("/quit", "quit"):
            s.closed = True
            return f"interrupted{CRLF}"
        if low == "/system identity print":
            return f"  name: {s.hostname}{CRLF}"
        if low == "/system resource print":
            return CRLF.join(
                [
                    "                   uptime: 12w3d4h10m",
                    f"                  version: {self.version} (stable)",
                    "               board-name: RB5009UG+S+",
                    "",
                ]
            )
        return super().command(s, low, cmd)

    def frame_config(self, s: Session, text: str) -> str:
        # The first line is the export time, printed anew on every /export.
        now = datetime.now(UTC)
        lines = text.split("\n")
        if lines and self.header_re is not None and self.header_re.match(lines[0]):
            lines[0] = f"# {now:%Y-%m-%d %H:%M:%S} by RouterOS {self.version}"
        return "\n".join(lines)

    def apply_header(self, text: str, hostname: str, user: str, at: datetime) -> str:
        header = f"# {at:%Y-%m-%d %H:%M:%S} by RouterOS {self.version}"
        lines = [line for line in text.split("\n") if not (self.header_re and self.header_re.match(line))]
        return "\n".join([header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        ts = rfc3339(at)
        return [
            f"{ts} {hostname} system,info,account user {user} logged in from {source} via ssh",
            f"{ts} {hostname} system,info config changed by {user}",
        ]
