#!/usr/bin/env python3
"""Benchmark of the rule-level diff (issue 7).

1. Two versions of a 10,000-entry IOS ACL differing in 10 entries: rule diff + classification time
   (parsers excluded and reported apart), beside a plain text diff (difflib) of the same files.
2. An estate of N devices (default 5,000) with 50 changed in the last run: `diff_range` end to end
   (git tree diff, read, parse, diff, classify) and the `cfgwatch diff` command as a subprocess.

3. Issue 20 item 6: deleting 14 entries of the 107-entry EOS ACL (fixtures/configs/arista_eos/example-filters-
   current): rule diff time in fresh processes, this checkout alternating with another revision (--against),
   medians and the load average. `--eos-only` runs just this part.

Prints medians of --repeat runs and the targets: ACL diff <= 0.2 s, estate diff <= 10 s.
Usage: python bench/bench_diff.py [--devices 5000] [--repeat 5] [--against 0418c7e] [--eos-runs 3] [--eos-only]
"""

from __future__ import annotations

import argparse
import difflib
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cfgwatch.audit import diff_range
from cfgwatch.classify.categories import classify_changes
from cfgwatch.classify.networks import Networks
from cfgwatch.config import load_config
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.store import DeviceSnapshot, SnapshotStore
from cfgwatch.vendors.registry import get_parser


def acl_text(entries: int, changed: set[int]) -> str:
    lines = ["hostname bench", "ip access-list extended BIG"]
    for index in range(entries):
        third, fourth = divmod(index, 250)
        port = 1024 + index % 5000
        if index in changed:
            target = f"host 45.77.1.{index % 250} eq 3128"
            lines.append(f" {(index + 1) * 10} permit tcp 10.{third % 256}.{fourth}.0 0.0.0.255 {target}")
        else:
            lines.append(f" {(index + 1) * 10} permit tcp 10.{third % 256}.{fourth}.0 0.0.0.255 any eq {port}")
    lines += [" 999999 deny ip any any", "interface Gi0/0", " ip access-group BIG in", "end"]
    return "\n".join(lines) + "\n"


def median_of(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_acl(repeat: int) -> None:
    parser = get_parser("cisco_ios")
    before_text = acl_text(10_000, set())
    after_text = acl_text(10_000, set(range(5, 10_000, 1000)))
    networks = Networks.default()
    parse_time = median_of(repeat, lambda: (parser.parse(before_text), parser.parse(after_text)))
    before, after = parser.parse(before_text), parser.parse(after_text)
    changes = classify_changes(diff_rulesets(before, after, device="bench"), networks)
    diff_time = median_of(repeat, lambda: classify_changes(diff_rulesets(before, after, device="bench"), networks))
    text_time = median_of(
        repeat, lambda: list(difflib.unified_diff(before_text.splitlines(), after_text.splitlines(), lineterm=""))
    )
    print("10,000-entry ACL, 10 entries changed")
    print(f"  changes found:               {len(changes)}")
    verdict = "met" if diff_time <= 0.2 else "NOT met"
    print(f"  rule diff + classify median: {diff_time:.3f} s  (target <= 0.2 s: {verdict})")
    print(f"  parsing both versions:       {parse_time:.3f} s  (reported apart)")
    print(f"  baseline difflib text diff:  {text_time:.3f} s  -> rule diff / text diff = {diff_time / text_time:.1f}x")


def small_ios(index: int, variant: int) -> str:
    extra = f" 25 permit tcp 10.1.{index % 250}.0 0.0.0.255 host 45.77.2.{variant} eq 8080\n" if variant else ""
    return (
        f"hostname r{index}\n!\ninterface Gi0/0\n ip address 10.{index % 250}.0.1 255.255.255.0\n ip nat inside\n"
        f" ip access-group OUT in\n!\ninterface Gi0/1\n ip address 192.0.2.{index % 250} 255.255.255.0\n"
        " ip nat outside\n!\n"
        f"ip access-list extended OUT\n 10 permit tcp 10.{index % 250}.0.0 0.0.0.255 any eq 443\n{extra}"
        f" 30 deny ip any any\n!\nip nat inside source list 1 interface Gi0/1 overload\n"
        f"access-list 1 permit 10.{index % 250}.0.0 0.0.0.255\n"
        + "".join(f"interface Loopback{n}\n description filler {n}\n!\n" for n in range(60))
        + "end\n"
    )


def bench_estate(devices: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cfgwatch.yaml").write_text("snapshots: snapshots\n", encoding="utf-8")
        store = SnapshotStore.init(root / "snapshots")
        start = datetime(2026, 11, 1, tzinfo=UTC)
        store.write_run(
            (DeviceSnapshot(f"r{i}", "cisco_ios", small_ios(i, 0)) for i in range(devices)),
            collector="bench",
            started=start,
        )
        changed = set(range(0, devices, max(1, devices // 50)))
        store.write_run(
            (DeviceSnapshot(f"r{i}", "cisco_ios", small_ios(i, 7 if i in changed else 0)) for i in range(devices)),
            collector="bench",
            started=start + timedelta(hours=1),
        )
        config = load_config(root / "cfgwatch.yaml")
        api_time = median_of(repeat, lambda: diff_range(store, config))
        result = diff_range(store, config)
        cli_time = median_of(
            max(1, repeat // 2),
            lambda: subprocess.run(
                [sys.executable, "-m", "cfgwatch", "-c", str(root / "cfgwatch.yaml"), "diff", "--format", "json"],
                check=True,
                capture_output=True,
            ),
        )
        print(f"estate of {devices} devices, {len(changed)} changed in the last run")
        print(f"  devices compared:            {len(result.devices)}; changes: {len(result.changes)}")
        print(f"  diff_range (API) median:     {api_time:.2f} s")
        verdict = "met" if cli_time <= 10 else "NOT met"
        print(f"  `cfgwatch diff` median:      {cli_time:.2f} s  (target <= 10 s: {verdict})")


REPO = Path(__file__).resolve().parents[1]
EOS_CONFIG = REPO / "fixtures" / "configs" / "arista_eos" / "example-filters-current_rtr-with-acl.cfg"
EOS_DELETED = ("30", "500", "540", "560", "580", "620", "640", "720", "740", "800", "1740", "1760", "2020", "2060")
# run in a fresh interpreter against either tree: only APIs both revisions have (no budget argument)
EOS_CHILD = """
import sys, time
from pathlib import Path
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.vendors.registry import get_parser
assert Path(sys.modules["cfgwatch"].__file__).parent.parent == Path(sys.argv[3])
text = Path(sys.argv[1]).read_text(encoding="utf-8")
deleted = set(sys.argv[2].split(","))
kept = [line for line in text.splitlines() if not (line.startswith("  ") and line.split()[0] in deleted)]
parser = get_parser("arista_eos")
before, after = parser.parse(text), parser.parse("\\n".join(kept) + "\\n")
began = time.process_time()
changes = diff_rulesets(before, after, device="bench")
print(time.process_time() - began, len(changes), sum(1 for c in changes if not c.exact))
"""


def eos_child(tree: Path) -> tuple[float, int, int]:
    """(diff CPU seconds, changes, inexact changes) of the EOS 14-entry deletion importing cfgwatch from `tree`."""
    # -S: no site, so the editable install's import hook (which wins over PYTHONPATH) is not loaded and
    # `cfgwatch` really comes from `tree`; the third-party packages come from this environment's site-packages
    site_packages = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), site_packages])}
    done = subprocess.run(
        [sys.executable, "-S", "-c", EOS_CHILD, str(EOS_CONFIG), ",".join(EOS_DELETED), str(tree)],
        env=env,
        cwd=tree,  # `-c` puts the working directory first on sys.path
        capture_output=True,
        check=False,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"EOS diff child failed under {tree}:\n{done.stderr}")
    seconds, changes, inexact = done.stdout.split()
    return float(seconds), int(changes), int(inexact)


def bench_eos(against: str, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-diff-") as tmp:
        base = Path(tmp)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", against, "cfgwatch"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        figures: dict[str, list[tuple[float, int, int]]] = {"baseline": [], "checkout": []}
        for _ in range(runs):  # alternating, so both trees see the same machine load
            figures["baseline"].append(eos_child(base))
            figures["checkout"].append(eos_child(REPO))
    load = os.getloadavg()
    print(f"EOS acl_in (107 entries), 14 entries deleted; {runs} fresh processes each, alternating")
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    medians = {}
    for name, results in figures.items():
        medians[name] = statistics.median(result[0] for result in results)
        label = against if name == "baseline" else "checkout"
        changes, inexact = results[0][1], results[0][2]
        print(f"  {label:>10}: diff CPU median {medians[name]:.3f} s  ({changes} changes, {inexact} past the budget)")
    print(f"  speed-up {against} / checkout: {medians['baseline'] / medians['checkout']:.0f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", default="0418c7e", help="baseline revision for the EOS case")
    parser.add_argument("--eos-runs", type=int, default=3, help="fresh processes per tree for the EOS case")
    parser.add_argument("--eos-only", action="store_true")
    args = parser.parse_args()
    if not args.eos_only:
        bench_acl(args.repeat)
        bench_estate(args.devices, args.repeat)
    bench_eos(args.against, args.eos_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
