"""CLI start-up cost: `cfgwatch --help` and `--version` in a fresh process, this checkout against another revision.

Each run is a new interpreter (no warm caches inside Python); `python -c pass` and the two trees alternate
(A B C A B C ...) so all see the same machine load. Prints CPU seconds (user + system of the child) medians,
the ratio, the cost above a bare interpreter (goal: within 0.15 s of `python -c pass`) and the load.

    .venv/bin/python bench/bench_startup.py --against HEAD~1 --runs 15
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, fresh_process, median_cpu, package_at

NEUTRAL = tempfile.mkdtemp(prefix="cfgwatch-startup-cwd-")
GOAL_ABOVE_BARE = 0.15


def cli_code(argument: str) -> str:
    return f"import sys; sys.argv = ['cfgwatch', '{argument}']; from cfgwatch.cli import main; main()"


def run_cli(tree: Path | None, argument: str) -> Sample:
    """One `cfgwatch ARGUMENT` importing cfgwatch from `tree` (None: `python -c pass`)."""
    env = {**os.environ, "PYTHONPATH": str(tree or ""), "COLUMNS": "100"}
    # cwd: an empty folder; `python -c` puts the cwd first on sys.path, ahead of PYTHONPATH
    code = cli_code(argument) if tree else "pass"
    return fresh_process(code, env=env, cwd=NEUTRAL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    add_common_args(parser, runs=15)
    args = parser.parse_args()
    recorder = Recorder("startup", args.json)
    with tempfile.TemporaryDirectory(prefix="cfgwatch-startup-") as tmp:
        base = package_at(args.against, Path(tmp))
        for argument in ("--help", "--version"):
            samples: dict[str, list[Sample]] = {"python -c pass": [], args.against: [], "checkout": []}
            for _ in range(args.runs):
                samples["python -c pass"].append(run_cli(None, ""))
                samples[args.against].append(run_cli(base, argument))
                samples["checkout"].append(run_cli(REPO, argument))
            recorder.compare(f"cfgwatch {argument}", samples, baseline=args.against, subject="checkout")
            above = median_cpu(samples["checkout"]) - median_cpu(samples["python -c pass"])
            recorder.goal(
                f"start-up: cfgwatch {argument} above python -c pass",
                round(above, 4),
                GOAL_ABOVE_BARE,
                "s CPU",
            )


if __name__ == "__main__":
    main()
