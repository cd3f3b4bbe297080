"""JSON round-trip for the rule model, driven by the dataclass fields so new fields need no codec work.

Address and port sets use their own compact text forms (CIDRs, `80,443`); enums become their value;
tuples and frozensets become lists (frozensets sorted, so output is deterministic).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from cfgwatch.model.addresses import AddressSet, _v4_range_text
from cfgwatch.model.gcpause import collector_paused
from cfgwatch.model.ports import PortSet, Service, protocol_name

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
    names = _field_names(type(value))
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, frozenset | set):
        return sorted(to_json(item) for item in value)
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names in declaration order (None: not a dataclass); looked up once per class."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        names = tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None
        _FIELD_NAMES[cls] = names
        return names


# -- dumps: the JSON text of a model object, without the intermediate dicts ---------------------------------


def dumps(value: Any) -> str:
    """`json.dumps(to_json(value), indent=1, sort_keys=True)`, byte for byte, in a fraction of the time.

    Why: `cfgwatch parse --format json` of a 50k-line config built ~10 MB of text through a dict per model
    object and the pure-Python indenting encoder (json's C encoder cannot indent): three times the cost of
    the parse. This writes the text straight from the objects: one generated writer per dataclass (its
    fields in sorted order in a single f-string), strings through json's own C escaper, address sets from
    their integer ranges, ports and services in the forms their `to_json` gives (written out here: a change
    to those forms must be made in both places). Tests hold it to the reference rendering for every golden
    fixture and for odd values.
    """
    with collector_paused():  # the writer makes no cycles; collections would rescan the rule set again and again
        return _write(value, 0, {})


_ESCAPE = json.encoder.encode_basestring_ascii  # what json.dumps uses with ensure_ascii=True
_INT = int.__repr__
_INDENTS: list[str] = ["\n" + " " * level for level in range(64)]  # newline + indent=1 spaces per level
_DEEP = 60  # below this level `_INDENTS` needs no growing (model objects nest about 8 deep)
Memo = dict[tuple[int, int], tuple[object, str]]  # (id, level) -> (object kept alive, its text at that level)
Writer = Callable[[Any, int, Memo], str]
_WRITERS: dict[type, Writer] = {}  # type -> how its values are written, filled on first sight


def _indents(level: int) -> list[str]:
    """The indentation strings, long enough for `level` and the two levels below it."""
    while len(_INDENTS) <= level + 2:
        _INDENTS.append("\n" + " " * len(_INDENTS))
    return _INDENTS


def _write(value: Any, level: int, memo: Memo) -> str:
    """Any JSON-able model value at an indentation level (its first line is already placed)."""
    kind = type(value)
    if kind is str:
        return _ESCAPE(value)
    return (_WRITERS.get(kind) or _new_writer(kind))(value, level, memo)


def _new_writer(kind: type) -> Writer:
    writer = _WRITERS[kind] = _writer_for(kind)  # decided by type alone, as to_json decides
    return writer


def _block(items: list[str], level: int, open_: str, close: str) -> str:
    if not items:
        return open_ + close
    indents = _INDENTS if level < _DEEP else _indents(level)
    inner = indents[level + 1]
    return open_ + inner + ("," + inner).join(items) + indents[level] + close


def _write_sequence(value: Any, level: int, memo: Memo) -> str:
    if not value:
        return "[]"
    inner = level + 1
    return _block([_ESCAPE(x) if type(x) is str else _write(x, inner, memo) for x in value], level, "[", "]")


def _write_set(value: Any, level: int, memo: Memo) -> str:
    if not value:
        return "[]"
    return _write_sequence(sorted(to_json(item) for item in value), level, memo)


def _write_dict(value: Any, level: int, memo: Memo) -> str:
    by_text = {str(key): item for key, item in value.items()}  # as to_json: str keys, the last one wins
    inner = level + 1
    return _block([f"{_ESCAPE(key)}: {_write(by_text[key], inner, memo)}" for key in sorted(by_text)], level, "{", "}")


def _float_text(value: float, level: int, memo: Memo) -> str:
    if value != value:  # NaN, as json writes it
        return "NaN"
    if value in (float("inf"), -float("inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _write_custom(value: Any, level: int, memo: Memo) -> str:
    """Ports and services (and subclasses of the custom types): their `to_json`, once per object and level."""
    key = (id(value), level)
    found = memo.get(key)
    if found is None:
        found = memo[key] = (value, _write_dict(value.to_json(), level, memo))
    return found[1]


def _write_address_set(value: AddressSet, level: int, memo: Memo) -> str:
    """`AddressSet.to_json()`: plain sets (no names, no FQDNs) written from their range texts directly."""
    key = (id(value), level)
    found = memo.get(key)
    if found is not None:
        return found[1]
    if value.fqdns or value.names:
        text = _write_dict(value.to_json(), level, memo)
    else:
        v4 = value.v4
        # one IPv4 interval (hosts, subnets: most sets) without the list; digits, dots, colons, `/`, `-` and
        # `any` are all the range texts hold: nothing json would escape
        ranges = [_v4_range_text(*v4[0])] if len(v4) == 1 and not value.v6 else value.ranges()
        indents = _INDENTS if level < _DEEP else _indents(level)
        inner = indents[level + 1]
        if ranges:
            deeper = indents[level + 2]
            text = f'{{{inner}"ranges": [{deeper}"' + f'",{deeper}"'.join(ranges) + f'"{inner}]{indents[level]}}}'
        else:
            text = f'{{{inner}"ranges": []{indents[level]}}}'
    memo[key] = (value, text)
    return text


def _write_port_set(value: PortSet, level: int, memo: Memo) -> str:
    """`PortSet.to_json()` written directly: names (when any) and the range text, in sorted key order."""
    indents = _INDENTS if level < _DEEP else _indents(level)
    inner = indents[level + 1]
    ranges = f'{inner}"ranges": "{value.text()}"'  # digits, `-`, `,`, `any`, `none`: nothing to escape
    if value.names:
        return f'{{{inner}"names": {_write_sequence(value.names, level + 1, memo)},{ranges}{indents[level]}}}'
    return f"{{{ranges}{indents[level]}}}"


def _write_service(value: Service, level: int, memo: Memo) -> str:
    """`Service.to_json()` written directly, keys in sorted order (dst_ports, icmp_code, icmp_type, names,
    protocol, protocol_name, src_ports); the golden tests compare it with the reference rendering."""
    key = (id(value), level)
    found = memo.get(key)
    if found is not None:
        return found[1]
    inner = level + 1
    indents = _INDENTS if level < _DEEP else _indents(level)
    i1 = indents[inner]
    parts: list[str] = []
    if not value.dst_ports.is_any:
        parts.append(f'{i1}"dst_ports": {_write_port_set(value.dst_ports, inner, memo)}')
    if value.icmp_code is not None:
        parts.append(f'{i1}"icmp_code": {_write(value.icmp_code, inner, memo)}')
    if value.icmp_type is not None:
        parts.append(f'{i1}"icmp_type": {_write(value.icmp_type, inner, memo)}')
    if value.names:
        parts.append(f'{i1}"names": {_write_sequence(value.names, inner, memo)}')
    parts.append(f'{i1}"protocol": {_write(value.protocol, inner, memo)}')
    parts.append(f'{i1}"protocol_name": {_ESCAPE(protocol_name(value.protocol))}')
    if not value.src_ports.is_any:
        parts.append(f'{i1}"src_ports": {_write_port_set(value.src_ports, inner, memo)}')
    text = "{" + ",".join(parts) + indents[level] + "}"
    memo[key] = (value, text)
    return text


def _enum_writer(kind: type[Enum]) -> Writer:
    """Members as their values; a str or int value's text does not depend on the level, so it is kept."""
    texts: dict[Enum, str] = {}

    def write(value: Enum, level: int, memo: Memo) -> str:
        text = texts.get(value)
        if text is None:
            raw = value._value_
            text = _write(raw, level, memo)
            if isinstance(raw, str | int):
                texts[value] = text
        return text

    return write


def _writer_for(kind: type) -> Writer:
    """How values of one type are written, following to_json's order of questions."""
    if kind is type(None):
        return lambda value, level, memo: "null"
    if kind is bool:
        return lambda value, level, memo: "true" if value else "false"
    if issubclass(kind, Enum):
        return _enum_writer(kind)
    if issubclass(kind, str):
        return lambda value, level, memo: _ESCAPE(value)
    if issubclass(kind, int):
        return lambda value, level, memo: _INT(value)
    if issubclass(kind, float):
        return _float_text
    if kind is AddressSet:
        return _write_address_set
    if kind is PortSet:
        return _write_port_set
    if kind is Service:
        return _write_service
    if issubclass(kind, _CUSTOM):
        return _write_custom
    if _field_names(kind) is not None:
        return _dataclass_writer(kind)
    if issubclass(kind, (frozenset, set)):
        return _write_set
    if issubclass(kind, (tuple, list)):
        return _write_sequence
    if issubclass(kind, dict):
        return _write_dict

    def refuse(value: Any, level: int, memo: Memo) -> str:
        raise TypeError(f"cannot encode {kind.__name__} as JSON")

    return refuse


def _dataclass_writer(cls: type) -> Writer:
    """A writer for one dataclass: every field (sorted by name) in one f-string; str, None, int, bool and empty
    tuples and sets written inline, anything else through `_write` one level deeper."""
    names = sorted(_field_names(cls) or ())
    if not names:
        return lambda value, level, memo: "{}"
    lines = [
        "def write(value, level, memo):",
        "    inner = level + 1",
        "    indents = _INDENTS if level < _DEEP else _indents(level)",
        "    i1 = indents[inner]",
    ]
    parts: list[str] = []
    for index, name in enumerate(names):
        lines += [
            f"    x = value.{name}",
            "    t = type(x)",
            f"    v{index} = (_ESCAPE(x) if t is str else 'null' if x is None else _INT(x) if t is int"
            " else ('true' if x else 'false') if t is bool"
            " else '[]' if (t is tuple or t is frozenset) and not x"
            " else (_WRITERS.get(t) or _new_writer(t))(x, inner, memo))",
        ]
        parts.append(f"{{i1}}{_ESCAPE(name)}: {{v{index}}}")
    lines.append("    return f'{{" + ",".join(parts) + "{indents[level]}}}'")  # `{{` and `}}`: the braces
    namespace: dict[str, Any] = {
        "_ESCAPE": _ESCAPE,
        "_INT": _INT,
        "_WRITERS": _WRITERS,
        "_new_writer": _new_writer,
        "_INDENTS": _INDENTS,
        "_DEEP": _DEEP,
        "_indents": _indents,
    }
    code = compile("\n".join(lines) + "\n", f"<dumps {cls.__module__}.{cls.__qualname__}>", "exec")
    exec(code, namespace)
    writer: Writer = namespace["write"]
    return writer


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
