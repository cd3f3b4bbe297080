"""Commands for the snapshot repository: init, import, log (runs, or one device's history), show."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgwatch.cli.common import console, err_console, state
from cfgwatch.cli.progress import ProgressBars
from cfgwatch.errors import InputError
from cfgwatch.project import init_project
from cfgwatch.store import DeviceRevision
from cfgwatch.terminal import Listing, show

if TYPE_CHECKING:
    from cfgwatch.collect.backups import Skipped
    from cfgwatch.project import Project
    from cfgwatch.store.remote import PushResult


def init_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Project folder to set up (created if missing).", show_default=True)
    ] = Path("."),
) -> None:
    """Set up a cfgwatch project: cfgwatch.yaml, inventory/ (device list), snapshots/ (git repo of configs).

    Existing files are never overwritten, so running it again is safe.
    """
    result = init_project(directory)
    for path in result.created:
        typer.echo(f"created  {path}")
    for path in result.kept:
        typer.echo(f"kept     {path}")
    typer.echo(
        "next: add devices to inventory/hosts.yaml, or snapshot a folder of saved configs with `cfgwatch import FOLDER`"
    )


def import_cmd(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of saved configs: files directly in it, Oxidized group sub-folders (GROUP/DEVICE) or "
            "RANCID groups (GROUP/configs/DEVICE). The device name is the file name without .cfg/.conf/.txt.",
            show_default=False,
        ),
    ] = None,
    git_repo: Annotated[
        Path | None,
        typer.Option(
            "--git",
            help="Replay an Oxidized/RANCID git repository instead: each commit that changed a config becomes "
            "a run with its own time and author. Re-running adds only new commits.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="With --git: only commits since DATE (2025-01-31) or DURATION (365d)."),
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            "-p",
            help="Platform of every file (cisco_ios, cisco_asa, juniper_junos, fortinet, paloalto_panos, ...). "
            "Default: the inventory, else the backup tool's router.db type, else detected from the text.",
        ),
    ] = None,
) -> None:
    """Snapshot saved configs as one run, or replay a backup tool's git history as one run per commit.

    Secrets are replaced by fingerprints before anything is stored. README, router.db and hidden files
    are never devices (they are listed as skipped). Devices not in the folder keep their last snapshot.
    """
    project = state(ctx).project()
    if git_repo is not None:
        if directory is not None:
            raise InputError("give either a FOLDER or --git REPO, not both")
        _import_git(project, git_repo, _since_time(since), platform)
        return
    if directory is None:
        raise InputError("missing FOLDER (or --git REPO)")
    if since is not None:
        raise InputError("--since applies to --git only")
    with ProgressBars(err_console) as events:
        result = project.import_dir(directory, platform=platform, events=events)

    devices = tuple(
        (
            d.name,
            d.status,
            f"{d.platform or 'unknown'} ({d.platform_source.value})",
            f"{d.redactions} secret(s) hidden" if d.redactions else "",
            "; ".join(d.notes),
        )
        for d in result.devices
        if d.status != "unchanged"
    )
    if devices:
        show(console, Listing("", ("device", "status", "platform", "secrets", "notes"), devices, keep=_KEEP))
    _print_skipped(result.skipped)
    for failure in result.run.failed:
        err_console.print(f"warning: {failure.name}: {failure.reason}: {failure.detail}", markup=False, soft_wrap=True)
    run = result.run
    for note in run.warnings:
        err_console.print(f"warning: {note}", markup=False, soft_wrap=True)
    counts = (
        f"{len(run.added)} added, {len(run.changed)} changed, {len(run.unchanged)} unchanged, {len(run.failed)} failed"
    )
    if run.commit is None:
        typer.echo(f"run {run.run_id}: no change, nothing committed ({counts})")
    else:
        typer.echo(f"run {run.run_id}: committed {run.commit[:12]} ({counts})")
    if result.push is not None:
        report_push(result.push)


def report_push(push: PushResult) -> None:
    """Print the push to store.remote; a rejected or failed push exits 1 (the run itself is committed)."""
    if push.ok:
        typer.echo(push.text())
        return
    err_console.print(push.text(), markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _since_time(since: str | None) -> datetime | None:
    """--since for a history replay: an ISO date/time (UTC unless it says otherwise) or a duration back from now."""
    if since is None:
        return None
    from cfgwatch.flows.open import parse_duration

    try:
        return datetime.now(UTC) - parse_duration(since)
    except InputError:
        pass
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        raise InputError(f"--since {since!r} is neither a date (2025-01-31) nor a duration (365d)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _print_skipped(skipped: Sequence[Skipped]) -> None:
    """Files that are not device configs: listed (a few by name) so nobody wonders where they went."""
    if not skipped:
        return
    shown = ", ".join(s.path for s in skipped[:8])
    more = f" +{len(skipped) - 8} more" if len(skipped) > 8 else ""
    typer.echo(f"skipped {len(skipped)} non-config file(s): {shown}{more}")


def _import_git(project: Project, repo: Path, since: datetime | None, platform: str | None) -> None:
    with ProgressBars(err_console) as events:
        result = project.import_git(repo, since=since, platform=platform, events=events)
    _print_skipped(result.skipped_paths)
    skipped = (
        f"{result.already_imported} already imported, {result.older_than_store} older than the newest run, "
        f"{result.without_configs} without config changes"
    )
    if result.runs == 0:
        typer.echo(f"nothing to replay ({skipped})")
    else:
        assert result.first is not None and result.last is not None
        span = f"{result.first:%Y-%m-%d %H:%M} .. {result.last:%Y-%m-%d %H:%M} UTC"
        typer.echo(
            f"replayed {result.runs} commit(s) as runs ({result.committed} committed) from {span}; "
            f"{len(result.devices)} device(s) added; skipped {skipped}"
        )
    if result.push is not None:
        report_push(result.push)


def log_cmd(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Show only the N newest runs.")] = None,
    all_runs: Annotated[
        bool, typer.Option("--all", help="Also list runs that changed nothing (from the run journal).")
    ] = False,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            "-d",
            help="Only the runs that changed this device: when, commit (for `cfgwatch show D --rev`), "
            "added/changed/platform, platform, and who last changed it according to the config header.",
        ),
    ] = None,
) -> None:
    """List collection runs, newest first: when, which collector, devices changed/added/failed."""
    project = state(ctx).project()
    if device is not None:
        if all_runs:
            raise InputError("--all lists every run; it cannot be combined with --device")
        _device_log(project.history(device, limit))
        return
    rows: list[tuple[datetime, str, str, tuple[str, ...], tuple[str, ...], list[str], str]] = []
    if all_runs:
        for e in project.journal(limit):
            failed = [f.name for f in e.failed]
            commit = e.commit[:12] if e.commit else "no-change"
            rows.append((e.started, e.run_id, e.collector, e.changed, e.added, failed, commit))
    else:
        for r in project.runs(limit):
            failed = [f.name for f in r.failed]
            rows.append((r.time, r.run_id, r.collector, r.changed, r.added, failed, r.commit[:12]))
    if not rows:
        typer.echo("no runs yet (run `cfgwatch import FOLDER`)")
        return
    listing = tuple(
        (
            started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            commit,
            collector,
            str(len(changed)),
            str(len(added)),
            str(len(failed)),
            named((*changed, *added)),
            named(tuple(failed)),
            run_id,
        )
        for started, run_id, collector, changed, added, failed, commit in rows
    )
    show(console, Listing("", _RUN_COLUMNS, listing, keep=_KEEP, right=frozenset({"changed", "added", "failed"})))


_RUN_COLUMNS = (
    "started",
    "commit",
    "collector",
    "changed",
    "added",
    "failed",
    "devices",
    "failed devices",
    "run",
)
_DEVICE_COLUMNS = ("started", "commit", "collector", "status", "platform", "changed by (config header)", "run")
_KEEP = frozenset({"device", "started", "commit", "collector", "status", "platform", "run"})


def named(devices: tuple[str, ...], shown: int = 2) -> str:
    """Device names for one line: 'edge1, core2 +3 more' (sorted; '' for none)."""
    ordered = sorted(dict.fromkeys(devices))
    more = len(ordered) - shown
    return ", ".join(ordered[:shown]) + (f" +{more} more" if more > 0 else "")


def _device_log(revisions: list[DeviceRevision]) -> None:
    """One item per run that changed the device, newest first."""
    rows = []
    for r in revisions:
        who = "-"
        if r.metadata is not None and (r.metadata.user or r.metadata.time):
            at = r.metadata.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r.metadata.time else "?"
            who = f"{r.metadata.user or '?'} at {at}"
        rows.append(
            (
                r.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                r.commit[:12],
                r.collector,
                r.status,
                r.platform or "unknown",
                who,
                r.run_id or "-",
            )
        )
    show(console, Listing("", _DEVICE_COLUMNS, tuple(rows), keep=_KEEP))


def show_cmd(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device name as listed by `cfgwatch import` / the inventory.")],
    rev: Annotated[
        str,
        typer.Option("--rev", "-r", help="Snapshot revision: a commit id from `cfgwatch log`, or HEAD~1 etc."),
    ] = "HEAD",
) -> None:
    """Print a device's stored (sanitized) config at a revision. Details about it go to stderr."""
    view = state(ctx).project().show(device, rev)
    about = f"# {view.name} at {view.commit[:12]}, platform {view.platform or 'unknown'}"
    if view.metadata is not None and (view.metadata.user or view.metadata.time):
        when = view.metadata.time.isoformat() if view.metadata.time else "unknown time"
        about += f", last changed by {view.metadata.user or 'unknown'} at {when}"
    err_console.print(about, markup=False, soft_wrap=True)
    sys.stdout.write(view.text)
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)
    app.command("import")(import_cmd)
    app.command("log")(log_cmd)
    app.command("show")(show_cmd)
