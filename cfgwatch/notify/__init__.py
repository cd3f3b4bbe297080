"""Notifications of the nightly job: webhook (JSON, Slack, Teams), email (SMTP + STARTTLS), syslog (RFC 5424).

`notify(notice, settings, base_dir)` sends one Notice to every configured target that has something at or
above its severity and returns one NotifyOutcome per target. A failing target never raises and never stops
the others; its error text is secret-free.

Channels come from the `cfgwatch.notifiers` registry: each is a `Notifier` whose registered name is its key
under `notify:` in cfgwatch.yaml (`webhooks`, `email`, `syslog` built in). A site package adds a channel, or
replaces a built-in one, with an entry point of its own under the same group.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cfgwatch.notify.message import AlertItem, Notice, Notifier, NotifyOutcome, Sender
from cfgwatch.notify.settings import NotifySettings
from cfgwatch.plugins import NOTIFIERS_GROUP, Registry, instance_of

__all__ = ["NOTIFIERS", "AlertItem", "Notice", "Notifier", "NotifyOutcome", "NotifySettings", "Sender", "notify"]

NOTIFIERS: Registry[Notifier[Any]] = Registry(NOTIFIERS_GROUP, "notifier", validate=instance_of(Notifier))


def notify(notice: Notice, settings: NotifySettings, base_dir: Path) -> tuple[NotifyOutcome, ...]:
    """Send to each target whose threshold the notice reaches (or on stage errors when on_error is set)."""
    outcomes: list[NotifyOutcome] = []
    for kind, targets in settings.targets.items():
        notifier = NOTIFIERS.get(kind)
        for target in targets:
            try:
                sender = notifier.sender(target, base_dir)
            except Exception as exc:  # a plugin's broken factory costs only its own targets
                outcomes.append(NotifyOutcome(kind, target.name or kind, False, error=_internal(exc)))
                continue
            filtered = notice.at_or_above(target.min_severity or settings.min_severity)
            has_errors = bool(notice.errors) and settings.on_error
            if not filtered.items and not has_errors:
                outcomes.append(NotifyOutcome(sender.channel, sender.name, True, skipped=True))
                continue
            if not settings.on_error:
                filtered = replace(filtered, errors=())
            try:
                outcomes.append(sender.send(filtered))
            except Exception as exc:  # a bug in one channel must not cost the others (or the nightly) its report
                outcomes.append(NotifyOutcome(sender.channel, sender.name, False, error=_internal(exc)))
    return tuple(outcomes)


def _internal(exc: Exception) -> str:
    return f"internal error ({exc.__class__.__name__})"  # the type only: an exception's text may hold a secret
