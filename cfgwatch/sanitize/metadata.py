"""Who changed the config last, and when, read from header lines before they are normalised away."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class ChangeMetadata:
    """The last change as the device reports it (the policy area uses it for attribution)."""

    user: str | None
    time: datetime | None  # tz-aware (UTC) where the header gives a zone
    source: str  # e.g. "ios-header", "junos-header"
    raw: str  # the header line itself (secret-free)


# Abbreviations seen in device clocks; anything else leaves the time naive (local to the device).
_ZONES: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "IST": 5.5,
    "JST": 9,
    "AEST": 10,
    "AEDT": 11,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}


def _zoned(naive: datetime, zone: str | None) -> datetime:
    """Attach the zone (converted to UTC) when known, else leave naive."""
    if zone is None:
        return naive
    zone = zone.upper()
    if zone in _ZONES:
        return (naive - timedelta(hours=_ZONES[zone])).replace(tzinfo=UTC)
    offset = re.fullmatch(r"([+-])(\d\d):?(\d\d)", zone)
    if offset:
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        if offset.group(1) == "-":
            delta = -delta
        return (naive - delta).replace(tzinfo=UTC)
    return naive


def _parse(text: str, formats: tuple[str, ...]) -> datetime | None:
    text = re.sub(r"\s+", " ", text.strip())
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


# "11:54:34 UTC Thu Aug 29 2024" / "11:54:34.123 CET Thu Aug 29 2024"
_CISCO_TIME = re.compile(
    r"(?P<hms>\d{1,2}:\d\d:\d\d)(?:\.\d+)?\s+(?:(?P<zone>[A-Za-z]{1,5})\s+)?\w{3}\s+(?P<date>\w{3}\s+\d{1,2}\s+\d{4})"
)
# "Tue Apr  2 13:45:50 2019"
_CTIME = re.compile(r"\w{3}\s+(?P<mon>\w{3})\s+(?P<day>\d{1,2})\s+(?P<hms>\d{1,2}:\d\d:\d\d)\s+(?P<year>\d{4})")


def cisco_time(text: str) -> datetime | None:
    """IOS/ASA clock format: hh:mm:ss[.ms] [ZONE] Www Mmm d yyyy."""
    m = _CISCO_TIME.search(text)
    if not m:
        return None
    naive = _parse(f"{m.group('date')} {m.group('hms')}", ("%b %d %Y %H:%M:%S",))
    return _zoned(naive, m.group("zone")) if naive else None


def ctime(text: str, zone: str | None = None) -> datetime | None:
    """ctime()-style format: Www Mmm d hh:mm:ss yyyy (EOS, NX-OS)."""
    m = _CTIME.search(text)
    if not m:
        return None
    naive = _parse(f"{m.group('mon')} {m.group('day')} {m.group('year')} {m.group('hms')}", ("%b %d %Y %H:%M:%S",))
    return _zoned(naive, zone) if naive else None


def iso_time(text: str, zone: str | None = None) -> datetime | None:
    """yyyy-mm-dd hh:mm:ss (Junos, RouterOS history) or yyyy/mm/dd hh:mm:ss (PAN-OS)."""
    m = re.search(r"(\d{4})[-/](\d\d)[-/](\d\d)[ T](\d\d):(\d\d):(\d\d)", text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(part) for part in m.groups())
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return _zoned(naive, zone)
