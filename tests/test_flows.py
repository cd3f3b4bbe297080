"""Flow readers on real corpus samples, the DuckDB store, enrichment and verification with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_events import Recorder

from cfgwatch.flows.backends.base import FlowSelector, TimeWindow
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.enrich import NO_ASN_DB_NOTE, Enricher, RangeTable, provider_asns
from cfgwatch.flows.formats import ROW_FIELDS, get_reader, read
from cfgwatch.flows.formats.base import ReadStats
from cfgwatch.flows.schema import (
    COLUMN_NAMES,
    RECORD_COLUMNS,
    address_predicate,
    clickhouse_ddl,
    decode_address,
    duckdb_ddl,
    encode_address,
    nfdump_fmt,
)
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.synth import (
    CDN_ADDR,
    EXPORTER,
    SPIKE_HOST,
    STEADY_HOST,
    VPS_ADDR,
    planted_scenario,
    write_nfdump_csv,
)
from cfgwatch.flows.verify import FlowCheck, hunt, verify, verify_many
from cfgwatch.model import AddressSet, PortSet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
RFC1918 = AddressSet.parse("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
CHANGE = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2024, 5, 10, tzinfo=UTC)


def rows_of(name: str, fmt: str, **kwargs: object) -> tuple[list[dict[str, object]], ReadStats]:
    path = FIXTURES / name
    stats = ReadStats(str(path))
    reader = get_reader(fmt, **kwargs)  # type: ignore[arg-type]
    rows = [dict(zip(ROW_FIELDS, row, strict=True)) for row in reader(path, stats, None)]
    return rows, stats


# -- schema --------------------------------------------------------------------------------------------


def test_schema_drives_every_engine() -> None:
    assert tuple(name for name in COLUMN_NAMES if name != "day") == RECORD_COLUMNS
    ddl = duckdb_ddl()
    for name in COLUMN_NAMES:
        assert f"  {name} " in ddl
        assert f"`{name}`" in clickhouse_ddl()
    assert nfdump_fmt().startswith("fmt:%ts|%te|%ra")
    assert "%xsa" in nfdump_fmt()


@pytest.mark.parametrize("text", ["192.0.2.1", "2001:db8::1", "::ffff:198.51.100.7", "fe80::ff:fe00:901"])
def test_address_encoding_round_trips(text: str) -> None:
    version, v4, hi, lo = encode_address(text)
    decoded = decode_address(version, v4, hi, lo)
    assert decoded == text.replace("::ffff:", "")


def test_address_predicate_matches_v4_and_v6(tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(duckdb_ddl())
    for text in ("10.1.2.3", "192.0.2.1", "2001:db8::5", "2001:db9::1"):
        version, v4, hi, lo = encode_address(text)
        con.execute(
            "INSERT INTO flows (ip_version, src_v4, src_v6_hi, src_v6_lo) VALUES (?, ?, ?, ?)", [version, v4, hi, lo]
        )
    count = con.execute(
        "SELECT count(*) FROM flows WHERE " + address_predicate("src", AddressSet.parse("10.0.0.0/8", "2001:db8::/32"))
    ).fetchone()
    assert count == (2,)
    assert con.execute("SELECT count(*) FROM flows WHERE " + address_predicate("src", AddressSet())).fetchone() == (0,)


# -- readers: golden counts and fields on the corpus samples -----------------------------------------------


def test_nfdump_csv_reads_replayed_exports() -> None:
    rows, stats = rows_of("nfdump_replayed.csv", "nfdump-csv")
    assert (stats.records, stats.bad) == (117, 0)
    first = rows[0]
    assert decode_address(4, int(first["src_v4"]), 0, 0) == "192.168.14.1"  # type: ignore[call-overload]
    assert first["proto"] == 1 and first["bytes"] == 56 and first["exporter"] == "127.0.0.1"
    assert sum(1 for row in rows if row["ip_version"] == 6) == 18


def test_nfdump_json_keeps_nsel_translations() -> None:
    rows, stats = rows_of("nfdump_replayed.json", "nfdump-json")
    assert (stats.records, stats.bad) == (117, 0)
    first = rows[0]
    assert first["nat_dst_port"] == 17549
    assert decode_address(4, first["nat_dst_v4"], 0, 0) == "2.2.2.11"  # type: ignore[arg-type]
    assert sum(1 for row in rows if row["nat_src_v4"]) == 61


def test_aws_vpc_variants() -> None:
    rows, stats = rows_of("otel_v2_default_with_header.log", "aws-vpc")
    assert (stats.records, stats.bad) == (2, 0)
    assert rows[0]["exporter"] == "eni-1235b8ca123456789" and rows[0]["dst_port"] == 22 and rows[0]["action"] == 1
    assert rows[1]["action"] == 2  # REJECT
    rows, stats = rows_of("otel_v2_nodata.log", "aws-vpc")
    assert (stats.records, stats.bad) == (0, 0)  # NODATA marks no flow and is no error
    rows, stats = rows_of("otel_v5_custom_ecs.log", "aws-vpc")
    assert stats.records == 1 and rows[0]["packets"] == 15
    rows, stats = rows_of("otel_v6_transit_gateway.log", "aws-vpc")
    assert stats.records == 1 and rows[0]["tcp_flags"] == 2 and rows[0]["direction"] == 1
    rows, stats = rows_of("otel_cloudwatch_v2.json", "aws-vpc")
    assert (stats.records, stats.bad) == (2, 0)
    rows, stats = rows_of("otel_cloudwatch_custom.json", "aws-vpc")
    assert (stats.records, stats.bad) == (0, 2)
    assert "otel_cloudwatch_custom.json:1: logEvents[0]" in stats.samples[0]
    rows, stats = rows_of(
        "otel_cloudwatch_custom.json", "aws-vpc", aws_fields=("version", "interface-id", "srcaddr", "dstaddr")
    )
    assert (stats.records, stats.bad) == (2, 0)
    assert rows[0]["time_start"] == 1733430000000 * 1000  # CloudWatch event timestamp when the format has none


def test_gcp_vpc_logentries() -> None:
    rows, stats = rows_of("otel_managed_instance.ndjson", "gcp-vpc")
    assert (stats.records, stats.bad) == (2, 0)
    assert rows[0]["dst_port"] == 22 and rows[0]["packets"] == 8 and rows[0]["direction"] == 1
    assert rows[0]["exporter"] == "andrewvc-flowfixtures-network"
    for name in ("otel_from_computeengine.json", "otel_internet_routing_details.json"):
        _rows, stats = rows_of(name, "gcp-vpc")
        assert (stats.records, stats.bad) == (1, 0)
    rows, stats = rows_of("otel_google_service.ndjson", "gcp-vpc")
    assert stats.records == 2 and rows[0]["bytes"] == 38144


def test_azure_nsg_v1_and_v2() -> None:
    rows, stats = rows_of("connector_sample_v1.json", "azure-nsg")
    assert (stats.records, stats.bad) == (38, 0)
    assert rows[0]["exporter"] == "wadvm-nsg" and rows[0]["dst_port"] == 3128 and rows[0]["action"] == 2
    rows, stats = rows_of("connector_tests_v2.json", "azure-nsg")
    assert (stats.records, stats.bad) == (8, 0)
    assert stats.notes and "trailing comma" in stats.notes[0]
    ended = [row for row in rows if row["packets"]]
    assert ended and ended[0]["packets"] == 4 and ended[0]["rev_bytes"] == 126


def test_zeek_conn_tsv_headers_and_bad_lines() -> None:
    for name in ("zeek-cut-logs_conn.log", "zeek-cut-logs_conn-tsv.log"):
        rows, stats = rows_of(name, "zeek-conn")
        assert (stats.records, stats.bad) == (5, 0)
        assert rows[0]["packets"] == 4 and rows[0]["rev_bytes"] == 562 and rows[0]["exporter"] == "zeek"
    # btest baselines redact timestamps: every record is counted as bad with its line, the file is not aborted
    _rows, stats = rows_of("baseline_opt.basic_conn.log", "zeek-conn")
    assert (stats.records, stats.bad) == (0, 34)
    assert stats.samples[0].endswith("baseline_opt.basic_conn.log:10: bad timestamp 'XXXXXXXXXX.XXXXXX'")


def test_zeek_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "conn.json"
    path.write_text(
        '{"ts":1329843175.7,"id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"203.0.113.9","id.resp_p":443,'
        '"proto":"tcp","duration":1.5,"orig_pkts":3,"orig_ip_bytes":180,"resp_pkts":2,"resp_ip_bytes":120}\n'
        "not json\n",
        encoding="utf-8",
    )
    rows, stats = read(path, "zeek-conn", exporter="sensor1")
    got = [dict(zip(ROW_FIELDS, row, strict=True)) for row in rows]
    assert (stats.records, stats.bad) == (1, 1)
    assert got[0]["exporter"] == "sensor1" and got[0]["rev_packets"] == 2
    assert stats.samples[0].endswith(":2: data before a #fields header")


def test_goflow2_scales_by_sampling_rate() -> None:
    rows, stats = rows_of("readme_sample.json", "goflow2-json")
    assert stats.records == 1
    assert rows[0]["ip_version"] == 6 and rows[0]["packets"] == 100 and rows[0]["bytes"] == 150_000
    assert rows[0]["exporter"] == "192.168.0.1"


# -- store ----------------------------------------------------------------------------------------------


def test_ingest_is_idempotent(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "flows")
    first = backend.ingest(FIXTURES / "nfdump_replayed.csv", "nfdump-csv")
    assert (first.records, first.bad, first.skipped) == (117, 0, False)
    assert backend.record_count() == 117
    again = backend.ingest(FIXTURES / "nfdump_replayed.csv", "nfdump-csv")
    assert again.skipped and again.records == 0
    assert backend.record_count() == 117
    backend.ingest(FIXTURES / "connector_sample_v1.json", "azure-nsg")
    assert backend.record_count() == 155
    assert sorted(path.name for path in (tmp_path / "flows" / "data").iterdir())[0] == "day=1970-01-01"
    backend.close()
    reopened = DuckDBBackend(tmp_path / "flows")
    assert reopened.ingest(FIXTURES / "connector_sample_v1.json", "azure-nsg").skipped
    assert reopened.record_count() == 155
    reopened.close()


def test_nfdump_csv_fast_path_counts_bad_lines(tmp_path: Path) -> None:
    source = (FIXTURES / "nfdump_replayed.csv").read_text(encoding="utf-8").splitlines()
    source.insert(3, "2015-10-09 09:47:48,1970-01-01 00:00:00,0.000,not-an-ip,2.2.2.11" + ",0" * 43)
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(source) + "\n", encoding="utf-8")
    backend = DuckDBBackend(tmp_path / "flows")
    report = backend.ingest(path, "nfdump-csv", exporter="asa1")
    assert (report.records, report.bad) == (117, 1)
    assert report.bad_samples[0].endswith("broken.csv:4: unparsable nfdump CSV record")
    assert (
        backend.coverage(["asa1"], TimeWindow(datetime(1969, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)))[
            0
        ].records
        == 117
    )
    backend.close()


def test_nfdump_csv_parallel_path_matches_the_line_numbered_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cfgwatch.flows.backends.duckdb_ingest as duckdb_ingest

    flows = planted_scenario(CHANGE)
    with_summary = write_nfdump_csv(tmp_path / "with-summary.csv", flows)
    assert duckdb_ingest._nfdump_summary_rows(with_summary) == 3
    bare = tmp_path / "bare.csv"
    bare.write_text(with_summary.read_text(encoding="utf-8").split("Summary")[0], encoding="utf-8")
    assert duckdb_ingest._nfdump_summary_rows(bare) == 0
    trailing = tmp_path / "trailing.csv"  # a record after the Summary block: only the ordered path can tell
    trailing.write_text(
        with_summary.read_text(encoding="utf-8") + bare.read_text(encoding="utf-8").splitlines()[1] + "\n",
        encoding="utf-8",
    )
    assert duckdb_ingest._nfdump_summary_rows(trailing) is None

    def stored(root: Path, path: Path) -> list[tuple[object, ...]]:
        backend = DuckDBBackend(root)
        report = backend.ingest(path, "nfdump-csv", exporter=EXPORTER)
        assert (report.records, report.bad) == (len(flows), 0)
        backend.refresh()
        rows = backend.con.execute("SELECT * EXCLUDE (day) FROM flows ORDER BY ALL").fetchall()
        backend.close()
        return rows

    fast = stored(tmp_path / "fast", with_summary)
    assert stored(tmp_path / "bare-store", bare) == fast
    assert stored(tmp_path / "trailing-store", trailing) == fast  # the record after Summary is cut, as before
    monkeypatch.setattr(duckdb_ingest, "_nfdump_summary_rows", lambda _path: None)  # force the ordered path
    assert stored(tmp_path / "slow", with_summary) == fast


# -- enrichment ------------------------------------------------------------------------------------------


def build_mmdb(path: Path) -> Path:
    from mmdb_writer import MmdbU32, MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    writer.insert_network(
        IPSet(["104.16.0.0/13"]),
        {"autonomous_system_number": MmdbU32(13335), "autonomous_system_organization": "CLOUDFLARENET"},
    )
    writer.insert_network(
        IPSet(["45.77.0.0/16"]),
        {"autonomous_system_number": MmdbU32(20473), "autonomous_system_organization": "AS-CHOOPA"},
    )
    writer.to_db_file(str(path))
    return path


def test_enricher_with_mmdb_and_ranges(tmp_path: Path) -> None:
    ranges = tmp_path / "cloudflare-ips-v4.txt"
    ranges.write_text("# Cloudflare\n198.41.128.0/17\n", encoding="utf-8")
    aws = tmp_path / "ip-ranges.json"
    aws.write_text(
        '{"syncToken": "1", "createDate": "x", "prefixes": [{"ip_prefix": "3.5.140.0/22", "service": "AMAZON"}],'
        ' "ipv6_prefixes": []}',
        encoding="utf-8",
    )
    tor = tmp_path / "tor.txt"
    tor.write_text("ExitNode X\nExitAddress 185.220.101.1 2024-01-01 00:00:00\n", encoding="utf-8")
    enricher = Enricher(build_mmdb(tmp_path / "asn.mmdb"), [ranges, aws], tor)
    assert enricher.has_asn_db and enricher.notes() == ()
    assert enricher.lookup(VPS_ADDR).asn == 20473 and enricher.lookup(VPS_ADDR).provider_class == "hosting"
    assert enricher.lookup(CDN_ADDR).org == "CLOUDFLARENET" and enricher.lookup(CDN_ADDR).provider_class == "cdn"
    assert enricher.lookup("198.41.200.1").provider_class == "cdn"
    assert enricher.lookup("3.5.141.2").org == "Amazon AMAZON"
    assert enricher.lookup("185.220.101.1").provider_class == "tor-exit"
    assert enricher.lookup("10.0.0.1").asn == 0  # internal space is never enriched
    no_db = Enricher(provider_ranges=[ranges])
    assert no_db.notes() == (NO_ASN_DB_NOTE,) and no_db.lookup("198.41.200.1").provider_class == "cdn"
    assert provider_asns()[24940][1] == "hosting"


def test_range_table_prefers_nested_ranges() -> None:
    table = RangeTable()
    table.add("203.0.0.0/8", "big", "cloud")
    table.add("203.0.113.0/24", "small", "cdn")
    import ipaddress

    assert table.lookup(ipaddress.ip_address("203.0.113.5")) == ("small", "cdn")
    assert table.lookup(ipaddress.ip_address("203.1.0.1")) == ("big", "cloud")
    assert table.lookup(ipaddress.ip_address("8.8.8.8")) is None


# -- verification with a planted, known answer ---------------------------------------------------------------


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> DuckDBBackend:
    root = tmp_path_factory.mktemp("planted")
    csv_path = write_nfdump_csv(root / "planted.csv", planted_scenario(CHANGE))
    backend = DuckDBBackend(root / "flows", enricher=Enricher(build_mmdb(root / "asn.mmdb")))
    report = backend.ingest(csv_path, "nfdump-csv", exporter=EXPORTER)
    assert report.bad == 0
    return backend


def check(host: str, device: str = EXPORTER, **kwargs: object) -> FlowCheck:
    return FlowCheck(
        device=device,
        internal=AddressSet.parse(host),
        external=kwargs.get("external"),  # type: ignore[arg-type]
        ports=kwargs.get("ports"),  # type: ignore[arg-type]
        change_time=CHANGE,
        internal_networks=RFC1918,
    )


def test_spike_to_vps_with_few_returns_is_confirmed(planted: DuckDBBackend) -> None:
    settings = FlowSettings(baseline_hours=72)
    verdict = verify(planted, check(SPIKE_HOST), settings)
    assert verdict.verdict == "traffic-confirmed"
    assert verdict.spike and verdict.few_returns and verdict.suspicious
    figures = verdict.figures
    assert figures is not None
    assert figures.packets == 24 * 4 * 200
    assert figures.return_ratio == pytest.approx(40 / 800)
    top = figures.top_destinations[0]
    assert (top.prefix, top.asn, top.org, top.provider_class, top.new) == (
        "45.77.10.0/24",
        20473,
        "AS-CHOOPA",
        "hosting",
        True,
    )
    assert figures.baseline_packets == 72 * 5


def test_steady_cdn_traffic_is_not_suspicious(planted: DuckDBBackend) -> None:
    verdict = verify(planted, check(STEADY_HOST), FlowSettings(baseline_hours=72))
    assert verdict.verdict == "traffic-confirmed"
    assert not verdict.spike and not verdict.few_returns and not verdict.suspicious
    assert verdict.figures is not None and verdict.figures.spike_ratio == pytest.approx(1.0)
    assert verdict.figures.return_ratio == pytest.approx(1.0)


def test_ports_and_destinations_narrow_the_check(planted: DuckDBBackend) -> None:
    settings = FlowSettings(baseline_hours=72)
    other_port = verify(planted, check(SPIKE_HOST, ports=PortSet.of(3128)), settings)
    assert other_port.verdict == "no-traffic"
    to_vps = verify(
        planted, check(SPIKE_HOST, external=AddressSet.parse("45.77.0.0/16"), ports=PortSet.of(8080)), settings
    )
    assert to_vps.verdict == "traffic-confirmed" and to_vps.figures is not None
    assert to_vps.figures.distinct_destinations == 1


def test_device_without_exporter_is_no_coverage(planted: DuckDBBackend) -> None:
    verdicts = verify_many(
        planted,
        [check(SPIKE_HOST, device="branch-fw"), check("10.9.9.9")],
        FlowSettings(baseline_hours=72),
        notes=("no ASN database",),
    )
    assert [item.verdict for item in verdicts] == ["no-coverage", "no-traffic"]
    assert "branch-fw" in verdicts[0].notes[-1] and verdicts[0].notes[0] == "no ASN database"


class PerCheckOnly:
    """The DuckDB store seen only through the plain `FlowBackend` queries (hides `check_summaries`)."""

    name = "per-check"

    def __init__(self, inner: DuckDBBackend) -> None:
        self.inner = inner
        self.coverage = inner.coverage
        self.outbound_summary = inner.outbound_summary
        self.pair_summary = inner.pair_summary
        self.baseline_remotes = inner.baseline_remotes
        self.time_range = inner.time_range

    def close(self) -> None:
        """Nothing to release: the wrapped store is closed by its owner."""


def batch_checks() -> list[FlowCheck]:
    """Checks that take every branch of the batched query: /24-keyed sources (single host, a range, several
    ranges), unkeyed ones (two ranges in one /24, translated addresses, IPv6, all of 0.0.0.0/0), ports,
    destinations, a silent exporter, a change with no internal address."""
    internal = RFC1918
    base = {"change_time": CHANGE, "internal_networks": internal, "external": None, "ports": None}
    shapes: list[dict[str, object]] = [
        {"device": EXPORTER, "internal": AddressSet.parse(SPIKE_HOST)},
        {"device": EXPORTER, "internal": AddressSet.parse(STEADY_HOST)},
        {"device": EXPORTER, "internal": AddressSet.parse("10.1.1.0/24"), "ports": PortSet.of(443)},
        {"device": EXPORTER, "internal": AddressSet.parse("10.1.1.0/25", "10.1.2.0/24")},
        {"device": EXPORTER, "internal": AddressSet.parse(SPIKE_HOST, STEADY_HOST)},  # one /24, two ranges
        {
            "device": EXPORTER,
            "internal": AddressSet.parse("10.1.1.0/24"),
            "ports": PortSet.of(8080),
            "external": AddressSet.parse("45.77.0.0/16"),
        },
        {"device": EXPORTER, "internal": AddressSet.parse("10.9.9.9"), "translated": AddressSet.parse(SPIKE_HOST)},
        {"device": EXPORTER, "internal": AddressSet.parse("2001:db8::/64")},
        {"device": EXPORTER, "internal": AddressSet.parse("0.0.0.0/0")},
        # windows starting and ending exactly at midnight (whole days are counted from per-day aggregates)
        {"device": EXPORTER, "internal": AddressSet.parse("10.1.1.0/24"), "change_time": MIDNIGHT},
        {"device": "branch-fw", "internal": AddressSet.parse(SPIKE_HOST)},
        {"device": EXPORTER, "internal": AddressSet.parse("10.1.1.20"), "change_time": CHANGE - timedelta(hours=30)},
    ]
    checks = [FlowCheck(**{**base, **shape}) for shape in shapes]  # type: ignore[arg-type]
    checks.append(FlowCheck(EXPORTER, AddressSet.parse(), None, None, CHANGE, internal))
    return checks


@pytest.mark.parametrize("baseline_hours", [72, 6])
def test_batched_verification_equals_the_per_check_path(planted: DuckDBBackend, baseline_hours: int) -> None:
    settings = FlowSettings(baseline_hours=baseline_hours, top_destinations=2)
    checks = batch_checks()
    recorder = Recorder()
    batched = verify_many(planted, checks, settings, events=recorder)
    reference = verify_many(PerCheckOnly(planted), checks, settings)
    assert batched == reference
    queried = len(checks) - 1  # the change without internal addresses is not queried
    assert recorder.events == [
        ("stage_started", "verify", queried),
        *(("item_done", "verify", checks[index], index + 1, queried) for index in range(queried)),
        ("stage_finished", "verify"),
    ]
    assert [item.verdict for item in batched[:3]] == ["traffic-confirmed"] * 3
    assert batched[-3].verdict == "no-coverage" and batched[-1].verdict == "not-checked"
    assert batched[6].verdict == "traffic-confirmed"  # found through the translated address


def test_check_summaries_answer_many_requests_in_one_statement(planted: DuckDBBackend) -> None:
    settings = FlowSettings(baseline_hours=72)
    post = TimeWindow.starting(CHANGE, timedelta(hours=24))
    baseline = TimeWindow.ending(CHANGE, timedelta(hours=72))
    selector = FlowSelector((EXPORTER,), AddressSet.parse(SPIKE_HOST), RFC1918)
    statements: list[str] = []
    real = planted.con

    class Counting:
        def execute(self, sql: str, *args: object) -> object:
            statements.append(sql)
            return real.execute(sql, *args)

    planted.con = Counting()  # type: ignore[assignment]
    try:
        summaries = planted.check_summaries([(selector, post, baseline)] * 3, top=settings.top_destinations)
    finally:
        planted.con = real
    assert len(statements) == 1 and len(summaries) == 3
    assert summaries[0] == summaries[2]
    assert summaries[0].post.out.packets == 24 * 4 * 200 and summaries[0].new_destinations == 1
    assert summaries[0].post.exporter_records == planted.outbound_summary(selector, post).exporter_records


def test_hunt_finds_the_planted_spike_only(planted: DuckDBBackend) -> None:
    result = hunt(planted, RFC1918, FlowSettings(baseline_hours=72), since=timedelta(hours=24))
    assert [(item.internal, item.prefix, item.reason) for item in result.findings] == [
        (SPIKE_HOST, "45.77.10.0/24", "hosting")
    ]


def test_hunt_without_asn_db_uses_unseen_prefixes(tmp_path: Path) -> None:
    csv_path = write_nfdump_csv(tmp_path / "planted.csv", planted_scenario(CHANGE))
    backend = DuckDBBackend(tmp_path / "flows")
    backend.ingest(csv_path, "nfdump-csv", exporter=EXPORTER)
    result = hunt(backend, RFC1918, FlowSettings(baseline_hours=72), since=timedelta(hours=24), has_asn_db=False)
    assert [(item.internal, item.reason) for item in result.findings] == [(SPIKE_HOST, "anomalous")]
    assert any("never seen in the baseline" in note for note in result.notes)
    summary = backend.outbound_summary(
        FlowSelector((EXPORTER,), AddressSet.parse(SPIKE_HOST), RFC1918),
        TimeWindow(CHANGE, CHANGE + timedelta(hours=24)),
    )
    assert summary.by_asn()[0].provider_class == ""  # no ASN db, no range file: unknown
    backend.close()


def test_file_read_with_the_wrong_format_can_be_retried(tmp_path: Path) -> None:
    backend = DuckDBBackend(tmp_path / "flows")
    wrong = backend.ingest(FIXTURES / "otel_v2_default_with_header.log", "nfdump-csv")
    assert (wrong.records, wrong.bad, wrong.skipped) == (0, 1, False)
    right = backend.ingest(FIXTURES / "otel_v2_default_with_header.log", "aws-vpc")
    assert (right.records, right.skipped) == (2, False)
    backend.close()


def test_cli_ingest_and_hunt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cfgwatch.cli import app

    (tmp_path / "cfgwatch.yaml").write_text("flows:\n  baseline_hours: 72\n", encoding="utf-8")
    csv_path = write_nfdump_csv(tmp_path / "planted.csv", planted_scenario(CHANGE))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["flows", "ingest", str(csv_path), "--format", "nfdump-csv", "--exporter", EXPORTER])
    assert result.exit_code == 0, result.output
    assert "456 records, 0 bad" in result.output
    assert (tmp_path / "flows" / "ledger.jsonl").exists()  # default store: next to the snapshot repo
    result = runner.invoke(app, ["flows", "compact"])
    assert result.exit_code == 0, result.output
    assert "5 days compacted: 5 files merged, 456 rows" in result.output
    result = runner.invoke(app, ["flows", "hunt", "--since", "24h", "--until", "latest", "--format", "json"])
    assert result.exit_code == 1
    import json

    document = json.loads(result.output)
    assert [item["internal"] for item in document["findings"]] == [SPIKE_HOST]
    (finding,) = document["findings"]
    assert [(row["address"], row["port"]) for row in finding["destinations"]] == [(VPS_ADDR, 8080)]
    assert finding["destinations"][0]["packets"] == 24 * 4 * 200  # four flows an hour for 24 h
    # text: the internal host, the destination host and port (not only the /24), the AS and the class
    until = (CHANGE + timedelta(hours=24)).isoformat()
    text = runner.invoke(app, ["flows", "hunt", "--since", "24h", "--until", until])
    assert text.exit_code == 1, text.output
    assert f"* {SPIKE_HOST}\n" in text.output and f"destinations: {VPS_ADDR}:8080 (19,200 pkts)\n" in text.output
    assert "prefix: 45.77.10.0/24\n" in text.output and "\n    AS: " in text.output and "\n    class: " in text.output
    assert "returns: " in text.output and "hunt window: 2024-05-10 12:00 to 2024-05-11 12:00 UTC (24 h)" in text.output
    # by default the window ends now: these 2024 flows are long past
    now = runner.invoke(app, ["flows", "hunt", "--since", "24h"])
    assert now.exit_code == 0 and "no outbound spikes" in now.output
    assert f"to {datetime.now(UTC):%Y-%m-%d}" in now.output
    bad = runner.invoke(app, ["flows", "hunt", "--until", "yesterday"])
    assert bad.exit_code == 2 and "--until" in bad.output


def test_store_enriches_tor_exits_and_ranges(tmp_path: Path) -> None:
    tor = tmp_path / "tor.txt"
    tor.write_text("185.220.101.1\n", encoding="utf-8")
    cdn = tmp_path / "cloudflare-ips-v4.txt"
    cdn.write_text("198.41.128.0/17\n", encoding="utf-8")
    conn = tmp_path / "conn.json"
    conn.write_text(
        "".join(
            f'{{"ts":1700000000,"id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"{dst}","id.resp_p":443,'
            '"proto":"tcp","orig_pkts":3,"orig_ip_bytes":180,"resp_pkts":0,"resp_ip_bytes":0}\n'
            for dst in ("185.220.101.1", "185.220.101.2", "198.41.200.1")
        ),
        encoding="utf-8",
    )
    backend = DuckDBBackend(tmp_path / "flows", enricher=Enricher(provider_ranges=[cdn], tor_exits=tor))
    assert backend.ingest(conn, "zeek-conn", exporter="sensor").records == 3
    backend.refresh()
    rows = backend.con.execute("SELECT dst_v4, dst_class, dst_org FROM flows ORDER BY dst_v4").fetchall()
    classes = {decode_address(4, row[0], 0, 0): (row[1], row[2]) for row in rows}
    assert classes == {
        "185.220.101.1": ("tor-exit", ""),
        "185.220.101.2": ("", ""),
        "198.41.200.1": ("cdn", "Cloudflare"),
    }
    backend.close()
