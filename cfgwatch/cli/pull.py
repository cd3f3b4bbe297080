"""`cfgwatch pull`: collect running configs over SSH (NAPALM / netmiko through Nornir), commit one run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgwatch.cli.common import console, err_console, state
from cfgwatch.cli.progress import ProgressBars
from cfgwatch.terminal import Listing, show

if TYPE_CHECKING:
    from cfgwatch.collect.runner import PullResult


def _summary(result: PullResult) -> Listing:
    run = result.run
    status = {n: "added" for n in run.added} | {n: "changed" for n in run.changed}
    status |= {n: "unchanged" for n in run.unchanged}
    rows = []
    for o in sorted(result.outcomes, key=lambda o: (o.ok, o.name)):
        if o.failure is not None:
            res, detail = f"failed: {o.failure.reason}", o.failure.detail
        else:
            res, detail = status.get(o.name, "unchanged"), ""
        rows.append((o.name, o.platform or "?", o.collector, res, str(o.attempts), f"{o.seconds:.1f}", detail))
    return Listing(
        f"run {run.run_id}: commit {run.commit[:12] if run.commit else 'none (nothing changed)'}",
        ("device", "platform", "collector", "result", "attempts", "seconds", "detail"),
        tuple(rows),
        keep=frozenset({"device", "platform", "collector"}),
        right=frozenset({"attempts", "seconds"}),
    )


def pull_cmd(
    ctx: typer.Context,
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", help="Pull only this device (repeatable).")
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="Pull only this inventory group (repeatable).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="Parallel sessions, all processes together (default: pull.workers, 100)."
        ),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes",
            "-p",
            min=0,
            help="Worker processes sharing the sessions (default: pull.processes; 0 = automatic, 1 = none).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Seconds one attempt on one device may take (default 60)."),
    ] = None,
    deadline: Annotated[
        float | None,
        typer.Option(
            "--deadline",
            min=0.1,
            help="Seconds the whole pull may take; devices still busy fail as timeout (default: pull.deadline, 900).",
        ),
    ] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, help="Extra attempts after a transient failure (default 2).")
    ] = None,
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="known_hosts file to check host keys against.")
    ] = None,
    tofu: Annotated[
        bool,
        typer.Option("--trust-on-first-use", help="Accept and record unknown host keys (a changed key still fails)."),
    ] = False,
    allow_shrink: Annotated[
        bool, typer.Option("--allow-shrink", help="Store configs much smaller than the last snapshot.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or table; print only failures (for cron).")
    ] = False,
) -> None:
    """Collect running configs over SSH and commit them as one run (none if nothing changed).

    Each device uses its inventory collector: napalm (get_config) or netmiko (the platform's show
    command). Failed devices keep their last good snapshot and are listed in the run. Exit code 1 when
    any device failed or the push to store.remote failed or was rejected, 0 otherwise.
    """
    project = state(ctx).project()
    kwargs = dict(
        devices=device or (),
        groups=group or (),
        workers=workers,
        processes=processes,
        timeout=timeout,
        deadline=deadline,
        retries=retries,
        known_hosts=known_hosts.resolve() if known_hosts is not None else None,
        trust_on_first_use=True if tofu else None,
        allow_shrink=allow_shrink,
    )
    with ProgressBars(err_console, quiet=quiet) as events:
        result = project.pull(events=events, **kwargs)  # type: ignore[arg-type]
    failures = [o.failure for o in result.outcomes if o.failure is not None]
    for note in result.run.warnings:
        err_console.print(f"warning: {note}", markup=False, highlight=False, soft_wrap=True)
    if quiet:
        for f in failures:
            err_console.print(f"failed {f.name}: {f.reason}: {f.detail}", markup=False, highlight=False)
    else:
        show(console, _summary(result))
        run = result.run
        counts = f"{len(run.added)} added, {len(run.changed)} changed, {len(run.unchanged)} unchanged"
        console.print(f"{counts}, {len(failures)} failed")
    push_failed = result.push is not None and not result.push.ok
    if result.push is not None and (push_failed or not quiet):
        (err_console if push_failed else console).print(result.push.text(), markup=False, soft_wrap=True)
    if failures or push_failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("pull")(pull_cmd)
