"""Who changed a device, when, from where, and how we know: syslog lines and config-header metadata."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ios-config",
        re.compile(
            r"%SYS-5-CONFIG_I: Configured from (?P<origin>\S+(?: \S+)?) by (?P<user>[^\s(]+)"
            r"(?: on \S+)?(?: \((?P<addr>[^)]+)\))?"
        ),
    ),
    ("ios-archive", re.compile(r"%PARSER-5-CFGLOG_LOGGEDCMD: User:(?P<user>\S+)\s+logged command:(?P<cmd>.*)")),
    ("asa-111008", re.compile(r"%ASA-5-111008: User '(?P<user>[^']+)' executed the '(?P<cmd>[^']*)' command")),
    (
        "asa-111010",
        re.compile(
            r"%ASA-5-111010: User '(?P<user>[^']+)', running '[^']*' from IP (?P<addr>\S+?), executed '(?P<cmd>[^']*)'"
        ),
    ),
    (
        "junos-commit",
        re.compile(
            r"UI_COMMIT: User '(?P<user>[^']+)' requested '[^']*' operation(?: \(comment: (?P<comment>[^)]*)\))?"
        ),
    ),
    ("junos-audit-set", re.compile(r"UI_CFG_AUDIT_SET: User '(?P<user>[^']+)' set: \[(?P<cmd>[^\]]*)\]")),
    ("fortios-config", re.compile(r'logid="?0100044547"?.*?user="(?P<user>[^"]+)"(?:.*?ui="(?P<ui>[^"]*)")?')),
    (
        "nxos-config",
        re.compile(r"%VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from \S+ by (?P<user>\S+) on (?P<addr>[^@\s]+)"),
    ),
    ("routeros-config", re.compile(r"\bconfig changed by (?P<user>\S+)")),
    ("routeros-login", re.compile(r"\buser (?P<user>\S+) logged in from (?P<addr>\S+)")),
]
# PAN-OS config log (syslog CSV): FUTURE_USE, Receive Time, Serial, Type=CONFIG, Subtype, FUTURE_USE,
# Generated Time, Host, Virtual System, Command, Admin, Client, Result, Configuration Path, ... Device Name
_PANOS_CONFIG = re.compile(r"^\s*[^,]*,\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},[^,]*,CONFIG,")
PANOS_HOST, PANOS_COMMAND, PANOS_ADMIN, PANOS_PATH, PANOS_DEVICE, PANOS_COMMENT = 7, 9, 10, 13, 23, 25
_FORTI_DEVNAME = re.compile(r'devname="([^"]+)"')
_ADDR_IN_UI = re.compile(r"\(([0-9a-fA-F:.]+)\)")


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


def _panos_config(rest: str, host: str | None, moment: datetime, path: str, number: int, line: str) -> ConfigEvent:
    fields = next(csv.reader([rest.strip()]))

    def field(index: int) -> str | None:
        return fields[index].strip() or None if index < len(fields) else None

    command = field(PANOS_COMMAND) or "config"
    return ConfigEvent(
        device=field(PANOS_DEVICE) or host,
        time=moment,
        user=field(PANOS_ADMIN),
        origin=field(PANOS_HOST),
        kind=f"panos-{command}",
        comment=field(PANOS_COMMENT),
        line=line.rstrip("\n"),
        path=path,
        line_number=number,
    )


def _comment(text: str | None) -> str | None:
    """Junos writes `(comment: none)` when the commit had no comment."""
    if text is None or text.strip().lower() in ("", "none"):
        return None
    return text.strip()


def parse_syslog_line(line: str, path: str, line_number: int, year: int) -> ConfigEvent | None:
    moment, host, rest = _line_time(line, year)
    if moment is None:
        return None
    if _PANOS_CONFIG.match(rest):
        return _panos_config(rest, host, moment, path, line_number, line)
    for kind, pattern in _PATTERNS:
        found = pattern.search(rest)
        if not found:
            continue
        groups = found.groupdict()
        origin = groups.get("addr") or groups.get("origin")
        if kind == "fortios-config":
            device = _FORTI_DEVNAME.search(rest)
            host = device.group(1) if device else host
            ui = groups.get("ui") or ""
            address = _ADDR_IN_UI.search(ui)
            origin = address.group(1) if address else ui or None
        return ConfigEvent(
            device=host,
            time=moment,
            user=groups.get("user"),
            origin=origin,
            kind=kind,
            comment=_comment(groups.get("comment")),
            line=line.rstrip("\n"),
            path=path,
            line_number=line_number,
        )
    return None


@dataclass(frozen=True, slots=True)
class SyslogScan:
    events: tuple[ConfigEvent, ...]
    skipped: tuple[str, ...]  # "file:line: reason" for lines that looked like config events but did not parse


def read_panos_csv_export(path: Path) -> SyslogScan:
    """A PAN-OS config log exported as CSV from the web UI (header row). Without a Device Name column
    the file is taken to hold one device's log, named by the file's stem."""
    events: list[ConfigEvent] = []
    skipped: list[str] = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            number = reader.line_num
            try:
                stamp = (row.get("Generate Time") or row.get("Receive Time") or "").strip()
                moment = datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S").replace(tzinfo=UTC)
            except ValueError:
                skipped.append(f"{path}:{number}: no readable Generate Time / Receive Time")
                continue
            command = (row.get("Command") or "config").strip()
            events.append(
                ConfigEvent(
                    device=(row.get("Device Name") or "").strip() or path.stem,
                    time=moment,
                    user=(row.get("Admin") or "").strip() or None,
                    origin=(row.get("Host") or "").strip() or None,
                    kind=f"panos-{command}",
                    comment=(row.get("Audit Comment") or "").strip() or None,
                    line=",".join(f"{key}={value}" for key, value in row.items() if key and value)[:500],
                    path=str(path),
                    line_number=number,
                )
            )
    return SyslogScan(tuple(events), tuple(skipped))


def _is_panos_csv_export(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    return "Admin" in header and "Command" in header


def read_syslog(paths: Iterable[Path], *, year: int | None = None) -> SyslogScan:
    """Configuration events from syslog files (and PAN-OS config-log CSV exports), oldest first."""
    events: list[ConfigEvent] = []
    skipped: list[str] = []
    default_year = year or datetime.now(UTC).year
    for path in paths:
        if not path.exists():
            skipped.append(f"{path}: file not found")
            continue
        if _is_panos_csv_export(path):
            export = read_panos_csv_export(path)
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
                elif any(
                    marker in line for marker in ("CONFIG_I", "111008", "111010", "UI_COMMIT", "0100044547", ",CONFIG,")
                ):
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
