"""The lab's emulated PAN-OS CLI (scripting mode, the prompt repaint netmiko waits for)."""

from __future__ import annotations

from datetime import datetime

from cfgwatch.lab.platforms import CRLF, Platform, Session, rfc3339


class PaloAltoPANOS(Platform):
    name = "paloalto_panos"
    version = "10.2.9-h1"
    config_commands = ("show config running",)

    def prompt(self, s: Session) -> str:
        mark = "#" if s.mode == "config" else ">"
        return f"{s.username}@{s.hostname}{mark} "

    def banner(self, s: Session) -> str:
        # PAN-OS repaints its prompt once after login; netmiko's scripting-mode check relies on it.
        return CRLF.join(
            [
                "Last login: Mon Mar  3 08:00:00 2025 from 10.99.0.250",
                "",
                "Number of failed attempts since last successful login: 0",
                "",
                "",
                self.prompt(s),
                "",
            ]
        )

    def invalid(self, s: Session, line: str) -> str:
        return f"Unknown command: {line.split()[0]}{CRLF}Invalid syntax.{CRLF}"

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        if s.mode == "config":
            if low in ("exit", "quit"):
                s.mode = "enable"
                return f"Exiting configuration mode{CRLF}"
            return ""
        if low in (
            "set cli scripting-mode on",
            "set cli pager off",
            "set cli terminal width 500",
            "set cli config-output-format default",
        ):
            return ""
        if low == "configure":
            s.mode = "config"
            return f"Entering configuration mode{CRLF}[edit]{CRLF}"
        if low == "show system info":
            return CRLF.join(
                [
                    "",
                    f"hostname: {s.hostname}",
                    "ip-address: 10.99.0.6",
                    "model: PA-VM",
                    "serial: 012801000001",
                    f"sw-version: {self.version}",
                    "vm-mode: VMware ESXi",
                    "operational-mode: normal",
                    "",
                ]
            )
        return super().command(s, low, cmd)

    def frame_config(self, s: Session, text: str) -> str:
        return text + CRLF

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        stamp = f"{at:%Y/%m/%d %H:%M:%S}"
        return [
            f"{rfc3339(at)} {hostname} 1,{stamp},012801000001,CONFIG,0,0,{stamp},{source},vsys1,commit,{user},"
            f"CLI,Submitted,,7345012345678901234,0x0,0,0,0,0,,{hostname}"
        ]
