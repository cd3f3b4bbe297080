"""JSON round-trip for the rule model, driven by the dataclass fields so new fields need no codec work.

Address and port sets use their own compact text forms (CIDRs, `80,443`); enums become their value;
tuples and frozensets become lists (frozensets sorted, so output is deterministic).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from cfgwatch.model.addresses import AddressSet
from cfgwatch.model.ports import PortSet, Service

T = TypeVar("T")

_CUSTOM = (AddressSet, PortSet, Service)


def to_json(value: Any) -> Any:
    """Model object (or tuple/list of them) to JSON-ready data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, _CUSTOM):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(to_json(item) for item in value)
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any) -> T:
    """JSON data back to a model object of type cls."""
    return typing.cast(T, _decode(cls, data))


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            return _decode(options[0], data)
        for option in options:  # e.g. int | tuple[int, int]
            try:
                return _decode(option, data)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"no member of {hint} accepts {data!r}")
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(arg, item) for arg, item in zip(args, data, strict=True))
    if origin is frozenset:
        (arg,) = get_args(hint)
        return frozenset(_decode(arg, item) for item in data)
    if origin is dict:
        key_type, value_type = get_args(hint)
        return {_decode(key_type, key): _decode(value_type, item) for key, item in data.items()}
    if hint is Any:
        return data
    if isinstance(hint, type):
        if hint in _CUSTOM:
            return hint.from_json(data)
        if issubclass(hint, Enum):
            return hint(data)
        if dataclasses.is_dataclass(hint):
            hints = _hints(hint)
            kwargs = {f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(hint) if f.name in data}
            return hint(**kwargs)
        if hint in (int, str, float, bool):
            if not isinstance(data, hint):
                raise TypeError(f"expected {hint.__name__}, got {data!r}")
            return data
    raise TypeError(f"cannot decode {hint!r}")
