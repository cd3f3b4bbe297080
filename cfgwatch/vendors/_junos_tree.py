"""Flatten brace-structured and `set`-command configs into one statement form: (path tokens, line).

Junos curly-brace text, Junos `set`/`deactivate` text and PAN-OS brace (`show config`) text all become
the same list of leaf statements, so the parsers above read every form with one piece of code and the
curly and set forms of one config give the same result by construction:

    security { nat { source { rule-set RS { from zone trust; } } } }     (line 1-5)
    set security nat source rule-set RS from zone trust                  (line 1)
        -> Stmt(path=("security", "nat", "source", "rule-set", "RS", "from", "zone", "trust"), line=...)

`inactive:` containers and `deactivate` paths land in `inactive`; `/* annotations */` and brace
container spans are kept per path for rule comments and source line spans. A single pass over the lines
with a small regex per line: no ciscoconfparse2 (it needs ~9 s per 50k Junos lines).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

from cfgwatch.model import AddressSet, PortSet
from cfgwatch.model.ports import PORT_MAX
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._misc_common import v4_interval

Path = tuple[str, ...]

# Real configs nest a dozen levels; past this a block is skipped with a diagnostic. Every statement holds
# its whole path, so 20,000 nested braces would otherwise cost memory in the square of the depth (1.5 GB).
MAX_DEPTH = 128

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(/\*)|(#.*)|([{};\[\]])|([^\s{};\[\]"]+)')
_SET_VERBS = frozenset(
    {"set", "deactivate", "activate", "delete", "annotate", "insert", "move", "protect", "unprotect"}
)
_PREFIX_MARKS = frozenset({"replace:", "protect:", "delete:"})
_CONTROL_TOKENS = frozenset({";", "{", "}", "inactive:"}) | _PREFIX_MARKS  # tokens flatten acts on
_SPECIAL_MARKS = ('"', "#", "{", "}", ";", "[", "]", "/*")  # what makes a line more than whitespace-split words


class Stmt(NamedTuple):
    """One leaf statement: the full path from the root, and its 1-based line.

    A tuple rather than a frozen dataclass: one is built per config line, so construction cost counts.
    """

    path: Path
    line: int


# Stmt(path, line) without the generated Python-level __new__: one C call for the 50k statements of a set config
_new_stmt = tuple.__new__


@dataclass(slots=True)
class FlatConfig:
    """The flattened config: leaf statements in file order plus per-path metadata."""

    statements: list[Stmt] = field(default_factory=list)
    inactive: set[Path] = field(default_factory=set)
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)
    annotations: dict[Path, str] = field(default_factory=dict)
    unsupported: list[tuple[int, str]] = field(default_factory=list)  # (line, verb) of set verbs not modelled
    too_deep: list[int] = field(default_factory=list)  # lines of blocks nested past MAX_DEPTH (not read)
    set_form: bool = False
    mentions_groups: bool = True  # False when the text has no "groups" at all: nothing for expand_groups

    def inactive_depth(self, path: Path) -> int | None:
        """Length of the shortest inactive prefix of `path` (None when the path is fully active)."""
        if not self.inactive:
            return None
        for depth in range(1, len(path) + 1):
            if path[:depth] in self.inactive:
                return depth
        return None


def _unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def tokenize_line(line: str) -> tuple[list[str], bool]:
    """Tokens of one line; the flag says an unterminated `/*` comment starts on this line."""
    if '"' not in line and "#" not in line and "/*" not in line:
        for mark in "{};[]":
            if mark in line:  # a search is cheaper than a replace that finds nothing
                line = line.replace(mark, f" {mark} ")
        return line.split(), False
    out: list[str] = []
    pos = 0
    while True:
        match = _TOKEN.search(line, pos)
        if match is None:
            return out, False
        quoted, comment, _hash, punct, word = match.groups()
        if comment is not None:
            end = line.find("*/", match.end())
            if end < 0:
                out.append("/*" + line[match.end() :])
                return out, True
            out.append("/*" + line[match.end() : end])
            pos = end + 2
            continue
        if _hash is not None:
            return out, False
        if quoted is not None:
            out.append('"' + _unquote(quoted))
        elif punct is not None:
            out.append(punct)
        else:
            out.append(word)
        pos = match.end()


def _clean_comment(raw: str) -> str:
    lines = [part.strip().lstrip("*").strip() for part in config_lines(raw)]
    return "\n".join(part for part in lines if part)


def _expand(tokens: list[str]) -> list[Path]:
    """`a b [ c d ] e` -> (a b c e), (a b d e): Junos/PAN-OS list syntax as one statement per value."""
    if "[" not in tokens:
        return [tuple(tokens)]
    start = tokens.index("[")
    try:
        end = tokens.index("]", start)
    except ValueError:
        end = len(tokens)
    head, values, tail = tokens[:start], tokens[start + 1 : end], tokens[end + 1 :]
    if not values:
        return [tuple(head + tail)]
    out: list[Path] = []
    for value in values:
        out.extend(_expand([*head, value, *tail]))
    return out


def _plain_set_lines(flat: FlatConfig, lines: list[str]) -> int:
    """The leading `set` and blank lines of a text without quotes, comments, braces or brackets, read the
    way flatten's loop reads them from a clean state (no open block, statement or comment), in a tight
    loop; returns the index of the first other line, where flatten's general loop takes over."""
    append = flat.statements.append
    for index, raw in enumerate(lines):
        stripped = raw.lstrip()
        if stripped.startswith("set "):
            append(_new_stmt(Stmt, (tuple(stripped.split()[1:]), index + 1)))
        elif stripped:
            break
    else:
        index = len(lines)
    if flat.statements:
        flat.set_form = True
    return index


def flatten(text: str, lines: list[str] | None = None) -> tuple[FlatConfig, list[str]]:
    """Flatten curly-brace and/or set-command text (both may appear in one file) into statements.

    `lines` is `config_lines(text)` when the caller already has it (saves a second split of a big config).
    """
    if lines is None:
        lines = config_lines(text)
    flat = FlatConfig(mentions_groups="groups" in text)
    # No quote, comment, brace, `;` or list bracket anywhere: every `set` line is plain, no per-line checks.
    plain_text = not any(mark in text for mark in _SPECIAL_MARKS)
    stack: list[tuple[Path, int, list[bool]]] = []  # (path, start line, [has children])
    base: Path = ()
    pending: list[str] = []  # tokens of the statement being read (may span lines)
    pending_line = 0
    note: str | None = None  # pending /* annotation */
    in_comment: list[str] | None = None
    inactive_next = False
    skip = 0  # depth inside a block nested past MAX_DEPTH (its tokens are only counted, not read)
    start = _plain_set_lines(flat, lines) if plain_text else 0
    for number, raw in enumerate(islice(lines, start, None), start + 1):
        if in_comment is not None:
            end = raw.find("*/")
            if end < 0:
                in_comment.append(raw)
                continue
            in_comment.append(raw[:end])
            note = _clean_comment("\n".join(in_comment))
            in_comment = None
            raw = raw[end + 2 :]
        stripped = raw.lstrip()
        if not stripped:
            continue
        if not stack and pending and stripped.split(None, 1)[0] in _SET_VERBS:
            # words with no `;` or brace before a set command: a CLI session line of a command script
            # (`configure`, `edit`, `top`), not the start of a statement that would swallow the script
            flat.unsupported.append((pending_line, pending[0]))
            pending, inactive_next, note = [], False, None
        if not stack and not pending:
            if (  # a plain `set a b c` (nothing tokenize_line treats beyond whitespace): what _set_command makes
                stripped.startswith("set ")
                and (
                    plain_text  # spelled out below, not any(...): this runs once per line of a big config
                    or (
                        '"' not in stripped
                        and "#" not in stripped
                        and "{" not in stripped
                        and "}" not in stripped
                        and ";" not in stripped
                        and "[" not in stripped
                        and "]" not in stripped
                        and "/*" not in stripped
                    )
                )
            ):
                flat.set_form = True
                flat.statements.append(_new_stmt(Stmt, (tuple(stripped.split()[1:]), number)))
                continue
            first = stripped.split(None, 1)[0]
            if first in _SET_VERBS:
                _set_command(flat, stripped, number)
                continue
        tokens, opens_comment = tokenize_line(raw)
        for index, token in enumerate(tokens):
            if skip:  # inside a block nested past MAX_DEPTH: only its braces are counted
                skip += (token == "{") - (token == "}")
                continue
            if token not in _CONTROL_TOKENS:  # most tokens: a word of the statement being read
                if token.startswith("/*"):
                    if opens_comment and index == len(tokens) - 1:
                        in_comment = [token[2:]]
                    else:
                        note = _clean_comment(token[2:])
                    continue
                if not pending:
                    pending_line = number
                pending.append(token)
                continue
            if token == "inactive:":
                inactive_next = True
                continue
            if token in _PREFIX_MARKS:
                if pending:  # a word like any other once a statement has started
                    pending.append(token)
                continue
            if token == ";":
                if pending:
                    for path in _expand(pending):
                        full = base + _unquoted(path)
                        flat.statements.append(Stmt(full, pending_line))
                        if inactive_next:
                            flat.inactive.add(full)
                        if note is not None:
                            flat.annotations[full] = note
                    if stack:
                        stack[-1][2][0] = True
                pending, inactive_next, note = [], False, None
                continue
            if token == "{" and len(stack) >= MAX_DEPTH:
                flat.too_deep.append(number)
                pending, inactive_next, note = [], False, None
                skip = 1
                continue
            if token == "{":
                if "[" in pending or "]" in pending:
                    pending = [t for t in pending if t not in ("[", "]")]
                head = base + _unquoted(pending)
                if inactive_next:
                    flat.inactive.add(head)
                if note is not None:
                    flat.annotations[head] = note
                if stack:
                    stack[-1][2][0] = True
                stack.append((base, pending_line or number, [False]))
                base = head
                pending, inactive_next, note = [], False, None
                continue
            # token == "}"
            if pending:  # a statement without its `;` before the brace
                for path in _expand(pending):
                    flat.statements.append(Stmt(base + _unquoted(path), pending_line))
                pending = []
                if stack:
                    stack[-1][2][0] = True
            if not stack:
                continue
            parent, start, has_children = stack.pop()
            flat.spans[base] = (start, number)
            if not has_children[0] and base:
                flat.statements.append(Stmt(base, start))
            base = parent
            inactive_next, note = False, None
    if pending and not stack and flat.set_form:  # a trailing `commit` / `exit` of a command script
        flat.unsupported.append((pending_line, pending[0]))
    return flat, lines


def _insert(flat: FlatConfig, words: list[str]) -> bool:
    """`insert PATH KEYWORD NAME before|after KEYWORD OTHER`: move the element's statements next to its
    sibling's, as the Junos CLI reorders ordered lists (policies, terms, rules: first match wins)."""
    where = next((i for i, word in enumerate(words) if word in ("before", "after")), -1)
    if where < 2 or len(words) != where + 3:
        return False
    moved = tuple(words[:where])
    return _place(flat, moved, moved[:-2] + tuple(words[where + 1 :]), before=words[where] == "before")


def _move(flat: FlatConfig, words: Sequence[str]) -> bool:
    """PAN-OS `move PATH NAME top|bottom|before OTHER|after OTHER`: reorder a rule in its rulebase."""
    if len(words) >= 2 and words[-1] in ("top", "bottom"):
        moved = tuple(words[:-1])
        return _place(flat, moved, moved[:-1], before=words[-1] == "top")
    if len(words) >= 3 and words[-2] in ("before", "after"):
        moved = tuple(words[:-2])
        return _place(flat, moved, (*moved[:-1], words[-1]), before=words[-2] == "before")
    return False


def _place(flat: FlatConfig, moved: Path, target: Path, *, before: bool) -> bool:
    """Move the statements under `moved` before the first / after the last statement under `target`."""
    size, width = len(moved), len(target)
    if target == moved:
        return True
    keep = [stmt for stmt in flat.statements if stmt.path[:size] != moved]
    taken = [stmt for stmt in flat.statements if stmt.path[:size] == moved]
    spots = [i for i, stmt in enumerate(keep) if stmt.path[:width] == target]
    if not taken or not spots:
        return False
    at = spots[0] if before else spots[-1] + 1
    flat.statements = keep[:at] + taken + keep[at:]
    return True


def _strip_quote(token: str) -> str:
    return token[1:] if token.startswith('"') else token


def _unquoted(tokens: Sequence[str]) -> Path:
    """Tokens as path words: a quoted token (kept as '"' + text) loses its mark.

    Only quoted tokens contain '"' at all, so one search of the joined words skips the per-token work.
    """
    if '"' not in "".join(tokens):
        return tuple(tokens)
    return tuple(_strip_quote(t) for t in tokens)


def _set_command(flat: FlatConfig, line: str, number: int) -> None:
    """One `set`/`deactivate`/`activate`/`delete` command of the set form."""
    flat.set_form = True
    tokens, _ = tokenize_line(line)
    if "/*" in line:
        tokens = [t for t in tokens if not t.startswith("/*")]
    verb = tokens[0]
    rest = [_strip_quote(t) for t in tokens[1:]] if '"' in line else tokens[1:]
    if verb == "set" and "[" not in rest:
        flat.statements.append(Stmt(tuple(rest), number))
        return
    if verb == "set":
        for path in _expand(rest):
            flat.statements.append(Stmt(path, number))
    elif verb == "deactivate":
        flat.inactive.add(tuple(t for t in rest if t not in ("[", "]")))
    elif verb == "activate":
        flat.inactive.discard(tuple(rest))
    elif verb == "delete":
        prefix = tuple(rest)
        size = len(prefix)
        flat.statements = [s for s in flat.statements if s.path[:size] != prefix]
        flat.inactive = {p for p in flat.inactive if p[:size] != prefix}
    elif verb == "insert":
        if not _insert(flat, [t for t in rest if t not in ("[", "]")]):  # names no element we hold
            flat.unsupported.append((number, verb))
    elif verb == "move":
        if not _move(flat, rest):
            flat.unsupported.append((number, verb))
    elif verb not in ("protect", "unprotect"):  # annotate: a comment
        flat.unsupported.append((number, verb))


def expand_groups(flat: FlatConfig, wanted: frozenset[str]) -> None:
    """Apply Junos `apply-groups` (and honour `apply-groups-except`) for top-level stanzas in `wanted`.

    Group statements are copied to where the group is applied; `<*>`-style wildcards match names the
    configuration already has at that position.
    """
    if not flat.mentions_groups:  # no `groups`, `apply-groups` or `apply-groups-except` statement anywhere
        return
    groups: dict[str, list[Stmt]] = {}
    applies: list[tuple[Path, str]] = []
    excepts: set[tuple[Path, str]] = set()
    kept: list[Stmt] = []
    for stmt in flat.statements:
        path = stmt.path
        if path and path[0] == "groups" and len(path) > 2:
            groups.setdefault(path[1], []).append(Stmt(path[2:], stmt.line))
            continue
        if len(path) >= 2 and path[-2] == "apply-groups":
            if flat.inactive_depth(path) is None:
                applies.append((path[:-2], path[-1]))
            continue
        if len(path) >= 2 and path[-2] == "apply-groups-except":
            excepts.add((path[:-2], path[-1]))
            continue
        kept.append(stmt)
    if not applies:
        flat.statements = kept
        return
    existing = [s.path for s in kept]
    added: list[Stmt] = []
    seen: set[Path] = set()
    for prefix, group in applies:
        for stmt in groups.get(group, ()):
            path = stmt.path
            if path[: len(prefix)] != prefix and not _wild_prefix(path, prefix):
                continue
            if not path or path[0] not in wanted:
                continue
            for concrete in _instantiate(path, existing):
                if any((concrete[:size], group) in excepts for size in range(len(prefix), len(concrete) + 1)):
                    continue
                if concrete not in seen:
                    seen.add(concrete)
                    added.append(Stmt(concrete, stmt.line))
    flat.statements = kept + added


def _is_wild(token: str) -> bool:
    return token.startswith("<") and token.endswith(">")


def _wild_prefix(path: Path, prefix: Path) -> bool:
    if len(path) < len(prefix):
        return False
    return all(p == q or (_is_wild(p) and fnmatch.fnmatchcase(q, p[1:-1])) for p, q in zip(path, prefix, strict=False))


def _instantiate(path: Path, existing: list[Path]) -> list[Path]:
    """Concrete paths for a group statement: itself, or one per configured name its wildcards match."""
    positions = [i for i, token in enumerate(path) if _is_wild(token)]
    if not positions:
        return [path]
    last = positions[-1]
    out: list[Path] = []
    seen: set[Path] = set()
    for other in existing:
        if len(other) <= last:
            continue
        ok = True
        for i in range(last + 1):
            token = path[i]
            if _is_wild(token):
                if not fnmatch.fnmatchcase(other[i], token[1:-1]):
                    ok = False
                    break
            elif token != other[i]:
                ok = False
                break
        if ok:
            head = other[: last + 1]
            if head not in seen:
                seen.add(head)
                out.append(head + path[last + 1 :])
    return out


@lru_cache(maxsize=65_536)
def parse_address(text: str) -> AddressSet:
    """AddressSet.parse for one spec, with a fast path for plain IPv4 (raises ValueError on junk).

    Cached by text: configs name the same prefixes over and over, and AddressSet is immutable.
    """
    interval = v4_interval(text)
    if interval is not None:
        return AddressSet(v4=(interval,))
    return AddressSet.parse(text)


@lru_cache(maxsize=16_384)
def parse_ports(text: str) -> PortSet:
    """PortSet.parse cached by text (raises ValueError on junk; errors are not cached).

    A plain port number (most specs) is built directly: the same one-port set PortSet.parse makes.
    """
    if text.isascii() and text.isdigit():
        value = int(text)
        if value <= PORT_MAX:
            return PortSet(((value, value),))
    return PortSet.parse(text)
