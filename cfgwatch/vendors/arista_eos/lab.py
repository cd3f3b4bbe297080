"""The lab's emulated Arista EOS CLI (IOS-like, with EOS's messages and startup-config header)."""

from __future__ import annotations

import re
from datetime import datetime

from cfgwatch.lab.platforms import CRLF, Session, rfc3339
from cfgwatch.vendors.cisco_ios.lab import CiscoIOS


class AristaEOS(CiscoIOS):
    name = "arista_eos"
    version = "4.31.2F"
    header_re = re.compile(r"^! Startup-config last modified at ")

    def invalid(self, s: Session, line: str) -> str:
        return f"% Invalid input{CRLF}"

    def frame_config(self, s: Session, text: str) -> str:
        return text

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if low == "terminal width 511":
            return f"Width set to 511 columns.{CRLF}"
        if low == "terminal length 0":
            return f"Pagination disabled.{CRLF}"
        if low in ("show running-config", "show run") and s.mode == "user":
            return f"% Invalid input (privileged mode required){CRLF}"
        return super().command(s, low, cmd)

    def show_version(self, s: Session) -> str:
        return CRLF.join(
            [
                "Arista vEOS-lab",
                "Hardware version:",
                "Serial number: 5E1C0DEADBEEF",
                f"Software image version: {self.version}",
                "Architecture: x86_64",
                "Uptime: 12 weeks, 3 days, 4 hours and 10 minutes",
                "",
            ]
        )

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"! Startup-config last modified at  {at:%a %b} {at.day:>2} {at:%H:%M:%S %Y} by {user}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        for i, line in enumerate(lines[:6]):
            if line.startswith("! device:"):
                return "\n".join([*lines[: i + 2], header, *lines[i + 2 :]])
        return "\n".join([header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        return [
            f"{rfc3339(at)} {hostname} ConfigAgent: %SYS-5-CONFIG_I: "
            f"Configured from console by {user} on vty3 ({source})"
        ]
