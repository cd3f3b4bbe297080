"""The figures behind a flow verdict, typed: counters, ratios, AN0926 flags, top destinations, chart series.

These travel from the flow check (`cfgwatch.flows.verify`, `cfgwatch.audit`) into findings and every report
format. Their JSON form is a contract (reports, evidence bundles, SIEM events), so it is written out field by
field in `to_json` (key order included) rather than derived, and `from_json` reads exactly that shape back:
`FlowFigures.from_json(figures.to_json()).to_json() == figures.to_json()`.

>>> from datetime import UTC, datetime
>>> point = SeriesPoint(datetime(2026, 11, 25, 4, tzinfo=UTC), outbound_packets=900, return_packets=30)
>>> point.to_json()
{'t': '2026-11-25T04:00:00+00:00', 'outbound_packets': 900, 'return_packets': 30}
>>> SeriesPoint.from_json(point.to_json()) == point
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cfgwatch.flows.backends.base import TimeWindow


def rounded(value: float | None) -> float | None:
    """A ratio as JSON shows it: 4 decimals, and None for 'undefined' (no baseline, nothing sent, infinity)."""
    if value is None or math.isinf(value):
        return None
    return round(value, 4)


@dataclass(frozen=True, slots=True)
class Destination:
    """One top destination prefix with its enrichment (0 / '' = unknown, shown as null)."""

    prefix: str
    sample_address: str
    asn: int
    org: str
    provider_class: str
    packets: int
    bytes: int
    flows: int
    return_packets: int
    new: bool  # not seen in the baseline window

    def to_json(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "sample_address": self.sample_address,
            "asn": self.asn or None,
            "org": self.org or None,
            "provider_class": self.provider_class or None,
            "packets": self.packets,
            "bytes": self.bytes,
            "flows": self.flows,
            "return_packets": self.return_packets,
            "new": self.new,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Destination:
        return cls(
            prefix=data["prefix"],
            sample_address=data["sample_address"],
            asn=data["asn"] or 0,
            org=data["org"] or "",
            provider_class=data["provider_class"] or "",
            packets=data["packets"],
            bytes=data["bytes"],
            flows=data["flows"],
            return_packets=data["return_packets"],
            new=data["new"],
        )


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Outbound and paired return packets of one interval starting at `t`: one point of the report's chart."""

    t: datetime  # timezone-aware start of the interval
    outbound_packets: int
    return_packets: int

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.t.isoformat(),
            "outbound_packets": self.outbound_packets,
            "return_packets": self.return_packets,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeriesPoint:
        return cls(datetime.fromisoformat(data["t"]), data["outbound_packets"], data["return_packets"])


@dataclass(frozen=True, slots=True)
class FlowFlags:
    """The AN0926 judgement of a verdict (all False when nothing matched or the store was not asked)."""

    spike: bool = False  # post rate >= spike_ratio x baseline rate, or traffic where the baseline had none
    few_returns: bool = False  # return ratio below low_return_ratio
    suspicious: bool = False  # spike and few returns toward cdn/hosting/cloud/tor-exit or new destinations

    KEYS = ("spike", "few_returns", "suspicious")

    def to_json(self) -> dict[str, Any]:
        return {"spike": self.spike, "few_returns": self.few_returns, "suspicious": self.suspicious}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowFlags:
        return cls(data["spike"], data["few_returns"], data["suspicious"])


NO_FLAGS = FlowFlags()


@dataclass(frozen=True, slots=True)
class FlowFigures:
    """The numbers behind a verdict: both windows, their counters, the ratios, the flags, the top destinations
    and (when the audit drew one) the chart series around the change."""

    post_window: TimeWindow
    baseline_window: TimeWindow
    exporter_records: int
    packets: int
    bytes: int
    flows: int
    baseline_packets: int
    baseline_bytes: int
    baseline_flows: int
    spike_ratio: float | None  # None when the baseline had no traffic (new traffic)
    return_packets: int
    return_ratio: float | None  # None when nothing went out
    distinct_sources: int
    distinct_destinations: int
    new_destinations: int
    top_destinations: tuple[Destination, ...] = ()
    flags: FlowFlags = NO_FLAGS
    series: tuple[SeriesPoint, ...] | None = None  # None: no chart (JSON then has no "series" key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "post_window": [self.post_window.start.isoformat(), self.post_window.end.isoformat()],
            "baseline_window": [self.baseline_window.start.isoformat(), self.baseline_window.end.isoformat()],
            "exporter_records": self.exporter_records,
            "packets": self.packets,
            "bytes": self.bytes,
            "flows": self.flows,
            "baseline_packets": self.baseline_packets,
            "baseline_bytes": self.baseline_bytes,
            "baseline_flows": self.baseline_flows,
            "spike_ratio": rounded(self.spike_ratio),
            "return_packets": self.return_packets,
            "return_ratio": rounded(self.return_ratio),
            "distinct_sources": self.distinct_sources,
            "distinct_destinations": self.distinct_destinations,
            "new_destinations": self.new_destinations,
            "top_destinations": [item.to_json() for item in self.top_destinations],
            **self.flags.to_json(),
        }
        if self.series is not None:
            data["series"] = [point.to_json() for point in self.series]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FlowFigures:
        series = data.get("series")
        return cls(
            post_window=_window(data["post_window"]),
            baseline_window=_window(data["baseline_window"]),
            exporter_records=data["exporter_records"],
            packets=data["packets"],
            bytes=data["bytes"],
            flows=data["flows"],
            baseline_packets=data["baseline_packets"],
            baseline_bytes=data["baseline_bytes"],
            baseline_flows=data["baseline_flows"],
            spike_ratio=data["spike_ratio"],
            return_packets=data["return_packets"],
            return_ratio=data["return_ratio"],
            distinct_sources=data["distinct_sources"],
            distinct_destinations=data["distinct_destinations"],
            new_destinations=data["new_destinations"],
            top_destinations=tuple(Destination.from_json(item) for item in data["top_destinations"]),
            flags=FlowFlags.from_json(data),
            series=None if series is None else tuple(SeriesPoint.from_json(point) for point in series),
        )


def _window(pair: list[str]) -> TimeWindow:
    start, end = pair
    return TimeWindow(datetime.fromisoformat(start), datetime.fromisoformat(end))
