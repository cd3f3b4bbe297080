"""Flow ingest rate (issue 19 goal 6): nfdump CSV, Zeek conn.log and AWS VPC flow logs into the DuckDB store.

For each format N synthetic rows are written (cfgwatch.flows.synth), then three cases alternate (A B C ...):
the floor -- plain DuckDB counting the same file with read_csv --, plain DuckDB converting it to Parquet
(sniffed types, no checks: the conversion alone), and cfgwatch ingesting it into a fresh
store (parse, convert, enrich, dedupe check, Parquet written append-only per day, ledger). Prints CPU and
wall medians, the ratio to the floor, rows/s (wall) and rows per CPU-second (times the cores: the upper bound
an idle machine could give), and one GOAL line per format (>= 1,000,000 rows/s, wall). `--profile` adds the
CPU and wall seconds of every SQL statement of one ingest per format.

    .venv/bin/python bench/bench_ingest.py                 # 1M rows per format, 3 runs
    .venv/bin/python bench/bench_ingest.py --quick         # 200k rows, 2 runs (< 60 s)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Recorder, Sample, add_common_args, interleave, median_cpu, median_wall

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.backends.duckdb_ingest import PARQUET_COMPRESSION
from cfgwatch.flows.synth import write_aws_vpc_sql, write_nfdump_csv_sql, write_zeek_conn_sql

START = datetime(2024, 6, 1, tzinfo=UTC)
GOAL_ROWS_PER_S = 1_000_000
WRITERS: dict[str, Callable[..., Path]] = {
    "nfdump-csv": write_nfdump_csv_sql,
    "zeek-conn": write_zeek_conn_sql,
    "aws-vpc": write_aws_vpc_sql,
}
# The floor: DuckDB counting the file with the options that let it read the layout at all.
COUNT_OPTIONS = {
    "nfdump-csv": "header = true",
    "zeek-conn": "delim = '\\t', comment = '#', header = false",
    "aws-vpc": "delim = ' ', header = true",
}


def count_rows(path: Path, format_name: str) -> int:
    con = duckdb.connect()
    try:
        row = con.execute(f"SELECT count(*) FROM read_csv('{path}', {COUNT_OPTIONS[format_name]})").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def copy_to_parquet(path: Path, format_name: str, work: Path) -> None:
    """Plain DuckDB converting the file (types sniffed, no checks, no enrichment) into one Parquet file:
    what the conversion alone costs, beside the floor that only counts lines."""
    target = work / f"copy-{uuid.uuid4().hex[:8]}.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_csv('{path}', {COUNT_OPTIONS[format_name]})) TO '{target}'"
            f" (FORMAT parquet, COMPRESSION {PARQUET_COMPRESSION})"
        )
    finally:
        con.close()
    target.unlink()


def ingest(path: Path, format_name: str, work: Path, rows: int) -> None:
    """One ingest into a fresh store; checks every row was stored."""
    store = work / f"store-{uuid.uuid4().hex[:8]}"
    backend = DuckDBBackend(store, memory_limit="1500MB")
    try:
        report = backend.ingest(path, format_name)
    finally:
        backend.close()
    assert report.records == rows and report.bad == 0, report
    shutil.rmtree(store)


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # DuckDB's worker threads are counted here too
    return usage.ru_utime + usage.ru_stime


def profile(path: Path, format_name: str, work: Path) -> None:
    """CPU and wall seconds of each SQL statement of one ingest (the store's connection is wrapped): under
    load the wall figures swing, the CPU figures say where the work is."""
    backend = DuckDBBackend(work / "profiled", memory_limit="1500MB")
    connection = backend.con
    times: list[tuple[float, float, str]] = []

    class Timed:
        def execute(self, sql: str, *args: Any) -> Any:
            cpu, began = _cpu_now(), time.perf_counter()
            result = connection.execute(sql, *args)
            times.append((_cpu_now() - cpu, time.perf_counter() - began, " ".join(sql.split())[:90]))
            return result

        def __getattr__(self, name: str) -> Any:
            return getattr(connection, name)

    backend._ingest.con = Timed()  # type: ignore[assignment]
    cpu, began = _cpu_now(), time.perf_counter()
    backend.ingest(path, format_name)
    cpu, total = _cpu_now() - cpu, time.perf_counter() - began
    backend.close()
    shutil.rmtree(work / "profiled")
    print(f"  profile {format_name}: {cpu:.3f} s CPU, {total:.3f} s wall; SQL statements by CPU:")
    for seconds, wall, sql in sorted(times, reverse=True)[:5]:
        print(f"    CPU {seconds:6.3f} s  wall {wall:6.3f} s  {sql}")
    outside_cpu = cpu - sum(seconds for seconds, _wall, _sql in times)
    outside_wall = total - sum(wall for _seconds, wall, _sql in times)
    print(f"    CPU {outside_cpu:6.3f} s  wall {outside_wall:6.3f} s  outside SQL (hash, checks, ledger, fsync)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per format (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="200,000 rows and 2 runs per format")
    parser.add_argument("--formats", default=",".join(WRITERS), help="comma-separated (default all three)")
    parser.add_argument("--profile", action="store_true", help="time each SQL statement of one ingest")
    add_common_args(parser, runs=3)
    args = parser.parse_args()
    rows, runs = (200_000, 2) if args.quick else (args.rows, args.runs)
    recorder = Recorder("ingest", args.json)
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-ingest-") as tmp:
        work = Path(tmp)
        for format_name in args.formats.split(","):
            path = WRITERS[format_name](work / f"flows.{format_name}", rows, start=START)
            assert count_rows(path, format_name) == rows
            size = path.stat().st_size
            print(f"{format_name}: {rows:,} rows, {size / 1e6:.0f} MB ({size / rows:.0f} bytes/row)")
            samples: dict[str, list[Sample]] = interleave(
                {
                    "duckdb read_csv count (floor)": lambda: count_rows(path, format_name),  # noqa: B023
                    "duckdb read_csv -> parquet (no checks)": lambda: copy_to_parquet(path, format_name, work),  # noqa: B023
                    "cfgwatch ingest": lambda: ingest(path, format_name, work, rows),  # noqa: B023
                },
                runs,
            )
            ratio = recorder.compare(
                f"ingest {format_name}, {rows:,} rows",
                samples,
                baseline="duckdb read_csv count (floor)",
                subject="cfgwatch ingest",
            )
            ours, floor = samples["cfgwatch ingest"], samples["duckdb read_csv count (floor)"]
            copied = median_cpu(samples["duckdb read_csv -> parquet (no checks)"])
            print(f"  ratio cfgwatch ingest / duckdb read_csv -> parquet (CPU): {median_cpu(ours) / copied:.2f}")
            cores = os.cpu_count() or 1
            print(
                f"  rows/s (wall): cfgwatch {rows / median_wall(ours):,.0f}, floor {rows / median_wall(floor):,.0f};"
                f" rows per CPU-second: cfgwatch {rows / median_cpu(ours):,.0f}, floor {rows / median_cpu(floor):,.0f}"
            )
            # The GOAL is rows / wall (what a user waits for), which the load on shared cores inflates; rows per
            # CPU-second x cores is the most the idle machine could give (perfect parallelism): an upper bound.
            print(f"  upper bound on {cores} idle cores: {rows / median_cpu(ours) * cores:,.0f} rows/s")
            if args.profile:
                profile(path, format_name, work)
            recorder.goal(
                f"ingest {format_name}, {rows:,} rows",
                round(rows / median_wall(ours)),
                GOAL_ROWS_PER_S,
                "rows/s",
                higher_is_better=True,
                baseline="floor CPU",
                ratio=ratio,
            )
            path.unlink()


if __name__ == "__main__":
    main()
