"""History lookups on a long snapshot history (issue 2), with and without git's commit-graph, alternating.

    .venv/bin/python bench/bench_history.py [--devices 5000] [--commits 37000] [--runs 5] [--quick]

Builds a snapshot repo shaped like cfgwatch's own (configs/<device>, meta/<device>.json, one commit per
run with the real message and trailers) with 5,000 devices and 37,000 run commits (Oxidized users report
30-40 s per history lookup at that size). The commits come from ONE `git fast-import` stream; each run
changes a few devices: one "hot" device changes every 10th run, one "rare" device 3 times in all, the
rest at random. Then it times, as medians:

- SnapshotStore.history() of 8 rarely changed devices (median and worst: git's Bloom filters are small
  for runs that change few files, so the false-positive rate, and with it the time, depends on the
  device name) and of the hot device (all ~3,700 revisions, and limit=20),
- runs(limit=20), changed_devices() between two runs 30,000 commits apart,
- `cfgwatch log --device RARE` end to end (a fresh process, as a user would run it),

with git's commit-graph + changed-path Bloom filters (what upkeep maintains), and as baselines measured in
the same run on the same repo, alternating (A B C A B C, graph files swapped in by rename before each
call, cfgwatch caches cleared, one warm-up round): a commit-graph without Bloom filters, and no
commit-graph at all. CPU seconds (git children included) and wall medians, ratio to "no graph", load.
It also times a few real runs on the big repo (write_run + its upkeep) and reports the repo size per
1,000 runs, before and after a full `upkeep(full=True)` (git gc) unless --no-gc. No issue-19 goal is
measured here (the lookup target, 1 s at 37,000 runs, is issue 2's and is printed as a ratio).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import Recorder, Sample, add_common_args, measure, median_cpu

from cfgwatch.store import DeviceSnapshot, SnapshotStore
from cfgwatch.store.message import format_message
from cfgwatch.store.meta import encode_meta

T0 = datetime(2022, 1, 1, tzinfo=UTC)
HOT = "dev00000"
RARE = [f"dev{n:05d}" for n in range(1, 9)]  # changed 3 times each in the whole history
TARGET = 1.0  # seconds: a history lookup must stay well under this at 37k commits


def device_text(name: str, version: int, lines: int) -> bytes:
    body = [f"hostname {name}", f"! version {version}"]
    body.extend(
        f"ip access-list extended ACL-{k}\n permit tcp 10.{k % 250}.0.0 0.0.255.255 any eq {k}"
        for k in range(lines // 2)
    )
    body.append(f"ntp server 192.0.2.{version % 250}")
    return ("\n".join(body) + "\n").encode()


def plan(devices: int, commits: int, changes: int, seed: int) -> list[list[str]]:
    """Which devices each run after the first changes: HOT every 10th run, each RARE device at 3 runs, others random."""
    rng = random.Random(seed)
    others = [f"dev{n:05d}" for n in range(1 + len(RARE), devices)]
    rare_runs: dict[int, str] = {}
    for k, name in enumerate(RARE):
        for at in (commits // 10, commits // 2, commits - commits // 20):
            rare_runs[at + k] = name
    runs = []
    for run in range(1, commits):
        names = set(rng.sample(others, changes))
        if run % 10 == 0:
            names.add(HOT)
        if run in rare_runs:
            names.add(rare_runs[run])
        runs.append(sorted(names))
    return runs


def fast_import_stream(devices: int, runs: list[list[str]], lines: int) -> Iterator[bytes]:
    """The whole history as one fast-import stream: first run adds every device, then one commit per run."""
    names = [f"dev{n:05d}" for n in range(devices)]
    versions = dict.fromkeys(names, 0)
    meta = encode_meta("cisco_ios", None)

    def commit(run: int, changed: list[str], added: list[str]) -> bytes:
        started = T0 + timedelta(minutes=10 * run)
        msg = format_message(collector="bench", run_id=f"{started:%Y%m%dT%H%M%SZ}-{run:06x}", started=started,
                             changed=changed, added=added, unchanged_count=devices - len(changed) - len(added),
                             failed=()).encode()  # fmt: skip
        stamp = int(started.timestamp())
        ident = b"cfgwatch <cfgwatch@localhost> %d +0000\n" % stamp
        out = [
            b"commit refs/heads/main\n",
            b"author " + ident,
            b"committer " + ident,
            b"data %d\n%s\n" % (len(msg), msg),
        ]
        for name in changed or added:
            text = device_text(name, versions[name], lines)
            out.append(b"M 100644 inline configs/%s\ndata %d\n%s\n" % (name.encode(), len(text), text))
            if added:
                out.append(b"M 100644 inline meta/%s.json\ndata %d\n%s\n" % (name.encode(), len(meta), meta))
        out.append(b"\n")
        return b"".join(out)

    yield commit(0, [], names)
    for run, changed in enumerate(runs, start=1):
        for name in changed:
            versions[name] = run
        yield commit(run, changed, [])
    yield b"done\n"


def build(repo: Path, devices: int, commits: int, changes: int, lines: int) -> float:
    store = SnapshotStore.init(repo)
    started = time.perf_counter()
    proc = subprocess.Popen(["git", "--git-dir", str(store.git_dir), "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE)  # fmt: skip
    assert proc.stdin is not None
    for chunk in fast_import_stream(devices, plan(devices, commits, changes, seed=1), lines):
        proc.stdin.write(chunk)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    return time.perf_counter() - started


def alternate(modes: dict[str, Callable[[], None]], action: Callable[[], object], runs: int) -> dict[str, list[Sample]]:
    """A B C A B C: switch to each mode (not measured), then measure `action`; one warm-up round dropped."""
    samples: dict[str, list[Sample]] = {mode: [] for mode in modes}
    for round_number in range(1 + runs):
        for mode, switch in modes.items():
            switch()
            sample = measure(action)
            if round_number:
                samples[mode].append(sample)
    return samples


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--commits", type=int, default=37000)
    parser.add_argument("--changes", type=int, default=3, help="random devices changed per run")
    parser.add_argument("--lines", type=int, default=60, help="config lines per device")
    parser.add_argument("--writes", type=int, default=10, help="real write_run calls timed on the big repo")
    parser.add_argument("--no-gc", action="store_true", help="skip the full upkeep (git gc) at the end")
    parser.add_argument("--keep", type=Path, help="build the repo here and keep it (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="reuse the repo in --keep made by an earlier run")
    parser.add_argument(
        "--quick", action="store_true", help="500 devices, 2,000 commits, 2 runs, 3 writes, no gc, no CLI lookup"
    )
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.commits, args.runs, args.writes, args.no_gc = 500, 2000, 2, 3, True
    recorder = Recorder("history", args.json)

    work = args.keep or Path(tempfile.mkdtemp(prefix="cfgwatch-bench-history-"))
    repo = work / "snapshots"
    try:
        if repo.exists() and not args.reuse:
            shutil.rmtree(repo)
        repo.parent.mkdir(parents=True, exist_ok=True)
        build_s = 0.0 if repo.exists() else build(repo, args.devices, args.commits, args.changes, args.lines)
        store = SnapshotStore(repo)
        count = int(subprocess.run(["git", "--git-dir", str(repo), "rev-list", "--count", "HEAD"],
                                   capture_output=True, text=True, check=True).stdout)  # fmt: skip
        size_built = du(repo / "objects")
        per_1000 = size_built / count * 1000 / 1e6
        print(f"{args.devices} devices, {count} run commits: fast-import {build_s:.1f} s, "
              f"{size_built / 1e6:.1f} MB ({per_1000:.2f} MB per 1,000 runs as imported)")  # fmt: skip
        first = store.upkeep()
        print(f"first upkeep (commit-graph with Bloom filters for all {count} commits): {first.seconds:.1f} s, "
              f"{first.graph_layers} layer(s), bloom={first.bloom_filters}")  # fmt: skip
        (work / "cfgwatch.yaml").write_text(f"snapshots: {repo}\nstate_dir: {work / 'state'}\n", encoding="utf-8")

        runs = store.runs()
        far_a, far_b = runs[-1000 if len(runs) > 1000 else -2].commit, runs[-31000 if len(runs) > 31000 else 1].commit
        cli = [str(Path(sys.executable).parent / "cfgwatch"), "--config", str(work / "cfgwatch.yaml")]

        def log_device() -> int:
            out = subprocess.run([*cli, "log", "--device", RARE[1]], capture_output=True, text=True, check=True).stdout
            return len(out.splitlines()) - 1

        lookups: dict[str, Callable[[], object]] = {
            "history(rare) 8 devices": lambda: [len(store.history(name)) for name in RARE],
            f"history({HOT}) hot": lambda: len(store.history(HOT)),
            f"history({HOT}, limit=20)": lambda: len(store.history(HOT, limit=20)),
            "runs(limit=20)": lambda: len(store.runs(limit=20)),
            "changed_devices(far apart)": lambda: len(store.changed_devices(far_a, far_b)),
        }
        if not args.quick:  # a fresh process per call: mostly start-up, which bench_startup measures
            lookups["cfgwatch log --device (CLI)"] = log_device
        modes = _graph_modes(repo, work / "graphs")
        worst = 0.0
        for label, action in lookups.items():
            answers = []
            for switch in modes.values():
                switch()
                answers.append(action())
            same = "same" if all(answer == answers[0] for answer in answers) else f"DIFFER {answers}"
            samples = alternate(modes, action, args.runs)
            recorder.compare(f"{label}: {answers[0]} ({same})", samples, baseline="no graph", subject="graph+bloom")
            if label.startswith("history"):
                worst = max(worst, median_cpu(samples["graph+bloom"]) / (len(RARE) if "rare" in label else 1))
        modes["graph+bloom"]()
        print(f"slowest history lookup (per device) {worst:.3f} s CPU vs target {TARGET:.1f} s: {worst / TARGET:.2f}x")

        versions = dict.fromkeys((f"dev{n:05d}" for n in range(args.devices)), 0)  # what HEAD holds
        for run, changed in enumerate(plan(args.devices, args.commits, args.changes, seed=1), start=1):
            versions.update(dict.fromkeys(changed, run))
        texts = {name: device_text(name, v, args.lines).decode() for name, v in versions.items()}
        run_s, upkeep_s, repack_s, graph_s = [], [], [], []
        size_before = du(repo / "objects")
        for k in range(args.writes):
            for n in range(10 + 3 * k, 13 + 3 * k):
                texts[f"dev{n:05d}"] += f"! bench run {k}\n"
            t = time.perf_counter()
            result = store.write_run((DeviceSnapshot(n, "cisco_ios", x) for n, x in texts.items()),
                                     collector="bench", started=datetime.now(UTC))  # fmt: skip
            run_s.append(time.perf_counter() - t)
            assert result.commit is not None and store.last_upkeep is not None
            assert len(result.changed) == 3, f"expected 3 changed devices, got {len(result.changed)}"
            upkeep_s.append(store.last_upkeep.seconds)
            repack_s.append(store.last_upkeep.repack_seconds)
            graph_s.append(store.last_upkeep.graph_seconds)
        up = store.last_upkeep
        assert up is not None
        grown = du(repo / "objects") - size_before
        print(f"\n{args.writes} real runs on the big repo (all {args.devices} devices compared, 3 changed), medians: "
              f"write_run {statistics.median(run_s):.2f} s, of which upkeep {statistics.median(upkeep_s):.3f} s "
              f"(repack+gc --auto {statistics.median(repack_s):.3f} s, commit-graph layer "
              f"{statistics.median(graph_s):.3f} s, max upkeep {max(upkeep_s):.3f} s); "
              f"{up.packs} packs, {up.graph_layers} graph layers, bloom={up.bloom_filters}; "
              f"{grown / args.writes / 1e3:.1f} kB per run before a full gc")  # fmt: skip
        if not args.no_gc:
            full = store.upkeep(full=True)
            total = count + args.writes
            print(f"full upkeep (git gc + one commit-graph): {full.seconds:.1f} s -> {full.size_bytes / 1e6:.1f} MB, "
                  f"{full.size_bytes / total * 1000 / 1e6:.2f} MB per 1,000 runs")  # fmt: skip
            t = time.perf_counter()
            n = len(store.history(RARE[1]))
            print(f"history({RARE[1]}) after full gc: {time.perf_counter() - t:.3f} s ({n} revisions)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _graph_modes(repo: Path, aside: Path) -> dict[str, Callable[[], None]]:
    """Switches between three commit-graph states of `repo`, kept side by side and swapped in by rename.

    graph+bloom: what upkeep wrote; graph only: one graph without changed paths; no graph: none at all.
    """
    info = repo / "objects" / "info"
    parts = ("commit-graph", "commit-graphs")
    for mode in ("graph+bloom", "graph only"):
        (aside / mode).mkdir(parents=True, exist_ok=True)
        if mode == "graph only":
            subprocess.run(["git", "--git-dir", str(repo), "commit-graph", "write", "--reachable",
                            "--no-changed-paths", "--no-progress"], check=True)  # fmt: skip
        for part in parts:
            if (info / part).exists():
                os.rename(info / part, aside / mode / part)
    current: list[str] = []

    def switch(mode: str) -> None:
        if current:
            for part in parts:
                if (info / part).exists():
                    os.rename(info / part, aside / current[0] / part)
            current.clear()
        if mode != "no graph":
            for part in parts:
                if (aside / mode / part).exists():
                    os.rename(aside / mode / part, info / part)
            current.append(mode)

    return {mode: (lambda m=mode: switch(m)) for mode in ("graph+bloom", "graph only", "no graph")}


if __name__ == "__main__":
    main()
