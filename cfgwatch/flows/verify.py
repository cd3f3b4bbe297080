"""Did the new path carry external traffic? Per-change flow verdicts, and the same detector as a hunt.

A change's affected internal sources (and post-NAT addresses, destinations, ports) select flows from its
device's exporter. The post-change window starts at the change time; the baseline window ends there.
Verdicts:

* ``no-coverage``: the exporter sent no records at all in the post window (a telemetry gap to surface).
* ``traffic-confirmed``: at least `min_packets` outbound packets matched after the change.
* ``no-traffic``: the exporter was reporting, but nothing matched.

The figures always carry the spike ratio (post vs baseline packets per hour), the return ratio
(paired return packets / outbound packets), distinct destinations and the top destinations with
AS number, organisation and provider class; `suspicious` says whether the AN0926 pattern holds:
a spike (or brand new traffic) with few returns toward cdn / hosting / cloud / tor-exit or anomalous
(not seen in the baseline) destinations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.flows.backends.base import (
    Counters,
    FlowBackend,
    FlowSelector,
    OutboundSummary,
    PairRow,
    ServiceRow,
    TimeWindow,
)
from cfgwatch.flows.figures import NO_FLAGS, Destination, FlowFigures, FlowFlags, rounded
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.model import AddressSet, PortSet

Verdict = Literal["traffic-confirmed", "no-traffic", "no-coverage", "not-checked"]
SUSPICIOUS_CLASSES = frozenset({"cdn", "hosting", "cloud", "tor-exit"})


@dataclass(frozen=True, slots=True)
class FlowCheck:
    """What one change asks of the flow store."""

    device: str  # exporter name of the device
    internal: AddressSet  # affected internal sources
    external: AddressSet | None  # public destinations the change points at; None = any non-internal
    ports: PortSet | None
    change_time: datetime  # timezone-aware
    internal_networks: AddressSet  # what counts as internal
    translated: AddressSet | None = None  # post-NAT addresses the change introduces


@dataclass(frozen=True, slots=True)
class FlowVerdict:
    """The flow verdict of one change: data, never an exception. Its flags travel inside its figures."""

    verdict: Verdict
    figures: FlowFigures | None = None
    notes: tuple[str, ...] = ()

    @property
    def flags(self) -> FlowFlags:
        return self.figures.flags if self.figures is not None else NO_FLAGS

    @property
    def spike(self) -> bool:
        return self.flags.spike

    @property
    def few_returns(self) -> bool:
        return self.flags.few_returns

    @property
    def suspicious(self) -> bool:
        return self.flags.suspicious

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            **self.flags.to_json(),
            "figures": self.figures.to_json() if self.figures else None,
            "notes": list(self.notes),
        }


NOT_CHECKED = FlowVerdict("not-checked", notes=("flow verification not configured",))


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """The window-wide part of an `OutboundSummary` (what a verdict needs besides the top destinations)."""

    exporter_records: int
    out: Counters
    ret: Counters
    distinct_sources: int
    distinct_destinations: int

    @classmethod
    def of(cls, summary: OutboundSummary) -> WindowTotals:
        return cls(
            summary.exporter_records, summary.out, summary.ret, summary.distinct_sources, summary.distinct_destinations
        )


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """Both windows of one change, pre-digested: a batching backend answers many of these in one query
    instead of shipping every remote prefix of every window back to Python."""

    post: WindowTotals
    baseline: WindowTotals
    new_destinations: int  # post prefixes with outbound traffic that had none in the baseline
    top_destinations: tuple[Destination, ...]  # largest outbound bytes first, ties by prefix text


@runtime_checkable
class BatchVerifier(Protocol):
    """A backend that answers many (selector, post window, baseline window) requests at once (DuckDB).

    The result for each request must equal what `outbound_summary` on both windows gives after folding
    (`summarize_check`); `verify_many` uses it when the backend has it."""

    def check_summaries(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], *, top: int
    ) -> list[CheckSummary]: ...


def summarize_check(post: OutboundSummary, baseline: OutboundSummary, top: int) -> CheckSummary:
    """Fold two per-window summaries into a `CheckSummary` (the reference the batched path must match)."""
    seen = frozenset(row.prefix for row in baseline.remotes)
    new = sum(1 for row in post.remotes if row.prefix not in seen)
    destinations = tuple(
        Destination(
            row.prefix,
            row.sample_address,
            row.asn,
            row.org,
            row.provider_class,
            row.out.packets,
            row.out.bytes,
            row.out.flows,
            row.ret.packets,
            row.prefix not in seen,
        )
        for row in post.remotes[:top]
    )
    return CheckSummary(WindowTotals.of(post), WindowTotals.of(baseline), new, destinations)


def windows(change_time: datetime, settings: FlowSettings) -> tuple[TimeWindow, TimeWindow]:
    """(post, baseline) windows around a change time."""
    post = TimeWindow.starting(change_time, timedelta(hours=settings.post_window_hours))
    baseline = TimeWindow.ending(change_time, timedelta(hours=settings.baseline_hours))
    return post, baseline


def selector_for(check: FlowCheck) -> FlowSelector:
    return FlowSelector(
        exporters=(check.device,),
        sources=check.internal,
        internal=check.internal_networks,
        destinations=check.external,
        ports=check.ports,
        translated=check.translated,
    )


def verify(backend: FlowBackend, check: FlowCheck, settings: FlowSettings, *, notes: Iterable[str] = ()) -> FlowVerdict:
    """Compare the post-change window with the baseline for one change. `notes` (e.g. the enricher's
    "no ASN database") are attached to every verdict."""
    return verify_many(backend, [check], settings, notes=notes)[0]


def verify_many(
    backend: FlowBackend,
    checks: Iterable[FlowCheck],
    settings: FlowSettings,
    *,
    notes: Iterable[str] = (),
    events: Events = NO_EVENTS,
) -> list[FlowVerdict]:
    """Verify each change in order; `events` hears of each queried change (stage "verify") before its query.

    A `BatchVerifier` backend answers every change in one query; other backends get two
    `outbound_summary` calls per change (one when the exporter was silent after the change)."""
    fixed = tuple(notes)
    items = list(checks)
    results: list[FlowVerdict | None] = [None] * len(items)
    pending: list[int] = []
    for index, check in enumerate(items):
        if check.internal.is_empty and (check.translated is None or check.translated.is_empty):
            results[index] = FlowVerdict("not-checked", notes=(*fixed, "change affects no internal addresses"))
        else:
            pending.append(index)
    events.stage_started("verify", len(pending))
    if isinstance(backend, BatchVerifier):
        requests = []
        for done, index in enumerate(pending, start=1):
            events.item_done("verify", items[index], done, len(pending))
            requests.append((selector_for(items[index]), *windows(items[index].change_time, settings)))
        for index, summary in zip(
            pending, backend.check_summaries(requests, top=settings.top_destinations), strict=True
        ):
            results[index] = _verdict(items[index], settings, fixed, summary)
    else:
        for done, index in enumerate(pending, start=1):
            events.item_done("verify", items[index], done, len(pending))
            results[index] = _verify_one(backend, items[index], settings, fixed)
    events.stage_finished("verify")
    return [item for item in results if item is not None]


def _verify_one(backend: FlowBackend, check: FlowCheck, settings: FlowSettings, notes: tuple[str, ...]) -> FlowVerdict:
    """The per-change path over the plain `FlowBackend` queries."""
    post_window, baseline_window = windows(check.change_time, settings)
    selector = selector_for(check)
    post = backend.outbound_summary(selector, post_window)
    if post.exporter_records == 0:
        empty = OutboundSummary(baseline_window, 0, Counters(), Counters(), 0, 0, ())
        return _verdict(check, settings, notes, summarize_check(post, empty, settings.top_destinations))
    baseline = backend.outbound_summary(selector, baseline_window)
    return _verdict(check, settings, notes, summarize_check(post, baseline, settings.top_destinations))


def _verdict(check: FlowCheck, settings: FlowSettings, notes: tuple[str, ...], summary: CheckSummary) -> FlowVerdict:
    post_window, baseline_window = windows(check.change_time, settings)
    post = summary.post
    if post.exporter_records == 0:
        return FlowVerdict(
            "no-coverage",
            figures=_figures(summary, None, post_window, baseline_window),
            notes=(*notes, f"exporter {check.device!r} sent no flow records between {_span(post_window)}"),
        )
    baseline = summary.baseline
    figures = _figures(summary, baseline, post_window, baseline_window)
    extra: list[str] = []
    if baseline.exporter_records == 0:
        extra.append(f"no baseline: exporter {check.device!r} sent no records between {_span(baseline_window)}")
    if figures.packets < settings.min_packets:
        return FlowVerdict("no-traffic", figures=figures, notes=(*notes, *extra))
    spike = figures.spike_ratio is None or figures.spike_ratio >= settings.spike_ratio
    few_returns = figures.return_ratio is not None and figures.return_ratio < settings.low_return_ratio
    risky = any(item.provider_class in SUSPICIOUS_CLASSES or item.new for item in figures.top_destinations)
    flags = FlowFlags(spike=spike, few_returns=few_returns, suspicious=spike and few_returns and risky)
    return FlowVerdict("traffic-confirmed", figures=replace(figures, flags=flags), notes=(*notes, *extra))


def _span(window: TimeWindow) -> str:
    return f"{window.start.isoformat()} and {window.end.isoformat()}"


def _figures(
    summary: CheckSummary,
    baseline: WindowTotals | None,
    post_window: TimeWindow,
    baseline_window: TimeWindow,
) -> FlowFigures:
    """Figures of a check; `baseline` None = not consulted (no coverage after the change): nothing is new."""
    post = summary.post
    base_packets = baseline.out.packets if baseline else 0
    spike: float | None
    post_rate = post.out.packets / max(post_window.hours, 1e-9)
    base_rate = base_packets / max(baseline_window.hours, 1e-9)
    spike = post_rate / base_rate if base_rate > 0 else None
    if spike is None and post.out.packets == 0:
        spike = 0.0
    return_ratio = post.ret.packets / post.out.packets if post.out.packets else None
    top = summary.top_destinations
    if baseline is None:
        top = tuple(replace(item, new=False) for item in top)
    return FlowFigures(
        post_window=post_window,
        baseline_window=baseline_window,
        exporter_records=post.exporter_records,
        packets=post.out.packets,
        bytes=post.out.bytes,
        flows=post.out.flows,
        baseline_packets=base_packets,
        baseline_bytes=baseline.out.bytes if baseline else 0,
        baseline_flows=baseline.out.flows if baseline else 0,
        spike_ratio=spike,
        return_packets=post.ret.packets,
        return_ratio=return_ratio,
        distinct_sources=post.distinct_sources,
        distinct_destinations=post.distinct_destinations,
        new_destinations=summary.new_destinations if baseline is not None else 0,
        top_destinations=top,
    )


# -- hunt -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HuntFinding:
    """An internal source whose outbound traffic to one remote prefix spiked with few returns."""

    internal: str
    prefix: str
    asn: int
    org: str
    provider_class: str
    reason: str  # "cdn" | "hosting" | "cloud" | "tor-exit" | "anomalous"
    packets: int
    bytes: int
    flows: int
    baseline_packets: int
    spike_ratio: float | None
    return_ratio: float
    services: tuple[ServiceRow, ...] = ()  # the destination hosts and ports inside `prefix`, largest first

    def to_json(self) -> dict[str, Any]:
        return {
            "internal": self.internal,
            "prefix": self.prefix,
            "asn": self.asn or None,
            "org": self.org or None,
            "provider_class": self.provider_class or None,
            "reason": self.reason,
            "packets": self.packets,
            "bytes": self.bytes,
            "flows": self.flows,
            "baseline_packets": self.baseline_packets,
            "spike_ratio": rounded(self.spike_ratio),
            "return_ratio": rounded(self.return_ratio),
            "destinations": [
                {
                    "address": row.address,
                    "port": row.port,
                    "packets": row.out.packets,
                    "bytes": row.out.bytes,
                    "flows": row.out.flows,
                }
                for row in self.services
            ],
        }


# The hunt names the hosts and ports behind this many findings (one more query each), largest first.
HUNT_DETAILED = 25


@dataclass(frozen=True, slots=True)
class HuntResult:
    window: TimeWindow
    baseline_window: TimeWindow
    findings: tuple[HuntFinding, ...]
    notes: tuple[str, ...] = field(default=())


def hunt(
    backend: FlowBackend,
    internal_networks: AddressSet,
    settings: FlowSettings,
    *,
    end: datetime | None = None,
    since: timedelta | None = None,
    exporters: tuple[str, ...] = (),
    has_asn_db: bool = True,
    notes: Iterable[str] = (),
) -> HuntResult:
    """Internal sources whose outbound traffic to cdn/hosting/cloud/tor-exit or anomalous destinations spiked
    with few return packets. An "anomalous" destination is an AS (or, without an ASN database, a /24)
    the source did not talk to in the baseline window. `end` defaults to the newest flow in the store."""
    note_list = list(notes)
    if end is None:
        span = backend.time_range(exporters)
        if span is None:
            return HuntResult(
                TimeWindow(_epoch(), _epoch()), TimeWindow(_epoch(), _epoch()), (), (*note_list, "flow store is empty")
            )
        end = span[1] + timedelta(microseconds=1)
    length = since or timedelta(hours=settings.hunt_since_hours)
    window = TimeWindow.ending(end, length)
    baseline_window = TimeWindow.ending(window.start, timedelta(hours=settings.baseline_hours))
    selector = FlowSelector(exporters, internal_networks, internal_networks)
    post_pairs = backend.pair_summary(selector, window, min_out_packets=settings.hunt_min_packets)
    base_pairs = backend.pair_summary(selector, baseline_window, min_out_packets=1)
    base_by_pair: dict[tuple[str, str], PairRow] = {(row.internal, row.prefix): row for row in base_pairs}
    seen_asn: dict[str, set[int]] = {}
    seen_prefix: dict[str, set[str]] = {}
    for row in base_pairs:
        seen_prefix.setdefault(row.internal, set()).add(row.prefix)
        if row.asn:
            seen_asn.setdefault(row.internal, set()).add(row.asn)
    findings: list[HuntFinding] = []
    for row in post_pairs:
        before = base_by_pair.get((row.internal, row.prefix))
        base_packets = before.out.packets if before else 0
        post_rate = row.out.packets / max(window.hours, 1e-9)
        base_rate = base_packets / max(baseline_window.hours, 1e-9)
        spike = post_rate / base_rate if base_rate > 0 else None
        if spike is not None and spike < settings.spike_ratio:
            continue
        return_ratio = row.ret.packets / row.out.packets if row.out.packets else 0.0
        if return_ratio >= settings.low_return_ratio:
            continue
        if row.provider_class in SUSPICIOUS_CLASSES:
            reason = row.provider_class
        elif has_asn_db and row.asn:
            if row.asn in seen_asn.get(row.internal, set()):
                continue
            reason = "anomalous"
        elif row.prefix not in seen_prefix.get(row.internal, set()):
            reason = "anomalous"
        else:
            continue
        findings.append(
            HuntFinding(
                row.internal,
                row.prefix,
                row.asn,
                row.org,
                row.provider_class,
                reason,
                row.out.packets,
                row.out.bytes,
                row.out.flows,
                base_packets,
                spike,
                return_ratio,
            )
        )
    findings.sort(key=lambda item: (-item.bytes, item.internal, item.prefix))
    findings[:HUNT_DETAILED] = [
        replace(
            item,
            services=backend.destination_services(
                FlowSelector(
                    exporters,
                    AddressSet.parse(item.internal),
                    internal_networks,
                    destinations=AddressSet.parse(item.prefix),
                ),
                window,
            ),
        )
        for item in findings[:HUNT_DETAILED]
    ]
    if len(findings) > HUNT_DETAILED:
        note_list.append(f"destination hosts and ports are listed for the {HUNT_DETAILED} largest findings only")
    if not has_asn_db:
        note_list.append("without an ASN database, destinations (/24) never seen in the baseline count as anomalous")
    return HuntResult(window, baseline_window, tuple(findings), tuple(note_list))


def _epoch() -> datetime:
    from datetime import UTC

    return datetime(1970, 1, 1, tzinfo=UTC)
