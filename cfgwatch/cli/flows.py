"""`cfgwatch flows ingest` and `cfgwatch flows hunt`: the flow store from the command line."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cfgwatch.audit import load_networks_for
from cfgwatch.cli.common import console, err_console, one_of, registered, state
from cfgwatch.errors import InputError
from cfgwatch.flows.backends import FLOW_BACKENDS
from cfgwatch.flows.backends.base import IngestingBackend
from cfgwatch.flows.formats import FLOW_FORMATS
from cfgwatch.flows.open import open_backend, parse_duration
from cfgwatch.model import AddressSet


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


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
        config = state(ctx).config()
        store = open_backend(config, backend)
        if not isinstance(store, IngestingBackend):
            store.close()
            raise InputError(f"flow backend {store.name!r} is read-only (it queries flows where they are)")
        bad_total = 0
        try:
            for file in files:
                report = store.ingest(
                    file, fmt, exporter=exporter, aws_fields=aws_fields.split() if aws_fields else None
                )
                if report.skipped:
                    console.print(f"{file}: already ingested (sha256 {report.sha256[:12]}), skipped", soft_wrap=True)
                    continue
                console.print(
                    f"{file}: {report.records} records, {report.bad} bad, days {', '.join(report.days)}", soft_wrap=True
                )
                for sample in report.bad_samples:
                    err_console.print(f"  bad record: {sample}", markup=False, soft_wrap=True)
                bad_total += report.bad
        finally:
            store.close()
        if bad_total:
            err_console.print(f"{bad_total} bad records skipped")

    @flows.command("hunt")
    def hunt_command(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option("--since", help="Window to hunt in, e.g. 24h, 7d.")] = None,
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
        """Internal sources whose outbound traffic to CDN/VPS/anomalous ASNs spiked with few return packets."""
        from cfgwatch.flows.verify import hunt

        config = state(ctx).config()
        try:
            networks = AddressSet.parse(*internal) if internal else load_networks_for(config).internal
        except ValueError as exc:
            raise InputError(f"bad --internal: {exc}") from exc
        store = open_backend(config, backend)
        has_db = store.enricher.has_asn_db
        notes = store.enricher.notes()
        try:
            result = hunt(
                store,
                networks,
                config.flows,
                since=parse_duration(since) if since else None,
                exporters=tuple(exporter or ()),
                has_asn_db=has_db,
                notes=notes,
            )
        finally:
            store.close()
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
            console.print(f"hunt window {result.window.start:%Y-%m-%d %H:%M} .. {result.window.end:%Y-%m-%d %H:%M} UTC")
            for note in result.notes:
                console.print(f"note: {note}", markup=False, soft_wrap=True)
            if not result.findings:
                console.print("no outbound spikes with few returns")
            for item in result.findings:
                asn = f"AS{item.asn} {item.org}".strip() if item.asn else (item.org or "AS unknown")
                ratio = "new" if item.spike_ratio is None else f"x{item.spike_ratio:.1f}"
                console.print(
                    f"{item.internal} -> {item.prefix} ({asn}, {item.reason}): {item.packets} pkts "
                    f"{item.bytes} bytes {item.flows} flows, spike {ratio}, returns {item.return_ratio:.0%}",
                    markup=False,
                    soft_wrap=True,
                )
        if result.findings:
            raise typer.Exit(1)
