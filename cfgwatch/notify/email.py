"""Email notifications: SMTP submission with STARTTLS and optional AUTH; the password comes from an env
var or a file, is sent only after STARTTLS succeeded, and never appears in an error or a log."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial
from pathlib import Path

from cfgwatch.notify.message import Notice, Notifier, NotifyOutcome, Sender, describe_error
from cfgwatch.notify.settings import EmailTarget


def target_name(target: EmailTarget) -> str:
    return target.name or f"smtp://{target.host}:{target.port}"


def build_message(notice: Notice, target: EmailTarget) -> EmailMessage:
    """A plain-text mail; the subject carries the summary so a mail list view is enough to triage."""
    message = EmailMessage()
    message["Subject"] = f"{target.subject_prefix} {notice.title}".strip()
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(notice.generated.timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=target.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a job's mail
    message.set_content("\n".join(notice.text_lines()) + "\n")
    return message


def _tls_context(target: EmailTarget, base_dir: Path) -> ssl.SSLContext:
    if target.ca_file is None:
        return ssl.create_default_context()
    ca = target.ca_file if target.ca_file.is_absolute() else base_dir / target.ca_file
    return ssl.create_default_context(cafile=str(ca))


def send(notice: Notice, target: EmailTarget, base_dir: Path) -> NotifyOutcome:
    """Deliver the notice; every failure (TLS, auth, refused recipients, timeout) is returned as data."""
    name = target_name(target)
    secrets: tuple[str, ...] = ()
    try:
        password = target.password.read(base_dir) if target.password is not None else None
        if password is not None:
            secrets = (password,)
        message = build_message(notice, target)
        with smtplib.SMTP(
            target.host, target.port, timeout=target.timeout, local_hostname=socket.gethostname()
        ) as smtp:
            smtp.ehlo()
            if target.starttls:
                if not smtp.has_extn("starttls"):
                    return NotifyOutcome("email", name, False, error="the server does not offer STARTTLS")
                smtp.starttls(context=_tls_context(target, base_dir))
                smtp.ehlo()
            if target.username is not None and password is not None:
                smtp.login(target.username, password)
            refused = smtp.send_message(message)
    except LookupError as exc:
        return NotifyOutcome("email", name, False, error=str(exc))
    except smtplib.SMTPAuthenticationError as exc:
        return NotifyOutcome("email", name, False, error=f"authentication failed (SMTP {exc.smtp_code})")
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        return NotifyOutcome("email", name, False, error=describe_error(exc, secrets))
    if refused:
        return NotifyOutcome(
            "email", name, False, sent=len(notice.items), error=f"recipients refused: {', '.join(sorted(refused))}"
        )
    return NotifyOutcome("email", name, True, sent=len(notice.items))


def sender(target: EmailTarget, base_dir: Path) -> Sender:
    """The target as a Sender: the password is read at send time, never here."""
    return Sender("email", target_name(target), partial(send, target=target, base_dir=base_dir))


# Registered as notifier "email" (the key under notify: in cfgwatch.yaml) in pyproject.toml.
PLUGIN = Notifier(EmailTarget, sender, order=20)
