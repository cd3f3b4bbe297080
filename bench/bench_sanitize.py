#!/usr/bin/env python3
"""Sanitizer speed on a 50k-line config built from real corpus files (all platforms' fixtures repeated).

Prints medians (ms) and ratios against baselines measured in the same run:
  split/join      - just splitting and joining the lines (the floor for any one-pass tool)
  netutils        - netutils sanitize_config + clean_config with netutils' own example filters
  before (opt.)   - cfgwatch/sanitize as it was at a git revision, loaded side by side, and whether
                    it writes the same text
Usage: .venv/bin/python bench/bench_sanitize.py [LINES] [REPEATS] [--before GIT-REV]
  e.g. --before a8b803e (the per-line engine before the whole-text prefilter)
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

from netutils.config.clean import clean_config, sanitize_config
from netutils.constants import _PROVIDED_SANITIZE_FILTERS

from cfgwatch.sanitize import sanitize

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "fixtures" / "sanitize"
CLEAN_FILTERS = [
    {"regex": r"^Current\s+configuration.*\n"},
    {"regex": r"^Building\s+configuration.*\n"},
    {"regex": r"^ntp\s+clock-period.*\n"},
]


def corpus_text(lines: int) -> str:
    parts = [p.read_text(errors="replace") for p in sorted((ROOT / "configs").rglob("*")) if p.is_file()]
    parts += [p.read_text() for p in sorted((ROOT / "canary").glob("*.txt"))]
    source = "\n".join(parts).replace("{c7}", "0822455D0A16").replace("{c9}", "$9$abc").replace("{c}", "Secret1")
    source_lines = source.replace("{hex}", "ab12").split("\n")
    out: list[str] = []
    while len(out) < lines:
        out.extend(source_lines)
    return "\n".join(out[:lines]) + "\n"


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    return medians([fn], repeats)[0][0]


def medians(fns: list[Callable[[], object]], repeats: int) -> list[tuple[float, float]]:
    """(wall, CPU) median ms of each fn, the fns taking turns so load swings hit them alike."""
    wall: list[list[float]] = [[] for _ in fns]
    cpu: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn()  # warm-up: lazy imports (netutils.password), first-call caches
    for _ in range(repeats):
        for n, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[n].append((time.process_time() - start_cpu) * 1000)
            wall[n].append((time.perf_counter() - start) * 1000)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu, strict=True)]


def load_before(rev: str, into: Path) -> ModuleType:
    """cfgwatch/sanitize at git revision rev, importable next to the current one (as sanitize_before)."""
    names = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", rev, "cfgwatch/sanitize/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    package = into / "sanitize_before"
    package.mkdir()
    for name in names:
        if name.endswith(".py"):
            source = subprocess.run(
                ["git", "-C", str(REPO), "show", f"{rev}:{name}"], capture_output=True, text=True, check=True
            ).stdout
            (package / Path(name).name).write_text(source.replace("cfgwatch.sanitize", "sanitize_before"))
    sys.path.insert(0, str(into))
    return importlib.import_module("sanitize_before.engine")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lines", nargs="?", type=int, default=50_000, help="config lines (default 50000)")
    parser.add_argument("repeats", nargs="?", type=int, default=7, help="runs per case (default 7)")
    parser.add_argument("--before", metavar="GIT-REV", help="also time cfgwatch/sanitize at this revision")
    args = parser.parse_args()
    before_rev, lines, repeats = args.before, args.lines, args.repeats
    text = corpus_text(lines)
    key = b"bench-key-0123456789abcdef012345"
    floor = median_ms(lambda: "\n".join(text.split("\n")), repeats)
    cases: list[tuple[str, str | bytes, str | None]] = [
        ("sanitize(platform=cisco_ios)", text, "cisco_ios"),
        ("sanitize(platform=None: all rules)", text, None),
        ("sanitize(bytes, juniper_junos)", text.encode(), "juniper_junos"),
    ]
    timed = medians(
        [lambda: clean_config(sanitize_config(text, _PROVIDED_SANITIZE_FILTERS), CLEAN_FILTERS)]
        + [partial(sanitize, raw, p, key) for _, raw, p in cases],
        repeats,
    )
    (netutils, netutils_cpu), rows = timed[0], timed[1:]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{lines} lines, {len(text) / 1e6:.1f} MB, median of {repeats} (wall ms; cpu = this process's CPU ms); "
        f"load average {load}"
    )
    print(f"  baseline split/join: {floor:8.1f} ms")
    print(f"  baseline netutils (5 regex filters, no fingerprints): {netutils:8.1f} ms (cpu {netutils_cpu:6.1f})")
    for (name, _, _), (ms, cpu) in zip(cases, rows, strict=True):
        print(
            f"  {name:<36} {ms:8.1f} ms (cpu {cpu:6.1f})  x{ms / floor:6.1f} split/join"
            f"  x{ms / netutils:5.1f} netutils (cpu x{cpu / netutils_cpu:4.1f})"
        )
    if before_rev is not None:
        with tempfile.TemporaryDirectory() as tmp:
            old = load_before(before_rev, Path(tmp))
            print(f"  before = cfgwatch/sanitize at {before_rev}, same input, same run, calls taking turns:")
            for name, raw, p in cases:
                (old_ms, old_cpu), (ms, cpu) = medians(
                    [partial(old.sanitize, raw, p, key), partial(sanitize, raw, p, key)], repeats
                )
                same = old.sanitize(raw, p, key).text == sanitize(raw, p, key).text
                print(
                    f"  {name:<36} before {old_ms:7.1f} ms (cpu {old_cpu:7.1f})  now {ms:6.1f} ms (cpu {cpu:6.1f})"
                    f"  x{old_ms / ms:5.1f} faster  output {'identical' if same else 'DIFFERENT'}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
