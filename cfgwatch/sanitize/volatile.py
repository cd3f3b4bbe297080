"""Volatile lines: text that changes between two reads of an unchanged device.

Each rule either drops the line or rewrites it to a stable form; rules that carry change
metadata (who/when) hand it to the caller before the line disappears. The rules are platform
knowledge: each platform spec declares its `volatile` and `change_header` groups (`LineRules`);
this module keeps the rule types, the generic group and the one ordered table built from the specs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from cfgwatch.sanitize.metadata import ChangeMetadata

if TYPE_CHECKING:
    from cfgwatch.vendors.spec import PlatformSpec

MetaFn = Callable[["re.Match[str]", str], ChangeMetadata]


@dataclass(frozen=True, slots=True)
class VolatileRule:
    """``replace`` None drops the line; otherwise it is an ``re.sub`` template for the match."""

    name: str
    pattern: re.Pattern[str]
    replace: str | None = None
    meta: MetaFn | None = None
    rank: int = 9  # lower wins when several headers carry metadata
    need: str = ""  # text every match contains (case as written): the regex is skipped without it


@dataclass(frozen=True, slots=True, kw_only=True)
class LineRules:
    """One platform's volatile (or change-header) rules, and where they sit among every platform's.

    Every text runs through every platform's rules (a config's platform is not always known, and a
    volatile line is volatile whatever the device): groups in ascending `order`, each group's rules in
    their own order. `line_start` (regex alternatives matched at the start of a line) and `anywhere`
    ((regex, word) pairs: the regex matches anywhere in the line, and every match contains the word)
    together match every line a rule of the group can match: the sanitizer looks at no other line.
    """

    rules: tuple[VolatileRule, ...]
    order: int
    line_start: tuple[str, ...]
    anywhere: tuple[tuple[str, str], ...]


# Comment lines some backup tools add with the device's uptime or last restart, on every platform.
# After the IOS groups (10, 11) so an IOS header line that also says "uptime is" still gives its
# metadata; before every other platform's.
GENERIC = LineRules(
    rules=(
        VolatileRule("uptime", re.compile(r"^[!#;]+.*\buptime is\b.*$", re.IGNORECASE)),
        VolatileRule("restarted-at", re.compile(r"^[!#]\s*System (?:restarted|returned to ROM)\b.*$", re.IGNORECASE)),
    ),
    order=15,
    line_start=(),
    anywhere=((r"uptime is", "uptime is"), (r"System (?:restarted|returned)", "System re")),
)


@dataclass(frozen=True, slots=True)
class VolatileTables:
    """Every platform's volatile and header rules in the order they are tried, and the prefilters.

    ``hint``: a line it does not match cannot match any rule. ``hint_line_start`` (searched in
    ``"\\n" + text``) and ``hint_words`` (plain ``str.find`` over the whole text) together find a
    superset of the lines ``hint`` matches.
    """

    rules: tuple[VolatileRule, ...]
    hint: re.Pattern[str]
    hint_line_start: re.Pattern[str]
    hint_words: tuple[str, ...]


def tables() -> VolatileTables:
    """The tables for the registered platforms (built once per set of specs)."""
    from cfgwatch.vendors.registry import all_specs

    return _tables(all_specs())


@cache
def _tables(specs: tuple[PlatformSpec, ...]) -> VolatileTables:
    groups = [(GENERIC.order, "", GENERIC)]
    for spec in specs:
        for part in (spec.volatile, spec.change_header):
            if isinstance(part, LineRules):
                groups.append((part.order, spec.name, part))
    groups.sort(key=lambda item: (item[0], item[1]))
    rules = tuple(rule for _, _, group in groups for rule in group.rules)
    starts = [start for _, _, group in groups for start in group.line_start]
    anywhere = [pair for _, _, group in groups for pair in group.anywhere]
    start = "|".join(starts) or "(?!)"
    unanchored = "".join("|" + regex for regex, _ in anywhere)
    return VolatileTables(
        rules=rules,
        hint=re.compile(r"^(?:" + start + r")" + unanchored),
        hint_line_start=re.compile(r"\n(?:" + start + r")"),
        hint_words=tuple(dict.fromkeys(word for _, word in anywhere)),
    )
