"""Benchmark: pull N lab devices (mixed platforms) through Nornir vs a sequential netmiko loop, same run.

    .venv/bin/python bench/bench_pull.py [--devices 200] [--rounds 3] [--workers 100] [--processes 1,2]
    .venv/bin/python bench/bench_pull.py --quick      # 80 devices, 2 rounds, sequential loop over 24

The lab runs as a separate process (its own GIL), serving every device on 127.0.0.1. For each
`--processes` value (0 = the runner's automatic choice, 1 = one process, N = N worker processes) each
round is a full pull into a fresh snapshot repo, sanitize and commit included. Prints per round the
devices/second, the CPU seconds of the collector side (this process, its worker processes and git
children) and of the lab server, and at the end the median rate per setting, the sequential netmiko
loop's rate over the same devices (or an evenly mixed sample of them with --sequential N), the ratio,
and peak memory: the largest sum of RSS over this process and its worker processes (sampled every
250 ms, cheap enough not to slow the pull; shared pages count once per process, so this overstates)
and the lab's own peak. The machine's load average is printed too: on a shared machine other work
competes for the same cores.
Targets: >= 20 devices/s, >= 10x sequential, < 500 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from netmiko import ConnectHandler

from cfgwatch.collect.netmiko import config_command, needs_enable
from cfgwatch.collect.runner import processes_for, pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.inventory import Device, load_inventory
from cfgwatch.lab import LabState, start_lab_process, stop_lab_process
from cfgwatch.store import SnapshotStore

KEY = b"bench-key-0123456789abcdef012345"
TICK = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 0 is the state), or None once gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _descendants(root: int, skip: int) -> list[int]:
    """Live descendants of `root`, leaving out `skip` and everything under it (the lab)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            parent[int(entry)] = int(fields[1])
    found: list[int] = []
    todo = [root]
    while todo:
        cur = todo.pop()
        kids = [pid for pid, ppid in parent.items() if ppid == cur and pid != skip]
        found.extend(kids)
        todo.extend(kids)
    return found


def _cpu_of(pid: int, *, with_children: bool) -> float:
    """utime+stime (and the reaped children's, for a live parent such as the forkserver) in seconds."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _collector_cpu(lab_pid: int) -> float:
    """CPU seconds of this process, its reaped children (git) and its live non-lab descendants."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    return total + sum(_cpu_of(pid, with_children=True) for pid in _descendants(os.getpid(), lab_pid))


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):
        return 0.0


class MemorySampler:
    """Peak of (RSS of this process + RSS of its non-lab descendants), sampled in a background thread."""

    def __init__(self, lab_pid: int, interval: float = 0.25) -> None:
        self.lab_pid = lab_pid
        self.interval = interval
        self.peak = 0.0
        self.lab_peak = 0.0
        self.label = 0  # the setting being measured; peaks are kept per label too
        self.peak_by: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            pids = [os.getpid(), *_descendants(os.getpid(), self.lab_pid)]
            total = sum(_rss_mb(pid) for pid in pids)
            self.peak = max(self.peak, total)
            self.peak_by[self.label] = max(self.peak_by.get(self.label, 0.0), total)
            self.lab_peak = max(self.lab_peak, _rss_mb(self.lab_pid))

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def sequential_loop(devices: list[Device], state: LabState) -> tuple[int, float]:
    """The baseline: one plain netmiko session after another, as a script would do it. (ok count, seconds)."""
    creds = state.credentials()
    t0 = time.perf_counter()
    ok = 0
    for dev in devices:
        conn = ConnectHandler(
            device_type=dev.platform, host=dev.hostname, port=dev.port, username=creds.username,
            password=creds.password, secret=creds.secret, ssh_strict=True, system_host_keys=False,
            alt_host_keys=True, alt_key_file=str(state.known_hosts_path), fast_cli=True,
        )  # fmt: skip
        if needs_enable(dev.platform):
            conn.enable()
        ok += bool(str(conn.send_command(config_command(dev.platform))).strip())
        conn.disconnect()
    return ok, time.perf_counter() - t0


def _mixed_sample(devices: list[Device], count: int) -> list[Device]:
    """`count` devices spread evenly over the list (the lab cycles platforms, so the mix is kept)."""
    if count >= len(devices):
        return devices
    step = len(devices) / count
    return [devices[int(i * step)] for i in range(count)]


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=100, help="SSH sessions at once, over all processes")
    ap.add_argument("--processes", default="1,2", help="comma list of process counts to compare (0 = auto)")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--sequential", type=int, default=0, help="devices in the sequential loop (0 = all)")
    ap.add_argument("--quick", action="store_true", help="80 devices, 2 rounds, sequential loop over 24")
    args = ap.parse_args()
    if args.quick:
        args.devices, args.rounds, args.sequential = 80, 2, args.sequential or 24
    settings = [int(p) for p in args.processes.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="cfgwatch-bench-"))
    state = LabState.create(tmp / "lab", devices=args.devices)
    lab = start_lab_process(state.root)
    lab_pid = lab.process.pid
    rates: dict[int, list[float]] = {p: [] for p in settings}
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    try:
        os.environ.update(state.credentials().env())
        state.write_known_hosts()
        inventory = load_inventory(state.write_inventory(tmp / "inventory"))
        devices = list(inventory.hosts.values())
        with MemorySampler(lab_pid) as memory:
            for i in range(args.rounds):
                for procs in settings:
                    options = PullOptions(
                        workers=args.workers, processes=procs, timeout=args.timeout, retries=1, backoff=0.5
                    )
                    store = SnapshotStore.init(tmp / f"snapshots-{procs}-{i}")
                    memory.label = procs
                    cpu0, lab0 = _collector_cpu(lab_pid), _cpu_of(lab_pid, with_children=False)
                    t0 = time.perf_counter()
                    result = pull(store, devices, key=KEY, options=options)
                    elapsed = time.perf_counter() - t0
                    cpu, lab_cpu = _collector_cpu(lab_pid) - cpu0, _cpu_of(lab_pid, with_children=False) - lab0
                    failed = len(result.run.failed)
                    rates[procs].append(len(devices) / elapsed)
                    used = processes_for(len(devices), procs)
                    print(
                        f"round {i + 1} processes={procs} ({used} used): {len(devices)} devices in {elapsed:.1f}s"
                        f" = {rates[procs][-1]:.1f} dev/s, {failed} failed;"
                        f" CPU collector {cpu:.1f}s, lab server {lab_cpu:.1f}s"
                    )
                    if failed:
                        print("  failures:", [(f.name, f.reason, f.detail) for f in result.run.failed][:5])
            sample = _mixed_sample(devices, args.sequential or len(devices))
            memory.label = -1
            lab0 = _cpu_of(lab_pid, with_children=False)
            ok, seq_elapsed = sequential_loop(sample, state)
            seq_lab = _cpu_of(lab_pid, with_children=False) - lab0
    finally:
        stop_lab_process(lab)

    seq_rate = len(sample) / seq_elapsed
    print(
        f"sequential netmiko loop: {ok}/{len(sample)} devices in {seq_elapsed:.1f}s = {seq_rate:.2f} dev/s"
        f" (lab server CPU {seq_lab:.1f}s)"
    )
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    for procs in settings:
        median = statistics.median(rates[procs])
        label = f"processes={procs}" + (" (auto)" if procs == 0 else "")
        print(
            f"median pull rate {label:22} {median:5.1f} devices/s  = {median / seq_rate:5.1f}x sequential,"
            f" peak {memory.peak_by.get(procs, 0.0):.0f} MB"
        )
    print("targets: >= 20 devices/s, >= 10x sequential, < 500 MB")
    print(f"peak memory: {memory.peak:.0f} MB collector (this process + worker processes, summed RSS)")
    print(f"             {memory.lab_peak:.0f} MB lab server process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
