"""Benchmark: pull N lab devices (mixed platforms) through Nornir vs a sequential netmiko loop, same run.

    .venv/bin/python bench/bench_pull.py [--devices 200] [--rounds 3] [--workers 100]

The lab runs as a separate process (its own GIL), serving every device on 127.0.0.1. Prints the median
devices/second of the Nornir pull over the rounds (each round a full pull into a fresh snapshot repo,
sanitize and commit included), the sequential netmiko loop's devices/second over the same devices,
their ratio, and peak memory (max RSS) of this process. Targets: >= 20 devices/s, >= 10x sequential,
< 500 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from netmiko import ConnectHandler

from cfgwatch.collect.netmiko import NEEDS_ENABLE, config_command
from cfgwatch.collect.runner import pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.inventory import load_inventory
from cfgwatch.lab import LabState, start_lab_process, stop_lab_process
from cfgwatch.store import SnapshotStore

KEY = b"bench-key-0123456789abcdef012345"


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cfgwatch-bench-"))
    state = LabState.create(tmp / "lab", devices=args.devices)
    lab = start_lab_process(state.root)
    try:
        os.environ.update(state.credentials().env())
        state.write_known_hosts()
        inventory = load_inventory(state.write_inventory(tmp / "inventory"))
        devices = list(inventory.hosts.values())
        options = PullOptions(workers=args.workers, timeout=args.timeout, retries=1, backoff=0.5)

        rates = []
        for i in range(args.rounds):
            store = SnapshotStore.init(tmp / f"snapshots-{i}")
            t0 = time.perf_counter()
            result = pull(store, devices, key=KEY, options=options)
            elapsed = time.perf_counter() - t0
            failed = len(result.run.failed)
            rates.append(len(devices) / elapsed)
            print(f"round {i + 1}: {len(devices)} devices in {elapsed:.1f}s = {rates[-1]:.1f} dev/s, {failed} failed")
            if failed:
                print("  failures:", [(f.name, f.reason, f.detail) for f in result.run.failed][:5])

        creds = state.credentials()
        t0 = time.perf_counter()
        ok = 0
        for dev in devices:
            conn = ConnectHandler(
                device_type=dev.platform, host=dev.hostname, port=dev.port, username=creds.username,
                password=creds.password, secret=creds.secret, ssh_strict=True, system_host_keys=False,
                alt_host_keys=True, alt_key_file=str(state.known_hosts_path), fast_cli=True,
            )  # fmt: skip
            if dev.platform in NEEDS_ENABLE:
                conn.enable()
            ok += bool(conn.send_command(config_command(dev.platform)).strip())
            conn.disconnect()
        seq_elapsed = time.perf_counter() - t0
        seq_rate = len(devices) / seq_elapsed
        print(f"sequential netmiko loop: {ok}/{len(devices)} devices in {seq_elapsed:.1f}s = {seq_rate:.2f} dev/s")
    finally:
        stop_lab_process(lab)

    median = statistics.median(rates)
    peak = _max_rss_mb()
    lab_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print()
    print(f"median pull rate:  {median:.1f} devices/s   (target >= 20)")
    print(f"vs sequential:     {median / seq_rate:.1f}x              (target >= 10x)")
    print(f"peak memory:       {peak:.0f} MB collector process   (target < 500 MB)")
    print(f"                   {lab_peak:.0f} MB largest child process (lab or git)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
