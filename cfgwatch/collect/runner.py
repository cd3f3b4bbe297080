"""Pull running configs over SSH through Nornir's threaded runner, then sanitize and store one run.

Per device: open our own TCP socket (so a per-device wall-clock deadline can cut it), hand it to
netmiko or NAPALM via nornir-netmiko / nornir-napalm, check the output is a whole config, retry
transient failures with exponential backoff. Every outcome is data (`DeviceOutcome`); failed devices
keep their last good snapshot and are listed in the run. Host keys are checked against a known_hosts
file; trust-on-first-use is opt-in. Credentials are resolved at run time and never logged: every
error text passes through a scrubber that removes the device's password and secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import hmac
import itertools
import logging
import multiprocessing
import multiprocessing.context
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.exceptions import NornirSubTaskError
from nornir.core.inventory import ConnectionOptions, Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import Result, Task
from nornir.plugins.runners import ThreadedRunner
from paramiko.hostkeys import HostKeyEntry

from cfgwatch.collect import fastpaths, ssh
from cfgwatch.collect import napalm as napalm_collector
from cfgwatch.collect import netmiko as netmiko_collector
from cfgwatch.collect.settings import PullOptions
from cfgwatch.collect.validate import check_output, check_size
from cfgwatch.errors import ConfigError, InputError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.inventory import Credentials, Device, resolve_credentials
from cfgwatch.sanitize import sanitize
from cfgwatch.store import DeviceFailure, DeviceSnapshot, RunResult, SnapshotStore
from cfgwatch.store.copies import StoredCopies

if TYPE_CHECKING:
    from cfgwatch.store.remote import PushResult

# Nornir logs each failed subtask with its traceback; without a handler Python would print it on stderr.
# Outcomes are reported as data instead (the CLI shows them; a user's own logging config still sees them).
logging.getLogger("nornir").addHandler(logging.NullHandler())
fastpaths.install()

# Failures that a retry cannot fix (and, for auth, that retries could turn into an account lockout).
_NO_RETRY = frozenset({"auth", "hostkey", "cli-error"})


@dataclass(frozen=True, slots=True)
class DeviceOutcome:
    """What happened to one device in a pull. `text` is the raw config (None once stored or when failed)."""

    name: str
    platform: str | None
    collector: str
    failure: DeviceFailure | None
    attempts: int
    seconds: float
    text: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class PullResult:
    """A pull: the store's run (commit or none), every device's outcome, and the push to store.remote
    (None when no remote is configured)."""

    run: RunResult
    outcomes: tuple[DeviceOutcome, ...]
    push: PushResult | None = None


# --------------------------------------------------------------------------------------------- helpers


def _scrub(text: str, hidden: Sequence[str]) -> str:
    """Remove credential values from text meant for humans, logs or commit messages."""
    for value in sorted(hidden, key=len, reverse=True):
        if value:
            text = text.replace(value, "***")
    return text


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop(0)
        if cur is None or any(cur is s for s in seen):
            continue
        seen.append(cur)
        todo.extend([cur.__cause__, cur.__context__])
    return seen


def classify(exc: BaseException) -> tuple[str, str]:
    """(reason, detail) for an exception raised while collecting; reason is a store FAILURE_REASON.
    A failure on a jump host says so first (`jump host bastion:22: authentication failed`)."""
    chain = _chain(exc)
    hop = next((f"{e}: " for e in chain if isinstance(e, ssh.JumpHostError)), "")
    reason, detail = _classify_chain(exc, chain)
    return reason, hop + detail


def _classify_chain(exc: BaseException, chain: list[BaseException]) -> tuple[str, str]:
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout

    for e in chain:
        if isinstance(e, paramiko.BadHostKeyException):
            return "hostkey", "host key mismatch: the device presented a different key than known_hosts holds"
        if isinstance(e, paramiko.SSHException) and "known_hosts" in str(e):
            return "hostkey", "host key not in known_hosts (add it, or pull with --trust-on-first-use)"
    for e in chain:
        if isinstance(e, ssh.KeyFileError):
            return "auth", str(e)
        if isinstance(e, paramiko.SSHException) and "No authentication methods available" in str(e):
            return "auth", "nothing to log in with: no password, key_file or use_agent (or the agent holds no key)"
        if isinstance(e, NetmikoAuthenticationException | paramiko.AuthenticationException):
            return "auth", "authentication failed"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "refused", "connection refused"
        if isinstance(e, paramiko.ChannelException):  # the jump host could not reach the next hop
            return "refused", f"channel to the next hop refused ({_one_line(e.text or str(e.code), 80)})"
    for e in chain:
        if isinstance(e, NetmikoTimeoutException | ReadTimeout | TimeoutError | socket.timeout):
            return "timeout", f"timed out ({_one_line(str(e), 100) or type(e).__name__})"
    root = next((e for e in chain if not isinstance(e, ssh.JumpHostError)), exc)
    return "error", f"{type(root).__name__}: {_one_line(str(root))}"


def _host_key_name(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


_known_hosts_lock = threading.Lock()


def _remember_key(path: Path, hostname: str, port: int, key: paramiko.PKey) -> None:
    """Trust on first use: append the key unless known_hosts already has one for this host.

    Threads take a lock and processes an flock on the file itself, so concurrent pulls never write the
    same host twice or interleave lines.
    """
    name = _host_key_name(hostname, port)
    with _known_hosts_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            keys = paramiko.HostKeys()
            keys.load(str(path))
            if keys.lookup(name):
                return
            fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")
            fh.flush()


def pin_host_keys(devices: Sequence[tuple[Device, Path]], directory: Path) -> dict[str, Path | None]:
    """Write one small known_hosts file per device holding only that device's keys; None if the source is absent.

    paramiko parses the whole known_hosts file (and builds every key) on each connection and looks hosts
    up linearly: with hundreds of devices that is most of a pull's client CPU. Each known_hosts source is
    parsed once here instead, and indexed by host name (_KnownHosts). A per-device file also means
    paramiko's AutoAddPolicy (trust on first use) rewrites a throw-away copy rather than racing other
    sessions on the user's file; the real file is appended to by _remember_key. Hashed entries match
    as in paramiko, since their test is paramiko's own.
    """
    loaded: dict[Path, _KnownHosts | None] = {}
    pinned: dict[str, Path | None] = {}
    for index, (dev, source) in enumerate(devices):
        if source not in loaded:
            loaded[source] = _KnownHosts(source) if source.is_file() else None
        keys = loaded[source]
        if keys is None:
            pinned[dev.name] = None
            continue
        name = _host_key_name(dev.hostname, dev.port)
        lines = [f"{name} {kind} {key.get_base64()}\n" for kind, key in keys.lookup(name).items()]
        target = directory / f"{index}.known_hosts"
        target.write_text("".join(lines), encoding="utf-8")
        pinned[dev.name] = target
    return pinned


class _KnownHosts:
    """A known_hosts file read once and indexed by host name, answering like paramiko.HostKeys.lookup.

    paramiko's HostKeys scans every entry per lookup (and, while loading, per host name of every line:
    quadratic in the file's size). Here each line is parsed by paramiko's own HostKeyEntry.from_line
    (bad and unknown-type lines skipped as paramiko's load skips them), plain names go into a dict and
    hashed `|1|salt|hash` names are tested with paramiko's hash_host. lookup() gives, per key type, the
    key of the first matching entry in file order: what paramiko's lookup()[type] and check() use
    (paramiko's load-time removal of repeated host/key pairs never changes that first key).
    """

    def __init__(self, path: Path) -> None:
        self._entries: list[HostKeyEntry] = []
        self._plain: dict[str, list[int]] = {}
        self._hashed: list[tuple[int, str]] = []  # (entry position, hashed name), tested per lookup
        with path.open(encoding="utf-8", errors="surrogateescape") as fh:
            for lineno, raw in enumerate(fh, 1):
                line = raw.strip()
                if not line or line[0] == "#":
                    continue
                try:
                    entry = HostKeyEntry.from_line(line, lineno)
                except paramiko.SSHException:
                    continue
                if entry is None or entry.key is None:
                    continue
                position = len(self._entries)
                self._entries.append(entry)
                for host in dict.fromkeys(entry.hostnames):
                    if host.startswith("|1|"):
                        self._hashed.append((position, host))
                    self._plain.setdefault(host, []).append(position)

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        """Key type -> key for host `name` (empty when the file has none)."""
        positions = set(self._plain.get(name, ()))
        if not name.startswith("|1|"):
            positions.update(
                position
                for position, hashed in self._hashed
                if hmac.compare_digest(paramiko.HostKeys.hash_host(name, hashed), hashed)
            )
        found: dict[str, paramiko.PKey] = {}
        for position in sorted(positions):
            key = self._entries[position].key
            found.setdefault(key.get_name(), key)
        return found


def _server_key(task: Task, conn_name: str) -> paramiko.PKey | None:
    conn = task.host.connections.get(conn_name)
    if conn is None:
        return None
    obj = conn.connection
    netmiko_conn = getattr(obj, "device", obj)  # NAPALM drivers keep their netmiko session in .device
    client = getattr(netmiko_conn, "remote_conn_pre", None)
    transport = client.get_transport() if client is not None else None
    return transport.get_remote_server_key() if transport is not None else None


def known_hosts_for(device: Device, options: PullOptions) -> Path:
    """known_hosts file for a device: the option/config value, else the inventory's, else ~/.ssh/known_hosts."""
    if options.known_hosts is not None:
        return options.known_hosts
    from_inventory = device.data.get("known_hosts")
    if from_inventory:
        return Path(str(from_inventory)).expanduser()
    return Path("~/.ssh/known_hosts").expanduser()


# --------------------------------------------------------------------------------------------- one device


@dataclass(frozen=True, slots=True)
class _Job:
    """Everything one device's collection needs; picklable, so a job can run in a worker process."""

    device: Device
    route: ssh.Route  # where and how to log in (target, jump hosts, keys), resolved in the parent
    options: PullOptions
    known_hosts: Path  # the user's file: error text names it, trust on first use appends to it
    host_keys: Path | None  # this device's pinned copy (pin_host_keys); None when known_hosts is absent
    deadline_at: float | None = None  # time.time() by which the whole pull must be done (pull.deadline)

    @property
    def creds(self) -> Credentials:
        return self.route.target.creds

    def budget(self) -> tuple[float, bool]:
        """Seconds the next attempt may take, and whether the run deadline (not pull.timeout) bounds it."""
        if self.deadline_at is None:
            return self.options.timeout, False
        left = self.deadline_at - time.time()
        return (left, True) if left < self.options.timeout else (self.options.timeout, False)


def _deadline_detail(opts: PullOptions) -> str:
    return f"the run deadline (pull.deadline {opts.deadline:g}s) passed"


def _merge_extras(ours: dict[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inventory's connection_options extras over cfgwatch's (reserved keys were refused at load);
    NAPALM's optional_args merge key by key."""
    merged = {**ours, **(user or {})}
    if isinstance(ours.get("optional_args"), dict) and isinstance((user or {}).get("optional_args"), Mapping):
        merged["optional_args"] = {**ours["optional_args"], **user["optional_args"]}  # type: ignore[index]
    return merged


class _Alarm:
    """One scheduled call of the watchdog; cancel() before it is due and it never runs."""

    __slots__ = ("action", "at", "cancelled")

    def __init__(self, at: float, action: Callable[[], None]) -> None:
        self.at = at
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class _Watchdog:
    """Runs each attempt's deadline action from one thread per process, in deadline order.

    A threading.Timer per attempt meant a thread started, woken and ended for every device: with
    hundreds of devices, measurable CPU and context switches for an action that almost never runs.
    Cancelled alarms are dropped when they reach the front of the queue.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._queue: list[tuple[float, int, _Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, action: Callable[[], None]) -> _Alarm:
        alarm = _Alarm(time.monotonic() + delay, action)
        with self._cv:
            heapq.heappush(self._queue, (alarm.at, next(self._order), alarm))
            if self._thread is None or not self._thread.is_alive():  # first use (in this process)
                self._thread = threading.Thread(target=self._run, name="cfgwatch-pull-watchdog", daemon=True)
                self._thread.start()
            elif self._queue[0][2] is alarm:
                self._cv.notify()  # the new alarm is due before the one the thread waits for
        return alarm

    def _run(self) -> None:
        with self._cv:
            while True:
                while self._queue and self._queue[0][2].cancelled:
                    heapq.heappop(self._queue)
                if not self._queue:
                    self._cv.wait()
                    continue
                wait = self._queue[0][0] - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                alarm = heapq.heappop(self._queue)[2]
                self._cv.release()
                try:
                    if not alarm.cancelled:
                        alarm.action()
                except Exception:  # an action only shuts sockets down; one failing must not stop the others
                    pass
                finally:
                    self._cv.acquire()


_WATCHDOG = _Watchdog()


def _attempt(task: Task, job: _Job) -> tuple[str | None, str, str]:
    """One try: returns (text, "", "") on success, else (None, reason, detail).

    The attempt's wall clock is pull.timeout, or what is left of the run deadline if that is less: a
    watchdog alarm shuts the TCP socket down when it runs out, which ends the session wherever it is stuck.
    """
    dev, opts, target = job.device, job.options, job.route.target
    strict = not opts.trust_on_first_use
    known = str(job.host_keys) if job.host_keys is not None else None
    if strict and known is None:
        return None, "hostkey", f"known_hosts file {job.known_hosts} not found (or pull with --trust-on-first-use)"
    budget, by_deadline = job.budget()
    if budget <= 0:
        return None, "timeout", f"{_deadline_detail(opts)} before this device was reached"
    expired = threading.Event()
    tcp: list[socket.socket] = []

    def expire() -> None:
        expired.set()
        for sock in tcp:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def timed_out() -> tuple[None, str, str]:
        if by_deadline:
            return None, "timeout", f"{_deadline_detail(opts)} ({budget:.1f}s were left for this attempt)"
        return None, "timeout", f"no complete answer within {opts.timeout:g}s"

    def remember(hostname: str, port: int, key: paramiko.PKey) -> None:
        _remember_key(job.known_hosts, hostname, port, key)

    def track(sock: socket.socket) -> None:
        tcp.append(sock)
        if expired.is_set():
            expire()

    alarm = _WATCHDOG.schedule(budget, expire)
    route: ssh.OpenRoute | None = None
    conn_name = dev.collector
    user_options = dev.connection_options.get(dev.collector, {})
    try:
        route = ssh.open_route(
            job.route, timeout=budget, known_hosts=job.known_hosts, strict=strict, remember=remember, on_tcp=track
        )
        auth = ssh.netmiko_auth(target.creds)
        common = dict(secret=job.creds.secret, sock=route.sock, timeout=budget, known_hosts=known, strict=strict)
        if dev.collector == napalm_collector.COLLECTOR:
            extras = napalm_collector.connection_extras(**common, auth=auth)
            task.host.connection_options["napalm"] = ConnectionOptions(
                extras=_merge_extras(extras, user_options.get("extras")),
                platform=user_options.get("platform") or napalm_collector.driver(dev.platform),
            )
            result = napalm_collector.collect_running(task, platform=dev.platform)
        else:
            extras = netmiko_collector.connection_extras(**common, auth=auth)
            task.host.connection_options["netmiko"] = ConnectionOptions(
                extras=_merge_extras(extras, user_options.get("extras")),
                platform=user_options.get("platform") or dev.platform,
            )
            result = netmiko_collector.collect_running(
                task,
                platform=str(dev.platform),
                enable=bool(job.creds.secret) and netmiko_collector.needs_enable(dev.platform),
            )
        if expired.is_set():
            return timed_out()
        if opts.trust_on_first_use:
            key = _server_key(task, conn_name)
            if key is not None:
                _remember_key(job.known_hosts, target.hostname, target.port, key)
        return str(result.result), "", ""
    except NornirSubTaskError as exc:
        inner = exc.result[0].exception if exc.result and exc.result[0].exception else exc
        if expired.is_set():
            return timed_out()
        return (None, *classify(inner))
    except Exception as exc:  # a driver bug must not end the run for every other device
        if expired.is_set():
            return timed_out()
        return (None, *classify(exc))
    finally:
        alarm.cancel()
        with contextlib.suppress(Exception):
            netmiko_collector.quick_close(task, conn_name, dev.platform)
        with contextlib.suppress(Exception):
            task.host.close_connections()
        if route is not None:
            route.close()


def _pull_one(task: Task, jobs: dict[str, _Job], report: Callable[[DeviceOutcome], None]) -> Result:
    """Nornir task: collect one device with retries; the Result carries a DeviceOutcome (never raises)."""
    job = jobs[task.host.name]
    dev = job.device
    start = time.monotonic()
    attempts = 0
    reason = detail = ""
    text: str | None = None
    while True:
        attempts += 1
        text, reason, detail = _attempt(task, job)
        if text is not None:
            verdict = check_output(text, dev.platform)
            if verdict.ok:
                break
            reason, detail, text = str(verdict.reason), verdict.detail, None
        if reason in _NO_RETRY or attempts > job.options.retries:
            break
        delay = job.options.backoff * (2 ** (attempts - 1)) * (0.75 + random.random() / 2)
        left, by_deadline = job.budget()
        if by_deadline and left <= delay:
            break  # no time for another attempt before the run deadline
        time.sleep(delay)
    failure = None
    if text is None:
        detail = _scrub(detail, job.route.hidden)
        if attempts > 1:
            detail = f"{detail} (after {attempts} attempts)"
        failure = DeviceFailure(dev.name, reason or "error", detail)
    outcome = DeviceOutcome(dev.name, dev.platform, dev.collector, failure, attempts, time.monotonic() - start, text)
    report(outcome)
    return Result(host=task.host, result=outcome)


# --------------------------------------------------------------------------------------------- many devices


def _check_collectable(device: Device) -> None:
    if device.platform is None:
        raise ConfigError(f"device '{device.name}' has no platform", key=f"{device.name}.platform")
    if device.collector == napalm_collector.COLLECTOR:
        napalm_collector.driver(device.platform)
    elif device.collector == netmiko_collector.COLLECTOR:
        netmiko_collector.config_command(device.platform)
    else:
        raise ConfigError(
            f"device '{device.name}': collector {device.collector!r} cannot pull over SSH",
            key=f"{device.name}.collector",
        )


def _crashed(job: _Job, exc: BaseException | None, where: str) -> DeviceOutcome:
    """The outcome of a device whose task never produced one (a bug, a dead worker): still data, never lost."""
    detail = _scrub(f"internal error ({where}): {type(exc).__name__}: {_one_line(str(exc))}", job.route.hidden)
    failure = DeviceFailure(job.device.name, "error", detail)
    return DeviceOutcome(job.device.name, job.device.platform, job.device.collector, failure, 0, 0.0)


def _collect_threads(
    jobs: Sequence[_Job], workers: int, report: Callable[[DeviceOutcome], None]
) -> list[DeviceOutcome]:
    """Run the jobs through Nornir's ThreadedRunner in this process; outcomes in job order."""
    by_name = {job.device.name: job for job in jobs}
    ConnectionPluginRegister.auto_register()
    hosts = Hosts()
    for name, job in by_name.items():
        hosts[name] = Host(
            name=name,
            hostname=job.route.target.hostname,
            port=job.route.target.port,
            username=job.creds.username,
            password=job.creds.password,
            platform=job.device.platform,
        )
    nr = Nornir(
        inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
        runner=ThreadedRunner(num_workers=max(1, min(workers, len(by_name)))),
        config=Config(logging={"enabled": False}),  # type: ignore[arg-type]
    )
    aggregated = nr.run(task=_pull_one, jobs=by_name, report=report, raise_on_error=False)
    outcomes: list[DeviceOutcome] = []
    for name, job in by_name.items():
        multi = aggregated.get(name)
        result = multi[0].result if multi else None
        if isinstance(result, DeviceOutcome):
            outcomes.append(result)
        else:
            outcomes.append(_crashed(job, multi[0].exception if multi else None, "task"))
    return outcomes


# ------------------------------------------------------------------------------------- worker processes
# One Python process holds one GIL. With known_hosts pinned per device, a session costs the collector
# about 20 ms of CPU (paramiko packets and key exchange, netmiko's 10 ms read polling), so one process
# keeps up with roughly 50 devices/s on a free core; past that the device list is sharded across worker
# processes, each running the same threaded collection on its shard. Workers only collect: the parent
# sanitizes and writes the one commit of the run. A worker costs about a second to start (the
# forkserver's first import, then a fork) and 60-80 MB, which a few hundred devices do not repay.

# Fewest devices worth a worker process of their own in the automatic choice.
DEVICES_PER_PROCESS = 500
_progress_queue: Any = None  # set in each worker process by _init_worker


def processes_for(devices: int, requested: int = 0) -> int:
    """Worker processes for a pull: `requested` if >= 1, else one per core but none for fewer devices than
    DEVICES_PER_PROCESS each; never more than there are devices. 1 means collect in this process."""
    if requested >= 1:
        return max(1, min(requested, devices))
    return max(1, min(os.cpu_count() or 1, devices // DEVICES_PER_PROCESS))


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one (children fork from a clean, single-threaded server that imported
    the collectors once), else spawn. Never plain fork: the parent may be running threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def _init_worker(queue: Any) -> None:
    global _progress_queue
    _progress_queue = queue


def _run_shard(jobs: list[_Job], workers: int) -> list[DeviceOutcome]:
    """Worker process: collect one shard; each finished device goes to the parent's progress queue."""

    def report(outcome: DeviceOutcome) -> None:
        if _progress_queue is not None:
            _progress_queue.put(replace(outcome, text=None))

    return _collect_threads(jobs, workers, report)


def _collect_processes(
    jobs: Sequence[_Job], processes: int, workers: int, report: Callable[[DeviceOutcome], None]
) -> list[DeviceOutcome]:
    """Shard the jobs round-robin (so platforms mix) over worker processes; outcomes in job order."""
    ctx = _context()
    shards = [list(jobs[i::processes]) for i in range(processes)]
    per_process = max(1, -(-workers // processes))
    queue = ctx.Queue()
    reported: set[str] = set()

    def relay() -> None:
        while (outcome := queue.get()) is not None:
            reported.add(outcome.name)
            report(outcome)

    relay_thread = threading.Thread(target=relay, name="cfgwatch-pull-progress", daemon=True)
    relay_thread.start()
    results: dict[str, DeviceOutcome] = {}
    # One single-process pool per shard: a worker that dies (killed, out of memory) breaks only its own
    # pool, so the other shards' outcomes survive and only its devices fail, as data.
    pools = [ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker, initargs=(queue,)) for _ in shards]
    try:
        futures = [pool.submit(_run_shard, shard, per_process) for pool, shard in zip(pools, shards, strict=True)]
        for shard, future in zip(shards, futures, strict=True):
            try:
                results.update((o.name, o) for o in future.result())
            except Exception as exc:
                results.update((job.device.name, _crashed(job, exc, "worker process")) for job in shard)
    finally:
        for pool in pools:
            pool.shutdown(wait=True)
        queue.put(None)  # after every pool has shut down, so every worker's progress is already queued
        relay_thread.join()
        queue.close()
    for job in jobs:
        if job.device.name not in reported:
            report(results[job.device.name])
    return [results[job.device.name] for job in jobs]


# --------------------------------------------------------------------------------------------- entry points


def collect(
    devices: Sequence[Device],
    options: PullOptions | None = None,
    *,
    events: Events = NO_EVENTS,
) -> list[DeviceOutcome]:
    """Collect every device's running config in parallel; outcomes in input order.

    Nornir's ThreadedRunner runs the sessions (`options.workers` in all); with more than one process
    (`options.processes`, 0 = processes_for's choice) the devices are sharded across worker processes
    and `events` hears from a relay thread, with outcomes whose `text` is left out.

    Raises ConfigError before connecting anywhere if a device has no usable platform/collector or its
    credentials cannot be resolved (an unset environment variable, an unreadable file).
    """
    opts = options or PullOptions()
    deadline_at = time.time() + opts.deadline if opts.deadline is not None else None
    ssh_config = ssh.load_ssh_config(opts.ssh_config)
    resolved: list[tuple[Device, ssh.Route, Path]] = []
    for dev in devices:
        _check_collectable(dev)
        route = ssh.plan_route(dev, resolve_credentials(dev), ssh_config)
        resolved.append((dev, route, known_hosts_for(dev, opts)))
    if not resolved:
        return []
    lock = threading.Lock()
    done = [0]

    def report(outcome: DeviceOutcome) -> None:
        with lock:
            done[0] += 1
            count = done[0]
            events.item_done("pull", outcome, count, len(resolved))  # under the lock: one at a time, in order

    with tempfile.TemporaryDirectory(prefix="cfgwatch-known-hosts-") as tmp:
        targets = [
            (replace(dev, hostname=route.target.hostname, port=route.target.port), known)
            for dev, route, known in resolved
        ]
        pinned = pin_host_keys(targets, Path(tmp))
        jobs = [_Job(dev, route, opts, known, pinned[dev.name], deadline_at) for dev, route, known in resolved]
        processes = processes_for(len(jobs), opts.processes)
        if processes == 1:
            return _collect_threads(jobs, opts.workers, report)
        return _collect_processes(jobs, processes, opts.workers, report)


def _over_limit(text: str, limit: int) -> str | None:
    """Why a pulled config is refused for its size (UTF-8 bytes over sanitize.max_config_bytes), or None."""
    if len(text) * 4 <= limit:  # no UTF-8 character is longer than 4 bytes: no need to encode
        return None
    size = len(text) if len(text) > limit else len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    return (
        f"config is {size:,} bytes or more, over the limit of {limit:,} (sanitize.max_config_bytes in "
        "cfgwatch.yaml); the last good snapshot is kept"
    )


def _head(store: SnapshotStore) -> str | None:
    """The store's HEAD commit, or None before its first run."""
    try:
        return store.resolve("HEAD")
    except InputError:
        return None


def _last_good_sizes(store: SnapshotStore, head: str | None, outcomes: Sequence[DeviceOutcome]) -> dict[str, int]:
    """Device -> byte size of its text at `head` (all the size check needs; one `git ls-tree`, no text read)."""
    names = [o.name for o in outcomes if o.failure is None and o.text is not None]
    if head is None or not names:
        return {}
    return store.sizes(names, head)


def pull(
    store: SnapshotStore,
    devices: Sequence[Device],
    *,
    key: bytes,
    options: PullOptions | None = None,
    allow_shrink: bool = False,
    events: Events = NO_EVENTS,
    started: datetime | None = None,
    copies: Path | None = None,
) -> PullResult:
    """Collect, check, sanitize and store one run (one commit, none when nothing changed).

    `copies`: a folder (in the state directory) for store.copies, so unchanged texts are compared by
    bytes with trusted copies instead of being hashed; None hashes every text.
    """
    opts = options or PullOptions()
    started = started or datetime.now(UTC)
    events.stage_started("pull", len(devices))
    outcomes = collect(devices, opts, events=events)
    events.stage_finished("pull")
    collectors = sorted({o.collector for o in outcomes}) or ["netmiko"]
    snapshots: list[DeviceSnapshot] = []
    failures: list[DeviceFailure] = []
    final: list[DeviceOutcome] = []
    last_good = _last_good_sizes(store, _head(store), outcomes)
    for outcome in outcomes:
        if outcome.failure is not None or outcome.text is None:
            assert outcome.failure is not None
            failures.append(outcome.failure)
            final.append(outcome)
            continue
        too_big = _over_limit(outcome.text, opts.max_config_bytes)
        if too_big is not None:  # refused before sanitize (which needs several times the text's size)
            failure = DeviceFailure(outcome.name, "incomplete", too_big)
            failures.append(failure)
            final.append(DeviceOutcome(outcome.name, outcome.platform, outcome.collector, failure,
                                       outcome.attempts, outcome.seconds))  # fmt: skip
            continue
        clean = sanitize(outcome.text, outcome.platform, key)
        size = check_size(clean.text, last_good.get(outcome.name), min_ratio=0 if allow_shrink else opts.min_size_ratio)
        if not size.ok:
            failure = DeviceFailure(outcome.name, str(size.reason), size.detail)
            failures.append(failure)
            final.append(DeviceOutcome(outcome.name, outcome.platform, outcome.collector, failure,
                                       outcome.attempts, outcome.seconds))  # fmt: skip
            continue
        snapshots.append(DeviceSnapshot(outcome.name, outcome.platform, clean.text, clean.metadata))
        final.append(
            DeviceOutcome(outcome.name, outcome.platform, outcome.collector, None, outcome.attempts, outcome.seconds)
        )
    stored = StoredCopies(copies, key) if copies is not None else None
    run = store.write_run(snapshots, failures, collector="+".join(collectors), started=started, copies=stored)
    return PullResult(run, tuple(final))
