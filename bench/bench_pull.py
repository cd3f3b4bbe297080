"""Pull N lab devices through cfgwatch (this checkout and a previous revision) vs a sequential netmiko loop.

    .venv/bin/python bench/bench_pull.py                  # 200 devices, 3 runs, sequential loop over 40
    .venv/bin/python bench/bench_pull.py --quick          # 200 devices, 1 run, sequential loop over 5 (< 60 s)
    .venv/bin/python bench/bench_pull.py --against 55b718c --runs 5 --sequential 0

The lab (real SSH on 127.0.0.1, every platform mixed) runs in its own process for the whole bench.
Every measured run is a new interpreter (python -c) that imports cfgwatch from one tree: this checkout,
or `--against REV` extracted with `git archive` (default 55b718c, the revision before issue 19 goal 8).
The cases alternate (sequential, REV, checkout, sequential, ...) so they see the same machine load.
A pull goes into a copy of a snapshot repo already holding every device (the steady state of an
hourly pull: last good snapshots are read, nothing new is committed), sanitize and store included.

Each child measures itself around the call only (imports excluded): wall seconds, and CPU seconds of
its own process, everything it reaped (git) and its live descendants (the forkserver, with the worker
processes it reaped): the collector's CPU, never the lab's, which is another process. Peak memory:
the child's peak RSS (ru_maxrss) plus its largest reaped child's (git), or the largest sum of RSS over
the child and its live descendants (worker processes; sampled every 250 ms) if that is more.
GOAL lines (issue 19 goal 8): >= 20 devices/s, >= 10x the sequential loop, collector CPU per device
<= half of REV's, peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, median_cpu, package_at

from cfgwatch.inventory import Device, load_inventory
from cfgwatch.lab import LabState, start_lab_process, stop_lab_process
from cfgwatch.store import SnapshotStore

AGAINST = "55b718c"
GOAL_RATE = 20.0
GOAL_SPEEDUP = 10.0
GOAL_MEMORY_MB = 500.0
SEQ = "sequential netmiko"

# One pull in a fresh interpreter: argv = inventory dir, store dir, workers, processes. Prints one JSON line.
PULL_CHILD = """
import json, os, resource, sys, threading, time
from pathlib import Path
from cfgwatch.collect.runner import pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.inventory import load_inventory
from cfgwatch.store import SnapshotStore

inventory, store_dir, workers, processes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
devices = list(load_inventory(Path(inventory)).hosts.values())
store = SnapshotStore(Path(store_dir))
options = PullOptions(workers=workers, processes=processes, timeout=60.0, retries=1, backoff=0.5)

TICK = os.sysconf("SC_CLK_TCK")

def live_descendants():  # CPU s of live descendants (the forkserver) and of what they reaped (workers)
    parent, stat = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry)], stat[int(entry)] = int(fields[1]), fields
    total, todo = 0.0, [os.getpid()]
    while todo:
        cur = todo.pop()
        for pid, ppid in parent.items():
            if ppid == cur:
                todo.append(pid)
                total += sum(int(stat[pid][i]) for i in (11, 12, 13, 14)) / TICK
    return total

def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

def rss_tree():  # MB of RSS summed over this process and its live descendants
    total = 0
    for pid in [os.getpid(), *descendants()]:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            pass
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20

def descendants():
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [os.getpid()]
    while todo:
        kids = [pid for pid, ppid in parent.items() if ppid == todo.pop()]
        found += kids
        todo += kids
    return found

peak, done = [0.0], threading.Event()
def sample():
    while not done.wait(0.25):
        peak[0] = max(peak[0], rss_tree())
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
cpu0, wall0 = cpu(), time.perf_counter()
result = pull(store, devices, key=b"bench-key-0123456789abcdef012345", options=options)
wall, used = time.perf_counter() - wall0, cpu() - cpu0 + live_descendants()
done.set()
sampler.join()
own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
peak_mb = max(peak[0], (own.ru_maxrss + kids.ru_maxrss) / 1024)
failed = [(f.name, f.reason, f.detail) for f in result.run.failed]
print(json.dumps({"devices": len(devices), "wall": wall, "cpu": used, "failed": failed,
                  "peak_mb": peak_mb}))
"""

# The baseline: one plain netmiko session after another, as a script would do it. argv = lab state, JSON devices.
SEQUENTIAL_CHILD = """
import json, resource, sys, time
from pathlib import Path
from netmiko import ConnectHandler
from cfgwatch.collect.netmiko import config_command, needs_enable
from cfgwatch.lab import LabState

state = LabState(Path(sys.argv[1]))
creds = state.credentials()
devices = json.loads(sys.argv[2])

def cpu():
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime

cpu0, wall0, ok = cpu(), time.perf_counter(), 0
for platform, host, port in devices:
    conn = ConnectHandler(
        device_type=platform, host=host, port=port, username=creds.username, password=creds.password,
        secret=creds.secret, ssh_strict=True, system_host_keys=False, alt_host_keys=True,
        alt_key_file=str(state.known_hosts_path), fast_cli=True,
    )
    if needs_enable(platform):
        conn.enable()
    ok += bool(str(conn.send_command(config_command(platform))).strip())
    conn.disconnect()
print(json.dumps({"devices": len(devices), "ok": ok, "wall": time.perf_counter() - wall0, "cpu": cpu() - cpu0}))
"""


def run_child(code: str, tree: Path, *args: str) -> dict[str, Any]:
    """`python -c code args` importing cfgwatch from `tree`; its JSON line."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=tree, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench child failed ({tree}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def mixed_sample(devices: list[Device], count: int) -> list[Device]:
    """`count` devices spread evenly over the list (the lab cycles platforms, so the mix is kept)."""
    if count <= 0 or count >= len(devices):
        return devices
    step = len(devices) / count
    return [devices[int(i * step)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200, help="lab devices (default 200)")
    parser.add_argument("--workers", type=int, default=100, help="SSH sessions at once (pull.workers, default 100)")
    parser.add_argument("--processes", type=int, default=0, help="pull.processes (default 0 = automatic)")
    parser.add_argument("--sequential", type=int, default=40, help="devices in the sequential loop (0 = all)")
    parser.add_argument("--against", default=AGAINST, help=f"git revision to compare with (default {AGAINST})")
    parser.add_argument("--quick", action="store_true", help="1 run, sequential loop over 5 devices (< 60 s)")
    add_common_args(parser, runs=3)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.sequential = 1, 5
    recorder = Recorder("pull", args.json)
    tmp = Path(tempfile.mkdtemp(prefix="cfgwatch-bench-pull-"))
    trees = {args.against: package_at(args.against, tmp / "previous"), "checkout": REPO}
    state = LabState.create(tmp / "lab", devices=args.devices)
    lab = start_lab_process(state.root)
    try:
        os.environ.update(state.credentials().env())
        state.write_known_hosts()
        inventory_dir = state.write_inventory(tmp / "inventory")
        devices = list(load_inventory(inventory_dir).hosts.values())
        sample = mixed_sample(devices, args.sequential)
        sequential_args = json.dumps([[d.platform, d.hostname, d.port] for d in sample])
        pull_args = (str(inventory_dir), str(args.workers), str(args.processes))
        seeded = tmp / "seeded"  # every device's snapshot at HEAD, as after an earlier pull
        SnapshotStore.init(seeded)
        first = run_child(PULL_CHILD, REPO, pull_args[0], str(seeded), *pull_args[1:])
        if first["failed"]:
            raise SystemExit(f"seeding pull failed for some devices: {first['failed']}")
        samples: dict[str, list[Sample]] = {"sequential netmiko": [], args.against: [], "checkout": []}
        memory: dict[str, float] = {}
        for run in range(args.runs):
            report = run_child(SEQUENTIAL_CHILD, REPO, str(state.root), sequential_args)
            samples["sequential netmiko"].append(Sample(cpu=float(report["cpu"]), wall=float(report["wall"])))
            for name, tree in trees.items():
                store = tmp / f"store-{len(memory)}-{run}-{name}"
                shutil.copytree(seeded, store)
                got = run_child(PULL_CHILD, tree, pull_args[0], str(store), *pull_args[1:])
                shutil.rmtree(store)
                if got["failed"]:
                    raise SystemExit(f"{name}: pull failed for some devices: {got['failed']}")
                wall, cpu = float(got["wall"]), float(got["cpu"])
                samples[name].append(Sample(cpu=cpu, wall=wall))
                rss = float(got["peak_mb"])
                memory[name] = max(memory.get(name, 0.0), rss)
                print(
                    f"run {run + 1} {name:<10} {len(devices)} devices in {wall:5.2f} s = {len(devices) / wall:5.1f}"
                    f" devices/s, collector CPU {cpu:5.2f} s ({1000 * cpu / len(devices):.1f} ms/device),"
                    f" peak {rss:.0f} MB",
                    flush=True,
                )
            seq = samples["sequential netmiko"][-1]
            print(f"run {run + 1} sequential netmiko: {len(sample)} devices in {seq.wall:.1f} s")
    finally:
        stop_lab_process(lab)
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(devices)
    # per-device figures, so the sequential loop over a sample compares with the pulls over every device
    per_device = {
        "sequential netmiko": [Sample(s.cpu / len(sample), s.wall / len(sample)) for s in samples[SEQ]],
        args.against: [Sample(s.cpu / n, s.wall / n) for s in samples[args.against]],
        "checkout": [Sample(s.cpu / n, s.wall / n) for s in samples["checkout"]],
    }
    recorder.compare(f"pull, per device ({n} lab devices; sequential over {len(sample)})", per_device,
                     baseline=args.against, subject="checkout")  # fmt: skip
    rate = {name: 1 / statistics.median(s.wall for s in runs) for name, runs in per_device.items()}
    for name, value in rate.items():
        print(f"  {name:<40} {value:7.2f} devices/s")
    cpu_old, cpu_new = median_cpu(per_device[args.against]), median_cpu(per_device["checkout"])
    new_rate = rate["checkout"]
    recorder.goal(f"pull {n} lab devices", round(new_rate, 2), GOAL_RATE, "devices/s",
                  higher_is_better=True, baseline=args.against, ratio=new_rate / rate[args.against])  # fmt: skip
    speedup = rate["checkout"] / rate["sequential netmiko"]
    recorder.goal("pull speed-up over sequential", round(speedup, 2), GOAL_SPEEDUP, "x",
                  higher_is_better=True, baseline="sequential netmiko", ratio=speedup)  # fmt: skip
    recorder.goal("collector CPU per device", round(1000 * cpu_new, 2), round(1000 * cpu_old / 2, 2),
                  "ms CPU", baseline=args.against, ratio=cpu_new / cpu_old)  # fmt: skip
    recorder.goal("pull peak memory", round(memory["checkout"], 1), GOAL_MEMORY_MB, "MB",
                  baseline=args.against, ratio=memory["checkout"] / memory[args.against])  # fmt: skip


if __name__ == "__main__":
    main()
