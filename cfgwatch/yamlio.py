"""The one YAML reader for cfgwatch's input files (cfgwatch.yaml, the inventory, approvals, tickets, networks).

Every input goes through here so that every one gets the same two guarantees:
- a syntax error is one line naming file:line (and the construct it was inside), never a traceback;
- a key given twice in one mapping is an error naming the key and both lines. Plain YAML loaders keep
  the last value silently, so a second `r1:` host or a second `window:` in a ticket would quietly win.

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

from collections.abc import Hashable
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


def parse_yaml(text: str, source: str | Path, *, error: type[InputError] = ConfigError) -> Any:
    """The document in text (None when empty); `error` naming source:line for bad YAML or a duplicate key."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        message, line = _describe(exc)
        raise error(f"malformed YAML: {message}", path=source, line=line) from exc


def load_yaml(path: Path, *, what: str = "file", error: type[InputError] = ConfigError) -> Any:
    """Read and parse one YAML input file; `what` names it in the error when it cannot be read at all."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise error(f"cannot read {what}: not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from exc
    return parse_yaml(text, path, error=error)
