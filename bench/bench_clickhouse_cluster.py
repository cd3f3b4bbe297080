"""Sizing figures per flow backend: cfgwatch ingest rate and one verification question on DuckDB, one
ClickHouse server and a two-shard ClickHouse cluster (issue 19 goal 9).

    .venv/bin/python bench/bench_clickhouse_cluster.py [--rows 500000] [--runs 5] [--quick]

One nfdump CSV export (10 exporters, one day; `cfgwatch.flows.synth`) is ingested with `backend.ingest`
into each store, then `outbound_summary` (every internal source, any destination, the last 12 hours) is
asked `--runs` times per store, the stores alternating (A B C A B C ...) so all see the same load
(bench/_harness.py: caches cleared and garbage collected before each run).
Servers are private clickhouse-server processes on loopback ports, started and stopped here by PID; the
cluster is two of them as two shards (cfgwatch's own DDL: `<table>_local` on each shard, Distributed
over them, sharded by exporter). CPU seconds are this process plus the servers' (from /proc), so
"rows/s per core" counts every core that worked. Prints medians, ratios to DuckDB and the load average.
On a 2-core machine both shards share the same cores: the cluster figures show the cost of fanning
out, not the gain of more machines.

Ingest into ClickHouse, before and after (issue 19): the same export into a fresh table of the single
server, alternating `row path` (the Python reader, per-row enrichment, row-wise INSERT: what
`ClickHouseBackend.ingest` did before) and `DuckDB-read path` (`ingest` now: DuckDB's parallel typed scan,
columnar INSERT blocks); both must store the same rows (checked). No GOAL line: issue 19 sets no figure for
ClickHouse ingest (goal 9 asks for these figures in the README's sizing notes).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from _flow_fixtures import CLUSTER, ClickHouseServer, clickhouse_cluster, clickhouse_server  # noqa: E402
from _harness import Recorder, Sample, add_common_args, measure, median_cpu, median_wall  # noqa: E402

from cfgwatch.flows.backends.base import FlowSelector, TimeWindow  # noqa: E402
from cfgwatch.flows.backends.clickhouse import ClickHouseBackend  # noqa: E402
from cfgwatch.flows.backends.duckdb import DuckDBBackend  # noqa: E402
from cfgwatch.flows.formats import get_reader  # noqa: E402
from cfgwatch.flows.formats.base import ReadStats  # noqa: E402
from cfgwatch.flows.synth import write_nfdump_csv_sql  # noqa: E402
from cfgwatch.model import AddressSet  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)
INTERNAL = AddressSet.parse("10.0.0.0/8")


def server_cpu(servers: Sequence[ClickHouseServer]) -> float:
    """User + system seconds the server processes used so far."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for server in servers:
        if server.proc is None:
            continue
        fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def measure_with(action: Callable[[], object], servers: Sequence[ClickHouseServer]) -> Sample:
    """`_harness.measure` (caches cleared, gc) plus the CPU the servers used meanwhile."""
    before = server_cpu(servers)
    sample = measure(action)
    return Sample(sample.cpu + server_cpu(servers) - before, sample.wall)


def row_path(house: ClickHouseBackend, export: Path) -> None:
    """The ingest before issue 19's rework: the Python reader's rows, enriched and inserted row by row."""
    house.insert_rows(get_reader("nfdump-csv")(export, ReadStats(str(export)), None))


def compare_ingest(recorder: Recorder, server: ClickHouseServer, export: Path, rows: int, runs: int) -> None:
    """Row path vs DuckDB-read path into fresh tables, alternating; the stored rows must be equal."""
    samples: dict[str, list[Sample]] = {"row path": [], "DuckDB-read path": []}
    digests: dict[str, set[str]] = {name: set() for name in samples}
    for round_number in range(runs):
        for name in samples:
            table = f"ingest_{name.split()[0].replace('-', '_').lower()}_{round_number}"
            house = ClickHouseBackend(port=server.tcp_port, table=table)
            action = (
                partial(row_path, house, export) if name == "row path" else partial(house.ingest, export, "nfdump-csv")
            )
            samples[name].append(measure_with(action, (server,)))
            digests[name].add(str(house.client.execute(f"SELECT count(), sum(cityHash64(*)) FROM {table}")[0]))
            house.client.execute(f"DROP TABLE {table}")
            house.close()
    same = len(digests["row path"] | digests["DuckDB-read path"]) == 1
    print(f"ingest {rows:,} rows into ClickHouse, row path vs DuckDB-read path: same rows stored: {same}")
    assert same, digests
    for name, values in samples.items():
        cpu, wall = median_cpu(values), median_wall(values)
        print(f"  {name:<18} {rows / wall:12,.0f} rows/s {rows / max(cpu, 1e-9):12,.0f} rows per CPU-s")
    recorder.compare(f"ClickHouse ingest, {rows:,} rows (CPU includes the server)", samples, baseline="row path")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--quick", action="store_true", help="30k flows, 3 runs: about a minute")
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    rows = 30_000 if args.quick else args.rows
    runs = min(args.runs, 3) if args.quick else args.runs
    recorder = Recorder("clickhouse_cluster", args.json)
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)  # "not listening yet" while servers start
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-ch-") as scratch:
        export = write_nfdump_csv_sql(Path(scratch) / "flows.csv", rows, start=START, exporters=10)
        selector = FlowSelector(exporters=(), sources=INTERNAL, internal=INTERNAL)
        window = TimeWindow(START + timedelta(hours=12), START + timedelta(days=1))
        with clickhouse_server() as single, clickhouse_cluster() as (node, shard):
            stores: dict[str, tuple[DuckDBBackend | ClickHouseBackend, Sequence[ClickHouseServer]]] = {
                "duckdb": (DuckDBBackend(Path(scratch) / "duck"), ()),
                "clickhouse": (ClickHouseBackend(port=single.tcp_port, table="flows"), (single,)),
                "cluster (2 shards)": (
                    ClickHouseBackend(port=node.tcp_port, table="flows", cluster=CLUSTER),
                    (node, shard),
                ),
            }
            every = (single, node, shard)
            compare_ingest(recorder, single, export, rows, runs)
            ingest = {
                name: measure_with(partial(store.ingest, export, "nfdump-csv"), every)
                for name, (store, _servers) in stores.items()
            }
            queries: dict[str, list[Sample]] = {name: [] for name in stores}
            answers: dict[str, str] = {}
            for round_number in range(runs + 1):  # A B C A B C ..., one warm-up round
                for name, (store, _servers) in stores.items():
                    question = partial(store.outbound_summary, selector, window)
                    sample = measure_with(question, every)
                    if round_number:
                        queries[name].append(sample)
                    answers[name] = repr(question())
            same = len(set(answers.values())) == 1
    print(f"{rows:,} flows, 10 exporters, one day; CPU includes every clickhouse-server process")
    for name, sample in ingest.items():
        print(
            f"  ingest {name:<20} {sample.wall:8.2f} s wall {rows / sample.wall:12,.0f} rows/s"
            f" {rows / max(sample.cpu, 1e-9):12,.0f} rows per CPU-s"
        )
    recorder.compare(
        "outbound_summary, every internal source, 12 hours", queries, baseline="duckdb", subject="cluster (2 shards)"
    )
    print(f"same answer from every store: {same}")
    assert same, "the stores disagree"


if __name__ == "__main__":
    main()
