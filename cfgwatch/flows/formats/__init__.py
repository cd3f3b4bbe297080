"""Flow export readers by format name: `read(path, format, exporter=...)` streams rows."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path

from cfgwatch.errors import InputError
from cfgwatch.flows.formats.base import ROW_FIELDS, Reader, ReadStats, Row
from cfgwatch.flows.formats.readers import (
    read_aws_vpc,
    read_azure_nsg,
    read_gcp_vpc,
    read_goflow2_json,
    read_nfdump_csv,
    read_nfdump_json,
    read_zeek_conn,
)

READERS: dict[str, Reader] = {
    "nfdump-csv": read_nfdump_csv,
    "nfdump-json": read_nfdump_json,
    "aws-vpc": read_aws_vpc,
    "gcp-vpc": read_gcp_vpc,
    "azure-nsg": read_azure_nsg,
    "zeek-conn": read_zeek_conn,
    "goflow2-json": read_goflow2_json,
}
FORMATS: tuple[str, ...] = tuple(READERS)


def get_reader(format_name: str, *, aws_fields: Sequence[str] | None = None) -> Reader:
    """The reader for a format name; `aws_fields` sets a custom AWS field order (no header)."""
    try:
        reader = READERS[format_name]
    except KeyError:
        raise InputError(f"unknown flow format {format_name!r} (known: {', '.join(FORMATS)})") from None
    if format_name == "aws-vpc" and aws_fields:
        return functools.partial(read_aws_vpc, fields=tuple(aws_fields))
    return reader


def read(path: str | Path, format_name: str, *, exporter: str | None = None) -> tuple[Iterator[Row], ReadStats]:
    """Rows of one file plus the stats object that fills in as the iterator is consumed."""
    file = Path(path)
    if not file.is_file():
        raise InputError("flow file not found", path=file)
    stats = ReadStats(str(file))
    return get_reader(format_name)(file, stats, exporter), stats


__all__ = ["FORMATS", "READERS", "ROW_FIELDS", "ReadStats", "Reader", "Row", "get_reader", "read"]
