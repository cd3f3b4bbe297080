"""CLI start-up cost: `cfgwatch --help` and `--version` in a fresh process, this checkout against another revision.

Each run is a new interpreter (no warm caches inside Python); `python -c pass`, the two trees and typer's
floor alternate (A B C D A B C D ...) so all see the same machine load. Prints CPU seconds (user + system of
the child) medians, the ratio, the cost above a bare interpreter (goal: within 0.15 s of `python -c pass`)
and the load.

"typer floor" is the same screen from typer alone: an app with cfgwatch's settings, root options and
command table (names and one-line help) but no cfgwatch code, each command a no-op. It is what any typer
CLI with rich help pays for this output, so it bounds what changes inside cfgwatch can reach; it is not
a goal of its own. The script checks that its output is cfgwatch's, byte for byte.

Where `--help` goes (issue 19 goal 2 is missed; valgrind callgrind instructions above `python -c pass`,
PYTHONHASHSEED=0, 2026-12-03, typer 0.29.2, rich 15.0): import typer 171 M; rich.console 83 M more;
typer.rich_utils 243 M more, because it imports rich.markdown (markdown_it, 163 M alone) and rich.traceback
(rich.pretty, attrs; 135 M alone, shared parts overlap) at its top although help in "rich" markup mode uses
neither; building the app and drawing the screen 92 M. typer alone: 589 M; cfgwatch: 604 M (its own modules,
15 M, compiled from source; the bench now compiles both trees' bytecode first, as pip does on install). A
typer whose rich_utils imported those two modules where it uses them draws the same bytes for 391 M (-35%:
~0.11 s where 604 M take ~0.17 s); nothing inside cfgwatch can get there (no stubbing or patching typer).

    .venv/bin/python bench/bench_startup.py --against HEAD~1 --runs 15
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import typer.main

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, fresh_process, median_cpu, package_at

from cfgwatch import __version__
from cfgwatch.cli import app
from cfgwatch.cli.lazy import COMMANDS

NEUTRAL = tempfile.mkdtemp(prefix="cfgwatch-startup-cwd-")
GOAL_ABOVE_BARE = 0.15


def cli_code(argument: str) -> str:
    return f"import sys; sys.argv = ['cfgwatch', '{argument}']; from cfgwatch.cli import main; main()"


FLOOR = """
import sys
from typing import Annotated
import typer
app = typer.Typer(
    name="cfgwatch", help={help!r}, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=True,
    context_settings={{"help_option_names": ["-h", "--help"]}},
)
def _version(value: bool) -> None:
    if value:
        typer.echo({version!r})
        raise typer.Exit(0)
@app.callback()
def _global(
    config: Annotated[str | None, typer.Option("--config", "-c", help={config!r})] = None,
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help={flag!r})] = False,
) -> None:
    pass
for name, short in {commands!r}:
    app.command(name, help=short)(lambda: None)
sys.argv = ["cfgwatch", {argument!r}]
try:
    app(standalone_mode=False)
except typer.Exit:
    pass
"""


def floor_code(argument: str) -> str:
    """typer alone drawing cfgwatch's root screen (see the module docstring), as `python -c` code."""
    options = {param.name: getattr(param, "help", "") for param in typer.main.get_command(app).params}
    return FLOOR.format(
        help=app.info.help,
        version=f"cfgwatch {__version__}",
        config=options["config"],
        flag=options["version"],
        commands=[(name, short) for name, (_, short) in COMMANDS.items()],
        argument=argument,
    )


def run_cli(tree: Path | None, argument: str, code: str | None = None) -> Sample:
    """One `cfgwatch ARGUMENT` importing cfgwatch from `tree` (None: `python -c pass`, or `code`)."""
    env = {**os.environ, "PYTHONPATH": str(tree or ""), "COLUMNS": "100"}
    # cwd: an empty folder; `python -c` puts the cwd first on sys.path, ahead of PYTHONPATH
    code = code or (cli_code(argument) if tree else "pass")
    return fresh_process(code, env=env, cwd=NEUTRAL)


def output(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=NEUTRAL, capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD", help="git revision to compare with (default HEAD)")
    add_common_args(parser, runs=15)
    args = parser.parse_args()
    recorder = Recorder("startup", args.json)
    with tempfile.TemporaryDirectory(prefix="cfgwatch-startup-") as tmp:
        base = package_at(args.against, Path(tmp))
        for tree in (base, REPO):
            # pip compiles an installed package's bytecode; under PYTHONDONTWRITEBYTECODE a tree without
            # it would be compiled from source in every run, a cost no installed cfgwatch pays
            compileall.compile_dir(str(tree / "cfgwatch"), quiet=1)
        for argument in ("--help", "--version"):
            floor = floor_code(argument)
            if output(floor) != output(cli_code(argument)):
                sys.exit(f"typer floor: its `{argument}` output is not cfgwatch's; fix FLOOR in {__file__}")
            cases = ("python -c pass", args.against, "checkout", "typer floor")
            samples: dict[str, list[Sample]] = {case: [] for case in cases}
            for _ in range(args.runs):
                samples["python -c pass"].append(run_cli(None, ""))
                samples[args.against].append(run_cli(base, argument))
                samples["checkout"].append(run_cli(REPO, argument))
                samples["typer floor"].append(run_cli(None, argument, floor))
            recorder.compare(f"cfgwatch {argument}", samples, baseline=args.against, subject="checkout")
            above = median_cpu(samples["checkout"]) - median_cpu(samples["python -c pass"])
            recorder.goal(
                f"start-up: cfgwatch {argument} above python -c pass",
                round(above, 4),
                GOAL_ABOVE_BARE,
                "s CPU",
            )
            # the same runs again, against typer alone: how much of the cost is cfgwatch's to remove
            mine = {name: samples[name] for name in ("typer floor", "checkout")}
            recorder.compare(f"cfgwatch {argument} against typer alone", mine, baseline="typer floor")
            floor_above = median_cpu(samples["typer floor"]) - median_cpu(samples["python -c pass"])
            print(f"  typer floor above python -c pass: {floor_above:.4f} s CPU (the least cfgwatch can reach)")


if __name__ == "__main__":
    main()
