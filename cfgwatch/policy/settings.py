"""The `policy:` section of cfgwatch.yaml: who may change what, when, and what severity fails the run."""

from __future__ import annotations

import re
from datetime import datetime, time
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
        raise ValueError(f"change window {text!r} is not like 'sat 22:00-sun 04:00' or 'tue 20:00-23:00'")
    day1, h1, m1, day2, h2, m2 = found.groups()
    start = DAYS.index(day1) * 1440 + int(h1) * 60 + int(m1)
    end = DAYS.index(day2 or day1) * 1440 + int(h2) * 60 + int(m2)
    if end <= start:
        end += 7 * 1440
    return start, end


def in_window(moment: datetime, windows: list[str]) -> bool:
    minute = moment.weekday() * 1440 + moment.hour * 60 + moment.minute
    for text in windows:
        start, end = parse_window(text)
        if start <= minute < end or start <= minute + 7 * 1440 < end:
            return True
    return False


class GroupPolicy(Section):
    """Expectations for the devices of one inventory group (or `default`)."""

    change_windows: list[str] = []  # weekly ranges in the device's local time, e.g. "sat 22:00-sun 04:00"
    admins: list[str] = []  # accounts expected to change these devices
    nat_changes_allowed: bool = True  # may these devices carry NAT / port-forward changes at all?

    @field_validator("change_windows")
    @classmethod
    def _valid_windows(cls, values: list[str]) -> list[str]:
        for value in values:
            parse_window(value)
        return values


class PolicySettings(Section):
    fail_on: str = "high"  # exit code 1 when a finding is at or above this severity
    groups: dict[str, GroupPolicy] = {}  # per inventory group; key "default" applies to every device
    syslog: list[Path] = []  # syslog files to attribute changes from
    tickets: list[Path] = []  # extra ticket exports (yaml, csv, ServiceNow json) besides inventory/tickets.yaml
    ticket_pattern: str = r"\b(?:CHG|CR|RFC|INC|RITM|CHANGE)[-_ ]?\d{3,}\b"
    timezone_naive_as_utc: bool = True
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
