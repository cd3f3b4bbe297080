"""Flow figures as a reader reads them: units, thousands separators, ratios as percentages, no JSON.

Every human format (text, the terminal panels, markdown, HTML) phrases the typed `FlowFigures` through
these functions, so "5,940 packets, 7.7 MB" reads the same everywhere; the JSON contract keeps the raw
numbers (`FlowFigures.to_json`). A value that is undefined (no baseline, nothing sent) is said in words,
never printed as a Python `None`, and flags are named, never printed as `True`/`False`.

>>> count(28800), size(7_722_000), percent(0.0331), spike(None), spike(75.0)
('28,800', '7.7 MB', '3.3 %', 'new traffic (none in the baseline)', '75x the baseline rate')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cfgwatch.flows.backends.base import TimeWindow
from cfgwatch.flows.figures import Destination, FlowFigures, FlowFlags

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def count(value: int) -> str:
    """An integer with thousands separators: 28,800."""
    return f"{value:,}"


def plural(value: int, word: str) -> str:
    """'1 flow', '28,800 packets'."""
    return f"{count(value)} {word}{'' if value == 1 else 's'}"


def size(value: int) -> str:
    """Bytes in SI units (1 kB = 1000 B, as interface counters and flow tools count): 7.7 MB."""
    amount = float(value)
    for unit in _SIZE_UNITS:
        if abs(amount) < 1000 or unit == _SIZE_UNITS[-1]:
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


def percent(ratio: float | None, *, undefined: str = "n/a") -> str:
    """A ratio as a percentage with one decimal (two below 1 %, so 0.4 % is not shown as 0 %)."""
    if ratio is None:
        return undefined
    value = ratio * 100
    if value != 0 and abs(value) < 1:
        return f"{value:.2f} %"
    return f"{value:.1f} %".replace(".0 %", " %")


def spike(ratio: float | None) -> str:
    """Post-change packet rate against the baseline rate, or 'new traffic' when the baseline had none."""
    if ratio is None:
        return "new traffic (none in the baseline)"
    shown = f"{ratio:,.1f}".removesuffix(".0")
    return f"{shown}x the baseline rate"


def duration(length: timedelta) -> str:
    """A window length in the largest whole unit: 7 d, 24 h, 90 min, 45 s."""
    seconds = int(length.total_seconds())
    if seconds <= 2 * 86400 and seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} h"  # "24 h" and "48 h" read better than "1 d" for a post-change window
    for unit, width in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= width and seconds % width == 0:
            return f"{seconds // width} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds} s"


def moment(when: datetime) -> str:
    """A time in UTC to the minute: 2026-11-25 03:00 UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def window(span: TimeWindow) -> str:
    """'2026-11-25 03:00 to 2026-11-26 03:00 UTC (24 h)' (ASCII: plain outputs go to any log)."""
    return f"{moment(span.start).removesuffix(' UTC')} to {moment(span.end)} ({duration(span.duration)})"


def flags(value: FlowFlags) -> str:
    """The AN0926 flags that hold, named ('none' when none does)."""
    names = {"spike": "spike", "few_returns": "few returns", "suspicious": "suspicious (AN0926 pattern)"}
    held = [names[key] for key, on in value.to_json().items() if on]
    return ", ".join(held) or "none"


def destination(item: Destination) -> tuple[str, str]:
    """One top destination as (who: prefix, example host, AS and class; what: traffic, returns, new or not):
    two short lines rather than one long one, so a narrow terminal never cuts an address."""
    asn = f"AS{item.asn}" if item.asn else "AS unknown"
    who = " ".join(part for part in (asn, item.org) if part)
    kind = item.provider_class or "unclassified"
    returned = percent(item.return_packets / item.packets if item.packets else None, undefined="n/a")
    host = f" (host {item.sample_address})" if item.sample_address else ""
    novelty = "new since the baseline" if item.new else "seen in the baseline"
    return (
        f"{item.prefix}{host}, {who}, {kind}",
        f"{plural(item.packets, 'packet')}, {size(item.bytes)}, {plural(item.flows, 'flow')}, "
        f"{returned} returned, {novelty}",
    )


@dataclass(frozen=True, slots=True)
class Figure:
    """One labelled figure (`key` is stable for tests and CSS; `label` and `value` are for the reader)."""

    key: str
    label: str
    value: str


def figure_rows(figures: FlowFigures) -> list[Figure]:
    """The figures behind a verdict as labelled, readable values, in reading order."""
    sent = figures.packets
    returned = percent(figures.return_ratio, undefined="")
    return [
        Figure("post_window", "after the change", window(figures.post_window)),
        Figure("baseline_window", "baseline", window(figures.baseline_window)),
        Figure(
            "outbound",
            "outbound",
            f"{plural(sent, 'packet')}, {size(figures.bytes)}, {plural(figures.flows, 'flow')}",
        ),
        Figure(
            "baseline",
            "baseline traffic",
            f"{plural(figures.baseline_packets, 'packet')}, {size(figures.baseline_bytes)}, "
            f"{plural(figures.baseline_flows, 'flow')}",
        ),
        Figure("spike", "rate change", spike(figures.spike_ratio) if sent else "no traffic after the change"),
        Figure(
            "returns",
            "returns",
            f"{plural(figures.return_packets, 'packet')} ({returned} of outbound)"
            if returned
            else f"{plural(figures.return_packets, 'packet')} (nothing was sent)",
        ),
        Figure(
            "hosts",
            "hosts",
            f"{plural(figures.distinct_sources, 'internal source')}, "
            f"{plural(figures.distinct_destinations, 'destination')} ({count(figures.new_destinations)} new)",
        ),
        Figure("coverage", "exporter records", f"{count(figures.exporter_records)} in the window after the change"),
        Figure("flags", "flags", flags(figures.flags)),
    ]


def figure_lines(measured: FlowFigures | FlowFlags | None) -> list[str]:
    """'label: value' lines for the plain formats (text, terminal, markdown); [] when the store was not asked."""
    if measured is None:
        return []
    if isinstance(measured, FlowFlags):
        return [f"measured: nothing (the change affects no internal address); flags: {flags(measured)}"]
    lines = [f"{figure.label}: {figure.value}" for figure in figure_rows(measured)]
    for item in measured.top_destinations:
        who, what = destination(item)
        lines += [f"top destination: {who}", f"  {what}"]
    return lines
