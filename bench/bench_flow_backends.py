"""Benchmark: the same flows as nfcapd files, DuckDB Parquet and ClickHouse; one question, every engine, one run.

The question (issue 10): outbound packets and return ratio from 100 internal IPs to non-internal
destinations, by destination /24, after time T. Answered by bare `nfdump` (one filtered, aggregated
invocation: the baseline), and by cfgwatch's `outbound_summary` on the nfdump, DuckDB and ClickHouse
backends (ClickHouse: ONE statement). The engines alternate in every round (bench/_harness.py: caches
cleared, garbage collected); CPU is this process, its children and the clickhouse-server process.
Prints CPU and wall medians, ratios to bare nfdump, the load average and one GOAL line (issue 19 goal 7):
`ClickHouse 10M-flow question` <= 1 s wall. Every engine must give the same answer (checked).

Then (issue 19 goal 7, ClickHouse side; `--changes 0` skips it) an audit's verification on the same ClickHouse
table: `--changes` changes (a /24 of one exporter's sources each, half limited to port 443, 6 h windows),
alternating in the same run: `plain` (one hand-written ClickHouse query per change over both windows: outbound
records and packets), `per-change` (`verify_many` through the plain FlowBackend queries: two
`outbound_summary` statements per change) and `batched` (`verify_many` -> `check_summaries`: every change in
ONE statement). Verdicts of the two cfgwatch paths must be equal (checked). GOAL line: batched CPU / plain CPU
<= 0.5 (CPU includes the server).

The data is built once and cached under --data (rebuild with --rebuild):
* Parquet: `cfgwatch.flows.synth.generate_parquet` (the issue 9 generator), 1 day, 4 exporters;
* nfcapd files: every Parquet row sent as IPFIX over UDP to a real nfcapd on 127.0.0.1, rotated as
  nfcapd does in production (`--rotate 300`: one file per 5 minutes of flow end times, 289 files for
  the day); `--rotate 0` keeps everything in one file. Bare nfdump is timed twice: `-R DIR -t T` as
  typed (nfdump 1.7.1 reads every file even with -t) and with the files chosen by name, as an expert
  would (`-R DIR/nfcapd.<T - 15 min>:<last>`);
* ClickHouse: a private clickhouse-server (started and stopped here by PID), rows posted to its HTTP
  interface on 127.0.0.1 as a TSV that DuckDB writes from the same Parquet.

    .venv/bin/python bench/bench_flow_backends.py                 # 10 M flows
    .venv/bin/python bench/bench_flow_backends.py --quick         # 300k flows, one nfcapd file, < 60 s
    .venv/bin/python bench/bench_flow_backends.py --rotate 0      # everything in one nfcapd file
    .venv/bin/python bench/bench_flow_backends.py --no-nfdump     # DuckDB + ClickHouse only (no IPFIX build)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from _flow_fixtures import ClickHouseServer, IpfixExporter, Nfcapd  # noqa: E402
from _harness import Recorder, Sample, add_common_args, measure, median_cpu, median_wall  # noqa: E402
from bench_flows import PerCheck  # noqa: E402  (the store through the plain FlowBackend queries only)

from cfgwatch.flows.backends.base import FlowSelector, OutboundSummary, TimeWindow  # noqa: E402
from cfgwatch.flows.backends.clickhouse import ClickHouseBackend  # noqa: E402
from cfgwatch.flows.backends.duckdb import DuckDBBackend  # noqa: E402
from cfgwatch.flows.backends.nfdump import NfdumpBackend  # noqa: E402
from cfgwatch.flows.schema import COLUMNS, clickhouse_ddl  # noqa: E402
from cfgwatch.flows.settings import FlowSettings  # noqa: E402
from cfgwatch.flows.synth import generate_parquet  # noqa: E402
from cfgwatch.flows.verify import FlowCheck, FlowVerdict, verify_many, windows  # noqa: E402
from cfgwatch.model import AddressSet, PortSet  # noqa: E402

START = datetime(2024, 6, 3, tzinfo=UTC)
EXPORTERS = 4
INTERNAL = AddressSet.parse("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
INTERNAL_NFDUMP = "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data -----------------------------------------------------------------------------------------------


def build_parquet(data: Path, rows: int) -> Path:
    store = data / "duckdb"
    if not any((store / "data").glob("day=*/*.parquet")):
        log(f"generating {rows:,} flows as Parquet ...")
        generate_parquet(store, rows, start=START, days=1, exporters=EXPORTERS, seed=10)
    return store


def _parquet_glob(store: Path) -> str:
    return str(store / "data" / "day=*" / "*.parquet")


_FLOW_QUERY = (
    "SELECT epoch_ms(time_start), epoch_ms(time_end), src_v4, dst_v4, src_port, dst_port, proto, tcp_flags,"
    " packets, bytes, in_if, out_if, direction, nat_src_v4, nat_dst_v4, nat_src_port, nat_dst_port"
)


def _send(out: Any, chunk: list[tuple[Any, ...]]) -> None:
    from _flow_fixtures import IPFIX_V4_RECORD, RECORDS_PER_MESSAGE

    pack = IPFIX_V4_RECORD.pack
    for offset in range(0, len(chunk), RECORDS_PER_MESSAGE):
        part = chunk[offset : offset + RECORDS_PER_MESSAGE]
        out.send_message([pack(*row[:12], 1 if row[12] == 2 else 0, *row[13:17]) for row in part])


def build_nfcapd(data: Path, store: Path, rate: float, rotate: int) -> Path:
    """The Parquet rows as nfcapd files, written by a real nfcapd.

    rotate > 0 lays them out as nfcapd does in production (`nfcapd -t ROTATE`): a record is exported
    when the flow ends, so the file named for slot S holds the records whose end falls in
    [S, S + rotate). One nfcapd per slot receives that slot's records and its file is renamed to
    the slot time (nfcapd names files by wall-clock time, and the flows are from 2024).
    rotate = 0: everything in one file (the layout of the first benchmark runs).
    """
    flowdir = data / ("nfcapd" if rotate == 0 else f"nfcapd-{rotate}s")
    marker = data / f"{flowdir.name}.done"
    if marker.exists():
        return flowdir
    shutil.rmtree(flowdir, ignore_errors=True)
    con = duckdb.connect()
    sent = 0
    started = time.monotonic()
    if rotate == 0:
        cursor = con.execute(f"{_FLOW_QUERY} FROM read_parquet('{_parquet_glob(store)}')")
        with Nfcapd(flowdir) as collector, IpfixExporter(collector.port, records_per_second=rate) as out:
            log(f"sending flows as IPFIX to nfcapd on 127.0.0.1:{collector.port} at <= {rate:,.0f}/s ...")
            while chunk := cursor.fetchmany(50_000):
                _send(out, chunk)
                sent += len(chunk)
    else:
        flowdir.mkdir(parents=True)
        cursor = con.execute(
            f"{_FLOW_QUERY}, epoch_ms(time_end) // {rotate * 1000} AS slot"
            f" FROM read_parquet('{_parquet_glob(store)}') ORDER BY slot"
        )
        log(f"sending flows as IPFIX to one nfcapd per {rotate} s slot at <= {rate:,.0f}/s ...")
        pending: list[tuple[Any, ...]] = []
        while True:
            chunk = cursor.fetchmany(50_000)
            pending += chunk
            while pending and (not chunk or pending[-1][17] != pending[0][17]):
                slot = pending[0][17]
                cut = next((i for i, row in enumerate(pending) if row[17] != slot), len(pending))
                _write_slot(flowdir, slot * rotate, pending[:cut], rate)
                sent += cut
                pending = pending[cut:]
                if sent // 1_000_000 != (sent - cut) // 1_000_000:
                    log(f"  {sent:,} sent ({time.monotonic() - started:.0f} s)")
            if not chunk:
                break
    con.close()
    stored = count_nfcapd(flowdir)
    log(f"nfcapd stored {stored:,} of {sent:,} records")
    if stored != sent:
        raise SystemExit(f"nfcapd lost {sent - stored} records: rerun with a lower --rate")
    marker.write_text(f"{stored}\n", encoding="utf-8")
    return flowdir


def _write_slot(flowdir: Path, slot_start: int, rows: list[tuple[Any, ...]], rate: float) -> None:
    """One slot's records through a fresh nfcapd; its file becomes nfcapd.YYYYMMDDhhmm of the slot."""
    scratch = flowdir.parent / "nfcapd-slot"
    for attempt in range(5):  # a port handed out by the kernel can be taken before nfcapd binds it
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            collector = Nfcapd(scratch).start()
        except RuntimeError:
            if attempt == 4:
                raise
            continue
        try:
            with IpfixExporter(collector.port, records_per_second=rate) as out:
                _send(out, rows)
        finally:
            collector.stop()
        break
    written = [path for path in scratch.iterdir() if path.name.startswith("nfcapd.")]
    target = flowdir / datetime.fromtimestamp(slot_start, UTC).strftime("nfcapd.%Y%m%d%H%M")
    if len(written) == 1:
        written[0].rename(target)
    else:  # nfcapd's own wall-clock rotation fell inside the slot: one file again, statistics rewritten
        subprocess.run(["nfdump", "-R", str(scratch), "-w", str(target)], check=True, capture_output=True)
    shutil.rmtree(scratch)
    for log_file in flowdir.parent.glob("nfcapd-*.log"):
        log_file.unlink()


def count_nfcapd(flowdir: Path) -> int:
    out = subprocess.run(
        ["nfdump", "-R", str(flowdir), "-q", "-N", "-s", "proto/flows", "-o", "csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = 0
    header: list[str] | None = None
    for line in out.splitlines():
        fields = [part.strip() for part in line.split(",")]
        if header is None:
            if "fl" in fields:
                header = fields
            continue
        if len(fields) == len(header):
            total += int(fields[header.index("fl")])
    return total


def start_clickhouse(data: Path) -> ClickHouseServer:
    root = data / "clickhouse"
    root.mkdir(parents=True, exist_ok=True)
    server = ClickHouseServer(root)
    server.start()
    return server


def load_clickhouse(server: ClickHouseServer, data: Path, store: Path) -> None:
    marker = data / "clickhouse.done"
    if marker.exists():
        return
    client = server.client()
    client.execute("DROP TABLE IF EXISTS flows")
    settings = {"allow_experimental_low_cardinality_type": 1}
    version = str(client.execute("SELECT version()")[0][0])
    client.execute(clickhouse_ddl("flows"), settings=settings if int(version.split(".")[0]) < 19 else {})
    tsv = data / "clickhouse.tsv"
    names = [column.name for column in COLUMNS]
    select = ", ".join(
        f"epoch_ms({name})"
        if name in ("time_start", "time_end")
        else f"CAST({name} AS VARCHAR)"
        if name == "day"
        else name
        for name in names
    )
    log("writing TSV for ClickHouse ...")
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT {select} FROM read_parquet('{_parquet_glob(store)}', hive_partitioning = true))"
        f" TO '{tsv}' (FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '')"
    )
    con.close()
    log("loading ClickHouse over its HTTP interface ...")
    query = urllib.parse.urlencode({"query": f"INSERT INTO flows ({', '.join(names)}) FORMAT TabSeparated"})
    with tsv.open("rb") as handle:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.http_port}/?{query}",
            data=handle,
            method="POST",
            headers={"Content-Length": str(tsv.stat().st_size)},
        )
        with urllib.request.urlopen(request, timeout=3600) as reply:
            reply.read()
    tsv.unlink()
    client.execute("OPTIMIZE TABLE flows FINAL")
    marker.write_text("ok\n", encoding="utf-8")


# -- the question ---------------------------------------------------------------------------------------


def chosen_sources(store: Path) -> list[str]:
    """100 internal addresses that appear as sources in the data (spread over the exporters)."""
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT DISTINCT src_v4 FROM read_parquet('{_parquet_glob(store)}') WHERE src_v4 >> 24 = 10"
        " ORDER BY hash(src_v4) LIMIT 100"
    ).fetchall()
    con.close()
    return [".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0)) for (value,) in rows]


def files_from(flowdir: Path, since: datetime, slack: timedelta) -> str:
    """`-R` argument an nfdump expert would give: the files from the one receiving flows at `since - slack`.

    nfdump 1.7.1 reads every file of `-R DIR` even with `-t` (file statistics are not used to skip
    files), so choosing the files by name is what makes bare nfdump fast on a rotated tree.
    """
    names = sorted(
        path.name for path in flowdir.iterdir() if path.name.startswith("nfcapd.") and "." not in path.name[7:]
    )
    stamp = (since - slack).astimezone(UTC).strftime("nfcapd.%Y%m%d%H%M")
    first = max([name for name in names if name <= stamp] or names[:1])
    return f"{flowdir}/{first}:{names[-1]}" if first != names[-1] else f"{flowdir}/{first}"


def bare_nfdump(flowdir: Path | str, sources: list[str], since: datetime) -> dict[str, tuple[int, int]]:
    """The baseline: one nfdump run, filter + aggregation by /24 pairs, folded per remote /24."""
    listed = " ".join(sources)
    nf_filter = (
        f"(src ip in [{listed}] and not dst ip in [{INTERNAL_NFDUMP}]) or "
        f"(dst ip in [{listed}] and not src ip in [{INTERNAL_NFDUMP}])"
    )
    command = [
        "nfdump", "-R", str(flowdir), "-t", since.strftime("%Y/%m/%d.%H:%M:%S"), "-q", "-N",
        "-A", "srcip4/24,dstip4/24", "-o", "fmt:%sa|%da|%pkt", nf_filter,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=dict(os.environ, TZ="UTC")).stdout
    per: dict[str, tuple[int, int]] = {}
    for line in out.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3:
            continue
        src, dst, packets = parts[0], parts[1], int(parts[2])
        if src.startswith(("10.", "172.", "192.168.")):
            out_packets, ret_packets = per.get(dst, (0, 0))
            per[dst] = (out_packets + packets, ret_packets)
        else:
            out_packets, ret_packets = per.get(src, (0, 0))
            per[src] = (out_packets, ret_packets + packets)
    return per


def server_cpu(server: ClickHouseServer) -> float:
    """User + system seconds the clickhouse-server process used so far (it is not a waited-for child)."""
    if server.proc is None:
        return 0.0
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alternate(
    cases: dict[str, Callable[[], Any]], runs: int, server: ClickHouseServer
) -> tuple[dict[str, list[Sample]], dict[str, Any]]:
    """`_harness.interleave`, with the ClickHouse server's CPU added to every sample (all engines run beside it,
    so an idle server costs each the same) and the last answer of each case kept."""
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    answers: dict[str, Any] = {}
    for round_number in range(runs + 1):  # one warm-up round
        for name, action in cases.items():
            before = server_cpu(server)
            sample = measure(partial(_keep, answers, name, action))
            sample = Sample(sample.cpu + server_cpu(server) - before, sample.wall)
            if round_number:
                samples[name].append(sample)
    return samples, answers


def _keep(answers: dict[str, Any], name: str, action: Callable[[], Any]) -> None:
    answers[name] = action()


# -- an audit's verification on ClickHouse ---------------------------------------------------------------

VERIFY_SETTINGS = FlowSettings(baseline_hours=6, post_window_hours=6)


def make_checks(count: int) -> list[FlowCheck]:
    """`count` changes spread over the exporters: a /24 of sources each (as the generator lays them out)."""
    checks = []
    for index in range(count):
        exporter = index % EXPORTERS
        checks.append(
            FlowCheck(
                device=f"fw-{exporter:03d}",
                internal=AddressSet.parse(f"10.{exporter}.{(index * 7) % 16}.0/24"),
                external=None,
                ports=PortSet.of(443) if index % 2 else None,
                change_time=START + timedelta(hours=6 + (index * 5) % 12, minutes=index % 60),
                internal_networks=INTERNAL,
            )
        )
    return checks


def plain_clickhouse(house: ClickHouseBackend, checks: list[FlowCheck]) -> list[Any]:
    """What a person would type per change: outbound records and packets per window, one query each."""
    answers = []
    for check in checks:
        post, baseline = windows(check.change_time, VERIFY_SETTINGS)
        lo, hi = check.internal.v4[0]
        ports = " AND dst_port = 443" if check.ports is not None else ""
        ms = [int(moment.timestamp() * 1000) for moment in (baseline.start, post.start, post.end)]
        answers.append(
            house.client.execute(
                f"SELECT time_start >= {ms[1]} AS post, count(), sum(packets) FROM flows"
                f" WHERE exporter = '{check.device}' AND time_start >= {ms[0]} AND time_start < {ms[2]}"
                f" AND src_v4 BETWEEN {lo} AND {hi} AND NOT (dst_v4 BETWEEN 167772160 AND 184549375){ports}"
                " GROUP BY post"
            )
        )
    return answers


def verify_on_clickhouse(
    recorder: Recorder, house: ClickHouseBackend, server: ClickHouseServer, changes: int, runs: int, name: str
) -> None:
    checks = make_checks(changes)
    cases: dict[str, Callable[[], Any]] = {
        "plain": partial(plain_clickhouse, house, checks),
        "per-change": partial(verify_many, PerCheck(house), checks, VERIFY_SETTINGS),  # type: ignore[arg-type]
        "batched": partial(verify_many, house, checks, VERIFY_SETTINGS),
    }
    samples, answers = alternate(cases, runs, server)
    batched: list[FlowVerdict] = answers["batched"]
    same = batched == answers["per-change"]
    confirmed = sum(1 for item in batched if item.verdict == "traffic-confirmed")
    print(f"verify {changes} changes on ClickHouse: {confirmed} traffic-confirmed; batched == per-change: {same}")
    assert same, "the batched verify disagrees with the per-change path"
    recorder.compare(
        f"ClickHouse verify {changes} changes, {name} flows (CPU includes the server)",
        samples,
        baseline="plain",
        subject="batched",
    )
    ratio = median_cpu(samples["batched"]) / max(median_cpu(samples["per-change"]), 1e-9)
    wall = median_wall(samples["batched"]) / max(median_wall(samples["per-change"]), 1e-9)
    print(f"  ratio batched / per-change: CPU {ratio:.2f}, wall {wall:.2f}")
    recorder.goal(
        f"ClickHouse verify {changes} changes, {name} flows: one statement vs {changes} plain queries",
        round(median_cpu(samples["batched"]) / max(median_cpu(samples["plain"]), 1e-9), 3),
        0.5,
        "x CPU",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=None, help="flows (default 10M; 300k with --quick)")
    parser.add_argument("--quick", action="store_true", help="300k flows in one nfcapd file, 3 runs: under a minute")
    parser.add_argument("--data", type=Path, default=None, help="cache directory (default /tmp/cfgwatch-bench-<rows>)")
    parser.add_argument("--rate", type=float, default=250_000, help="IPFIX records/s sent to nfcapd when building")
    parser.add_argument(
        "--rotate", type=int, default=None, help="nfcapd file rotation in seconds (default 300, 0 with --quick)"
    )
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--changes",
        type=int,
        default=None,
        help="changes in the verification part (default 100, 10 with --quick; 0: skip)",
    )
    parser.add_argument(
        "--no-nfdump", action="store_true", help="skip nfcapd/nfdump (no IPFIX build); DuckDB is then the baseline"
    )
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    rows = args.rows or (300_000 if args.quick else 10_000_000)
    rotate = args.rotate if args.rotate is not None else (0 if args.quick else 300)
    runs = min(args.runs, 3) if args.quick else args.runs
    recorder = Recorder("flow_backends", args.json)
    data = args.data or Path(f"/tmp/cfgwatch-bench-{rows}")
    if args.rebuild:
        shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True, exist_ok=True)

    store = build_parquet(data, rows)
    flowdir = None if args.no_nfdump else build_nfcapd(data, store, args.rate, rotate)
    server = start_clickhouse(data)
    try:
        load_clickhouse(server, data, store)
        sources = chosen_sources(store)
        since = START + timedelta(hours=12)
        window = TimeWindow(since, datetime.now(UTC))  # "after time T": open-ended, up to now
        selector = FlowSelector((), AddressSet.parse(*sources), INTERNAL)

        duck = DuckDBBackend(store, threads=2)
        house = ClickHouseBackend(port=server.tcp_port, table="flows", create=False)
        cases: dict[str, Callable[[], Any]] = {}
        nf: NfdumpBackend | None = None
        if flowdir is not None:
            nfdir = flowdir
            nf = NfdumpBackend(nfdir)
            cases["bare nfdump"] = lambda: bare_nfdump(nfdir, sources, since)
            if rotate:
                chosen = files_from(nfdir, since, nf.file_slack)
                cases["bare nfdump, by name"] = lambda: bare_nfdump(chosen, sources, since)
            cases["cfgwatch nfdump"] = partial(nf.outbound_summary, selector, window)
        cases["cfgwatch duckdb"] = lambda: duck.outbound_summary(selector, window)
        cases["cfgwatch clickhouse"] = lambda: house.outbound_summary(selector, window)
        samples, answers = alternate(cases, runs, server)

        summaries = {name: value for name, value in answers.items() if isinstance(value, OutboundSummary)}
        bare_out = {sum(item[0] for item in value.values()) for name, value in answers.items() if "bare" in name}
        ref = summaries["cfgwatch duckdb"]
        if flowdir is None:
            layout = "no nfcapd files"
        elif rotate:
            layout = f"{len(list(flowdir.iterdir()))} nfcapd files ({rotate} s rotation)"
        else:
            layout = "1 nfcapd file"
        print(f"flows: {rows:,} ({layout}); question: 100 internal IPs, after {since.isoformat()}, by /24")
        print(
            f"answer: {len(ref.remotes)} remote /24s, outbound {ref.out.packets:,} packets, paired returns"
            f" {ref.ret.packets:,} packets (ratio {ref.ret.packets / max(ref.out.packets, 1):.3f})"
        )
        # nfcapd files carry no AS data (the Parquet/ClickHouse rows do), so nfdump agrees on the figures only
        figures = {
            (item.out, item.ret, len(item.remotes), item.exporter_records, item.distinct_sources)
            for item in summaries.values()
        }
        same = len(figures) == 1 and bare_out <= {ref.out.packets}
        same = same and summaries["cfgwatch clickhouse"] == ref
        print(f"every engine gives the same figures (ClickHouse and DuckDB the same summary): {same}")
        assert same, "the engines disagree"
        name = f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"
        title = f"outbound question, {name} flows, every engine (CPU includes the ClickHouse server)"
        baseline = "bare nfdump" if flowdir is not None else "cfgwatch duckdb"
        subject = "cfgwatch duckdb" if flowdir is not None else "cfgwatch clickhouse"
        recorder.compare(title, samples, baseline=baseline, subject=subject)
        for other in ("cfgwatch nfdump", "cfgwatch clickhouse"):
            if other in samples and other != subject:
                cpu = median_cpu(samples[other]) / max(median_cpu(samples[baseline]), 1e-9)
                print(f"  ratio {other} / {baseline} (CPU): {cpu:.2f}")
        recorder.goal(
            f"ClickHouse {name}-flow question", round(median_wall(samples["cfgwatch clickhouse"]), 4), 1.0, "s wall"
        )
        changes = args.changes if args.changes is not None else (10 if args.quick else 100)
        if changes:
            verify_on_clickhouse(recorder, house, server, changes, runs, name)
        duck.close()
        if nf is not None:
            nf.close()
        house.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
