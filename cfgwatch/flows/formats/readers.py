"""Readers for every supported flow export format. Each yields rows (see `base.ROW_FIELDS`).

Streaming: line formats (nfdump CSV, AWS, Zeek, NDJSON) hold one line at a time; nfdump's pretty
JSON is cut at its object boundaries; single-document JSON (Azure NSG blobs, a pretty GCP LogEntry,
a CloudWatch envelope) holds one document, which those services bound (one blob per NSG and hour).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cfgwatch.flows.formats.base import (
    FlowFormat,
    Reader,
    ReadStats,
    RecordError,
    Row,
    epoch_micros,
    iso_micros,
    load_json,
    make_row,
    proto_number,
    to_int,
)
from cfgwatch.flows.schema import Action, Direction

_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
NFDUMP_FLAG_ORDER = "CEUAPRSF"  # nfdump prints TCP flags as 8 characters, '.' for unset


def _tcp_flags(text: str) -> int:
    text = text.strip()
    if text.startswith("0x"):
        return int(text, 16)
    if text.isdigit():
        return int(text)
    value = 0
    for index, char in enumerate(text[-8:].rjust(8, ".")):
        if char != ".":
            value |= 1 << (7 - index)
    return value


def _nfdump_time(text: str) -> int:
    """nfdump prints local time without zone ("2015-10-09 09:47:47[.569]"); run nfdump with TZ=UTC."""
    return iso_micros(text.strip().replace(" ", "T") + "+00:00")


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip("\r\n")


# -- nfdump -------------------------------------------------------------------------------------------


def read_nfdump_csv(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """`nfdump -o csv` (1.6/1.7 column set); the trailing Summary block is not data."""
    header: list[str] | None = None
    index: dict[str, int] = {}
    for number, line in _open_lines(path):
        if not line.strip():
            continue
        if header is None:
            if not line.startswith("ts,"):
                stats.reject(number, "expected the nfdump CSV header (ts,te,td,sa,da,...)")
                continue
            header = line.split(",")
            index = {name: position for position, name in enumerate(header)}
            missing = [name for name in ("ts", "te", "sa", "da", "pr", "ipkt", "ibyt") if name not in index]
            if missing:
                stats.reject(number, f"nfdump CSV header lacks {', '.join(missing)}")
                return
            continue
        if line.startswith("Summary"):
            break
        fields = line.split(",")
        if len(fields) != len(header):
            stats.reject(number, f"{len(fields)} fields, header has {len(header)}")
            continue

        def get(name: str, default: str = "0", fields: list[str] = fields, index: dict[str, int] = index) -> str:
            position = index.get(name)
            return fields[position].strip() if position is not None else default

        try:
            yield make_row(
                time_start=_nfdump_time(get("ts")),
                time_end=_nfdump_time(get("te")),
                exporter=exporter or get("ra", "unknown"),
                src=get("sa"),
                dst=get("da"),
                src_port=to_int(get("sp"), "source port", 0),
                dst_port=to_int(get("dp"), "destination port", 0),
                proto=proto_number(get("pr")),
                packets=to_int(get("ipkt"), "packets", 0),
                bytes_=to_int(get("ibyt"), "bytes", 0),
                rev_packets=to_int(get("opkt"), "out packets", 0),
                rev_bytes=to_int(get("obyt"), "out bytes", 0),
                in_if=to_int(get("in"), "input interface", 0),
                out_if=to_int(get("out"), "output interface", 0),
                tcp_flags=_tcp_flags(get("flg", "0")),
                direction=Direction(to_int(get("dir"), "direction", 0) + 1) if get("dir", "") else Direction.UNKNOWN,
            )
            stats.records += 1
        except (RecordError, ValueError) as exc:
            stats.reject(number, str(exc))


def _nfdump_json_objects(path: Path, stats: ReadStats) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects of `nfdump -o json` (a pretty array) or `-o json-log` (one object per line)."""
    buffer: list[str] = []
    start = 0
    for number, line in _open_lines(path):
        stripped = line.strip()
        if not buffer:
            if stripped in ("[", "]", ""):
                continue
            candidate = stripped.lstrip("[").rstrip(",").rstrip("]").rstrip(",")
            if candidate.startswith("{") and candidate.endswith("}"):
                try:
                    yield number, load_json(candidate)
                except json.JSONDecodeError as exc:
                    stats.reject(number, f"bad JSON: {exc.msg}")
                continue
            if candidate == "{" or candidate.startswith("{"):
                buffer = [candidate]
                start = number
                continue
            stats.reject(number, "text outside a JSON object")
            continue
        buffer.append(stripped)
        if stripped.startswith("}"):
            text = "\n".join(buffer).rstrip(",").rstrip("]").rstrip(",")
            buffer = []
            try:
                yield start, load_json(text)
            except json.JSONDecodeError as exc:
                stats.reject(start, f"bad JSON object: {exc.msg}")
    if buffer:
        stats.reject(start, "unterminated JSON object at end of file")


def read_nfdump_json(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """`nfdump -o json` / `-o json-log`, including NSEL/NEL xlate fields and events."""
    for number, obj in _nfdump_json_objects(path, stats):
        try:
            src = obj.get("src4_addr") or obj.get("src6_addr")
            dst = obj.get("dst4_addr") or obj.get("dst6_addr")
            event = str(obj.get("event", "")).upper()
            proto = to_int(obj.get("proto"), "protocol", 0)
            dst_port = to_int(obj.get("dst_port"), "destination port", 0)
            if proto in (1, 58) and "icmp_type" in obj:
                dst_port = to_int(obj.get("icmp_type"), "icmp type", 0) * 256 + to_int(obj.get("icmp_code"), "code", 0)
            yield make_row(
                time_start=_nfdump_time(str(obj.get("first", "1970-01-01T00:00:00"))),
                time_end=_nfdump_time(str(obj.get("last", "1970-01-01T00:00:00"))),
                exporter=exporter or str(obj.get("ip4_router") or obj.get("ip6_router") or "unknown"),
                src=str(src) if src else "",
                dst=str(dst) if dst else "",
                src_port=to_int(obj.get("src_port"), "source port", 0),
                dst_port=dst_port,
                proto=proto,
                packets=to_int(obj.get("in_packets"), "packets", 0),
                bytes_=to_int(obj.get("in_bytes"), "bytes", 0),
                rev_packets=to_int(obj.get("out_packets"), "out packets", 0),
                rev_bytes=to_int(obj.get("out_bytes"), "out bytes", 0),
                in_if=to_int(obj.get("input_snmp"), "input interface", 0),
                out_if=to_int(obj.get("output_snmp"), "output interface", 0),
                tcp_flags=_tcp_flags(str(obj.get("tcp_flags", "0"))),
                direction=Direction(to_int(obj.get("direction"), "direction", 0) + 1)
                if "direction" in obj
                else Direction.UNKNOWN,
                action=Action.REJECT if event in ("DENIED", "DENY") else Action.UNKNOWN,
                nat_src=obj.get("src4_xlt_ip") or obj.get("src6_xlt_ip"),
                nat_dst=obj.get("dst4_xlt_ip") or obj.get("dst6_xlt_ip"),
                nat_src_port=to_int(obj.get("src_xlt_port"), "xlate source port", 0),
                nat_dst_port=to_int(obj.get("dst_xlt_port"), "xlate destination port", 0),
            )
            stats.records += 1
        except (RecordError, ValueError) as exc:
            stats.reject(number, str(exc))


# -- AWS VPC flow logs ----------------------------------------------------------------------------------

AWS_V2_FIELDS: tuple[str, ...] = (
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
)


def _aws_row(values: dict[str, str], exporter: str | None, fallback_time_us: int | None) -> Row | None:
    """One AWS record as a field->value dict; None for NODATA/SKIPDATA markers (no flow, not an error)."""
    status = values.get("log-status", "OK")
    if status in ("NODATA", "SKIPDATA") or (values.get("srcaddr", "-") == "-" and values.get("dstaddr", "-") == "-"):
        return None
    if "start" in values:
        start = epoch_micros(values["start"])
        end = epoch_micros(values.get("end", values["start"]))
    elif fallback_time_us is not None:
        start = end = fallback_time_us
    else:
        raise RecordError("record has no start time")
    action = values.get("action", "-")
    direction = values.get("flow-direction", "-")
    device = (
        exporter or values.get("interface-id")
        if values.get("interface-id", "-") != "-"
        else exporter or values.get("tgw-attachment-id") or values.get("tgw-id") or "aws"
    )
    return make_row(
        time_start=start,
        time_end=end,
        exporter=str(device or "aws"),
        src=values.get("srcaddr", "-"),
        dst=values.get("dstaddr", "-"),
        src_port=to_int(values.get("srcport"), "srcport", 0),
        dst_port=to_int(values.get("dstport"), "dstport", 0),
        proto=to_int(values.get("protocol"), "protocol", 0),
        packets=to_int(values.get("packets"), "packets", 0),
        bytes_=to_int(values.get("bytes"), "bytes", 0),
        tcp_flags=to_int(values.get("tcp-flags"), "tcp-flags", 0) & 0xFF,
        direction={"ingress": Direction.INGRESS, "egress": Direction.EGRESS}.get(direction, Direction.UNKNOWN),
        action={"ACCEPT": Action.ACCEPT, "REJECT": Action.REJECT}.get(action, Action.UNKNOWN),
        nat_src=values.get("pkt-srcaddr")
        if values.get("pkt-srcaddr") not in (None, "-", values.get("srcaddr"))
        else None,
        nat_dst=values.get("pkt-dstaddr")
        if values.get("pkt-dstaddr") not in (None, "-", values.get("dstaddr"))
        else None,
    )


def read_aws_vpc(
    path: Path, stats: ReadStats, exporter: str | None, *, fields: Sequence[str] | None = None
) -> Iterator[Row]:
    """AWS VPC / Transit Gateway flow logs: S3 text (header line gives the field order; v2 default
    without one) or a CloudWatch Logs subscription envelope (JSON, `logEvents[].message`).
    `fields` overrides the order for custom formats that arrive without a header."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        head = handle.read(1)
    if head in ("{", "["):
        yield from _read_aws_cloudwatch(path, stats, exporter, fields)
        return
    order: Sequence[str] | None = fields
    for number, line in _open_lines(path):
        if not line.strip():
            continue
        parts = line.split()
        if order is None or (number == 1 and parts and parts[0] == "version"):
            if parts and parts[0] == "version":
                order = parts
                continue
            order = AWS_V2_FIELDS
        if len(parts) != len(order):
            stats.reject(number, f"{len(parts)} fields, format has {len(order)}")
            continue
        try:
            row = _aws_row(dict(zip(order, parts, strict=True)), exporter, None)
        except (RecordError, ValueError) as exc:
            stats.reject(number, str(exc))
            continue
        if row is not None:
            stats.records += 1
            yield row


def _read_aws_cloudwatch(
    path: Path, stats: ReadStats, exporter: str | None, fields: Sequence[str] | None
) -> Iterator[Row]:
    for number, document in _json_documents(path, stats):
        envelopes = document if isinstance(document, list) else [document]
        for envelope in envelopes:
            if not isinstance(envelope, dict) or "logEvents" not in envelope:
                stats.reject(number, "not a CloudWatch Logs envelope (no logEvents)")
                continue
            stream = str(envelope.get("logStream") or "")
            for position, event in enumerate(envelope.get("logEvents") or []):
                where = f"logEvents[{position}]"
                message = str(event.get("message", "")) if isinstance(event, dict) else ""
                parts = message.split()
                order = fields or AWS_V2_FIELDS
                if len(parts) != len(order):
                    stats.reject(
                        number,
                        f"{where}: {len(parts)} fields, format has {len(order)} (custom format: pass the field order)",
                    )
                    continue
                try:
                    timestamp = event.get("timestamp")
                    fallback = int(timestamp) * 1000 if timestamp is not None else None
                    values = dict(zip(order, parts, strict=True))
                    if "interface-id" not in values and stream:
                        values["interface-id"] = stream
                    row = _aws_row(values, exporter, fallback)
                except (RecordError, ValueError) as exc:
                    stats.reject(number, f"{where}: {exc}")
                    continue
                if row is not None:
                    stats.records += 1
                    yield row


# -- JSON documents (NDJSON or one document) ------------------------------------------------------------


def _json_documents(path: Path, stats: ReadStats) -> Iterator[tuple[int, Any]]:
    """NDJSON (one value per line) when the first line parses alone, else the whole file as one document."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    try:
        load_json(first)
        ndjson = True
    except json.JSONDecodeError:
        ndjson = False
    if ndjson:
        for number, line in _open_lines(path):
            if not line.strip():
                continue
            try:
                yield number, load_json(line)
            except json.JSONDecodeError as exc:
                stats.reject(number, f"bad JSON: {exc.msg}")
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        document = load_json(text)
    except json.JSONDecodeError as exc:
        # Hand-edited and test exports often carry trailing commas ("...",\n]); repair those only.
        repaired = _TRAILING_COMMA.sub(r"\1", text)
        try:
            document = load_json(repaired)
        except json.JSONDecodeError:
            stats.reject(exc.lineno, f"bad JSON: {exc.msg}")
            return
        stats.notes.append(f"{path}:{exc.lineno}: trailing comma in JSON repaired")
    yield 1, document


def _walk_items(document: Any, key: str | None = None) -> Iterator[Any]:
    """A document, a list of documents, or {key: [documents]}."""
    if isinstance(document, list):
        yield from document
    elif key is not None and isinstance(document, dict) and isinstance(document.get(key), list):
        yield from document[key]
    else:
        yield document


# -- GCP VPC flow logs ----------------------------------------------------------------------------------


def read_gcp_vpc(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """GCP VPC flow logs as Cloud Logging LogEntry JSON (one entry, an array, or NDJSON)."""
    for number, document in _json_documents(path, stats):
        for entry in _walk_items(document, "entries"):
            try:
                payload = entry.get("jsonPayload") if isinstance(entry, dict) else None
                if not isinstance(payload, dict) or not isinstance(payload.get("connection"), dict):
                    raise RecordError("LogEntry has no jsonPayload.connection")
                connection = payload["connection"]
                reporter = str(payload.get("reporter", "")).upper()
                side = payload.get("src_vpc" if reporter == "SRC" else "dest_vpc") or {}
                labels = (entry.get("resource") or {}).get("labels") or {}
                device = exporter or side.get("vpc_name") or labels.get("subnetwork_name") or "gcp"
                start = iso_micros(str(payload.get("start_time") or entry.get("timestamp")))
                end = iso_micros(str(payload.get("end_time") or payload.get("start_time") or entry.get("timestamp")))
                proto = to_int(connection.get("protocol"), "protocol", 0)
                yield make_row(
                    time_start=start,
                    time_end=end,
                    exporter=str(device),
                    src=str(connection.get("src_ip", "")),
                    dst=str(connection.get("dest_ip", "")),
                    src_port=to_int(connection.get("src_port"), "src_port", 0),
                    dst_port=to_int(connection.get("dest_port"), "dest_port", 0),
                    proto=proto,
                    packets=to_int(payload.get("packets_sent"), "packets_sent", 0),
                    bytes_=to_int(payload.get("bytes_sent"), "bytes_sent", 0),
                    direction=Direction.EGRESS if reporter == "SRC" else Direction.INGRESS,
                )
                stats.records += 1
            except (RecordError, ValueError, AttributeError, TypeError) as exc:
                stats.reject(number, str(exc))


# -- Azure NSG flow logs --------------------------------------------------------------------------------


def read_azure_nsg(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """Azure NSG flow logs, schema Version 1 (8-field tuples) and 2 (13 fields with state and counters)."""
    for number, document in _json_documents(path, stats):
        for r_index, record in enumerate(_walk_items(document, "records")):
            if not isinstance(record, dict):
                stats.reject(number, f"records[{r_index}]: not an object")
                continue
            properties = record.get("properties") or {}
            version = to_int(properties.get("Version"), "Version", 1)
            nsg = str(record.get("resourceId", "")).rstrip("/").rsplit("/", 1)[-1] or "azure-nsg"
            device = exporter or nsg.lower()
            for g_index, group in enumerate(properties.get("flows") or []):
                for m_index, per_mac in enumerate(group.get("flows") or []):
                    for t_index, text in enumerate(per_mac.get("flowTuples") or []):
                        where = f"records[{r_index}].flows[{g_index}].flows[{m_index}].flowTuples[{t_index}]"
                        try:
                            yield _azure_tuple(str(text), version, device)
                            stats.records += 1
                        except (RecordError, ValueError) as exc:
                            stats.reject(number, f"{where}: {exc}")


def _azure_tuple(text: str, version: int, device: str) -> Row:
    parts = text.split(",")
    if len(parts) < 8 or (version >= 2 and len(parts) < 13):
        raise RecordError(f"tuple has {len(parts)} fields (version {version})")
    start = epoch_micros(parts[0])
    proto = {"T": 6, "U": 17}.get(parts[5].upper())
    if proto is None:
        raise RecordError(f"unknown protocol flag {parts[5]!r}")
    direction = {"I": Direction.INGRESS, "O": Direction.EGRESS}.get(parts[6].upper(), Direction.UNKNOWN)
    action = {"A": Action.ACCEPT, "D": Action.REJECT}.get(parts[7].upper(), Action.UNKNOWN)
    packets = bytes_ = rev_packets = rev_bytes = 0
    if version >= 2:
        packets = to_int(parts[9], "packets src->dst", 0)
        bytes_ = to_int(parts[10], "bytes src->dst", 0)
        rev_packets = to_int(parts[11], "packets dst->src", 0)
        rev_bytes = to_int(parts[12], "bytes dst->src", 0)
    return make_row(
        time_start=start,
        time_end=start,
        exporter=device,
        src=parts[1],
        dst=parts[2],
        src_port=to_int(parts[3], "source port"),
        dst_port=to_int(parts[4], "destination port"),
        proto=proto,
        packets=packets,
        bytes_=bytes_,
        rev_packets=rev_packets,
        rev_bytes=rev_bytes,
        direction=direction,
        action=action,
    )


# -- Zeek conn.log -----------------------------------------------------------------------------------------


def _zeek_row(values: dict[str, Any], exporter: str | None, unset: str) -> Row:
    def value(name: str) -> Any:
        item = values.get(name)
        return None if item == unset or item == "(empty)" else item

    start = epoch_micros(value("ts"))
    duration = value("duration")
    end = start + (epoch_micros(duration) if duration not in (None, "") else 0)
    proto_text = value("proto") or "0"
    proto = proto_number(proto_text) if not str(proto_text).isdigit() else int(proto_text)
    if value("ip_proto") is not None:
        proto = to_int(value("ip_proto"), "ip_proto", proto)
    orig_port = to_int(value("id.orig_p"), "id.orig_p", 0)
    resp_port = to_int(value("id.resp_p"), "id.resp_p", 0)
    if proto in (1, 58):  # Zeek puts ICMP type in orig_p and code in resp_p
        orig_port, resp_port = 0, orig_port * 256 + resp_port
    packets = to_int(value("orig_pkts"), "orig_pkts", 0)
    rev_packets = to_int(value("resp_pkts"), "resp_pkts", 0)
    orig_bytes = value("orig_ip_bytes") if value("orig_ip_bytes") is not None else value("orig_bytes")
    resp_bytes = value("resp_ip_bytes") if value("resp_ip_bytes") is not None else value("resp_bytes")
    return make_row(
        time_start=start,
        time_end=end,
        exporter=exporter or "zeek",
        src=str(value("id.orig_h") or ""),
        dst=str(value("id.resp_h") or ""),
        src_port=orig_port,
        dst_port=resp_port,
        proto=proto,
        packets=packets,
        bytes_=to_int(orig_bytes, "orig bytes", 0),
        rev_packets=rev_packets,
        rev_bytes=to_int(resp_bytes, "resp bytes", 0),
    )


def read_zeek_conn(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """Zeek conn.log: TSV with #separator/#fields headers, zeek-cut TSV with a name row, or JSON lines."""
    fields: list[str] | None = None
    separator = "\t"
    unset = "-"
    for number, line in _open_lines(path):
        if not line.strip():
            continue
        if line.startswith("{"):
            try:
                obj = load_json(line)
                yield _zeek_row(obj, exporter, "\0")
                stats.records += 1
            except json.JSONDecodeError as exc:
                stats.reject(number, f"bad JSON: {exc.msg}")
            except (RecordError, ValueError) as exc:
                stats.reject(number, str(exc))
            continue
        if line.startswith("#"):
            if line.startswith("#separator"):
                raw = line.split(" ", 1)[1].strip() if " " in line else "\\x09"
                separator = raw.encode().decode("unicode_escape")
            elif line.startswith("#unset_field"):
                unset = line.split(separator, 1)[1] if separator in line else "-"
            elif line.startswith("#fields"):
                fields = line.split(separator)[1:]
            continue
        parts = line.split(separator)
        if fields is None:
            if parts and parts[0] == "ts":
                fields = parts
                continue
            stats.reject(number, "data before a #fields header")
            continue
        if len(parts) != len(fields):
            stats.reject(number, f"{len(parts)} fields, #fields has {len(fields)}")
            continue
        try:
            yield _zeek_row(dict(zip(fields, parts, strict=True)), exporter, unset)
            stats.records += 1
        except (RecordError, ValueError) as exc:
            stats.reject(number, str(exc))


# -- goflow2 ---------------------------------------------------------------------------------------------


def read_goflow2_json(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
    """goflow2 `-format=json` lines (or one pretty record). Counters are scaled by sampling_rate."""
    for number, document in _json_documents(path, stats):
        for obj in _walk_items(document):
            try:
                if not isinstance(obj, dict):
                    raise RecordError("not a JSON object")
                rate = max(to_int(obj.get("sampling_rate"), "sampling_rate", 1), 1)
                start_ns = to_int(obj.get("time_flow_start_ns") or obj.get("time_received_ns"), "time_flow_start_ns")
                end_ns = to_int(obj.get("time_flow_end_ns"), "time_flow_end_ns", start_ns)
                yield make_row(
                    time_start=start_ns // 1000,
                    time_end=end_ns // 1000,
                    exporter=exporter or str(obj.get("sampler_address") or "goflow2"),
                    src=str(obj.get("src_addr", "")),
                    dst=str(obj.get("dst_addr", "")),
                    src_port=to_int(obj.get("src_port"), "src_port", 0),
                    dst_port=to_int(obj.get("dst_port"), "dst_port", 0),
                    proto=proto_number(obj.get("proto", 0)),
                    packets=to_int(obj.get("packets"), "packets", 0) * rate,
                    bytes_=to_int(obj.get("bytes"), "bytes", 0) * rate,
                    in_if=to_int(obj.get("in_if"), "in_if", 0),
                    out_if=to_int(obj.get("out_if"), "out_if", 0),
                    tcp_flags=to_int(obj.get("tcp_flags"), "tcp_flags", 0) & 0xFF,
                )
                stats.records += 1
            except (RecordError, ValueError) as exc:
                stats.reject(number, str(exc))


def _aws_vpc_with_fields(fields: tuple[str, ...]) -> Reader:
    return functools.partial(read_aws_vpc, fields=fields)


# The built-in formats, registered by name in pyproject.toml ([project.entry-points."cfgwatch.flow_formats"]).
NFDUMP_CSV = FlowFormat(read_nfdump_csv)
NFDUMP_JSON = FlowFormat(read_nfdump_json)
AWS_VPC = FlowFormat(read_aws_vpc, with_fields=_aws_vpc_with_fields)
GCP_VPC = FlowFormat(read_gcp_vpc)
AZURE_NSG = FlowFormat(read_azure_nsg)
ZEEK_CONN = FlowFormat(read_zeek_conn)
GOFLOW2_JSON = FlowFormat(read_goflow2_json)
