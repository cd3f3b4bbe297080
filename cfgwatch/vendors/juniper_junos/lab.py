"""The lab's emulated Junos CLI (operational and configuration mode, `| display set`)."""

from __future__ import annotations

import re
from datetime import datetime

from cfgwatch.lab.platforms import CRLF, Platform, Session, rfc3339


class JuniperJunos(Platform):
    name = "juniper_junos"
    start_mode = "user"
    version = "21.4R3-S5.4"
    config_commands = ("show configuration",)
    header_re = re.compile(r"^## Last commit: ")

    def prompt(self, s: Session) -> str:
        if s.mode == "config":
            return f"{CRLF}[edit]{CRLF}{s.username}@{s.hostname}# "
        return f"{s.username}@{s.hostname}> "

    def banner(self, s: Session) -> str:
        return f"--- JUNOS {self.version} Kernel 64-bit  JNPR-12.1-20230321.be2a6d7_buil{CRLF}"

    def invalid(self, s: Session, line: str) -> str:
        return f"{' ' * (len(self.prompt(s)) + len(line.split()[0]) + 1)}^{CRLF}unknown command.{CRLF}"

    def frame_config(self, s: Session, text: str) -> str:
        return text + CRLF

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "config":
            if low in ("exit", "exit configuration-mode", "quit"):
                s.mode = "user"
                return f"Exiting configuration mode{CRLF}"
            return ""
        if low == "set cli screen-width 511":
            return f"Screen width set to 511{CRLF}"
        if low == "set cli complete-on-space off":
            return f"Disabling complete-on-space{CRLF}"
        if low == "set cli screen-length 0":
            return f"Screen length set to 0{CRLF}"
        if low in ("configure", "edit"):
            s.mode = "config"
            return f"Entering configuration mode{CRLF}"
        if low == "show version":
            return CRLF.join(
                [
                    f"Hostname: {s.hostname}",
                    "Model: srx300",
                    f"Junos: {self.version}",
                    f"JUNOS Software Release [{self.version}]",
                    "",
                ]
            )
        if low.startswith("show configuration") and low not in self.config_commands:
            return None
        return super().command(s, low, cmd)

    def pipe(self, s: Session, out: str, pipe: str) -> str:
        if "display set" in pipe:  # a conversion of the whole config, not a filter
            return junos_display_set(self.config_text(s))
        return super().pipe(s, out, pipe)

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"## Last commit: {at:%Y-%m-%d %H:%M:%S} UTC by {user}"

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        return [
            f"{rfc3339(at)} {hostname} mgd[4242]: UI_COMMIT: User '{user}' requested 'commit' operation (comment: none)"
        ]


def junos_display_set(text: str) -> str:
    """Convert Junos curly-brace configuration to `set` form (what `| display set` prints)."""
    out: list[str] = []
    stack: list[str] = []
    for raw in text.split("\n"):
        line = re.sub(r"\s*##.*$", "", raw).strip()
        if not line or line.startswith(("#", "/*")):
            continue
        if line.endswith("{"):
            stack.append(line[:-1].strip())
        elif line == "}":
            if stack:
                stack.pop()
        elif line.endswith(";"):
            stmt = line[:-1].strip()
            m = re.match(r"^(.*?)\s*\[\s*(.*?)\s*\]$", stmt)
            values = [f"{m.group(1)} {v}" for v in m.group(2).split()] if m else [stmt]
            prefix = " ".join(stack)
            out.extend(f"set {prefix} {v}".replace("  ", " ").strip() for v in values)
    return "\n".join(out)
