"""The lab's emulated FortiOS CLI (console output mode, `#config-version` and `#conf_file_ver` headers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cfgwatch.lab.platforms import CRLF, Platform, Session, rfc3339


class Fortinet(Platform):
    name = "fortinet"
    version = "v7.2.8,build1639,240313 (GA.M)"
    config_commands = ("show full-configuration", "show")
    header_re = re.compile(r"^#config-version=")

    def prompt(self, s: Session) -> str:
        if s.mode == "console":
            return f"{s.hostname} (console) # "
        return f"{s.hostname} # "

    def invalid(self, s: Session, line: str) -> str:
        return f"Unknown action 0{CRLF}Command fail. Return code -61{CRLF}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "console":
            if low == "end":
                s.mode = "enable"
                return ""
            if low in ("set output standard", "set output more"):
                s.extra["output"] = low.split()[-1]
                return ""
            return None
        if low == "get system status":
            return CRLF.join(
                [
                    f"Version: FortiGate-60F {self.version}",
                    "Firmware Signature: certified",
                    "Virus-DB: 91.01234(2024-03-13 10:24)",
                    "Serial-Number: FGT60FTK21090001",
                    "BIOS version: 05000029",
                    "Log hard disk: Not available",
                    f"Hostname: {s.hostname}",
                    "Private Encryption: Disable",
                    "Operation Mode: NAT",
                    "Current virtual domain: root",
                    "Max number of virtual domains: 10",
                    "Virtual domains status: 1 in NAT mode, 0 in TP mode",
                    "Virtual domain configuration: disable",
                    "FIPS-CC mode: disable",
                    "Current HA mode: standalone",
                    "Branch point: 1639",
                    "Release Version Information: GA",
                    f"System time: {datetime.now(UTC):%a %b %d %H:%M:%S %Y}",
                    "",
                ]
            )
        if low == "get system console":
            mode = s.extra.get("output", "more")
            return CRLF.join(["output              : " + mode, "login               : enable", ""])
        if low == "config system console":
            s.mode = "console"
            return ""
        if low.startswith("config "):
            return None
        return super().command(s, low, cmd)

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user={user}"

    def apply_header(self, text: str, hostname: str, user: str, at: datetime) -> str:
        lines = text.split("\n")
        conf_ver = f"#conf_file_ver={int(at.timestamp() * 1000)}"
        out = []
        for line in lines:
            if line.startswith("#config-version="):
                out.append(
                    re.sub(r":user=[^:\s]*", f":user={user}", line) if ":user=" in line else f"{line}:user={user}"
                )
            elif line.startswith("#conf_file_ver="):
                out.append(conf_ver)
            else:
                out.append(line)
        if not lines or not lines[0].startswith("#config-version="):
            header = self.render_header(hostname, user, at)
            assert header is not None
            out = [header, conf_ver, *out]
        return "\n".join(out)

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        return [
            f'{rfc3339(at)} {hostname} date={at:%Y-%m-%d} time={at:%H:%M:%S} devname="{hostname}" '
            f'devid="FGT60FTK21090001" eventtime={int(at.timestamp() * 1e9)} tz="+0000" logid="0100044547" '
            f'type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" '
            f'user="{user}" ui="ssh({source})" action="Edit" cfgtid=1384120342 cfgpath="firewall.policy" '
            f'cfgobj="1" cfgattr="" msg="Edit firewall.policy 1"'
        ]
