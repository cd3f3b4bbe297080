"""Flow store benchmark (issue 19 goal 7): verify all changes of an audit in one pass vs one plain query per change.

The store is `cfgwatch.flows.synth.generate_parquet` (100 exporters, 7 days); 100 changes, one per exporter,
each with a /24 of internal sources, half of them limited to port 443, changed on day 6. Alternating in the
same run (caches cleared and garbage collected before each run, bench/_harness.py):
* baseline: 100 plain DuckDB queries, one per change over both of its windows (baseline + post), reading
  the Parquet files directly: outbound records and packets of the change's sources per window;
* cfgwatch: `verify_many` over the same changes (DuckDB `check_summaries`: every change in one statement,
  one scan of the day partitions for the candidate records, folded in numpy (flows/backends/duckdb_fold.py);
  verdicts, spike/return ratios, top destinations, new prefixes, coverage).
Also compared: a whole-store scan through the `flows` view vs plain `read_parquet` (same aggregates).
Prints CPU (user + system) and wall medians, the load average, peak RSS and one GOAL line:
`verify 100 changes, 20M flows: one pass vs 100 plain queries` <= 0.5 (CPU ratio). Ingest figures live in
bench/bench_ingest.py.

    .venv/bin/python bench/bench_flows.py                      # 20M flows (the issue's size)
    .venv/bin/python bench/bench_flows.py --quick              # 1M flows, < 60 s
    .venv/bin/python bench/bench_flows.py --dir /tmp/bf --reuse --per-check   # keep the store; check verdicts
`--per-check` also runs the per-change path once (two `outbound_summary` per change) and checks that it gives
the same verdicts as the one-pass path.

Where the time goes at 20M (2026-12-03, load 7-11, CPU s): candidate scan ~1.9 (Parquet decode of the 11 columns
the verdict needs, for all 20M records, ~1.0: time_start 0.26, bytes 0.17, the others 0.07-0.09 each; the two /24
semi-join probes ~0.4; strings to Python objects 0.15), coverage 0.55 (per exporter-day counts 0.3, exact join on
the edge days), numpy fold 0.5. DuckDB decodes whole pages of every projected column even when a pushed filter keeps
2% of the rows, and every row group holds candidates, so the scan cannot shrink below reading those columns once.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Recorder, add_common_args, interleave

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.synth import generate_parquet
from cfgwatch.flows.verify import FlowCheck, FlowVerdict, verify_many, windows
from cfgwatch.model import AddressSet, PortSet

START = datetime(2024, 6, 1, tzinfo=UTC)
DAYS = 7
EXPORTERS = 100
INTERNAL_FIRST, INTERNAL_LAST = 167772160, 184549375  # 10.0.0.0/8
GOAL_RATIO = 0.5


class PerCheck:
    """The store through the plain FlowBackend queries only (no `check_summaries`): the per-change path."""

    name = "per-check"

    def __init__(self, inner: DuckDBBackend) -> None:
        self.enricher = inner.enricher
        self.coverage = inner.coverage
        self.outbound_summary = inner.outbound_summary
        self.pair_summary = inner.pair_summary
        self.baseline_remotes = inner.baseline_remotes
        self.destination_services = inner.destination_services
        self.time_range = inner.time_range

    def close(self) -> None:
        """The wrapped store is closed by its owner."""


def make_checks(count: int) -> list[FlowCheck]:
    internal = AddressSet.parse("10.0.0.0/8")
    rng = random.Random(7)
    checks = []
    for index in range(count):
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
    return checks


def plain_sql(glob: str, check: FlowCheck, settings: FlowSettings) -> str:
    """What a person would type for one change: outbound records and packets per window, straight from Parquet."""
    post, baseline = windows(check.change_time, settings)
    lo, hi = check.internal.v4[0]
    ports = " AND dst_port = 443" if check.ports is not None else ""

    def at(moment: datetime) -> str:
        return f"TIMESTAMP '{moment.astimezone(UTC).replace(tzinfo=None)}'"

    return (
        f"SELECT time_start >= {at(post.start)} AS post, count(*), sum(packets) FROM read_parquet('{glob}')"
        f" WHERE exporter = '{check.device}' AND time_start >= {at(baseline.start)} AND time_start < {at(post.end)}"
        f" AND src_v4 BETWEEN {lo} AND {hi} AND NOT (dst_v4 BETWEEN {INTERNAL_FIRST} AND {INTERNAL_LAST}){ports}"
        " GROUP BY post"
    )


def label(rows: int) -> str:
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=None, help="flows in the store (default 20M; 1M with --quick)")
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="1M flows, 3 runs: finishes in under a minute")
    parser.add_argument("--dir", type=Path, default=None, help="Work directory (default: a temporary one).")
    parser.add_argument("--reuse", action="store_true", help="Use the store already generated under --dir.")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core).")
    parser.add_argument("--per-check", action="store_true", help="Also run the per-change path once and compare.")
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.quick else 20_000_000)
    runs = min(args.runs, 3) if args.quick else args.runs
    recorder = Recorder("flows", args.json)

    work = args.dir or Path(tempfile.mkdtemp(prefix="cfgwatch-bench-flows-"))
    root = work / "store"
    if args.reuse and any((root / "data").glob("day=*/*.parquet")):
        print(f"reusing the store under {root}")
    else:
        began = time.perf_counter()
        generate_parquet(root, rows, start=START, days=DAYS, exporters=EXPORTERS)
        print(f"generated {rows:,} flows in {time.perf_counter() - began:.1f} s under {root}")

    backend = DuckDBBackend(root, memory_limit="1500MB", threads=args.threads)
    rows = backend.record_count()  # a reused store has the size it was built with
    checks = make_checks(args.changes)
    settings = FlowSettings()
    glob = str(root / "data" / "day=*" / "*.parquet")
    statements = [plain_sql(glob, check, settings) for check in checks]
    verdicts: list[list[FlowVerdict]] = []

    def plain() -> None:
        for sql in statements:
            backend.con.execute(sql).fetchall()

    def one_pass() -> None:
        verdicts.append(verify_many(backend, checks, settings))

    n = args.changes
    samples = interleave({f"{n} plain queries": plain, "cfgwatch verify, one pass": one_pass}, runs)
    confirmed = sum(1 for item in verdicts[-1] if item.verdict == "traffic-confirmed")
    assert all(item == verdicts[0] for item in verdicts), "verify gave different verdicts across runs"
    title = f"verify {n} changes, {label(rows)} flows: one pass vs {n} plain queries"
    ratio = recorder.compare(title, samples, baseline=f"{n} plain queries")
    print(f"  {confirmed} of {n} changes traffic-confirmed")
    recorder.goal(title, round(ratio, 3), GOAL_RATIO, "x", baseline=f"{n} plain queries", ratio=ratio)

    if args.per_check:
        began = time.perf_counter()
        slow = verify_many(PerCheck(backend), checks, settings)
        print(f"per-change path: {time.perf_counter() - began:.2f} s wall, same verdicts: {slow == verdicts[-1]}")
        assert slow == verdicts[-1], "the one-pass and per-change paths disagree"

    backend.refresh()
    aggregates = "count(*), sum(bytes) FILTER (WHERE dst_port = 443), count(DISTINCT exporter)"
    scans = interleave(
        {
            "plain read_parquet": lambda: backend.con.execute(
                f"SELECT {aggregates} FROM read_parquet('{glob}')"
            ).fetchall(),
            "flows view": lambda: backend.con.execute(f"SELECT {aggregates} FROM flows").fetchall(),
        },
        runs,
    )
    recorder.compare(f"scan {label(rows)} flows, 3 aggregates", scans, baseline="plain read_parquet")
    backend.close()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
