"""`cfgwatch flows ingest` and `cfgwatch flows hunt`: the flow store from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cfgwatch.cli.common import console, err_console, one_of, registered, state
from cfgwatch.errors import InputError
from cfgwatch.events import NoEvents
from cfgwatch.flows.backends import FLOW_BACKENDS
from cfgwatch.flows.backends.base import IngestReport
from cfgwatch.flows.formats import FLOW_FORMATS
from cfgwatch.flows.open import parse_duration
from cfgwatch.model import AddressSet
from cfgwatch.terminal import Listing, echo, printable, show

if TYPE_CHECKING:
    from cfgwatch.flows.verify import HuntResult


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class _IngestLines(NoEvents):
    """Prints what each flow file gave as soon as it is stored (a long ingest shows its files one by one)."""

    def item_done(self, stage: str, item: object, done: int, total: int | None) -> None:
        assert isinstance(item, IngestReport)
        if item.skipped:
            console.print(f"{item.path}: already ingested (sha256 {item.sha256[:12]}), skipped", soft_wrap=True)
            return
        console.print(
            f"{item.path}: {item.records} records, {item.bad} bad, days {', '.join(item.days)}", soft_wrap=True
        )
        for sample in item.bad_samples:
            err_console.print(f"  bad record: {sample}", markup=False, soft_wrap=True)


def _backend_option() -> Any:  # typer's OptionInfo, typed Any by typer itself
    return typer.Option(
        "--backend",
        parser=registered(FLOW_BACKENDS),
        help=f"Flow backend: {one_of(FLOW_BACKENDS)} (default flows.backend).",
    )


def register(app: typer.Typer) -> None:
    flows = typer.Typer(help="Flow telemetry: ingest exports and hunt for outbound spikes with few returns.")
    app.add_typer(flows, name="flows")

    @flows.command("ingest")
    def ingest_command(
        ctx: typer.Context,
        files: Annotated[list[Path], typer.Argument(help="Flow export files.")],
        fmt: Annotated[
            str,
            typer.Option("--format", "-f", parser=registered(FLOW_FORMATS), help=f"One of: {one_of(FLOW_FORMATS)}."),
        ],
        exporter: Annotated[
            str | None, typer.Option("--exporter", "-e", help="Device name for sources that carry none.")
        ] = None,
        aws_fields: Annotated[
            str | None, typer.Option("--aws-fields", help="Custom AWS field order, space separated (no header).")
        ] = None,
        backend: Annotated[str | None, _backend_option()] = None,
    ) -> None:
        """Store flow files in the flow store. The same file twice adds nothing."""
        project = state(ctx).project()
        reports = project.ingest_flows(
            files,
            fmt,
            exporter=exporter,
            aws_fields=aws_fields.split() if aws_fields else None,
            backend=backend,
            events=_IngestLines(),
        )
        bad_total = sum(report.bad for report in reports)  # a skipped file reports none
        if bad_total:
            err_console.print(f"{bad_total} bad records skipped")

    @flows.command("compact")
    def compact_command(ctx: typer.Context) -> None:
        """Merge each day's ingest batches in the DuckDB flow store into one file sorted by exporter and time.
        Ingest appends unsorted batches (fast); run this nightly so exporter/time filters skip more."""
        from cfgwatch.flows.backends.duckdb_ingest import compact_store

        project = state(ctx).project()
        backend = project.config.flows.backend
        if backend != "duckdb":
            raise InputError(f"flow backend {backend!r} has no Parquet files to compact (only duckdb has)")
        report = compact_store(project.flow_store_path())
        console.print(f"{report.days} days compacted: {report.files} files merged, {report.rows} rows")

    @flows.command("hunt")
    def hunt_command(
        ctx: typer.Context,
        since: Annotated[
            str | None, typer.Option("--since", help="Window length, counted back from --until, e.g. 24h, 7d.")
        ] = None,
        until: Annotated[
            str | None,
            typer.Option(
                "--until",
                help="End of the window: an ISO time (2026-12-02T06:00, UTC unless it has an offset), or "
                "'latest' for the newest stored flow. Default: now.",
            ),
        ] = None,
        internal: Annotated[
            list[str] | None,
            typer.Option(
                "--internal", help="Internal CIDR (repeatable; default: private ranges + inventory/networks.yaml)."
            ),
        ] = None,
        exporter: Annotated[list[str] | None, typer.Option("--exporter", "-e", help="Only these exporters.")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.text,
        backend: Annotated[str | None, _backend_option()] = None,
    ) -> None:
        """Internal hosts whose outbound traffic to CDN/VPS/anomalous ASNs spiked with few return packets:
        each with its destination hosts and ports, AS and provider class."""
        project = state(ctx).project()
        try:
            networks = AddressSet.parse(*internal) if internal else project.networks.internal
        except ValueError as exc:
            raise InputError(f"bad --internal: {exc}") from exc
        result = project.hunt(
            since=parse_duration(since) if since else None,
            internal=networks,
            exporters=exporter or (),
            backend=backend,
            until=None if until in (None, "latest") else _moment(until),
            latest=until == "latest",
        )
        if fmt is OutputFormat.json:
            typer.echo(
                json.dumps(
                    {
                        "window": [result.window.start.isoformat(), result.window.end.isoformat()],
                        "baseline_window": [
                            result.baseline_window.start.isoformat(),
                            result.baseline_window.end.isoformat(),
                        ],
                        "findings": [item.to_json() for item in result.findings],
                        "notes": list(result.notes),
                    },
                    indent=2,
                )
            )
        else:
            _hunt_text(result)
        if result.findings:
            raise typer.Exit(1)


def _moment(text: str | None) -> datetime:
    """--until as an aware time (UTC when it names no offset); a bad value is a usage error (exit 2)."""
    assert text is not None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not a time like 2026-12-02T06:00 or 2026-12-02T06:00+01:00 (or 'latest')",
            param_hint="--until",
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _hunt_text(result: HuntResult) -> None:
    """The window, notes, then one item per finding (a table on a wide terminal): who, where, how much."""
    from cfgwatch.report import readable

    head = [f"hunt window: {readable.window(result.window)}", f"baseline: {readable.window(result.baseline_window)}"]
    head += [f"note: {note}" for note in result.notes]
    if not result.findings:
        head.append("no outbound spikes with few returns")
    echo(console, printable("".join(line + "\n" for line in head)))
    if not result.findings:
        return
    rows = []
    for item in result.findings:
        asn = f"AS{item.asn}" if item.asn else "AS unknown"
        hosts = "\n".join(f"{row.endpoint} ({readable.plural(row.out.packets, 'pkt')})" for row in item.services)
        rows.append(
            (
                item.internal,
                hosts or item.prefix,
                item.prefix,
                " ".join(part for part in (asn, item.org) if part),
                item.provider_class or "unclassified",
                item.reason,
                f"{readable.plural(item.packets, 'packet')}, {readable.size(item.bytes)}, "
                f"{readable.plural(item.flows, 'flow')}",
                "new traffic" if item.spike_ratio is None else readable.spike(item.spike_ratio),
                readable.percent(item.return_ratio),
            )
        )
    columns = ("internal host", "destinations", "prefix", "AS", "class", "reason", "sent", "rate", "returns")
    title = f"{len(rows)} internal host(s) with outbound spikes and few returns"
    show(console, Listing(title, columns, tuple(rows), keep=frozenset({"internal host", "prefix", "class", "reason"})))
