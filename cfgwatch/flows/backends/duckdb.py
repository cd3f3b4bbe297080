"""The embedded flow store: DuckDB queries over Parquet files partitioned by day (`<root>/data/day=YYYY-MM-DD/`).

One `flows` view spans every file; `outbound_summary`, `pair_summary` and the batched `check_summaries` are
one SQL statement each. Files get there through `ParquetIngest` (`cfgwatch.flows.backends.duckdb_ingest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cfgwatch.errors import StoreError
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
from cfgwatch.flows.backends.duckdb_ingest import ParquetIngest, sql_text
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.figures import Destination
from cfgwatch.flows.schema import (
    COLUMNS,
    address_predicate,
    decode_address,
    nat_present_sql,
    port_predicate,
    prefix_key_sql,
    prefix_key_text,
)
from cfgwatch.flows.verify import CheckSummary, WindowTotals

CHECK_BATCH = 100  # requests per statement; `_check_batch` keys a request in 14 bits (q << 50)
# A request whose sources span at most this many /24s is prefiltered with a hash join on the source and
# destination /24 (only candidate records reach its exact predicate); wider ones test every record.
PREFILTER_BLOCKS = 1 << 16  # requests per check_summaries statement (bounds the SQL text and the planner's work)
# Up to this many exporters the scan filter names them (DuckDB keeps a short IN list as comparisons);
# more become a min..max range.
EXPORTER_IN_LIST = 8
# The columns `check_summaries` reads: a narrower scan than SELECT * (no ports of the source side, interfaces,
# flags, end time).
_CHECK_COLUMNS = (
    "exporter",
    "time_start",
    "ip_version",
    *(f"{side}_{part}" for side in ("src", "dst", "nat_src", "nat_dst") for part in ("v4", "v6_hi", "v6_lo")),
    "dst_port",
    "nat_dst_port",
    "action",
    "packets",
    "bytes",
    "rev_packets",
    "rev_bytes",
    "dst_asn",
    "dst_org",
    "dst_class",
)
# Of those, the integer columns many stores hold only zeros in (IPv6, NAT, biflow counters): when the Parquet
# statistics of every row group say so, the scan projects a constant instead of decoding the column.
_ZERO_CANDIDATES = frozenset(_CHECK_COLUMNS[3:]) - {"dst_org", "dst_class", "action", "packets", "bytes"}
_COLUMN_TYPES = {column.name: column.duckdb for column in COLUMNS}
# The columns the numpy fold reads of a candidate record (besides exporter, time and the enrichment strings);
# columns whose Parquet statistics say all zero are not fetched at all.
_FOLD_COLUMNS = tuple(
    name
    for name in _CHECK_COLUMNS
    if name not in {"exporter", "time_start", "ip_version", "dst_org", "dst_class"}
    and not name.startswith(("src_v6", "dst_v6", "nat_src"))
)
# One integer per (request, window, remote prefix) in `check_summaries`: request << 50 | window << 49 | IPv6 << 48 |
# the /24 (IPv4) or /48 (IPv6) key, which fits in 48 bits.
_W_BIT = 1 << 49
_V6_BIT = 1 << 48
_PREFIX_MASK = _V6_BIT - 1
_ADDRESS_V6 = 1 << 63


def _address_key(prefix: str) -> str:
    """SQL: one UBIGINT per address of column group `prefix`, to count distinct addresses: the IPv4 address
    itself, or a hash of the IPv6 address with the top bit set (never equal to an IPv4 key)."""
    return (
        f"(CASE WHEN ip_version = 6 THEN hash({prefix}_v6_hi, {prefix}_v6_lo) | CAST({_ADDRESS_V6} AS UBIGINT)"
        f" ELSE CAST({prefix}_v4 AS UBIGINT) END)"
    )


def _remote_parts(selector: FlowSelector) -> tuple[str, str, str]:
    """(remote_ok, ports_ok, ret_remote): the parts of a selector that do not name its sources."""
    nat_dst = nat_present_sql("nat_dst")
    if selector.destinations is not None:
        remote_ok = (
            f"({address_predicate('dst', selector.destinations)}"
            f" OR {address_predicate('nat_dst', selector.destinations)})"
        )
        ret_remote = address_predicate("src", selector.destinations)
    else:
        remote_ok = (
            f"(CASE WHEN {nat_dst} THEN NOT {address_predicate('nat_dst', selector.internal)}"
            f" ELSE NOT {address_predicate('dst', selector.internal)} END)"
        )
        ret_remote = f"NOT {address_predicate('src', selector.internal)}"
    ports_ok = "TRUE"
    if selector.ports is not None and not selector.ports.is_any:
        ports_ok = f"({port_predicate('dst_port', selector.ports)} OR {port_predicate('nat_dst_port', selector.ports)})"
    return remote_ok, ports_ok, ret_remote


def _source_blocks(selector: FlowSelector) -> list[tuple[int, int, int, int]] | None:
    """(first /24, last /24, first address, last address) per IPv4 source range, when the sources can be
    matched exactly by a /24 hash join plus one range test: IPv4 only, no translated addresses, at most
    `PREFILTER_BLOCKS` blocks and no /24 holding two ranges. None otherwise."""
    if (selector.translated is not None and not selector.translated.is_empty) or selector.sources.v6:
        return None
    blocks = [(start >> 8, end >> 8, start, end) for start, end in selector.sources.v4]
    if sum(last - first + 1 for first, last, _s, _e in blocks) > PREFILTER_BLOCKS:
        return None
    if any(blocks[index][1] >= blocks[index + 1][0] for index in range(len(blocks) - 1)):
        return None
    return blocks


def selector_sql(selector: FlowSelector) -> tuple[str, str, str, str]:
    """(is_out, is_ret, remote_key, remote_id) SQL expressions for a selector (see base module doc)."""
    internal_src = address_predicate("src", selector.sources)
    if selector.translated is not None and not selector.translated.is_empty:
        internal_src = (
            f"({internal_src} OR {address_predicate('src', selector.translated)}"
            f" OR {address_predicate('nat_src', selector.translated)})"
        )
    nat_dst = nat_present_sql("nat_dst")
    remote_ok, ports_ok, ret_remote = _remote_parts(selector)
    is_out = f"(action <> 2 AND {internal_src} AND {remote_ok} AND {ports_ok})"
    to_internal = address_predicate("dst", selector.sources)
    if selector.translated is not None and not selector.translated.is_empty:
        to_internal = (
            f"({to_internal} OR {address_predicate('dst', selector.translated)}"
            f" OR {address_predicate('nat_dst', selector.translated)})"
        )
    is_ret = f"(action <> 2 AND {to_internal} AND {ret_remote})"
    remote_key = (
        f"(CASE WHEN _out THEN (CASE WHEN {nat_dst} THEN {prefix_key_sql('nat_dst')} ELSE {prefix_key_sql('dst')} END)"
        f" ELSE {prefix_key_sql('src')} END)"
    )
    remote_id = (
        f"(CASE WHEN {nat_dst} THEN hash(nat_dst_v4, nat_dst_v6_hi, nat_dst_v6_lo) "
        "ELSE hash(dst_v4, dst_v6_hi, dst_v6_lo) END)"
    )
    return is_out, is_ret, remote_key, remote_id


class DuckDBBackend:
    """FlowBackend + ingest over a directory of day-partitioned Parquet files."""

    name = "duckdb"

    def __init__(
        self,
        root: str | Path,
        *,
        enricher: Enricher | None = None,
        memory_limit: str | None = "1GB",
        threads: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.enricher = enricher or Enricher()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create flow store: {exc.strerror}", path=self.data_dir) from exc
        self.con = duckdb.connect()
        if memory_limit:
            self.con.execute(f"SET memory_limit = {sql_text(memory_limit)}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET parquet_metadata_cache = true")
        self._ingest = ParquetIngest(self.con, self.root, self.enricher)
        self._view_ready = False
        self._source: str | None = None
        self._zero_columns: frozenset[str] | None = None

    # -- store layout ---------------------------------------------------------------------------------

    def _parquet_source(self) -> str | None:
        """SQL for the committed Parquet files (see `ParquetIngest.committed_files`): the day glob when that is
        every file, else the list; None when there is none."""
        files, every = self._ingest.committed_files()
        if not files:
            return None
        if every:
            return sql_text(str(self.data_dir / "day=*" / "*.parquet"))
        return "[" + ", ".join(sql_text(str(path)) for path in files) + "]"

    def refresh(self) -> None:
        """(Re)create the `flows` view over every committed Parquet file (call after files change on disk)."""
        self._source = self._parquet_source()
        if self._source is not None:
            self.con.execute(
                f"CREATE OR REPLACE VIEW flows AS SELECT * FROM read_parquet({self._source}, hive_partitioning = true,"
                " hive_types = {'day': DATE})"
            )
        else:
            cols = ", ".join(f"NULL::{column.duckdb} AS {column.name}" for column in COLUMNS)
            self.con.execute(f"CREATE OR REPLACE VIEW flows AS SELECT {cols} WHERE FALSE")
        self._view_ready = True
        self._zero_columns = None

    def _all_zero_columns(self) -> frozenset[str]:
        """Columns of `_ZERO_CANDIDATES` whose every row group has min = max = 0 and no NULL (footer statistics
        only, cached until `refresh`)."""
        if self._zero_columns is None:
            zeros: frozenset[str] = frozenset()
            self._view()
            if self._source is not None:
                names = ", ".join(sql_text(name) for name in sorted(_ZERO_CANDIDATES))
                rows = self.con.execute(
                    f"SELECT path_in_schema FROM parquet_metadata({self._source}) WHERE path_in_schema IN ({names})"
                    " GROUP BY path_in_schema HAVING bool_and(coalesce(stats_min_value = '0' AND"
                    " stats_max_value = '0' AND stats_null_count = 0, FALSE))"
                ).fetchall()
                zeros = frozenset(str(row[0]) for row in rows)
            self._zero_columns = zeros
        return self._zero_columns

    def _view(self) -> None:
        if not self._view_ready:
            self.refresh()

    # -- ingest ----------------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        format_name: str,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
    ) -> IngestReport:
        """Store one flow file (see `ParquetIngest.ingest`); the `flows` view is rebuilt before the next query."""
        report = self._ingest.ingest(path, format_name, exporter=exporter, aws_fields=aws_fields)
        self._view_ready = False
        return report

    # -- queries -----------------------------------------------------------------------------------------

    def _where(self, exporters: Sequence[str], window: TimeWindow) -> tuple[str, list[Any]]:
        start, end = window.naive_utc()
        clauses = ["day BETWEEN ? AND ?", "time_start >= ?", "time_start < ?"]
        params: list[Any] = [start.date(), end.date(), start, end]
        if exporters:
            clauses.append("exporter IN (" + ", ".join("?" for _ in exporters) + ")")
            params.extend(exporters)
        return " AND ".join(clauses), params

    def coverage(self, exporters: Sequence[str], window: TimeWindow) -> tuple[CoverageRow, ...]:
        self._view()
        where, params = self._where(exporters, window)
        rows = self.con.execute(
            f"SELECT exporter, count(*), min(time_start), max(time_start) FROM flows WHERE {where} GROUP BY exporter",
            params,
        ).fetchall()
        found = {row[0]: CoverageRow(row[0], int(row[1]), _aware(row[2]), _aware(row[3])) for row in rows}
        if exporters:
            return tuple(found.get(name, CoverageRow(name, 0)) for name in exporters)
        return tuple(sorted(found.values(), key=lambda row: row.exporter))

    def outbound_summary(self, selector: FlowSelector, window: TimeWindow) -> OutboundSummary:
        self._view()
        where, params = self._where(selector.exporters, window)
        is_out, is_ret, remote_key, remote_id = selector_sql(selector)
        nat = nat_present_sql("nat_dst")
        # Per remote prefix rows; the NULL-rkey group holds the exporter's other records (coverage = sum of counts),
        # prefixes are disjoint so distinct destinations add up; distinct sources need one more small aggregate.
        sql = f"""
            WITH marked AS MATERIALIZED (
                SELECT ip_version, packets, bytes, rev_packets, rev_bytes, dst_asn, dst_org, dst_class,
                       src_v4, src_v6_hi, src_v6_lo, dst_v4, dst_v6_hi, dst_v6_lo,
                       nat_dst_v4, nat_dst_v6_hi, nat_dst_v6_lo, {is_out} AS _out, {is_ret} AS _ret
                FROM flows WHERE {where}),
            keyed AS (
                SELECT *, CASE WHEN _out OR _ret THEN {remote_key} END AS rkey,
                       {remote_id} AS rid,
                       CASE WHEN {nat} THEN nat_dst_v4 ELSE dst_v4 END AS r4,
                       CASE WHEN {nat} THEN nat_dst_v6_hi ELSE dst_v6_hi END AS rhi,
                       CASE WHEN {nat} THEN nat_dst_v6_lo ELSE dst_v6_lo END AS rlo
                FROM marked)
            SELECT 0 AS g, ip_version, rkey,
                coalesce(sum(packets) FILTER (WHERE _out), 0) AS op,
                coalesce(sum(bytes) FILTER (WHERE _out), 0) AS ob,
                count(*) FILTER (WHERE _out) AS of,
                coalesce(sum(rev_packets) FILTER (WHERE _out), 0)
                    + coalesce(sum(packets) FILTER (WHERE _ret AND NOT _out), 0) AS rp,
                coalesce(sum(rev_bytes) FILTER (WHERE _out), 0)
                    + coalesce(sum(bytes) FILTER (WHERE _ret AND NOT _out), 0) AS rb,
                count(*) FILTER (WHERE _ret AND NOT _out) + count(*) FILTER (WHERE _out AND rev_packets > 0) AS rf,
                count(DISTINCT rid) FILTER (WHERE _out) AS dests,
                max(dst_asn) FILTER (WHERE _out) AS asn,
                max(dst_org) FILTER (WHERE _out) AS org,
                max(dst_class) FILTER (WHERE _out) AS cls,
                arg_max(struct_pack(r4 := r4, rhi := rhi, rlo := rlo), bytes) FILTER (WHERE _out) AS sample,
                count(*) AS recs, NULL AS srcs
            FROM keyed GROUP BY ip_version, rkey
            UNION ALL
            SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   count(DISTINCT hash(src_v4, src_v6_hi, src_v6_lo)) FROM marked WHERE _out
        """
        rows = self.con.execute(sql, params).fetchall()
        remotes: list[RemoteRow] = []
        records = sources = destinations = 0
        for row in rows:
            if row[0] == 1:
                sources = int(row[15] or 0)
                continue
            records += int(row[14] or 0)
            if row[2] is None or not row[5]:  # records outside the selector, or prefixes with returns only
                continue
            destinations += int(row[9] or 0)
            sample = row[13] or {}
            remotes.append(
                RemoteRow(
                    prefix=prefix_key_text(int(row[1]), int(row[2])),
                    asn=int(row[10] or 0),
                    org=str(row[11] or ""),
                    provider_class=str(row[12] or ""),
                    out=Counters(int(row[3]), int(row[4]), int(row[5])),
                    ret=Counters(int(row[6]), int(row[7]), int(row[8])),
                    destinations=int(row[9]),
                    sample_address=decode_address(
                        int(row[1]), int(sample.get("r4", 0)), int(sample.get("rhi", 0)), int(sample.get("rlo", 0))
                    )
                    if sample
                    else "",
                )
            )
        remotes.sort(key=lambda item: (-item.out.bytes, item.prefix))
        out = sum((item.out for item in remotes), Counters())
        ret = sum((item.ret for item in remotes), Counters())
        return OutboundSummary(window, records, out, ret, sources, destinations, tuple(remotes))

    def check_summaries(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], *, top: int
    ) -> list[CheckSummary]:
        """Both windows of many changes in ONE statement (see `verify.BatchVerifier`).

        Each request is a UNION ALL branch whose exporter/time filters prune Parquet row groups; only the
        records a selector marks outbound or return are aggregated per remote prefix, and the totals, the
        count of prefixes new since the baseline and the top-N prefixes come back already folded (a few
        rows per request instead of every prefix of every window). Batches of IPv4 sources (what `verify_many`
        asks for changes to IPv4 rules) fetch only the candidate records and fold them in numpy
        (`_check_batch_numpy`); the others run the SQL fold (`_check_batch`)."""
        if not requests:
            return []
        self._view()
        results: list[CheckSummary] = []
        for first in range(0, len(requests), CHECK_BATCH):
            batch = requests[first : first + CHECK_BATCH]
            folded = self._check_batch_numpy(batch, top)
            results.extend(folded if folded is not None else self._check_batch(batch, top))
        return results

    def _check_batch_numpy(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], top: int
    ) -> list[CheckSummary] | None:
        """The batch in one statement whose candidate records are folded in numpy (`duckdb_fold`); None when a
        request is not keyed (IPv6 or translated sources, no exporter, too many /24s: `_check_batch` does those)
        or a candidate column holds NULL (SQL comparisons with NULL are not mirrored there)."""
        from cfgwatch.flows.backends import duckdb_fold as nf

        keyed: list[nf.KeyedRequest] = []
        ranges: list[str] = []  # (first /24, last /24) of every source range: the candidate keys
        chk_rows: list[str] = []
        spans: list[TimeWindow] = []
        for q, (selector, post, baseline) in enumerate(requests):
            if not selector.exporters or _source_blocks(selector) is None:
                return None
            exporters = tuple(dict.fromkeys(selector.exporters))
            keyed.append(
                nf.KeyedRequest(
                    exporters,
                    nf.merged(selector.sources.v4),
                    nf.merged(selector.internal.v4),
                    None if selector.destinations is None else nf.merged(selector.destinations.v4),
                    None if selector.ports is None or selector.ports.is_any else nf.merged(selector.ports.ranges),
                    (_epoch_us(post), _epoch_us(baseline)),
                )
            )
            ranges.extend(f"({start >> 8}, {end >> 8})" for start, end in selector.sources.v4)
            for w, window in enumerate((post, baseline)):
                spans.append(window)
                lo, hi = _naive_sql(window.start), _naive_sql(window.end)
                chk_rows.extend(f"({q}, {w}, {sql_text(name)}, {lo}, {hi})" for name in exporters)
        names = sorted({name for request in keyed for name in request.exporters})
        start = min(span.start for span in spans)
        end = max(span.end for span in spans)

        # The scan is bounded by day partitions and the exporter range (an IN list of many names costs a hash
        # probe per record); records of other exporters in the range are dropped by the exporter hash in the fold,
        # which gives up (None) when any exporter of the range shares a hash with a requested one.
        def bounds(alias: str = "") -> str:
            return (
                f"{alias}day BETWEEN DATE '{start.astimezone(UTC).date().isoformat()}'"
                f" AND DATE '{end.astimezone(UTC).date().isoformat()}'"
                f" AND {alias}exporter BETWEEN {sql_text(names[0])} AND {sql_text(names[-1])}"
            )

        scan = bounds()
        edge_days = sorted({moment.astimezone(UTC).date() for span in spans for moment in (span.start, span.end)})
        edge_list = ", ".join(f"DATE '{day.isoformat()}'" for day in edge_days)
        zeros = self._all_zero_columns()
        fetched = [name for name in _FOLD_COLUMNS if name not in zeros]
        blank = ", ".join(f"CAST(0 AS {_COLUMN_TYPES[name]})" for name in fetched)
        # ONE scan for the candidate records (source or destination /24 among the sources; IPv4 only, nothing else
        # can match an IPv4 source); the coverage (kind 1: whole days from a per (exporter, day) count, edge days
        # through the exact time join) and every exporter name of the range with its hash (kind 2).
        sql = f"""
            WITH chk(q, w, exporter, lo, hi) AS (VALUES {", ".join(chk_rows)}),
            rng(a, b) AS (VALUES {", ".join(ranges) or "(1, 0)"}),
            kset AS (SELECT DISTINCT unnest(range(a, b + 1)) AS k FROM rng),
            per_day AS MATERIALIZED (SELECT exporter, day, count(*) AS n FROM flows WHERE {scan} GROUP BY ALL),
            counted AS (
                SELECT c.q, c.w, f.n FROM per_day f JOIN chk c ON f.exporter = c.exporter
                    AND f.day NOT IN ({edge_list}) AND CAST(f.day AS TIMESTAMP) >= c.lo
                    AND CAST(f.day AS TIMESTAMP) + INTERVAL 1 DAY <= c.hi
                UNION ALL
                SELECT c.q, c.w, count(*) FROM flows f JOIN chk c ON f.exporter = c.exporter
                    AND f.time_start >= c.lo AND f.time_start < c.hi
                WHERE {bounds("f.")} AND f.day IN ({edge_list})
                GROUP BY c.q, c.w)
            SELECT 0 AS kind, hash(exporter) AS e, epoch_us(time_start) AS t, {", ".join(fetched)},
                dst_org, dst_class
            FROM flows WHERE {scan} AND ip_version = 4
                AND ((src_v4 >> 8) IN (SELECT k FROM kset) OR (dst_v4 >> 8) IN (SELECT k FROM kset))
            UNION ALL
            SELECT 1, 2 * q + w, sum(n), {blank}, '', '' FROM counted GROUP BY q, w
            UNION ALL
            SELECT 2, hash(exporter), 0, {blank}, exporter, '' FROM per_day GROUP BY exporter
        """
        return nf.fold_rows(keyed, names, self.con.execute(sql).fetchnumpy(), top)

    def _check_batch(
        self, requests: Sequence[tuple[FlowSelector, TimeWindow, TimeWindow]], top: int
    ) -> list[CheckSummary]:
        chk_rows: list[str] = []  # (q, w, g, exporter, lo, hi): one row per window and exporter of a request
        any_rows: list[str] = []  # windows of requests over every exporter
        out_arms: list[str] = []
        ret_arms: list[str] = []
        spans: list[TimeWindow] = []
        names: set[str] = set()
        blocks: list[str] = []  # (q, first /24, last /24, first, last) of exactly keyed sources
        groups: dict[tuple[str, str], int] = {}  # (remote_ok AND ports_ok, ret_remote) -> group of keyed requests
        every_exporter = False  # an exactly tested (unkeyed) request over every exporter
        exact_exporters: set[str] = set()  # exporters of exactly tested requests: all their records are candidates
        for q, (selector, post, baseline) in enumerate(requests):
            source_blocks = _source_blocks(selector)
            if source_blocks is not None:
                remote_ok, ports_ok, ret_remote = _remote_parts(selector)
                group = groups.setdefault((f"{remote_ok} AND {ports_ok}", ret_remote), len(groups))
                blocks.extend(f"({q}, {a}, {b}, {lo}, {hi})" for a, b, lo, hi in source_blocks)
            else:
                group = -1
                is_out, is_ret, _remote_key, _remote_id = selector_sql(selector)
                out_arms.append(f"WHEN {q} THEN {is_out}")
                ret_arms.append(f"WHEN {q} THEN {is_ret}")
                exact_exporters.update(selector.exporters)
                every_exporter = every_exporter or not selector.exporters
            for w, window in enumerate((post, baseline)):
                spans.append(window)
                lo, hi = _naive_sql(window.start), _naive_sql(window.end)
                if selector.exporters:
                    names.update(selector.exporters)
                    chk_rows.extend(f"({q}, {w}, {group}, {sql_text(name)}, {lo}, {hi})" for name in selector.exporters)
                else:
                    any_rows.append(f"({q}, {w}, {group}, NULL, {lo}, {hi})")
        start = min(span.start for span in spans)
        end = max(span.end for span in spans)
        # Only the day partitions and the exporters bound the scan (they prune files and row groups); the join to
        # `chk` applies each window exactly. Files need not be sorted: nothing here depends on record order.
        scan = (
            f"day BETWEEN DATE '{start.astimezone(UTC).date().isoformat()}'"
            f" AND DATE '{end.astimezone(UTC).date().isoformat()}'"
        )
        if not any_rows:
            ordered = sorted(names)
            if len(ordered) <= EXPORTER_IN_LIST:
                scan += " AND exporter IN (" + ", ".join(sql_text(name) for name in ordered) + ")"
            else:  # a range prunes row groups as well and costs one comparison per record, not a hash probe
                scan += f" AND exporter BETWEEN {sql_text(ordered[0])} AND {sql_text(ordered[-1])}"
        ctes = ["chk(q, w, g, exporter, lo, hi) AS (VALUES " + ", ".join(chk_rows or any_rows) + ")"]
        if chk_rows and any_rows:
            ctes.append("chk_any(q, w, g, exporter, lo, hi) AS (VALUES " + ", ".join(any_rows) + ")")
        if blocks:
            ctes.append("rng(q, a, b, lo, hi) AS (VALUES " + ", ".join(blocks) + ")")
        else:
            ctes.append(
                "rng AS (SELECT NULL::INTEGER AS q, NULL::BIGINT AS a, NULL::BIGINT AS b,"
                " NULL::BIGINT AS lo, NULL::BIGINT AS hi WHERE FALSE)"
            )
        ctes.append(
            "keys AS (SELECT q, k, greatest(lo, k * 256) AS lo, least(hi, k * 256 + 255) AS hi"
            " FROM (SELECT q, lo, hi, unnest(range(a, b + 1)) AS k FROM rng))"
        )
        ctes.append("kset AS (SELECT DISTINCT k FROM keys)")
        nat = nat_present_sql("nat_dst")
        # ONE scan of the day partitions: a record goes on only when a keyed request's source /24 is its source or
        # destination /24 (a semi-join against a few hundred keys), or when an exactly tested request reads its
        # exporter. Constant zero columns (Parquet statistics) are projected, not decoded.
        zeros = self._all_zero_columns()
        columns = ", ".join(
            f"CAST(0 AS {_COLUMN_TYPES[name]}) AS {name}" if name in zeros else name for name in _CHECK_COLUMNS
        )
        candidate = ["(src_v4 >> 8) IN (SELECT k FROM kset)", "(dst_v4 >> 8) IN (SELECT k FROM kset)"]
        if every_exporter:
            candidate = ["TRUE"]
        elif exact_exporters:
            candidate.append("exporter IN (" + ", ".join(sql_text(name) for name in sorted(exact_exporters)) + ")")
        cand = f"SELECT {columns} FROM flows WHERE {scan} AND ({' OR '.join(candidate)})"
        joins: list[str] = []
        if chk_rows:
            joins.append("JOIN chk c ON f.exporter = c.exporter AND f.time_start >= c.lo AND f.time_start < c.hi")
        if any_rows:
            table = "chk_any" if chk_rows else "chk"
            joins.append(f"JOIN {table} c ON f.time_start >= c.lo AND f.time_start < c.hi")
        joined = " UNION ALL ".join(f"SELECT c.q, c.w, c.g, f.* FROM cand f {join}" for join in joins)
        counted = _counted_sql(spans, scan, joins)
        group_out = "CASE g " + " ".join(f"WHEN {g} THEN {key[0]}" for key, g in groups.items()) + " END"
        group_ret = "CASE g " + " ".join(f"WHEN {g} THEN {key[1]}" for key, g in groups.items()) + " END"
        if len(groups) == 1:
            ((only_out, only_ret),) = groups
            group_out, group_ret = only_out, only_ret
        other_out = f"CASE q {' '.join(out_arms)} END" if out_arms else "FALSE"
        other_ret = f"CASE q {' '.join(ret_arms)} END" if ret_arms else "FALSE"
        if not groups:
            group_out = group_ret = "FALSE"
        v4 = "CASE WHEN ip_version = 6 THEN NULL ELSE"
        # One aggregate over the marked records gives every (request, window, remote prefix) row and, as a second
        # grouping set, the distinct sources of each (request, window); the fold below reads only its result.
        sql = f"""
            WITH {", ".join(ctes)},
            cand AS MATERIALIZED ({cand}),
            j AS ({joined}),
            m AS (
                SELECT *,
                    CASE WHEN g >= 0 THEN action <> 2 AND _sm AND ({group_out}) ELSE ({other_out}) END AS _out,
                    CASE WHEN g >= 0 THEN action <> 2 AND _dm AND ({group_ret}) ELSE ({other_ret}) END AS _ret
                FROM (
                    SELECT j.*,
                        coalesce(j.ip_version = 4 AND j.src_v4 BETWEEN ks.lo AND ks.hi, FALSE) AS _sm,
                        coalesce(j.ip_version = 4 AND j.dst_v4 BETWEEN kd.lo AND kd.hi, FALSE) AS _dm
                    FROM j
                    LEFT JOIN keys ks ON ks.q = j.q AND ks.k = ({v4} j.src_v4 >> 8 END)
                    LEFT JOIN keys kd ON kd.q = j.q AND kd.k = ({v4} j.dst_v4 >> 8 END))),
            sel AS MATERIALIZED (
                SELECT q, w, packets, bytes, rev_packets, rev_bytes, dst_asn, dst_org, dst_class, _out,
                    (CAST(q AS UBIGINT) << 50) | (CAST(w AS UBIGINT) << 49)
                        | (CASE WHEN ip_version = 6 THEN {_V6_BIT} ELSE 0 END)
                        | (CASE WHEN _out THEN (CASE WHEN {nat}
                            THEN {prefix_key_sql("nat_dst")} ELSE {prefix_key_sql("dst")} END)
                            ELSE {prefix_key_sql("src")} END) AS pk,
                    CASE WHEN _out THEN {_address_key("src")} END AS sk,
                    CASE WHEN _out THEN (CASE WHEN {nat} THEN {_address_key("nat_dst")}
                        ELSE {_address_key("dst")} END) END AS rk,
                    CASE WHEN {nat} THEN nat_dst_v4 ELSE dst_v4 END AS r4,
                    CASE WHEN {nat} THEN nat_dst_v6_hi ELSE dst_v6_hi END AS rhi,
                    CASE WHEN {nat} THEN nat_dst_v6_lo ELSE dst_v6_lo END AS rlo
                FROM m WHERE _out OR _ret),
            okeys AS MATERIALIZED (SELECT pk, sum(bytes) AS ob FROM sel WHERE _out GROUP BY pk),
            tot AS (
                SELECT q, w, sum(packets) AS op, sum(bytes) AS ob, count(*) AS of, sum(rev_packets) AS orp,
                    sum(rev_bytes) AS orb, count(*) FILTER (WHERE rev_packets > 0) AS orf,
                    count(DISTINCT rk) AS dests, count(DISTINCT sk) AS srcs
                FROM sel WHERE _out GROUP BY q, w),
            paired AS (
                SELECT q, w, sum(packets) AS rp, sum(bytes) AS rb, count(*) AS rf
                FROM sel WHERE NOT _out AND pk IN (SELECT pk FROM okeys) GROUP BY q, w),
            seen AS (
                SELECT pk - (pk & {_W_BIT}) AS k, bool_or(pk & {_W_BIT} = 0) AS after,
                    bool_or(pk & {_W_BIT} <> 0) AS before
                FROM okeys GROUP BY k),
            top AS (
                SELECT pk FROM okeys WHERE pk & {_W_BIT} = 0
                QUALIFY rank() OVER (PARTITION BY pk >> 50 ORDER BY ob DESC) <= {int(top)}),
            top_info AS (
                SELECT t.pk,
                    sum(s.packets) FILTER (WHERE s._out) AS op, sum(s.bytes) FILTER (WHERE s._out) AS ob,
                    count(*) FILTER (WHERE s._out) AS of,
                    coalesce(sum(s.rev_packets) FILTER (WHERE s._out), 0)
                        + coalesce(sum(s.packets) FILTER (WHERE NOT s._out), 0) AS rp,
                    max(s.dst_asn) FILTER (WHERE s._out) AS asn, max(s.dst_org) FILTER (WHERE s._out) AS org,
                    max(s.dst_class) FILTER (WHERE s._out) AS cls,
                    arg_max(struct_pack(r4 := s.r4, rhi := s.rhi, rlo := s.rlo), s.bytes) FILTER (WHERE s._out)
                        AS sample
                FROM top t JOIN sel s ON s.pk = t.pk GROUP BY t.pk)
            SELECT 0 AS kind, t.q, t.w, NULL::UBIGINT AS pk, t.op, t.ob, t.of,
                   t.orp + coalesce(p.rp, 0), t.orb + coalesce(p.rb, 0), t.orf + coalesce(p.rf, 0),
                   NULL::UINTEGER AS asn, NULL::VARCHAR AS org, NULL::VARCHAR AS cls,
                   NULL::STRUCT(r4 UINTEGER, rhi UBIGINT, rlo UBIGINT) AS sample, NULL::BOOLEAN AS new, t.dests
            FROM tot t LEFT JOIN paired p ON p.q = t.q AND p.w = t.w
            UNION ALL
            SELECT 1, CAST(k >> 50 AS INTEGER), 0, NULL, NULL, NULL, count(*) FILTER (WHERE after AND NOT before),
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM seen GROUP BY k >> 50
            UNION ALL
            SELECT 2, CAST(i.pk >> 50 AS INTEGER), 0, i.pk, op, ob, of, rp, NULL, NULL, asn, org, cls, sample,
                   NOT s.before, NULL
            FROM top_info i JOIN seen s ON s.k = i.pk
            UNION ALL
            SELECT 3, q, w, NULL, NULL, NULL, srcs, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM tot
            UNION ALL
            SELECT 4, q, w, NULL, NULL, NULL, sum(n), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM ({counted}) GROUP BY q, w
        """
        return self._fold(sql, len(requests), top)

    def _fold(self, sql: str, size: int, top: int) -> list[CheckSummary]:
        """Run a `_check_batch` statement and fold its rows (kind 0 totals, 1 new prefixes, 2 top prefixes,
        3 distinct sources, 4 records) into one `CheckSummary` per request. A prefix travels as one integer
        (`_V6_BIT`, `_W_BIT`, request << 50, the /24 or /48 key below): cheap to group, join and rank."""
        outs = [Counters()] * (2 * size)
        rets = [Counters()] * (2 * size)
        records = [0] * (2 * size)
        sources = [0] * (2 * size)
        dests = [0] * (2 * size)
        new_count = [0] * size
        tops: list[list[Destination]] = [[] for _ in range(size)]
        for row in self.con.execute(sql).fetchall():
            kind, q, w = int(row[0]), int(row[1]), int(row[2])
            slot = 2 * q + w
            if kind == 0:
                outs[slot] = Counters(int(row[4]), int(row[5]), int(row[6]))
                rets[slot] = Counters(int(row[7]), int(row[8]), int(row[9]))
                dests[slot] = int(row[15])
            elif kind == 2:
                sample = row[13] or {}
                key = int(row[3])
                version = 6 if key & _V6_BIT else 4
                tops[q].append(
                    Destination(
                        prefix=prefix_key_text(version, key & _PREFIX_MASK),
                        sample_address=decode_address(
                            version, int(sample.get("r4", 0)), int(sample.get("rhi", 0)), int(sample.get("rlo", 0))
                        )
                        if sample
                        else "",
                        asn=int(row[10] or 0),
                        org=str(row[11] or ""),
                        provider_class=str(row[12] or ""),
                        packets=int(row[4]),
                        bytes=int(row[5]),
                        flows=int(row[6]),
                        return_packets=int(row[7]),
                        new=bool(row[14]),
                    )
                )
            else:
                value = int(row[6])
                if kind == 1:
                    new_count[q] = value
                elif kind == 3:
                    sources[slot] = value
                else:
                    records[slot] = value
        out: list[CheckSummary] = []
        for q in range(size):
            after, before = (
                WindowTotals(records[slot], outs[slot], rets[slot], sources[slot], dests[slot])
                for slot in (2 * q, 2 * q + 1)
            )
            ranked = sorted(tops[q], key=lambda item: (-item.bytes, item.prefix))[:top]
            out.append(CheckSummary(after, before, new_count[q], tuple(ranked)))
        return out

    def pair_summary(
        self, selector: FlowSelector, window: TimeWindow, *, min_out_packets: int = 1
    ) -> tuple[PairRow, ...]:
        self._view()
        where, params = self._where(selector.exporters, window)
        is_out, is_ret, remote_key, _remote_id = selector_sql(selector)
        sql = f"""
            WITH marked AS (SELECT *, {is_out} AS _out, {is_ret} AS _ret FROM flows WHERE {where}),
            keyed AS (
                SELECT ip_version, {remote_key} AS rkey, _out, _ret, packets, bytes, rev_packets, rev_bytes,
                       dst_asn, dst_org, dst_class,
                       CASE WHEN _out THEN src_v4 ELSE dst_v4 END AS i4,
                       CASE WHEN _out THEN src_v6_hi ELSE dst_v6_hi END AS ihi,
                       CASE WHEN _out THEN src_v6_lo ELSE dst_v6_lo END AS ilo
                FROM marked WHERE _out OR _ret)
            SELECT ip_version, i4, ihi, ilo, rkey,
                coalesce(sum(packets) FILTER (WHERE _out), 0), coalesce(sum(bytes) FILTER (WHERE _out), 0),
                count(*) FILTER (WHERE _out),
                coalesce(sum(rev_packets) FILTER (WHERE _out), 0)
                    + coalesce(sum(packets) FILTER (WHERE _ret AND NOT _out), 0),
                coalesce(sum(rev_bytes) FILTER (WHERE _out), 0)
                    + coalesce(sum(bytes) FILTER (WHERE _ret AND NOT _out), 0),
                count(*) FILTER (WHERE _ret AND NOT _out),
                max(dst_asn) FILTER (WHERE _out), max(dst_org) FILTER (WHERE _out), max(dst_class) FILTER (WHERE _out)
            FROM keyed GROUP BY ip_version, i4, ihi, ilo, rkey
            HAVING coalesce(sum(packets) FILTER (WHERE _out), 0) >= ?
            ORDER BY 7 DESC
        """
        rows = self.con.execute(sql, [*params, min_out_packets]).fetchall()
        return tuple(
            PairRow(
                internal=decode_address(int(row[0]), int(row[1]), int(row[2]), int(row[3])),
                prefix=prefix_key_text(int(row[0]), int(row[4])),
                asn=int(row[11] or 0),
                org=str(row[12] or ""),
                provider_class=str(row[13] or ""),
                out=Counters(int(row[5]), int(row[6]), int(row[7])),
                ret=Counters(int(row[8]), int(row[9]), int(row[10])),
            )
            for row in rows
        )

    def baseline_remotes(self, selector: FlowSelector, window: TimeWindow) -> BaselineRemotes:
        self._view()
        where, params = self._where(selector.exporters, window)
        is_out, _is_ret, remote_key, _remote_id = selector_sql(selector)
        rows = self.con.execute(
            f"""WITH marked AS (SELECT *, {is_out} AS _out FROM flows WHERE {where})
                SELECT DISTINCT ip_version, {remote_key} AS rkey, dst_asn FROM marked WHERE _out""",
            params,
        ).fetchall()
        prefixes = frozenset(prefix_key_text(int(row[0]), int(row[1])) for row in rows)
        asns = frozenset(int(row[2]) for row in rows if row[2])
        return BaselineRemotes(prefixes, asns)

    def destination_services(
        self, selector: FlowSelector, window: TimeWindow, *, top: int = 5
    ) -> tuple[ServiceRow, ...]:
        self._view()
        where, params = self._where(selector.exporters, window)
        is_out, _is_ret, _remote_key, _remote_id = selector_sql(selector)
        nat = nat_present_sql("nat_dst")
        rows = self.con.execute(
            f"""WITH marked AS (SELECT *, {is_out} AS _out FROM flows WHERE {where})
                SELECT ip_version,
                    CASE WHEN {nat} THEN nat_dst_v4 ELSE dst_v4 END AS a4,
                    CASE WHEN {nat} THEN nat_dst_v6_hi ELSE dst_v6_hi END AS ahi,
                    CASE WHEN {nat} THEN nat_dst_v6_lo ELSE dst_v6_lo END AS alo,
                    CASE WHEN {nat} AND nat_dst_port <> 0 THEN nat_dst_port ELSE dst_port END AS port,
                    sum(packets), sum(bytes), count(*)
                FROM marked WHERE _out GROUP BY ip_version, a4, ahi, alo, port""",
            params,
        ).fetchall()
        return services_from_sql(rows, top)

    def time_range(self, exporters: Sequence[str] = ()) -> tuple[datetime, datetime] | None:
        self._view()
        where = ""
        params: list[Any] = []
        if exporters:
            where = "WHERE exporter IN (" + ", ".join("?" for _ in exporters) + ")"
            params = list(exporters)
        row = self.con.execute(f"SELECT min(time_start), max(time_start) FROM flows {where}", params).fetchone()
        if not row or row[0] is None:
            return None
        first, last = _aware(row[0]), _aware(row[1])
        assert first is not None and last is not None
        return first, last

    def record_count(self) -> int:
        self._view()
        row = self.con.execute("SELECT count(*) FROM flows").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.con.close()
        self.enricher.close()


def _counted_sql(spans: Sequence[TimeWindow], scan: str, joins: Sequence[str]) -> str:
    """SQL rows (q, w, n): records per request window (coverage). A day no window starts or ends in lies wholly
    inside every window it overlaps, so it is counted from a per (exporter, day) aggregate of the exporter column
    alone; records of the edge days go through the exact time-range join (`joins`: to `chk` / `chk_any`)."""
    edge_days = sorted({moment.astimezone(UTC).date() for span in spans for moment in (span.start, span.end)})
    edge_list = ", ".join(f"DATE '{day.isoformat()}'" for day in edge_days)
    flows_days = (
        f"(SELECT exporter, day, count(*) AS n FROM flows WHERE {scan} AND day NOT IN ({edge_list})"
        " GROUP BY exporter, day)"
    )
    flows_edge = f"(SELECT exporter, time_start FROM flows WHERE {scan} AND day IN ({edge_list}))"
    whole_day = "(CAST(f.day AS TIMESTAMP) >= c.lo AND CAST(f.day AS TIMESTAMP) + INTERVAL 1 DAY <= c.hi)"
    counted_parts: list[str] = []
    for join in joins:
        day_join = join.replace("f.time_start >= c.lo AND f.time_start < c.hi", whole_day)
        counted_parts.append(f"SELECT c.q, c.w, f.n FROM {flows_days} f {day_join}")
        counted_parts.append(f"SELECT c.q, c.w, count(*) AS n FROM {flows_edge} f {join} GROUP BY c.q, c.w")
    return " UNION ALL ".join(counted_parts)


def _naive_sql(value: datetime) -> str:
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return f"TIMESTAMP '{naive.isoformat(sep=' ')}'"


def _epoch_us(window: TimeWindow) -> tuple[int, int]:
    """[start, end) of a window in epoch microseconds (what `epoch_us(time_start)` gives)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    tick = timedelta(microseconds=1)
    return (window.start - epoch) // tick, (window.end - epoch) // tick


def _window_sql(window: TimeWindow) -> str:
    return f"(time_start >= {_naive_sql(window.start)} AND time_start < {_naive_sql(window.end)})"


def _scan_filter(parts: Sequence[TimeWindow]) -> str:
    """WHERE text selecting the union of `parts`: a day range and hull bounds the Parquet scan can prune
    with, then the exact windows."""
    start = min(part.start for part in parts)
    end = max(part.end for part in parts)
    day_from = start.astimezone(UTC).date().isoformat()
    day_to = end.astimezone(UTC).date().isoformat()
    exact = " OR ".join(_window_sql(part) for part in parts)
    return (
        f"day BETWEEN DATE '{day_from}' AND DATE '{day_to}' AND time_start >= {_naive_sql(start)}"
        f" AND time_start < {_naive_sql(end)} AND ({exact})"
    )


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
