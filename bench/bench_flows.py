"""Flow store benchmark: verification of N changes, scan rate, nfdump-CSV ingest rate, peak memory.

Each figure is printed beside plain DuckDB answering the same kind of question directly in the same run.
    .venv/bin/python bench/bench_flows.py               # 20M flows (issue targets)
    .venv/bin/python bench/bench_flows.py --rows 2000000 --ingest-rows 1000000 --per-check   # quick run
Targets: 100 verifications <= 2 s total, scan >= 50M rows/s, ingest >= 1M rows/s, peak RSS < 2 GB.
`--per-check` also times the per-change path (two `outbound_summary` queries per change, what backends
without `check_summaries` get) once and checks that it gives the same verdicts. `--dir D --reuse` keeps a
generated store between runs; `--ingest-rows 0` skips the ingest benchmark.
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
from typing import TypeVar

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.synth import generate_parquet, write_nfdump_csv_sql
from cfgwatch.flows.verify import FlowCheck, verify_many
from cfgwatch.model import AddressSet, PortSet

T = TypeVar("T")
START = datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 7
EXPORTERS = 100


def timed(action: Callable[[], T], repeat: int) -> tuple[float, T]:
    times: list[float] = []
    results: list[T] = []
    for _ in range(repeat):
        began = time.perf_counter()
        results.append(action())
        times.append(time.perf_counter() - began)
    return statistics.median(times), results[-1]


class PerCheck:
    """The store through the plain FlowBackend queries only (no `check_summaries`): the per-change path."""

    name = "per-check"

    def __init__(self, inner: DuckDBBackend) -> None:
        self.coverage = inner.coverage
        self.outbound_summary = inner.outbound_summary
        self.pair_summary = inner.pair_summary
        self.baseline_remotes = inner.baseline_remotes
        self.time_range = inner.time_range

    def close(self) -> None:
        """The wrapped store is closed by its owner."""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--ingest-rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="Work directory (default: a temporary one).")
    parser.add_argument("--reuse", action="store_true", help="Use the store already generated under --dir.")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core).")
    parser.add_argument("--per-check", action="store_true", help="Also time the per-change query path once.")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="cfgwatch-bench-flows-"))
    root = work / "store"
    if args.reuse and any((root / "data").glob("day=*/*.parquet")):
        print(f"reusing the store under {root}")
    else:
        began = time.perf_counter()
        generate_parquet(root, args.rows, start=START, days=DAYS, exporters=EXPORTERS)
        print(f"generated {args.rows:,} flows in {time.perf_counter() - began:.1f} s under {root}")

    backend = DuckDBBackend(root, memory_limit="1500MB", threads=args.threads)
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
    confirmed = sum(1 for item in verdicts if item.verdict == "traffic-confirmed")
    per_check_s: float | None = None
    if args.per_check:
        per_check_s, slow = timed(lambda: verify_many(PerCheck(backend), checks, settings), 1)
        assert slow == verdicts, "the batched and per-change paths disagree"

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
    plain_scan_sql = (
        "SELECT count(*), sum(bytes) FILTER (WHERE dst_port = 443), count(DISTINCT exporter)"
        f" FROM read_parquet('{glob}')"
    )
    plain_scan_s, _ = timed(lambda: con.execute(plain_scan_sql).fetchall(), args.repeat)
    backend.close()

    ingest_s: float | None = None
    plain_ingest_s: float | None = None
    if args.ingest_rows > 0:  # --ingest-rows 0 skips the ingest benchmark
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
        f"plain DuckDB, one query  median {plain_s * 1000:.1f} ms   x{n} = {plain_s * n:.3f} s"
        f"   ratio verify/({n} plain queries) {verify_s / (plain_s * n):.2f}"
    )
    if per_check_s is not None:
        print(
            f"per-change path (before) {per_check_s:.3f} s total (one run, same verdicts)"
            f"   speed-up {per_check_s / verify_s:.1f}x"
        )
    print(
        f"scan (view, 3 aggs)      median {scan_s:.3f} s = {args.rows / scan_s / 1e6:.0f} M rows/s   target >= 50"
        f"   plain read_parquet, same aggs {plain_scan_s:.3f} s (ratio {scan_s / plain_scan_s:.2f})"
    )
    if ingest_s is not None and plain_ingest_s is not None:
        print(
            f"ingest nfdump CSV        median {ingest_s:.3f} s for {args.ingest_rows:,} rows = "
            f"{args.ingest_rows / ingest_s / 1e6:.2f} M rows/s   target >= 1"
            f"   plain read_csv count {plain_ingest_s:.3f} s (ratio {ingest_s / plain_ingest_s:.2f})"
        )
    print(f"peak RSS                 {peak_rss_mb():.0f} MB   target < 2048")


if __name__ == "__main__":
    main()
