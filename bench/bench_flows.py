"""Flow store benchmark: verification of N changes, scan rate, nfdump-CSV ingest rate, peak memory.

Each figure is printed beside plain DuckDB answering the same kind of question directly in the same run.
    .venv/bin/python bench/bench_flows.py               # 20M flows (issue targets)
    .venv/bin/python bench/bench_flows.py --rows 2000000 --ingest-rows 200000   # quick run
Targets: 100 verifications <= 2 s total, scan >= 50M rows/s, ingest >= 1M rows/s, peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.synth import generate_parquet, write_nfdump_csv_sql
from cfgwatch.flows.verify import FlowCheck, verify_many
from cfgwatch.model import AddressSet, PortSet

START = datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 7
EXPORTERS = 100


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times: list[float] = []
    result: object = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--ingest-rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="Work directory (default: a temporary one).")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="cfgwatch-bench-flows-"))
    root = work / "store"
    began = time.perf_counter()
    generate_parquet(root, args.rows, start=START, days=DAYS, exporters=EXPORTERS)
    print(f"generated {args.rows:,} flows in {time.perf_counter() - began:.1f} s under {root}")

    backend = DuckDBBackend(root, memory_limit="1500MB")
    internal = AddressSet.parse("10.0.0.0/8")
    rng = random.Random(7)
    checks = []
    for index in range(args.changes):
        exporter = index % EXPORTERS
        third = rng.randrange(16)
        checks.append(
            FlowCheck(
                device=f"fw-{exporter:03d}",
                internal=AddressSet.parse(f"10.{exporter}.{third}.0/24"),
                external=None,
                ports=PortSet.of(443) if index % 2 else None,
                change_time=START + timedelta(days=5, hours=rng.randrange(24)),
                internal_networks=internal,
            )
        )
    settings = FlowSettings()
    verify_many(backend, checks[:2], settings)  # warm the Parquet metadata cache
    verify_s, verdicts = timed(lambda: verify_many(backend, checks, settings), args.repeat)
    confirmed = sum(1 for item in verdicts if item.verdict == "traffic-confirmed")  # type: ignore[attr-defined]

    # plain DuckDB, one such question directly (outbound packets of one /24 in one day, whole-store glob)
    con = backend.con
    glob = str(root / "data" / "day=*" / "*.parquet")
    one = checks[0]
    lo, hi = one.internal.v4[0]
    post_start = one.change_time.replace(tzinfo=None)
    plain_sql = (
        f"SELECT count(*), sum(packets) FROM read_parquet('{glob}') WHERE exporter = '{one.device}'"
        f" AND time_start >= TIMESTAMP '{post_start}' AND time_start < TIMESTAMP '{post_start + timedelta(days=1)}'"
        f" AND src_v4 BETWEEN {lo} AND {hi} AND NOT (dst_v4 BETWEEN 167772160 AND 184549375)"
    )
    plain_s, _ = timed(lambda: con.execute(plain_sql).fetchall(), args.repeat)

    backend.refresh()
    scan_sql = "SELECT count(*), sum(bytes) FILTER (WHERE dst_port = 443), count(DISTINCT exporter) FROM flows"
    scan_s, _ = timed(lambda: con.execute(scan_sql).fetchall(), args.repeat)
    plain_scan_sql = f"SELECT count(*), sum(bytes) FILTER (WHERE dst_port = 443) FROM read_parquet('{glob}')"
    plain_scan_s, _ = timed(lambda: con.execute(plain_scan_sql).fetchall(), args.repeat)
    backend.close()

    csv_path = work / "nfdump.csv"
    write_nfdump_csv_sql(csv_path, args.ingest_rows, start=START)
    ingest_times = []
    for attempt in range(args.repeat):
        store = DuckDBBackend(work / f"ingest-{attempt}", memory_limit="1500MB")
        began = time.perf_counter()
        report = store.ingest(csv_path, "nfdump-csv")
        ingest_times.append(time.perf_counter() - began)
        assert report.records == args.ingest_rows, report
        store.close()
    ingest_s = statistics.median(ingest_times)
    plain_store = DuckDBBackend(work / "plain", memory_limit="1500MB")
    plain_ingest_s, _ = timed(
        lambda: plain_store.con.execute(f"SELECT count(*) FROM read_csv('{csv_path}', header = true)").fetchall(),
        args.repeat,
    )
    plain_store.close()

    n = args.changes
    print(f"rows in store            {args.rows:,} over {DAYS} days, {EXPORTERS} exporters")
    print(
        f"verify {n} changes        median {verify_s:.3f} s total, {verify_s / n * 1000:.1f} ms/change"
        f"  ({confirmed} confirmed)   target <= 2 s"
    )
    print(
        f"plain DuckDB, one query  median {plain_s * 1000:.1f} ms   ratio per-change/plain {verify_s / n / plain_s:.2f}"
    )
    print(
        f"scan (view, 3 aggs)      median {scan_s:.3f} s = {args.rows / scan_s / 1e6:.0f} M rows/s   target >= 50"
        f"   plain read_parquet {plain_scan_s:.3f} s (ratio {scan_s / plain_scan_s:.2f})"
    )
    print(
        f"ingest nfdump CSV        median {ingest_s:.3f} s for {args.ingest_rows:,} rows = "
        f"{args.ingest_rows / ingest_s / 1e6:.2f} M rows/s   target >= 1"
        f"   plain read_csv count {plain_ingest_s:.3f} s (ratio {ingest_s / plain_ingest_s:.2f})"
    )
    print(f"peak RSS                 {peak_rss_mb():.0f} MB   target < 2048")


if __name__ == "__main__":
    main()
