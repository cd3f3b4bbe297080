"""Webhook notifications: one JSON POST per nightly, plain JSON or Slack / Teams-compatible text payloads.

The URL of a Slack or Teams incoming webhook is itself a credential, so it may come from an env var or a
file (url_secret) and is never written to a log or an error: targets are named by `name` or scheme+host.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

from cfgwatch import __version__
from cfgwatch.notify.message import Notice, Notifier, NotifyOutcome, Sender, describe_error
from cfgwatch.notify.settings import WebhookTarget

_MAX_ITEMS_IN_TEXT = 50  # chat messages stay readable; the JSON style always carries every item
_EMOJI = {"critical": ":rotating_light:", "high": ":warning:", "medium": ":large_orange_diamond:"}


def target_name(target: WebhookTarget) -> str:
    """A secret-free label: the configured name, else scheme://host of a plain URL, else 'webhook'."""
    if target.name:
        return target.name
    if target.url is not None:
        parts = urllib.parse.urlsplit(target.url)
        return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")
    return "webhook"


# Adaptive Card markdown (a CommonMark subset, plus {{DATE()}} functions): what makes links, emphasis, code
# or entities anywhere, and what makes a heading or list at the start of a block; all backslash-escaped
_TEAMS_INLINE = re.compile(r"([\\`*_{}\[\]<>&~|])")
_TEAMS_LEADING = re.compile(r"^(\s*)([#+\-]|\d+\.)")


def slack_escape(text: str) -> str:
    """Text for Slack mrkdwn: `&`, `<`, `>` as entities, so `<!channel>` or `<url|label>` from a config
    (a user name in a header, a remark) is shown, never turned into a mention or a disguised link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_escape(text: str) -> str:
    """Text for an Adaptive Card TextBlock (a CommonMark subset): markdown punctuation backslash-escaped
    and line breaks flattened, so device-derived text cannot make links, emphasis, lists or headings."""
    flat = " ".join(text.splitlines())
    inline = _TEAMS_INLINE.sub(r"\\\1", flat)
    return _TEAMS_LEADING.sub(lambda m: m[1] + m[2][:-1] + "\\" + m[2][-1], inline)


def _text(notice: Notice, markdown_bold: str) -> str:
    """Slack's message text; every piece of it that may come from a device is escaped for mrkdwn."""
    lines = [f"{markdown_bold}{slack_escape(notice.title)}{markdown_bold}", slack_escape(notice.summary)]
    if notice.errors:
        lines.append(slack_escape("errors: " + "; ".join(notice.errors)))
    for item in notice.items[:_MAX_ITEMS_IN_TEXT]:
        lines.append(f"- {slack_escape(item.text)}")
    if len(notice.items) > _MAX_ITEMS_IN_TEXT:
        lines.append(f"... and {len(notice.items) - _MAX_ITEMS_IN_TEXT} more (see the nightly report)")
    return "\n".join(lines)


def payload(notice: Notice, style: str) -> dict[str, Any]:
    """The body for a style: `json` (every item's full document), `slack` (text), `teams` (Adaptive Card)."""
    if style == "slack":
        # Slack incoming webhooks take `text` (mrkdwn); `*bold*` is Slack's bold.
        return {"text": _text(notice, "*"), "unfurl_links": False, "unfurl_media": False}
    if style == "teams":
        # Teams Workflows / incoming webhooks accept a message with one Adaptive Card attachment.
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": teams_escape(notice.title),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": teams_escape(notice.summary), "wrap": True},
        ]
        if notice.errors:
            body.append(
                {"type": "TextBlock", "text": teams_escape("errors: " + "; ".join(notice.errors)), "wrap": True}
            )
        for item in notice.items[:_MAX_ITEMS_IN_TEXT]:
            body.append({"type": "TextBlock", "text": f"- {teams_escape(item.text)}", "wrap": True, "spacing": "Small"})
        if len(notice.items) > _MAX_ITEMS_IN_TEXT:
            body.append({"type": "TextBlock", "text": f"... and {len(notice.items) - _MAX_ITEMS_IN_TEXT} more"})
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                    },
                }
            ],
        }
    return {
        "tool": {"name": "cfgwatch", "version": __version__},
        "generated": notice.generated.isoformat(),
        "title": notice.title,
        "summary": notice.summary,
        "counts": notice.counts(),
        "errors": list(notice.errors),
        "findings": [item.document for item in notice.items],
    }


def send(notice: Notice, target: WebhookTarget, base_dir: Path) -> NotifyOutcome:
    """POST the notice; any failure (secret missing, refused, non-2xx, timeout) is returned, not raised."""
    name = target_name(target)
    secrets: list[str] = []
    try:
        url = target.url if target.url is not None else target.url_secret.read(base_dir)  # type: ignore[union-attr]
        secrets.append(url)
        if not url.lower().startswith(("http://", "https://")):
            return NotifyOutcome("webhook", name, False, error="the webhook URL is not http(s)")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"cfgwatch/{__version__}",
            **target.headers,
        }
        if target.token is not None:
            token = target.token.read(base_dir)
            secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(payload(notice, target.style), separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=target.timeout) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as exc:
        return NotifyOutcome("webhook", name, False, error=describe_error(exc, tuple(secrets)))
    except LookupError as exc:
        return NotifyOutcome("webhook", name, False, error=str(exc))
    except (OSError, ValueError) as exc:
        return NotifyOutcome("webhook", name, False, error=describe_error(exc, tuple(secrets)))
    if not 200 <= status < 300:
        return NotifyOutcome("webhook", name, False, error=f"HTTP {status}")
    return NotifyOutcome("webhook", name, True, sent=len(notice.items))


def sender(target: WebhookTarget, base_dir: Path) -> Sender:
    """The target as a Sender: a URL or token secret is read at send time, never here."""
    return Sender("webhook", target_name(target), partial(send, target=target, base_dir=base_dir))


# Registered as notifier "webhooks" (the key under notify: in cfgwatch.yaml) in pyproject.toml.
PLUGIN = Notifier(WebhookTarget, sender, order=10)
