#!/usr/bin/env python3
"""Sanitizer speed on a 50k-line config built from real corpus files (all platforms' fixtures repeated).

Prints medians (ms) and ratios against baselines measured in the same run:
  split/join      - just splitting and joining the lines (the floor for any one-pass tool)
  netutils        - netutils sanitize_config + clean_config with netutils' own example filters
Usage: .venv/bin/python bench/bench_sanitize.py [LINES] [REPEATS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from netutils.config.clean import clean_config, sanitize_config
from netutils.constants import _PROVIDED_SANITIZE_FILTERS

from cfgwatch.sanitize import sanitize

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "sanitize"
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
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    text = corpus_text(lines)
    key = b"bench-key-0123456789abcdef012345"
    floor = median_ms(lambda: "\n".join(text.split("\n")), repeats)
    netutils = median_ms(
        lambda: clean_config(sanitize_config(text, _PROVIDED_SANITIZE_FILTERS), CLEAN_FILTERS), repeats
    )
    rows = [
        ("sanitize(platform=cisco_ios)", median_ms(lambda: sanitize(text, "cisco_ios", key), repeats)),
        ("sanitize(platform=None: all rules)", median_ms(lambda: sanitize(text, None, key), repeats)),
        ("sanitize(bytes, juniper_junos)", median_ms(lambda: sanitize(text.encode(), "juniper_junos", key), repeats)),
    ]
    print(f"{lines} lines, {len(text) / 1e6:.1f} MB, median of {repeats}")
    print(f"  baseline split/join: {floor:8.1f} ms")
    print(f"  baseline netutils (5 regex filters, no fingerprints): {netutils:8.1f} ms")
    for name, ms in rows:
        print(f"  {name:<36} {ms:8.1f} ms  x{ms / floor:6.1f} split/join  x{ms / netutils:5.1f} netutils")
    return 0


if __name__ == "__main__":
    sys.exit(main())
