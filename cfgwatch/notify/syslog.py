"""Syslog notifications: RFC 5424 messages (one summary, then one per finding) over UDP (RFC 5426) or TCP
with octet counting (RFC 6587 section 3.4.1), so a SIEM can alert on them without parsing free text."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from functools import partial
from pathlib import Path

from cfgwatch.notify.message import AlertItem, Notice, Notifier, NotifyOutcome, Sender, describe_error
from cfgwatch.notify.settings import SyslogTarget

# finding severity -> syslog severity (RFC 5424 table 2)
SYSLOG_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
NIL = "-"


def target_name(target: SyslogTarget) -> str:
    return target.name or f"syslog+{target.transport}://{target.host}:{target.port}"


def _header_field(value: str | None, limit: int) -> str:
    """PRINTUSASCII without spaces, at most `limit` characters; NILVALUE when empty."""
    if not value:
        return NIL
    cleaned = "".join(ch if 33 <= ord(ch) <= 126 else "_" for ch in value)[:limit]
    return cleaned or NIL


def _sd_value(value: str) -> str:
    """PARAM-VALUE escaping: '"', '\\' and ']' get a backslash (RFC 5424 section 6.3.3)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _sd_name(value: str) -> str:
    return "".join(ch for ch in value if 33 <= ord(ch) <= 126 and ch not in '= ]"')[:32] or "x"


def format_message(
    target: SyslogTarget,
    severity: int,
    msgid: str,
    params: dict[str, str],
    text: str,
    when: datetime,
    hostname: str,
) -> str:
    """One RFC 5424 SYSLOG-MSG: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG."""
    pri = target.facility * 8 + severity
    timestamp = when.isoformat(timespec="microseconds")
    if timestamp.endswith("+00:00"):
        timestamp = timestamp[:-6] + "Z"
    if params:
        inner = " ".join(f'{_sd_name(key)}="{_sd_value(value)}"' for key, value in params.items())
        sd = f"[{_sd_name(target.sd_id)} {inner}]"
    else:
        sd = NIL
    header = (
        f"<{pri}>1 {timestamp} {_header_field(hostname, 255)} {_header_field(target.app_name, 48)} "
        f"{_header_field(str(os.getpid()), 128)} {_header_field(msgid, 32)}"
    )
    msg = " ".join(text.split())  # one line: receivers split on newlines in non-transparent framing
    return f"{header} {sd} {msg}" if msg else f"{header} {sd}"


def _item_params(item: AlertItem) -> dict[str, str]:
    return {
        "id": item.id,
        "device": item.device,
        "severity": item.severity,
        "categories": ",".join(item.categories),
        "flags": ",".join(item.flags),
        "technique": "T1090.002",
    }


def messages(notice: Notice, target: SyslogTarget, hostname: str) -> list[str]:
    """The summary message first (worst severity of the notice), then one message per item."""
    worst = min((SYSLOG_SEVERITY[item.severity] for item in notice.items), default=6)
    if notice.errors:
        worst = min(worst, 3)
    summary_params = {"items": str(len(notice.items))} | {k: str(v) for k, v in notice.counts().items()}
    if notice.errors:
        summary_params["errors"] = "; ".join(notice.errors)
    out = [format_message(target, worst, "summary", summary_params, notice.summary, notice.generated, hostname)]
    for item in notice.items:
        msgid = "coverage-gap" if "coverage-gap" in item.categories else "finding"
        out.append(
            format_message(
                target, SYSLOG_SEVERITY[item.severity], msgid, _item_params(item), item.text, notice.generated, hostname
            )
        )
    return out


def _truncate(data: bytes, limit: int) -> bytes:
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")  # never split a UTF-8 sequence


def send(notice: Notice, target: SyslogTarget) -> NotifyOutcome:
    """Send every message; UDP datagrams are truncated to max_udp_bytes, TCP frames are `LEN SP MSG`."""
    name = target_name(target)
    hostname = target.hostname or socket.gethostname()
    payloads = [m.encode("utf-8") for m in messages(notice, target, hostname)]
    try:
        infos = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_DGRAM if target.transport == "udp" else socket.SOCK_STREAM
        )
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(target.timeout)
            if target.transport == "udp":
                for data in payloads:
                    sock.sendto(_truncate(data, target.max_udp_bytes), address)
            else:
                sock.connect(address)
                sock.sendall(b"".join(str(len(data)).encode("ascii") + b" " + data for data in payloads))
    except OSError as exc:
        return NotifyOutcome("syslog", name, False, error=describe_error(exc))
    return NotifyOutcome("syslog", name, True, sent=len(notice.items))


def sender(target: SyslogTarget, _base_dir: Path) -> Sender:
    """The target as a Sender (syslog reads no secret files, so the project directory is unused)."""
    return Sender("syslog", target_name(target), partial(send, target=target))


# Registered as notifier "syslog" (the key under notify: in cfgwatch.yaml) in pyproject.toml.
PLUGIN = Notifier(SyslogTarget, sender, order=30)
