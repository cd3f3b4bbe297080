"""The embedded flow store: DuckDB over Parquet files partitioned by day (`<root>/data/day=YYYY-MM-DD/`).

Ingest is idempotent through a content-hash ledger (`<root>/ledger.jsonl`): a file whose SHA-256 was
ingested before is skipped. Rows are staged through DuckDB's own CSV reader (the nfdump CSV fast path
reads the export directly; other formats stream through a Python reader into a temporary TSV), enriched
per distinct destination, and written with COPY ... PARTITION_BY (day).
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cfgwatch.errors import InputError, StoreError
from cfgwatch.flows.backends.base import (
    BaselineRemotes,
    Counters,
    CoverageRow,
    FlowSelector,
    IngestReport,
    OutboundSummary,
    PairRow,
    RemoteRow,
    TimeWindow,
)
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.formats import get_reader
from cfgwatch.flows.formats.base import ROW_FIELDS, ReadStats
from cfgwatch.flows.schema import (
    COLUMNS,
    address_predicate,
    decode_address,
    encode_address,
    nat_present_sql,
    port_predicate,
    prefix_key_sql,
    prefix_key_text,
)

BATCH_ROWS = 100_000
# Small row groups keep per-exporter min/max statistics tight, so time/exporter filters skip most of a day.
ROW_GROUP_ROWS = 32_768


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def selector_sql(selector: FlowSelector) -> tuple[str, str, str, str]:
    """(is_out, is_ret, remote_key, remote_id) SQL expressions for a selector (see base module doc)."""
    internal_src = address_predicate("src", selector.sources)
    if selector.translated is not None and not selector.translated.is_empty:
        internal_src = (
            f"({internal_src} OR {address_predicate('src', selector.translated)}"
            f" OR {address_predicate('nat_src', selector.translated)})"
        )
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
        self.ledger_path = self.root / "ledger.jsonl"
        self.enricher = enricher or Enricher()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create flow store: {exc.strerror}", path=self.data_dir) from exc
        self.con = duckdb.connect()
        if memory_limit:
            self.con.execute(f"SET memory_limit = {_sql_text(memory_limit)}")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET parquet_metadata_cache = true")
        self._view_ready = False

    # -- store layout ---------------------------------------------------------------------------------

    def _files_exist(self) -> bool:
        return any(self.data_dir.glob("day=*/*.parquet"))

    def refresh(self) -> None:
        """(Re)create the `flows` view over every Parquet file (call after files change on disk)."""
        if self._files_exist():
            glob = _sql_text(str(self.data_dir / "day=*" / "*.parquet"))
            self.con.execute(
                f"CREATE OR REPLACE VIEW flows AS SELECT * FROM read_parquet({glob}, hive_partitioning = true,"
                " hive_types = {'day': DATE})"
            )
        else:
            cols = ", ".join(f"NULL::{column.duckdb} AS {column.name}" for column in COLUMNS)
            self.con.execute(f"CREATE OR REPLACE VIEW flows AS SELECT {cols} WHERE FALSE")
        self._view_ready = True

    def _view(self) -> None:
        if not self._view_ready:
            self.refresh()

    def _ledger(self) -> dict[str, dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        if self.ledger_path.exists():
            for line in self.ledger_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    entries[entry["sha256"]] = entry
        return entries

    # -- ingest ----------------------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        format_name: str,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
    ) -> IngestReport:
        """Store one flow file; the same content a second time is reported as skipped and adds nothing."""
        file = Path(path)
        if not file.is_file():
            raise InputError("flow file not found", path=file)
        digest = _sha256(file)
        ledger = self._ledger()
        if digest in ledger:
            previous = ledger[digest]
            return IngestReport(
                str(file), format_name, 0, 0, skipped=True, sha256=digest, days=tuple(previous.get("days", ()))
            )
        reader = get_reader(format_name, aws_fields=aws_fields)
        stats = ReadStats(str(file))
        batch_id = uuid.uuid4().hex[:12]
        with tempfile.TemporaryDirectory(prefix="cfgwatch-ingest-") as tmp:
            if format_name == "nfdump-csv":
                staged = self._stage_nfdump_csv(file, exporter, stats)
            else:
                staged = self._stage_rows(reader(file, stats, exporter), Path(tmp), stats)
            days = self._enrich_and_write(staged, batch_id) if staged else ()
        entry = {
            "sha256": digest,
            "path": str(file),
            "format": format_name,
            "exporter": exporter,
            "records": stats.records,
            "bad": stats.bad,
            "days": list(days),
            "batch": batch_id,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if stats.records:  # a file nothing could be read from is not ledgered: retry with the right format
            with self.ledger_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
        self._view_ready = False
        return IngestReport(
            str(file), format_name, stats.records, stats.bad, tuple(stats.samples), sha256=digest, days=tuple(days)
        )

    def _stage_rows(self, rows: Any, tmp: Path, stats: ReadStats) -> bool:
        """Stream reader rows into a TSV and load it with DuckDB's CSV reader into table `staged`."""
        tsv = tmp / "rows.tsv"
        count = 0
        with tsv.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            for row in rows:
                writer.writerow(row)
                count += 1
        if count == 0:
            return False
        types = {column.name: column.duckdb for column in COLUMNS}
        columns = {name: ("BIGINT" if name in ("time_start", "time_end") else types[name]) for name in ROW_FIELDS}
        spec = "{" + ", ".join(f"{_sql_text(name)}: {_sql_text(kind)}" for name, kind in columns.items()) + "}"
        select = ", ".join(
            f"make_timestamp({name}) AS {name}" if name in ("time_start", "time_end") else name for name in ROW_FIELDS
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {select} FROM read_csv({_sql_text(str(tsv))}, "
            f"delim = '\t', header = false, quote = '\"', columns = {spec})"
        )
        return True

    def _stage_nfdump_csv(self, file: Path, exporter: str | None, stats: ReadStats) -> bool:
        """Fast path: DuckDB parses `nfdump -o csv` itself (IPv4 in SQL; the rare IPv6 rows are patched from Python)."""
        source = (
            f"read_csv({_sql_text(str(file))}, header = true, all_varchar = true, null_padding = true,"
            " ignore_errors = true, parallel = false)"
        )
        columns = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        wanted = [
            name
            for name in (
                "ts",
                "te",
                "sa",
                "da",
                "sp",
                "dp",
                "pr",
                "ipkt",
                "ibyt",
                "opkt",
                "obyt",
                "in",
                "out",
                "dir",
                "ra",
            )
            if name in columns
        ]
        # Only the columns we use are materialised; row_number() over the ordered single-threaded read = line.
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_csv AS SELECT row_number() OVER () + 1 AS line, "
            + ", ".join(f'"{name}"' for name in wanted)
            + f" FROM {source}"
        )
        missing = [name for name in ("ts", "te", "sa", "da", "pr", "ipkt", "ibyt") if name not in columns]
        if missing:
            stats.reject(1, f"nfdump CSV header lacks {', '.join(missing)}")
            return False

        def col(name: str, default: str = "'0'") -> str:
            return f'"{name}"' if name in columns else default

        def v4(name: str) -> str:
            octets = " + ".join(
                f"CAST(TRY_CAST(split_part({name}, '.', {index + 1}) AS UTINYINT) AS UBIGINT) * {256 ** (3 - index)}"
                for index in range(4)
            )
            return f"(CASE WHEN split_part({name}, '.', 5) = '' THEN {octets} END)"

        exporter_sql = _sql_text(exporter) if exporter else f"coalesce(trim({col('ra', 'NULL')}), 'unknown')"
        proto = (
            "CASE upper(trim(pr)) WHEN 'TCP' THEN 6 WHEN 'UDP' THEN 17 WHEN 'ICMP' THEN 1 WHEN 'ICMP6' THEN 58 "
            "WHEN 'GRE' THEN 47 WHEN 'ESP' THEN 50 ELSE TRY_CAST(trim(pr) AS UTINYINT) END"
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE parsed AS SELECT line,
                TRY_CAST(ts AS TIMESTAMP) AS time_start, TRY_CAST(te AS TIMESTAMP) AS time_end,
                {exporter_sql} AS exporter,
                TRY_CAST({col("in")} AS UINTEGER) AS in_if, TRY_CAST({col("out")} AS UINTEGER) AS out_if,
                CASE WHEN contains(sa, ':') THEN 6 ELSE 4 END AS ip_version,
                CASE WHEN contains(sa, ':') THEN 0 ELSE TRY_CAST({v4("trim(sa)")} AS UINTEGER) END AS src_v4,
                CAST(0 AS UBIGINT) AS src_v6_hi,
                CAST(0 AS UBIGINT) AS src_v6_lo,
                CASE WHEN contains(da, ':') THEN 0 ELSE TRY_CAST({v4("trim(da)")} AS UINTEGER) END AS dst_v4,
                CAST(0 AS UBIGINT) AS dst_v6_hi,
                CAST(0 AS UBIGINT) AS dst_v6_lo,
                TRY_CAST({col("sp")} AS USMALLINT) AS src_port,
                TRY_CAST(split_part({col("dp")}, '.', 1) AS USMALLINT) AS dst_port,
                {proto} AS proto, 0 AS tcp_flags,
                TRY_CAST(ipkt AS UBIGINT) AS packets, TRY_CAST(ibyt AS UBIGINT) AS bytes,
                coalesce(TRY_CAST({col("opkt")} AS UBIGINT), 0) AS rev_packets,
                coalesce(TRY_CAST({col("obyt")} AS UBIGINT), 0) AS rev_bytes,
                coalesce(TRY_CAST({col("dir")} AS UTINYINT) + 1, 0) AS direction, 0 AS action,
                0 AS nat_src_v4, 0 AS nat_src_v6_hi, 0 AS nat_src_v6_lo,
                0 AS nat_dst_v4, 0 AS nat_dst_v6_hi, 0 AS nat_dst_v6_lo, 0 AS nat_src_port, 0 AS nat_dst_port
            FROM raw_csv WHERE ts IS NOT NULL AND trim(ts) <> ''
                AND line < coalesce((SELECT min(line) FROM raw_csv WHERE starts_with(ts, 'Summary')),
                                    9223372036854775807)"""
        )
        self._patch_v6(file, stats)
        good = " AND ".join(
            f"{name} IS NOT NULL"
            for name in ("time_start", "time_end", "src_v4", "dst_v4", "src_port", "dst_port", "proto")
        )
        good += " AND packets IS NOT NULL AND bytes IS NOT NULL"
        for (line,) in self.con.execute(
            f"SELECT line FROM parsed WHERE NOT ({good}) ORDER BY line LIMIT 20"
        ).fetchall():
            stats.samples.append(f"{file}:{line}: unparsable nfdump CSV record")
        bad = self.con.execute(f"SELECT count(*) FROM parsed WHERE NOT ({good})").fetchone()
        stats.bad += int(bad[0]) if bad else 0
        select = ", ".join(ROW_FIELDS)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {select} FROM parsed WHERE {good}")
        self.con.execute("DROP TABLE raw_csv")
        self.con.execute("DROP TABLE parsed")
        total = self.con.execute("SELECT count(*) FROM staged").fetchone()
        stats.records = int(total[0]) if total else 0
        return stats.records > 0

    def _patch_v6(self, file: Path, stats: ReadStats) -> None:
        """Fill the IPv6 halves of rows whose addresses contain ':' (SQL has no IPv6 parser without extensions)."""
        fixes: list[tuple[int, int, int, int, int]] = []
        bad_lines: list[int] = []
        rows = self.con.execute(
            "SELECT p.line, trim(r.sa), trim(r.da) FROM parsed p JOIN raw_csv r USING (line) WHERE p.ip_version = 6"
        ).fetchall()
        for line, src, dst in rows:
            try:
                s_version, _s4, s_hi, s_lo = encode_address(src)
                d_version, _d4, d_hi, d_lo = encode_address(dst)
                if s_version != 6 or d_version != 6:
                    raise ValueError("mixed address families")
            except ValueError:
                bad_lines.append(int(line))
                continue
            fixes.append((int(line), s_hi, s_lo, d_hi, d_lo))
        if fixes:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE v6fix (line BIGINT, sh UBIGINT, sl UBIGINT, dh UBIGINT, dl UBIGINT)"
            )
            self.con.executemany("INSERT INTO v6fix VALUES (?, ?, ?, ?, ?)", fixes)
            self.con.execute(
                "UPDATE parsed SET src_v6_hi = f.sh, src_v6_lo = f.sl, dst_v6_hi = f.dh, dst_v6_lo = f.dl,"
                " src_v4 = 0, dst_v4 = 0 FROM v6fix f WHERE parsed.line = f.line"
            )
            self.con.execute("DROP TABLE v6fix")
        if bad_lines:
            self.con.execute(
                f"UPDATE parsed SET time_start = NULL WHERE line IN ({', '.join(str(line) for line in bad_lines)})"
            )
        del stats

    def _load_table(self, table: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> None:
        """Bulk-load small Python tables through DuckDB's CSV reader (executemany is row by row)."""
        if not rows:
            body = ", ".join(f"{key} {kind}" for key, kind in columns.items())
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({body})")
            return
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False, encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerows(rows)
            name = handle.name
        try:
            spec = "{" + ", ".join(f"{_sql_text(key)}: {_sql_text(kind)}" for key, kind in columns.items()) + "}"
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({_sql_text(name)}, delim = '\t',"
                f" header = false, quote = '\"', columns = {spec})"
            )
        finally:
            Path(name).unlink(missing_ok=True)

    def _enrich_and_write(self, staged: bool, batch_id: str) -> tuple[str, ...]:
        """Enrich per remote /24 (/48) -- the smallest routed prefix, so one AS lookup covers it -- plus an
        exact-address Tor exit join, then write Parquet by day."""
        del staged
        nat = nat_present_sql("s.nat_dst")
        remote = {
            part: f"CASE WHEN {nat} THEN s.nat_dst_{part} ELSE s.dst_{part} END" for part in ("v4", "v6_hi", "v6_lo")
        }
        rkey = (
            f"(CASE WHEN s.ip_version = 6 THEN ({remote['v6_hi']}) >> 16"
            f" ELSE CAST(({remote['v4']}) >> 8 AS UBIGINT) END)"
        )
        enrich_cols = {
            "ip_version": "UTINYINT",
            "rkey": "UBIGINT",
            "dst_asn": "UINTEGER",
            "dst_org": "VARCHAR",
            "dst_class": "VARCHAR",
        }
        lookups: list[tuple[Any, ...]] = []
        if not self.enricher.is_empty:
            keys = self.con.execute(f"SELECT DISTINCT s.ip_version, {rkey} FROM staged s").fetchall()
            for version, key in keys:
                network = prefix_key_text(int(version), int(key)).split("/")[0]
                found = self.enricher.lookup(network, tor=False)
                if found.asn or found.provider_class or found.org:
                    lookups.append((version, key, found.asn, found.org, found.provider_class))
        self._load_table("enrich", enrich_cols, lookups)
        tor_rows: list[tuple[Any, ...]] = []
        for value in self.enricher.tor:
            if value < (1 << 32):  # Tor exits are kept as integers: IPv4 fits in 32 bits
                tor_rows.append((4, 0, 0, value))
            else:
                tor_rows.append((6, 0, value >> 64, value & ((1 << 64) - 1)))
        self._load_table(
            "tor", {"ip_version": "UTINYINT", "hi": "UBIGINT", "hi6": "UBIGINT", "lo": "UBIGINT"}, tor_rows
        )
        select = ", ".join(f"s.{name}" for name in ROW_FIELDS)
        target = _sql_text(str(self.data_dir))
        self.con.execute(
            f"""COPY (SELECT {select},
                    coalesce(e.dst_asn, 0) AS dst_asn, coalesce(e.dst_org, '') AS dst_org,
                    CASE WHEN t.lo IS NOT NULL THEN 'tor-exit' ELSE coalesce(e.dst_class, '') END AS dst_class,
                    CAST(s.time_start AS DATE) AS day
                FROM staged s
                LEFT JOIN enrich e ON e.ip_version = s.ip_version AND e.rkey = {rkey}
                LEFT JOIN tor t ON t.ip_version = s.ip_version
                  AND t.hi6 = CASE WHEN s.ip_version = 6 THEN {remote["v6_hi"]} ELSE 0 END
                  AND t.lo = CASE WHEN s.ip_version = 6 THEN {remote["v6_lo"]} ELSE {remote["v4"]} END
                ORDER BY s.exporter, s.time_start)
              TO {target} (FORMAT parquet, PARTITION_BY (day), APPEND true, ROW_GROUP_SIZE {ROW_GROUP_ROWS},
                FILENAME_PATTERN 'part-{batch_id}-{{uuid}}', COMPRESSION zstd)"""
        )
        days = tuple(
            str(day)
            for (day,) in self.con.execute("SELECT DISTINCT CAST(time_start AS DATE) FROM staged ORDER BY 1").fetchall()
        )
        for table in ("staged", "enrich", "tor"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        return days

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


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


ONE_DAY = timedelta(days=1)
