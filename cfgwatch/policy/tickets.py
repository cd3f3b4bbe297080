"""Change tickets from inventory/tickets.yaml, CSV exports and ServiceNow `change_request` JSON exports.

A malformed record is reported with its file and line and skipped; the rest of the file is still used.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfgwatch.errors import ConfigError
from cfgwatch.yamlio import load_yaml

APPROVED_STATES = {"approved", "scheduled", "implement", "implementing", "review", "closed", "complete", "completed"}
APPROVED_APPROVALS = {"approved", "yes", "true", ""}


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    state: str
    approval: str
    start: datetime | None
    end: datetime | None
    devices: tuple[str, ...]
    description: str = ""
    source: str = ""

    @property
    def approved(self) -> bool:
        return self.state.lower() in APPROVED_STATES and self.approval.lower() in APPROVED_APPROVALS

    def window_contains(self, moment: datetime) -> bool:
        if self.start is None or self.end is None:
            return False
        return self.start <= moment <= self.end


@dataclass(frozen=True, slots=True)
class TicketProblem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 or ServiceNow's `YYYY-MM-DD HH:MM:SS`; naive times are taken as UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _split_devices(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(item).strip() for item in value if str(item).strip())
    return tuple(part.strip() for part in re.split(r"[,;\s]+", str(value)) if part.strip())


def _ticket(record: dict[str, Any], source: str) -> Ticket:
    def pick(*names: str) -> Any:
        for name in names:
            if name in record and record[name] not in (None, ""):
                value = record[name]
                return value.get("display_value", value.get("value")) if isinstance(value, dict) else value
        return None

    ticket_id = pick("id", "number", "ticket")
    if not ticket_id:
        raise ValueError("record has no id/number")
    return Ticket(
        id=str(ticket_id),
        state=str(pick("state") or ""),
        approval=str(pick("approval") or ""),
        start=parse_time(pick("start", "start_date", "planned_start_date", "work_start")),
        end=parse_time(pick("end", "end_date", "planned_end_date", "work_end")),
        devices=_split_devices(pick("devices", "configuration_items", "cmdb_ci", "configuration_item")),
        description=str(pick("short_description", "description") or ""),
        source=source,
    )


def _listed(items: object) -> list[Any]:
    """The ticket records of a document: a list (or nothing); a scalar there is a bad file, not a crash."""
    if not items:
        return []
    if not isinstance(items, list):
        raise TypeError(f"expected a list of ticket records, found {type(items).__name__}")
    return items


def load_tickets(path: Path) -> tuple[list[Ticket], list[TicketProblem]]:
    """Tickets from one file (format by extension); problems name the file and line."""
    if not path.exists():
        raise ConfigError("ticket file not found", path=path)
    suffix = path.suffix.lower()
    problems: list[TicketProblem] = []
    tickets: list[Ticket] = []
    records: list[tuple[int | None, dict[str, Any]]] = []
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                for row in reader:
                    records.append((reader.line_num, {k.strip().lower(): v for k, v in row.items() if k}))
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data.get("records", data.get("result", [])) if isinstance(data, dict) else data
            records = [(None, item) for item in _listed(items) if isinstance(item, dict)]
        else:
            data = load_yaml(path, what="ticket file") or {}
            items = data.get("tickets", []) if isinstance(data, dict) else data
            records = [(None, item) for item in _listed(items)]
    except (json.JSONDecodeError, UnicodeDecodeError, csv.Error, TypeError) as exc:
        problems.append(TicketProblem(str(path), getattr(exc, "lineno", None), f"unreadable: {exc}"))
        return tickets, problems
    except ConfigError as exc:  # YAML: malformed, a duplicate key, or not readable
        problems.append(TicketProblem(str(path), exc.line, f"unreadable: {exc.message}"))
        return tickets, problems
    for index, (line, record) in enumerate(records):
        if not isinstance(record, dict):
            problems.append(TicketProblem(str(path), line, f"record {index + 1} is not a mapping"))
            continue
        try:
            tickets.append(_ticket(record, str(path)))
        except (ValueError, TypeError) as exc:
            problems.append(TicketProblem(str(path), line, f"record {index + 1}: {exc}"))
    return tickets, problems


def ticket_ids_in(text: str | None, pattern: str, known: set[str]) -> list[str]:
    """Ticket ids mentioned in a rule comment/remark/description: known ids first, then the pattern."""
    if not text:
        return []
    found = [ticket for ticket in sorted(known) if ticket and ticket.lower() in text.lower()]
    for match in re.finditer(pattern, text, flags=re.IGNORECASE):
        token = match.group(0).upper().replace(" ", "")
        if token not in (item.upper() for item in found):
            found.append(token)
    return found
