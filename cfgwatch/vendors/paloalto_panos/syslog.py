"""PAN-OS config-log events: the syslog CSV form and the web UI's CSV export."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

from cfgwatch.policy.attribution import ConfigEvent, SyslogLine, SyslogScan

# PAN-OS config log (syslog CSV): FUTURE_USE, Receive Time, Serial, Type=CONFIG, Subtype, FUTURE_USE,
# Generated Time, Host, Virtual System, Command, Admin, Client, Result, Configuration Path, ... Device Name
CONFIG_LINE = re.compile(r"^\s*[^,]*,\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},[^,]*,CONFIG,")
PANOS_HOST, PANOS_COMMAND, PANOS_ADMIN, PANOS_PATH, PANOS_DEVICE, PANOS_COMMENT = 7, 9, 10, 13, 23, 25


def config_event(kind: str, found: re.Match[str], at: SyslogLine) -> ConfigEvent:
    """A CONFIG log line: the CSV fields name device, admin, client host, command and comment."""
    fields = next(csv.reader([at.rest.strip()]))

    def field(index: int) -> str | None:
        return fields[index].strip() or None if index < len(fields) else None

    command = field(PANOS_COMMAND) or "config"
    return ConfigEvent(
        device=field(PANOS_DEVICE) or at.host,
        time=at.moment,
        user=field(PANOS_ADMIN),
        origin=field(PANOS_HOST),
        kind=f"panos-{command}",
        comment=field(PANOS_COMMENT),
        line=at.line.rstrip("\n"),
        path=at.path,
        line_number=at.number,
    )


def read_csv_export(path: Path) -> SyslogScan:
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


def is_csv_export(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    return "Admin" in header and "Command" in header
