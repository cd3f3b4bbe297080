"""The flow schema: ONE column table that drives the DuckDB DDL, the ClickHouse DDL and the nfdump field map.

Every backend stores and queries the same columns, so verification code never cares where flows live.

Address encoding (decided here, used by every backend):

* ``ip_version`` is 4 or 6 for the record (source and destination share a family).
* IPv4 addresses are unsigned 32-bit integers in ``*_v4`` columns (0 when the record is IPv6).
* IPv6 addresses are two unsigned 64-bit halves ``*_v6_hi`` / ``*_v6_lo`` (0/0 when the record is
  IPv4). Both DuckDB (UBIGINT) and every ClickHouse release (UInt64) handle them natively, they
  compress well in Parquet, and a /48 or /64 prefix is a shift of ``*_v6_hi`` -- no string parsing.
  Range predicates compare the (hi, lo) pair lexicographically (see `address_predicate`).
* Post-NAT addresses (``nat_src_*``, ``nat_dst_*``) use the same encoding; "no translation reported"
  is all-zero (0.0.0.0 / ::) with port 0.

Times are UTC. DuckDB/Parquet store TIMESTAMP (microseconds, naive UTC); ClickHouse stores UInt64 epoch
milliseconds (DateTime64 needs ClickHouse >= 20.1 and Debian ships 18.16; integers work on every release).
``day`` (DATE of ``time_start``) is the Parquet hive partition key and the ClickHouse partition key.

Enumerations stored as small integers: `Direction` and `Action` below. Enrichment columns are filled
at ingest (`cfgwatch.flows.enrich`): ``dst_asn`` 0 = unknown, ``dst_org`` '' = unknown, ``dst_class``
one of `PROVIDER_CLASSES` or '' = unknown / none.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from cfgwatch.model import AddressSet, PortSet

Dialect = Literal["duckdb", "clickhouse"]

V6_HALF = 1 << 64
V6_HALF_MASK = V6_HALF - 1


class Direction(IntEnum):
    """Flow direction as the exporter reported it (IPFIX flowDirection 61 shifted by one)."""

    UNKNOWN = 0
    INGRESS = 1
    EGRESS = 2


class Action(IntEnum):
    """Firewall verdict when the source reports one (cloud flow logs, NSEL events)."""

    UNKNOWN = 0
    ACCEPT = 1
    REJECT = 2


PROVIDER_CLASSES: tuple[str, ...] = ("cdn", "cloud", "hosting", "tor-exit")


@dataclass(frozen=True, slots=True)
class Column:
    """One flow column and how every engine spells it.

    `nfdump_json` is the key in `nfdump -o json`; `nfdump_csv` the header in `nfdump -o csv`;
    `nfdump_fmt` the token for `nfdump -o fmt:...`. For IPv4/IPv6 columns the nfdump names give the
    textual address that a reader splits into our integer columns (`source` names that text field).
    """

    name: str
    duckdb: str
    clickhouse: str
    doc: str
    nfdump_json: str | None = None
    nfdump_csv: str | None = None
    nfdump_fmt: str | None = None
    partition: bool = False
    enrichment: bool = False


def _addr_columns(prefix: str, what: str, json4: str, json6: str, csv: str | None, fmt: str) -> list[Column]:
    return [
        Column(f"{prefix}_v4", "UINTEGER", "UInt32", f"{what} IPv4 as uint32 (0 if IPv6)", json4, csv, fmt),
        Column(f"{prefix}_v6_hi", "UBIGINT", "UInt64", f"{what} IPv6 upper 64 bits (0 if IPv4)", json6, csv, fmt),
        Column(f"{prefix}_v6_lo", "UBIGINT", "UInt64", f"{what} IPv6 lower 64 bits (0 if IPv4)", json6, csv, fmt),
    ]


COLUMNS: tuple[Column, ...] = (
    Column("time_start", "TIMESTAMP", "UInt64", "flow start (UTC; ClickHouse: epoch ms)", "first", "ts", "%ts"),
    Column("time_end", "TIMESTAMP", "UInt64", "flow end (UTC; ClickHouse: epoch ms)", "last", "te", "%te"),
    Column(
        "exporter",
        "VARCHAR",
        "LowCardinality(String)",
        "device that exported the flow (inventory name, else exporter IP)",
        "ip4_router",
        "ra",
        "%ra",
    ),
    Column("in_if", "UINTEGER", "UInt32", "input interface index (SNMP ifIndex)", "input_snmp", "in", "%in"),
    Column("out_if", "UINTEGER", "UInt32", "output interface index (SNMP ifIndex)", "output_snmp", "out", "%out"),
    Column("ip_version", "UTINYINT", "UInt8", "4 or 6"),
    *_addr_columns("src", "source", "src4_addr", "src6_addr", "sa", "%sa"),
    *_addr_columns("dst", "destination", "dst4_addr", "dst6_addr", "da", "%da"),
    Column("src_port", "USMALLINT", "UInt16", "source port (0 for portless protocols)", "src_port", "sp", "%sp"),
    Column("dst_port", "USMALLINT", "UInt16", "destination port (ICMP: type*256+code)", "dst_port", "dp", "%dp"),
    Column("proto", "UTINYINT", "UInt8", "IP protocol number", "proto", "pr", "%pr"),
    Column("tcp_flags", "UTINYINT", "UInt8", "OR of TCP flags", "tcp_flags", "flg", "%flg"),
    Column("packets", "UBIGINT", "UInt64", "packets in this record's direction", "in_packets", "ipkt", "%ipkt"),
    Column("bytes", "UBIGINT", "UInt64", "bytes in this record's direction", "in_bytes", "ibyt", "%ibyt"),
    Column(
        "rev_packets",
        "UBIGINT",
        "UInt64",
        "reverse-direction packets on biflow records (0 if unidirectional)",
        "out_packets",
        "opkt",
        "%opkt",
    ),
    Column("rev_bytes", "UBIGINT", "UInt64", "reverse-direction bytes on biflow records", "out_bytes", "obyt", "%obyt"),
    Column("direction", "UTINYINT", "UInt8", "Direction: 0 unknown, 1 ingress, 2 egress", "direction", "dir", "%dir"),
    Column("action", "UTINYINT", "UInt8", "Action: 0 unknown, 1 accept, 2 reject"),
    *_addr_columns("nat_src", "post-NAT source", "src4_xlt_ip", "src6_xlt_ip", None, "%xsa"),
    *_addr_columns("nat_dst", "post-NAT destination", "dst4_xlt_ip", "dst6_xlt_ip", None, "%xda"),
    Column("nat_src_port", "USMALLINT", "UInt16", "post-NAPT source port (0 = none)", "src_xlt_port", None, "%xsp"),
    Column("nat_dst_port", "USMALLINT", "UInt16", "post-NAPT destination port", "dst_xlt_port", None, "%xdp"),
    Column(
        "dst_asn", "UINTEGER", "UInt32", "destination AS number (0 unknown)", "dst_as", "das", "%das", enrichment=True
    ),
    Column("dst_org", "VARCHAR", "LowCardinality(String)", "destination AS organisation", enrichment=True),
    Column(
        "dst_class",
        "VARCHAR",
        "LowCardinality(String)",
        "provider class: cdn|cloud|hosting|tor-exit|''",
        enrichment=True,
    ),
    Column("day", "DATE", "Date", "UTC day of time_start: partition key", partition=True),
)

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
BY_NAME: dict[str, Column] = {column.name: column for column in COLUMNS}
# The columns a reader produces (everything except the derived partition key).
RECORD_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if not column.partition)

# nfdump JSON text fields that feed our split address columns: (json key, our prefix).
NFDUMP_ADDRESS_FIELDS: tuple[tuple[str, str], ...] = (
    ("src4_addr", "src"),
    ("src6_addr", "src"),
    ("dst4_addr", "dst"),
    ("dst6_addr", "dst"),
    ("src4_xlt_ip", "nat_src"),
    ("src6_xlt_ip", "nat_src"),
    ("dst4_xlt_ip", "nat_dst"),
    ("dst6_xlt_ip", "nat_dst"),
)


def duckdb_ddl(table: str = "flows") -> str:
    """CREATE TABLE for DuckDB (also the Parquet column types)."""
    body = ",\n  ".join(f"{column.name} {column.duckdb}" for column in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n)"


def duckdb_struct() -> dict[str, str]:
    """Column -> DuckDB type, for read_csv(columns=...) / read_json(columns=...)."""
    return {column.name: column.duckdb for column in COLUMNS}


def clickhouse_ddl(table: str = "flows", *, engine: str = "MergeTree", ttl_days: int | None = None) -> str:
    """CREATE TABLE for ClickHouse: partitioned by day, ordered for per-exporter time-window scans."""
    body = ",\n  ".join(f"`{column.name}` {column.clickhouse}" for column in COLUMNS)
    ttl = f"\nTTL day + INTERVAL {int(ttl_days)} DAY" if ttl_days else ""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) ENGINE = {engine}()\n"
        f"PARTITION BY day\nORDER BY (exporter, time_start, src_v4){ttl}"
    )


def clickhouse_distributed_ddl(table: str, *, cluster: str, database: str, local_table: str) -> str:
    """CREATE TABLE for the Distributed table over every shard's `local_table` (same columns).

    Sharded by exporter: an exporter's flows stay on one shard, so each per-exporter question is answered
    by the shard holding it, and several exporters' questions run on several shards at once.
    """
    body = ",\n  ".join(f"`{column.name}` {column.clickhouse}" for column in COLUMNS)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}\n) ENGINE = "
        f"Distributed({cluster}, {database}, {local_table}, cityHash64(exporter))"
    )


def nfdump_fmt() -> str:
    """`nfdump -o` format string giving one '|' separated line per record in column order (where mapped)."""
    tokens = [column.nfdump_fmt for column in COLUMNS if column.nfdump_fmt and not column.name.endswith("_v6_lo")]
    ordered: list[str] = []
    for token in tokens:
        if token not in ordered:
            ordered.append(token)
    return "fmt:" + "|".join(ordered)


# -- address encoding ---------------------------------------------------------------------------------


def encode_address(text: str) -> tuple[int, int, int, int]:
    """Address text -> (ip_version, v4, v6_hi, v6_lo). Raises ValueError on junk."""
    address = ipaddress.ip_address(text.strip())
    value = int(address)
    if address.version == 4:
        return 4, value, 0, 0
    mapped = address.ipv4_mapped
    if mapped is not None:
        return 4, int(mapped), 0, 0
    return 6, 0, value >> 64, value & V6_HALF_MASK


def decode_address(version: int, v4: int, v6_hi: int, v6_lo: int) -> str:
    """Inverse of `encode_address`, for display."""
    if version == 6:
        return str(ipaddress.IPv6Address((v6_hi << 64) | v6_lo))
    return str(ipaddress.IPv4Address(v4))


# Remote prefixes are aggregated at /24 (IPv4) and /48 (IPv6): the granularity of a hosting allocation.
V4_PREFIX_LEN = 24
V6_PREFIX_LEN = 48


def prefix_key_text(version: int, key: int) -> str:
    """Render the integer prefix key computed by `prefix_key_sql` as CIDR text."""
    if version == 6:
        return str(ipaddress.IPv6Network(((key << (128 - V6_PREFIX_LEN)), V6_PREFIX_LEN)))
    return str(ipaddress.IPv4Network(((key << (32 - V4_PREFIX_LEN)), V4_PREFIX_LEN)))


def prefix_key_sql(prefix: str, dialect: Dialect = "duckdb") -> str:
    """SQL for an integer key of the /24 (v4) or /48 (v6) containing column group `prefix`."""
    shift4 = 32 - V4_PREFIX_LEN
    shift6 = 64 - V6_PREFIX_LEN
    if dialect == "clickhouse":
        return (
            f"if(ip_version = 6, bitShiftRight({prefix}_v6_hi, {shift6}), "
            f"toUInt64(bitShiftRight({prefix}_v4, {shift4})))"
        )
    return (
        f"(CASE WHEN ip_version = 6 THEN {prefix}_v6_hi >> {shift6} ELSE CAST({prefix}_v4 >> {shift4} AS UBIGINT) END)"
    )


def _v6_bound(hi_col: str, lo_col: str, hi: int, lo: int, op: str) -> str:
    strict = op[0]  # '>' or '<'
    return f"({hi_col} {strict} {hi} OR ({hi_col} = {hi} AND {lo_col} {op} {lo}))"


def address_predicate(prefix: str, addresses: AddressSet, dialect: Dialect = "duckdb") -> str:
    """SQL boolean: column group `prefix` (src, dst, nat_src, nat_dst) lies in `addresses`.

    FQDN members cannot be matched against flows and are ignored; an empty set yields (1 = 0).
    The same text is valid DuckDB and ClickHouse SQL (integers, AND/OR, BETWEEN).
    """
    del dialect  # identical syntax in both engines today; kept for future divergence
    parts: list[str] = []
    if addresses.v4:
        if addresses.v4 == ((0, (1 << 32) - 1),):
            parts.append("(ip_version = 4)")
        else:
            ranges = [
                f"{prefix}_v4 = {start}" if start == end else f"{prefix}_v4 BETWEEN {start} AND {end}"
                for start, end in addresses.v4
            ]
            parts.append(f"(ip_version = 4 AND ({' OR '.join(ranges)}))")
    if addresses.v6:
        if addresses.v6 == ((0, (1 << 128) - 1),):
            parts.append("(ip_version = 6)")
        else:
            hi_col, lo_col = f"{prefix}_v6_hi", f"{prefix}_v6_lo"
            ranges = []
            for start, end in addresses.v6:
                s_hi, s_lo = start >> 64, start & V6_HALF_MASK
                e_hi, e_lo = end >> 64, end & V6_HALF_MASK
                if s_hi == e_hi:
                    ranges.append(f"({hi_col} = {s_hi} AND {lo_col} BETWEEN {s_lo} AND {e_lo})")
                elif s_lo == 0 and e_lo == V6_HALF_MASK:
                    ranges.append(f"({hi_col} BETWEEN {s_hi} AND {e_hi})")
                else:
                    low = _v6_bound(hi_col, lo_col, s_hi, s_lo, ">=")
                    high = _v6_bound(hi_col, lo_col, e_hi, e_lo, "<=")
                    ranges.append(f"({low} AND {high})")
            parts.append(f"(ip_version = 6 AND ({' OR '.join(ranges)}))")
    if not parts:
        return "(1 = 0)"
    return "(" + " OR ".join(parts) + ")"


def nat_present_sql(prefix: str) -> str:
    """SQL boolean: the record carries a post-NAT address for `prefix` (nat_src / nat_dst)."""
    return f"({prefix}_v4 <> 0 OR {prefix}_v6_hi <> 0 OR {prefix}_v6_lo <> 0)"


def port_predicate(column: str, ports: PortSet) -> str:
    """SQL boolean: integer column `column` lies in `ports` (an empty set yields (1 = 0)).

    (1 = 1) / (1 = 0) instead of TRUE / FALSE: ClickHouse 18.16 has no boolean literals.
    """
    if ports.is_any:
        return "(1 = 1)"
    ranges = [
        f"{column} = {start}" if start == end else f"{column} BETWEEN {start} AND {end}" for start, end in ports.ranges
    ]
    return "(" + " OR ".join(ranges) + ")" if ranges else "(1 = 0)"
