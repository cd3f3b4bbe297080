"""The lab's emulated Cisco ASA CLI (an IOS-like CLI with ASA's pager, errors and `: Written by` header)."""

from __future__ import annotations

import re
from datetime import datetime

from cfgwatch.lab.platforms import CRLF, Session, rfc3339
from cfgwatch.vendors.cisco_ios.lab import CiscoIOS


class CiscoASA(CiscoIOS):
    name = "cisco_asa"
    version = "9.12(4)56"
    config_commands = ("show running-config",)
    header_re = re.compile(r"^: Written by ")

    def invalid(self, s: Session, line: str) -> str:
        return f"{CRLF}ERROR: % Invalid input detected at '^' marker.{CRLF}"

    def is_config_alias(self, low: str) -> bool:
        return low in ("show run", "sh run", "more system:running-config")

    def frame_config(self, s: Session, text: str) -> str:
        return text

    def bad_secret(self) -> str:
        return f"Invalid password{CRLF}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "config":
            if low in ("end", "exit"):
                s.mode = "enable"
            return ""  # terminal width 511 and friends are accepted silently
        if low == "show curpriv":
            level, mode = ("15", "P_PRIV") if s.mode == "enable" else ("1", "P_UNPR")
            return CRLF.join(
                [f"Username : enable_{level}", f"Current privilege level : {level}", f"Current Mode/s : {mode}", ""]
            )
        if low in ("terminal pager 0", "terminal pager lines 0", "no pager"):
            return ""
        if low.startswith("terminal length") or low.startswith("terminal width"):
            return None
        return super().command(s, low, cmd)

    def show_version(self, s: Session) -> str:
        return CRLF.join(
            [
                "",
                f"Cisco Adaptive Security Appliance Software Version {self.version}",
                "Firepower Extensible Operating System Version 2.6(1.224)",
                "Device Manager Version 7.12(2)",
                "",
                f"{s.hostname} up 84 days 4 hours",
                "Hardware:   ASA5516, 8192 MB RAM, CPU Atom C2000 series 2416 MHz, 1 CPU (8 cores)",
                "Serial Number: JAD212345AB",
                "",
            ]
        )

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f": Written by {user} at {at:%H:%M:%S}.{at.microsecond // 1000:03d} UTC {at:%a %b} {at.day} {at:%Y}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        if lines and lines[0].startswith(": Saved"):
            return "\n".join([lines[0], header, *lines[1:]])
        return "\n".join([": Saved", header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        ts = rfc3339(at)
        return [
            f"{ts} {hostname} %ASA-5-111008: User '{user}' executed the 'configure terminal' command.",
            f"{ts} {hostname} %ASA-5-111010: User '{user}', running 'CLI' from IP {source}, executed 'write memory'",
        ]
