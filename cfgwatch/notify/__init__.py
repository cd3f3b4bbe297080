"""Notifications of the nightly job: webhook (JSON, Slack, Teams), email (SMTP + STARTTLS), syslog (RFC 5424).

`notify(notice, settings, base_dir)` sends one Notice to every configured target that has something at or
above its severity and returns one NotifyOutcome per target. A failing target never raises and never stops
the others; its error text is secret-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from cfgwatch.notify.message import AlertItem, Notice, NotifyOutcome
from cfgwatch.notify.settings import EmailTarget, NotifySettings, SyslogTarget, Target, WebhookTarget

__all__ = ["AlertItem", "Notice", "NotifyOutcome", "NotifySettings", "notify"]


def _targets(
    settings: NotifySettings, base_dir: Path
) -> list[tuple[str, Target, str, Callable[[Notice], NotifyOutcome]]]:
    from cfgwatch.notify import email, syslog, webhook  # here: cfgwatch.config imports this package's settings

    out: list[tuple[str, Target, str, Callable[[Notice], NotifyOutcome]]] = []
    for hook in settings.webhooks:
        out.append(("webhook", hook, webhook.target_name(hook), partial(_call3, webhook.send, hook, base_dir)))
    for mail in settings.email:
        out.append(("email", mail, email.target_name(mail), partial(_call3, email.send, mail, base_dir)))
    for log in settings.syslog:
        out.append(("syslog", log, syslog.target_name(log), partial(syslog_send, log)))
    return out


def _call3(
    send: Callable[[Notice, Any, Path], NotifyOutcome], target: Any, base_dir: Path, notice: Notice
) -> NotifyOutcome:
    return send(notice, target, base_dir)


def syslog_send(target: SyslogTarget, notice: Notice) -> NotifyOutcome:
    from cfgwatch.notify import syslog

    return syslog.send(notice, target)


def notify(notice: Notice, settings: NotifySettings, base_dir: Path) -> tuple[NotifyOutcome, ...]:
    """Send to each target whose threshold the notice reaches (or on stage errors when on_error is set)."""
    outcomes: list[NotifyOutcome] = []
    for channel, target, name, send in _targets(settings, base_dir):
        assert isinstance(target, WebhookTarget | EmailTarget | SyslogTarget)
        filtered = notice.at_or_above(target.min_severity or settings.min_severity)
        has_errors = bool(notice.errors) and settings.on_error
        if not filtered.items and not has_errors:
            outcomes.append(NotifyOutcome(channel, name, True, skipped=True))
            continue
        if not settings.on_error:
            filtered = replace(filtered, errors=())
        try:
            outcomes.append(send(filtered))
        except Exception as exc:  # a bug in one channel must not cost the others (or the nightly) its report
            outcomes.append(NotifyOutcome(channel, name, False, error=f"internal error ({exc.__class__.__name__})"))
    return tuple(outcomes)
