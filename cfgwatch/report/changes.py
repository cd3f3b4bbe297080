"""Render classified changes (the `cfgwatch diff` output): JSON, markdown and plain text."""

from __future__ import annotations

import json
from typing import Any

from cfgwatch.model import Binding, FilterRule, NatRule, ObjectDef
from cfgwatch.model.changes import RuleChange, SourceLines
from cfgwatch.revisions import DiffResult
from cfgwatch.terminal import printable


def describe(item: FilterRule | NatRule | Binding | ObjectDef | None) -> str:
    """One line a network engineer can read."""
    if item is None:
        return "-"
    if isinstance(item, FilterRule):
        services = ", ".join(str(service) for service in item.match.services)
        zones = (
            f" [{','.join(item.from_zones) or 'any'} -> {','.join(item.to_zones) or 'any'}]"
            if (item.from_zones or item.to_zones)
            else ""
        )
        name = f" {item.name}" if item.name else ""
        state = "" if item.enabled else " (inactive)"
        return (
            f"{item.list_name}{name}{zones}: {item.action.value} {services} {item.match.src} -> {item.match.dst}{state}"
        )
    if isinstance(item, NatRule):
        parts = [f"{item.kind.value} nat"]
        if item.name:
            parts.append(item.name)
        if item.ingress or item.egress:
            parts.append(f"({','.join(item.ingress) or 'any'} -> {','.join(item.egress) or 'any'})")
        parts.append(f"match {item.match.src} -> {item.match.dst}")
        specific = [service for service in item.match.services if not service.is_any]
        if specific:
            parts.append(" / ".join(str(service) for service in specific))
        if item.translated_src is not None:
            parts.append(f"src => {item.translated_src}")
        if item.translated_src_ports is not None:
            parts.append(f"sport => {item.translated_src_ports}")
        if item.translate_to_interface:
            parts.append(f"src => interface {item.translate_to_interface}")
        if item.translated_dst is not None:
            parts.append(f"dst => {item.translated_dst}")
        if item.translated_dst_ports is not None:
            parts.append(f"dport => {item.translated_dst_ports}")
        if not item.enabled:
            parts.append("(inactive)")
        return " ".join(parts)
    if isinstance(item, Binding):
        direction = f" {item.direction}" if item.direction else ""
        return f"{item.kind.value} {item.name} on {item.interface}{direction}"
    value = item.addresses if item.addresses is not None else ", ".join(str(s) for s in item.services)
    return f"{item.kind} {item.name} = {value}"


def changes_json(result: DiffResult) -> str:
    document: dict[str, Any] = {
        "rev_a": result.rev_a,
        "rev_b": result.rev_b,
        "changes": [change.to_json() for change in result.changes],
        "errors": [
            {"device": device.device, "platform": device.platform, "error": device.error}
            for device in result.devices
            if device.error
        ],
    }
    return json.dumps(document, indent=2, sort_keys=False)


def _lines_block(lines: SourceLines | None, marker: str) -> list[str]:
    if lines is None:
        return []
    return [f"{marker} {lines.start + offset:>5} | {text}" for offset, text in enumerate(lines.lines)]


def change_text(change: RuleChange) -> list[str]:
    """The text block for one change: headline, categories, affected addresses, config lines."""
    categories = ", ".join(change.categories + change.tags) or "no effect on permitted traffic"
    out = [f"{change.device} ({change.platform}) {change.change.value} {change.family}: {describe(change.rule)}"]
    out.append(f"    categories: {categories}")
    if change.reasons:
        out.append(f"    why: {'; '.join(change.reasons)}")
    affected = change.affected
    if not (affected.internal.is_empty and affected.public.is_empty):
        out.append(
            f"    affected: internal {', '.join(affected.internal.ranges()) or '-'}; "
            f"public {', '.join(affected.public.ranges() + sorted(affected.public.fqdns)) or '-'}; "
            f"ports {affected.ports.text() if not affected.ports.is_empty else '-'}"
        )
    out.extend("    " + line for line in _lines_block(change.lines_before, "-"))
    out.extend("    " + line for line in _lines_block(change.lines_after, "+"))
    return out


def changes_text(result: DiffResult) -> str:
    lines: list[str] = [f"changes {result.rev_a[:12]}..{result.rev_b[:12]}: {len(result.changes)}"]
    for device in result.devices:
        if device.error:
            lines.append(f"{device.device}: not compared: {device.error}")
    for change in result.changes:
        lines.append("")
        lines.extend(change_text(change))
    return printable("\n".join(lines) + "\n")


def changes_markdown(result: DiffResult) -> str:
    lines = [
        f"### cfgwatch: rule changes `{result.rev_a[:12]}..{result.rev_b[:12]}`",
        "",
        "| device | change | rule | categories |",
        "|---|---|---|---|",
    ]
    for change in result.changes:
        rule = describe(change.rule).replace("|", "\\|")
        categories = ", ".join(change.categories + change.tags)
        lines.append(f"| {change.device} | {change.change.value} {change.family} | {rule} | {categories} |")
    for change in result.changes:
        if change.lines_before or change.lines_after:
            lines += ["", f"**{change.device}** {change.change.value}:", "```diff"]
            lines += _lines_block(change.lines_before, "-")
            lines += _lines_block(change.lines_after, "+")
            lines.append("```")
    for device in result.devices:
        if device.error:
            lines.append(f"\n_{device.device}: not compared: {device.error}_")
    return "\n".join(lines) + "\n"
