#!/usr/bin/env python3
"""Benchmark of the rule-level diff (issue 19 goal 4; issues 7 and 20 item 6).

1. Two versions of an IOS ACL of 10,000 and of 50,000 entries differing in 10 entries spread over the
   list: rule diff + classification CPU (parsing excluded, reported apart), alternating with a baseline
   that compares the two rule lists as plain sets (what a diff without identity, pairing or first-match
   judgement costs). Goals: 10,000 entries <= 0.2 s CPU, 50,000 entries <= 1 s.
2. With --against REV: the same diffs in fresh processes, this checkout alternating with REV (via
   git archive): the before/after figures of a change.
3. With --eos-against REV (issue 20 item 6, e.g. 0418c7e, whose diff took ~30 s here): deleting 14
   entries of the 107-entry EOS ACL, fresh processes, this checkout alternating with REV.
4. With --estate N: an estate of N devices with 50 changed, `diff_range` end to end (git tree diff, read,
   parse, diff, classify) alternating with `git diff --stat` of the same two runs.

Every run starts with cleared functools caches and a collection (bench/_harness.py).

    .venv/bin/python bench/bench_diff.py --quick
    .venv/bin/python bench/bench_diff.py --runs 7 --against main --eos-against 0418c7e --estate 5000
"""

from __future__ import annotations

import argparse
import inspect
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, interleave, measure, median_cpu, package_at

from cfgwatch.audit import diff_range
from cfgwatch.classify.categories import classify_changes
from cfgwatch.classify.networks import Networks
from cfgwatch.config import load_config
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.model import RuleSet
from cfgwatch.store import DeviceSnapshot, SnapshotStore
from cfgwatch.vendors.registry import get_parser

GOALS = {10_000: ("diff 10,000-entry ACL, 10 changed", 0.2), 50_000: ("diff 50,000 entries", 1.0)}
CHANGED = 10


def acl_text(entries: int, changed: set[int]) -> str:
    """An IOS extended ACL of `entries` permits; the `changed` ones open port 3128 to one outside host."""
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


def changed_entries(entries: int) -> set[int]:
    """CHANGED entries spread evenly over the list, so no prefix or suffix holds them all."""
    return set(range(5, entries, entries // CHANGED))


def plain_set_diff(before: RuleSet, after: RuleSet) -> tuple[list[object], list[object]]:
    """Baseline: the entries only in one version, by value (no identity keys, pairing or packet space)."""
    old, new = set(before.filters), set(after.filters)
    return [rule for rule in before.filters if rule not in new], [rule for rule in after.filters if rule not in old]


def bench_acl(recorder: Recorder, entries: int, runs: int) -> None:
    parser = get_parser("cisco_ios")
    before_text, after_text = acl_text(entries, set()), acl_text(entries, changed_entries(entries))
    parsed: list[RuleSet] = []
    parsing = measure(lambda: parsed.extend((parser.parse(before_text), parser.parse(after_text))))
    before, after = parsed
    networks = Networks.default()

    def rule_diff() -> object:
        return classify_changes(diff_rulesets(before, after, device="bench"), networks)

    changes = classify_changes(diff_rulesets(before, after, device="bench"), networks)
    found = sorted(change.key for change in changes)
    if len(changes) != CHANGED:
        raise SystemExit(f"expected {CHANGED} changes in the {entries}-entry ACL, found {len(changes)}: {found[:3]}")
    samples = interleave({"plain set comparison": lambda: plain_set_diff(before, after), "cfgwatch": rule_diff}, runs)
    title = f"{entries:,}-entry ACL, {CHANGED} entries changed: rule diff + classify (parsing excluded)"
    ratio = recorder.compare(title, samples, baseline="plain set comparison", subject="cfgwatch")
    print(f"  parsing both versions (apart, once): CPU {parsing.cpu:.3f} s")
    goal_title, limit = GOALS[entries]
    recorder.goal(goal_title, median_cpu(samples["cfgwatch"]), limit, "s CPU", baseline="set comparison", ratio=ratio)


# run in a fresh interpreter against either tree: only APIs every revision has
ACL_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from bench_diff_acl import acl_text
from cfgwatch.classify.categories import classify_changes
from cfgwatch.classify.networks import Networks
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.vendors.registry import get_parser
assert Path(sys.modules["cfgwatch"].__file__).parent.parent == Path(sys.argv[1])
entries = int(sys.argv[2])
changed = set(range(5, entries, entries // int(sys.argv[3])))
parser = get_parser("cisco_ios")
before, after = parser.parse(acl_text(entries, set())), parser.parse(acl_text(entries, changed))
networks = Networks.default()
began, wall = time.process_time(), time.perf_counter()
changes = classify_changes(diff_rulesets(before, after, device="bench"), networks)
print(time.process_time() - began, time.perf_counter() - wall, len(changes), sum(1 for c in changes if not c.exact))
"""

EOS_CONFIG = REPO / "fixtures" / "configs" / "arista_eos" / "example-filters-current_rtr-with-acl.cfg"
EOS_DELETED = ("30", "500", "540", "560", "580", "620", "640", "720", "740", "800", "1740", "1760", "2020", "2060")
EOS_CHILD = """
import sys, time
from pathlib import Path
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.vendors.registry import get_parser
assert Path(sys.modules["cfgwatch"].__file__).parent.parent == Path(sys.argv[1])
text = Path(sys.argv[2]).read_text(encoding="utf-8")
deleted = set(sys.argv[3].split(","))
kept = [line for line in text.splitlines() if not (line.startswith("  ") and line.split()[0] in deleted)]
parser = get_parser("arista_eos")
before, after = parser.parse(text), parser.parse("\\n".join(kept) + "\\n")
began, wall = time.process_time(), time.perf_counter()
changes = diff_rulesets(before, after, device="bench")
print(time.process_time() - began, time.perf_counter() - wall, len(changes), sum(1 for c in changes if not c.exact))
"""


def child(tree: Path, code: str, *args: str) -> tuple[Sample, int, int]:
    """(diff CPU and wall seconds, changes, inexact changes) of `code` importing cfgwatch from `tree`."""
    # -S: no site, so the editable install's import hook (which wins over PYTHONPATH) is not loaded and
    # `cfgwatch` really comes from `tree`; the third-party packages come from this environment's site-packages
    site_packages = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), site_packages])}
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, str(tree), *args],
        env=env,
        cwd=tree,  # `-c` puts the working directory first on sys.path
        capture_output=True,
        check=False,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"diff child failed under {tree}:\n{done.stderr}")
    cpu, wall, changes, inexact = done.stdout.split()
    return Sample(cpu=float(cpu), wall=float(wall)), int(changes), int(inexact)


def alternate_children(
    recorder: Recorder, title: str, against: str, base: Path, runs: int, run: Callable[[Path], tuple[Sample, int, int]]
) -> float:
    """Fresh processes, `against` and this checkout alternating; prints medians, ratio and change counts."""
    samples: dict[str, list[Sample]] = {against: [], "checkout": []}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(runs):
        for name, tree in ((against, base), ("checkout", REPO)):
            sample, changes, inexact = run(tree)
            samples[name].append(sample)
            counts[name] = (changes, inexact)
    ratio = recorder.compare(title, samples, baseline=against, subject="checkout")
    for name, (changes, inexact) in counts.items():
        print(f"  {name}: {changes} changes, {inexact} past the budget")
    return ratio


def bench_against(recorder: Recorder, against: str, base: Path, sizes: list[int], runs: int) -> None:
    # the children build the same ACL text as this script, which `against` may not have
    helper = base.parent / "acl-text"
    helper.mkdir(exist_ok=True)
    source = "from __future__ import annotations\n\n" + inspect.getsource(acl_text)
    (helper / "bench_diff_acl.py").write_text(source, encoding="utf-8")
    for entries in sizes:
        alternate_children(
            recorder,
            f"{entries:,}-entry ACL, {CHANGED} changed, diff + classify CPU in fresh processes",
            against,
            base,
            runs,
            lambda tree, n=entries: child(tree, ACL_CHILD, str(n), str(CHANGED), str(helper)),
        )


def bench_eos(recorder: Recorder, against: str, base: Path, runs: int) -> None:
    alternate_children(
        recorder,
        "EOS acl_in (107 entries), 14 entries deleted: diff CPU in fresh processes",
        against,
        base,
        runs,
        lambda tree: child(tree, EOS_CHILD, str(EOS_CONFIG), ",".join(EOS_DELETED)),
    )


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


def bench_estate(recorder: Recorder, devices: int, runs: int) -> None:
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
        git_stat = ["git", "--git-dir", str(store.git_dir), "diff", "--stat", "HEAD~1", "HEAD"]
        samples = interleave(
            {
                "git diff --stat": lambda: subprocess.run(git_stat, check=True, capture_output=True),
                "diff_range (API)": lambda: diff_range(store, config),
            },
            runs,
        )
        result = diff_range(store, config)
        title = f"estate of {devices} devices, {len(changed)} changed ({len(result.changes)} changes)"
        recorder.compare(title, samples, baseline="git diff --stat", subject="diff_range (API)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser, runs=5)
    parser.add_argument("--quick", action="store_true", help="3 runs of the two ACL goals only (< 60 s)")
    parser.add_argument("--sizes", default="10000,50000", help="ACL sizes, comma-separated (default 10000,50000)")
    parser.add_argument("--against", help="also diff the ACLs in fresh processes under this git revision")
    parser.add_argument("--eos-against", help="also the EOS case against this revision (e.g. 0418c7e)")
    parser.add_argument("--eos-runs", type=int, default=3, help="fresh processes per tree for the EOS case")
    parser.add_argument("--estate", type=int, default=0, metavar="DEVICES", help="also the estate diff (e.g. 5000)")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    sizes = [int(size) for size in args.sizes.split(",") if size]
    unknown = [size for size in sizes if size not in GOALS]
    if unknown:
        parser.error(f"--sizes: goals exist for {', '.join(map(str, GOALS))} only, not {unknown}")
    recorder = Recorder("diff", args.json)
    for entries in sizes:
        bench_acl(recorder, entries, runs)
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-diff-") as tmp:
        if args.against and not args.quick:
            bench_against(recorder, args.against, package_at(args.against, Path(tmp) / "against"), sizes, runs)
        if args.eos_against and not args.quick:
            bench_eos(recorder, args.eos_against, package_at(args.eos_against, Path(tmp) / "eos"), args.eos_runs)
    if args.estate and not args.quick:
        bench_estate(recorder, args.estate, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
