"""CLI start-up cost: `cfgwatch --help` in a fresh process, this checkout against another revision.

Each run is a new interpreter (no warm caches inside Python); `python -c pass` and the two trees alternate
(A B C A B C ...) so all see the same machine load. Prints CPU seconds (user + system of the child) medians,
the ratio, the cost above a bare interpreter (goal: within 0.15 s of `python -c pass`) and the load.

    .venv/bin/python bench/bench_startup.py --against HEAD~1 --runs 15
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEUTRAL = tempfile.mkdtemp(prefix="cfgwatch-startup-cwd-")
HELP = "import sys; sys.argv = ['cfgwatch', '--help']; from cfgwatch.cli import main; main()"


def child_cpu(tree: Path | None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `cfgwatch --help` importing cfgwatch from `tree` (None: `pass`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(tree or ""), "COLUMNS": "100"}
    # cwd: an empty folder; `python -c` puts the cwd first on sys.path, ahead of PYTHONPATH
    code = HELP if tree else "pass"
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True, cwd=NEUTRAL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    parser.add_argument("--runs", type=int, default=15, help="runs per tree (default 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cfgwatch-startup-") as tmp:
        base = Path(tmp)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", args.against, "cfgwatch"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        figures: dict[str, list[tuple[float, float]]] = {"python -c pass": [], "baseline": [], "checkout": []}
        for _ in range(args.runs):
            figures["python -c pass"].append(child_cpu(None))
            figures["baseline"].append(child_cpu(base))
            figures["checkout"].append(child_cpu(REPO))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.runs} runs each, alternating")
    medians = {}
    for name, runs in figures.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        medians[name] = cpu
        label = {"baseline": args.against, "checkout": "checkout"}.get(name, name)
        what = "" if name == "python -c pass" else "cfgwatch --help"
        print(f"{label:>14}: {what:<15}  CPU {cpu:.3f} s  wall {wall:.3f} s (medians)")
    print(f"ratio checkout / {args.against} (CPU): {medians['checkout'] / medians['baseline']:.2f}")
    bare = medians["python -c pass"]
    above = medians["checkout"] - bare
    print(f"checkout above python -c pass: {above:.3f} s CPU (goal <= 0.150: {'met' if above <= 0.15 else 'missed'}); "
          f"{args.against}: {medians['baseline'] - bare:.3f} s")


if __name__ == "__main__":
    main()
