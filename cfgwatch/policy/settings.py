"""The `policy:` section of cfgwatch.yaml: who may change what, when, and what severity fails the run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError
from pydantic import field_validator

from cfgwatch.names import unknown_message
from cfgwatch.section import Section

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^\s*(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}):(\d{2})\s*-\s*(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?(\d{1,2}):(\d{2})\s*$"
)
SEVERITIES = ("info", "low", "medium", "high", "critical")


def parse_window(text: str) -> tuple[int, int]:
    """`sat 22:00-sun 04:00` -> (start, end) in minutes from Monday 00:00 (end may wrap past the week)."""
    found = _WINDOW.match(text.lower())
    if not found:
        raise ValueError(
            f"change window {text!r} is not like 'sat 22:00-sun 04:00', 'tue 20:00-23:00' or 'cron 0 22 * * sat for 6h'"
        )
    day1, h1, m1, day2, h2, m2 = found.groups()
    start = DAYS.index(day1) * 1440 + int(h1) * 60 + int(m1)
    end = DAYS.index(day2 or day1) * 1440 + int(h2) * 60 + int(m2)
    if end <= start:
        end += 7 * 1440
    return start, end


# cron-style windows: "cron MIN HOUR DOM MON DOW for 6h" (a window opens at every cron match and lasts N);
# the cron expression (names like sat, mon-fri, oct allowed) is evaluated by cronsim in the window's time zone.
_CRON_WINDOW = re.compile(r"^\s*cron\s+(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+for\s+(\d+)\s*([mh])\s*$")


def parse_cron_window(text: str) -> tuple[str, timedelta] | None:
    """`cron 0 22 * * sat for 6h` -> ("0 22 * * sat", 6 h); None when the text is not a cron window."""
    found = _CRON_WINDOW.match(text.lower())
    if not found:
        return None
    expression, amount, unit = found.groups()
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"change window {text!r}: cron field outside its range or unknown ({exc})") from exc
    length = timedelta(minutes=int(amount) * (60 if unit == "h" else 1))
    if not timedelta(0) < length <= timedelta(days=7):
        raise ValueError(f"change window {text!r} must last between 1 minute and 7 days")
    return expression, length


def zone(name: str) -> ZoneInfo:
    """The IANA time zone (`Europe/Berlin`); an unknown name is a ValueError naming the closest one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(unknown_message("time zone", name, available_timezones())) from None


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """One change window in its time zone: weekly ranges are wall-clock times there (so "sat 22:00-sun 04:00"
    means local time across a DST switch too); cron windows open at each local cron match and last `length`."""

    text: str
    tz: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        cron = parse_cron_window(self.text)
        if cron is not None:
            expression, length = cron
            after = local.replace(second=0, microsecond=0) + timedelta(minutes=1)  # reverse search is exclusive
            opened = next(CronSim(expression, after, reverse=True))
            return opened <= local and moment - opened < length
        start, end = parse_window(self.text)
        minute = local.weekday() * 1440 + local.hour * 60 + local.minute
        return start <= minute < end or start <= minute + 7 * 1440 < end


def in_window(moment: datetime, windows: Sequence[str | ChangeWindow]) -> bool:
    """Is the moment inside any of the windows (plain strings are UTC windows)?"""
    return any(
        (window if isinstance(window, ChangeWindow) else ChangeWindow(window, ZoneInfo("UTC"))).contains(moment)
        for window in windows
    )


class GroupPolicy(Section):
    """Expectations for the devices of one inventory group (or `default`)."""

    change_windows: list[str] = []  # "sat 22:00-sun 04:00" weekly ranges, or "cron 0 22 * * sat for 6h"
    tz: str = "UTC"  # the IANA time zone the windows are written in (Europe/Berlin): DST-correct
    admins: list[str] = []  # accounts expected to change these devices
    nat_changes_allowed: bool = True  # may these devices carry NAT / port-forward changes at all?

    @field_validator("change_windows")
    @classmethod
    def _valid_windows(cls, values: list[str]) -> list[str]:
        for value in values:
            if parse_cron_window(value) is None:
                parse_window(value)
        return values

    @field_validator("tz")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        zone(value)
        return value

    def windows(self) -> list[ChangeWindow]:
        """The change windows in this group's time zone."""
        return [ChangeWindow(text, zone(self.tz)) for text in self.change_windows]


class PolicySettings(Section):
    fail_on: str = "high"  # exit code 1 when a finding is at or above this severity
    groups: dict[str, GroupPolicy] = {}  # per inventory group; key "default" applies to every device
    syslog: list[Path] = []  # syslog files to attribute changes from
    tickets: list[Path] = []  # extra ticket exports (yaml, csv, ServiceNow json) besides inventory/tickets.yaml
    ticket_pattern: str = r"\b(?:CHG|CR|RFC|INC|RITM|CHANGE)[-_ ]?\d{3,}\b"
    timezone_naive_as_utc: bool = True
    approvals_history: Path = Path("approvals-history")  # git repo: one commit per approve/revoke/hand edit
    stale_after_hours: float = 36.0  # coverage: a device with no good pull for this long is stale
    exporter_silent_hours: float = 24.0  # coverage: a flow exporter with no records for this long is silent
    quiet_hours: tuple[time, time] | None = None  # optional: changes inside these hours raise severity

    @field_validator("fail_on")
    @classmethod
    def _valid_severity(cls, value: str) -> str:
        if value not in SEVERITIES:
            raise ValueError(f"fail_on must be one of {', '.join(SEVERITIES)}")
        return value

    @field_validator("ticket_pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        re.compile(value)
        return value
