"""The `policy:` section of cfgwatch.yaml: who may change what, when, and what severity fails the run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from pydantic import field_validator

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


# cron-style windows: "cron MIN HOUR DOM MON DOW for 6h" (a window opens at every cron match and lasts N)
_CRON_WINDOW = re.compile(r"^\s*cron\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+for\s+(\d+)\s*([mh])\s*$")
_CRON_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = {day: index for index, day in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}


@dataclass(frozen=True, slots=True)
class CronWindow:
    fields: tuple[frozenset[int], ...]  # minute, hour, day of month, month, day of week (0 = Sunday)
    minutes: int
    dom_any: bool
    dow_any: bool

    def opens_at(self, moment: datetime) -> bool:
        minute, hour, dom, month, dow = self.fields
        weekday = (moment.weekday() + 1) % 7  # cron: Sunday = 0
        if moment.minute not in minute or moment.hour not in hour or moment.month not in month:
            return False
        day_ok = moment.day in dom
        dow_ok = weekday in dow or (weekday == 0 and 7 in dow)
        if self.dom_any or self.dow_any:  # cron: when one is restricted only that one counts
            return day_ok and dow_ok
        return day_ok or dow_ok

    def contains(self, moment: datetime) -> bool:
        start = moment.replace(second=0, microsecond=0)
        return any(self.opens_at(start - timedelta(minutes=back)) for back in range(self.minutes))


def _cron_field(text: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            first, last = low, high
        elif "-" in body:
            first_text, last_text = body.split("-", 1)
            first, last = _cron_value(first_text), _cron_value(last_text)
        else:
            first = last = _cron_value(body)
            if step_text:
                last = high
        if not (low <= first <= last <= high) or step < 1:
            raise ValueError(f"cron field {text!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _cron_value(text: str) -> int:
    return _CRON_NAMES[text] if text in _CRON_NAMES else int(text)


def parse_cron_window(text: str) -> CronWindow | None:
    """`cron 0 22 * * sat for 6h` -> CronWindow; None when the text is not a cron window."""
    found = _CRON_WINDOW.match(text.lower())
    if not found:
        return None
    *fields, amount, unit = found.groups()
    parsed = tuple(_cron_field(field, low, high) for field, (low, high) in zip(fields, _CRON_LIMITS, strict=True))
    minutes = int(amount) * (60 if unit == "h" else 1)
    if not 0 < minutes <= 7 * 1440:
        raise ValueError(f"change window {text!r} must last between 1 minute and 7 days")
    return CronWindow(parsed, minutes, fields[2] == "*", fields[4] == "*")


def in_window(moment: datetime, windows: list[str]) -> bool:
    """Is the moment inside any of the windows (weekly ranges or cron windows)?"""
    minute = moment.weekday() * 1440 + moment.hour * 60 + moment.minute
    for text in windows:
        cron = parse_cron_window(text)
        if cron is not None:
            if cron.contains(moment):
                return True
            continue
        start, end = parse_window(text)
        if start <= minute < end or start <= minute + 7 * 1440 < end:
            return True
    return False


class GroupPolicy(Section):
    """Expectations for the devices of one inventory group (or `default`)."""

    change_windows: list[str] = []  # "sat 22:00-sun 04:00" weekly ranges, or "cron 0 22 * * sat for 6h" (UTC)
    admins: list[str] = []  # accounts expected to change these devices
    nat_changes_allowed: bool = True  # may these devices carry NAT / port-forward changes at all?

    @field_validator("change_windows")
    @classmethod
    def _valid_windows(cls, values: list[str]) -> list[str]:
        for value in values:
            if parse_cron_window(value) is None:
                parse_window(value)
        return values


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
