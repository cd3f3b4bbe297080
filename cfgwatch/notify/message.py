"""What a notification says: one Notice (title, summary line, alert items, stage errors), channel-neutral.

Each channel (webhook, email, syslog) renders the same Notice its own way, so every channel reports the
same findings. Items carry the finding's JSON document for channels that forward structured data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from cfgwatch.notify.settings import SEVERITIES, Target

TargetT = TypeVar("TargetT", bound=Target)


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One finding (or coverage gap) as a notification line plus its JSON document."""

    id: str
    severity: str
    device: str
    categories: tuple[str, ...]
    flags: tuple[str, ...]
    text: str  # one human line, no secrets (findings are built from sanitized snapshots)
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything one nightly wants to tell people."""

    title: str
    summary: str  # the job-log summary line
    items: tuple[AlertItem, ...] = ()
    errors: tuple[str, ...] = ()  # stage failures (pull, audit, export) worth a notification on their own
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))

    def at_or_above(self, severity: str) -> Notice:
        """The same notice keeping only items at or above `severity`."""
        rank = SEVERITIES.index(severity)
        return replace(self, items=tuple(item for item in self.items if item.rank >= rank))

    def counts(self) -> dict[str, int]:
        """Items per severity, worst first, only severities present."""
        out: dict[str, int] = {}
        for severity in reversed(SEVERITIES):
            count = sum(1 for item in self.items if item.severity == severity)
            if count:
                out[severity] = count
        return out

    def text_lines(self) -> list[str]:
        """Plain text body shared by email and chat styles."""
        lines = [self.summary]
        if self.errors:
            lines.append("")
            lines.append("errors:")
            lines.extend(f"  {error}" for error in self.errors)
        if self.items:
            lines.append("")
            lines.extend(item.text for item in self.items)
        return lines


@dataclass(frozen=True, slots=True)
class NotifyOutcome:
    """Result of sending to one target: data, never an exception; `error` never holds a secret."""

    channel: str  # webhook | email | syslog
    target: str  # secret-free name of the target
    ok: bool
    sent: int = 0  # alert items delivered
    error: str | None = None
    skipped: bool = False  # nothing at or above the target's severity: not contacted

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "target": self.target,
            "ok": self.ok,
            "sent": self.sent,
            "error": self.error,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class Sender:
    """One configured target, ready to send: its channel, its secret-free name and the send call."""

    channel: str  # webhook | email | syslog | a plugin's channel
    name: str
    send: Callable[[Notice], NotifyOutcome]  # never raises for a failed delivery: the outcome says so


@dataclass(frozen=True, slots=True)
class Notifier(Generic[TargetT]):
    """A notification channel as registered under `cfgwatch.notifiers`.

    Its registered name is its key under `notify:` in cfgwatch.yaml, holding a list of targets that
    `settings` validates; `sender` turns one validated target (and the directory of cfgwatch.yaml, for
    secret files) into a Sender. `order` places its targets in the send order (and so in the nightly's
    list of outcomes): the built-ins are webhooks 10, email 20, syslog 30.
    """

    settings: type[TargetT]
    sender: Callable[[TargetT, Path], Sender]
    order: int = 100


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Remove secret values (and their long-enough fragments as whole) from error text meant for logs."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_error(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """`ExcType: message` on one line with every secret replaced."""
    message = one_line(str(exc)) or exc.__class__.__name__
    return scrub(f"{exc.__class__.__name__}: {message}", secrets)
