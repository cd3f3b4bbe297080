"""Notifications against real local servers on 127.0.0.1: http.server (webhook), aiosmtpd with STARTTLS
and AUTH (email), UDP and TCP sockets (syslog). Secrets must never show up in an outcome."""

from __future__ import annotations

import datetime as dt
import email as email_lib
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cfgwatch.notify import Notice, notify
from cfgwatch.notify.message import AlertItem
from cfgwatch.notify.settings import EmailTarget, NotifySettings, Secret, SyslogTarget, WebhookTarget
from cfgwatch.notify.syslog import format_message

WHEN = dt.datetime(2026, 11, 28, 2, 30, tzinfo=dt.UTC)


def _item(ident: str, severity: str, device: str = "edge1", category: str = "egress-forward") -> AlertItem:
    return AlertItem(
        ident,
        severity,
        device,
        (category,),
        ("unapproved", "unticketed"),
        f"[{severity.upper()}] {ident} {device}: {category}",
        {"id": ident, "severity": severity, "device": device},
    )


NOTICE = Notice(
    title="cfgwatch nightly: 3 finding(s), worst critical",
    summary="cfgwatch nightly: 2 pulled, 0 failed, 3 findings (1 critical)",
    items=(
        _item("CW-aaaaaaaaaaaa", "critical"),
        _item("CW-bbbbbbbbbbbb", "high", "fw1"),
        _item("CW-cccccccccccc", "medium", 'odd"dev]ice'),
    ),
    generated=WHEN,
)


# --- webhook ------------------------------------------------------------------------------------------------


class _Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200


@pytest.fixture
def hook() -> Iterator[tuple[_Hook, int]]:
    state = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_json_carries_every_finding_at_or_above_threshold(hook: tuple[_Hook, int], tmp_path: Path) -> None:
    state, port = hook
    settings = NotifySettings(min_severity="high", webhooks=[WebhookTarget(url=f"http://127.0.0.1:{port}/hook")])
    (outcome,) = notify(NOTICE, settings, tmp_path)
    assert outcome.ok and outcome.sent == 2 and outcome.channel == "webhook"
    path, headers, body = state.requests[0]
    assert path == "/hook" and headers["Content-Type"].startswith("application/json")
    doc = json.loads(body)
    assert [f["id"] for f in doc["findings"]] == ["CW-aaaaaaaaaaaa", "CW-bbbbbbbbbbbb"]
    assert doc["counts"] == {"critical": 1, "high": 1}
    assert doc["summary"] == NOTICE.summary


def test_webhook_slack_and_teams_styles(hook: tuple[_Hook, int], tmp_path: Path) -> None:
    state, port = hook
    url = f"http://127.0.0.1:{port}/x"
    settings = NotifySettings(
        min_severity="medium",
        webhooks=[WebhookTarget(url=url, style="slack"), WebhookTarget(url=url, style="teams", name="teams-sec")],
    )
    outcomes = notify(NOTICE, settings, tmp_path)
    assert [o.ok for o in outcomes] == [True, True]
    assert outcomes[1].target == "teams-sec"
    slack = json.loads(state.requests[0][2])
    assert set(slack) >= {"text"} and "*cfgwatch nightly: 3 finding(s)" in slack["text"]
    assert "CW-cccccccccccc" in slack["text"]
    teams = json.loads(state.requests[1][2])
    assert teams["type"] == "message"
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [block["text"] for block in card["content"]["body"]]
    assert texts[0] == NOTICE.title and any("CW-aaaaaaaaaaaa" in text for text in texts)


def test_webhook_secret_url_and_token_never_leak(
    hook: tuple[_Hook, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, port = hook
    secret_url = f"http://127.0.0.1:{port}/services/T000/B000/s3cretTOKENxyz"
    monkeypatch.setenv("CW_TEST_HOOK", secret_url)
    (tmp_path / "token").write_text("bearer-s3cret\n")
    target = WebhookTarget(url_secret=Secret(env="CW_TEST_HOOK"), token=Secret(file=Path("token")), style="slack")
    state.status = 500
    (outcome,) = notify(NOTICE, NotifySettings(webhooks=[target]), tmp_path)
    assert not outcome.ok and outcome.error is not None and "500" in outcome.error
    assert "s3cret" not in json.dumps(outcome.to_json())
    assert state.requests[0][1]["Authorization"] == "Bearer bearer-s3cret"

    state.status = 200
    (outcome,) = notify(NOTICE, NotifySettings(webhooks=[target]), tmp_path)
    assert outcome.ok and outcome.target == "webhook"

    monkeypatch.delenv("CW_TEST_HOOK")
    (outcome,) = notify(NOTICE, NotifySettings(webhooks=[target]), tmp_path)
    assert not outcome.ok and outcome.error == "environment variable CW_TEST_HOOK is not set"


def test_unreachable_targets_are_data_and_the_rest_still_sent(hook: tuple[_Hook, int], tmp_path: Path) -> None:
    state, port = hook
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    settings = NotifySettings(
        webhooks=[WebhookTarget(url=f"http://127.0.0.1:{dead}/"), WebhookTarget(url=f"http://127.0.0.1:{port}/")],
        email=[EmailTarget(host="127.0.0.1", port=dead, sender="cw@example.org", to=["soc@example.org"], timeout=5)],
    )
    outcomes = notify(NOTICE, settings, tmp_path)
    assert [(o.channel, o.ok) for o in outcomes] == [("webhook", False), ("webhook", True), ("email", False)]
    assert "refused" in (outcomes[0].error or "").lower()
    assert outcomes[0].target == f"http://127.0.0.1:{dead}"
    assert len(state.requests) == 1


def test_threshold_skips_targets_with_nothing_to_say(hook: tuple[_Hook, int], tmp_path: Path) -> None:
    state, port = hook
    url = f"http://127.0.0.1:{port}/"
    low = Notice(title="t", summary="s", items=(_item("CW-dddddddddddd", "medium"),), generated=WHEN)
    settings = NotifySettings(
        min_severity="high", webhooks=[WebhookTarget(url=url), WebhookTarget(url=url, min_severity="medium")]
    )
    outcomes = notify(low, settings, tmp_path)
    assert outcomes[0].skipped and outcomes[0].ok and not outcomes[1].skipped and outcomes[1].sent == 1
    assert len(state.requests) == 1
    # a stage error is worth a message even without findings, unless on_error is off
    broken = Notice(title="t", summary="s", errors=("pull: store locked",), generated=WHEN)
    assert not notify(broken, NotifySettings(webhooks=[WebhookTarget(url=url)]), tmp_path)[0].skipped
    assert json.loads(state.requests[-1][2])["errors"] == ["pull: store locked"]
    off = NotifySettings(on_error=False, webhooks=[WebhookTarget(url=url)])
    assert notify(broken, off, tmp_path)[0].skipped


# --- email ----------------------------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message, bool]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((envelope, email_lib.message_from_bytes(content), bool(session.ssl)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[_Mailbox, int, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"cfgwatch" and data.password == b"pa55-w0rd!"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    box = _Mailbox()
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield box, port, cert
    finally:
        controller.stop()


def _mail_target(port: int, cert: Path, **extra: Any) -> EmailTarget:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "ca_file": cert,
        "username": "cfgwatch",
        "password": Secret(env="CW_TEST_SMTP_PASSWORD"),
        "from": "cfgwatch@example.org",
        "to": ["soc@example.org", "netops@example.org"],
        "timeout": 10,
    }
    values.update(extra)
    return EmailTarget.model_validate(values)


def test_email_over_starttls_with_auth(
    smtp: tuple[_Mailbox, int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port, cert = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PASSWORD", "pa55-w0rd!")
    (outcome,) = notify(NOTICE, NotifySettings(email=[_mail_target(port, cert)]), tmp_path)
    assert outcome.ok, outcome.error
    envelope, message, tls = box.messages[0]
    assert tls  # the message went over the STARTTLS-upgraded session
    assert envelope.rcpt_tos == ["soc@example.org", "netops@example.org"]
    assert message["Subject"] == "[cfgwatch] cfgwatch nightly: 3 finding(s), worst critical"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    assert "CW-aaaaaaaaaaaa" in text and "CW-bbbbbbbbbbbb" in text and "CW-cccccccccccc" not in text


def test_email_failures_are_reported_without_the_password(
    smtp: tuple[_Mailbox, int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port, cert = smtp
    monkeypatch.setenv("CW_TEST_SMTP_PASSWORD", "wrong-s3cret")
    (outcome,) = notify(NOTICE, NotifySettings(email=[_mail_target(port, cert)]), tmp_path)
    assert not outcome.ok and outcome.error is not None and outcome.error.startswith("authentication failed")
    assert "s3cret" not in json.dumps(outcome.to_json())

    # the system trust store does not know the self-signed cert: TLS fails before any password is sent
    (outcome,) = notify(NOTICE, NotifySettings(email=[_mail_target(port, cert, ca_file=None)]), tmp_path)
    assert not outcome.ok and "CERTIFICATE_VERIFY_FAILED" in (outcome.error or "")

    monkeypatch.delenv("CW_TEST_SMTP_PASSWORD")
    (outcome,) = notify(NOTICE, NotifySettings(email=[_mail_target(port, cert)]), tmp_path)
    assert outcome.error == "environment variable CW_TEST_SMTP_PASSWORD is not set"
    assert box.messages == []


def test_email_refuses_a_server_without_starttls(tmp_path: Path) -> None:
    box = _Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        target = EmailTarget.model_validate(
            {"host": "127.0.0.1", "port": port, "from": "a@example.org", "to": ["b@example.org"]}
        )
        (outcome,) = notify(NOTICE, NotifySettings(email=[target]), tmp_path)
        assert not outcome.ok and outcome.error == "the server does not offer STARTTLS"
        plain = target.model_copy(update={"starttls": False})
        (outcome,) = notify(NOTICE, NotifySettings(email=[plain]), tmp_path)
        assert outcome.ok and len(box.messages) == 1
    finally:
        controller.stop()


def test_email_settings_keep_passwords_out_of_yaml() -> None:
    with pytest.raises(ValueError, match="username needs password"):
        EmailTarget.model_validate({"host": "h", "from": "a@b", "to": ["c@d"], "username": "u"})
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        EmailTarget.model_validate(
            {"host": "h", "from": "a@b", "to": ["c@d"], "username": "u", "password": {"value": "x"}}
        )
    with pytest.raises(ValueError, match="only sent over STARTTLS"):
        EmailTarget.model_validate(
            {"host": "h", "from": "a@b", "to": ["c@d"], "username": "u", "password": {"env": "X"}, "starttls": False}
        )


# --- syslog -----------------------------------------------------------------------------------------------------

RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|\[(?:[^\]\\]|\\.)*\]) ?(?P<msg>.*)$"
)


def test_syslog_udp_rfc5424(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        port = receiver.getsockname()[1]
        target = SyslogTarget(host="127.0.0.1", port=port, hostname="nightly-host", facility=16)
        (outcome,) = notify(NOTICE, NotifySettings(min_severity="medium", syslog=[target]), tmp_path)
        assert outcome.ok and outcome.sent == 3
        datagrams = [receiver.recv(65535).decode() for _ in range(4)]
    parsed = [RFC5424.match(d) for d in datagrams]
    assert all(parsed), datagrams
    summary, critical, high, medium = (m for m in parsed if m is not None)
    assert summary["msgid"] == "summary" and summary["msg"] == NOTICE.summary
    assert int(summary["pri"]) == 16 * 8 + 2  # worst item is critical
    assert (critical["msgid"], int(critical["pri"])) == ("finding", 130)
    assert int(high["pri"]) == 131 and int(medium["pri"]) == 132
    assert critical["host"] == "nightly-host" and critical["app"] == "cfgwatch"
    assert critical["ts"] == "2026-11-28T02:30:00.000000Z"
    assert 'id="CW-aaaaaaaaaaaa"' in critical["sd"] and critical["sd"].startswith("[cfgwatch@32473 ")
    assert 'device="odd\\"dev\\]ice"' in medium["sd"]  # PARAM-VALUE escaping


def test_syslog_tcp_octet_counting(tmp_path: Path) -> None:
    received = bytearray()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(10)
        port = server.getsockname()[1]

        def accept() -> None:
            conn, _ = server.accept()
            with conn:
                while chunk := conn.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=accept)
        thread.start()
        target = SyslogTarget(host="127.0.0.1", port=port, transport="tcp")
        gap = _item("GAP-eeeeeeeeeeee", "high", "core9", "coverage-gap")
        notice = Notice(title="t", summary="2 findings\nsecond line", items=(NOTICE.items[0], gap), generated=WHEN)
        (outcome,) = notify(notice, NotifySettings(syslog=[target]), tmp_path)
        thread.join(10)
    assert outcome.ok
    frames: list[str] = []
    data = bytes(received)
    while data:
        length, _, rest = data.partition(b" ")
        frames.append(rest[: int(length)].decode())
        data = rest[int(length) :]
    assert len(frames) == 3
    assert [RFC5424.match(f)["msgid"] for f in frames] == ["summary", "finding", "coverage-gap"]  # type: ignore[index]
    assert frames[0].endswith(" 2 findings second line")  # one line per message


def test_syslog_header_fields_are_clamped() -> None:
    target = SyslogTarget(host="h", app_name="a b" * 40)
    line = format_message(target, 3, "x" * 40, {}, "hi", WHEN, "host name")
    match = RFC5424.match(line)
    assert match is not None
    assert match["host"] == "host_name" and len(match["app"]) == 48 and len(match["msgid"]) == 32
    assert match["sd"] == "-" and match["msg"] == "hi"


HOSTILE = Notice(
    title="cfgwatch nightly: 1 finding(s) on <!channel>",
    summary="changed by <!here> & <https://evil.example|the change ticket>",
    items=(
        _item("CW-dddddddddddd", "critical", "edge1<!everyone>"),
        AlertItem(
            "CW-eeeeeeeeeeee",
            "high",
            "fw1",
            ("egress-forward",),
            (),
            "- [HIGH] by <@U024BE7LH> **admin** [ticket](https://evil.example) _x_ `y` "
            "{{DATE(2017-02-14T06:08:00Z)}}\n# heading",
        ),
    ),
    errors=("pull fw9: user <!subteam^S123> said <https://evil.example|hi>",),
    generated=WHEN,
)


def test_slack_payload_escapes_mentions_and_links_from_configs() -> None:
    from cfgwatch.notify.webhook import payload

    text = payload(HOSTILE, "slack")["text"]
    for live in ("<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<!subteam", "<https://"):
        assert live not in text, live
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example|the change ticket&gt;" in text
    assert "changed by &lt;!here&gt; &amp; " in text


def test_teams_payload_escapes_markdown_from_configs() -> None:
    from cfgwatch.notify.webhook import payload

    card = payload(HOSTILE, "teams")["attachments"][0]["content"]
    texts = [block["text"] for block in card["body"]]
    joined = "\n".join(texts)
    assert "[ticket](https" not in joined and "\\[ticket\\](https://evil.example)" in joined
    assert "**admin**" not in joined and "\\*\\*admin\\*\\*" in joined
    assert "{{DATE(" not in joined and "\\_x\\_" in joined and "\\`y\\`" in joined
    assert all("\n" not in text and "\r" not in text for text in texts)  # a line break cannot start a heading
    hostile_item = texts[-1]
    assert hostile_item.startswith("- \\- \\[HIGH\\]"), hostile_item  # the item's own "- " is no second list
    assert texts[0] == "cfgwatch nightly: 1 finding(s) on \\<!channel\\>"
