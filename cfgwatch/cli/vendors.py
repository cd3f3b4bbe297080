"""`cfgwatch vendors` (the parser table) and `cfgwatch parse FILE` (rules extracted from one config)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cfgwatch import api
from cfgwatch.cli.common import console
from cfgwatch.model import RuleSet, to_json
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.registry import spec_rows


class ParseFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class VendorRow:
    """One registered platform: its parser, or why it cannot be loaded right now."""

    platform: str
    info: ParserInfo | None
    problem: str | None = None


def vendor_rows() -> list[VendorRow]:
    """Every registered platform; a package that does not load (yet) is listed with the reason."""
    return [VendorRow(row.name, None if row.spec is None else row.spec.parser, row.problem) for row in spec_rows()]


def vendors_cmd() -> None:
    """List the registered parsers: platform, accepted forms, modelled features, description."""
    table = Table(title="cfgwatch parsers", show_lines=False)
    table.add_column("platform", style="bold")
    table.add_column("forms")
    table.add_column("features")
    table.add_column("description")
    for row in vendor_rows():
        if row.info is None:
            table.add_row(row.platform, "-", "-", f"[red]not available[/red] ({row.problem})")
        else:
            table.add_row(
                row.platform, ", ".join(row.info.forms), ", ".join(sorted(row.info.features)), row.info.description
            )
    console.print(table)


def parse_cmd(
    file: Annotated[Path, typer.Argument(help="Config file to parse.")],
    platform: Annotated[
        str, typer.Option("--platform", "-p", help="Platform name (see `cfgwatch vendors`) or `auto` to detect it.")
    ] = "auto",
    fmt: Annotated[ParseFormat, typer.Option("--format", "-f", help="json: one JSON document; text: tables.")] = (
        ParseFormat.TEXT
    ),
) -> None:
    """Show the NAT rules, ACL entries, bindings and diagnostics cfgwatch extracts from one config."""
    rules = api.parse_file(file, platform)
    if fmt is ParseFormat.JSON:
        typer.echo(json.dumps(to_json(rules), indent=1, sort_keys=True))
        return
    _print_text(rules, file)


def _print_text(rules: RuleSet, file: Path) -> None:
    console.print(f"[bold]{file}[/bold] ({rules.platform})", markup=True)
    if rules.nats:
        nat = Table(title=f"NAT rules ({len(rules.nats)})")
        for column in ("line", "kind", "where", "match", "translated", "flags"):
            nat.add_column(column)
        for rule in rules.nats:
            match = f"src {rule.match.src} -> dst {rule.match.dst}"
            services = ", ".join(str(service) for service in rule.match.services if not service.is_any)
            if services:
                match += f" [{services}]"
            translated = []
            if rule.translated_src is not None:
                translated.append(f"src {rule.translated_src}")
            if rule.translate_to_interface:
                translated.append(f"src interface {rule.translate_to_interface}")
            if rule.translated_src_ports is not None:
                translated.append(f"sport {rule.translated_src_ports}")
            if rule.translated_dst is not None:
                translated.append(f"dst {rule.translated_dst}")
            if rule.translated_dst_ports is not None:
                translated.append(f"dport {rule.translated_dst_ports}")
            flags = [flag for flag, on in (("bidir", rule.bidirectional), ("inactive", not rule.enabled)) if on]
            flags.extend(sorted(rule.options))
            where = f"{','.join(rule.ingress) or 'any'} -> {','.join(rule.egress) or 'any'}"
            if rule.section:
                where += f" ({rule.section}{'' if rule.sequence is None else f' #{rule.sequence}'})"
            if rule.context:
                where += f" vrf {rule.context}"
            line = "" if rule.source is None else str(rule.source.start_line)
            nat.add_row(line, rule.kind.value, where, match, "; ".join(translated) or "-", " ".join(flags))
        console.print(nat, markup=False)
    if rules.filters:
        acl = Table(title=f"filter entries ({len(rules.filters)})")
        for column in ("line", "list", "seq", "action", "src", "dst", "services", "options", "comment"):
            acl.add_column(column)
        for entry in rules.filters:
            services = ", ".join(str(service) for service in entry.match.services)
            options = sorted(entry.options) + ([] if entry.enabled else ["inactive"])
            acl.add_row(
                "" if entry.source is None else str(entry.source.start_line),
                entry.list_name,
                "" if entry.sequence is None else str(entry.sequence),
                entry.action.value,
                str(entry.match.src),
                str(entry.match.dst),
                services,
                " ".join(options),
                (entry.comment or "").replace("\n", " / "),
            )
        console.print(acl, markup=False)
    if rules.bindings:
        bindings = Table(title=f"bindings ({len(rules.bindings)})")
        for column in ("kind", "name", "interface", "direction", "vrf"):
            bindings.add_column(column)
        for binding in rules.bindings:
            bindings.add_row(
                binding.kind.value, binding.name, binding.interface, binding.direction, binding.context or ""
            )
        console.print(bindings, markup=False)
    if rules.diagnostics:
        diags = Table(title=f"diagnostics ({len(rules.diagnostics)})")
        for column in ("line", "code", "message", "text"):
            diags.add_column(column)
        for diag in rules.diagnostics:
            diags.add_row(str(diag.line), diag.code, diag.message, diag.text)
        console.print(diags, markup=False)
    console.print(
        f"{len(rules.nats)} NAT rules, {len(rules.filters)} filter entries, {len(rules.bindings)} bindings, "
        f"{len(rules.objects)} objects, {len(rules.diagnostics)} diagnostics",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("vendors")(vendors_cmd)
    app.command("parse")(parse_cmd)
