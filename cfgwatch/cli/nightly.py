"""`cfgwatch nightly`: pull + audit + export + notify for cron and systemd timers.

stdout gets ONE summary line (plus the findings unless --quiet); exit code 0 clean, 1 a finding or coverage
gap at or above policy.fail_on, 2 a stage failed or another nightly holds the lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console, err_console, state
from cfgwatch.cli.progress import ProgressBars
from cfgwatch.nightly import run_nightly
from cfgwatch.terminal import echo, printable


def nightly_cmd(
    ctx: typer.Context,
    no_pull: Annotated[
        bool, typer.Option("--no-pull", help="Audit what is stored (e.g. after `cfgwatch import`) without pulling.")
    ] = False,
    export_dir: Annotated[
        Path | None,
        typer.Option(
            "--export-dir",
            help="Write the evidence bundle to DIR/cfgwatch-evidence-<time>.zip (default nightly.export_dir).",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the one-line summary (for the job log).")
    ] = False,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Compute everything but send no notification.")
    ] = False,
    lock_wait: Annotated[
        float,
        typer.Option("--lock-wait", min=0, help="Seconds to wait for a running pull to release the snapshot store."),
    ] = 600.0,
) -> None:
    """Pull, audit every run since the previous nightly, export evidence, notify; one summary line.

    Devices that failed to pull on nightly.coverage_gap_nights nights in a row (default 3) become
    coverage-gap findings. Exit 0 clean, 1 findings at or above policy.fail_on, 2 error or already running.
    """
    project = state(ctx).project()

    result = run_nightly(
        project,
        pull=not no_pull,
        export_dir=export_dir.resolve() if export_dir is not None else None,
        send=not no_notify,
        lock_wait=lock_wait,
        events=ProgressBars(err_console, quiet=quiet),
    )
    # a failed stage is an error line on stderr too, so cron mail and journald show it beside the exit code 2
    for error in result.errors:
        err_console.print(f"error: nightly {printable(str(error))}", markup=False, highlight=False, soft_wrap=True)
    # device-derived text (names, remarks, users): made printable, and folded at spaces on a terminal
    if quiet:
        echo(console, printable(result.summary()) + "\n")
    else:
        echo(console, printable(result.text()))
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("nightly")(nightly_cmd)
