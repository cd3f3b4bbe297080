"""The measuring loop of bench_parse_junos_panos.py and bench_parse_misc.py (issue 19 goal 3).

Why shared: both scripts time parsers of generated configs the same way, and a figure is only comparable
with the other scripts' when it is taken the same way. Per form: a plain line scan of the same text
(split every line into words, the floor for any parser) and the parse alternate (A B A B) with every
cfgwatch cache cleared before each run (bench/_harness.py), so a parse never profits from an earlier
parse of the same text. Printed: CPU and wall medians, the ratio to the scan, one GOAL line per form
(`parse FORM 50k lines` <= 0.5 s CPU) and a growth line (5k/50k/200k lines, fastest of the runs;
per-line CPU must not rise: the parse is linear in the config's size) with its own GOAL line.
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise

from _harness import Recorder, Sample, add_common_args, clear_caches, interleave, median_cpu

LIMIT_SECONDS = 0.5  # CPU seconds per 50k lines, caches cleared (issue 19 goal 3)
GROWTH_LIMIT = 1.3  # largest rise of per-line CPU from one size to the next that still counts as linear
SIZE = 50_000
GROWTH_SIZES = (5_000, 50_000, 200_000)


@dataclass(frozen=True, slots=True)
class Form:
    """One config form: a generator (about `lines` lines, rule counts scaled with it) and its parser."""

    name: str
    generate: Callable[[int], str]
    parse: Callable[[str], object]


def line_scan(text: str) -> int:
    """Baseline: the cheapest pass any parser must make (split every line into words)."""
    return sum(len(line.split()) for line in text.split("\n"))


def add_args(parser: argparse.ArgumentParser, forms: Sequence[str]) -> None:
    add_common_args(parser, runs=7)
    parser.add_argument("--form", action="append", choices=list(forms), help="only these forms (repeatable)")
    parser.add_argument("--quick", action="store_true", help="5 runs at 50k, 2 per growth size (< 60 s)")
    parser.add_argument("--memory", action="store_true", help="also print the tracemalloc peak of one 50k parse")


def _lines(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _growth(recorder: Recorder, form: Form, runs: int, at_50k: list[Sample]) -> None:
    """Per-line CPU at 5k, 50k and 200k lines, measured in alternation; linear means it does not rise.

    The fastest run of each size counts: load only ever adds time, and a burst of load during one size's
    runs must not read as super-linear growth. So each size gets several runs: 5k (cheap) four per round,
    50k also the runs of the 50k measurement (same text, caches cleared alike), 200k one per round.
    """
    texts = {size: form.generate(size) for size in GROWTH_SIZES}
    small, middle, big = GROWTH_SIZES
    cases = {f"{small // 1000}k #{n}": partial(form.parse, texts[small]) for n in range(4)}
    cases |= {f"{size // 1000}k": partial(form.parse, texts[size]) for size in (middle, big)}
    samples = interleave(cases, runs, warmup=0)
    cpu: dict[int, list[float]] = {size: [] for size in GROWTH_SIZES}
    for name, taken in samples.items():
        cpu[int(name.split("k")[0]) * 1000].extend(sample.cpu for sample in taken)
    cpu[middle].extend(sample.cpu for sample in at_50k)
    best = {size: min(values) for size, values in cpu.items()}
    per_line = {size: best[size] / _lines(texts[size]) for size in GROWTH_SIZES}
    parts = ", ".join(
        f"{size // 1000}k {best[size]:.3f} s ({per_line[size] * 1e6:.2f} us/line)" for size in GROWTH_SIZES
    )
    rises = [per_line[upper] / per_line[lower] for lower, upper in pairwise(GROWTH_SIZES)]
    print(f"growth parse {form.name}: {parts}; per-line rise {' / '.join(f'{r:.2f}' for r in rises)}")
    recorder.goal(f"parse {form.name} 5k/50k/200k lines: per-line CPU rise", round(max(rises), 3), GROWTH_LIMIT, "x")


def _peak_mb(parse: Callable[[str], object], text: str) -> float:
    clear_caches()
    tracemalloc.start()
    parse(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def run(bench: str, forms: Sequence[Form], args: argparse.Namespace) -> int:
    """Measure every selected form; returns 0 (the GOAL lines carry the verdicts)."""
    recorder = Recorder(bench, args.json)
    runs = 5 if args.quick else args.runs  # 5: one run slowed by a loaded machine cannot move the median
    growth_runs = 2 if args.quick else 3
    for form in forms:
        if args.form and form.name not in args.form:
            continue
        text = form.generate(SIZE)
        lines = _lines(text)
        subject = f"parse {form.name}"
        samples = interleave({"line scan": partial(line_scan, text), subject: partial(form.parse, text)}, runs)
        ratio = recorder.compare(f"parse {form.name} ({lines} lines)", samples, baseline="line scan", subject=subject)
        per_50k = median_cpu(samples[subject]) * SIZE / lines
        recorder.goal(
            f"parse {form.name} 50k lines", round(per_50k, 4), LIMIT_SECONDS, "s CPU", baseline="line scan", ratio=ratio
        )
        if args.memory:
            print(f"  peak memory of one parse: {_peak_mb(form.parse, text):.1f} MB")
        _growth(recorder, form, growth_runs, samples[subject])  # same generated text as its 50k size
    return 0
