"""ClickHouse backend: flows stored in (or already living in) ClickHouse; every query runs as SQL in the server.

`pip install 'cfgwatch[clickhouse]'` brings clickhouse-driver (native protocol), which talks to Debian's
18.16 server as well as to current releases. The SQL here sticks to what 18.16 understands: no CTEs,
no DateTime64 (times are UInt64 epoch milliseconds, see `cfgwatch.flows.schema`), no TRUE/FALSE literals,
`-If` aggregate combinators instead of FILTER, IPv4 as UInt32 (`IPv4NumToString` for display).

The table DDL comes from the schema table (MergeTree, partitioned by day, ordered by exporter and time).
On a cluster (`cluster:` names a `remote_servers` entry), cfgwatch reads the cluster's shards from
`system.clusters`, creates `<table>_local` on each of them (no ZooKeeper / ON CLUSTER needed) and
`<table>` as the Distributed table over them, sharded by exporter; inserts go through the Distributed
table with `insert_distributed_sync` so a finished ingest is visible to the next query, and every query
fans out to the shards. For a flow store that already
exists with other column names (Akvorado's `flows`), `columns` maps each cfgwatch column to an SQL
expression over that table; queries then read through a subquery with those expressions, and
cfgwatch never creates or writes that table.

Query semantics are those of `cfgwatch.flows.backends.base`, written to match the DuckDB backend's SQL
clause for clause, so verdicts and figures agree across backends.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cfgwatch.errors import InputError, StoreError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.flows.backends.base import (
    BaselineRemotes,
    Counters,
    CoverageRow,
    FlowSelector,
    IngestReport,
    OutboundSummary,
    PairRow,
    RemoteRow,
    ServiceRow,
    TimeWindow,
    services_from_sql,
)
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.figures import Destination
from cfgwatch.flows.formats import FLOW_FORMATS, get_reader
from cfgwatch.flows.formats.base import ROW_FIELDS, ReadStats, Row
from cfgwatch.flows.schema import (
    COLUMNS,
    address_predicate,
    clickhouse_ddl,
    clickhouse_distributed_ddl,
    decode_address,
    nat_present_sql,
    port_predicate,
    prefix_key_sql,
    prefix_key_text,
)
from cfgwatch.flows.verify import CheckSummary, WindowTotals
from cfgwatch.model import AddressSet
from cfgwatch.plugins import OWN_DISTRIBUTION

BATCH_ROWS = 50_000
NATIVE_BLOCK_ROWS = 262_144  # rows per columnar INSERT block of the DuckDB-read path
# Formats whose DuckDB scan stores exactly the rows of the Python reader (tests/test_flow_backends.py and
# tests/test_flow_native_parity.py check).
_NATIVE_FORMATS = frozenset({"nfdump-csv", "zeek-conn", "aws-vpc"})
CHECK_BATCH = 256  # requests per `check_summaries` statement (bounds the SQL text the server parses)
# A batched statement is one request's SQL many times over: lift the parser's limits (defaults 256 KiB / 50k).
_BIG_QUERY = {"max_query_size": 64 << 20, "max_ast_elements": 10_000_000, "max_expanded_ast_elements": 10_000_000}
LEDGER_TABLE_SUFFIX = "_cfgwatch_ingested"
_DEFAULTS = {"String": "''", "LowCardinality(String)": "''"}
_INDEX = {name: index for index, name in enumerate(ROW_FIELDS)}


class ClickHouseError(StoreError):
    """The ClickHouse server is unreachable, refused a query, or clickhouse-driver is not installed."""


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _identifier(name: str) -> str:
    parts = name.split(".")
    for part in parts:
        if not part or not all(char.isalnum() or char == "_" for char in part):
            raise InputError(f"invalid ClickHouse table name {name!r}", key="flows.clickhouse.table")
    return ".".join(f"`{part}`" for part in parts)


def _ms(moment: datetime) -> int:
    """A window bound in epoch ms, rounded up: flow times are whole ms, so t >= bound <=> t_ms >= ceil(bound)."""
    moment = moment.astimezone(UTC)
    return int(moment.timestamp()) * 1000 + (moment.microsecond + 999) // 1000


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def selector_sql(selector: FlowSelector) -> tuple[str, str, str, str, str, str]:
    """(is_out, is_ret, remote_key, r4, rhi, rlo) ClickHouse expressions; mirrors duckdb.selector_sql."""
    internal_src = address_predicate("src", selector.sources, "clickhouse")
    translated = selector.translated is not None and not selector.translated.is_empty
    if translated:
        assert selector.translated is not None
        internal_src = (
            f"({internal_src} OR {address_predicate('src', selector.translated, 'clickhouse')}"
            f" OR {address_predicate('nat_src', selector.translated, 'clickhouse')})"
        )
    nat_dst = nat_present_sql("nat_dst")
    if selector.destinations is not None:
        remote_ok = (
            f"({address_predicate('dst', selector.destinations, 'clickhouse')}"
            f" OR {address_predicate('nat_dst', selector.destinations, 'clickhouse')})"
        )
        ret_remote = address_predicate("src", selector.destinations, "clickhouse")
    else:
        remote_ok = (
            f"if({nat_dst}, NOT {address_predicate('nat_dst', selector.internal, 'clickhouse')},"
            f" NOT {address_predicate('dst', selector.internal, 'clickhouse')})"
        )
        ret_remote = f"NOT {address_predicate('src', selector.internal, 'clickhouse')}"
    ports_ok = "(1 = 1)"
    if selector.ports is not None and not selector.ports.is_any:
        ports_ok = f"({port_predicate('dst_port', selector.ports)} OR {port_predicate('nat_dst_port', selector.ports)})"
    is_out = f"(action != 2 AND {internal_src} AND {remote_ok} AND {ports_ok})"
    to_internal = address_predicate("dst", selector.sources, "clickhouse")
    if translated:
        assert selector.translated is not None
        to_internal = (
            f"({to_internal} OR {address_predicate('dst', selector.translated, 'clickhouse')}"
            f" OR {address_predicate('nat_dst', selector.translated, 'clickhouse')})"
        )
    is_ret = f"(action != 2 AND {to_internal} AND {ret_remote})"
    out_key = f"if({nat_dst}, {prefix_key_sql('nat_dst', 'clickhouse')}, {prefix_key_sql('dst', 'clickhouse')})"
    remote_key = f"if(_out, {out_key}, {prefix_key_sql('src', 'clickhouse')})"
    r4 = f"if({nat_dst}, nat_dst_v4, dst_v4)"
    rhi = f"if({nat_dst}, nat_dst_v6_hi, dst_v6_hi)"
    rlo = f"if({nat_dst}, nat_dst_v6_lo, dst_v6_lo)"
    return is_out, is_ret, remote_key, r4, rhi, rlo


def _fast_member(prefix: str, addresses: AddressSet) -> str:
    """Like `address_predicate`, but single IPv4 addresses become one hashed IN list (fast for many hosts)."""
    singles = [start for start, end in addresses.v4 if start == end]
    if len(singles) < 8:
        return address_predicate(prefix, addresses, "clickhouse")
    rest = AddressSet(v4=tuple((start, end) for start, end in addresses.v4 if start != end), v6=addresses.v6)
    parts = [f"(ip_version = 4 AND {prefix}_v4 IN ({', '.join(map(str, singles))}))"]
    if rest.v4 or rest.v6:
        parts.append(address_predicate(prefix, rest, "clickhouse"))
    return "(" + " OR ".join(parts) + ")"


def touch_filter(selector: FlowSelector) -> str:
    """A cheap superset of outbound-or-return records: the record touches a selected or translated address."""
    local = selector.sources
    translated = selector.translated if selector.translated is not None else AddressSet()
    local = local.union(translated)
    parts = [_fast_member("src", local), _fast_member("dst", local)]
    if translated.v4 or translated.v6:
        parts += [_fast_member("nat_src", translated), _fast_member("nat_dst", translated)]
    return "(" + " OR ".join(parts) + ")"


class ClickHouseBackend:
    """FlowBackend (and ingest) over a ClickHouse table reached with clickhouse-driver."""

    name = "clickhouse"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 9000,
        database: str = "default",
        user: str = "default",
        password: str = "",
        table: str = "flows",
        columns: Mapping[str, str] | None = None,
        create: bool = True,
        secure: bool = False,
        cluster: str | None = None,
        enricher: Enricher | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            try:
                from clickhouse_driver import Client
            except ImportError as exc:
                raise ClickHouseError(
                    "the ClickHouse backend needs clickhouse-driver: pip install 'cfgwatch[clickhouse]'"
                ) from exc
            client = Client(
                host, port=port, database=database, user=user, password=password, secure=secure, connect_timeout=10
            )
        self.client = client
        self.where = f"{host}:{port}/{database}"
        self.database = database
        self.cluster = cluster
        # how to reach a shard of the cluster: the same credentials as the query node
        self._shard_login = {"database": database, "user": user, "password": password, "secure": secure}
        self.table = _identifier(table)
        self.mapping = dict(columns or {})
        unknown = sorted(set(self.mapping) - {column.name for column in COLUMNS})
        if unknown:
            raise InputError(f"unknown flow column(s) in mapping: {', '.join(unknown)}", key="flows.clickhouse.columns")
        self.enricher = enricher or Enricher()
        self.ledger = _identifier(table.split(".")[-1] + LEDGER_TABLE_SUFFIX)
        if "." in table:
            self.ledger = _identifier(table.rsplit(".", 1)[0] + "." + table.split(".")[-1] + LEDGER_TABLE_SUFFIX)
        self.server_version = self._server_version()
        if create and not self.mapping:
            self.create_tables()

    # -- plumbing ----------------------------------------------------------------------------------------

    def _execute(self, sql: str, rows: Iterable[Any] | None = None, **kwargs: Any) -> Any:
        try:
            if rows is not None:
                return self.client.execute(sql, rows, **kwargs)
            return self.client.execute(sql, **kwargs)
        except Exception as exc:  # the driver raises its own hierarchy (network, server errors)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ClickHouseError(f"ClickHouse at {self.where}: {first}") from exc

    def _server_version(self) -> tuple[int, int]:
        row = self._execute("SELECT version()")
        parts = str(row[0][0]).split(".")
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0

    def create_tables(self) -> None:
        """CREATE TABLE IF NOT EXISTS for the flows and the ingest ledger (LowCardinality needs a flag before 19)."""
        settings = {"allow_experimental_low_cardinality_type": 1} if self.server_version < (19, 0) else {}
        if self.cluster is None:
            self._execute(clickhouse_ddl(self.table), settings=settings)
        else:
            self._create_on_cluster(self.cluster, settings)
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {self.ledger} (sha256 String, path String, format String, exporter String,"
            " records UInt64, bad UInt64, days Array(String), at DateTime) ENGINE = MergeTree() ORDER BY sha256"
        )

    def shards(self, cluster: str) -> list[tuple[str, int]]:
        """(host, native port) of one replica per shard of a `remote_servers` cluster, from system.clusters."""
        rows = self._execute(
            "SELECT shard_num, host_address, port FROM system.clusters WHERE cluster = "
            f"{_quote(cluster)} AND replica_num = 1 ORDER BY shard_num"
        )
        if not rows:
            raise InputError(
                f"cluster {cluster!r} is not in the server's remote_servers", key="flows.clickhouse.cluster"
            )
        return [(str(host), int(port)) for _, host, port in rows]

    def _create_on_cluster(self, cluster: str, settings: dict[str, int]) -> None:
        """`<table>_local` on every shard (one connection each), then the Distributed `<table>` here."""
        from clickhouse_driver import Client

        local_name = self.table.split(".")[-1].strip("`") + "_local"
        local = _identifier(local_name)
        for host, port in self.shards(cluster):
            shard = Client(host, port=port, connect_timeout=10, **self._shard_login)
            try:
                shard.execute(clickhouse_ddl(local), settings=settings)
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ClickHouseError(f"ClickHouse shard {host}:{port} of {cluster}: {first}") from exc
            finally:
                shard.disconnect()
        self._execute(
            clickhouse_distributed_ddl(self.table, cluster=cluster, database=self.database, local_table=local_name),
            settings=settings,
        )

    @property
    def source(self) -> str:
        """The FROM clause: the table itself, or a subquery renaming a foreign table's columns."""
        if not self.mapping:
            return self.table
        exprs = []
        for column in COLUMNS:
            expr = self.mapping.get(column.name)
            if expr is None:
                expr = _DEFAULTS.get(column.clickhouse, "0")
                if column.name == "ip_version":
                    expr = "4"
                elif column.name == "day":
                    expr = "toDate(intDiv(time_start, 1000))"
            exprs.append(f"{expr} AS {column.name}")
        return f"(SELECT {', '.join(exprs)} FROM {self.table})"

    def _where(self, exporters: Sequence[str], window: TimeWindow) -> str:
        start, end = _ms(window.start), _ms(window.end)
        day_start = window.start.astimezone(UTC).date().isoformat()
        day_end = window.end.astimezone(UTC).date().isoformat()
        clauses = [
            f"day >= toDate('{day_start}')",
            f"day <= toDate('{day_end}')",
            f"time_start >= {start}",
            f"time_start < {end}",
        ]
        if exporters:
            clauses.append("exporter IN (" + ", ".join(_quote(name) for name in exporters) + ")")
        return " AND ".join(clauses)

    # -- ingest ---------------------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        format_name: str,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
        events: Events = NO_EVENTS,
    ) -> IngestReport:
        """Read one file with its reader, enrich, batch-insert; the same content twice is a no-op."""
        if self.mapping:
            raise ClickHouseError("this ClickHouse table is mapped from another schema and is read-only for cfgwatch")
        file = Path(path)
        if not file.is_file():
            raise InputError("flow file not found", path=file)
        digest = _sha256(file)
        known = self._execute(f"SELECT days FROM {self.ledger} WHERE sha256 = {_quote(digest)} LIMIT 1")
        if known:
            return IngestReport(str(file), format_name, 0, 0, skipped=True, sha256=digest, days=tuple(known[0][0]))
        reader = get_reader(format_name, aws_fields=aws_fields)
        stats = ReadStats(str(file))
        native = self.insert_native(file, format_name, stats, exporter=exporter, aws_fields=aws_fields, events=events)
        days = native if native is not None else self.insert_rows(reader(file, stats, exporter), events=events)
        self._execute(
            f"INSERT INTO {self.ledger} (sha256, path, format, exporter, records, bad, days, at) VALUES",
            [
                (
                    digest,
                    str(file),
                    format_name,
                    exporter or "",
                    stats.records,
                    stats.bad,
                    list(days),
                    datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                )
            ],
        )
        return IngestReport(
            str(file), format_name, stats.records, stats.bad, tuple(stats.samples), sha256=digest, days=days
        )

    @property
    def _insert_settings(self) -> dict[str, int]:
        """On a cluster, an insert returns once every shard has its rows (the next query must see them)."""
        return {"insert_distributed_sync": 1} if self.cluster is not None else {}

    def insert_native(
        self,
        file: Path,
        format_name: str,
        stats: ReadStats,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
        events: Events = NO_EVENTS,
    ) -> tuple[str, ...] | None:
        """A line-format export (nfdump CSV, Zeek conn.log, AWS VPC text) read by DuckDB (the embedded store's
        parallel typed scan, `formats.native`) and sent as columnar blocks: the Python reader's rows at a
        fraction of the CPU. Only a file the scan vouches for line by line goes this way; None (use
        `insert_rows`, the row path that names each bad record's line) for any other file or format.
        Enrichment is the row path's, once per distinct remote address."""
        if FLOW_FORMATS.origin(format_name) != OWN_DISTRIBUTION or format_name not in _NATIVE_FORMATS:
            return None
        from cfgwatch.flows.formats.native import native_scan

        scan = native_scan(format_name, file, exporter, aws_fields)
        if scan is None:
            return None
        import duckdb

        from cfgwatch.flows.backends.duckdb_ingest import ParquetIngest

        con = duckdb.connect()
        try:
            with tempfile.TemporaryDirectory(prefix="cfgwatch-ch-ingest-") as tmp:
                staging = ParquetIngest(con, Path(tmp), self.enricher)
                # only a scan that vouches for every line is used: any odd or rejected line sends the whole file
                # down the row path, which names each bad record's line exactly as before
                if not staging.stage_native(scan, file, stats):
                    return None
                return self._insert_staged(con, staging.staged_constants, events) if stats.records else ()
        finally:
            con.close()

    def _insert_staged(self, con: Any, constants: Mapping[str, str], events: Events) -> tuple[str, ...]:
        """Enrich DuckDB's table `staged` (one lookup per distinct remote address, as the row path gives) and
        insert it block by block (columnar: the driver packs each column's values in one call)."""
        nat = nat_present_sql("nat_dst")
        remote = [f"CASE WHEN {nat} THEN nat_dst_{part} ELSE dst_{part} END" for part in ("v4", "v6_hi", "v6_lo")]
        typed = "".join(f", {sql} AS {name}" for name, sql in constants.items())
        keyed = f"SELECT *{typed}, {remote[0]} AS _r4, {remote[1]} AS _rhi, {remote[2]} AS _rlo FROM staged"
        found: list[tuple[Any, ...]] = []
        if not self.enricher.is_empty:
            for version, r4, rhi, rlo in con.execute(
                f"SELECT DISTINCT ip_version, _r4, _rhi, _rlo FROM ({keyed})"
            ).fetchall():
                hit = self.enricher.lookup(decode_address(int(version), int(r4), int(rhi), int(rlo)))
                if hit.asn or hit.org or hit.provider_class:
                    found.append((version, r4, rhi, rlo, hit.asn, hit.org, hit.provider_class))
        con.execute(
            "CREATE TEMP TABLE enrich (ip_version UTINYINT, _r4 UINTEGER, _rhi UBIGINT, _rlo UBIGINT,"
            " dst_asn UINTEGER, dst_org VARCHAR, dst_class VARCHAR)"
        )
        if found:
            con.executemany("INSERT INTO enrich VALUES (?, ?, ?, ?, ?, ?, ?)", found)
        names = [*ROW_FIELDS, "dst_asn", "dst_org", "dst_class", "day"]
        columns = [
            # milliseconds as the row path cuts them (microseconds // 1000); epoch_ms() rounds to the nearest
            f"epoch_us(k.{name}) // 1000 AS {name}" if name in ("time_start", "time_end") else f"k.{name}"
            for name in ROW_FIELDS
        ]
        columns += [
            "coalesce(e.dst_asn, 0) AS dst_asn",
            "coalesce(e.dst_org, '') AS dst_org",
            "coalesce(e.dst_class, '') AS dst_class",
            "CAST(CAST(k.time_start AS DATE) AS VARCHAR) AS day",
        ]
        row = con.execute("SELECT max(rowid) FROM staged").fetchone()
        last = int(row[0] or 0) if row else 0
        days = tuple(
            str(day)
            for (day,) in con.execute("SELECT DISTINCT CAST(time_start AS DATE) FROM staged ORDER BY 1").fetchall()
        )
        insert = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES"
        events.stage_started("insert", None)
        done = 0
        for first in range(0, last + 1, NATIVE_BLOCK_ROWS):
            block = con.execute(
                f"SELECT {', '.join(columns)} FROM ({keyed} WHERE rowid >= {first}"
                f" AND rowid < {first + NATIVE_BLOCK_ROWS}) k LEFT JOIN enrich e"
                " ON e.ip_version = k.ip_version AND e._r4 = k._r4 AND e._rhi = k._rhi AND e._rlo = k._rlo"
            ).fetchnumpy()
            data = [values.tolist() for values in block.values()]
            if not data[0]:
                continue
            data[-1] = [date.fromisoformat(text) for text in data[-1]]
            self._execute(insert, data, columnar=True, settings=self._insert_settings)
            done += len(data[0])
            events.item_done("insert", len(data[0]), done, None)
        events.stage_finished("insert")
        return days

    def insert_rows(self, rows: Iterable[Row], *, events: Events = NO_EVENTS) -> tuple[str, ...]:
        """Enrich reader rows (times in microseconds) and insert them in batches; returns the days written."""
        names = [*ROW_FIELDS, "dst_asn", "dst_org", "dst_class", "day"]
        insert = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES"
        days: set[date] = set()
        batch: list[tuple[Any, ...]] = []
        total = 0
        events.stage_started("insert", None)
        ts, te = _INDEX["time_start"], _INDEX["time_end"]
        version_at = _INDEX["ip_version"]
        nat_at = (_INDEX["nat_dst_v4"], _INDEX["nat_dst_v6_hi"], _INDEX["nat_dst_v6_lo"])
        dst_at = (_INDEX["dst_v4"], _INDEX["dst_v6_hi"], _INDEX["dst_v6_lo"])
        for row in rows:
            values = list(row)
            start_us = int(values[ts])
            values[ts] = start_us // 1000
            values[te] = int(values[te]) // 1000
            version = int(values[version_at])
            remote = nat_at if any(values[i] for i in nat_at) else dst_at
            found = self.enricher.lookup(
                decode_address(version, int(values[remote[0]]), int(values[remote[1]]), int(values[remote[2]]))
            )
            day = datetime.fromtimestamp(start_us // 1_000_000, tz=UTC).date()
            days.add(day)
            batch.append((*values, found.asn, found.org, found.provider_class, day))
            if len(batch) >= BATCH_ROWS:
                self._execute(insert, batch, settings=self._insert_settings)
                total += len(batch)
                events.item_done("insert", len(batch), total, None)
                batch = []
        if batch:
            self._execute(insert, batch, settings=self._insert_settings)
            total += len(batch)
            events.item_done("insert", len(batch), total, None)
        events.stage_finished("insert")
        return tuple(sorted(day.isoformat() for day in days))

    # -- queries -------------------------------------------------------------------------------------------

    def coverage(self, exporters: Sequence[str], window: TimeWindow) -> tuple[CoverageRow, ...]:
        rows = self._execute(
            f"SELECT exporter, count(), min(time_start), max(time_start) FROM {self.source}"
            f" WHERE {self._where(exporters, window)} GROUP BY exporter"
        )
        found = {
            str(row[0]): CoverageRow(str(row[0]), int(row[1]), _from_ms(int(row[2])), _from_ms(int(row[3])))
            for row in rows
        }
        if exporters:
            return tuple(found.get(name, CoverageRow(name, 0)) for name in exporters)
        return tuple(sorted(found.values(), key=lambda row: row.exporter))

    def _marked(self, selector: FlowSelector, window: TimeWindow, extra: str = "", *, scope: str = "") -> str:
        """The outbound-or-return records of a selector in a window, with only the columns the aggregates read:
        the touch filter (hashed IN lists, a PREWHERE candidate) runs first, the exact predicates on what is left.
        `scope` replaces the window's WHERE clause (the batched verify reads both windows of a change at once)."""
        is_out, is_ret, remote_key, r4, rhi, rlo = selector_sql(selector)
        outer = (
            f"SELECT ip_version, {remote_key} AS rkey, _out, _ret, packets, bytes, rev_packets, rev_bytes,"
            f" dst_asn, dst_org, dst_class, src_v4, src_v6_hi, src_v6_lo, dst_v4, dst_v6_hi, dst_v6_lo,"
            f" {r4} AS r4, {rhi} AS rhi, {rlo} AS rlo{extra}"
        )
        # the inner query passes on the columns the predicates and the outer query name, and no others
        named = f"{outer} {is_out} {is_ret}"
        needed = ", ".join(column.name for column in COLUMNS if re.search(rf"\b{column.name}\b", named))
        return (
            f"({outer} FROM (SELECT {needed}, {is_out} AS _out, {is_ret} AS _ret FROM {self.source}"
            f" WHERE {scope or self._where(selector.exporters, window)} AND {touch_filter(selector)})"
            " WHERE _out OR _ret)"
        )

    def outbound_summary(self, selector: FlowSelector, window: TimeWindow) -> OutboundSummary:
        """ONE statement: per-prefix rows, and WITH TOTALS the distinct sources and destinations of the whole
        selection; the window's record count (coverage) rides along as a scalar subquery."""
        where = self._where(selector.exporters, window)
        rows = self._execute(
            f"""SELECT ip_version, rkey,
                sumIf(packets, _out), sumIf(bytes, _out), countIf(_out),
                sumIf(rev_packets, _out) + sumIf(packets, _ret AND NOT _out),
                sumIf(rev_bytes, _out) + sumIf(bytes, _ret AND NOT _out),
                countIf(_ret AND NOT _out) + countIf(_out AND rev_packets > 0),
                uniqExactIf(r4, rhi, rlo, _out),
                maxIf(dst_asn, _out), maxIf(dst_org, _out), maxIf(dst_class, _out),
                argMaxIf(r4, bytes, _out), argMaxIf(rhi, bytes, _out), argMaxIf(rlo, bytes, _out),
                uniqExactIf(src_v4, src_v6_hi, src_v6_lo, _out),
                (SELECT count() FROM {self.source} WHERE {where}) AS records
            FROM {self._marked(selector, window)}
            GROUP BY ip_version, rkey WITH TOTALS HAVING countIf(_out) > 0"""
        )
        per = [row for row in rows if int(row[0])]  # the totals row has the key columns' defaults (ip_version 0)
        totals = [row for row in rows if not int(row[0])]
        if totals:
            sources, destinations = int(totals[-1][15]), int(totals[-1][8])
            records = int(totals[-1][16])
        else:  # nothing outbound or returning: no group and, on some servers, no totals row either
            sources = destinations = 0
            records = int(self._execute(f"SELECT count() FROM {self.source} WHERE {where}")[0][0])
        remotes = [
            RemoteRow(
                prefix=prefix_key_text(int(row[0]), int(row[1])),
                asn=int(row[9]),
                org=str(row[10]),
                provider_class=str(row[11]),
                out=Counters(int(row[2]), int(row[3]), int(row[4])),
                ret=Counters(int(row[5]), int(row[6]), int(row[7])),
                destinations=int(row[8]),
                sample_address=decode_address(int(row[0]), int(row[12]), int(row[13]), int(row[14])),
            )
            for row in per
        ]
        remotes.sort(key=lambda item: (-item.out.bytes, item.prefix))
        out = sum((item.out for item in remotes), Counters())
        ret = sum((item.ret for item in remotes), Counters())
        return OutboundSummary(window, records, out, ret, sources, destinations, tuple(remotes))

    def check_summaries(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], *, top: int
    ) -> list[CheckSummary]:
        """Both windows of many changes in ONE statement (see `verify.BatchVerifier`), `CHECK_BATCH` at a time.

        Each change is one UNION ALL branch reading its exporter over its two windows (the primary key
        (exporter, time_start) prunes the granules, as in the per-change queries) and marking each record's
        window with arrayJoin; the server aggregates per (change, remote prefix) over both windows at once,
        folds that per change (totals of prefixes with outbound traffic, distinct sources and destinations
        merged from uniqExact states, prefixes new since the baseline) and ships only the prefixes whose
        outbound bytes reach the change's `top`-th largest (ties kept: Python orders them by prefix text)."""
        results: list[CheckSummary] = []
        for first in range(0, len(requests), CHECK_BATCH):
            results.extend(self._check_batch(requests[first : first + CHECK_BATCH], top))
        return results

    def _scope(self, exporters: Sequence[str], windows: Sequence[TimeWindow]) -> tuple[str, list[str]]:
        """(WHERE clause over the union of the windows, per window its exact time condition)."""
        exact = [f"(time_start >= {_ms(window.start)} AND time_start < {_ms(window.end)})" for window in windows]
        days = [
            moment.astimezone(UTC).date().isoformat() for window in windows for moment in (window.start, window.end)
        ]
        clauses = [f"day >= toDate('{min(days)}')", f"day <= toDate('{max(days)}')", "(" + " OR ".join(exact) + ")"]
        if exporters:
            clauses.append("exporter IN (" + ", ".join(_quote(name) for name in exporters) + ")")
        return " AND ".join(clauses), exact

    def _check_batch(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], top: int
    ) -> list[CheckSummary]:
        if not requests:
            return []
        per_window = []
        for w in (0, 1):
            out, ret = f"_out AND w = {w}", f"_ret AND NOT _out AND w = {w}"
            per_window.append(
                f"sumIf(packets, {out}) AS op{w}, sumIf(bytes, {out}) AS ob{w}, countIf({out}) AS of{w},"
                f" sumIf(rev_packets, {out}) + sumIf(packets, {ret}) AS rp{w},"
                f" sumIf(rev_bytes, {out}) + sumIf(bytes, {ret}) AS rb{w},"
                f" countIf({ret}) + countIf({out} AND rev_packets > 0) AS rf{w}"
            )
        folded = ", ".join(
            f"sumIf(op{w}, of{w} > 0), sumIf(ob{w}, of{w} > 0), sum(of{w}), sumIf(rp{w}, of{w} > 0),"
            f" sumIf(rb{w}, of{w} > 0), sumIf(rf{w}, of{w} > 0)"
            for w in (0, 1)
        )
        branches = []
        for q, (selector, post, baseline) in enumerate(requests):
            scope, (in_post, in_base) = self._scope(selector.exporters, (post, baseline))
            is_out, _is_ret, _remote_key, r4, rhi, rlo = selector_sql(selector)
            # the change's outbound and return records in either window, each marked with its window(s)
            window_of = f", arrayJoin(if({in_post} AND {in_base}, [0, 1], if({in_post}, [0], [1]))) AS w"
            prefixes = (
                f"SELECT ip_version, rkey, {per_window[0]}, {per_window[1]},"
                " maxIf(dst_asn, _out AND w = 0) AS asn, maxIf(dst_org, _out AND w = 0) AS org,"
                " maxIf(dst_class, _out AND w = 0) AS cls, argMaxIf(r4, bytes, _out AND w = 0) AS a4,"
                " argMaxIf(rhi, bytes, _out AND w = 0) AS ahi, argMaxIf(rlo, bytes, _out AND w = 0) AS alo"
                f" FROM {self._marked(selector, post, window_of, scope=scope)} GROUP BY ip_version, rkey"
            )
            remote = f"{r4}, {rhi}, {rlo}"
            window_figures = (
                f"SELECT (countIf({in_post}), countIf({in_base}),"
                f" uniqExactIf(src_v4, src_v6_hi, src_v6_lo, (({is_out}) AS _out) AND {in_post}),"
                f" uniqExactIf(src_v4, src_v6_hi, src_v6_lo, _out AND {in_base}),"
                f" uniqExactIf({remote}, _out AND {in_post}), uniqExactIf({remote}, _out AND {in_base}))"
                f" FROM {self.source} WHERE {scope}"
            )
            branches.append(
                f"SELECT toUInt32({q}), ({window_figures}),"
                f" {folded}, countIf(of0 > 0 AND of1 = 0),"
                # the cut enters the lambda as a second array: a lambda capturing `ranked` copies it per element
                " arrayFilter((t, cut) -> tupleElement(t, 4) >= cut,"
                " groupArrayIf((ip_version, rkey, op0, ob0, of0, rp0, asn, org, cls, a4, ahi, alo, of1 = 0), of0 > 0)"
                " AS ranked, replicate(arrayReverseSort(arrayMap(t -> tupleElement(t, 4), ranked))"
                f"[{int(top)}], ranked)) FROM ({prefixes})"
            )
        # A top-level UNION ALL of one self-contained query per change: 18.16 analyses a subquery again for every
        # query level around it, so a union nested under the aggregation costs many times its branches.
        rows = self._execute(" UNION ALL ".join(branches), settings=_BIG_QUERY)
        return _fold_checks(rows, len(requests), top)

    def pair_summary(
        self, selector: FlowSelector, window: TimeWindow, *, min_out_packets: int = 1
    ) -> tuple[PairRow, ...]:
        extra = (
            ", if(_out, src_v4, dst_v4) AS i4, if(_out, src_v6_hi, dst_v6_hi) AS ihi,"
            " if(_out, src_v6_lo, dst_v6_lo) AS ilo"
        )
        rows = self._execute(
            f"""SELECT ip_version, i4, ihi, ilo, rkey,
                sumIf(packets, _out) AS op, sumIf(bytes, _out) AS ob, countIf(_out),
                sumIf(rev_packets, _out) + sumIf(packets, _ret AND NOT _out),
                sumIf(rev_bytes, _out) + sumIf(bytes, _ret AND NOT _out),
                countIf(_ret AND NOT _out),
                maxIf(dst_asn, _out), maxIf(dst_org, _out), maxIf(dst_class, _out)
            FROM {self._marked(selector, window, extra)}
            GROUP BY ip_version, i4, ihi, ilo, rkey
            HAVING op >= {int(min_out_packets)}
            ORDER BY ob DESC"""
        )
        return tuple(
            PairRow(
                internal=decode_address(int(row[0]), int(row[1]), int(row[2]), int(row[3])),
                prefix=prefix_key_text(int(row[0]), int(row[4])),
                asn=int(row[11]),
                org=str(row[12]),
                provider_class=str(row[13]),
                out=Counters(int(row[5]), int(row[6]), int(row[7])),
                ret=Counters(int(row[8]), int(row[9]), int(row[10])),
            )
            for row in rows
        )

    def baseline_remotes(self, selector: FlowSelector, window: TimeWindow) -> BaselineRemotes:
        rows = self._execute(
            f"SELECT DISTINCT ip_version, rkey, dst_asn FROM {self._marked(selector, window)} WHERE _out"
        )
        prefixes = frozenset(prefix_key_text(int(row[0]), int(row[1])) for row in rows)
        asns = frozenset(int(row[2]) for row in rows if row[2])
        return BaselineRemotes(prefixes, asns)

    def destination_services(
        self, selector: FlowSelector, window: TimeWindow, *, top: int = 5
    ) -> tuple[ServiceRow, ...]:
        is_out, _is_ret, _remote_key, r4, rhi, rlo = selector_sql(selector)
        nat = nat_present_sql("nat_dst")
        rows = self._execute(
            f"""SELECT ip_version, {r4} AS a4, {rhi} AS ahi, {rlo} AS alo,
                if({nat} AND nat_dst_port != 0, nat_dst_port, dst_port) AS port,
                sum(packets), sum(bytes), count()
            FROM {self.source}
            WHERE {self._where(selector.exporters, window)} AND {touch_filter(selector)} AND {is_out}
            GROUP BY ip_version, a4, ahi, alo, port"""
        )
        return services_from_sql(rows, top)

    def time_range(self, exporters: Sequence[str] = ()) -> tuple[datetime, datetime] | None:
        where = ""
        if exporters:
            where = "WHERE exporter IN (" + ", ".join(_quote(name) for name in exporters) + ")"
        row = self._execute(f"SELECT count(), min(time_start), max(time_start) FROM {self.source} {where}")[0]
        if not int(row[0]):
            return None
        return _from_ms(int(row[1])), _from_ms(int(row[2]))

    def record_count(self) -> int:
        return int(self._execute(f"SELECT count() FROM {self.source}")[0][0])

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.enricher.close()


def _fold_checks(rows: Iterable[Sequence[Any]], size: int, top: int) -> list[CheckSummary]:
    """One `CheckSummary` per request from the batched statement's rows (one row per request)."""
    found: dict[int, CheckSummary] = {}
    for row in rows:
        values = [int(value) for value in row[2:14]]
        window = [int(value) for value in row[1]]  # records, sources, destinations: post then baseline
        post, baseline = (
            WindowTotals(
                window[w],
                Counters(*values[6 * w : 6 * w + 3]),
                Counters(*values[6 * w + 3 : 6 * w + 6]),
                window[2 + w],
                window[4 + w],
            )
            for w in (0, 1)
        )
        tops = sorted(
            (
                Destination(
                    prefix=prefix_key_text(int(item[0]), int(item[1])),
                    sample_address=decode_address(int(item[0]), int(item[9]), int(item[10]), int(item[11])),
                    asn=int(item[6]),
                    org=str(item[7]),
                    provider_class=str(item[8]),
                    packets=int(item[2]),
                    bytes=int(item[3]),
                    flows=int(item[4]),
                    return_packets=int(item[5]),
                    new=bool(item[12]),
                )
                for item in row[15]
            ),
            key=lambda item: (-item.bytes, item.prefix),
        )
        found[int(row[0])] = CheckSummary(post, baseline, int(row[14]), tuple(tops[:top]))
    return [found[q] for q in range(size)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = ["ClickHouseBackend", "ClickHouseError", "selector_sql"]
