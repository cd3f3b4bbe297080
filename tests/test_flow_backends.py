"""One verification scenario, three stores, the real programs: DuckDB, nfcapd files read by nfdump, ClickHouse.

The flows travel as a router would send them: IPFIX over UDP into a real nfcapd (so nfdump reads real
nfcapd files); `nfdump -o json` of those files is what DuckDB and a private clickhouse-server ingest.
Every backend must then give the same verdicts and the same figures.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _flow_fixtures import (
    ClickHouseServer,
    IpfixExporter,
    Nfcapd,
    PacketFlow,
    clickhouse_server,
    export_rows_to_nfcapd,
    require_binary,
    run_softflowd,
    write_pcap,
)

from cfgwatch.flows.backends.base import FlowBackend, FlowSelector, OutboundSummary, TimeWindow
from cfgwatch.flows.backends.clickhouse import ClickHouseBackend
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.backends.nfdump import NfdumpBackend, NfdumpError, NfdumpExporter, check_nfdump
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.verify import FlowCheck, hunt, verify
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


def _enricher(root: Path) -> Enricher:
    (root / "hosting-vps.txt").write_text("45.77.0.0/16\n", encoding="utf-8")
    (root / "cloudflare.txt").write_text("104.16.0.0/13\n", encoding="utf-8")
    return Enricher(provider_ranges=[root / "hosting-vps.txt", root / "cloudflare.txt"])


def _nfdump_json(flowdir: Path, exporter_ip: str, target: Path) -> Path:
    nfdump = require_binary("nfdump", "nfdump")
    with target.open("w", encoding="utf-8") as handle:
        subprocess.run(
            [nfdump, "-R", str(flowdir), "-o", "json", f"router ip {exporter_ip}"],
            stdout=handle,
            check=True,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        )
    return target


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FlowBackend]]:
    root = tmp_path_factory.mktemp("flowstores")
    require_binary("nfcapd", "nfdump")
    flowdir = export_rows_to_nfcapd(scenario_rows(), root / "nfcapd", by_exporter=EXPORTERS)
    exports = {name: _nfdump_json(flowdir, ip, root / f"{name}.json") for name, ip in EXPORTERS.items()}
    backends: dict[str, FlowBackend] = {}
    duck = DuckDBBackend(root / "duckdb", enricher=_enricher(root))
    for name, path in exports.items():
        duck.ingest(path, "nfdump-json", exporter=name)
    backends["duckdb"] = duck
    backends["nfdump"] = NfdumpBackend(
        flowdir, exporters=[NfdumpExporter(name, ip) for name, ip in EXPORTERS.items()], enricher=_enricher(root)
    )
    with clickhouse_server() as server:
        house = ClickHouseBackend(port=server.tcp_port, table="flows", enricher=_enricher(root))
        for name, path in exports.items():
            house.ingest(path, "nfdump-json", exporter=name)
        backends["clickhouse"] = house
        yield backends
        for backend in backends.values():
            backend.close()


def _check(internal: str, *, device: str = "fw1", ports: PortSet | None = None) -> FlowCheck:
    return FlowCheck(
        device=device,
        internal=AddressSet.parse(internal),
        external=None,
        ports=ports,
        change_time=CHANGE,
        internal_networks=INTERNAL,
    )


def test_every_backend_confirms_the_planted_proxy_traffic(stores: dict[str, FlowBackend]) -> None:
    verdicts = {name: verify(backend, _check("10.1.0.5"), SETTINGS) for name, backend in stores.items()}
    duck = verdicts["duckdb"]
    assert duck.verdict == "traffic-confirmed"
    assert duck.suspicious and duck.spike and duck.few_returns
    assert duck.figures is not None
    top = duck.figures.top_destinations[0]
    assert (top.prefix, top.provider_class, top.packets) == ("45.77.10.0/24", "hosting", SPIKE_FLOWS * SPIKE_PACKETS)
    assert top.return_packets == RETURN_FLOWS * RETURN_PACKETS
    for name, verdict in verdicts.items():
        assert json.dumps(verdict.to_json(), sort_keys=True) == json.dumps(duck.to_json(), sort_keys=True), name


def test_steady_cdn_traffic_is_not_suspicious_anywhere(stores: dict[str, FlowBackend]) -> None:
    verdicts = {name: verify(backend, _check("10.1.0.12"), SETTINGS) for name, backend in stores.items()}
    assert verdicts["duckdb"].verdict == "traffic-confirmed"
    assert not verdicts["duckdb"].suspicious and not verdicts["duckdb"].spike
    assert {json.dumps(v.to_json(), sort_keys=True) for v in verdicts.values()} == {
        json.dumps(verdicts["duckdb"].to_json(), sort_keys=True)
    }


def test_silent_exporter_is_no_coverage_on_every_backend(stores: dict[str, FlowBackend]) -> None:
    for name, backend in stores.items():
        verdict = verify(backend, _check("10.2.0.7", device="fw2"), SETTINGS)
        assert verdict.verdict == "no-coverage", name


def test_summaries_agree_field_by_field(stores: dict[str, FlowBackend]) -> None:
    selector = FlowSelector(("fw1",), AddressSet.parse("10.1.0.0/24"), INTERNAL, ports=PortSet.of(443, 3128))
    for window in (TimeWindow(T0, CHANGE), TimeWindow(CHANGE, CHANGE + timedelta(hours=6))):
        summaries = {name: backend.outbound_summary(selector, window) for name, backend in stores.items()}
        pairs = {name: backend.pair_summary(selector, window) for name, backend in stores.items()}
        coverage = {name: backend.coverage(("fw1", "fw2"), window) for name, backend in stores.items()}
        reference = summaries["duckdb"]
        assert reference.out.flows > 0 and reference.ret.flows > 0
        for name in stores:
            assert summaries[name] == reference, name
            # Pairs are ordered by outbound bytes; equal-bytes pairs may come in any order.
            assert sorted(pairs[name], key=repr) == sorted(pairs["duckdb"], key=repr), name
            assert [(row.exporter, row.records) for row in coverage[name]] == [
                (row.exporter, row.records) for row in coverage["duckdb"]
            ], name
    # Sub-second window bounds take nfdump's per-record path; the counts must not move.
    odd = TimeWindow(T0 + timedelta(milliseconds=137), CHANGE - timedelta(microseconds=500))
    counts = {
        name: [(r.exporter, r.records) for r in backend.coverage(("fw1", "fw2"), odd)]
        for name, backend in stores.items()
    }
    assert counts["nfdump"] == counts["clickhouse"] == counts["duckdb"]
    # The edge records: 1 ms before the change and the straddling flow count in the baseline only.
    baseline = stores["nfdump"].outbound_summary(
        FlowSelector(("fw1",), AddressSet.parse("10.1.0.5"), INTERNAL, ports=PortSet.of(3128)), TimeWindow(T0, CHANGE)
    )
    assert (baseline.out.flows, baseline.out.packets) == (2, 10)


def test_hunt_finds_the_spike_on_every_backend(stores: dict[str, FlowBackend]) -> None:
    results = {
        name: hunt(backend, INTERNAL, SETTINGS, end=CHANGE + timedelta(hours=6), since=timedelta(hours=6))
        for name, backend in stores.items()
    }
    findings = results["duckdb"].findings
    assert [(item.internal, item.prefix, item.reason) for item in findings] == [
        ("10.1.0.5", "45.77.10.0/24", "hosting")
    ]
    for name, result in results.items():
        assert [item.to_json() for item in result.findings] == [item.to_json() for item in findings], name


def test_clickhouse_ingest_is_idempotent(stores: dict[str, FlowBackend], tmp_path: Path) -> None:
    house = stores["clickhouse"]
    assert isinstance(house, ClickHouseBackend)
    before = house.record_count()
    sample = tmp_path / "again.json"
    sample.write_text(
        json.dumps([{"type": "FLOW", "first": "2024-03-02T00:00:00.000", "last": "2024-03-02T00:00:01.000",
                     "proto": 6, "src4_addr": "10.9.9.9", "dst4_addr": "45.77.1.1", "src_port": 1, "dst_port": 2,
                     "in_packets": 3, "in_bytes": 4}]),
        encoding="utf-8",
    )  # fmt: skip
    first = house.ingest(sample, "nfdump-json", exporter="fw9")
    second = house.ingest(sample, "nfdump-json", exporter="fw9")
    assert (first.records, first.skipped, second.skipped) == (1, False, True)
    assert house.record_count() == before + 1


def test_softflowd_pcap_through_nfcapd_gives_the_verdict(tmp_path: Path) -> None:
    """Packets -> softflowd (IPFIX, ms times) -> nfcapd -> cfgwatch's nfdump backend -> verdict."""
    base = CHANGE.timestamp()
    flows = [
        PacketFlow("10.1.0.5", "104.16.5.5", 42000 + i, 443, "tcp", start=base - 3600 + 60 * i, packets=2)
        for i in range(3)
    ]
    flows += [
        PacketFlow("10.1.0.5", VPS, 50000 + i, 3128, "tcp", start=base + 10 + 30 * i, packets=12) for i in range(10)
    ]
    flows += [PacketFlow(VPS, "10.1.0.5", 3128, 50000, "tcp", start=base + 11, packets=3)]
    pcap = tmp_path / "proxy.pcap"
    write_pcap(pcap, flows)
    with Nfcapd(tmp_path / "nfcapd") as collector:
        run_softflowd(pcap, collector.port)
    backend = NfdumpBackend(
        tmp_path / "nfcapd", exporters=[NfdumpExporter("fw1", "127.0.0.1")], enricher=_enricher(tmp_path)
    )
    settings = FlowSettings(baseline_hours=6, post_window_hours=6, min_packets=10)
    verdict = verify(backend, _check("10.1.0.5"), settings)
    assert verdict.verdict == "traffic-confirmed"
    assert verdict.figures is not None
    top = verdict.figures.top_destinations[0]
    assert (top.prefix, top.provider_class, top.packets, top.flows) == ("45.77.10.0/24", "hosting", 120, 10)
    assert top.return_packets == 3
    assert verdict.suspicious


def test_nfdump_missing_or_bad_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NfdumpError, match="apt-get install nfdump"):
        check_nfdump(str(tmp_path / "no-such-nfdump"))
    require_binary("nfdump", "nfdump")
    assert check_nfdump() >= (1, 7, 0)
    with pytest.raises(NfdumpError, match="does not exist"):
        NfdumpBackend(tmp_path / "missing")


def test_clickhouse_private_server_speaks_the_old_sql(tmp_path: Path) -> None:
    """The DDL and the IPv4 helpers the docs rely on run on the installed server (18.16 on Debian)."""
    del tmp_path
    with clickhouse_server() as server:
        _assert_server(server)


def _assert_server(server: ClickHouseServer) -> None:
    client = server.client()
    assert client.execute("SELECT IPv4NumToString(toUInt32(167772165)), IPv4StringToNum('10.0.0.5')") == [
        ("10.0.0.5", 167772165)
    ]
    backend = ClickHouseBackend(port=server.tcp_port, table="probe_flows")
    assert backend.record_count() == 0
    assert backend.time_range() is None
    backend.close()


def test_clickhouse_reads_a_foreign_table_through_the_readme_column_mapping(stores: dict[str, FlowBackend]) -> None:
    """An Akvorado-shaped table (IPv6-mapped addresses, receive time, sampling) read via the README mapping."""
    house = stores["clickhouse"]
    assert isinstance(house, ClickHouseBackend)
    client = house.client
    client.execute(
        "CREATE TABLE akv (TimeReceived DateTime, ExporterName String, SrcAddr FixedString(16),"
        " DstAddr FixedString(16), SrcPort UInt16, DstPort UInt16, Proto UInt8, Packets UInt64, Bytes UInt64,"
        " SamplingRate UInt64, DstAS UInt32) ENGINE = MergeTree() ORDER BY TimeReceived"
    )

    def mapped(text: str) -> bytes:
        return bytes(10) + b"\xff\xff" + bytes(int(part) for part in text.split("."))

    moment = CHANGE.replace(tzinfo=None) + timedelta(minutes=5)
    client.execute(
        "INSERT INTO akv VALUES",
        [
            (moment, "fw1", mapped("10.1.0.5"), mapped(VPS), 50000, 3128, 6, 10, 4000, 100, 20473),
            (moment, "fw1", mapped(VPS), mapped("10.1.0.5"), 3128, 50000, 6, 1, 100, 100, 0),
        ],
    )
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("**Akvorado.**", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    columns = {}
    in_columns = False
    for line in block.splitlines():
        if line.strip() == "columns:":
            in_columns = True
        elif in_columns and ":" in line:
            key, _, expr = line.strip().partition(": ")
            columns[key] = expr
    assert "src_v4" in columns and "time_start" in columns
    akv = ClickHouseBackend(port=client.connection.port, table="akv", columns=columns, create=False)
    summary = akv.outbound_summary(
        FlowSelector(("fw1",), AddressSet.parse("10.1.0.5"), INTERNAL), TimeWindow(CHANGE, CHANGE + timedelta(hours=1))
    )
    assert (summary.out.packets, summary.ret.packets, summary.exporter_records) == (1000, 100, 2)
    assert [(row.prefix, row.asn) for row in summary.remotes] == [("45.77.10.0/24", 20473)]
    with pytest.raises(Exception, match="read-only"):
        akv.ingest(Path(__file__), "nfdump-json")


def test_cli_ingest_and_hunt_on_clickhouse_from_cfgwatch_yaml(tmp_path: Path) -> None:
    """`flows.backend: clickhouse` in cfgwatch.yaml drives `cfgwatch flows ingest` and `flows hunt`."""
    import sys

    from cfgwatch.demo import VPS_PROXY, demo_flows
    from cfgwatch.flows.synth import write_nfdump_csv

    change = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=30)
    flows = write_nfdump_csv(tmp_path / "flows.csv", demo_flows(change))
    with clickhouse_server() as server:
        config = tmp_path / "cfgwatch.yaml"
        config.write_text(
            f"flows:\n  backend: clickhouse\n  clickhouse: {{port: {server.tcp_port}, table: cli_flows}}\n",
            encoding="utf-8",
        )
        base = [sys.executable, "-m", "cfgwatch", "-c", str(config), "flows"]
        ingest = subprocess.run([*base, "ingest", str(flows), "--format", "nfdump-csv"], capture_output=True, text=True)
        assert ingest.returncode == 0, ingest.stderr
        hunt = subprocess.run([*base, "hunt", "--since", "3d", "--format", "json"], capture_output=True, text=True)
        assert hunt.returncode in (0, 1), hunt.stderr
        text = json.dumps(json.loads(hunt.stdout))
        assert VPS_PROXY.rsplit(".", 1)[0] in text and "10.10.0.23" in text


# -- nfcapd trees rotated as nfcapd writes them ---------------------------------------------------------


ROTATE = 7200  # seconds per file: few files keep the test fast; the file-statistics path is the same at 300


def _rotated_nfcapd(rows: list[dict], flowdir: Path, rotate: int = ROTATE) -> Path:
    """The rows as a rotated nfcapd tree: a record is exported when its flow ends, so the file named for
    slot S holds the records ending in [S, S + rotate). One real nfcapd per slot; its file is renamed to
    the slot time (nfcapd names files by wall-clock time, and the flows are from 2024)."""
    nfdump = require_binary("nfdump", "nfdump")
    flowdir.mkdir(parents=True)
    slots: dict[int, list[dict]] = {}
    for row in rows:
        slots.setdefault(int(row["time_end"].timestamp()) // rotate * rotate, []).append(row)
    for slot, group in sorted(slots.items()):
        scratch = flowdir.parent / "slot"
        export_rows_to_nfcapd(group, scratch, by_exporter=EXPORTERS)
        written = [path for path in scratch.iterdir() if path.name.startswith("nfcapd.")]
        target = flowdir / datetime.fromtimestamp(slot, UTC).strftime("nfcapd.%Y%m%d%H%M")
        if len(written) == 1:
            written[0].rename(target)
        else:  # nfcapd's own wall-clock rotation fell inside the slot
            subprocess.run([nfdump, "-R", str(scratch), "-w", str(target)], check=True, capture_output=True)
        shutil.rmtree(scratch)
    return flowdir


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> NfdumpBackend:
    root = tmp_path_factory.mktemp("rotated")
    flowdir = _rotated_nfcapd(scenario_rows(), root / "nfcapd")
    assert len(list(flowdir.iterdir())) >= 6
    return NfdumpBackend(
        flowdir, exporters=[NfdumpExporter(name, ip) for name, ip in EXPORTERS.items()], enricher=_enricher(root)
    )


WINDOWS = (
    TimeWindow(T0, CHANGE),
    TimeWindow(CHANGE, CHANGE + timedelta(hours=6)),
    TimeWindow(CHANGE + timedelta(minutes=37, seconds=5), datetime(2100, 1, 1, tzinfo=UTC)),  # "after time T"
    TimeWindow(T0 - timedelta(days=1), T0 + timedelta(days=2)),  # every record
    TimeWindow(T0 + timedelta(hours=1, milliseconds=137), CHANGE - timedelta(microseconds=500)),  # sub-second
    TimeWindow(T0 + timedelta(hours=1, milliseconds=138), CHANGE - timedelta(milliseconds=1)),  # edge records out
    TimeWindow(T0 + timedelta(days=3), T0 + timedelta(days=4)),  # after every record
)


def _same(left: OutboundSummary, right: OutboundSummary) -> None:
    """Equal field by field, except which of several equally large remotes is the sample (backends break
    that tie arbitrarily: DuckDB's arg_max, nfdump's record order)."""

    def plain(summary: OutboundSummary) -> OutboundSummary:
        return replace(summary, remotes=tuple(replace(row, sample_address="") for row in summary.remotes))

    assert plain(left) == plain(right)


def test_rotated_nfcapd_tree_answers_like_every_store(rotated: NfdumpBackend, stores: dict[str, FlowBackend]) -> None:
    """Window counts from file statistics + boundary files, and the streamed records, match DuckDB exactly."""
    duck = stores["duckdb"]
    selectors = (
        FlowSelector((), AddressSet.parse("10.1.0.0/24"), INTERNAL),  # every exporter: the statistics path
        FlowSelector(("fw1",), AddressSet.parse("10.1.0.0/24"), INTERNAL, ports=PortSet.of(443, 3128)),
        FlowSelector((), AddressSet.parse("10.1.0.5"), INTERNAL, translated=AddressSet.parse("198.18.0.1")),
    )
    for window in WINDOWS:
        for selector in selectors:
            reference = duck.outbound_summary(selector, window)
            _same(rotated.outbound_summary(selector, window), reference)
            assert sorted(rotated.pair_summary(selector, window), key=repr) == sorted(
                duck.pair_summary(selector, window), key=repr
            )
            assert rotated.baseline_remotes(selector, window) == duck.baseline_remotes(selector, window)
        for exporters in ((), ("fw1", "fw2")):
            assert [(r.exporter, r.records) for r in rotated.coverage(exporters, window)] == [
                (r.exporter, r.records) for r in duck.coverage(exporters, window)
            ], (window, exporters)
    assert rotated.time_range() == duck.time_range()


def test_rotated_tree_counts_whole_files_from_their_statistics(
    rotated: NfdumpBackend, stores: dict[str, FlowBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After time T, only the files that can hold records from before T are read for the count; the
    rest is counted from `nfdump -I`. A straddling record (started before T, in a later file) is not counted."""
    commands: list[list[str]] = []
    original = NfdumpBackend._stream

    def spy(self: NfdumpBackend, command: list[str]) -> Iterator[str]:
        commands.append(command)
        return original(self, command)

    monkeypatch.setattr(NfdumpBackend, "_stream", spy)
    since = CHANGE  # the 15-minute flow starting 5 minutes before the change ends in the file named for it
    window = TimeWindow(since, datetime(2100, 1, 1, tzinfo=UTC))
    selector = FlowSelector((), AddressSet.parse("10.1.0.5"), INTERNAL)
    summary = rotated.outbound_summary(selector, window)
    assert summary == stores["duckdb"].outbound_summary(selector, window)
    files = sorted(path.name for path in rotated.directory.iterdir())
    counted = [command for command in commands if "router/flows" in command]
    assert any("-I" in command for command in commands)
    assert counted, "the file around T is read with -t T"
    for command in counted:
        span = command[command.index("-R") + 1]
        assert not span.endswith(files[-1]), f"a whole-file count read records: {span}"
    # The straddling flow is in the file named for the change yet belongs to the baseline.
    straddler = FlowSelector(("fw1",), AddressSet.parse("10.1.0.5"), INTERNAL, ports=PortSet.of(3128))
    post = rotated.outbound_summary(straddler, TimeWindow(CHANGE, CHANGE + timedelta(hours=6)))
    baseline = rotated.outbound_summary(straddler, TimeWindow(T0, CHANGE))
    assert (post.out.flows, baseline.out.flows, baseline.out.packets) == (SPIKE_FLOWS, 2, 10)


def test_flows_longer_than_max_flow_seconds_are_the_documented_gap(rotated: NfdumpBackend) -> None:
    """nfdump's -t window also bounds the flow END; the end bound is window end + max_flow_seconds, so a
    flow lasting longer than that is dropped from the streamed records (the count, from -t START alone,
    keeps it). The 15-minute straddler shows it with max_flow_seconds=60."""
    short = NfdumpBackend(rotated.directory, exporters=list(rotated.exporters.values()), max_flow_seconds=60)
    straddler = FlowSelector(("fw1",), AddressSet.parse("10.1.0.5"), INTERNAL, ports=PortSet.of(3128))
    window = TimeWindow(T0, CHANGE)
    assert rotated.outbound_summary(straddler, window).out.flows == 2
    lossy = short.outbound_summary(straddler, window)
    assert lossy.out.flows == 1
    assert lossy.exporter_records == rotated.outbound_summary(straddler, window).exporter_records


def test_per_exporter_subdirectories_count_from_statistics(tmp_path: Path, stores: dict[str, FlowBackend]) -> None:
    """nfcapd -n ident,IP,dir: each exporter's own directory is counted from its file statistics."""
    rows = scenario_rows()
    flowdir = tmp_path / "nfcapd"
    with Nfcapd(flowdir, sources={"fw1": EXPORTERS["fw1"], "fw2": EXPORTERS["fw2"]}) as collector:
        for name, source_ip in EXPORTERS.items():
            with IpfixExporter(collector.port, source_ip=source_ip) as out:
                out.send_rows(row for row in rows if row["exporter"] == name)
    backend = NfdumpBackend(
        flowdir, exporters=[NfdumpExporter(name, ip, subdir=name) for name, ip in EXPORTERS.items()]
    )
    for window in WINDOWS:
        for exporters in (("fw1",), ("fw1", "fw2")):
            assert [(r.exporter, r.records) for r in backend.coverage(exporters, window)] == [
                (r.exporter, r.records) for r in stores["duckdb"].coverage(exporters, window)
            ], (window, exporters)
