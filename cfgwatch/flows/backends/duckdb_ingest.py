"""Ingest for the embedded flow store: flow files (CSV, JSON, records) -> Parquet partitioned by day.

Ingest is idempotent through a content-hash ledger (`<root>/ledger.jsonl`): a file whose SHA-256 was
ingested before is skipped, and a record already stored from another file of the same exporter (a CRLF or
grown re-export) is dropped before the write (`ParquetIngest._drop_stored`). Rows are staged through
DuckDB's own CSV reader: nfdump CSV, Zeek conn.log and AWS VPC text are read directly by one typed parallel
scan (`formats.native`; a file with an odd line goes the exact path), other formats stream through a Python
reader into a temporary TSV. Rows are enriched per distinct destination and written append-only, unsorted,
under `<root>/data/day=YYYY-MM-DD/` (one file per day of the batch); `ParquetIngest.compact` (the nightly
job: `compact_store`) later merges a day's files into one sorted by exporter and time.
The queries over those files live in `cfgwatch.flows.backends.duckdb`; they read the files as they are.

A kill -9 at any point must not leave a file a reader chokes on, nor a batch counted twice. So a batch is
written into `<root>/data/.staging-<batch>/` (same filesystem, invisible to the `day=*/*.parquet` glob),
each file is fsynced and renamed into its day directory, and only then is the ledger line appended (and
fsynced): the ledger is the commit point. The next ingest (under `<root>/ingest.lock`) removes staging
directories and the files of batches the ledger does not name -- a killed batch is redone whole.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from cfgwatch.errors import InputError, StoreError
from cfgwatch.flows.backends.base import IngestReport
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.formats import FLOW_FORMATS, get_reader
from cfgwatch.flows.formats.base import MAX_TIME_US, MIN_TIME_US, PROTO_NAMES, ROW_FIELDS, ReadStats
from cfgwatch.flows.formats.native import REJECTS_LIMIT, NativeScan, first_line, flags_sql, native_scan
from cfgwatch.flows.schema import COLUMNS, encode_address, nat_present_sql, prefix_key_text
from cfgwatch.plugins import OWN_DISTRIBUTION

# Small row groups keep per-exporter min/max statistics tight, so time/exporter filters skip most of a day.
ROW_GROUP_ROWS = 32_768
# LZ4 decodes about twice as fast as zstd for ~1.5x the bytes: scans are CPU-bound here, not disk-bound.
PARQUET_COMPRESSION = "lz4_raw"
# A batch is written here first; the readers' glob `day=*/*.parquet` never matches it.
STAGING_PREFIX = ".staging-"
_PART_BATCH = re.compile(r"part-([0-9a-f]{12})-")
_T = TypeVar("_T")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


NFDUMP_CSV_COLUMNS = (
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
    "flg",
)
# nullstr of the SQL nfdump path: no field is NULL but one a short line lacks (null_padding), so the field count
# shows; an empty field is '' (what the Python reader sees).
_NO_NULL = "<cfgwatch: no null string>"


def _nfdump_parse_sql(columns: set[str], exporter: str | None, short: str) -> str:
    """SELECT list turning the varchar columns of `nfdump -o csv` into `ROW_FIELDS` (IPv6 halves left 0) as
    `readers.read_nfdump_csv` reads them; NULL where that reader rejects the record. `short` is the SQL
    boolean of a line with another field count than the header (`_short`; the reader rejects it)."""

    def col(name: str, default: str = "'0'") -> str:
        return f'"{name}"' if name in columns else default

    def number(name: str, kind: str) -> str:
        """`base.to_int` with default 0: empty or '-' is 0, else an integer or a float's integer part."""
        text = f"trim({col(name)})"
        return (
            f"(CASE WHEN coalesce({text}, '') IN ('', '-') THEN 0 ELSE coalesce(TRY_CAST({text} AS {kind}),"
            f" TRY_CAST(trunc(TRY_CAST({text} AS DOUBLE)) AS {kind})) END)"
        )

    def v4(name: str) -> str:
        octets = " + ".join(
            f"CAST(TRY_CAST(split_part({name}, '.', {index + 1}) AS UTINYINT) AS UBIGINT) * {256 ** (3 - index)}"
            for index in range(4)
        )
        return f"(CASE WHEN split_part({name}, '.', 5) = '' THEN {octets} END)"

    exporter_sql = sql_text(exporter) if exporter else f"coalesce(trim({col('ra', 'NULL')}), 'unknown')"
    names = " ".join(f"WHEN {sql_text(name)} THEN {code}" for name, code in PROTO_NAMES.items())
    proto = (
        f"CASE lower(trim(pr)) {names} ELSE"
        " CASE WHEN regexp_full_match(trim(pr), '[0-9]+') THEN TRY_CAST(trim(pr) AS UTINYINT) END END"
    )
    direction = (
        f"CASE WHEN coalesce({col('dir', chr(39) * 2)}, '') = '' THEN 0"
        f" ELSE CASE {number('dir', 'UBIGINT')} WHEN 0 THEN 1 WHEN 1 THEN 2 END END"
    )
    flags = f"TRY_CAST({flags_sql(chr(34) + 'flg' + chr(34))} AS UTINYINT)" if "flg" in columns else "0"
    # as `base.make_row`: an end before the start is the start
    end = (
        "CASE WHEN TRY_CAST(te AS TIMESTAMP) IS NOT NULL"
        " THEN greatest(TRY_CAST(te AS TIMESTAMP), TRY_CAST(ts AS TIMESTAMP)) END"
    )
    return f"""TRY_CAST(ts AS TIMESTAMP) AS time_start, {end} AS time_end,
        {exporter_sql} AS exporter,
        {number("in", "UINTEGER")} AS in_if, {number("out", "UINTEGER")} AS out_if,
        CASE WHEN contains(sa, ':') THEN 6 ELSE 4 END AS ip_version,
        CASE WHEN contains(sa, ':') THEN 0 ELSE TRY_CAST({v4("trim(sa)")} AS UINTEGER) END AS src_v4,
        CAST(0 AS UBIGINT) AS src_v6_hi,
        CAST(0 AS UBIGINT) AS src_v6_lo,
        CASE WHEN contains(da, ':') THEN 0 ELSE TRY_CAST({v4("trim(da)")} AS UINTEGER) END AS dst_v4,
        CAST(0 AS UBIGINT) AS dst_v6_hi,
        CAST(0 AS UBIGINT) AS dst_v6_lo,
        {number("sp", "USMALLINT")} AS src_port,
        {number("dp", "USMALLINT")} AS dst_port,
        {proto} AS proto, {flags} AS tcp_flags,
        {number("ipkt", "UBIGINT")} AS packets, {number("ibyt", "UBIGINT")} AS bytes,
        {number("opkt", "UBIGINT")} AS rev_packets,
        {number("obyt", "UBIGINT")} AS rev_bytes,
        {direction} AS direction, 0 AS action,
        0 AS nat_src_v4, 0 AS nat_src_v6_hi, 0 AS nat_src_v6_lo,
        0 AS nat_dst_v4, 0 AS nat_dst_v6_hi, 0 AS nat_dst_v6_lo, 0 AS nat_src_port, 0 AS nat_dst_port,
        {short} AS _short"""


def _nfdump_good_sql() -> str:
    """SQL boolean: a parsed nfdump CSV row is a usable record."""
    good = " AND ".join(
        f"{name} IS NOT NULL"
        for name in (
            "time_start",
            "time_end",
            "src_v4",
            "dst_v4",
            "src_port",
            "dst_port",
            "proto",
            "in_if",
            "out_if",
            "tcp_flags",
            "direction",
        )
    )
    # Counters >= 2^64 fail TRY_CAST (NULL): the record is rejected with its line, as the Python readers do
    # (a clamp would invent exabytes that dominate every volume figure). Times as in `formats.base`.
    return (
        good
        + " AND NOT _short"
        + " AND packets IS NOT NULL AND bytes IS NOT NULL AND rev_packets IS NOT NULL AND rev_bytes IS NOT NULL"
        + f" AND time_start >= make_timestamp({MIN_TIME_US}) AND time_start < make_timestamp({MAX_TIME_US})"
        + f" AND time_end < make_timestamp({MAX_TIME_US})"
    )


SUMMARY_TAIL_BYTES = 1 << 16


def _nfdump_summary_rows(file: Path) -> int | None:
    """How many CSV rows (non-empty first field) the trailing `Summary` block of an nfdump export holds:
    0 without one. None when the end of the file does not look like that (a record after the Summary line,
    or the block larger than the tail read): only the ordered, line-numbered path can tell then.

    Every row of the block is unparsable as a record, so "unparsable rows == this count" proves that the
    parallel read saw no other unparsable row (and nothing that the ordered path would cut after Summary)."""
    size = file.stat().st_size
    with file.open("rb") as handle:
        handle.seek(max(0, size - SUMMARY_TAIL_BYTES))
        tail = handle.read()
    lines = tail.split(b"\n")
    marks = [index for index, line in enumerate(lines) if line.startswith(b"Summary")]
    if not marks:
        return 0
    if marks[0] == 0 and size > SUMMARY_TAIL_BYTES:
        return None
    firsts = [line.split(b",", 1)[0].strip() for line in lines[marks[0] :]]
    if any(_TIMESTAMP_START.match(first) for first in firsts):
        return None
    return sum(1 for first in firsts if first)


_TIMESTAMP_START = re.compile(rb"\d{4}-\d{2}-\d{2}")


def _has_empty_line(file: Path) -> bool:
    """Whether an empty line (which DuckDB's CSV reader skips without counting) precedes the last line."""
    with file.open("rb") as handle:
        carry = b""
        while chunk := handle.read(1 << 22):
            block = carry + chunk
            if b"\n\n" in block or b"\n\r\n" in block:
                return True
            carry = block[-2:]
    return False


class ParquetIngest:
    """Writes flow files into the day-partitioned Parquet tree of one store, over the store's connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, enricher: Enricher) -> None:
        self.con = con
        self.data_dir = root / "data"
        self.ledger_path = root / "ledger.jsonl"
        self.enricher = enricher
        # ROW_FIELDS the staged table leaves out because the batch's format never sets them (typed literals).
        self._constants: dict[str, str] = {}

    def _entries(self) -> list[dict[str, Any]]:
        """Every ledger line (ingests and compactions); a line cut short by a kill during its append is none."""
        entries: list[dict[str, Any]] = []
        if self.ledger_path.exists():
            for line in self.ledger_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if isinstance(entry, dict):
                        entries.append(entry)
        return entries

    def ledger(self) -> dict[str, dict[str, Any]]:
        """Ingest ledger entries by file SHA-256."""
        return {entry["sha256"]: entry for entry in self._entries() if "sha256" in entry}

    def _committed(self) -> tuple[set[str], set[str]]:
        """(ledgered batch ids, `day=.../name` files a ledgered compaction replaced)."""
        entries = self._entries()
        batches = {str(entry.get("batch")) for entry in entries if "batch" in entry}
        replaced = {str(name) for entry in entries for name in entry.get("replaces", ())}
        return batches, replaced

    def committed_files(self) -> tuple[list[Path], bool]:
        """The Parquet files a reader may see, and whether that is every file in the day directories.

        A `part-<batch>-` file is seen once the ledger names its batch (a killed or in-flight batch is not),
        and only when it is whole (PAR1 at both ends; a file cut short by an older version is skipped). A file
        that a ledgered compaction replaced is not seen, even before its removal."""
        files = sorted(self.data_dir.glob("day=*/*.parquet"))
        if not files:
            return [], True
        batches, replaced = self._committed()
        kept = []
        for part in files:
            match = _PART_BATCH.match(part.name)
            if (
                (match is None or match.group(1) in batches)
                and f"{part.parent.name}/{part.name}" not in replaced
                and _whole_parquet(part)
            ):
                kept.append(part)
        return kept, len(kept) == len(files)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One ingest per store at a time: the sweep below must not take another process's staging files."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir.parent / "ingest.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Locked, and a full (or failing) disk becomes a StoreError: nothing was ledgered, so the staged
        parts are swept now (or by the next ingest) and the same ingest or compaction can simply run again."""
        with self._locked():
            try:
                yield
            except (duckdb.IOException, OSError) as exc:
                if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError) and exc.errno is None:
                    raise
                with suppress(OSError, duckdb.Error):
                    self._sweep()
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
                raise StoreError(f"cannot write the flow store: {reason[:300]}", path=self.data_dir) from exc

    def _sweep(self) -> None:
        """Remove what a killed ingest or compaction left: staging directories, landed files of an unledgered
        batch, and files a ledgered compaction replaced."""
        for staging in self.data_dir.glob(STAGING_PREFIX + "*"):
            shutil.rmtree(staging, ignore_errors=True)
        batches, replaced = self._committed()
        for part in self.data_dir.glob("day=*/*.parquet"):
            match = _PART_BATCH.match(part.name)
            if (match and match.group(1) not in batches) or f"{part.parent.name}/{part.name}" in replaced:
                part.unlink(missing_ok=True)

    def _append_ledger(self, entry: dict[str, Any]) -> None:
        """Append one ledger line durably (after a line a kill cut short, on a fresh line)."""
        with self.ledger_path.open("a+b") as handle:
            handle.seek(0, os.SEEK_END)
            prefix = b""
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                prefix = b"" if handle.read(1) == b"\n" else b"\n"
            handle.write(prefix + json.dumps(entry).encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

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
        with self._writing():
            return self._ingest(file, format_name, exporter, aws_fields)

    def _ingest(
        self, file: Path, format_name: str, exporter: str | None, aws_fields: Sequence[str] | None
    ) -> IngestReport:
        ledger = self.ledger()
        self._sweep()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfgwatch-sha256") as pool:
            # hashlib and DuckDB both release the GIL: the file is hashed while it is staged, unless the
            # ledger holds a file of its size (or one of unknown size), which it may repeat: then the hash
            # comes first and a repeat costs only the hash, as ever.
            hashing = pool.submit(_sha256, file)
            sizes = {entry.get("size") for entry in ledger.values()}
            if None in sizes or file.stat().st_size in sizes:
                digest, size = hashing.result()
                if digest in ledger:
                    return _skipped(file, format_name, digest, ledger[digest])
            staged, stats = self._stage(file, format_name, exporter, aws_fields)
            digest, size = hashing.result()
        if digest in ledger:  # the file grew to a ledgered content between the size check and the hash
            self.con.execute("DROP TABLE IF EXISTS staged")
            return _skipped(file, format_name, digest, ledger[digest])
        batch_id = uuid.uuid4().hex[:12]
        days, repeated = self._unordered(self._enrich_and_write, batch_id) if staged else ((), 0)
        entry = {
            "sha256": digest,
            "size": size,
            "path": str(file),
            "format": format_name,
            "exporter": exporter,
            "records": stats.records - repeated,
            "repeated": repeated,
            "bad": stats.bad,
            "days": list(days),
            "batch": batch_id,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # A file nothing could be read from is not ledgered (retry with the right format); a re-export whose
        # records were all stored before is, so the next look at it is a hash.
        if stats.records:
            self._append_ledger(entry)
        return IngestReport(
            str(file),
            format_name,
            stats.records - repeated,
            stats.bad,
            tuple(stats.samples),
            sha256=digest,
            days=tuple(days),
        )

    def _stage(
        self, file: Path, format_name: str, exporter: str | None, aws_fields: Sequence[str] | None
    ) -> tuple[bool, ReadStats]:
        """Read the file into table `staged`; (whether it holds any record, the read's counts and samples)."""
        reader = get_reader(format_name, aws_fields=aws_fields)
        stats = ReadStats(str(file))
        with tempfile.TemporaryDirectory(prefix="cfgwatch-ingest-") as tmp:
            # DuckDB reads cfgwatch's own line formats directly; a site's replacement format of the same
            # name goes through its reader like any other format.
            self._constants = {}
            own = FLOW_FORMATS.origin(format_name) == OWN_DISTRIBUTION
            scan = native_scan(format_name, file, exporter, aws_fields) if own else None
            if scan is not None and self._unordered(self.stage_native, scan, file, stats):
                staged = stats.records > 0
            elif format_name == "nfdump-csv" and own:
                staged = self._stage_nfdump_csv(file, exporter, stats)
            else:
                staged = self._stage_rows(reader(file, stats, exporter), Path(tmp), stats)
        return staged, stats

    def _unordered(self, action: Callable[..., _T], *args: Any) -> _T:
        """Run `action` with preserve_insertion_order off: a batch is a set of rows (ordered by compaction,
        never read in file order), and an ordered parallel scan or write holds threads back to keep the order
        (~12% more CPU for a clean scan, twice the wall time on two cores). The connection is the store's
        query connection too: its setting is restored. The line-numbered exact paths never run in here."""
        row = self.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
        before = bool(row[0]) if row else True
        self.con.execute("SET preserve_insertion_order = false")
        try:
            return action(*args)
        finally:
            self.con.execute(f"SET preserve_insertion_order = {str(before).lower()}")

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
        spec = "{" + ", ".join(f"{sql_text(name)}: {sql_text(kind)}" for name, kind in columns.items()) + "}"
        select = ", ".join(
            f"make_timestamp({name}) AS {name}" if name in ("time_start", "time_end") else name for name in ROW_FIELDS
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE staged AS SELECT {select} FROM read_csv({sql_text(str(tsv))}, "
            f"delim = '\t', header = false, quote = '\"', columns = {spec})"
        )
        return True

    @property
    def staged_constants(self) -> Mapping[str, str]:
        """Columns the staged rows lack, as SQL constants (the scan's; a ClickHouse ingest adds them too)."""
        return self._constants

    def stage_native(self, scan: NativeScan, file: Path, stats: ReadStats) -> bool:
        """ONE parallel typed read of the file into table `staged` (see `formats.native`). True when the scan
        vouches for every line; False (nothing staged) when a line was rejected or a row is odd, so the exact
        path reads the file and names each bad record's line. nfdump's trailing Summary block is no record:
        its lines are rejected by the typed read, and the tail check proves they are all there is."""
        rejects = "cfgwatch_rejects"
        self._drop_rejects(rejects)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {scan.select(file, rejects)}")
            lines = [int(line) for (line,) in self.con.execute(f"SELECT DISTINCT line FROM {rejects}").fetchall()]
        finally:
            self._drop_rejects(rejects)
        row = self.con.execute("SELECT count(*) FILTER (WHERE _odd), count(*) FROM staged").fetchone()
        odd, total = (int(value) for value in row) if row else (0, 0)
        explained = not lines
        if lines and scan.summary:
            tail_rows = _nfdump_summary_rows(file)
            explained = tail_rows is not None and len(lines) == tail_rows and len(lines) < REJECTS_LIMIT
        if odd or not explained:
            self.con.execute("DROP TABLE staged")
            return False
        self._constants = scan.constants()
        stats.records = total
        return True

    def _staged(self) -> str:
        """SQL for the staged rows with every ROW_FIELDS column (constants added, not materialised)."""
        if not self._constants:
            return "staged"
        return "(SELECT *, " + ", ".join(f"{sql} AS {name}" for name, sql in self._constants.items()) + " FROM staged)"

    def _drop_rejects(self, name: str) -> None:
        """The rejects tables of a typed read live on the connection; each read starts with none."""
        for table in (name, name + "_scan"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")

    def _stage_nfdump_csv(self, file: Path, exporter: str | None, stats: ReadStats) -> bool:
        """DuckDB parses `nfdump -o csv` itself. First ONE parallel streaming statement straight into `staged`;
        only when it sees a rejected record (whose line the report must name) or an IPv6 record (patched from
        Python by line) is the file re-read on the ordered, line-numbered path."""
        source = (
            f"read_csv({sql_text(str(file))}, header = true, all_varchar = true, null_padding = true,"
            f" nullstr = {sql_text(_NO_NULL)}, ignore_errors = true{{parallel}})"
        )
        described = [
            row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {source.format(parallel='')}").fetchall()
        ]
        columns = set(described)
        missing = [name for name in ("ts", "te", "sa", "da", "pr", "ipkt", "ibyt") if name not in columns]
        if missing:
            stats.reject(1, f"nfdump CSV header lacks {', '.join(missing)}")
            return False
        # The header's own field count (DuckDB adds columns for longer lines): a line lacking the last field, or
        # with a value beyond it, has another count than the header, which the Python reader rejects.
        header = (first_line(file) or "").split(",")
        count = len(header) if header == described[: len(header)] else len(described)
        ends = [f'"{described[count - 1]}" IS NULL', *(f'"{name}" IS NOT NULL' for name in described[count:])]
        edges = described[count - 1 :]
        parse = _nfdump_parse_sql(columns, exporter, "(" + " OR ".join(ends) + ")")
        good = _nfdump_good_sql()
        tail_rows = _nfdump_summary_rows(file)
        if tail_rows is not None:
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE staged AS SELECT {", ".join(ROW_FIELDS)}, NOT ({good}) AS _bad
                    FROM (SELECT {parse} FROM {source.format(parallel="")} WHERE ts IS NOT NULL AND trim(ts) <> '')"""
            )
            row = self.con.execute(
                "SELECT count(*) FILTER (WHERE _bad), count(*) FILTER (WHERE ip_version = 6), count(*) FROM staged"
            ).fetchone()
            rejected, v6, total = (int(value) for value in row) if row else (0, 0, 0)
            # Every row of a trailing Summary block is unparsable; anything else unparsable needs its line.
            if rejected == tail_rows and v6 == 0:
                if rejected:
                    self.con.execute("DELETE FROM staged WHERE _bad")
                self.con.execute("ALTER TABLE staged DROP COLUMN _bad")
                stats.records = total - rejected
                return stats.records > 0
            self.con.execute("DROP TABLE staged")
        if _has_empty_line(file):
            # DuckDB skips empty lines, so row_number() would no longer be the line: the Python reader names them
            with tempfile.TemporaryDirectory(prefix="cfgwatch-ingest-") as tmp:
                return self._stage_rows(get_reader("nfdump-csv")(file, stats, exporter), Path(tmp), stats)
        wanted = [name for name in NFDUMP_CSV_COLUMNS if name in columns]
        wanted += [name for name in edges if name not in wanted]
        # Only the columns we use are materialised; row_number() over the ordered single-threaded read = line.
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_csv AS SELECT row_number() OVER () + 1 AS line, "
            + ", ".join(f'"{name}"' for name in wanted)
            + f" FROM {source.format(parallel=', parallel = false')}"
        )
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE parsed AS SELECT line, {parse}
            FROM raw_csv WHERE ts IS NOT NULL AND trim(ts) <> ''
                AND line < coalesce((SELECT min(line) FROM raw_csv WHERE starts_with(ts, 'Summary')),
                                    9223372036854775807)"""
        )
        self._patch_v6(file, stats)
        good = _nfdump_good_sql()
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
        kept = self.con.execute("SELECT count(*) FROM staged").fetchone()
        stats.records = int(kept[0]) if kept else 0
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
            spec = "{" + ", ".join(f"{sql_text(key)}: {sql_text(kind)}" for key, kind in columns.items()) + "}"
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_csv({sql_text(name)}, delim = '\t',"
                f" header = false, quote = '\"', columns = {spec})"
            )
        finally:
            Path(name).unlink(missing_ok=True)

    def _enrich_and_write(self, batch_id: str) -> tuple[tuple[str, ...], int]:
        """Drop records stored before (see `_drop_stored`), enrich per remote /24 (/48) -- the smallest routed
        prefix, so one AS lookup covers it -- plus an exact-address Tor exit join, then write Parquet by day.
        Returns the days written and how many records were already stored."""
        repeated = self._drop_stored()
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
            keys = self.con.execute(f"SELECT DISTINCT s.ip_version, {rkey} FROM {self._staged()} s").fetchall()
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
        staging = self.data_dir / f"{STAGING_PREFIX}{batch_id}"
        days = tuple(
            str(day)
            for (day,) in self.con.execute("SELECT DISTINCT CAST(time_start AS DATE) FROM staged ORDER BY 1").fetchall()
        )
        if len(days) == 1:  # one day (an nfcapd rotation, an hourly log): one file, no partitioning pass
            (staging / f"day={days[0]}").mkdir(parents=True)
            target = sql_text(str(staging / f"day={days[0]}" / f"part-{batch_id}-{uuid.uuid4()}.parquet"))
            day, layout = "", ""
        else:
            target = sql_text(str(staging))
            day, layout = (
                ", CAST(s.time_start AS DATE) AS day",
                f"PARTITION_BY (day), FILENAME_PATTERN 'part-{batch_id}-{{uuid}}',",
            )
        # A join with an empty table finds nothing: its columns are typed NULLs then (the same output types),
        # and the probe side's key expressions are not computed for every row (~12% of this statement).
        joins = ""
        joined = {"e.dst_asn": "CAST(NULL AS UINTEGER)", "e.dst_org": "CAST(NULL AS VARCHAR)"}
        joined.update({"e.dst_class": "CAST(NULL AS VARCHAR)", "t.lo": "CAST(NULL AS UBIGINT)"})
        if lookups:
            joins += f" LEFT JOIN enrich e ON e.ip_version = s.ip_version AND e.rkey = {rkey}"
            joined.update({name: name for name in ("e.dst_asn", "e.dst_org", "e.dst_class")})
        if tor_rows:
            joins += (
                " LEFT JOIN tor t ON t.ip_version = s.ip_version"
                f" AND t.hi6 = CASE WHEN s.ip_version = 6 THEN {remote['v6_hi']} ELSE 0 END"
                f" AND t.lo = CASE WHEN s.ip_version = 6 THEN {remote['v6_lo']} ELSE {remote['v4']} END"
            )
            joined["t.lo"] = "t.lo"
        self.con.execute(
            f"""COPY (SELECT {select},
                    coalesce({joined["e.dst_asn"]}, 0) AS dst_asn, coalesce({joined["e.dst_org"]}, '') AS dst_org,
                    CASE WHEN {joined["t.lo"]} IS NOT NULL THEN 'tor-exit' ELSE coalesce({joined["e.dst_class"]}, '')
                    END AS dst_class{day}
                FROM {self._staged()} s{joins})
              TO {target} (FORMAT parquet, {layout} ROW_GROUP_SIZE {ROW_GROUP_ROWS},
                COMPRESSION {PARQUET_COMPRESSION})"""
        )
        for table in ("staged", "enrich", "tor"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self._land(staging)
        return days, repeated

    def _drop_stored(self) -> int:
        """Drop staged records an earlier file already stored, and say how many.

        The ledger skips a byte-identical file; a re-export with CRLF line endings, or a file that grew (the
        same records plus new ones), has another SHA-256. A record is the same when every stored field is:
        the key is the whole record, compared only against committed files of the batch's days and
        exporters and within its time span, so the footer min/max statistics of the exporter/time-sorted
        row groups skip all but the overlapping ones (a steady stream of new files reads little). Equal
        records inside one file are all kept, as before: only a repeat across files is a re-export."""
        files, _every = self.committed_files()
        if not files:  # a new store: nothing to compare with, no pass over the batch
            return 0
        span = self.con.execute(
            "SELECT min(time_start), max(time_start), list(DISTINCT exporter),"
            " list(DISTINCT CAST(time_start AS DATE)) FROM staged"
        ).fetchone()
        if span is None or span[0] is None:
            return 0
        first, last, exporters, days = span
        wanted = {f"day={day.isoformat()}" for day in days}
        stored = [path for path in files if path.parent.name in wanted]
        if not stored:
            return 0
        # Constant columns of the batch are compared in the stored rows' filter, the others by the join.
        fields = ", ".join(name for name in ROW_FIELDS if name not in self._constants)
        same = "".join(f" AND {name} = {sql}" for name, sql in self._constants.items())
        source = "[" + ", ".join(sql_text(str(path)) for path in stored) + "]"
        names = ", ".join(sql_text(str(name)) for name in exporters)
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE fresh AS SELECT {fields} FROM staged ANTI JOIN (
                    SELECT {fields} FROM read_parquet({source}) WHERE exporter IN ({names})
                        AND time_start BETWEEN ? AND ?{same}) stored USING ({fields})""",
            [first, last],
        )
        counts = self.con.execute("SELECT (SELECT count(*) FROM staged), (SELECT count(*) FROM fresh)").fetchone()
        before, after = (int(value) for value in counts) if counts else (0, 0)
        self.con.execute("DROP TABLE staged")
        self.con.execute("ALTER TABLE fresh RENAME TO staged")
        return before - after

    def compact(self, *, max_files: int = 1) -> CompactReport:
        """Merge the committed files of every day that has more than `max_files` of them (or whose one file
        was not written by a compaction) into files sorted by exporter and time: ingest appends unsorted
        batches; sorted row groups let the exporter/time filters of the queries skip most of a day.

        Crash-safe like an ingest: the merged files are staged, landed, then ONE ledger line naming the new
        batch and the files it replaces is the commit point (readers stop seeing those files from then on);
        the replaced files are removed after it, or by the next ingest's or compaction's sweep."""
        with self._writing():
            self._sweep()
            files, _every = self.committed_files()
            compacted = {str(entry["batch"]) for entry in self._entries() if entry.get("compaction")}
            by_day: dict[str, list[Path]] = {}
            for part in files:
                by_day.setdefault(part.parent.name, []).append(part)
            batch_id = uuid.uuid4().hex[:12]
            staging = self.data_dir / f"{STAGING_PREFIX}{batch_id}"
            replaced: list[Path] = []
            rows = 0
            columns = ", ".join(f"CAST({column.name} AS {column.duckdb}) AS {column.name}" for column in COLUMNS)
            for _day, parts in sorted(by_day.items()):
                match = _PART_BATCH.match(parts[0].name)
                if len(parts) <= max_files and match is not None and match.group(1) in compacted:
                    continue
                source = "[" + ", ".join(sql_text(str(path)) for path in parts) + "]"
                written = self.con.execute(
                    f"""COPY (SELECT {columns} FROM read_parquet({source}, hive_partitioning = true)
                            ORDER BY exporter, time_start)
                        TO {sql_text(str(staging))} (FORMAT parquet, PARTITION_BY (day), APPEND true,
                          ROW_GROUP_SIZE {ROW_GROUP_ROWS}, FILENAME_PATTERN 'part-{batch_id}-{{uuid}}',
                          COMPRESSION {PARQUET_COMPRESSION})"""
                ).fetchone()
                rows += int(written[0]) if written else 0
                replaced.extend(parts)
            if not replaced:
                return CompactReport(0, 0, 0)
            self._land(staging)
            names = [f"{part.parent.name}/{part.name}" for part in replaced]
            at = datetime.now(UTC).isoformat(timespec="seconds")
            self._append_ledger({"batch": batch_id, "compaction": True, "replaces": names, "at": at})
            for part in replaced:
                part.unlink(missing_ok=True)
            days = len({part.parent.name for part in replaced})
            return CompactReport(days, len(replaced), rows)

    def _land(self, staging: Path) -> None:
        """Move a written batch into the day directories: fsync each file, rename it (atomic on one
        filesystem), fsync the directories, so a reader sees a whole file or none."""
        directories: set[Path] = set()
        for part in sorted(staging.glob("day=*/*.parquet")):
            with part.open("rb") as handle:
                os.fsync(handle.fileno())
            day_dir = self.data_dir / part.parent.name
            day_dir.mkdir(exist_ok=True)
            os.replace(part, day_dir / part.name)
            directories.add(day_dir)
        for directory in (*sorted(directories), self.data_dir):
            descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class CompactReport:
    """What one compaction did: days rewritten, files merged, rows written."""

    days: int
    files: int
    rows: int


def compact_store(root: Path) -> CompactReport:
    """Compact the Parquet flow store under `root` (see `ParquetIngest.compact`): for the nightly job."""
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        return ParquetIngest(con, Path(root), Enricher()).compact()
    finally:
        con.close()


def _whole_parquet(path: Path) -> bool:
    """The file starts and ends with the Parquet magic (a write cut short lacks the footer)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            if handle.seek(0, os.SEEK_END) < 12:
                return False
            handle.seek(-4, os.SEEK_END)
            return head == b"PAR1" and handle.read(4) == b"PAR1"
    except OSError:
        return False


def _sha256(path: Path) -> tuple[str, int]:
    """(SHA-256 hex digest, bytes hashed) of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _skipped(file: Path, format_name: str, digest: str, previous: dict[str, Any]) -> IngestReport:
    """The report of a file whose content the ledger holds: nothing read, nothing added."""
    return IngestReport(str(file), format_name, 0, 0, skipped=True, sha256=digest, days=tuple(previous.get("days", ())))
