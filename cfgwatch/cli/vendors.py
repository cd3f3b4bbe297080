"""`cfgwatch vendors` (the parser table) and `cfgwatch parse FILE` (rules extracted from one config)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console
from cfgwatch.model import RuleSet, dumps
from cfgwatch.terminal import Listing, echo, printable, show
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.registry import parse_file, spec_rows


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
    rows = tuple(
        (row.platform, "-", "-", f"not available ({row.problem})")
        if row.info is None
        else (row.platform, ", ".join(row.info.forms), ", ".join(sorted(row.info.features)), row.info.description)
        for row in vendor_rows()
    )
    show(console, Listing("cfgwatch parsers", ("platform", "forms", "features", "description"), rows, keep=_KEEP))


# Table columns holding names and addresses: never wrapped (`cfgwatch.terminal.Listing`).
_KEEP = frozenset({"platform", "line", "list", "seq", "src", "dst", "kind", "name", "interface", "code"})


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
    rules = parse_file(file, platform)  # api.parse_file, without importing the project modules
    if fmt is ParseFormat.JSON:
        typer.echo(dumps(rules))  # the text of json.dumps(to_json(rules), indent=1, sort_keys=True), faster
        return
    _print_text(rules, file)


_NAT_COLUMNS = ("line", "kind", "where", "match", "translated", "flags")
_ACL_COLUMNS = ("line", "list", "seq", "action", "src", "dst", "services", "options", "comment")
_BINDING_COLUMNS = ("kind", "name", "interface", "direction", "vrf")
_DIAG_COLUMNS = ("line", "code", "message", "text")


def _print_text(rules: RuleSet, file: Path) -> None:
    echo(console, printable(f"{file} ({rules.platform})\n"))
    if rules.nats:
        nat_rows = []
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
            nat_rows.append(
                (f"line {line}", rule.kind.value, where, match, "; ".join(translated) or "-", " ".join(flags))
            )
        show(console, Listing(f"NAT rules ({len(rules.nats)})", _NAT_COLUMNS, tuple(nat_rows), keep=_KEEP))
    if rules.filters:
        acl_rows = []
        for entry in rules.filters:
            services = ", ".join(str(service) for service in entry.match.services)
            options = sorted(entry.options) + ([] if entry.enabled else ["inactive"])
            acl_rows.append(
                (
                    "line " + ("" if entry.source is None else str(entry.source.start_line)),
                    entry.list_name,
                    "" if entry.sequence is None else str(entry.sequence),
                    entry.action.value,
                    str(entry.match.src),
                    str(entry.match.dst),
                    services,
                    " ".join(options),
                    (entry.comment or "").replace("\n", " / "),
                )
            )
        show(console, Listing(f"filter entries ({len(rules.filters)})", _ACL_COLUMNS, tuple(acl_rows), keep=_KEEP))
    if rules.bindings:
        binding_rows = tuple(
            (binding.kind.value, binding.name, binding.interface, binding.direction, binding.context or "")
            for binding in rules.bindings
        )
        show(console, Listing(f"bindings ({len(rules.bindings)})", _BINDING_COLUMNS, binding_rows, head=1, keep=_KEEP))
    if rules.diagnostics:
        diag_rows = tuple((f"line {diag.line}", diag.code, diag.message, diag.text) for diag in rules.diagnostics)
        show(console, Listing(f"diagnostics ({len(rules.diagnostics)})", _DIAG_COLUMNS, diag_rows, keep=_KEEP))
    echo(
        console,
        f"{len(rules.nats)} NAT rules, {len(rules.filters)} filter entries, {len(rules.bindings)} bindings, "
        f"{len(rules.objects)} objects, {len(rules.diagnostics)} diagnostics\n",
    )


def register(app: typer.Typer) -> None:
    app.command("vendors")(vendors_cmd)
    app.command("parse")(parse_cmd)
