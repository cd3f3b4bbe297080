"""Issue 19 goal 6: the DuckDB-native scans (formats.native) store exactly what the exact paths store, read
the clean files themselves, and leave every file with an odd line to the exact path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cfgwatch.flows.backends.duckdb_ingest as duckdb_ingest
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.synth import write_aws_vpc_sql, write_nfdump_csv_sql, write_zeek_conn_sql

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
START = datetime(2024, 6, 1, tzinfo=UTC)
WRITERS = {"nfdump-csv": write_nfdump_csv_sql, "zeek-conn": write_zeek_conn_sql, "aws-vpc": write_aws_vpc_sql}
Stored = tuple[int, int, tuple[str, ...], list[tuple[object, ...]]]


def _store(root: Path, path: Path, format_name: str, exporter: str | None, aws: tuple[str, ...] | None) -> Stored:
    backend = DuckDBBackend(root)
    report = backend.ingest(path, format_name, exporter=exporter, aws_fields=aws)
    backend.refresh()
    rows = backend.con.execute("SELECT * FROM flows ORDER BY ALL").fetchall() if report.records else []
    backend.close()
    return report.records, report.bad, report.bad_samples, rows


def _both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: Path,
    format_name: str,
    exporter: str | None = None,
    aws: tuple[str, ...] | None = None,
) -> tuple[Stored, Stored, bool]:
    """(native result, exact-path result, whether the native scan vouched for the file)."""
    vouched: list[bool] = []
    stage = duckdb_ingest.ParquetIngest.stage_native

    def spy(self: duckdb_ingest.ParquetIngest, *args: object) -> bool:
        vouched.append(stage(self, *args))  # type: ignore[arg-type]
        return vouched[-1]

    with monkeypatch.context() as patch:
        patch.setattr(duckdb_ingest.ParquetIngest, "stage_native", spy)
        native = _store(tmp_path / f"native-{path.name}", path, format_name, exporter, aws)
    with monkeypatch.context() as patch:
        patch.setattr(duckdb_ingest, "native_scan", lambda *_args: None)
        exact = _store(tmp_path / f"exact-{path.name}", path, format_name, exporter, aws)
    return native, exact, bool(vouched and vouched[0])


@pytest.mark.parametrize("format_name", sorted(WRITERS))
def test_native_scan_reads_a_clean_file_itself_and_stores_what_the_exact_path_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, format_name: str
) -> None:
    path = WRITERS[format_name](tmp_path / f"clean.{format_name}", 3000, start=START)
    native, exact, vouched = _both(tmp_path, monkeypatch, path, format_name)
    assert vouched
    assert native[0] == 3000 and native == exact


@pytest.mark.parametrize(
    ("name", "format_name", "aws"),
    [
        ("nfdump_replayed.csv", "nfdump-csv", None),
        ("zeek-cut-logs_conn.log", "zeek-conn", None),
        ("zeek-cut-logs_conn-tsv.log", "zeek-conn", None),
        ("baseline_opt.basic_conn.log", "zeek-conn", None),
        ("baseline_tunnels.teredo_conn.log", "zeek-conn", None),
        ("otel_v2_default_with_header.log", "aws-vpc", None),
        ("otel_v2_nodata.log", "aws-vpc", None),
        ("otel_v5_custom_ecs.log", "aws-vpc", None),
        ("otel_v6_transit_gateway.log", "aws-vpc", None),
    ],
)
def test_native_scan_agrees_on_the_fixtures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, format_name: str, aws: tuple[str, ...] | None
) -> None:
    native, exact, _vouched = _both(tmp_path, monkeypatch, FIXTURES / name, format_name, aws=aws)
    assert native == exact


ZEEK_ODD = [
    "1700000000.5\tC1\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t-\t-\t-\t-\tOTH\t-\t0\t-\t1\t84\t0\t0\t(empty)",
    "1700000001.25\tC2\t10.0.0.1\t53\t10.0.0.3\t53\tudp\tdns\t0.5\t40\t80\tSF\t-\t0\tDd\t1\t68\t1\t108\t-",
    "1700000002\tC3\t2001:db8::1\t1000\t2001:db8::2\t443\ttcp\t-\t1\t1\t1\tSF\t-\t0\tS\t1\t1\t1\t1\t-",
    "1700000003\tC4\t10.0.0.1\t1\t10.0.0.9\t2\tunknown_transport\t-\t-\t-\t-\tOTH\t-\t0\t-\t1\t1\t0\t0\t-",
    "1700000004\tC5\t010.0.0.1\t1\t10.0.0.9\t2\ttcp\t-\t-\t-\t-\tOTH\t-\t0\t-\t1\t1\t0\t0\t-",
    "1700000005\tC6\t10.0.0.1\t1\t10.0.0.9\t2\ttcp\t-\t-\t-\t-\tOTH\t-\t0\t-\t1\t\t0\t0\t-",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n1700000006\tC7\t10.0.0.1\t1\t10.0.0.9\t2",
    '{"ts": 1700000007, "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2", "proto": "udp"}',
]
AWS_ODD = [
    "2 1 eni-a 10.0.0.1 10.0.0.2 1000 443 6 1 100 1700000000 1700000060 ACCEPT OK",
    "2 1 - 10.0.0.1 10.0.0.2 - - 1 1 100 1700000000 1699999999 REJECT OK",
    "2 1 eni-a - - - - - - - 1700000000 1700000060 - NODATA",
    "2 1 eni-a 2001:db8::1 2001:db8::2 1000 443 6 1 100 1700000000 1700000060 ACCEPT OK",
    "2 1 eni-a 10.0.0.1 10.0.0.2 70000 443 6 1 100 1700000000 1700000060 ACCEPT OK",
    "2 1 eni-a\t10.0.0.1 10.0.0.2 1000 443 6 1 100 1700000000 1700000060 ACCEPT OK",
]


@pytest.mark.parametrize("odd", range(len(ZEEK_ODD)))
def test_zeek_odd_lines_store_what_the_python_reader_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: int
) -> None:
    head = (FIXTURES / "zeek-cut-logs_conn.log").read_text(encoding="utf-8").split("\n1329843175", 1)[0] + "\n"
    path = tmp_path / "odd.log"
    path.write_text(head + ZEEK_ODD[0] + "\n" + ZEEK_ODD[1] + "\n" + ZEEK_ODD[odd] + "\n", encoding="utf-8")
    native, exact, vouched = _both(tmp_path, monkeypatch, path, "zeek-conn", exporter="sensor")
    assert native == exact
    assert vouched == (odd < 2)


@pytest.mark.parametrize("odd", range(len(AWS_ODD)))
def test_aws_odd_lines_store_what_the_python_reader_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: int
) -> None:
    path = tmp_path / "odd.log"
    path.write_text("\n".join([*AWS_ODD[:3], AWS_ODD[odd]]) + "\n", encoding="utf-8")
    native, exact, vouched = _both(tmp_path, monkeypatch, path, "aws-vpc")
    assert native == exact
    assert vouched == (odd < 3)


def test_nfdump_icmp_and_padded_records_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_nfdump_csv_sql(tmp_path / "n.csv", 50, start=START)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",TCP,", ",ICMP,").replace(",443,", ",3.1,", 1)
    lines[5] = lines[5].replace(",TCP,", ",tcp,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    native, exact, vouched = _both(tmp_path, monkeypatch, path, "nfdump-csv")
    assert vouched and native == exact


def _flows(root: Path) -> list[tuple[object, ...]]:
    backend = DuckDBBackend(root)
    backend.refresh()
    rows = backend.con.execute("SELECT * FROM flows ORDER BY ALL").fetchall()
    backend.close()
    return rows


def test_compaction_sorts_and_merges_append_only_batches_and_dedupe_still_works(tmp_path: Path) -> None:
    root = tmp_path / "flows"
    files = [write_aws_vpc_sql(tmp_path / f"part{index}.log", 2000, start=START, seed=index) for index in range(3)]
    backend = DuckDBBackend(root)
    for path in files:
        assert backend.ingest(path, "aws-vpc").records == 2000
    backend.close()
    before = _flows(root)
    days = sorted(path.name for path in (root / "data").iterdir())
    assert len(list((root / "data").glob("day=*/*.parquet"))) > len(days)
    report = duckdb_ingest.compact_store(root)
    assert (report.days, report.rows) == (len(days), 6000)
    assert len(list((root / "data").glob("day=*/*.parquet"))) == len(days)  # one sorted file per day
    assert _flows(root) == before
    con = DuckDBBackend(root).con
    for part in (root / "data").glob("day=*/*.parquet"):
        order = con.execute(f"SELECT exporter, time_start FROM read_parquet('{part}')").fetchall()
        assert order == sorted(order)
    assert duckdb_ingest.compact_store(root) == duckdb_ingest.CompactReport(0, 0, 0)  # nothing left to do
    backend = DuckDBBackend(root)
    assert backend.ingest(files[0], "aws-vpc").skipped
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(files[1].read_bytes().replace(b"\n", b"\r\n"))
    assert backend.ingest(crlf, "aws-vpc").records == 0  # a re-export of compacted records adds nothing
    backend.close()
    assert _flows(root) == before


def test_a_compaction_killed_before_or_after_its_ledger_line_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "flows"
    backend = DuckDBBackend(root)
    for index in range(2):
        backend.ingest(write_aws_vpc_sql(tmp_path / f"p{index}.log", 500, start=START, seed=index), "aws-vpc")
    backend.close()
    before = _flows(root)
    files = sorted((root / "data").glob("day=*/*.parquet"))

    class Killed(Exception):
        pass

    def kill(*_args: object) -> None:
        raise Killed

    unlink = Path.unlink

    def kill_once_ledgered(path: Path, missing_ok: bool = False) -> None:
        if '"compaction"' in (root / "ledger.jsonl").read_text(encoding="utf-8"):
            raise Killed
        unlink(path, missing_ok=missing_ok)

    with monkeypatch.context() as patch:  # killed after landing, before the ledger line: new files unledgered
        patch.setattr(duckdb_ingest.ParquetIngest, "_append_ledger", kill)
        with pytest.raises(Killed):
            duckdb_ingest.compact_store(root)
    assert _flows(root) == before
    with monkeypatch.context() as patch:  # killed after the ledger line, before the old files are removed
        patch.setattr(Path, "unlink", kill_once_ledgered)
        with pytest.raises(Killed):
            duckdb_ingest.compact_store(root)
    assert all(path.exists() for path in files)
    assert _flows(root) == before
    duckdb_ingest.compact_store(root)  # its sweep removes the replaced files
    assert not any(path.exists() for path in files) and _flows(root) == before


V4_TEXTS = [
    "1.2.3.4",
    "0.0.0.0",
    "255.255.255.255",
    "100.200.250.199",
    "01.2.3.4",
    "1.2.3.04",
    "0.0.0.00",
    "256.1.1.1",
    "1000.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    " 1.2.3.4",
    "1.2.3.4 ",
    "+1.2.3.4",
    "1e2.1.1.1",
    "1..2.3",
    "::1",
    "",
    "\u0663.1.1.1",
    "1.2.3.-1",
    "10.0.0.1/24",
    "1_0.1.1.1",
    "0x1.1.1.1",
    "1.2.3.4.",
    ".1.2.3",
]


def test_ipv4_check_is_exactly_what_ipaddress_prints_back() -> None:
    """The shape match plus the integer checks (range, no leading zero) accept what `ipaddress` accepts and
    prints back unchanged, and nothing else: '1e2' or '+1' would pass a cast alone."""
    import ipaddress

    import duckdb

    from cfgwatch.flows.formats.native import octets_sql, v4_sql

    texts = [
        *V4_TEXTS,
        *(
            f"{a}.{b}.7.{c}"
            for a in ("0", "9", "10", "99", "100", "255", "256", "010")
            for b in ("0", "00", "1", "249", "250", "251", "300")
            for c in ("1", "01", "255", "0")
        ),
    ]
    value, valid = v4_sql("t")
    con = duckdb.connect()
    con.execute("CREATE TABLE texts (t VARCHAR)")
    con.executemany("INSERT INTO texts VALUES (?)", [[text] for text in [*texts, None]])
    rows = con.execute(f"SELECT t, {valid}, {value} FROM (SELECT t, {octets_sql('t')} AS _l_t FROM texts)").fetchall()
    for text, ok, number in rows:
        try:
            expected = int(ipaddress.IPv4Address(text)) if str(ipaddress.IPv4Address(text)) == text else None
        except ValueError:
            expected = None
        assert (ok, number) == (expected is not None, expected), text


def test_braces_inside_zeek_fields_keep_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = (FIXTURES / "zeek-cut-logs_conn.log").read_text(encoding="utf-8").split("\n1329843175", 1)[0] + "\n"
    line = ZEEK_ODD[1].replace("\tdns\t", "\t{dns}\t")
    path = tmp_path / "fields.log"
    path.write_text(head + ZEEK_ODD[0] + "\n" + line + "\n", encoding="utf-8")
    native, exact, vouched = _both(tmp_path, monkeypatch, path, "zeek-conn", exporter="sensor")
    assert vouched and native == exact


def test_the_hash_overlaps_staging_only_when_the_file_cannot_repeat_a_ledgered_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of a size the ledger holds is hashed first (a repeat costs only the hash); one of a new size is
    staged while it is hashed, and is still skipped if its hash turns out ledgered (it changed meanwhile)."""
    first = write_aws_vpc_sql(tmp_path / "first.log", 300, start=START, seed=1)
    second = write_aws_vpc_sql(tmp_path / "second.log", 400, start=START, seed=2)
    staged: list[str] = []
    stage = duckdb_ingest.ParquetIngest._stage

    def spy(self: duckdb_ingest.ParquetIngest, file: Path, *args: object) -> object:
        staged.append(file.name)
        return stage(self, file, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(duckdb_ingest.ParquetIngest, "_stage", spy)
    root = tmp_path / "flows"
    backend = DuckDBBackend(root)
    assert backend.ingest(first, "aws-vpc").records == 300
    entry = json.loads((root / "ledger.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert entry["size"] == first.stat().st_size
    assert backend.ingest(first, "aws-vpc").skipped and staged == ["first.log"]  # hashed first, not staged
    before = _flows(root)
    ledgered = duckdb_ingest._sha256(first)
    with monkeypatch.context() as patch:  # as if second.log had become first.log's content after its stat
        patch.setattr(duckdb_ingest, "_sha256", lambda _path: ledgered)
        report = backend.ingest(second, "aws-vpc")
    assert report.skipped and staged[-1] == "second.log"
    assert _flows(root) == before and not list((root / "data").glob(".staging-*"))
    assert backend.ingest(second, "aws-vpc").records == 400
    backend.close()
