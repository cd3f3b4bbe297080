"""The lab's emulated Cisco IOS XR CLI (exec mode from login, `RP/0/RP0/CPU0:host#` prompts, the time
line XR prints before every show output, the `!! IOS XR Configuration` header, commit syslog)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cfgwatch.lab.platforms import CRLF, Session, rfc3339
from cfgwatch.vendors.cisco_ios.lab import CiscoIOS

NODE = "RP/0/RP0/CPU0"


def xr_time(at: datetime) -> str:
    """`Tue Mar  4 14:02:11 2025`: the time format of XR's `!! Last configuration change` header."""
    return f"{at:%a %b} {at.day:>2} {at:%H:%M:%S %Y}"


class CiscoXR(CiscoIOS):
    name = "cisco_xr"
    start_mode = "enable"  # XR has no user/enable split: task groups decide what a user may run
    version = "7.9.2"
    header_re = re.compile(r"^!! Last configuration change at ")

    def prompt(self, s: Session) -> str:
        return f"{NODE}:{s.hostname}(config)#" if s.mode == "config" else f"{NODE}:{s.hostname}#"

    def invalid(self, s: Session, line: str) -> str:
        return f"{' ' * (len(self.prompt(s)))}^{CRLF}% Invalid input detected at '^' marker.{CRLF}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "config" and low in ("commit", "end", "exit", "abort"):
            if low != "commit":
                s.mode = "enable"
            return ""
        if low in ("enable", "en", "disable"):
            return None  # not XR commands
        if low in ("configure", "configure terminal", "conf t"):
            s.mode = "config"
            return ""
        return super().command(s, low, cmd)

    def frame_config(self, s: Session, text: str) -> str:
        now = datetime.now(UTC)
        stamp = f"{now:%a %b} {now.day:>2} {now:%H:%M:%S}.{now.microsecond // 1000:03d} UTC"
        return f"{stamp}{CRLF}Building configuration...{CRLF}{text}"

    def show_version(self, s: Session) -> str:
        return CRLF.join(
            [
                f"Cisco IOS XR Software, Version {self.version}",
                "Copyright (c) 2013-2023 by Cisco Systems, Inc.",
                "",
                "Build Information:",
                " Built By     : ingunawa",
                f" Version      : {self.version}",
                "",
                "cisco ASR9K () processor",
                "System uptime is 12 weeks 3 days 4 hours 10 minutes",
                "",
            ]
        )

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"!! Last configuration change at {xr_time(at)} by {user}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        if lines and lines[0].startswith("!! IOS XR Configuration"):
            return "\n".join([lines[0], header, *lines[1:]])
        return "\n".join([f"!! IOS XR Configuration {self.version}", header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        stamp = f"{at:%b} {at.day:>2} {at:%H:%M:%S}.{at.microsecond // 1000:03d} UTC"
        return [
            f"{rfc3339(at)} {hostname} {NODE}:{stamp}: SSHD_[67412]: %SECURITY-SSHD-6-INFO_SUCCESS : Successfully "
            f"authenticated user '{user}' from '{source}' on 'vty0'(cipher 'aes128-ctr', mac 'hmac-sha2-256')",
            f"{rfc3339(at)} {hostname} {NODE}:{stamp}: config[65797]: %MGBL-CONFIG-6-DB_COMMIT : Configuration "
            f"committed by user '{user}'. Use 'show configuration commit changes 1000000001' to view the changes.",
        ]
