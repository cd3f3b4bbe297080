"""Change windows in a named time zone, DST-correct, and cron windows by name via cronsim (issue 16 item 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from cfgwatch.policy.settings import GroupPolicy, in_window

BERLIN_WEEKEND = GroupPolicy(tz="Europe/Berlin", change_windows=["sat 22:00-sun 04:00"])


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_weekly_window_across_the_autumn_dst_switch() -> None:
    """2026-10-25 03:00 CEST -> 02:00 CET: the window opens at 22:00 CEST (20:00 UTC) and closes at 04:00 CET
    (03:00 UTC); a fixed +1 h offset would open it an hour late."""
    windows = BERLIN_WEEKEND.windows()
    assert not in_window(_utc(2026, 10, 24, 19, 59), windows)
    assert in_window(_utc(2026, 10, 24, 20, 0), windows)  # 22:00 CEST
    assert in_window(_utc(2026, 10, 25, 2, 59), windows)  # 03:59 CET, after the switch
    assert not in_window(_utc(2026, 10, 25, 3, 0), windows)  # 04:00 CET


def test_weekly_window_across_the_spring_dst_switch() -> None:
    """2026-03-29 02:00 CET -> 03:00 CEST: open 22:00 CET (21:00 UTC), close 04:00 CEST (02:00 UTC)."""
    windows = BERLIN_WEEKEND.windows()
    assert not in_window(_utc(2026, 3, 28, 20, 59), windows)
    assert in_window(_utc(2026, 3, 28, 21, 0), windows)
    assert in_window(_utc(2026, 3, 29, 1, 59), windows)
    assert not in_window(_utc(2026, 3, 29, 2, 0), windows)
    # summer: the same window is 20:00-02:00 UTC
    assert in_window(_utc(2026, 7, 4, 20, 0), windows) and not in_window(_utc(2026, 7, 4, 19, 59), windows)


def test_cron_window_with_month_and_day_names_in_a_zone() -> None:
    policy = GroupPolicy(tz="Europe/Berlin", change_windows=["cron 0 22 * oct sat for 6h"])
    windows = policy.windows()
    assert in_window(_utc(2026, 10, 24, 20, 0), windows)  # Sat 24 Oct 22:00 CEST
    assert in_window(_utc(2026, 10, 25, 1, 59), windows)  # six real hours, across the switch
    assert not in_window(_utc(2026, 10, 25, 2, 0), windows)
    assert not in_window(_utc(2026, 10, 31, 20, 30), windows)  # Sat 31 Oct 21:30 CET: not yet open
    assert in_window(_utc(2026, 10, 31, 21, 0), windows)  # 22:00 CET
    assert not in_window(_utc(2026, 11, 28, 21, 30), windows)  # November: not a window month
    weekdays = GroupPolicy(tz="America/New_York", change_windows=["cron 0 20 * * MON-FRI for 2h"]).windows()
    assert in_window(_utc(2026, 11, 28, 1, 30), weekdays)  # Fri 27 Nov 20:30 EST
    assert not in_window(_utc(2026, 11, 29, 1, 30), weekdays)  # Saturday evening


def test_unknown_zone_names_the_closest() -> None:
    with pytest.raises(ValidationError, match=r"unknown time zone 'Europe/Berlim' \(closest: 'Europe/Berlin'\)"):
        GroupPolicy(tz="Europe/Berlim")
    with pytest.raises(ValidationError, match="outside its range"):
        GroupPolicy(change_windows=["cron 0 22 * smarch sat for 1h"])
