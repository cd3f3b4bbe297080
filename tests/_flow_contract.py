"""The FlowBackend contract: one class of tests that every flow backend's test class subclasses.

The pattern is napalm's `BaseTestGetters`: `FlowBackendContract` holds the tests, a subclass only provides
the `backend` fixture, its backend built over the shared `FlowData`. The flows travel as a router would
send them: IPFIX over UDP into a real nfcapd (so nfdump reads real nfcapd files); `nfdump -o json` of those
files is what the SQL stores ingest. Every test checks the scenario's known answers and compares with the
`reference` fixture (an embedded DuckDB store over the same data), so verdicts, figures and notes are
identical across backends.

The module using the contract provides the `flow_data` and `reference` fixtures (see test_flow_backends.py).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _flow_fixtures import export_rows_to_nfcapd, require_binary

from cfgwatch.flows.backends.base import FlowBackend, FlowSelector, TimeWindow
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.enrich import NO_ASN_DB_NOTE, Enricher
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.verify import FlowCheck, FlowVerdict, hunt, verify
from cfgwatch.model import AddressSet, PortSet

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CHANGE = T0 + timedelta(hours=6)
INTERNAL = AddressSet.parse("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
SETTINGS = FlowSettings(baseline_hours=6, post_window_hours=6, hunt_min_packets=100)
EXPORTERS = {"fw1": "127.0.0.2", "fw2": "127.0.0.3"}
VPS = "45.77.10.50"  # in the hosting range file below
CDN_NET = "104.16.5."  # in the cloudflare range file below
SPIKE_FLOWS, SPIKE_PACKETS, RETURN_FLOWS, RETURN_PACKETS = 200, 50, 10, 50


def _ip(text: str) -> int:
    return int.from_bytes(bytes(int(part) for part in text.split(".")), "big")


def _row(start: datetime, src: str, dst: str, sport: int, dport: int, packets: int, bytes_: int, **extra: Any) -> dict:
    return {
        "time_start": start,
        "time_end": start + timedelta(milliseconds=extra.pop("duration_ms", 800)),
        "src_v4": _ip(src),
        "dst_v4": _ip(dst),
        "src_port": sport,
        "dst_port": dport,
        "proto": 6,
        "packets": packets,
        "bytes": bytes_,
        **extra,
    }


def scenario_rows() -> list[dict]:
    """Steady CDN traffic all day; a spike to a VPS proxy port after the change with 5% returns; fw2 goes silent."""
    rows: list[dict] = []
    for step in range(72):  # every 10 minutes for 12 hours
        moment = T0 + timedelta(minutes=10 * step, milliseconds=137)
        for host in range(10, 15):
            src, cdn = f"10.1.0.{host}", f"{CDN_NET}{host}"
            rows.append(_row(moment, src, cdn, 40000 + step, 443, 20, 20_000, exporter="fw1", direction=2))
            rows.append(
                _row(moment + timedelta(milliseconds=5), cdn, src, 443, 40000 + step, 18, 30_000, exporter="fw1")
            )
        if step < 36:
            rows.append(_row(moment, "10.2.0.7", f"{CDN_NET}99", 41000 + step, 443, 10, 9_000, exporter="fw2"))
    # The changed host talked to the CDN a little before the change.
    for step in range(6):
        rows.append(
            _row(T0 + timedelta(hours=step), "10.1.0.5", f"{CDN_NET}5", 42000 + step, 443, 4, 2_000, exporter="fw1")
        )
    # After the change: proxy traffic through a new source NAT, with few returns.
    for index in range(SPIKE_FLOWS):
        moment = CHANGE + timedelta(seconds=90 * index, milliseconds=index)
        rows.append(
            _row(
                moment,
                "10.1.0.5",
                VPS,
                50000 + index,
                3128,
                SPIKE_PACKETS,
                40_000,
                exporter="fw1",
                nat_src_v4=_ip("198.18.0.1"),
                nat_src_port=60000 + index,
                direction=2,
            )
        )
    for index in range(RETURN_FLOWS):
        moment = CHANGE + timedelta(seconds=900 * index + 1)
        rows.append(_row(moment, VPS, "10.1.0.5", 3128, 50000 + index, RETURN_PACKETS, 5_000, exporter="fw1"))
    # Window edges: 1 ms before the change (baseline) and a long flow straddling the change (baseline by start).
    rows.append(_row(CHANGE - timedelta(milliseconds=1), "10.1.0.5", VPS, 59998, 3128, 3, 300, exporter="fw1"))
    rows.append(
        _row(CHANGE - timedelta(minutes=5), "10.1.0.5", VPS, 59999, 3128, 7, 700, exporter="fw1", duration_ms=900_000)
    )
    return rows


def make_enricher(root: Path) -> Enricher:
    """Provider classes from two range files, and no ASN database (so every verdict carries that note)."""
    (root / "hosting-vps.txt").write_text("45.77.0.0/16\n", encoding="utf-8")
    (root / "cloudflare.txt").write_text("104.16.0.0/13\n", encoding="utf-8")
    return Enricher(provider_ranges=[root / "hosting-vps.txt", root / "cloudflare.txt"])


@dataclass(frozen=True)
class FlowData:
    """The scenario once: a real nfcapd tree, and `nfdump -o json` of it per exporter."""

    root: Path
    nfcapd: Path
    exports: dict[str, Path]  # exporter name -> nfdump JSON of its records

    @classmethod
    def build(cls, root: Path) -> FlowData:
        require_binary("nfcapd", "nfdump")
        nfdump = require_binary("nfdump", "nfdump")
        flowdir = export_rows_to_nfcapd(scenario_rows(), root / "nfcapd", by_exporter=EXPORTERS)
        exports: dict[str, Path] = {}
        for name, address in EXPORTERS.items():
            target = exports[name] = root / f"{name}.json"
            with target.open("w", encoding="utf-8") as handle:
                subprocess.run(
                    [nfdump, "-R", str(flowdir), "-o", "json", f"router ip {address}"],
                    stdout=handle,
                    check=True,
                    env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
                )
        return cls(root, flowdir, exports)

    def ingest_into(self, backend: Any) -> None:
        """Ingest every exporter's export into an ingesting backend (DuckDB, ClickHouse)."""
        for name, path in self.exports.items():
            report = backend.ingest(path, "nfdump-json", exporter=name)
            assert report.records > 0 and report.bad == 0, report

    def duckdb(self, directory: str) -> DuckDBBackend:
        backend = DuckDBBackend(self.root / directory, enricher=make_enricher(self.root))
        self.ingest_into(backend)
        return backend


def check(internal: str, *, device: str = "fw1", ports: PortSet | None = None) -> FlowCheck:
    return FlowCheck(
        device=device,
        internal=AddressSet.parse(internal),
        external=None,
        ports=ports,
        change_time=CHANGE,
        internal_networks=INTERNAL,
    )


def verdict_of(backend: FlowBackend, flow_check: FlowCheck, notes: tuple[str, ...] = ()) -> FlowVerdict:
    return verify(backend, flow_check, SETTINGS, notes=notes)


def as_json(verdict: FlowVerdict) -> str:
    return json.dumps(verdict.to_json(), sort_keys=True)


class FlowBackendContract:
    """Every FlowBackend answers the scenario exactly like the reference store. Subclasses provide `backend`."""

    def test_is_a_flow_backend(self, backend: FlowBackend) -> None:
        assert isinstance(backend, FlowBackend) and backend.name

    def test_confirms_the_planted_proxy_traffic(self, backend: FlowBackend, reference: FlowBackend) -> None:
        verdict = verdict_of(backend, check("10.1.0.5"))
        assert verdict.verdict == "traffic-confirmed"
        assert verdict.suspicious and verdict.spike and verdict.few_returns
        assert verdict.figures is not None
        top = verdict.figures.top_destinations[0]
        assert (top.prefix, top.provider_class, top.packets) == (
            "45.77.10.0/24",
            "hosting",
            SPIKE_FLOWS * SPIKE_PACKETS,
        )
        assert top.return_packets == RETURN_FLOWS * RETURN_PACKETS
        assert as_json(verdict) == as_json(verdict_of(reference, check("10.1.0.5")))

    def test_steady_cdn_traffic_is_not_suspicious(self, backend: FlowBackend, reference: FlowBackend) -> None:
        verdict = verdict_of(backend, check("10.1.0.12"))
        assert verdict.verdict == "traffic-confirmed" and not verdict.suspicious and not verdict.spike
        assert as_json(verdict) == as_json(verdict_of(reference, check("10.1.0.12")))

    def test_silent_exporter_is_no_coverage(self, backend: FlowBackend, reference: FlowBackend) -> None:
        verdict = verdict_of(backend, check("10.2.0.7", device="fw2"))
        assert verdict.verdict == "no-coverage"
        assert as_json(verdict) == as_json(verdict_of(reference, check("10.2.0.7", device="fw2")))

    def test_verdict_notes_come_from_the_backends_enricher(self, backend: FlowBackend, reference: FlowBackend) -> None:
        """No ASN database is configured: the audit takes the notes from the backend's enricher, so every
        verdict says so, whichever backend answered."""
        notes = tuple(backend.enricher.notes())
        assert notes == (NO_ASN_DB_NOTE,)
        verdict = verdict_of(backend, check("10.1.0.5"), notes)
        assert as_json(verdict) == as_json(verdict_of(reference, check("10.1.0.5"), notes))

    def test_summaries_agree_field_by_field(self, backend: FlowBackend, reference: FlowBackend) -> None:
        selector = FlowSelector(("fw1",), AddressSet.parse("10.1.0.0/24"), INTERNAL, ports=PortSet.of(443, 3128))
        for window in (TimeWindow(T0, CHANGE), TimeWindow(CHANGE, CHANGE + timedelta(hours=6))):
            summary = backend.outbound_summary(selector, window)
            assert summary.out.flows > 0 and summary.ret.flows > 0
            assert summary == reference.outbound_summary(selector, window)
            # Pairs are ordered by outbound bytes; equal-bytes pairs may come in any order.
            assert sorted(backend.pair_summary(selector, window), key=repr) == sorted(
                reference.pair_summary(selector, window), key=repr
            )
            assert backend.baseline_remotes(selector, window) == reference.baseline_remotes(selector, window)
            assert _counts(backend, ("fw1", "fw2"), window) == _counts(reference, ("fw1", "fw2"), window)
        # Sub-second window bounds (nfdump's per-record path): the counts must not move.
        odd = TimeWindow(T0 + timedelta(milliseconds=137), CHANGE - timedelta(microseconds=500))
        assert _counts(backend, ("fw1", "fw2"), odd) == _counts(reference, ("fw1", "fw2"), odd)
        assert backend.time_range() == reference.time_range()

    def test_edge_records_count_in_the_baseline_only(self, backend: FlowBackend) -> None:
        """1 ms before the change, and the flow straddling the change, belong to the window they start in."""
        selector = FlowSelector(("fw1",), AddressSet.parse("10.1.0.5"), INTERNAL, ports=PortSet.of(3128))
        baseline = backend.outbound_summary(selector, TimeWindow(T0, CHANGE))
        post = backend.outbound_summary(selector, TimeWindow(CHANGE, CHANGE + timedelta(hours=6)))
        assert (baseline.out.flows, baseline.out.packets, post.out.flows) == (2, 10, SPIKE_FLOWS)

    def test_hunt_finds_the_spike(self, backend: FlowBackend, reference: FlowBackend) -> None:
        def run(store: FlowBackend) -> list[dict[str, Any]]:
            result = hunt(store, INTERNAL, SETTINGS, end=CHANGE + timedelta(hours=6), since=timedelta(hours=6))
            return [item.to_json() for item in result.findings]

        found = run(backend)
        assert [(item["internal"], item["prefix"], item["reason"]) for item in found] == [
            ("10.1.0.5", "45.77.10.0/24", "hosting")
        ]
        # the hunt names the destination host and port behind the /24, not only the prefix
        assert found[0]["destinations"] == [
            {"address": VPS, "port": 3128, "packets": SPIKE_FLOWS * SPIKE_PACKETS, "bytes": SPIKE_FLOWS * 40_000,
             "flows": SPIKE_FLOWS}
        ]  # fmt: skip
        assert found == run(reference)

    def test_destination_services_rank_alike(self, backend: FlowBackend, reference: FlowBackend) -> None:
        """Five CDN hosts with equal traffic: ranked by bytes, ties by address, cut at `top`, in every backend."""
        selector = FlowSelector(("fw1",), AddressSet.parse("10.1.0.0/24"), INTERNAL, AddressSet.parse("104.16.5.0/24"))
        window = TimeWindow(T0, T0 + timedelta(hours=12))
        rows = backend.destination_services(selector, window, top=3)
        assert [(row.address, row.port) for row in rows] == [(f"{CDN_NET}{host}", 443) for host in (10, 11, 12)]
        assert all(row.out.flows == 72 and row.out.packets == 72 * 20 for row in rows)
        assert rows == reference.destination_services(selector, window, top=3)
        assert backend.destination_services(selector, TimeWindow(T0 - timedelta(hours=2), T0), top=3) == ()


def _counts(backend: FlowBackend, exporters: tuple[str, ...], window: TimeWindow) -> list[tuple[str, int]]:
    return [(row.exporter, row.records) for row in backend.coverage(exporters, window)]
