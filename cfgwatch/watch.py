"""`cfgwatch watch`: pull a device when its own syslog says its config changed, audit that change, notify.

Why: an hourly pull leaves an attacker's proxy forward up to an hour of unnoticed use; every platform
already announces a commit in syslog (IOS/NX-OS/EOS CONFIG_I, ASA 111008/111010, Junos UI_COMMIT,
FortiOS, PAN-OS, RouterOS, VyOS). The watcher listens for those lines (UDP and/or TCP, RFC 3164 and
RFC 5424, TCP framed by newline or RFC 6587 octet counting), recognises them with the same per-platform
patterns the audit uses for attribution, and then, per device:
- debounces: a burst of commits (or a commit plus its `write memory`) becomes one pull, `debounce`
  seconds after the last message;
- pulls that device alone, one device at a time (the store lock would serialise runs anyway), commits,
  audits the runs since the snapshot it had before, and notifies through the project's `notify:` targets;
- keeps every recognised line in STATE/watch/syslog.log, which the audit reads like a `policy.syslog`
  file, so the finding names who made the change.
A message from a host that is not in the inventory is counted and ignored. Results are data (one
`WatchCycle` per pull) handed to a callback; the CLI prints them.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from cfgwatch.errors import InputError
from cfgwatch.policy.attribution import ConfigEvent, parse_syslog_line, received_syslog_path

if TYPE_CHECKING:
    from cfgwatch.notify import NotifyOutcome
    from cfgwatch.policy.findings import Finding
    from cfgwatch.project import Project

MAX_MESSAGE = 8192  # bytes; RFC 5424 receivers must accept 480 and should accept 2048


@dataclass(frozen=True, slots=True)
class WatchCycle:
    """One debounced pull of one device: what triggered it, what the pull and the audit found."""

    device: str
    triggers: tuple[ConfigEvent, ...]
    first_received: float  # time.monotonic() of the first message of the burst
    commit: str | None = None
    findings: tuple[Finding, ...] = ()
    notifications: tuple[NotifyOutcome, ...] = ()
    error: str | None = None
    seconds: float = 0.0  # first message received -> audit done

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_message(data: bytes, sender: str) -> ConfigEvent | None:
    """A config-change event from one syslog message (RFC 3164 or 5424), or None for any other message."""
    text = data[:MAX_MESSAGE].decode("utf-8", "replace").strip().lstrip("\ufeff")
    text = "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in text)
    event = parse_syslog_line(text, f"udp/tcp from {sender}", 0, datetime.now(UTC).year)
    if event is None or event.device is not None:
        return event
    return replace(event, device=sender)  # RFC 3164 without a host field: the sender is the device


class DeviceMatcher:
    """Inventory device for a syslog host field or sender address: by name, then by the host's address."""

    def __init__(self, hosts: dict[str, str | None]) -> None:
        self.by_name = {name.lower(): name for name in hosts}
        self.by_address: dict[str, str] = {}
        for name, address in hosts.items():
            if address and address.lower() not in self.by_address:
                self.by_address[address.lower()] = name

    def device(self, host: str | None, sender: str) -> str | None:
        for key in (host, host.split(".")[0] if host else None):
            if key and key.lower() in self.by_name:
                return self.by_name[key.lower()]
        for key in (host, sender):
            if key and key.lower() in self.by_address:
                return self.by_address[key.lower()]
        return None


@dataclass(slots=True)
class _Pending:
    events: list[ConfigEvent] = field(default_factory=list)
    first: float = 0.0
    due: float = 0.0


class Watcher:
    """Debounce per device, then pull + audit + notify one device at a time (see the module docstring)."""

    def __init__(
        self,
        project: Project,
        *,
        debounce: float = 10.0,
        on_cycle: Callable[[WatchCycle], None] = lambda cycle: None,
        on_ignored: Callable[[str], None] = lambda why: None,
    ) -> None:
        inventory = project.inventory
        if inventory is None or not inventory.hosts:
            raise InputError("watch needs devices in the inventory (inventory/hosts.yaml)")
        self.project = project
        self.debounce = debounce
        self.on_cycle = on_cycle
        self.on_ignored = on_ignored
        self.matcher = DeviceMatcher({name: host.hostname for name, host in inventory.hosts.items()})
        self.log_path = received_syslog_path(project.config.state_path)
        self._pending: dict[str, _Pending] = {}
        self._wake = threading.Condition()
        self.received = 0
        self.ignored = 0

    def submit(self, data: bytes, sender: str) -> None:
        """One received message: recognised config changes are logged and schedule a pull."""
        event = parse_message(data, sender)
        with self._wake:
            self.received += 1
            if event is None:
                return
            device = self.matcher.device(event.device, sender)
            if device is None:
                self.ignored += 1
                self.on_ignored(f"config change from {event.device or sender}: not in the inventory")
                return
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("a", encoding="utf-8") as log:
                log.write(event.line.replace("\n", " ") + "\n")
            now = time.monotonic()
            pending = self._pending.setdefault(device, _Pending(first=now))
            pending.events.append(event)
            pending.due = now + self.debounce
            self._wake.notify_all()

    def run(self, stop: threading.Event) -> None:
        """The worker loop: wait for the next due device, pull it, repeat until `stop` is set."""
        while not stop.is_set():
            with self._wake:
                due = min((p.due for p in self._pending.values()), default=None)
                now = time.monotonic()
                if due is None or due > now:
                    self._wake.wait(timeout=0.5 if due is None else min(due - now, 0.5))
                    continue
                device = min(self._pending, key=lambda name: self._pending[name].due)
                pending = self._pending.pop(device)
            self.on_cycle(self.cycle(device, pending))

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def cycle(self, device: str, pending: _Pending) -> WatchCycle:
        """Pull one device, audit the runs since its previous snapshot, notify. Failures are data."""
        from cfgwatch.nightly import finding_item
        from cfgwatch.notify import Notice, notify

        project = self.project
        triggers = tuple(pending.events)
        try:
            last = project.runs(limit=1)
            before = last[0].commit if last else None
            pull = project.pull(devices=[device])
        except Exception as exc:  # a busy store (lock), an unreachable device: reported, the watch goes on
            return WatchCycle(device, triggers, pending.first, error=f"pull: {exc}")
        failed = [f for f in pull.run.failed if f.name == device]
        if failed:
            return WatchCycle(device, triggers, pending.first, error=f"pull: {failed[0].reason}: {failed[0].detail}")
        if pull.run.commit is None or before is None:
            return WatchCycle(device, triggers, pending.first, seconds=time.monotonic() - pending.first)
        try:
            with project.flow_checker(True) as checker:
                audit = project.audit(since=before, flow_checker=checker)
        except Exception as exc:
            return WatchCycle(device, triggers, pending.first, commit=pull.run.commit, error=f"audit: {exc}")
        findings = tuple(audit.findings)
        outcomes: tuple[NotifyOutcome, ...] = ()
        if findings:
            items = tuple(sorted((finding_item(f) for f in findings), key=lambda item: (-item.rank, item.id)))
            notice = Notice(
                title=f"cfgwatch watch: {device} changed, {len(findings)} finding(s)",
                summary=f"{device}: config change reported by syslog ({triggers[-1].kind}); pulled and audited",
                items=items,
            )
            outcomes = notify(notice, project.config.notify, project.config.base_dir)
        return WatchCycle(
            device,
            triggers,
            pending.first,
            commit=pull.run.commit,
            findings=findings,
            notifications=outcomes,
            seconds=time.monotonic() - pending.first,
        )


def parse_listen(value: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [ADDR]:PORT) for a listener; bad text is an error naming the option value."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError(f"bad listen address {value!r} (use HOST:PORT, e.g. 0.0.0.0:514 or [::1]:5514)")
    return host, int(port)


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data = self.request[0]
        cast(_Udp, self.server).watcher.submit(data, self.client_address[0])


class _TcpHandler(socketserver.StreamRequestHandler):
    """RFC 6587: octet-counted frames (`LEN SP MSG`) or newline-terminated messages."""

    def handle(self) -> None:
        watcher = cast(_Tcp, self.server).watcher
        while True:
            head = self.rfile.readline(MAX_MESSAGE + 16)
            if not head:
                return
            count, sep, rest = head.partition(b" ")
            if count.isdigit() and sep and len(count) <= 6:
                size = int(count)
                message = rest
                if size > len(rest):
                    message = rest + self.rfile.read(min(size - len(rest), MAX_MESSAGE))
                watcher.submit(message[:size], self.client_address[0])
            else:
                watcher.submit(head, self.client_address[0])


class _Udp(socketserver.ThreadingUDPServer):
    daemon_threads = True
    max_packet_size = MAX_MESSAGE
    watcher: Watcher


class _Tcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    watcher: Watcher


def _listen(kind: str, address: tuple[str, int], watcher: Watcher) -> _Udp | _Tcp:
    """A started listener thread; bad or busy addresses are an error naming them."""
    base: type[_Udp] | type[_Tcp] = _Udp if kind == "udp" else _Tcp
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    server_class = type(f"{base.__name__}{family.name}", (base,), {"address_family": family})
    handler = _UdpHandler if kind == "udp" else _TcpHandler
    try:
        server: _Udp | _Tcp = server_class(address, handler)
    except OSError as exc:
        raise InputError(f"cannot listen on {kind} {address[0]}:{address[1]}: {exc.strerror}") from exc
    server.watcher = watcher
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return server


def serve(
    watcher: Watcher,
    *,
    udp: tuple[str, int] | None,
    tcp: tuple[str, int] | None,
    stop: threading.Event,
    on_listening: Callable[[str], None] = lambda where: None,
) -> None:
    """Listen until `stop` is set; the worker runs in this thread, the listeners in their own."""
    servers: list[_Udp | _Tcp] = []
    try:
        for kind, address in (("udp", udp), ("tcp", tcp)):
            if address is None:
                continue
            server = _listen(kind, address, watcher)
            servers.append(server)
            host, port = server.server_address[:2]
            on_listening(f"{kind} {host!s}:{port}")
        watcher.run(stop)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
