"""DuckDB-native scans of the line formats (nfdump CSV, Zeek conn.log TSV, AWS VPC text): one parallel
`read_csv` with explicit column types, converted to `ROW_FIELDS` in SQL.

Why: the Python readers hold one record at a time and reach ~0.05-0.1 M rows/s; DuckDB's CSV reader runs on
every core. The Python readers stay the reference semantics. A scan marks every row it cannot vouch for as
`_odd` (IPv6, a non-canonical address, an unknown protocol name, a value out of range, a time outside
1970..2099) and every line `read_csv` rejects (a field count or a type that does not fit) lands in its
rejects table: then the caller drops the scan and reads the file on the exact path, which names each bad
record's line. So a clean file is read once by DuckDB, and a file with anything odd gives the same rows,
counts and samples as before.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cfgwatch.flows.formats.base import MAX_TIME_US, MIN_TIME_US, PROTO_NAMES, ROW_FIELDS
from cfgwatch.flows.schema import COLUMNS

_TYPES = {column.name: column.duckdb for column in COLUMNS}
# Columns that a scan leaves at 0 unless its format sets them.
_ZERO_FIELDS = {name: "0" for name in ROW_FIELDS}
HEAD_BYTES = 1 << 16


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (Zeek and AWS field names carry dots and dashes)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class NativeScan:
    """One typed `read_csv` of a flow file and the SQL turning its columns into `ROW_FIELDS`.

    `fields` are the file's columns in order (name, DuckDB type); `lists` names VARCHAR address columns that
    get a companion `_l_<name>` (`octets_sql`) for the IPv4 conversion; `rows` maps every
    ROW_FIELDS name to SQL; `odd` is the SQL boolean of a row the exact path must read; `keep` filters rows
    that are no record and no error (AWS NODATA); `summary` says the file may end in nfdump's Summary block.
    """

    fields: tuple[tuple[str, str], ...]
    options: str
    rows: dict[str, str]
    odd: str
    lists: tuple[str, ...] = ()
    keep: str = "true"
    summary: bool = False
    join: str = ""
    computed: tuple[tuple[str, str], ...] = ()

    def constants(self) -> dict[str, str]:
        """Numeric ROW_FIELDS this format never sets, as typed SQL literals: they are not materialised at
        staging (the time and exporter columns always are: the batch's statistics read them)."""
        return {name: f"CAST({self.rows[name]} AS {_TYPES[name]})" for name in ROW_FIELDS if self.rows[name].isdigit()}

    def source(self, file: Path, rejects: str) -> str:
        """The read_csv call: every rejected line goes to `rejects` (line numbers are exact in parallel)."""
        spec = "{" + ", ".join(f"{sql_text(name)}: {sql_text(kind)}" for name, kind in self.fields) + "}"
        return (
            f"read_csv({sql_text(str(file))}, columns = {spec}, auto_detect = false, {self.options},"
            f" store_rejects = true, rejects_table = {sql_text(rejects)},"
            f" rejects_scan = {sql_text(rejects + '_scan')}, rejects_limit = {REJECTS_LIMIT})"
        )

    def select(self, file: Path, rejects: str) -> str:
        """SELECT of the ROW_FIELDS that vary (see `constants`) plus `_odd` over the file."""
        lists = "".join(f", {octets_sql(name)} AS {ident('_l_' + name)}" for name in self.lists)
        lists += "".join(f", {sql} AS {ident(name)}" for name, sql in self.computed)
        constant = self.constants()
        columns = ", ".join(
            f"TRY_CAST({self.rows[name]} AS {_TYPES[name]}) AS {name}" for name in ROW_FIELDS if name not in constant
        )
        return (
            f"SELECT {columns}, coalesce({self.odd}, true) AS _odd"
            f" FROM (SELECT *{lists} FROM {self.source(file, rejects)}){self.join} WHERE {self.keep}"
        )


# A file with more rejected lines than this is read on the exact path (which counts them all).
REJECTS_LIMIT = 10_000


# The shape of a dotted quad: four runs of 1-3 ASCII digits. The octet range and leading zeros are checked on
# the integers (`v4_sql`), a third cheaper than one RE2 match of the canonical form (a quarter of a clean scan).
_QUAD_SHAPE = "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"


def octets_sql(column: str) -> str:
    """The companion list `_l_<column>` of `v4_sql`: the four octets as UTINYINT (NULL when > 255)."""
    return f"TRY_CAST(string_split({ident(column)}, '.') AS UTINYINT[])"


def v4_sql(column: str) -> tuple[str, str]:
    """(UINTEGER value, canonical-dotted-quad check) for VARCHAR `column` with companion `_l_<column>`
    (`octets_sql`).

    Canonical (as `ipaddress` accepts and prints it back) = the shape, every octet <= 255 (TRY_CAST gives
    NULL above), and no leading zero: the text is exactly as long as the octets in decimal plus three dots.
    The shape check comes first: a cast alone would take '1e2' or '+1' as a number."""
    octets = ident("_l_" + column)
    digits = " + ".join(
        f"({octets}[{index}] >= 10)::UINTEGER + ({octets}[{index}] >= 100)::UINTEGER" for index in range(1, 5)
    )
    valid = (
        f"coalesce(regexp_full_match({ident(column)}, '{_QUAD_SHAPE}')"
        f" AND length({ident(column)}) = 7 + {digits}, false)"
    )
    value = (
        f"(CASE WHEN {valid} THEN CAST({octets}[1] AS UINTEGER) * 16777216 + CAST({octets}[2] AS UINTEGER) * 65536"
        f" + CAST({octets}[3] AS UINTEGER) * 256 + {octets}[4] END)"
    )
    return value, valid


def _v4_pair(rows: dict[str, str], source: str, destination: str) -> list[str]:
    """Set the IPv4 address columns from two text columns; returns the odd conditions (IPv6 is odd too)."""
    src, src_ok = v4_sql(source)
    dst, dst_ok = v4_sql(destination)
    rows.update(ip_version="4", src_v4=src, dst_v4=dst)
    return [f"NOT {src_ok}", f"NOT {dst_ok}"]


def _times_ok(start: str, end: str) -> str:
    return (
        f"coalesce({start} >= make_timestamp({MIN_TIME_US}) AND {start} < make_timestamp({MAX_TIME_US})"
        f" AND {end} < make_timestamp({MAX_TIME_US}), false)"
    )


def _micros_ok(start: str, end: str) -> str:
    """Integer microseconds within what `formats.base.make_row` accepts."""
    return f"coalesce({start} >= {MIN_TIME_US} AND {start} < {MAX_TIME_US} AND {end} < {MAX_TIME_US}, false)"


def _stamp(micros: str) -> str:
    """TIMESTAMP of integer microseconds, clamped into range (an odd row is dropped, but must not abort)."""
    return f"make_timestamp(least(greatest({micros}, {MIN_TIME_US}), {MAX_TIME_US}))"


# Seconds as text with at most this many fractional digits fit DECIMAL(18, 7) exactly (10 integer digits reach
# 2100): the cast loses nothing, so the rounding to microseconds is done once, on the exact value.
_FRACTION_DIGITS = 7


def _micros(seconds: str) -> str:
    """Epoch seconds (VARCHAR) -> integer microseconds by `formats.base.epoch_micros`'s rule: the exact decimal
    value of the text rounded half to even. NULL (an odd row: the exact path reads it) for text the rule
    cannot take exactly here: more fractional digits than DECIMAL(18, 7) holds, an exponent, or no number."""
    exact = (
        f"(CASE WHEN length(split_part({seconds}, '.', 2)) <= {_FRACTION_DIGITS}"
        f" AND NOT regexp_matches({seconds}, '[eE_]') THEN TRY_CAST({seconds} AS DECIMAL(18, {_FRACTION_DIGITS})) END)"
    )
    micros = f"round_even({exact}, 6)"
    # whole seconds and the fraction scaled apart: DECIMAL(18, 6) * 10^6 in one step would overflow
    decimal = (
        f"(TRY_CAST(trunc({micros}) AS BIGINT) * 1000000 + TRY_CAST(({micros} - trunc({micros})) * 1000000 AS BIGINT))"
    )
    # The common case, at most 6 fractional digits and no exponent, is exact in DOUBLE (a fifth of the CPU):
    # below 2^32 s the parse errs by <= 0.24 us and the product by <= 0.25 us, so rounding gives the integer.
    rare = (
        f"strpos({seconds}, '.') BETWEEN 1 AND length({seconds}) - 7"
        f" OR contains({seconds}, 'e') OR contains({seconds}, 'E')"
    )
    return (
        f"(CASE WHEN {rare} THEN {decimal}"
        f" ELSE TRY_CAST(round_even(TRY_CAST({seconds} AS DOUBLE) * 1000000.0, 0) AS BIGINT) END)"
    )


def flags_sql(text: str) -> str:
    """TCP flags as `formats.readers._tcp_flags` reads nfdump's `flg` text: 0x.. hex, decimal digits, or the
    8 flag letters (CEUAPRSF, '.' unset; only the last 8 characters count). NULL when hex/digits do not parse;
    a value above 255 is the caller's to reject (the Python reader rejects it)."""
    flag = f"trim({text})"
    letters = " + ".join(
        f"(CASE WHEN substr(lpad(right({flag}, 8), 8, '.'), {i + 1}, 1) <> '.' THEN {1 << (7 - i)} ELSE 0 END)"
        for i in range(8)
    )
    return (
        f"(CASE WHEN starts_with({flag}, '0x') THEN TRY_CAST({flag} AS UBIGINT)"
        f" WHEN regexp_full_match({flag}, '[0-9]+') THEN TRY_CAST({flag} AS UBIGINT) ELSE {letters} END)"
    )


def _proto_names(text: str) -> str:
    """Protocol number from a lower-cased name (`base.PROTO_NAMES`) or decimal digits; NULL otherwise."""
    names = " ".join(f"WHEN {sql_text(name)} THEN {number}" for name, number in PROTO_NAMES.items())
    digits = f"TRY_CAST({text} AS UTINYINT)"
    canonical = f"CASE WHEN CAST({digits} AS VARCHAR) = {text} THEN {digits} END"
    return f"(CASE lower({text}) {names} ELSE {canonical} END)"


def _head(file: Path) -> bytes:
    with file.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def first_line(file: Path) -> str | None:
    """The first line when it is whole within the head and plain UTF-8 text, else None."""
    head = _head(file)
    end = head.find(b"\n")
    if end < 0:
        return None
    try:
        return head[:end].rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- nfdump CSV -----------------------------------------------------------------------------------------

_NFDUMP_TYPES = {
    "ts": "TIMESTAMP",
    "te": "TIMESTAMP",
    "sp": "USMALLINT",
    "dp": "DOUBLE",
    "ipkt": "UBIGINT",
    "ibyt": "UBIGINT",
    "opkt": "UBIGINT",
    "obyt": "UBIGINT",
    "in": "UINTEGER",
    "out": "UINTEGER",
    "dir": "UTINYINT",
}
_NFDUMP_REQUIRED = ("ts", "te", "sa", "da", "pr", "ipkt", "ibyt")


def nfdump_csv_scan(file: Path, exporter: str | None) -> NativeScan | None:
    """`nfdump -o csv` with its header on line 1. Rows mean what the line-numbered SQL path of
    `duckdb_ingest` makes of them (that path reads every file this scan does not vouch for)."""
    header = first_line(file)
    if header is None or not header.startswith("ts,"):
        return None
    names = header.split(",")
    if len(set(names)) != len(names) or any(name not in names for name in _NFDUMP_REQUIRED):
        return None
    fields = tuple((name, _NFDUMP_TYPES.get(name, "VARCHAR")) for name in names)

    def col(name: str, default: str = "0") -> str:
        return ident(name) if name in names else default

    common = {"TCP": 6, "UDP": 17, "ICMP": 1}
    proto = (
        "CASE pr "
        + " ".join(f"WHEN '{name}' THEN {number}" for name, number in common.items())
        + " ELSE CASE upper(trim(pr)) WHEN 'TCP' THEN 6 WHEN 'UDP' THEN 17 WHEN 'ICMP' THEN 1 WHEN 'ICMP6' THEN 58"
        " WHEN 'GRE' THEN 47 WHEN 'ESP' THEN 50 ELSE TRY_CAST(trim(pr) AS UTINYINT) END END"
    )
    dst_port = f"TRY_CAST(trunc({col('dp', 'NULL')}) AS USMALLINT)"
    rows = dict(_ZERO_FIELDS)
    flg_text = f"coalesce({ident('flg')}, '')"
    addresses = _v4_pair(rows, "sa", "da")
    rows.update(
        time_start="ts",
        time_end="greatest(te, ts)",  # as `base.make_row`: an end before the start is the start
        exporter=sql_text(exporter) if exporter else f"coalesce(trim({col('ra', 'NULL')}), 'unknown')",
        in_if=f"TRY_CAST({col('in', 'NULL')} AS UINTEGER)",
        out_if=f"TRY_CAST({col('out', 'NULL')} AS UINTEGER)",
        src_port=col("sp", "0"),
        dst_port=dst_port,
        proto=f"({proto})",
        packets="ipkt",
        bytes="ibyt",
        rev_packets=f"coalesce({col('opkt')}, 0)",
        rev_bytes=f"coalesce({col('obyt')}, 0)",
        direction=f"coalesce({col('dir', 'NULL')} + 1, 0)",
        tcp_flags=(
            f"(CASE WHEN _flg._value IS NOT NULL THEN _flg._value ELSE {flags_sql(flg_text)} END)"
            if "flg" in names
            else "0"
        ),
    )
    # In the SQL path an empty sp, in or out is NULL (stored as such), a dp of 1e3 is 1000: mirror, or leave.
    odd = " OR ".join(
        (
            *addresses,
            f"NOT {_times_ok('ts', 'te')}",
            f"({proto}) IS NULL",
            f"{dst_port} IS NULL",
            "ipkt IS NULL",
            "ibyt IS NULL",
            f"coalesce({rows['tcp_flags']} > 255, true)",
            f"coalesce({col('dir', '0')} > 1, false)",
            *(f"{ident(name)} IS NULL" for name in ("sp", "in", "out") if name in names),
        )
    )
    options = "header = true, delim = ',', quote = '\"', escape = '\"'"
    # nfdump prints the flags as 8 letters or dots: a lookup of those 256 texts costs a fifth of the per-row
    # expression (which reads any other text)
    join = f" LEFT JOIN {_FLAG_TABLE} ON {ident('flg')} = _flg._text" if "flg" in names else ""
    return NativeScan(fields, options, rows, odd, lists=("sa", "da"), keep="ts IS NOT NULL", summary=True, join=join)


def _flag_texts() -> str:
    rows = []
    for value in range(256):
        text = "".join(letter if value & (1 << (7 - i)) else "." for i, letter in enumerate(NFDUMP_FLAG_LETTERS))
        rows.append(f"({sql_text(text)}, {value})")
    return "(VALUES " + ", ".join(rows) + ") AS _flg(_text, _value)"


NFDUMP_FLAG_LETTERS = "CEUAPRSF"
_FLAG_TABLE = _flag_texts()


# -- Zeek conn.log ----------------------------------------------------------------------------------------

_ZEEK_TYPES = {
    "id.orig_p": "USMALLINT",
    "id.resp_p": "USMALLINT",
    "orig_pkts": "UBIGINT",
    "resp_pkts": "UBIGINT",
    "orig_bytes": "UBIGINT",
    "resp_bytes": "UBIGINT",
    "orig_ip_bytes": "UBIGINT",
    "resp_ip_bytes": "UBIGINT",
    "ip_proto": "UBIGINT",
}


def _zeek_header(file: Path) -> tuple[list[str], int, str, int] | None:
    """(#fields names, bytes of the header lines, unset string, rows to skip) of a tab-separated conn.log.

    `read_csv(comment = '#')` drops the # lines itself and counts `skip` in the rows left: 1 for zeek-cut's
    name row."""
    head = _head(file)
    fields: list[str] | None = None
    unset = "-"
    offset = 0
    while (end := head.find(b"\n", offset)) >= 0:
        line = head[offset:end].rstrip(b"\r").decode("utf-8", errors="replace")
        if not line.startswith("#"):
            if fields is None and line.split("\t")[0] == "ts":  # zeek-cut: a name row instead of #fields
                return line.split("\t"), end + 1, unset, 1
            break
        offset = end + 1
        if line.startswith("#separator"):
            if line.split(" ", 1)[-1].strip() != "\\x09":
                return None
        elif line.startswith("#unset_field"):
            unset = line.split("\t", 1)[1] if "\t" in line else "-"
        elif line.startswith("#fields"):
            fields = line.split("\t")[1:]
    return (fields, offset, unset, 0) if fields else None


def _header_later(file: Path, start: int) -> bool:
    """Whether a header line other than #close, or a JSON line, follows byte `start` (a second #fields
    header changes the columns; the Python reader follows it). One-byte finds (memchr speed: a two-byte
    pattern stops at every newline) for '{' and '#', then a look at the byte before each."""
    if file.stat().st_size <= start:
        return False
    with file.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        at = view.find(b"{", start)
        while at >= 0:
            if view[at - 1 : at] == b"\n":
                return True
            at = view.find(b"{", at + 1)
        at = view.find(b"#", start)
        while at >= 0:
            if view[at - 1 : at] == b"\n" and view[at : at + 6] != b"#close":
                return True
            at = view.find(b"#", at + 1)
    return False


def zeek_conn_scan(file: Path, exporter: str | None) -> NativeScan | None:
    """Zeek conn.log as TSV (#fields headers or a zeek-cut name row); JSON lines go the exact path."""
    found = _zeek_header(file)
    if found is None:
        return None
    names, offset, unset, skip = found
    if len(set(names)) != len(names) or _header_later(file, offset):
        return None
    if unset in ("", "(empty)") or any(name not in names for name in ("ts", "id.orig_h", "id.resp_h")):
        return None
    fields = tuple((name, _ZEEK_TYPES.get(name, "VARCHAR")) for name in names)

    def col(name: str) -> str:
        return ident(name) if name in names else "NULL"

    computed = (("_us_start", _micros(col("ts"))), ("_us_duration", _micros(col("duration"))))
    start, duration = ident("_us_start"), ident("_us_duration")
    end = f"({start} + coalesce({duration}, 0))"
    proto_text = f"coalesce(nullif({col('proto')}, ''), '0')"
    named = _proto_names(proto_text)
    proto = f"coalesce({col('ip_proto')}, {named})"
    icmp = f"({proto}) IN (1, 58)"
    orig_p = f"coalesce({col('id.orig_p')}, 0)"
    resp_p = f"coalesce({col('id.resp_p')}, 0)"
    resp_port = f"(CASE WHEN {icmp} THEN CAST({orig_p} AS UINTEGER) * 256 + {resp_p} ELSE {resp_p} END)"
    rows = dict(_ZERO_FIELDS)
    addresses = _v4_pair(rows, "id.orig_h", "id.resp_h")
    rows.update(
        time_start=_stamp(start),
        time_end=_stamp(f"greatest({end}, {start})"),
        exporter=sql_text(exporter or "zeek"),
        src_port=f"(CASE WHEN {icmp} THEN 0 ELSE {orig_p} END)",
        dst_port=resp_port,
        proto=proto,
        packets=f"coalesce({col('orig_pkts')}, 0)",
        bytes=f"coalesce({col('orig_ip_bytes')}, {col('orig_bytes')}, 0)",
        rev_packets=f"coalesce({col('resp_pkts')}, 0)",
        rev_bytes=f"coalesce({col('resp_ip_bytes')}, {col('resp_bytes')}, 0)",
    )
    odd = " OR ".join(
        (
            *addresses,
            f"{start} IS NULL",
            f"({col('duration')} IS NOT NULL AND {duration} IS NULL)",
            f"NOT {_micros_ok(start, end)}",
            f"{named} IS NULL",
            f"coalesce(({proto}) > 255, true)",
            f"{resp_port} > 65535",
        )
    )
    # nullstr: Zeek's unset and empty markers are None to the Python reader; '' stays a (rejected) value.
    options = (
        f"header = false, skip = {skip}, delim = '\\t', quote = '', escape = '', comment = '#',"
        f" nullstr = [{sql_text(unset)}, '(empty)']"
    )
    return NativeScan(fields, options, rows, odd, lists=("id.orig_h", "id.resp_h"), computed=computed)


# -- AWS VPC flow logs --------------------------------------------------------------------------------------

_AWS_TYPES = {
    "srcport": "UBIGINT",
    "dstport": "UBIGINT",
    "protocol": "UBIGINT",
    "packets": "UBIGINT",
    "bytes": "UBIGINT",
    "tcp-flags": "UBIGINT",
}
# Printable ASCII and line ends: a file with any other byte (a tab, another separator Python's str.split()
# honours, a control character, non-ASCII text) is read by the Python reader, which splits as AWS means.
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n\r"
CHUNK = 1 << 22


def _plain_text(file: Path) -> bool:
    """Whether the file holds only `_PLAIN` bytes and every CR ends a line (one C-speed pass per chunk)."""
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if chunk.endswith(b"\r"):
                chunk += handle.read(1)
            if chunk.translate(None, _PLAIN) or (b"\r" in chunk and chunk.count(b"\r") != chunk.count(b"\r\n")):
                return False
    return True


def aws_vpc_scan(file: Path, exporter: str | None, aws_fields: Sequence[str] | None) -> NativeScan | None:
    """AWS VPC / Transit Gateway flow logs in S3 text form (header line, `aws_fields`, or the v2 default)."""
    from cfgwatch.flows.formats.readers import AWS_V2_FIELDS

    first = first_line(file)
    if first is None or first[:1] in ("{", "[") or not first.strip() or not _plain_text(file):
        return None
    parts = first.split()
    header = bool(parts) and parts[0] == "version"
    names = parts if header else list(aws_fields or AWS_V2_FIELDS)
    if len(set(names)) != len(names) or "start" not in names or ("srcaddr" not in names or "dstaddr" not in names):
        return None
    fields = tuple((name, _AWS_TYPES.get(name, "VARCHAR")) for name in names)

    def col(name: str) -> str:
        return ident(name) if name in names else "NULL"

    def text(name: str) -> str:
        """A VARCHAR field as the Python reader sees it: nullstr made '-' NULL (str.split() gives no other)."""
        return f"coalesce({ident(name)}, '-')" if name in names else "NULL"

    computed = (("_us_start", _micros(col("start"))), ("_us_end", _micros(col("end")) if "end" in names else "NULL"))
    start = ident("_us_start")
    end = ident("_us_end") if "end" in names else start
    given = sql_text(exporter) if exporter else "NULL"
    if "interface-id" in names:
        tgw = f"coalesce({given}, {text('tgw-attachment-id')}, {text('tgw-id')}, 'aws')"
        device = (
            f"CASE WHEN {text('interface-id')} <> '-' THEN coalesce({given}, {text('interface-id')}) ELSE {tgw} END"
        )
    else:
        device = f"coalesce({given}, {text('tgw-attachment-id')}, {text('tgw-id')}, 'aws')"
    lists = ["srcaddr", "dstaddr"]
    rows = dict(_ZERO_FIELDS)
    addresses = _v4_pair(rows, "srcaddr", "dstaddr")
    rows.update(
        time_start=_stamp(start),
        time_end=_stamp(f"greatest({end}, {start})"),
        exporter=f"coalesce(nullif({device}, ''), 'aws')",
        src_port=f"TRY_CAST(coalesce({col('srcport')}, 0) AS USMALLINT)",
        dst_port=f"TRY_CAST(coalesce({col('dstport')}, 0) AS USMALLINT)",
        proto=f"TRY_CAST(coalesce({col('protocol')}, 0) AS UTINYINT)",
        tcp_flags=f"CAST(coalesce({col('tcp-flags')}, 0) & 255 AS UTINYINT)",
        packets=f"coalesce({col('packets')}, 0)",
        bytes=f"coalesce({col('bytes')}, 0)",
        direction=f"CASE {text('flow-direction')} WHEN 'ingress' THEN 1 WHEN 'egress' THEN 2 ELSE 0 END",
        action=f"CASE {text('action')} WHEN 'ACCEPT' THEN 1 WHEN 'REJECT' THEN 2 ELSE 0 END",
    )
    odd_parts = [
        *addresses,
        f"{start} IS NULL",
        f"{end} IS NULL",
        f"NOT {_micros_ok(start, end)}",
        *(f"{rows[name]} IS NULL" for name in ("src_port", "dst_port", "proto")),
    ]
    for side in ("src", "dst"):
        nat = f"pkt-{side}addr"
        if nat in names:
            lists.append(nat)
            value, ok = v4_sql(nat)
            raw = text(nat)
            present = f"{raw} NOT IN ('-', {text(side + 'addr')}, '0.0.0.0')"
            rows[f"nat_{side}_v4"] = f"(CASE WHEN {present} THEN {value} ELSE 0 END)"
            odd_parts.append(f"({present} AND NOT {ok})")
    status = f"coalesce({text('log-status')}, 'OK')"
    keep = f"NOT ({status} IN ('NODATA', 'SKIPDATA') OR ({text('srcaddr')} = '-' AND {text('dstaddr')} = '-'))"
    options = f"header = false, skip = {1 if header else 0}, delim = ' ', quote = '', escape = '', nullstr = ['-']"
    return NativeScan(fields, options, rows, " OR ".join(odd_parts), lists=tuple(lists), keep=keep, computed=computed)


def native_scan(
    format_name: str, file: Path, exporter: str | None, aws_fields: Sequence[str] | None = None
) -> NativeScan | None:
    """The DuckDB scan for a built-in line format, or None (another format, or a layout it does not cover)."""
    if format_name == "nfdump-csv":
        return nfdump_csv_scan(file, exporter)
    if format_name == "zeek-conn":
        return zeek_conn_scan(file, exporter)
    if format_name == "aws-vpc":
        return aws_vpc_scan(file, exporter, aws_fields)
    return None
