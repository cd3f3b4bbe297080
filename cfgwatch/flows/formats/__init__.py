"""Flow export readers by format name (the `cfgwatch.flow_formats` registry): `read(path, format, exporter=...)`.

The built-in formats are declared in cfgwatch's pyproject.toml and point at `readers`; a site package adds
a format, or replaces a built-in one, with an entry point of its own under the same group.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from cfgwatch.errors import InputError
from cfgwatch.flows.formats.base import ROW_FIELDS, FlowFormat, Reader, ReadStats, Row
from cfgwatch.plugins import FLOW_FORMATS_GROUP, Registry, instance_of

FLOW_FORMATS: Registry[FlowFormat] = Registry(FLOW_FORMATS_GROUP, "flow format", validate=instance_of(FlowFormat))


def get_reader(format_name: str, *, aws_fields: Sequence[str] | None = None) -> Reader:
    """The reader for a format name; `aws_fields` sets a custom field order (no header) where the format takes one."""
    if format_name not in FLOW_FORMATS:
        raise InputError(FLOW_FORMATS.unknown_message(format_name))
    flow_format = FLOW_FORMATS.get(format_name)
    if aws_fields and flow_format.with_fields is not None:
        return flow_format.with_fields(tuple(aws_fields))
    return flow_format.read


def read(path: str | Path, format_name: str, *, exporter: str | None = None) -> tuple[Iterator[Row], ReadStats]:
    """Rows of one file plus the stats object that fills in as the iterator is consumed."""
    file = Path(path)
    if not file.is_file():
        raise InputError("flow file not found", path=file)
    stats = ReadStats(str(file))
    return get_reader(format_name)(file, stats, exporter), stats


__all__ = ["FLOW_FORMATS", "ROW_FIELDS", "FlowFormat", "ReadStats", "Reader", "Row", "get_reader", "read"]
