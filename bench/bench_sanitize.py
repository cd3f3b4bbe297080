#!/usr/bin/env python3
"""Sanitizer speed: one 50k-line config built from real corpus files, and a pull's mix of 200 lab configs.

Every run is a new interpreter that imports one tree and times only its own work (cold: the tables a
pull derives once per run are counted once per run); the cases alternate (A B C A B C ...) so they see
the same machine load. Baselines measured in the same run:
  split/join      - just splitting and joining the lines (the floor for any one-pass tool)
  netutils        - netutils sanitize_config + clean_config with netutils' own example filters
  REV             - cfgwatch as it was at a git revision (--before, default 55b718c; `git archive`);
                    the output must be identical (sha256 of every sanitized text)
GOAL (issue 19 goal 8, the sanitizer's share of a pull): 200 lab configs (every lab platform, as a pull
sanitizes them) take no more CPU than at REV.

    .venv/bin/python bench/bench_sanitize.py [LINES] [--runs 7] [--before GIT-REV]
    .venv/bin/python bench/bench_sanitize.py --quick       # 20k lines, 3 runs (< 60 s)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, median_cpu, package_at

from cfgwatch.lab.state import DEFAULT_FIXTURES, load_fixture_devices

ROOT = REPO / "fixtures" / "sanitize"
KEY = b"bench-key-0123456789abcdef012345"
BEFORE = "55b718c"


def corpus_text(lines: int) -> str:
    parts = [p.read_text(errors="replace") for p in sorted((ROOT / "configs").rglob("*")) if p.is_file()]
    parts += [p.read_text() for p in sorted((ROOT / "canary").glob("*.txt"))]
    source = "\n".join(parts).replace("{c7}", "0822455D0A16").replace("{c9}", "$9$abc").replace("{c}", "Secret1")
    source_lines = source.replace("{hex}", "ab12").split("\n")
    out: list[str] = []
    while len(out) < lines:
        out.extend(source_lines)
    return "\n".join(out[:lines]) + "\n"


def lab_configs(count: int) -> list[tuple[str, str]]:
    """(text, platform) of `count` lab devices, cycling through the lab's fixture platforms as a lab does."""
    base = [
        ((DEFAULT_FIXTURES / f"{name}.cfg").read_text(), platform) for name, platform in load_fixture_devices().items()
    ]
    return [base[i % len(base)] for i in range(count)]


CHILD = """
import hashlib, json, sys, time
kind, path = sys.argv[1], sys.argv[2]
cases = json.loads(open(path, encoding="utf-8").read())
key = b"bench-key-0123456789abcdef012345"
if kind == "sanitize":
    from cfgwatch.sanitize import sanitize
    run = lambda: [sanitize(text, platform, key).text for text, platform in cases]
elif kind == "netutils":
    from netutils.config.clean import clean_config, sanitize_config
    from netutils.constants import _PROVIDED_SANITIZE_FILTERS as FILTERS
    CLEAN = [{"regex": r"^Current\\s+configuration.*\\n"}, {"regex": r"^Building\\s+configuration.*\\n"},
             {"regex": r"^ntp\\s+clock-period.*\\n"}]
    run = lambda: [clean_config(sanitize_config(text, FILTERS), CLEAN) for text, _ in cases]
else:
    run = lambda: ["\\n".join(text.split("\\n")) for text, _ in cases]
cpu0, wall0 = time.process_time(), time.perf_counter()
out = run()
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu": cpu, "wall": wall, "digest": hashlib.sha256("\\0".join(out).encode()).hexdigest()}))
"""


def run_child(kind: str, tree: Path, cases: Path) -> tuple[Sample, str]:
    """One cold run (a new interpreter importing cfgwatch from `tree`): its own CPU/wall around the work."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(cases)], env=env, cwd=tree, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"bench child failed ({tree}):\n{done.stderr[-3000:]}")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return Sample(cpu=float(got["cpu"]), wall=float(got["wall"])), str(got["digest"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lines", nargs="?", type=int, default=50_000, help="config lines (default 50000)")
    parser.add_argument("--devices", type=int, default=200, help="lab configs in the pull mix (default 200)")
    parser.add_argument("--before", metavar="GIT-REV", default=BEFORE, help=f"compare with (default {BEFORE})")
    parser.add_argument("--quick", action="store_true", help="20k lines, 3 runs")
    add_common_args(parser, runs=7)
    args = parser.parse_args()
    if args.quick:
        args.lines, args.runs = min(args.lines, 20_000), 3
    recorder = Recorder("sanitize", args.json)
    before = f"before {args.before}"
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        old = package_at(args.before, tmp / "before")
        text = corpus_text(args.lines)
        jobs = (
            (f"sanitize {args.lines // 1000}k lines (cisco_ios)", [(text, "cisco_ios")], True),
            (f"sanitize {args.lines // 1000}k lines (platform None: all rules)", [(text, None)], False),
            (f"sanitize {args.devices} lab configs (pull mix)", lab_configs(args.devices), False),
        )
        for number, (title, cases, baselines) in enumerate(jobs):
            path = tmp / f"cases-{number}.json"
            path.write_text(json.dumps(cases), encoding="utf-8")
            kinds = {"split/join": ("split", REPO), "netutils": ("netutils", REPO)} if baselines else {}
            kinds |= {before: ("sanitize", old), "checkout": ("sanitize", REPO)}
            samples: dict[str, list[Sample]] = {name: [] for name in kinds}
            digests: dict[str, set[str]] = {name: set() for name in kinds}
            for _ in range(args.runs):
                for name, (kind, tree) in kinds.items():
                    sample, digest = run_child(kind, tree, path)
                    samples[name].append(sample)
                    digests[name].add(digest)
            ratio = recorder.compare(title, samples, baseline=before, subject="checkout")
            if digests[before] != digests["checkout"]:
                raise SystemExit(f"{title}: output differs from {args.before}")
            print("  output identical to", args.before)
            if number == len(jobs) - 1:
                cpu_new, cpu_old = median_cpu(samples["checkout"]), median_cpu(samples[before])
                per_new, per_old = round(1000 * cpu_new / len(cases), 3), round(1000 * cpu_old / len(cases), 3)
                recorder.goal(f"{title}, CPU per config", per_new, per_old, "ms CPU", baseline=before, ratio=ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
