"""Who changed a device, when, from where, and how we know: syslog lines and config-header metadata.

The config-change messages themselves are platform knowledge: each platform's spec declares its
`SyslogPatterns` (and any export format of its own); this module reads syslog files with all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgwatch.vendors.spec import PlatformSpec

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: index for index, name in enumerate(MONTH_NAMES, 1)}


@dataclass(frozen=True, slots=True)
class Attribution:
    user: str | None
    time: datetime | None
    origin: str | None  # address or line the change came from
    how: str  # "syslog:ios-config", "config-header", "run-time" ...
    comment: str | None = None  # Junos commit comment and similar
    evidence: str = ""  # the log line or header (secret-free)

    def to_json(self) -> dict[str, object]:
        return {
            "user": self.user,
            "time": self.time.isoformat() if self.time else None,
            "origin": self.origin,
            "how": self.how,
            "comment": self.comment,
            "evidence": self.evidence,
        }


def received_syslog_path(state_dir: Path) -> Path:
    """Where `cfgwatch watch` keeps the config-change lines it received; the audit reads it like a
    `policy.syslog` file."""
    return state_dir / "watch" / "syslog.log"


@dataclass(frozen=True, slots=True)
class ConfigEvent:
    """One configuration event from a syslog file."""

    device: str | None
    time: datetime
    user: str | None
    origin: str | None
    kind: str
    comment: str | None
    line: str
    path: str
    line_number: int


_ISO = re.compile(r"^(?:<\d+>\d?\s*)?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(\S+)")
_BSD = re.compile(r"^(?:<\d+>)?([A-Z][a-z]{2})\s+(\d{1,2})\s+(?:(\d{4})\s+)?(\d{2}):(\d{2}):(\d{2})\s+(\S+)")


def _line_time(line: str, year: int) -> tuple[datetime | None, str | None, str]:
    found = _ISO.match(line)
    if found:
        moment = datetime.fromisoformat(found.group(1).replace("Z", "+00:00").replace(" ", "T"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), found.group(2), line[found.end() :]
    found = _BSD.match(line)
    if found:
        month, day, explicit_year, hour, minute, second, host = found.groups()
        moment = datetime(
            int(explicit_year or year), MONTHS[month.lower()], int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
        return moment, host, line[found.end() :]
    return None, None, line


def parse_syslog_line(line: str, path: str, line_number: int, year: int) -> ConfigEvent | None:
    moment, host, rest = _line_time(line, year)
    if moment is None:
        return None
    at = SyslogLine(moment, host, rest, line, path, line_number)
    for pattern in syslog_tables().patterns:
        found = pattern.pattern.search(rest)
        if found:
            return pattern.read(pattern.kind, found, at)
    return None


@dataclass(frozen=True, slots=True)
class SyslogLine:
    """One syslog line split into its time, the sending host and the message after them."""

    moment: datetime
    host: str | None
    rest: str  # the message after time and host
    line: str
    path: str
    number: int


# Builds the event from a pattern's match: (pattern kind, the match in `rest`, the line).
EventReader = Callable[[str, "re.Match[str]", SyslogLine], ConfigEvent]


def comment_of(text: str | None) -> str | None:
    """Junos writes `(comment: none)` when the commit had no comment."""
    if text is None or text.strip().lower() in ("", "none"):
        return None
    return text.strip()


def event_from_groups(kind: str, found: re.Match[str], at: SyslogLine) -> ConfigEvent:
    """The event a pattern's named groups describe: user, addr (or origin), comment; device = the host."""
    groups = found.groupdict()
    return ConfigEvent(
        device=at.host,
        time=at.moment,
        user=groups.get("user"),
        origin=groups.get("addr") or groups.get("origin"),
        kind=kind,
        comment=comment_of(groups.get("comment")),
        line=at.line.rstrip("\n"),
        path=at.path,
        line_number=at.number,
    )


@dataclass(frozen=True, slots=True)
class SyslogPattern:
    """A config-change message: searched in the message part of a syslog line, read into an event."""

    kind: str
    pattern: re.Pattern[str]
    read: EventReader


@dataclass(frozen=True, slots=True)
class ExportReader:
    """A file format other than syslog lines that holds config events (e.g. a web UI's CSV export)."""

    accepts: Callable[[Path], bool]
    read: Callable[[Path], SyslogScan]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyslogPatterns:
    """A platform's config-change syslog messages.

    Patterns of every platform are tried on every line (a syslog file mixes devices), groups in
    ascending `order`, the first match wins; platforms that share one pattern (IOS and EOS) list the same
    object and it is tried once. `markers`: words of a config-event line; a line holding one that no
    pattern reads is reported as skipped.
    """

    patterns: tuple[SyslogPattern, ...]
    order: int
    markers: tuple[str, ...]
    exports: tuple[ExportReader, ...]


@dataclass(frozen=True, slots=True)
class SyslogTables:
    patterns: tuple[SyslogPattern, ...]
    markers: tuple[str, ...]
    exports: tuple[ExportReader, ...]


def syslog_tables() -> SyslogTables:
    """Every registered platform's syslog patterns (built once per set of specs)."""
    from cfgwatch.vendors.registry import all_specs

    return _syslog_tables(all_specs())


@cache
def _syslog_tables(specs: tuple[PlatformSpec, ...]) -> SyslogTables:
    groups = sorted(
        ((spec.syslog.order, spec.name, spec.syslog) for spec in specs if isinstance(spec.syslog, SyslogPatterns)),
        key=lambda item: (item[0], item[1]),
    )
    return SyslogTables(
        patterns=tuple(dict.fromkeys(pattern for _, _, group in groups for pattern in group.patterns)),
        markers=tuple(dict.fromkeys(marker for _, _, group in groups for marker in group.markers)),
        exports=tuple(dict.fromkeys(export for _, _, group in groups for export in group.exports)),
    )


@dataclass(frozen=True, slots=True)
class SyslogScan:
    events: tuple[ConfigEvent, ...]
    skipped: tuple[str, ...]  # "file:line: reason" for lines that looked like config events but did not parse


def read_syslog(paths: Iterable[Path], *, year: int | None = None) -> SyslogScan:
    """Configuration events from syslog files (and PAN-OS config-log CSV exports), oldest first."""
    events: list[ConfigEvent] = []
    skipped: list[str] = []
    default_year = year or datetime.now(UTC).year
    tables = syslog_tables()
    for path in paths:
        if not path.exists():
            skipped.append(f"{path}: file not found")
            continue
        exporter = next((export for export in tables.exports if export.accepts(path)), None)
        if exporter is not None:
            export = exporter.read(path)
            events.extend(export.events)
            skipped.extend(export.skipped)
            continue
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    event = parse_syslog_line(line, str(path), number, default_year)
                except (ValueError, KeyError) as exc:
                    skipped.append(f"{path}:{number}: {exc}")
                    continue
                if event is not None:
                    events.append(event)
                elif any(marker in line for marker in tables.markers):
                    skipped.append(f"{path}:{number}: configuration event in an unknown format")
    return SyslogScan(tuple(sorted(events, key=lambda e: e.time)), tuple(skipped))


def attribute(
    device: str,
    events: Iterable[ConfigEvent],
    window_start: datetime | None,
    window_end: datetime,
    header_user: str | None,
    header_time: datetime | None,
) -> Attribution:
    """Best evidence for who changed the device between two runs: syslog first, then the config header."""
    relevant = [
        event
        for event in events
        if event.device is not None
        and event.device.lower() == device.lower()
        and (window_start is None or event.time > window_start)
        and event.time <= window_end
    ]
    if relevant:
        last = relevant[-1]
        comment = next((event.comment for event in reversed(relevant) if event.comment), None)
        origin = next((event.origin for event in reversed(relevant) if event.origin), None)
        return Attribution(
            user=last.user,
            time=last.time,
            origin=origin,
            how=f"syslog:{last.kind}",
            comment=comment,
            evidence=f"{last.path}:{last.line_number}: {last.line}",
        )
    if header_user or header_time:
        return Attribution(user=header_user, time=header_time, origin=None, how="config-header")
    return Attribution(user=None, time=None, origin=None, how="unknown")
