"""The flow backend interface: the few aggregate queries that verification and hunting need.

Each query is designed to be ONE SQL statement in DuckDB or ClickHouse, or ONE nfdump invocation
(filter + `-A srcip,dstip` aggregation folded in Python). Backends return typed aggregates, never
rows of raw flows, so a ClickHouse cluster or an nfcapd tree answers the same questions as the
embedded DuckDB store.

Record semantics shared by every backend (see also `cfgwatch.flows.schema`):

* The *remote* end of an outbound record is its post-NAT destination when the exporter reported one,
  else its destination. Remote ends are aggregated per /24 (IPv4) or /48 (IPv6): `schema.prefix_key_sql`.
* An *outbound* record (for a `FlowSelector`): action is not REJECT; the source is one of
  `selector.sources` or the source / post-NAT source is one of `selector.translated`; the destination
  or post-NAT destination is in `selector.destinations` (or, when that is None, the remote end is not
  in `selector.internal`); and, when `selector.ports` is set, the destination port or post-NAPT
  destination port is in it.
* A *return* record: action is not REJECT; the destination (or post-NAT destination) is one of
  `sources` or `translated`, and the source is not internal (or is in `destinations` when given);
  its remote end is its source, with the same prefix key.
* Return traffic is *paired* per remote prefix: only returns from prefixes that received outbound
  traffic in the same window count, plus the reverse counters (`rev_packets`, `rev_bytes`) of the
  outbound records themselves (biflow exporters: NSEL, Zeek, Azure v2).
* Windows are half-open [start, end) on `time_start`, in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cfgwatch.model import AddressSet, PortSet

if TYPE_CHECKING:
    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.settings import FlowSettings


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open [start, end) UTC interval on flow start time."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("TimeWindow needs timezone-aware datetimes")
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})")

    @classmethod
    def ending(cls, end: datetime, length: timedelta) -> TimeWindow:
        return cls(end - length, end)

    @classmethod
    def starting(cls, start: datetime, length: timedelta) -> TimeWindow:
        return cls(start, start + length)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def hours(self) -> float:
        return self.duration.total_seconds() / 3600.0

    def naive_utc(self) -> tuple[datetime, datetime]:
        """(start, end) as naive UTC datetimes: the form DuckDB TIMESTAMP columns compare with."""
        return (
            self.start.astimezone(UTC).replace(tzinfo=None),
            self.end.astimezone(UTC).replace(tzinfo=None),
        )


@dataclass(frozen=True, slots=True)
class FlowSelector:
    """Which records belong to a change (or, with sources = all internal, to a hunt)."""

    exporters: tuple[str, ...]  # empty = every exporter
    sources: AddressSet  # internal sources the change affects (pre-NAT)
    internal: AddressSet  # what counts as internal
    destinations: AddressSet | None = None  # public destinations the change points at; None = any non-internal
    ports: PortSet | None = None  # destination ports; None = any
    translated: AddressSet | None = None  # post-NAT addresses the change introduces


@dataclass(frozen=True, slots=True)
class Counters:
    """Packets, bytes and records (flows)."""

    packets: int = 0
    bytes: int = 0
    flows: int = 0

    def __add__(self, other: Counters) -> Counters:
        return Counters(self.packets + other.packets, self.bytes + other.bytes, self.flows + other.flows)

    @property
    def is_zero(self) -> bool:
        return self.packets == 0 and self.bytes == 0 and self.flows == 0


ZERO = Counters()


@dataclass(frozen=True, slots=True)
class RemoteRow:
    """One remote /24 (or /48) with outbound and paired return counters."""

    prefix: str  # CIDR text, e.g. "203.0.113.0/24"
    asn: int  # 0 = unknown
    org: str
    provider_class: str  # cdn | cloud | hosting | tor-exit | '' (unknown / none)
    out: Counters
    ret: Counters
    destinations: int  # distinct remote addresses inside the prefix that received outbound traffic
    sample_address: str = ""  # one remote address (the largest by bytes when the backend can tell)


@dataclass(frozen=True, slots=True)
class AsnRow:
    """Outbound and return counters per destination AS (asn 0 groups every unknown AS)."""

    asn: int
    org: str
    provider_class: str
    out: Counters
    ret: Counters
    prefixes: int


@dataclass(frozen=True, slots=True)
class OutboundSummary:
    """Aggregates of a selector over one window: the figures a verdict is made of."""

    window: TimeWindow
    exporter_records: int  # every record of the selected exporters in the window (coverage)
    out: Counters  # outbound records
    ret: Counters  # paired return traffic (see module doc)
    distinct_sources: int
    distinct_destinations: int
    remotes: tuple[RemoteRow, ...]  # every remote prefix with outbound traffic, largest out.bytes first

    def by_asn(self) -> tuple[AsnRow, ...]:
        """Fold `remotes` per AS, largest outbound bytes first."""
        groups: dict[int | str, list[RemoteRow]] = {}
        for row in self.remotes:
            key: int | str = row.asn if row.asn else f"class:{row.provider_class}"
            groups.setdefault(key, []).append(row)
        out: list[AsnRow] = []
        for rows in groups.values():
            first = rows[0]
            total_out = sum((row.out for row in rows), ZERO)
            total_ret = sum((row.ret for row in rows), ZERO)
            out.append(AsnRow(first.asn, first.org, first.provider_class, total_out, total_ret, len(rows)))
        out.sort(key=lambda row: (-row.out.bytes, row.asn))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class PairRow:
    """One (internal host, remote prefix) pair: the unit the hunt scores."""

    internal: str  # internal address text
    prefix: str
    asn: int
    org: str
    provider_class: str
    out: Counters
    ret: Counters


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """Outbound traffic to one remote address and destination port: the hosts and services a prefix stands
    for (post-NAT address and port when the record carries them, like every remote in this module)."""

    address: str
    port: int
    out: Counters

    @property
    def endpoint(self) -> str:
        """'45.77.10.5:3128', '[2001:db8::5]:443'."""
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def top_services(rows: Iterable[ServiceRow], top: int) -> tuple[ServiceRow, ...]:
    """The `top` largest by outbound bytes; ties by address then port, so every backend ranks alike."""
    return tuple(sorted(rows, key=lambda row: (-row.out.bytes, row.address, row.port))[:top])


def services_from_sql(rows: Iterable[Sequence[Any]], top: int) -> tuple[ServiceRow, ...]:
    """`top_services` of SQL rows (ip_version, v4, v6_hi, v6_lo, port, packets, bytes, flows)."""
    from cfgwatch.flows.schema import decode_address

    return top_services(
        (
            ServiceRow(
                decode_address(int(row[0]), int(row[1]), int(row[2]), int(row[3])),
                int(row[4]),
                Counters(int(row[5]), int(row[6]), int(row[7])),
            )
            for row in rows
        ),
        top,
    )


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """How many records an exporter sent in a window (0 records = telemetry gap)."""

    exporter: str
    records: int
    first: datetime | None = None
    last: datetime | None = None


@dataclass(frozen=True, slots=True)
class BaselineRemotes:
    """Remote prefixes and ASNs the selected sources talked to in a window (what is 'not anomalous')."""

    prefixes: frozenset[str] = frozenset()
    asns: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What one ingested file produced. Bad records are data here, never exceptions."""

    path: str
    format: str
    records: int  # good records stored
    bad: int  # records skipped
    bad_samples: tuple[str, ...] = ()  # "file:line: reason", first few
    skipped: bool = False  # the same content was ingested before (idempotent ingest)
    sha256: str = ""
    days: tuple[str, ...] = field(default=())


@runtime_checkable
class FlowBackend(Protocol):
    """A store that answers the verification and hunt queries. Implementations: duckdb, nfdump, clickhouse.

    `enricher` is the destination enrichment the backend applies (at ingest or at query time); verdicts
    and the hunt read its state (`has_asn_db`, `notes()`) from here, so every backend must expose it.
    """

    name: str
    enricher: Enricher

    def coverage(self, exporters: Sequence[str], window: TimeWindow) -> tuple[CoverageRow, ...]:
        """Records per exporter in the window; every requested exporter appears (0 when silent).

        With no exporters given, one row per exporter that has records in the window.
        """
        ...

    def outbound_summary(self, selector: FlowSelector, window: TimeWindow) -> OutboundSummary:
        """Outbound totals, paired returns, distinct counts and per-prefix rows for one window."""
        ...

    def pair_summary(
        self, selector: FlowSelector, window: TimeWindow, *, min_out_packets: int = 1
    ) -> tuple[PairRow, ...]:
        """Per (internal source, remote prefix): outbound and paired return counters (for the hunt)."""
        ...

    def baseline_remotes(self, selector: FlowSelector, window: TimeWindow) -> BaselineRemotes:
        """Remote prefixes and non-zero ASNs that received outbound traffic from the selector in the window."""
        ...

    def destination_services(
        self, selector: FlowSelector, window: TimeWindow, *, top: int = 5
    ) -> tuple[ServiceRow, ...]:
        """Outbound traffic per remote address and destination port, the `top` largest (`top_services`):
        which hosts and ports a hunt finding's prefix stands for."""
        ...

    def time_range(self, exporters: Sequence[str] = ()) -> tuple[datetime, datetime] | None:
        """Earliest and latest flow start (UTC-aware) in the store, or None when it is empty."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class IngestingBackend(FlowBackend, Protocol):
    """A backend that cfgwatch writes into (the embedded store; ClickHouse may implement it too)."""

    def ingest(
        self,
        path: str | Path,
        format_name: str,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
    ) -> IngestReport:
        """Read one file with a `cfgwatch.flows.formats` reader and store it; same content twice is a no-op.

        `aws_fields` is the field order of a headerless file, for formats that take one (AWS VPC logs).
        """
        ...


class BackendFactory(Protocol):
    """Opens a backend from the `flows:` section: `store` is the resolved flows.store directory and
    `base_dir` the directory of cfgwatch.yaml (for the backend's own relative paths)."""

    def __call__(self, settings: FlowSettings, *, store: Path, base_dir: Path, enricher: Enricher) -> FlowBackend: ...


@dataclass(frozen=True, slots=True)
class BackendPlugin:
    """A flow backend as registered under the `cfgwatch.flow_backends` entry-point group.

    `embedded_store`: the backend keeps its flows in the store directory, so a missing directory means
    nothing was ever ingested and an audit says `not-checked` instead of opening (and creating) it.
    """

    open: BackendFactory
    embedded_store: bool = False


def merge_counters(rows: Iterable[Counters]) -> Counters:
    return sum(rows, ZERO)
