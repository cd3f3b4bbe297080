"""Three flow stores, the real programs: DuckDB, nfcapd files read by nfdump, and a private ClickHouse server.

Each backend's test class subclasses the shared contract (`_flow_contract.FlowBackendContract`) and only
builds its backend over the same flow data; what follows the classes is backend-specific.
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
from _flow_contract import (
    CHANGE,
    EXPORTERS,
    INTERNAL,
    SPIKE_FLOWS,
    T0,
    VPS,
    FlowBackendContract,
    FlowData,
    check,
    make_enricher,
    scenario_rows,
)
from _flow_fixtures import (
    CLUSTER,
    ClickHouseServer,
    IpfixExporter,
    Nfcapd,
    PacketFlow,
    clickhouse_cluster,
    clickhouse_server,
    damaged_copy,
    export_rows_to_nfcapd,
    require_binary,
    run_softflowd,
    write_pcap,
)

from cfgwatch.errors import InputError
from cfgwatch.flows.backends.base import FlowBackend, FlowSelector, OutboundSummary, TimeWindow
from cfgwatch.flows.backends.clickhouse import ClickHouseBackend
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.backends.nfdump import NfdumpBackend, NfdumpError, NfdumpExporter, check_nfdump
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.verify import verify
from cfgwatch.model import AddressSet, PortSet


@pytest.fixture(scope="module")
def flow_data(tmp_path_factory: pytest.TempPathFactory) -> FlowData:
    return FlowData.build(tmp_path_factory.mktemp("flowdata"))


@pytest.fixture(scope="module")
def reference(flow_data: FlowData) -> Iterator[DuckDBBackend]:
    """The store every backend is compared with: the embedded DuckDB store over the same data."""
    backend = flow_data.duckdb("reference")
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def clickhouse() -> Iterator[ClickHouseServer]:
    with clickhouse_server() as server:
        yield server


class TestDuckDB(FlowBackendContract):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, flow_data: FlowData) -> Iterator[FlowBackend]:
        store = flow_data.duckdb("duckdb")
        yield store
        store.close()


class TestNfdump(FlowBackendContract):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, flow_data: FlowData) -> Iterator[FlowBackend]:
        store = NfdumpBackend(
            flow_data.nfcapd,
            exporters=[NfdumpExporter(name, ip) for name, ip in EXPORTERS.items()],
            enricher=make_enricher(flow_data.root),
        )
        yield store
        store.close()


class TestClickHouse(FlowBackendContract):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, flow_data: FlowData, clickhouse: ClickHouseServer) -> Iterator[FlowBackend]:
        store = ClickHouseBackend(port=clickhouse.tcp_port, table="flows", enricher=make_enricher(flow_data.root))
        flow_data.ingest_into(store)
        yield store
        store.close()


class TestClickHouseCluster(FlowBackendContract):
    """Scale-out: two clickhouse-server processes as two shards, cfgwatch's own DDL (local MergeTree on each
    shard, Distributed over them), ingest across the shards, and every contract test against DuckDB."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, flow_data: FlowData) -> Iterator[FlowBackend]:
        with clickhouse_cluster() as (query_node, other_shard):
            store = ClickHouseBackend(
                port=query_node.tcp_port, table="flows", cluster=CLUSTER, enricher=make_enricher(flow_data.root)
            )
            flow_data.ingest_into(store)
            per_shard = [
                server.client().execute("SELECT count(), uniqExact(exporter) FROM flows_local")[0]
                for server in (query_node, other_shard)
            ]
            # both shards hold part of the flows (sharded by exporter), and together all of them
            assert all(count > 0 for count, _ in per_shard), per_shard
            assert sum(count for count, _ in per_shard) == store.record_count()
            yield store
            store.close()


def test_cluster_name_not_in_remote_servers_is_a_clear_error(clickhouse: ClickHouseServer) -> None:
    with pytest.raises(InputError, match="cluster 'nowhere' is not in the server's remote_servers"):
        ClickHouseBackend(port=clickhouse.tcp_port, table="flows_nowhere", cluster="nowhere")


def test_clickhouse_ingest_is_idempotent(clickhouse: ClickHouseServer, tmp_path: Path) -> None:
    house = ClickHouseBackend(port=clickhouse.tcp_port, table="idempotent_flows")
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
    house.close()


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
        tmp_path / "nfcapd", exporters=[NfdumpExporter("fw1", "127.0.0.1")], enricher=make_enricher(tmp_path)
    )
    settings = FlowSettings(baseline_hours=6, post_window_hours=6, min_packets=10)
    verdict = verify(backend, check("10.1.0.5"), settings)
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


def test_clickhouse_private_server_speaks_the_old_sql(clickhouse: ClickHouseServer) -> None:
    """The DDL and the IPv4 helpers the docs rely on run on the installed server (18.16 on Debian)."""
    client = clickhouse.client()
    assert client.execute("SELECT IPv4NumToString(toUInt32(167772165)), IPv4StringToNum('10.0.0.5')") == [
        ("10.0.0.5", 167772165)
    ]
    backend = ClickHouseBackend(port=clickhouse.tcp_port, table="probe_flows")
    assert backend.record_count() == 0
    assert backend.time_range() is None
    backend.close()


def test_clickhouse_outbound_summary_is_one_statement(
    flow_data: FlowData, clickhouse: ClickHouseServer, reference: DuckDBBackend
) -> None:
    """Issue 19 goal 7: per-prefix rows, distinct sources and destinations and the window's record count come
    back from ONE statement (WITH TOTALS + a scalar subquery), with the reference store's figures."""
    store = ClickHouseBackend(port=clickhouse.tcp_port, table="flows_one", enricher=make_enricher(flow_data.root))
    flow_data.ingest_into(store)
    statements: list[str] = []
    execute = store.client.execute

    def counting(sql: str, *args: object, **kwargs: object) -> object:
        statements.append(sql)
        return execute(sql, *args, **kwargs)

    store.client.execute = counting
    selector = FlowSelector(("fw1",), AddressSet.parse("10.1.0.0/24"), INTERNAL, ports=PortSet.of(443, 3128))
    for window in (TimeWindow(T0, CHANGE), TimeWindow(CHANGE, CHANGE + timedelta(hours=6))):
        statements.clear()
        summary = store.outbound_summary(selector, window)
        assert len(statements) == 1, statements
        assert summary.distinct_sources > 0 and summary.exporter_records > summary.out.flows
        assert summary == reference.outbound_summary(selector, window)
    store.close()


def test_clickhouse_reads_a_foreign_table_through_the_readme_column_mapping(clickhouse: ClickHouseServer) -> None:
    """An Akvorado-shaped table (IPv6-mapped addresses, receive time, sampling) read via the README mapping."""
    client = clickhouse.client()
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
        flowdir, exporters=[NfdumpExporter(name, ip) for name, ip in EXPORTERS.items()], enricher=make_enricher(root)
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


def test_rotated_nfcapd_tree_answers_like_every_store(rotated: NfdumpBackend, reference: DuckDBBackend) -> None:
    """Window counts from file statistics + boundary files, and the streamed records, match DuckDB exactly."""
    duck = reference
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
    rotated: NfdumpBackend, reference: DuckDBBackend, monkeypatch: pytest.MonkeyPatch
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
    assert summary == reference.outbound_summary(selector, window)
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


def test_per_exporter_subdirectories_count_from_statistics(tmp_path: Path, reference: DuckDBBackend) -> None:
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
                (r.exporter, r.records) for r in reference.coverage(exporters, window)
            ], (window, exporters)


@pytest.mark.parametrize("layout", ["single", "cluster"])
def test_clickhouse_batched_verification_equals_the_per_check_path(
    tmp_path_factory: pytest.TempPathFactory, layout: str
) -> None:
    """Issue 19 goal 7 on ClickHouse: every change of an audit in ONE statement (`check_summaries`), on one
    server and on the two-shard cluster, gives the verdicts of the per-change path and of DuckDB's batch."""
    from test_flows import CHANGE as PLANTED_CHANGE
    from test_flows import PerCheckOnly, batch_checks, build_mmdb

    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.synth import EXPORTER, planted_scenario, write_nfdump_csv
    from cfgwatch.flows.verify import BatchVerifier, verify_many

    root = tmp_path_factory.mktemp("planted-ch")
    export = write_nfdump_csv(root / "planted.csv", planted_scenario(PLANTED_CHANGE))
    mmdb = build_mmdb(root / "asn.mmdb")
    duck = DuckDBBackend(root / "duck", enricher=Enricher(mmdb))
    duck.ingest(export, "nfdump-csv", exporter=EXPORTER)
    servers = clickhouse_server() if layout == "single" else clickhouse_cluster()
    with servers as started:
        node = started if isinstance(started, ClickHouseServer) else started[0]
        cluster = None if layout == "single" else CLUSTER
        store = ClickHouseBackend(port=node.tcp_port, table="planted", cluster=cluster, enricher=Enricher(mmdb))
        assert isinstance(store, BatchVerifier)
        assert store.ingest(export, "nfdump-csv", exporter=EXPORTER).bad == 0
        statements: list[str] = []
        execute = store.client.execute

        def counting(sql: str, *args: object, **kwargs: object) -> object:
            statements.append(sql)
            return execute(sql, *args, **kwargs)

        checks = batch_checks()
        for baseline_hours in (72, 6):
            settings = FlowSettings(baseline_hours=baseline_hours, top_destinations=2)
            store.client.execute = counting
            batched = verify_many(store, checks, settings)
            store.client.execute = execute
            assert len(statements) == 1, statements
            statements.clear()
            assert batched == verify_many(PerCheckOnly(store), checks, settings)  # type: ignore[arg-type]
            assert batched == verify_many(duck, checks, settings)
            assert [item.verdict for item in batched[:3]] == ["traffic-confirmed"] * 3
            assert batched[-3].verdict == "no-coverage" and batched[-1].verdict == "not-checked"
        store.close()
    duck.close()


@pytest.mark.parametrize(
    ("name", "format_name"),
    [
        ("synth.csv", "nfdump-csv"),
        ("damaged-synth.csv", "nfdump-csv"),
        ("synth.zeek", "zeek-conn"),
        ("synth.aws", "aws-vpc"),
        ("damaged-synth.zeek", "zeek-conn"),
        ("nfdump_replayed.csv", "nfdump-csv"),
        ("zeek-cut-logs_conn.log", "zeek-conn"),
        ("otel_v5_custom_ecs.log", "aws-vpc"),
        ("otel_v6_transit_gateway.log", "aws-vpc"),
    ],
)
def test_clickhouse_native_ingest_stores_what_the_row_path_stores(
    clickhouse: ClickHouseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, format_name: str
) -> None:
    """Issue 19: the DuckDB-read, columnar ClickHouse ingest gives the rows, enrichment, counts, bad-record
    samples (file:line) and days of the Python row path, and stays idempotent."""
    from cfgwatch.flows.synth import write_aws_vpc_sql, write_nfdump_csv_sql, write_zeek_conn_sql

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
    writers = {"csv": write_nfdump_csv_sql, "zeek": write_zeek_conn_sql, "aws": write_aws_vpc_sql}
    stem = name.removeprefix("damaged-")
    if stem.startswith("synth."):
        path = writers[stem.split(".")[1]](tmp_path / stem, 2000, start=T0)
        # remote addresses in the provider ranges, so enrichment has something to find
        path.write_text(path.read_text(encoding="utf-8").replace("11.0.", "45.77."), encoding="utf-8")
        path = damaged_copy(path) if name.startswith("damaged-") else path
    else:
        path = fixtures / name
    table = f"native_{abs(hash(name)) % 10**8}"
    stored = []
    columnar: list[int] = []
    insert_staged = ClickHouseBackend._insert_staged

    def spy(self: ClickHouseBackend, *args: Any) -> tuple[str, ...]:
        columnar.append(1)
        return insert_staged(self, *args)

    for label in ("native", "rows"):
        with monkeypatch.context() as patch:
            patch.setattr(ClickHouseBackend, "_insert_staged", spy)
            if label == "rows":
                patch.setattr(ClickHouseBackend, "insert_native", lambda *_args, **_kwargs: None)
            house = ClickHouseBackend(
                port=clickhouse.tcp_port, table=f"{table}_{label}", enricher=make_enricher(tmp_path)
            )
            report = house.ingest(path, format_name, exporter="fw9")
            rows = house.client.execute(f"SELECT * FROM {table}_{label} ORDER BY tuple(*)")
            assert house.ingest(path, format_name, exporter="fw9").skipped
            house.close()
        stored.append((report.records, report.bad, report.bad_samples, report.days, rows))
    assert stored[0][:4] == stored[1][:4]
    assert stored[0][4] == stored[1][4]
    # the DuckDB-read path took every clean file; a damaged file took the row path (so did nfdump_replayed.csv:
    # its IPv6 records are odd to the scan)
    assert bool(columnar) == (not name.startswith("damaged-") and name != "nfdump_replayed.csv")
    if name.startswith("damaged-"):
        assert stored[0][1] >= 1 and all(f"{path}:" in sample for sample in stored[0][2])
    if stem.startswith("synth."):
        assert any(row[-2] == "hosting" for row in stored[0][4])
