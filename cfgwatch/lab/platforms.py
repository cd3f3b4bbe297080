"""Per-platform CLI behaviour of the lab's emulated devices.

Each platform knows its prompts, the session-preparation commands netmiko sends (paging off, terminal
width, enable), the show commands cfgwatch's collectors send, its error strings, the framing real
devices put around a config dump, the "last change" header inside the config and the syslog line a
config change produces. Everything is modelled on the output of real devices, because netmiko's
prompt and echo handling is only exercised honestly by output that looks like the real thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

CRLF = "\r\n"


@dataclass
class Session:
    """Mutable state of one interactive CLI session (one SSH channel)."""

    hostname: str
    username: str
    config: Callable[[], str]  # reads the device's current config (from the lab state dir)
    secret: str
    truncated: bool = False
    mode: str = "user"
    pending: Callable[[str], str] | None = None  # set while a password prompt waits for input
    closed: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _filter_pipe(text: str, pipe: str) -> str:
    """Apply an output modifier (`| include X`, `| grep X`, `| exclude X`, `| begin X`, `| no-more`)."""
    words = pipe.strip().split(None, 1)
    if not words:
        return text
    verb, arg = words[0].lower(), (words[1] if len(words) > 1 else "")
    lines = text.split("\n")
    try:
        rx = re.compile(arg)
    except re.error:
        rx = re.compile(re.escape(arg))
    if verb in ("i", "in", "inc", "include", "grep", "match"):
        return "\n".join(line for line in lines if rx.search(line))
    if verb in ("e", "ex", "exclude", "except"):
        return "\n".join(line for line in lines if not rx.search(line))
    if verb in ("b", "begin", "section"):
        for i, line in enumerate(lines):
            if rx.search(line):
                return "\n".join(lines[i:])
        return ""
    return text  # no-more, display ..., count: output unchanged


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


def truncate(text: str) -> str:
    """What a session cut short delivers: the first 30% of the config's lines (then the prompt)."""
    lines = text.split("\n")
    return "\n".join(lines[: max(1, int(len(lines) * 0.3))]) + "\n"


class Platform:
    """Base behaviour shared by the emulated CLIs; subclasses override what differs."""

    name: ClassVar[str] = ""
    start_mode: ClassVar[str] = "enable"
    config_commands: ClassVar[tuple[str, ...]] = ("show running-config",)
    # Lines of a stored config that form the device's "last change" header (replaced on apply).
    header_re: ClassVar[re.Pattern[str] | None] = None
    version: ClassVar[str] = ""

    # ---------------------------------------------------------------- prompts and banners
    def prompt(self, s: Session) -> str:
        raise NotImplementedError

    def banner(self, s: Session) -> str:
        return CRLF

    def invalid(self, s: Session, line: str) -> str:
        return f"% Invalid input detected at '^' marker.{CRLF}"

    # ---------------------------------------------------------------- commands
    def handle(self, s: Session, line: str) -> str:
        """Run one command line; returns the output (without the prompt that follows it)."""
        if s.pending is not None:
            handler, s.pending = s.pending, None
            return handler(line)
        cmd, _, pipe = line.partition("|")
        cmd = " ".join(cmd.split())
        low = cmd.lower()
        if not low:
            return ""
        out = self.command(s, low, cmd)
        if out is None:
            return self.invalid(s, line)
        if pipe:
            out = _filter_pipe(out, pipe)
            # junos display set is a conversion, not a filter
            if "display set" in pipe and self.name == "juniper_junos":
                out = junos_display_set(self.config_text(s))
            # like a real CLI, filtered output ends its last line before the prompt comes back
            if out and not out.endswith("\n"):
                out += CRLF
        return out

    def command(self, s: Session, low: str, cmd: str) -> str | None:
        """Platform commands; None means "not a command on this platform"."""
        if low in ("exit", "logout", "quit") and s.mode in ("user", "enable"):
            s.closed = True
            return ""
        if low in self.config_commands or self.is_config_alias(low):
            if not self.may_show_config(s):
                return None
            return self.frame_config(s, self.config_text(s))
        return None

    def is_config_alias(self, low: str) -> bool:
        return False

    def may_show_config(self, s: Session) -> bool:
        return True

    def config_text(self, s: Session) -> str:
        text = s.config()
        return truncate(text) if s.truncated else text

    def frame_config(self, s: Session, text: str) -> str:
        return text

    # ---------------------------------------------------------------- enable (Cisco family)
    def start_enable(self, s: Session) -> str:
        if s.mode != "user":
            return ""

        def check(password: str) -> str:
            if password == s.secret:
                s.mode = "enable"
                return ""
            return self.bad_secret()

        s.pending = check
        return "Password: "

    def bad_secret(self) -> str:
        return f"% Bad secrets{CRLF}"

    # ---------------------------------------------------------------- change header and syslog
    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        """The header line(s) a change by `user` at `at` leaves in the config, or None (platform has none)."""
        return None

    def place_header(self, text: str, header: str) -> str:
        """Insert the header where the platform prints it (default: first line)."""
        return header + "\n" + text

    def apply_header(self, text: str, hostname: str, user: str, at: datetime) -> str:
        """Replace the change header in `text` with one for (user, at)."""
        if self.header_re is not None:
            text = "\n".join(line for line in text.split("\n") if not self.header_re.match(line))
        header = self.render_header(hostname, user, at)
        return self.place_header(text, header) if header is not None else text

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        raise NotImplementedError


def _cisco_time(at: datetime) -> str:
    """09:12:44 UTC Mon Mar 3 2025, the IOS clock format."""
    return f"{at:%H:%M:%S} UTC {at:%a} {at:%b} {at.day} {at:%Y}"


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


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
        return f"! Last configuration change at {_cisco_time(at)} by {user}"

    def place_header(self, text: str, header: str) -> str:
        lines = text.split("\n")
        if lines and lines[0].strip() == "!":
            return "\n".join([lines[0], header, *lines[1:]])
        return "\n".join(["!", header, *lines])

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        stamp = f"{at:%b} {at.day:>2} {at:%H:%M:%S}.{at.microsecond // 1000:03d} UTC"
        return [
            f"{_rfc3339(at)} {hostname} 1042: *{stamp}: %SYS-5-CONFIG_I: "
            f"Configured from console by {user} on vty0 ({source})"
        ]


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
        ts = _rfc3339(at)
        return [
            f"{ts} {hostname} %ASA-5-111008: User '{user}' executed the 'configure terminal' command.",
            f"{ts} {hostname} %ASA-5-111010: User '{user}', running 'CLI' from IP {source}, executed 'write memory'",
        ]


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
            f"{_rfc3339(at)} {hostname} : {at:%Y %b %d %H:%M:%S} UTC: %VSHD-5-VSHD_SYSLOG_CONFIG_I: "
            f"Configured from vty by {user} on {source}@pts/0"
        ]


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
            f"{_rfc3339(at)} {hostname} ConfigAgent: %SYS-5-CONFIG_I: "
            f"Configured from console by {user} on vty3 ({source})"
        ]


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

    def render_header(self, hostname: str, user: str, at: datetime) -> str | None:
        return f"## Last commit: {at:%Y-%m-%d %H:%M:%S} UTC by {user}"

    def syslog(self, hostname: str, user: str, at: datetime, source: str) -> list[str]:
        return [
            f"{_rfc3339(at)} {hostname} mgd[4242]: UI_COMMIT: "
            f"User '{user}' requested 'commit' operation (comment: none)"
        ]


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
            f'{_rfc3339(at)} {hostname} date={at:%Y-%m-%d} time={at:%H:%M:%S} devname="{hostname}" '
            f'devid="FGT60FTK21090001" eventtime={int(at.timestamp() * 1e9)} tz="+0000" logid="0100044547" '
            f'type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" '
            f'user="{user}" ui="ssh({source})" action="Edit" cfgtid=1384120342 cfgpath="firewall.policy" '
            f'cfgobj="1" cfgattr="" msg="Edit firewall.policy 1"'
        ]


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
            f"{_rfc3339(at)} {hostname} 1,{stamp},012801000001,CONFIG,0,0,{stamp},{source},vsys1,commit,{user},"
            f"CLI,Submitted,,7345012345678901234,0x0,0,0,0,0,,{hostname}"
        ]


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
        ts = _rfc3339(at)
        return [
            f"{ts} {hostname} system,info,account user {user} logged in from {source} via ssh",
            f"{ts} {hostname} system,info config changed by {user}",
        ]


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        CiscoIOS(),
        CiscoASA(),
        CiscoNXOS(),
        AristaEOS(),
        JuniperJunos(),
        Fortinet(),
        PaloAltoPANOS(),
        MikroTikRouterOS(),
    )
}
