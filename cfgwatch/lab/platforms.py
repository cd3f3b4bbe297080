"""The lab's emulated CLI: the session state, the base behaviour every emulated platform shares, and
the table of emulated platforms (read from the platform specs' `LabProfile`s).

Each platform's emulator (a `Platform` subclass in `cfgwatch/vendors/<platform>/lab.py`) knows its
prompts, the session-preparation commands netmiko sends (paging off, terminal width, enable), the show
commands cfgwatch's collectors send, its error strings, the framing real devices put around a config
dump, the "last change" header inside the config and the syslog line a config change produces.
Everything is modelled on the output of real devices, because netmiko's prompt and echo handling is
only exercised honestly by output that looks like the real thing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, ClassVar

from cfgwatch.errors import CfgwatchError

if TYPE_CHECKING:
    from cfgwatch.vendors.spec import LabProfile

CRLF = "\r\n"


class LabError(CfgwatchError):
    """A platform's lab profile names an emulator that is not one (a bug in that platform's package)."""


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
            out = self.pipe(s, out, pipe)
            # like a real CLI, filtered output ends its last line before the prompt comes back
            if out and not out.endswith("\n"):
                out += CRLF
        return out

    def pipe(self, s: Session, out: str, pipe: str) -> str:
        """Apply an output modifier; a platform with modifiers that convert rather than filter overrides it."""
        return _filter_pipe(out, pipe)

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


def cisco_time(at: datetime) -> str:
    """09:12:44 UTC Mon Mar 3 2025, the IOS clock format."""
    return f"{at:%H:%M:%S} UTC {at:%a} {at:%b} {at.day} {at:%Y}"


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def lab_profiles() -> dict[str, LabProfile]:
    """The lab profile of every registered platform the lab emulates, in detection order."""
    from cfgwatch.vendors.registry import all_specs
    from cfgwatch.vendors.spec import LabProfile

    return {spec.name: spec.lab for spec in all_specs() if isinstance(spec.lab, LabProfile)}


def lab_platforms() -> dict[str, Platform]:
    """The emulator of every platform the lab emulates (platform name -> emulator), in detection order."""
    return _emulators(tuple(lab_profiles().items()))


@cache
def _emulators(profiles: tuple[tuple[str, LabProfile], ...]) -> dict[str, Platform]:
    emulators: dict[str, Platform] = {}
    for name, profile in profiles:
        module_name, _, class_name = profile.emulator.partition(":")
        emulator = getattr(importlib.import_module(module_name), class_name)()
        if not isinstance(emulator, Platform) or emulator.name != name:
            raise LabError(f"lab emulator {profile.emulator} of platform {name!r} is not a Platform named {name!r}")
        emulators[name] = emulator
    return emulators
