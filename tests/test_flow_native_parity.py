"""The DuckDB-native scan and the SQL nfdump path store, column for column, the rows of the Python readers
(`formats.readers`, the reference semantics) with the same good/bad counts: the files of the ClickHouse
native-ingest test, the shared flow corpus, and layouts that carry TCP flags or fractional times."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _flow_fixtures import damaged_copy

import cfgwatch.flows.backends.duckdb_ingest as duckdb_ingest
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.formats import get_reader
from cfgwatch.flows.formats.base import ReadStats
from cfgwatch.flows.synth import write_aws_vpc_sql, write_nfdump_csv_sql, write_zeek_conn_sql

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
CORPUS = Path("/work/shared/corpus/flows")
START = datetime(2024, 6, 1, tzinfo=UTC)
WRITERS = {"csv": write_nfdump_csv_sql, "zeek": write_zeek_conn_sql, "aws": write_aws_vpc_sql}
FORMATS = {"csv": "nfdump-csv", "zeek": "zeek-conn", "aws": "aws-vpc"}
Stored = tuple[int, int, list[tuple[object, ...]]]

# AWS custom layouts with tcp-flags (v3 and v5 fields), SYN/ACK/FIN/RST combinations as AWS documents them.
AWS_V3 = (
    "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport"
    " pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n"
    "3 vpc-1 subnet-1 i-1 eni-1 123 IPv4 10.0.0.1 10.0.0.2 1000 443 10.0.0.1 10.0.0.2 6 100 2"
    " 1700000000 1700000060 ACCEPT 19 OK\n"
    "3 vpc-1 subnet-1 i-1 eni-1 123 IPv4 10.0.0.2 10.0.0.1 443 1000 10.0.0.2 10.0.0.1 6 100 2"
    " 1700000000 1700000060 ACCEPT 18 OK\n"
    "3 vpc-1 subnet-1 i-1 eni-1 123 IPv4 10.0.0.3 10.0.0.2 1001 443 192.168.0.3 10.0.0.2 6 100 2"
    " 1700000001 1700000061 REJECT 4 OK\n"
    "3 vpc-1 subnet-1 i-1 eni-1 123 IPv4 10.0.0.3 10.0.0.4 53 53 - - 17 100 2"
    " 1700000001 1700000061 ACCEPT 0 OK\n"
)
AWS_V5 = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action"
    " log-status tcp-flags flow-direction traffic-path pkt-src-aws-service\n"
    "5 123 eni-9 10.1.0.1 10.1.0.2 40000 22 6 5 500 1700000100 1700000160 ACCEPT OK 3 ingress 1 -\n"
    "5 123 eni-9 10.1.0.2 10.1.0.1 22 40000 6 5 500 1700000100 1700000160 ACCEPT OK 2 egress 1 -\n"
    "5 123 eni-9 10.1.0.5 10.1.0.1 22 40000 6 5 500 1700000100 1700000160 ACCEPT OK 1 egress 1 S3\n"
)


def _zeek_fractions(path: Path) -> Path:
    """A conn.log whose ts/duration fractions sit on and near half a microsecond and need every digit."""
    head = (FIXTURES / "zeek-cut-logs_conn.log").read_text(encoding="utf-8").split("\n1329843175", 1)[0] + "\n"
    lines = []
    for index, (ts, duration) in enumerate(
        [
            ("1329843175.1234565", "0.0000005"),
            ("1329843175.1234575", "0.0000015"),
            ("1329843175.999999", "1.000001"),
            ("1329843176.0000004999", "2.9999995"),
            ("1700000000.000001", "0.123457"),
            ("1700000000.3", "0.7"),
            ("1700000000.1", "0.2"),
            ("1329843177.4999995", "-"),
            ("1699642630.6368886", "0.0000015"),  # float(text) * 1e6 rounds this to ...888 (exact: ...889)
        ]
    ):
        lines.append(
            f"{ts}\tC{index}\t10.0.0.1\t{1000 + index}\t10.0.0.2\t80\ttcp\thttp\t{duration}\t1\t2\tSF\t-\t0\tShAdDaFf"
            f"\t3\t4\t5\t6\t(empty)"
        )
    path.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _nfdump_flags(path: Path) -> Path:
    """nfdump CSV whose flg column is letters, dots, hex, decimal, short, empty, or out of range."""
    lines = write_nfdump_csv_sql(path, 12, start=START).read_text(encoding="utf-8").splitlines()
    for index, flags in enumerate(["...A...S", ".AP.SF", "0x12", "24", "", "CEUAPRSF", "xx.A....", "300", "0x"], 1):
        lines[index] = lines[index].replace("...A....", flags, 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_epoch_micros_is_the_exact_decimal_rounded_half_to_even() -> None:
    from cfgwatch.flows.formats.base import epoch_micros

    assert epoch_micros("1699642630.6368886") == 1699642630636889
    assert epoch_micros("1.0000025") == 1000002 and epoch_micros("1.0000035") == 1000004
    assert epoch_micros(" 12.5") == 12_500_000 and epoch_micros(3) == 3_000_000 and epoch_micros(1.5) == 1_500_000


def _file(tmp_path: Path, name: str) -> tuple[Path, str]:
    if name.endswith(("synth.csv", "synth.zeek", "synth.aws")):
        kind = name.rsplit(".", 1)[1]
        path = WRITERS[kind](tmp_path / name.removeprefix("damaged-"), 2000, start=START)
        return (damaged_copy(path) if name.startswith("damaged-") else path), FORMATS[kind]
    if name == "aws-v3-flags.log":
        (tmp_path / name).write_text(AWS_V3, encoding="utf-8")
        return tmp_path / name, "aws-vpc"
    if name == "aws-v5-flags.log":
        (tmp_path / name).write_text(AWS_V5, encoding="utf-8")
        return tmp_path / name, "aws-vpc"
    if name == "nfdump-flags.csv":
        return _nfdump_flags(tmp_path / name), "nfdump-csv"
    if name == "zeek-fractions.log":
        return _zeek_fractions(tmp_path / name), "zeek-conn"
    if name.startswith("corpus/"):
        path = CORPUS / name.removeprefix("corpus/")
        if not path.exists():
            pytest.skip(f"{path} not present")
        return path, "aws-vpc" if "aws_vpc" in name else "zeek-conn"
    return FIXTURES / name, "nfdump-csv" if name.endswith(".csv") else (
        "aws-vpc" if name.startswith("otel") else "zeek-conn"
    )


def _store(root: Path, path: Path, format_name: str) -> Stored:
    backend = DuckDBBackend(root)
    report = backend.ingest(path, format_name, exporter="fw9")
    backend.refresh()
    rows = backend.con.execute("SELECT * FROM flows ORDER BY ALL").fetchall() if report.records else []
    backend.close()
    return report.records, report.bad, rows


def _python_stage(self: duckdb_ingest.ParquetIngest, file: Path, exporter: str | None, stats: ReadStats) -> bool:
    """The Python reader's rows, staged as for any other format (the reference)."""
    with tempfile.TemporaryDirectory() as tmp:
        return self._stage_rows(get_reader("nfdump-csv")(file, stats, exporter), Path(tmp), stats)


NAMES = [
    "synth.csv",
    "damaged-synth.csv",
    "synth.zeek",
    "synth.aws",
    "damaged-synth.zeek",
    "damaged-synth.aws",
    "nfdump_replayed.csv",
    "zeek-cut-logs_conn.log",
    "zeek-cut-logs_conn-tsv.log",
    "baseline_opt.basic_conn.log",
    "baseline_tunnels.teredo_conn.log",
    "otel_v2_default_with_header.log",
    "otel_v2_nodata.log",
    "otel_v5_custom_ecs.log",
    "otel_v6_transit_gateway.log",
    "corpus/zeek_conn/zeek-cut-logs_conn.log",
    "corpus/aws_vpc/otel_v5_custom_ecs.log",
    "aws-v3-flags.log",
    "aws-v5-flags.log",
    "zeek-fractions.log",
    "nfdump-flags.csv",
]


@pytest.mark.parametrize("name", NAMES)
def test_native_and_sql_paths_store_every_column_the_python_reader_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path, format_name = _file(tmp_path, name)
    native = _store(tmp_path / "native", path, format_name)
    with monkeypatch.context() as patch:
        patch.setattr(duckdb_ingest, "native_scan", lambda *_args: None)
        sql = _store(tmp_path / "sql", path, format_name)
        patch.setattr(duckdb_ingest.ParquetIngest, "_stage_nfdump_csv", _python_stage)
        python = _store(tmp_path / "python", path, format_name)
    assert native[:2] == python[:2]
    assert native[2] == python[2]
    assert sql[:2] == python[:2]
    assert sql[2] == python[2]
    if name == "zeek-fractions.log":
        assert any(row[0] == datetime(2023, 11, 10, 18, 57, 10, 636889) for row in native[2])


def test_sql_nfdump_path_names_the_right_lines_around_empty_and_long_lines(tmp_path: Path) -> None:
    """An empty line shifts no line number, a line with an extra field is bad (as the Python reader says)."""
    lines = write_nfdump_csv_sql(tmp_path / "x.csv", 20, start=START).read_text(encoding="utf-8").splitlines()
    lines.insert(3, "")
    lines[8] = lines[8].replace(",TCP,", ",BOGUS,")
    lines[12] += ",extra"
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats = ReadStats(str(path))
    rows = list(get_reader("nfdump-csv")(path, stats, None))
    backend = DuckDBBackend(tmp_path / "store")
    report = backend.ingest(path, "nfdump-csv")
    backend.close()
    assert (report.records, report.bad) == (len(rows), stats.bad) == (18, 2)
    assert [sample.split(": ")[0] for sample in report.bad_samples] == [f"{path}:9", f"{path}:13"]
