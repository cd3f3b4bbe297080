"""The numpy fold of DuckDB `check_summaries` (flows/backends/duckdb_fold.py) against the per-window reference
(`outbound_summary` on both windows, folded by `verify.summarize_check`) on random stores and changes.

The stores mix what the fold must get right: NAT destinations and ports, biflow reverse counters, rejected
records, IPv6 records (coverage only), internal-to-internal traffic, another exporter between the requested
ones, several changes on one exporter with overlapping sources spanning /24 borders, windows cut inside a day
and at midnight, destination and port restrictions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cfgwatch.flows.backends.base import FlowSelector, TimeWindow
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.schema import COLUMNS
from cfgwatch.flows.verify import summarize_check
from cfgwatch.model import AddressSet, PortSet

START = datetime(2024, 3, 1, tzinfo=UTC)
EXPORTERS = ("fw-a", "fw-c", "fw-e")
OTHER_EXPORTER = "fw-b"  # inside the requested name range, never requested
INTERNAL = AddressSet.parse("10.0.0.0/8", "192.168.0.0/16")
LOCALS = [f"10.0.{third}.{host}" for third in range(4) for host in (1, 2, 77, 128, 200, 255)] + ["192.168.1.5"]
REMOTES = ["203.0.113.9", "203.0.113.77", "198.51.100.1", "198.51.100.200", "45.77.10.5", "104.16.1.10", "8.8.8.8"]
ORGS = ["", "Cloudflare", "Vultr", "Example"]
CLASSES = ["", "cdn", "hosting", "cloud"]


def _v4(text: str) -> int:
    a, b, c, d = (int(part) for part in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _record(rng: random.Random, index: int) -> dict[str, object]:
    exporter = rng.choice((*EXPORTERS, OTHER_EXPORTER))
    local, remote = rng.choice(LOCALS), rng.choice(REMOTES + LOCALS[:3])
    outbound = rng.random() < 0.6
    row: dict[str, object] = {
        "time_start": (START + timedelta(seconds=rng.randrange(4 * 86400))).replace(tzinfo=None),
        "exporter": exporter,
        "ip_version": 4,
        "src_v4": _v4(local if outbound else remote),
        "dst_v4": _v4(remote if outbound else local),
        "dst_port": rng.choice((443, 80, 8080, 53)) if outbound else rng.choice((50000, 443)),
        "packets": rng.randrange(1, 40),
        "bytes": 1_000 + 13 * index,  # distinct: the sample address (largest record by bytes) has no tie
        "action": rng.choice((1, 1, 1, 0, 2)),
        "dst_asn": rng.choice((0, 13335, 20473)),
        "dst_org": rng.choice(ORGS),
        "dst_class": rng.choice(CLASSES),
    }
    if rng.random() < 0.15:
        row["nat_dst_v4"] = _v4(rng.choice(REMOTES))
        row["nat_dst_port"] = rng.choice((0, 443, 3128))
    if rng.random() < 0.2:
        row["rev_packets"] = rng.randrange(0, 5)
        row["rev_bytes"] = rng.randrange(0, 5000)
    if rng.random() < 0.05:
        row.update(ip_version=6, src_v4=0, dst_v4=0, src_v6_hi=0x20010DB8 << 32, src_v6_lo=index, dst_v6_hi=1)
    return row


def _write_store(root: Path, rows: list[dict[str, object]]) -> None:
    columns = [column for column in COLUMNS if not column.partition]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (" + ", ".join(f"{column.name} {column.duckdb}" for column in columns) + ")")
    defaults = {column.name: ("" if column.duckdb == "VARCHAR" else 0) for column in columns}

    def literal(value: object) -> str:
        if isinstance(value, datetime):
            return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
        return f"'{value}'" if isinstance(value, str) else str(value)

    lines = []
    for row in rows:
        values = [literal(row.get(name, default)) for name, default in defaults.items()]
        values[1] = values[0]  # time_end = time_start
        lines.append("(" + ", ".join(values) + ")")
    con.execute("INSERT INTO t VALUES " + ", ".join(lines))
    (root / "data").mkdir(parents=True)
    con.execute(
        f"COPY (SELECT *, CAST(time_start AS DATE) AS day FROM t) TO '{root / 'data'}'"
        " (FORMAT parquet, PARTITION_BY (day), FILENAME_PATTERN 'synth-{uuid}')"
    )
    con.close()


def _request(rng: random.Random) -> tuple[FlowSelector, TimeWindow, TimeWindow]:
    first = _v4("10.0.0.0") + rng.randrange(0, 4 * 256)
    last = min(first + rng.choice((0, 0, 60, 300, 700)), _v4("10.0.3.255"))
    sources = AddressSet(v4=((first, last),))
    destinations = rng.choice((None, None, AddressSet.parse("203.0.113.0/24", "45.77.10.5")))
    ports = rng.choice((None, None, PortSet.of(443), PortSet.of((80, 443))))
    change = START + timedelta(hours=rng.randrange(24, 80), minutes=rng.choice((0, 0, 17)))
    post = TimeWindow.starting(change, timedelta(hours=rng.choice((6, 24))))
    baseline = TimeWindow.ending(change, timedelta(hours=rng.choice((24, 48))))
    selector = FlowSelector((rng.choice(EXPORTERS),), sources, INTERNAL, destinations=destinations, ports=ports)
    return selector, post, baseline


@pytest.mark.parametrize("seed", range(4))
def test_numpy_fold_equals_the_per_window_reference(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    _write_store(tmp_path, [_record(rng, index) for index in range(3000)])
    backend = DuckDBBackend(tmp_path)
    try:
        requests = [_request(rng) for _ in range(10)]
        requests.append((requests[0][0], requests[1][1], requests[1][2]))  # same selector, other windows
        # records between two sources of one change toward a destination set holding them: outbound AND return
        inside = AddressSet.parse("10.0.0.0/24")
        overlap = FlowSelector((EXPORTERS[seed % 3],), inside, INTERNAL, destinations=AddressSet.parse("10.0.0.0/23"))
        requests.append((overlap, *requests[2][1:]))
        requests.append((FlowSelector(overlap.exporters, AddressSet(), INTERNAL), *requests[3][1:]))  # no sources
        top = rng.choice((1, 3, 5))
        folded = backend._check_batch_numpy(requests, top)
        assert folded is not None, "the numpy fold declined a keyed IPv4 batch"
        reference = [
            summarize_check(backend.outbound_summary(selector, post), backend.outbound_summary(selector, base), top)
            for selector, post, base in requests
        ]
        assert folded == reference
        assert backend.check_summaries(requests, top=top) == reference
        assert any(summary.post.out.flows for summary in folded)  # the draw did mark outbound records
    finally:
        backend.close()


def test_numpy_fold_declines_what_it_cannot_mark(tmp_path: Path) -> None:
    rng = random.Random(99)
    _write_store(tmp_path, [_record(rng, index) for index in range(200)])
    backend = DuckDBBackend(tmp_path)
    try:
        selector, post, baseline = _request(rng)
        v6 = FlowSelector(selector.exporters, AddressSet.parse("2001:db8::/64"), INTERNAL)
        translated = FlowSelector(
            selector.exporters, selector.sources, INTERNAL, translated=AddressSet.parse("9.9.9.9")
        )
        every = FlowSelector((), selector.sources, INTERNAL)
        for odd in (v6, translated, every):
            assert backend._check_batch_numpy([(selector, post, baseline), (odd, post, baseline)], 5) is None
    finally:
        backend.close()
