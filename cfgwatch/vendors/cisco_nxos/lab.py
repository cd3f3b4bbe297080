"""The lab's emulated Cisco NX-OS CLI (IOS-like, with the `!Time:` line NX-OS prints in every dump)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cfgwatch.lab.platforms import CRLF, Session, rfc3339
from cfgwatch.vendors.cisco_ios.lab import CiscoIOS


class CiscoNXOS(CiscoIOS):
    name = "cisco_nxos"
    start_mode = "enable"
    version = "9.3(8)"
    header_re = re.compile(r"^!(Running configuration last done at:|Time:) ")

    def invalid(self, s: Session, line: str) -> str:
        return f"{' ' * (len(self.prompt(s)))}^{CRLF}% Invalid command at '^' marker.{CRLF}"

    def frame_config(self, s: Session, text: str) -> str:
        now = datetime.now(UTC)
        time_line = f"!Time: {now:%a %b} {now.day:>2} {now:%H:%M:%S %Y}"
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("!Running configuration last done at:"):
                lines.insert(i + 1, time_line)
                break
        return CRLF + "\n".join(lines)

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"!Running configuration last done at: {at:%a %b} {at.day:>2} {at:%H:%M:%S %Y}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        if lines and lines[0].startswith("!Command:"):
            return "\n".join([lines[0], header, *lines[1:]])
        return "\n".join(["!Command: show running-config", header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        return [
            f"{rfc3339(at)} {hostname} : {at:%Y %b %d %H:%M:%S} UTC: %VSHD-5-VSHD_SYSLOG_CONFIG_I: "
            f"Configured from vty by {user} on {source}@pts/0"
        ]
