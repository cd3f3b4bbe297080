"""What every flow reader shares: the row layout, bad-record accounting and the `FlowFormat` a reader is
registered as (entry-point group `cfgwatch.flow_formats`).

A reader is a generator of rows (tuples in `ROW_FIELDS` order, times as integer microseconds since the
epoch, UTC) that never holds more than one input record (or one JSON document) in memory. Bad records
are counted in `ReadStats` with "file:line: reason" and skipped; a reader never aborts the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from cfgwatch.flows.schema import RECORD_COLUMNS, Action, Direction, encode_address

# Rows carry every stored column except the enrichment columns (added at ingest) and the partition key.
ENRICHMENT_FIELDS = ("dst_asn", "dst_org", "dst_class")
ROW_FIELDS: tuple[str, ...] = tuple(name for name in RECORD_COLUMNS if name not in ENRICHMENT_FIELDS)
Row = tuple[int | str, ...]
MAX_BAD_SAMPLES = 20
# Counters are stored as UBIGINT (IPFIX octetDeltaCount is unsigned64): a bigger one is a corrupt record.
MAX_COUNTER = (1 << 64) - 1
# Flow times outside [1970-01-01, 2100-01-01) UTC are corrupt (a flipped bit gives `day=33658-09-27`):
# the record is rejected. 1970-01-01 stays in: exporters without a clock stamp epoch 0, and that is shown.
MIN_TIME_US = 0
MAX_TIME_US = 4_102_444_800 * 1_000_000


@dataclass
class ReadStats:
    """Running counts for one file; bad records keep a few samples naming file and line."""

    path: str
    records: int = 0
    bad: int = 0
    samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs and oddities that lost nothing

    def reject(self, line: int | None, reason: str) -> None:
        self.bad += 1
        if len(self.samples) < MAX_BAD_SAMPLES:
            where = f"{self.path}:{line}" if line is not None else self.path
            self.samples.append(f"{where}: {reason}")


Reader = Callable[[Path, ReadStats, str | None], Iterator[Row]]


@dataclass(frozen=True, slots=True)
class FlowFormat:
    """A flow export format as registered under `cfgwatch.flow_formats`: its reader, and for formats whose
    files may come without a header (AWS VPC custom formats), the reader for a given field order."""

    read: Reader
    with_fields: Callable[[tuple[str, ...]], Reader] | None = None


class RecordError(ValueError):
    """One record cannot be used; the reader counts it and moves on."""


def _time_text(value: int) -> str:
    try:
        return datetime.fromtimestamp(value / 1_000_000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{value} us since the epoch"


def load_json(text: str) -> Any:
    """json.loads, where nesting deeper than the interpreter's recursion limit is a JSONDecodeError (which
    every reader reports with file:line) instead of a RecursionError that would abort the file."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", text, 0) from None


def micros(moment: datetime) -> int:
    """A datetime (naive = UTC) as integer microseconds since the epoch."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


_MICRO = Decimal("0.000001")


def epoch_micros(value: float | int | str) -> int:
    """Seconds (int/float/text) since the epoch -> microseconds; raises RecordError on junk.

    The one rule (the DuckDB scans of `formats.native` compute the same): the exact decimal value of the text
    rounded half to even to the microsecond. Not float arithmetic: `float(text) * 1e6` is off by one for
    about 2% of 7-digit fractions at today's epoch (1.7e15 has an ulp of 0.25). A float (a JSON number) is
    taken as its shortest repr, the text it was most likely written as."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1_000_000
    try:
        exact = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        return int(exact.quantize(_MICRO, rounding=ROUND_HALF_EVEN).scaleb(6))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RecordError(f"bad timestamp {value!r}") from exc


def iso_micros(text: str) -> int:
    """RFC 3339 text (nanoseconds and 'Z' allowed) -> microseconds since the epoch."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # Python parses at most 6 fractional digits: trim nanoseconds.
    if "." in value:
        head, _, tail = value.partition(".")
        digits = ""
        rest = ""
        for index, char in enumerate(tail):
            if not char.isdigit():
                rest = tail[index:]
                break
            digits += char
        value = f"{head}.{digits[:6]}{rest}"
    try:
        return micros(datetime.fromisoformat(value))
    except ValueError as exc:
        raise RecordError(f"bad timestamp {text!r}") from exc


def to_int(value: object, what: str, default: int | None = None) -> int:
    """Integer field; '-' / '' / None give `default` (or raise when there is none)."""
    if value is None or value in ("", "-"):
        if default is None:
            raise RecordError(f"missing {what}")
        return default
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        try:
            return int(float(str(value)))
        except (ValueError, OverflowError) as exc:
            raise RecordError(f"bad {what} {value!r}") from exc


def addr(text: object, what: str) -> tuple[int, int, int, int]:
    if not isinstance(text, str) or not text or text == "-":
        raise RecordError(f"missing {what} address")
    try:
        return encode_address(text)
    except ValueError as exc:
        raise RecordError(f"bad {what} address {text!r}") from exc


def opt_addr(text: object) -> tuple[int, int, int]:
    """Optional post-NAT address -> (v4, v6_hi, v6_lo); zeros when absent or unparsable-as-absent."""
    if not isinstance(text, str) or not text or text in ("-", "0.0.0.0", "::"):
        return 0, 0, 0
    try:
        _version, v4, hi, lo = encode_address(text)
    except ValueError as exc:
        raise RecordError(f"bad post-NAT address {text!r}") from exc
    return v4, hi, lo


def make_row(
    *,
    time_start: int,
    time_end: int,
    exporter: str,
    src: str,
    dst: str,
    src_port: int = 0,
    dst_port: int = 0,
    proto: int = 0,
    packets: int = 0,
    bytes_: int = 0,
    rev_packets: int = 0,
    rev_bytes: int = 0,
    in_if: int = 0,
    out_if: int = 0,
    tcp_flags: int = 0,
    direction: Direction = Direction.UNKNOWN,
    action: Action = Action.UNKNOWN,
    nat_src: object = None,
    nat_dst: object = None,
    nat_src_port: int = 0,
    nat_dst_port: int = 0,
) -> Row:
    """Build one row in `ROW_FIELDS` order; raises RecordError for unusable values."""
    src_version, src_v4, src_hi, src_lo = addr(src, "source")
    dst_version, dst_v4, dst_hi, dst_lo = addr(dst, "destination")
    if src_version != dst_version:
        raise RecordError(f"source {src} and destination {dst} are different address families")
    for value, what, limit in (
        (src_port, "source port", 0xFFFF),
        (dst_port, "destination port", 0xFFFF),
        (nat_src_port, "post-NAT source port", 0xFFFF),
        (nat_dst_port, "post-NAT destination port", 0xFFFF),
        (proto, "protocol", 0xFF),
        (tcp_flags, "tcp flags", 0xFF),
        (in_if, "input interface", 0xFFFFFFFF),
        (out_if, "output interface", 0xFFFFFFFF),
    ):
        if not 0 <= value <= limit:
            raise RecordError(f"{what} {value} out of range")
    for value, what in (
        (packets, "packets"),
        (bytes_, "bytes"),
        (rev_packets, "reverse packets"),
        (rev_bytes, "reverse bytes"),
    ):
        if value < 0:
            raise RecordError("negative counter")
        if value > MAX_COUNTER:
            raise RecordError(f"{what} counter {value} exceeds 2^64-1")
    if not MIN_TIME_US <= time_start < MAX_TIME_US:
        raise RecordError(f"start time {_time_text(time_start)} outside 1970-01-01..2099-12-31")
    if time_end >= MAX_TIME_US:
        raise RecordError(f"end time {_time_text(time_end)} outside 1970-01-01..2099-12-31")
    if time_end < time_start:
        time_end = time_start
    nat_src_v4, nat_src_hi, nat_src_lo = opt_addr(nat_src)
    nat_dst_v4, nat_dst_hi, nat_dst_lo = opt_addr(nat_dst)
    return (
        time_start,
        time_end,
        exporter,
        in_if,
        out_if,
        src_version,
        src_v4,
        src_hi,
        src_lo,
        dst_v4,
        dst_hi,
        dst_lo,
        src_port,
        dst_port,
        proto,
        tcp_flags,
        packets,
        bytes_,
        rev_packets,
        rev_bytes,
        int(direction),
        int(action),
        nat_src_v4,
        nat_src_hi,
        nat_src_lo,
        nat_dst_v4,
        nat_dst_hi,
        nat_dst_lo,
        nat_src_port,
        nat_dst_port,
    )


PROTO_NAMES = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmp6": 58, "ipv6-icmp": 58, "sctp": 132}


def proto_number(value: object) -> int:
    """Protocol as number or name (tcp, udp, icmp ...)."""
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    if text in PROTO_NAMES:
        return PROTO_NAMES[text]
    raise RecordError(f"unknown protocol {value!r}")


def need_exporter(exporter: str | None, fallback: str) -> str:
    """The exporter name: --exporter when given, else what the record carries (`fallback`)."""
    return exporter or fallback
