"""Issue 20 item 8: hostile flow files cost one record each, never the file; a re-export is not counted twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.formats import get_reader
from cfgwatch.flows.formats.base import ReadStats

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
HUGE = 1 << 64  # one more than a UBIGINT holds
GOOD_S = 1_700_000_000  # 2023-11-14
ABSURD_S = 1_000_000_000_000  # year 33658: what a corrupt epoch field gives


def _iso(seconds: int) -> str:
    return "2150-01-01T00:00:00" if seconds == ABSURD_S else "2023-11-14T22:13:20"


def _nfdump_csv(bytes_: int, seconds: int) -> str:
    header = (FIXTURES / "nfdump_replayed.csv").read_text(encoding="utf-8").splitlines()[0]
    fields = {name: "0" for name in header.split(",")}
    fields.update(ts=_iso(seconds).replace("T", " "), te=_iso(seconds).replace("T", " "), sa="10.0.0.1")
    fields.update(da="10.0.0.2", sp="1000", dp="443", pr="TCP", ipkt="1", ibyt=str(bytes_), ra="10.9.9.9")
    return ",".join(fields.values())


def _nfdump_json(bytes_: int, seconds: int) -> str:
    record = {"first": _iso(seconds), "last": _iso(seconds), "in_packets": 1, "in_bytes": bytes_, "proto": 6}
    return json.dumps(record | {"src4_addr": "10.0.0.1", "dst4_addr": "10.0.0.2", "src_port": 1000, "dst_port": 443})


def _aws(bytes_: int, seconds: int) -> str:
    return f"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1000 443 6 1 {bytes_} {seconds} {seconds + 60} ACCEPT OK"


def _gcp(bytes_: int, seconds: int) -> str:
    connection = {"src_ip": "10.0.0.1", "dest_ip": "10.0.0.2", "src_port": 1000, "dest_port": 443, "protocol": 6}
    payload = {"connection": connection, "bytes_sent": str(bytes_), "packets_sent": "1", "reporter": "SRC"}
    payload |= {"start_time": _iso(seconds) + "Z", "end_time": _iso(seconds) + "Z"}
    return json.dumps({"jsonPayload": payload})


def _azure(bytes_: int, seconds: int) -> str:
    return f"{seconds},10.0.0.1,10.0.0.2,1000,443,T,O,A,E,1,{bytes_},1,100"


def _zeek(bytes_: int, seconds: int) -> str:
    fields = f"{seconds}.5 C1 10.0.0.1 1000 10.0.0.2 443 tcp - 0.1 {bytes_} 0 SF - 0 Sh 1 {bytes_} 1 60 (empty)"
    return fields.replace(" ", "\t")


def _goflow2(bytes_: int, seconds: int) -> str:
    record = {"time_flow_start_ns": seconds * 10**9, "bytes": bytes_, "packets": 1, "proto": "TCP"}
    return json.dumps(record | {"src_addr": "10.0.0.1", "dst_addr": "10.0.0.2", "src_port": 1000, "dst_port": 443})


def _lines(make: Callable[[int, int], str], head: str = "") -> Callable[[list[tuple[int, int]]], str]:
    return lambda records: head + "".join(make(*record) + "\n" for record in records)


def _azure_document(records: list[tuple[int, int]]) -> str:
    tuples = [_azure(*record) for record in records]
    flows = [{"rule": "r", "flows": [{"mac": "00", "flowTuples": tuples}]}]
    record = {"resourceId": "/X/NSG1", "properties": {"Version": 2, "flows": flows}}
    return json.dumps({"records": [record]}, indent=1)


ZEEK_HEAD = (FIXTURES / "zeek-cut-logs_conn.log").read_text(encoding="utf-8").split("\n1329843175", 1)[0] + "\n"
FILES: dict[str, Callable[[list[tuple[int, int]]], str]] = {
    "nfdump-csv": _lines(_nfdump_csv, (FIXTURES / "nfdump_replayed.csv").read_text().splitlines()[0] + "\n"),
    "nfdump-json": _lines(_nfdump_json),
    "aws-vpc": _lines(
        _aws,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes"
        " start end action log-status\n",
    ),
    "gcp-vpc": _lines(_gcp),
    "azure-nsg": _azure_document,
    "zeek-conn": _lines(_zeek, ZEEK_HEAD),
    "goflow2-json": _lines(_goflow2),
}


@pytest.mark.parametrize("format_name", sorted(FILES))
def test_counter_over_2_64_and_absurd_time_cost_one_record_each(tmp_path: Path, format_name: str) -> None:
    path = tmp_path / f"hostile.{format_name}"
    path.write_text(FILES[format_name]([(100, GOOD_S), (HUGE, GOOD_S), (100, ABSURD_S)]), encoding="utf-8")
    backend = DuckDBBackend(tmp_path / "flows")
    report = backend.ingest(path, format_name, exporter="fw1")
    assert (report.records, report.bad) == (1, 2), report.bad_samples
    assert all(sample.startswith(f"{path}:") for sample in report.bad_samples)
    assert backend.record_count() == 1
    window = backend.time_range()
    assert window is not None and window[1].year == 2023
    assert [path.name for path in (tmp_path / "flows" / "data").iterdir()] == ["day=2023-11-14"]
    backend.close()


def test_nfdump_csv_line_numbered_path_names_the_bad_counter_line(tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(FILES["nfdump-csv"]([(100, GOOD_S), (HUGE, GOOD_S)]), encoding="utf-8")
    backend = DuckDBBackend(tmp_path / "flows")
    report = backend.ingest(path, "nfdump-csv", exporter="fw1")
    assert (report.records, report.bad) == (1, 1)
    assert report.bad_samples == (f"{path}:3: unparsable nfdump CSV record",)
    backend.close()


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("format_name", ["nfdump-json", "gcp-vpc", "azure-nsg", "goflow2-json", "zeek-conn", "aws-vpc"])
def test_deep_json_is_a_rejected_record_not_a_recursion_error(tmp_path: Path, format_name: str) -> None:
    for name, text in (("whole", DEEP), ("line", '{"a":' * 50_000 + "1" + "}" * 50_000)):
        path = tmp_path / f"{name}.json"
        path.write_text(text + "\n", encoding="utf-8")
        stats = ReadStats(str(path))
        reader = get_reader(format_name, aws_fields=None)
        assert list(reader(path, stats, "fw1")) == []
        assert stats.bad >= 1
        if name == "line" and format_name != "aws-vpc":  # aws-vpc: a '{' line is not its header
            assert any("nested too deeply" in sample for sample in stats.samples), stats.samples
    good = tmp_path / "mixed.json"
    good.write_text(_goflow2(100, GOOD_S) + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    stats = ReadStats(str(good))
    assert len(list(get_reader("goflow2-json")(good, stats, "fw1"))) == 1
    assert stats.samples == [f"{good}:2: bad JSON: JSON nested too deeply"]


@pytest.mark.parametrize("format_name", ["nfdump-csv", "aws-vpc", "zeek-conn"])
def test_crlf_or_grown_re_export_is_not_counted_twice(tmp_path: Path, format_name: str) -> None:
    make = FILES[format_name]
    first = [(100 + index, GOOD_S + index) for index in range(5)]
    original = tmp_path / "original.log"
    original.write_text(make(first), encoding="utf-8")
    backend = DuckDBBackend(tmp_path / "flows")
    assert backend.ingest(original, format_name, exporter="fw1").records == 5
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(original.read_bytes().replace(b"\n", b"\r\n"))
    again = backend.ingest(crlf, format_name, exporter="fw1")
    assert (again.records, again.skipped) == (0, False)
    assert backend.record_count() == 5
    grown = tmp_path / "grown.log"
    grown.write_text(make([*first, (900, GOOD_S + 10), (901, GOOD_S + 11)]), encoding="utf-8")
    assert backend.ingest(grown, format_name, exporter="fw1").records == 2
    assert backend.record_count() == 7
    assert backend.ingest(crlf, format_name, exporter="fw1").skipped  # ledgered: the next look is a hash
    other = backend.ingest(crlf, format_name, exporter="fw2")  # (the ledger is by content, exporter aside)
    assert other.skipped and backend.record_count() == 7
    second = tmp_path / "fw2.log"  # the same records from another exporter are that exporter's own
    second.write_text(make([*first, (902, GOOD_S + 12)]), encoding="utf-8")
    assert backend.ingest(second, format_name, exporter="fw2").records == 6
    assert backend.record_count() == 13
    backend.close()


def test_equal_records_inside_one_file_are_all_kept(tmp_path: Path) -> None:
    path = tmp_path / "twice.log"
    path.write_text(FILES["aws-vpc"]([(100, GOOD_S), (100, GOOD_S)]), encoding="utf-8")
    backend = DuckDBBackend(tmp_path / "flows")
    assert backend.ingest(path, "aws-vpc", exporter="fw1").records == 2
    assert backend.record_count() == 2
    backend.close()
