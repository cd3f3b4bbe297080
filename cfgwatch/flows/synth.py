"""Synthetic flows with known answers: for tests, the demo and the benchmark.

* `planted_scenario` -> a small flow set (nfdump CSV) where the answer is known: steady CDN traffic
  from one host, and after the change a spike from another host to a VPS with ~5% return packets.
* `generate_parquet` -> millions of background flows generated inside DuckDB straight into the
  day-partitioned Parquet store layout (`<root>/data/day=.../*.parquet`), enrichment columns filled.
* `write_nfdump_csv_sql`, `write_zeek_conn_sql`, `write_aws_vpc_sql` -> large flow files in those formats,
  generated inside DuckDB (ingest benchmark).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from cfgwatch.flows.backends.duckdb_ingest import PARQUET_COMPRESSION, ROW_GROUP_ROWS

NFDUMP_CSV_HEADER = (
    "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,"
    "ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"
)
_TAIL = (
    "0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,"
    "0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000"
)

# Addresses of the planted scenario (documentation/real provider space, fixed so tests can assert them).
CDN_NET = "104.16.0.0/13"  # Cloudflare, AS13335
CDN_ADDR = "104.16.1.10"
VPS_NET = "45.77.0.0/16"  # Vultr / Choopa, AS20473
VPS_ADDR = "45.77.10.5"
STEADY_HOST = "10.1.1.10"
SPIKE_HOST = "10.1.1.20"
EXPORTER = "edge-fw1"


@dataclass(frozen=True, slots=True)
class SynthFlow:
    start: datetime
    src: str
    dst: str
    sport: int
    dport: int
    proto: int
    packets: int
    bytes: int
    exporter: str = EXPORTER


def nfdump_csv_line(flow: SynthFlow) -> str:
    ts = flow.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    te = (flow.start + timedelta(seconds=30)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    proto = {6: "TCP", 17: "UDP", 1: "ICMP"}.get(flow.proto, str(flow.proto))
    return (
        f"{ts},{te},30.000,{flow.src},{flow.dst},{flow.sport},{flow.dport},{proto},...A....,0,0,"
        f"{flow.packets},{flow.bytes},0,0,1,2,0,0,0,0,0,1,0.0.0.0,0.0.0.0,{_TAIL},{flow.exporter},0/0,1,{ts}"
    )


def write_nfdump_csv(path: Path, flows: list[SynthFlow]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(NFDUMP_CSV_HEADER + "\n")
        for flow in flows:
            handle.write(nfdump_csv_line(flow) + "\n")
        handle.write("Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n0,0,0,0,0,0\n")
    return path


def planted_scenario(change_time: datetime, *, baseline_hours: int = 72, post_hours: int = 24) -> list[SynthFlow]:
    """Known answer: STEADY_HOST talks to the CDN at the same hourly rate before and after (full returns);
    SPIKE_HOST sends a little to the CDN before, then after the change 40x more to the VPS with ~5% returns."""
    flows: list[SynthFlow] = []
    start = change_time - timedelta(hours=baseline_hours)
    for hour in range(baseline_hours + post_hours):
        moment = start + timedelta(hours=hour, minutes=5)
        flows.append(SynthFlow(moment, STEADY_HOST, CDN_ADDR, 40000 + hour, 443, 6, 100, 80_000))
        flows.append(SynthFlow(moment, CDN_ADDR, STEADY_HOST, 443, 40000 + hour, 6, 100, 120_000))
        if moment < change_time:
            flows.append(SynthFlow(moment, SPIKE_HOST, CDN_ADDR, 50000 + hour, 443, 6, 5, 2_000))
            flows.append(SynthFlow(moment, CDN_ADDR, SPIKE_HOST, 443, 50000 + hour, 6, 5, 3_000))
        else:
            for index in range(4):
                flows.append(
                    SynthFlow(
                        moment + timedelta(minutes=index), SPIKE_HOST, VPS_ADDR, 51000 + index, 8080, 6, 200, 240_000
                    )
                )
            flows.append(SynthFlow(moment, VPS_ADDR, SPIKE_HOST, 8080, 51000, 6, 40, 4_000))
    return flows


# -- bulk generation inside DuckDB ----------------------------------------------------------------------------


def _v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _bulk_select(rows: int, start: datetime, days: int, exporters: int, seed: int) -> str:
    """SQL producing `rows` flows: internal 10.<exporter>.x.y sources, 20k remote /24s in five classes,
    ~half the records are return records; deterministic for a given seed."""
    base = int(start.astimezone(UTC).timestamp())
    span = days * 86400
    return f"""
        SELECT
          make_timestamp(({base} + (hash(i, {seed}, 1) % {span}))::BIGINT * 1000000) AS time_start,
          make_timestamp(({base} + (hash(i, {seed}, 1) % {span}) + 30)::BIGINT * 1000000) AS time_end,
          'fw-' || lpad(CAST(i % {exporters} AS VARCHAR), 3, '0') AS exporter,
          CAST(1 AS UINTEGER) AS in_if, CAST(2 AS UINTEGER) AS out_if, CAST(4 AS UTINYINT) AS ip_version,
          CAST(CASE WHEN is_ret THEN remote ELSE local END AS UINTEGER) AS src_v4,
          CAST(0 AS UBIGINT) AS src_v6_hi, CAST(0 AS UBIGINT) AS src_v6_lo,
          CAST(CASE WHEN is_ret THEN local ELSE remote END AS UINTEGER) AS dst_v4,
          CAST(0 AS UBIGINT) AS dst_v6_hi, CAST(0 AS UBIGINT) AS dst_v6_lo,
          CAST(CASE WHEN is_ret THEN 443 ELSE 1024 + hash(i, 3) % 60000 END AS USMALLINT) AS src_port,
          CAST(CASE WHEN is_ret THEN 1024 + hash(i, 3) % 60000 ELSE 443 END AS USMALLINT) AS dst_port,
          CAST(6 AS UTINYINT) AS proto, CAST(16 AS UTINYINT) AS tcp_flags,
          CAST(1 + hash(i, 4) % 50 AS UBIGINT) AS packets, CAST(60 + hash(i, 5) % 60000 AS UBIGINT) AS bytes,
          CAST(0 AS UBIGINT) AS rev_packets, CAST(0 AS UBIGINT) AS rev_bytes,
          CAST(0 AS UTINYINT) AS direction, CAST(1 AS UTINYINT) AS action,
          CAST(0 AS UINTEGER) AS nat_src_v4, CAST(0 AS UBIGINT) AS nat_src_v6_hi, CAST(0 AS UBIGINT) AS nat_src_v6_lo,
          CAST(0 AS UINTEGER) AS nat_dst_v4, CAST(0 AS UBIGINT) AS nat_dst_v6_hi, CAST(0 AS UBIGINT) AS nat_dst_v6_lo,
          CAST(0 AS USMALLINT) AS nat_src_port, CAST(0 AS USMALLINT) AS nat_dst_port,
          CAST(CASE WHEN is_ret THEN 0 ELSE [13335, 16509, 14061, 24940, CAST(64512 + rnet % 1000 AS BIGINT)][pick] END
               AS UINTEGER) AS dst_asn,
          CASE WHEN is_ret THEN '' ELSE ['Cloudflare', 'Amazon AWS', 'DigitalOcean', 'Hetzner Online',
               'Example Net'][pick] END AS dst_org,
          CASE WHEN is_ret THEN ''
               ELSE ['cdn', 'cloud', 'hosting', 'hosting', ''][pick] END AS dst_class
        FROM (
          SELECT i, hash(i, {seed}, 2) % 2 = 1 AS is_ret,
                 {_v4("10.0.0.0")} + (i % {exporters}) * 65536 + hash(i, {seed}, 6) % 4096 AS local,
                 hash(i, {seed}, 7) % 20000 AS rnet,
                 CAST(1 + (hash(i, {seed}, 7) % 20000) % 5 AS BIGINT) AS pick,
                 {_v4("11.0.0.0")} + (hash(i, {seed}, 7) % 20000) * 256 + hash(i, 8) % 256 AS remote
          FROM range({rows}) t(i)
        )
    """


def generate_parquet(
    root: Path, rows: int, *, start: datetime, days: int = 7, exporters: int = 100, seed: int = 1
) -> Path:
    """Write `rows` synthetic flows into `<root>/data/day=*/` sorted by exporter and time (as compaction does)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"COPY (SELECT *, CAST(time_start AS DATE) AS day FROM ({_bulk_select(rows, start, days, exporters, seed)})"
        f" ORDER BY day, exporter, time_start) TO '{data}' (FORMAT parquet, PARTITION_BY (day), APPEND true,"
        f" ROW_GROUP_SIZE {ROW_GROUP_ROWS},"
        f" FILENAME_PATTERN 'synth-{seed}-{{uuid}}', COMPRESSION {PARQUET_COMPRESSION})"
    )
    con.close()
    return data


def write_nfdump_csv_sql(path: Path, rows: int, *, start: datetime, exporters: int = 10, seed: int = 2) -> Path:
    """A large `nfdump -o csv` style file (no Summary block), generated inside DuckDB."""
    con = duckdb.connect()
    inner = _bulk_select(rows, start, 1, exporters, seed)
    v4 = (
        "CAST(({c} >> 24) AS VARCHAR) || '.' || CAST((({c} >> 16) & 255) AS VARCHAR) || '.' || "
        "CAST((({c} >> 8) & 255) AS VARCHAR) || '.' || CAST(({c} & 255) AS VARCHAR)"
    )
    con.execute(
        f"""COPY (SELECT strftime(time_start, '%Y-%m-%d %H:%M:%S') AS ts, strftime(time_end, '%Y-%m-%d %H:%M:%S') AS te,
                '30.000' AS td, {v4.format(c="src_v4")} AS sa, {v4.format(c="dst_v4")} AS da, src_port AS sp,
                dst_port AS dp, 'TCP' AS pr, '...A....' AS flg, 0 AS fwd, 0 AS stos, packets AS ipkt, bytes AS ibyt,
                0 AS opkt, 0 AS obyt, in_if AS "in", out_if AS "out", 0 AS sas, 0 AS das, 0 AS smk, 0 AS dmk,
                0 AS dtos, 0 AS dir, '0.0.0.0' AS nh, '0.0.0.0' AS nhb, 0 AS svln, 0 AS dvln,
                '00:00:00:00:00:00' AS ismc, '00:00:00:00:00:00' AS odmc, '00:00:00:00:00:00' AS idmc,
                '00:00:00:00:00:00' AS osmc, '0-0-0' AS mpls1, '0-0-0' AS mpls2, '0-0-0' AS mpls3, '0-0-0' AS mpls4,
                '0-0-0' AS mpls5, '0-0-0' AS mpls6, '0-0-0' AS mpls7, '0-0-0' AS mpls8, '0-0-0' AS mpls9,
                '0-0-0' AS mpls10, '0.000' AS cl, '0.000' AS sl, '0.000' AS al, '192.0.2.1' AS ra, '0/0' AS eng,
                1 AS exid, strftime(time_start, '%Y-%m-%d %H:%M:%S') AS tr
            FROM ({inner})) TO '{path}' (FORMAT csv, HEADER true)"""
    )
    con.close()
    return path


def _v4_text(column: str) -> str:
    return (
        f"CAST(({column} >> 24) AS VARCHAR) || '.' || CAST((({column} >> 16) & 255) AS VARCHAR) || '.' || "
        f"CAST((({column} >> 8) & 255) AS VARCHAR) || '.' || CAST(({column} & 255) AS VARCHAR)"
    )


ZEEK_CONN_FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
ZEEK_CONN_TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
]


def write_zeek_conn_sql(path: Path, rows: int, *, start: datetime, exporters: int = 10, seed: int = 3) -> Path:
    """A large Zeek conn.log (TSV with the #separator/#fields/#types header, as Zeek writes it)."""
    inner = _bulk_select(rows, start, 1, exporters, seed)
    body = path.with_suffix(".body")
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT printf('%.6f', epoch_us(time_start) / 1e6 + (hash(src_port) % 1000000) / 1e6) AS ts,
                'C' || CAST(hash(src_v4, dst_port, src_port) % 100000000000 AS VARCHAR) AS uid,
                {_v4_text("src_v4")} AS orig_h, src_port AS orig_p, {_v4_text("dst_v4")} AS resp_h, dst_port AS resp_p,
                'tcp' AS proto, CASE WHEN dst_port = 443 THEN 'ssl' ELSE '-' END AS service,
                printf('%.6f', (bytes % 5000) / 1000.0) AS duration, bytes AS orig_bytes, bytes // 3 AS resp_bytes,
                'SF' AS conn_state, '-' AS local_orig, '-' AS local_resp, 0 AS missed_bytes, 'ShADadFf' AS history,
                packets AS orig_pkts, bytes + 40 * packets AS orig_ip_bytes, packets AS resp_pkts,
                bytes // 3 + 40 * packets AS resp_ip_bytes, '(empty)' AS tunnel_parents
            FROM ({inner})) TO '{body}' (FORMAT csv, HEADER false, DELIMITER '\t', QUOTE '')"""
    )
    con.close()
    opened = start.astimezone(UTC).strftime("%Y-%m-%d-%H-%M-%S")
    header = (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        f"#open\t{opened}\n#fields\t" + "\t".join(ZEEK_CONN_FIELDS) + "\n#types\t" + "\t".join(ZEEK_CONN_TYPES) + "\n"
    )
    _concatenate(path, header, body, f"#close\t{opened}\n")
    return path


AWS_V2_HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
)


def write_aws_vpc_sql(path: Path, rows: int, *, start: datetime, exporters: int = 10, seed: int = 4) -> Path:
    """A large AWS VPC flow log in the S3 text form (v2 default fields with their header line)."""
    inner = _bulk_select(rows, start, 1, exporters, seed)
    body = path.with_suffix(".body")
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT 2 AS version, '123456789010' AS account, 'eni-' || lpad(exporter[4:], 17, '0') AS eni,
                {_v4_text("src_v4")} AS src, {_v4_text("dst_v4")} AS dst, src_port, dst_port, 6 AS protocol,
                packets, bytes, epoch(time_start)::BIGINT AS t0, epoch(time_start)::BIGINT + 60 AS t1,
                CASE WHEN hash(src_port) % 50 = 0 THEN 'REJECT' ELSE 'ACCEPT' END AS action, 'OK' AS status
            FROM ({inner})) TO '{body}' (FORMAT csv, HEADER false, DELIMITER ' ', QUOTE '')"""
    )
    con.close()
    _concatenate(path, AWS_V2_HEADER + "\n", body, "")
    return path


def _concatenate(path: Path, head: str, body: Path, tail: str) -> None:
    """head + body file + tail into `path` (DuckDB writes the body; the header lines are not CSV)."""
    with path.open("wb") as out:
        out.write(head.encode("utf-8"))
        with body.open("rb") as source:
            while chunk := source.read(1 << 22):
                out.write(chunk)
        out.write(tail.encode("utf-8"))
    body.unlink()
