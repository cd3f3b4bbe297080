"""Sizing figures per flow backend: cfgwatch ingest rate and one verification question on DuckDB, one
ClickHouse server and a two-shard ClickHouse cluster (issue 19 goal 9).

    .venv/bin/python bench/bench_clickhouse_cluster.py [--rows 500000] [--repeat 5]

One nfdump CSV export (10 exporters, one day; `cfgwatch.flows.synth`) is ingested with `backend.ingest`
into each store, then `outbound_summary` (every internal source, any destination, the last 12 hours) is
asked `--repeat` times per store, the stores alternating (A B C A B C ...) so all see the same load.
Servers are private clickhouse-server processes on loopback ports, started and stopped here by PID; the
cluster is two of them as two shards (cfgwatch's own DDL: `<table>_local` on each shard, Distributed
over them, sharded by exporter). CPU seconds are this process plus the servers' (from /proc), so
"rows/s per core" counts every core that worked. Prints medians, ratios to DuckDB and the load average.
On a 2-core machine both shards share the same cores: the cluster figures show the cost of fanning
out, not the gain of more machines.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _flow_fixtures import CLUSTER, ClickHouseServer, clickhouse_cluster, clickhouse_server  # noqa: E402

from cfgwatch.flows.backends.base import FlowSelector, TimeWindow  # noqa: E402
from cfgwatch.flows.backends.clickhouse import ClickHouseBackend  # noqa: E402
from cfgwatch.flows.backends.duckdb import DuckDBBackend  # noqa: E402
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


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(action: Callable[[], object], servers: Sequence[ClickHouseServer]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and the servers) of one call."""
    cpu0, srv0, wall0 = own_cpu(), server_cpu(servers), time.perf_counter()
    action()
    return time.perf_counter() - wall0, (own_cpu() - cpu0) + (server_cpu(servers) - srv0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)  # "not listening yet" while servers start
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-ch-") as scratch:
        export = write_nfdump_csv_sql(Path(scratch) / "flows.csv", args.rows, start=START, exporters=10)
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
            ingest: dict[str, tuple[float, float]] = {}
            for name, (store, servers) in stores.items():
                ingest[name] = measure(partial(store.ingest, export, "nfdump-csv"), servers)
            queries: dict[str, list[tuple[float, float]]] = {name: [] for name in stores}
            answers: dict[str, str] = {}
            for _ in range(args.repeat):
                for name, (store, servers) in stores.items():
                    question = partial(store.outbound_summary, selector, window)
                    queries[name].append(measure(question, servers))
                    answers[name] = repr(question())
            same = len(set(answers.values())) == 1
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.rows:,} flows, 10 exporters, one day; load average {load}; {args.repeat} queries each, alternating")
    header = ("store", "ingest s", "rows/s", "rows/s/CPU-s", "query s (median)", "query CPU s")
    print(f"{header[0]:<20} {header[1]:>9} {header[2]:>10} {header[3]:>13} {header[4]:>17} {header[5]:>12}")
    base_query = statistics.median(w for w, _ in queries["duckdb"])
    for name in stores:
        wall, cpu = ingest[name]
        q_wall = statistics.median(w for w, _ in queries[name])
        q_cpu = statistics.median(c for _, c in queries[name])
        print(f"{name:<20} {wall:9.2f} {args.rows / wall:10,.0f} {args.rows / cpu:13,.0f} {q_wall:17.3f} {q_cpu:12.3f}"
              f"   query {q_wall / base_query:.2f}x duckdb")
    print(f"same answer from every store: {same}")


if __name__ == "__main__":
    main()
