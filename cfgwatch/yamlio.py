"""The one YAML reader for cfgwatch's input files (cfgwatch.yaml, the inventory, approvals, tickets, networks).

Every input goes through here so that every one gets the same two guarantees:
- a syntax error is one line naming file:line (and the construct it was inside), never a traceback;
- a key given twice in one mapping is an error naming the key and both lines. Plain YAML loaders keep
  the last value silently, so a second `r1:` host or a second `window:` in a ticket would quietly win.

load_yaml_document also keeps the line of every key and list item, so that errors found later by
pydantic validation name file:line and the key path too (YamlDocument.error_at).

Only reading lives here: `cfgwatch approve` rewrites approved.yaml with ruamel (policy.approved) to keep
its comments and order.

>>> parse_yaml("a: 1\\nb: [x, y]\\n", "example.yaml")
{'a': 1, 'b': ['x', 'y']}
>>> parse_yaml("a: 1\\nb: 2\\na: 3\\n", "example.yaml")
Traceback (most recent call last):
...
cfgwatch.errors.ConfigError: example.yaml:3: malformed YAML: duplicate key 'a' (first at line 1)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cfgwatch.errors import ConfigError, InputError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _DuplicateKey(yaml.MarkedYAMLError):
    """Raised by the loader; load_yaml turns it into the caller's error class like any other YAML error."""


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice in one mapping (`<<` merge keys may still be overridden)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        first_seen: dict[Hashable, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = first_seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base class reports it with its position
            mark = key_node.start_mark
            if first is not None:
                where = f"line {first.line + 1}" + (f", column {first.column + 1}" if first.line == mark.line else "")
                raise _DuplicateKey(problem=f"duplicate key '{key}' (first at {where})", problem_mark=mark)
            first_seen[key] = mark
        return super().construct_mapping(node, deep=deep)


def _describe(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """(one-line message, 1-based line) of a YAML error, keeping what PyYAML says about where and why."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__, None
    mark = exc.problem_mark or exc.context_mark
    message = " ".join((exc.problem or exc.context or "invalid YAML").split())
    if mark is not None and not isinstance(exc, _DuplicateKey):
        message += f" at column {mark.column + 1}"
    if exc.problem and exc.context:
        where = f", line {exc.context_mark.line + 1}" if exc.context_mark is not None else ""
        message += f" ({' '.join(exc.context.split())}{where})"
    return message, mark.line + 1 if mark is not None else None


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed input file with the line of every key and list item, for errors found after parsing.

    >>> doc = parse_yaml_document("r1:\\n  data:\\n    collector: telnet\\n", "hosts.yaml")
    >>> doc.line_of(("r1", "data", "collector")), doc.line_of(("r1", "port")), doc.line_of(())
    (3, 1, None)
    """

    source: str
    data: Any
    lines: Mapping[tuple[str, ...], int]

    def line_of(self, location: Iterable[object]) -> int | None:
        """Line of the deepest part of a key path (such as a pydantic error's loc) that the file has."""
        parts = tuple(str(part) for part in location)
        while parts:
            line = self.lines.get(parts)
            if line is not None:
                return line
            parts = parts[:-1]
        return None

    def error_at(self, message: str, location: Sequence[object] = ()) -> ConfigError:
        """ConfigError naming file, line and dotted key path, for a problem found after parsing (validation)."""
        key = ".".join(str(part) for part in location)
        return ConfigError(message, path=self.source, line=self.line_of(location), key=key or None)


def _key_lines(node: yaml.Node | None) -> dict[tuple[str, ...], int]:
    """path -> 1-based line of each mapping key and sequence item (merge keys already flattened)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...], open_nodes: frozenset[int]) -> None:
        if id(node) in open_nodes:  # an alias of an enclosing node: a recursive structure
            return
        inside = open_nodes | {id(node)}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    child = (*path, str(key_node.value))
                    lines.setdefault(child, key_node.start_mark.line + 1)
                    walk(value_node, child, inside)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, str(index))
                lines.setdefault(child, item.start_mark.line + 1)
                walk(item, child, inside)

    if node is not None:
        walk(node, (), frozenset())
    return lines


def parse_yaml_document(text: str, source: str | Path, *, error: type[InputError] = ConfigError) -> YamlDocument:
    """The document in text with its key lines; `error` naming source:line for bad YAML or a duplicate key."""
    loader: UniqueKeyLoader | None = None
    try:
        # A SafeLoader subclass: no arbitrary objects. Its constructor already rejects control
        # characters (yaml ReaderError), so it is made inside the try too.
        loader = UniqueKeyLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        message, line = _describe(exc)
        raise error(f"malformed YAML: {message}", path=source, line=line) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(str(source), data, _key_lines(node))


def parse_yaml(text: str, source: str | Path, *, error: type[InputError] = ConfigError) -> Any:
    """The document in text (None when empty); `error` naming source:line for bad YAML or a duplicate key."""
    return parse_yaml_document(text, source, error=error).data


def load_yaml_document(path: Path, *, what: str = "file", error: type[InputError] = ConfigError) -> YamlDocument:
    """Read and parse one YAML input file; `what` names it in the error when it cannot be read at all."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what}: not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc
    return parse_yaml_document(text, path, error=error)


def load_yaml(path: Path, *, what: str = "file", error: type[InputError] = ConfigError) -> Any:
    """The data of one YAML input file (see load_yaml_document)."""
    return load_yaml_document(path, what=what, error=error).data
