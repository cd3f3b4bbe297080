"""The lab's emulated Cisco IOS CLI (user/enable/config modes, `show running-config` framing)."""

from __future__ import annotations

import re
from datetime import datetime

from cfgwatch.lab.platforms import CRLF, Platform, Session, cisco_time, rfc3339


class CiscoIOS(Platform):
    name = "cisco_ios"
    start_mode = "user"
    version = "15.9(3)M7"
    header_re = re.compile(r"^! Last configuration change at ")

    def prompt(self, s: Session) -> str:
        return {"user": f"{s.hostname}>", "enable": f"{s.hostname}#"}.get(s.mode, f"{s.hostname}(config)#")

    def invalid(self, s: Session, line: str) -> str:
        return f"{' ' * (len(self.prompt(s)))}^{CRLF}% Invalid input detected at '^' marker.{CRLF}"

    def is_config_alias(self, low: str) -> bool:
        return low in ("show run", "sh run", "show startup-config", "sh start", "show running-config all")

    def may_show_config(self, s: Session) -> bool:
        return s.mode != "user"

    def frame_config(self, s: Session, text: str) -> str:
        return f"Building configuration...{CRLF}{CRLF}Current configuration : {len(text)} bytes{CRLF}{text}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "config":
            if low in ("end", "exit"):
                s.mode = "enable"
            return ""
        if low in ("terminal length 0", "terminal width 511", "terminal no monitor"):
            return ""
        if low in ("enable", "en"):
            return self.start_enable(s)
        if low == "disable":
            s.mode = "user"
            return ""
        if low in ("configure terminal", "conf t") and s.mode == "enable":
            s.mode = "config"
            return f"Enter configuration commands, one per line.  End with CNTL/Z.{CRLF}"
        if low == "show privilege":
            return f"Current privilege level is {15 if s.mode != 'user' else 1}{CRLF}"
        if low in ("show version", "sh ver"):
            return self.show_version(s)
        if low.startswith("show startup-config") and s.mode != "user":
            text = self.config_text(s)
            return f"Using {len(text)} out of 262144 bytes{CRLF}{text}"
        return super().command(s, low, cmd)

    def show_version(self, s: Session) -> str:
        return CRLF.join(
            [
                f"Cisco IOS Software, ISR4300 Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version {self.version}, "
                "RELEASE SOFTWARE (fc1)",
                "Technical Support: http://www.cisco.com/techsupport",
                "Copyright (c) 1986-2023 by Cisco Systems, Inc.",
                "",
                f"{s.hostname} uptime is 12 weeks, 3 days, 4 hours, 10 minutes",
                'System image file is "bootflash:isr4300-universalk9.16.09.08.SPA.bin"',
                "",
                "cisco ISR4331/K9 (1RU) processor with 1795999K/6147K bytes of memory.",
                "Processor board ID FLM2041W0AB",
                "3 Gigabit Ethernet interfaces",
                "Configuration register is 0x2102",
                "",
            ]
        )

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"! Last configuration change at {cisco_time(at)} by {user}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        if lines and lines[0].strip() == "!":
            return "\n".join([lines[0], header, *lines[1:]])
        return "\n".join(["!", header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        stamp = f"{at:%b} {at.day:>2} {at:%H:%M:%S}.{at.microsecond // 1000:03d} UTC"
        return [
            f"{rfc3339(at)} {hostname} 1042: *{stamp}: %SYS-5-CONFIG_I: "
            f"Configured from console by {user} on vty0 ({source})"
        ]
