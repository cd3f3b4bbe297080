"""Shared measuring rules for every bench script, so their figures can be compared and trusted.

Why one module: on a shared 2-core machine absolute times swing with the load, so a figure only means
something next to a baseline measured in the same run, in alternation (A B A B ...), with the same caches
cleared before each run. Every script prints the load average, CPU seconds (user + system, children
included) and wall seconds as medians, the ratio to its baseline, and a GOAL line per target. With
`--json FILE` (or CFGWATCH_BENCH_JSON) each record is also appended as one JSON line;
scripts/bench_table.py turns those lines into the README's benchmark table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JSON_ENV = "CFGWATCH_BENCH_JSON"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured run: CPU seconds (this process and its children) and wall seconds."""

    cpu: float
    wall: float


def clear_caches() -> int:
    """Empty every functools cache in the loaded cfgwatch modules; returns how many were cleared.

    Parsers memoise tokens (addresses, ports); without this a repeated parse of the same text measures
    dictionary look-ups, not parsing.
    """
    cleared = 0
    for name, module in list(sys.modules.items()):
        if not name.startswith("cfgwatch") or module is None:
            continue
        for value in list(vars(module).values()):
            cache_clear = getattr(value, "cache_clear", None)
            if callable(cache_clear) and getattr(value, "__module__", None) == name:
                cache_clear()
                cleared += 1
    return cleared


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(action: Callable[[], object], *, clear: bool = True) -> Sample:
    """Run `action` once after clearing caches and collecting garbage; CPU includes child processes."""
    if clear:
        clear_caches()
    gc.collect()
    cpu_before = _cpu_now()
    wall_before = time.perf_counter()
    action()
    return Sample(cpu=_cpu_now() - cpu_before, wall=time.perf_counter() - wall_before)


def interleave(
    cases: Mapping[str, Callable[[], object]], runs: int, *, clear: bool = True, warmup: int = 1
) -> dict[str, list[Sample]]:
    """Run the cases in alternation (A B A B ...) so all see the same load; warm-up rounds are dropped."""
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    for round_number in range(warmup + runs):
        for name, action in cases.items():
            sample = measure(action, clear=clear)
            if round_number >= warmup:
                samples[name].append(sample)
    return samples


def fresh_process(code: str, *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> Sample:
    """Run `python -c code` in a new interpreter (nothing warm inside Python) and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=dict(env or os.environ), cwd=cwd, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(cpu=cpu, wall=wall)


def package_at(revision: str, into: Path) -> Path:
    """cfgwatch/ as it was at `revision`, extracted under `into` (for PYTHONPATH=into in a fresh process):
    the before/after benches compare with an older revision measured in the same run."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "cfgwatch"], capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def median_cpu(samples: list[Sample]) -> float:
    return statistics.median(sample.cpu for sample in samples)


def median_wall(samples: list[Sample]) -> float:
    return statistics.median(sample.wall for sample in samples)


def add_common_args(parser: argparse.ArgumentParser, *, runs: int = 5) -> None:
    """--runs and --json, the same on every script."""
    parser.add_argument("--runs", type=int, default=runs, help=f"measured rounds per case (default {runs})")
    parser.add_argument("--json", metavar="FILE", help=f"append one JSON line per record (also ${JSON_ENV})")


def _without_json(arguments: list[str]) -> list[str]:
    """The command line to print beside a figure: `--json FILE` says where records went, not what ran."""
    kept: list[str] = []
    skip_next = False
    for argument in arguments:
        if skip_next:
            skip_next = False
        elif argument == "--json":
            skip_next = True
        elif not argument.startswith("--json="):
            kept.append(argument)
    return kept


class Recorder:
    """Prints one bench's figures and, when asked, appends them as JSON lines for the README table."""

    def __init__(self, bench: str, json_path: str | None = None) -> None:
        self.bench = bench
        self.json_path = json_path or os.environ.get(JSON_ENV) or None
        self.command = " ".join([Path(sys.argv[0]).as_posix().split(str(REPO) + "/")[-1], *_without_json(sys.argv[1:])])
        one, five, fifteen = load_average()
        print(f"[{bench}] load average {one:.2f} {five:.2f} {fifteen:.2f}; {os.cpu_count()} cores")

    def _write(self, record: dict[str, object]) -> None:
        if not self.json_path:
            return
        record = {"bench": self.bench, "command": self.command, "load": round(load_average()[0], 2), **record}
        with open(self.json_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def compare(
        self, title: str, samples: Mapping[str, list[Sample]], *, baseline: str, subject: str | None = None
    ) -> float:
        """Print medians of every case and the CPU ratio subject / baseline; returns the ratio."""
        subject = subject or next(name for name in samples if name != baseline)
        runs = len(samples[subject])
        print(f"{title} ({runs} runs each, alternating; medians)")
        for name, case_samples in samples.items():
            marker = "  (baseline)" if name == baseline else ""
            cpu, wall = median_cpu(case_samples), median_wall(case_samples)
            print(f"  {name:<40} CPU {cpu:9.4f} s  wall {wall:9.4f} s{marker}")
        base_cpu = median_cpu(samples[baseline])
        ratio = median_cpu(samples[subject]) / base_cpu if base_cpu > 0 else float("inf")
        print(f"  ratio {subject} / {baseline} (CPU): {ratio:.2f}")
        self._write(
            {
                "kind": "compare",
                "title": title,
                "baseline": baseline,
                "subject": subject,
                "runs": runs,
                "ratio": round(ratio, 3),
                "cases": {
                    name: {"cpu": round(median_cpu(s), 4), "wall": round(median_wall(s), 4)}
                    for name, s in samples.items()
                },
            }
        )
        return ratio

    def goal(
        self,
        title: str,
        value: float,
        limit: float,
        unit: str,
        *,
        higher_is_better: bool = False,
        baseline: str = "",
        ratio: float | None = None,
    ) -> bool:
        """Print `GOAL title: value unit (goal <= limit): met|missed` and record it."""
        met = value >= limit if higher_is_better else value <= limit
        sign = ">=" if higher_is_better else "<="
        extra = f"; {ratio:.2f}x {baseline}" if ratio is not None and baseline else ""
        print(f"GOAL {title}: {value:,.4g} {unit} (goal {sign} {limit:,.4g}){extra}: {'met' if met else 'MISSED'}")
        self._write(
            {
                "kind": "goal",
                "title": title,
                "value": value,
                "limit": limit,
                "unit": unit,
                "higher_is_better": higher_is_better,
                "met": met,
                "baseline": baseline,
                "ratio": None if ratio is None else round(ratio, 3),
            }
        )
        return met
