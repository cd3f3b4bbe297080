"""Who changed the config last, and when, read from header lines before they are normalised away."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True, slots=True)
class ChangeMetadata:
    """The last change as the device reports it (the policy area uses it for attribution)."""

    user: str | None
    time: datetime | None  # tz-aware (UTC) where the header gives a zone
    source: str  # e.g. "ios-header", "junos-header"
    raw: str  # the header line itself (secret-free)


# Only these names mean UTC whatever the device; any other abbreviation (CST is US Central, China or Cuba;
# IST is India, Ireland or Israel) is read from the device's own `clock timezone` (see `with_device_clock`).
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UCT"})
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


def _zoned(naive: datetime, zone: str | None) -> datetime:
    """UTC for UTC/GMT and numeric offsets; anything else stays naive until the device's clock says."""
    if zone is None:
        return naive
    zone = zone.upper()
    if zone in _UTC_NAMES:
        return naive.replace(tzinfo=UTC)
    offset = _OFFSET.fullmatch(zone)
    if offset:
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        if offset.group(1) == "-":
            delta = -delta
        return (naive - delta).replace(tzinfo=UTC)
    return naive


# `clock timezone CET 1 0` (IOS, NX-OS, ASA: name, hours, minutes), `clock timezone Europe/Berlin` (EOS, IOS-XR
# region form), Junos `time-zone Europe/Berlin;`, RouterOS `time-zone-name=Europe/Berlin`; summer time:
# `clock summer-time CEST recurring ... [offset minutes, default 60]`.
_CLOCK_ZONE = re.compile(
    r"^\s*clock\s+timezone\s+(?P<name>\S+)(?:\s+(?P<hours>[+-]?\d{1,2})(?:\s+(?P<minutes>\d{1,2}))?)?"
    r"(?:\s+(?P<region>[A-Za-z]+/[A-Za-z_+-]+(?:/[A-Za-z_+-]+)?))?\s*$",
    re.MULTILINE,
)
_SUMMER = re.compile(r"^\s*clock\s+summer-time\s+(?P<name>\S+)\s+(?P<rest>.*)$", re.MULTILINE)
_IANA = re.compile(r"(?:^\s*time-zone\s+|time-zone-name=)(?P<zone>[A-Za-z]+/[A-Za-z_+-]+(?:/[A-Za-z_+-]+)?);?", re.M)


@dataclass(frozen=True, slots=True)
class DeviceClock:
    """The time zone a device's config declares: named fixed offsets, and/or an IANA zone."""

    offsets: dict[str, timedelta]  # zone name as the device prints it -> UTC offset
    region: ZoneInfo | None  # an IANA zone (EOS, Junos, RouterOS, IOS-XR)
    has_summer_time: bool

    def localize(self, naive: datetime, token: str | None) -> datetime | None:
        """The naive header time in UTC, or None when the device's clock does not say what it means."""
        if token is not None and token.upper() in self.offsets:
            return (naive - self.offsets[token.upper()]).replace(tzinfo=UTC)
        if self.region is not None:
            return naive.replace(tzinfo=self.region).astimezone(UTC)
        if token is None and len(self.offsets) == 1 and not self.has_summer_time:
            return (naive - next(iter(self.offsets.values()))).replace(tzinfo=UTC)
        return None


def device_clock(text: str) -> DeviceClock | None:
    """The device's declared clock (None when the config declares none)."""
    if "clock" not in text and "time-zone" not in text:
        return None
    offsets: dict[str, timedelta] = {}
    region: ZoneInfo | None = None
    for found in _CLOCK_ZONE.finditer(text):
        name = found.group("name")
        if found.group("hours") is not None:
            hours = int(found.group("hours"))
            minutes = int(found.group("minutes") or 0)
            offsets[name.upper()] = timedelta(hours=hours, minutes=minutes if hours >= 0 else -minutes)
        region = _region(found.group("region") or (name if "/" in name else None)) or region
    for found in _IANA.finditer(text):
        region = _region(found.group("zone")) or region
    summer = False
    standard = next(iter(offsets.values()), None)
    for found in _SUMMER.finditer(text):
        summer = True
        if standard is not None:
            # an offset in minutes may follow the last transition time (default 60)
            tail = re.search(r"\d{1,2}:\d\d\s+(\d{1,3})\s*$", found.group("rest"))
            extra = int(tail.group(1)) if tail else 60
            offsets[found.group("name").upper()] = standard + timedelta(minutes=extra)
    if not offsets and region is None:
        return None
    return DeviceClock(offsets, region, summer)


def _region(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_HEADER_ZONE = re.compile(r"\d{1,2}:\d\d:\d\d(?:\.\d+)?\s+(?P<zone>[A-Za-z]{1,5})\s")


def with_device_clock(metadata: ChangeMetadata, text: str) -> ChangeMetadata:
    """The header time read with the device's own `clock timezone` (a `clock timezone UTC 10 0` device
    prints "UTC" for a time 10 hours ahead of UTC; CST means whatever this device declared)."""
    clock = device_clock(text)
    if clock is None or metadata.time is None:
        return metadata
    naive = _naive_header_time(metadata)
    if naive is None:
        return metadata
    found = _HEADER_ZONE.search(metadata.raw)
    token = found.group("zone") if found else None
    moment = clock.localize(naive, token)
    if moment is None:
        return metadata
    return ChangeMetadata(metadata.user, moment, metadata.source, metadata.raw)


def _naive_header_time(metadata: ChangeMetadata) -> datetime | None:
    """The wall-clock time the header printed, before any zone name was applied."""
    return _parse_wall(metadata.raw) or ctime(metadata.raw)


def _parse_wall(raw: str) -> datetime | None:
    m = _CISCO_TIME.search(raw)
    if m:
        return _parse(f"{m.group('date')} {m.group('hms')}", ("%b %d %Y %H:%M:%S",))
    m = re.search(r"(\d{4})[-/](\d\d)[-/](\d\d)[ T](\d\d):(\d\d):(\d\d)", raw)
    if m:
        try:
            return datetime(*(int(part) for part in m.groups()))  # type: ignore[arg-type]
        except ValueError:
            return None
    return None


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
