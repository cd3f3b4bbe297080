"""Rollback commands per finding: the device commands that undo exactly this finding's config lines.

cfgwatch never applies them; reports show them so a reviewer can act. Two ways, chosen by platform:

* Indented Cisco-style configs (IOS, NX-OS, IOS-XR, ASA through ciscoconfparse2's `Diff`; Arista EOS through
  hier_config's own "eos" driver, which `Diff` does not accept): the target is the newer config with this
  finding's lines taken out and the older lines put back (under their parent stanza); the remediation from
  the newer config to that target removes exactly this finding, and nothing else differs.
* Everything else from the parsed source lines: iptables `-D`/`-I`, nft `delete rule ... handle` (looked up by
  the rule's text) / `add|insert rule`, nft set `delete|add element`, RouterOS `remove [find ...]` / `add`,
  `delete`/`set` paths for Junos, VyOS and PAN-OS (set, brace or PAN-OS XML form), FortiOS `delete`/`unset`/`set` inside
  the `config` / `edit` context. ciscoconfparse2's `Diff(syntax="junos")` runs the IOS driver and answers
  `no set ...`, which is not Junos, so Junos takes this way too.

When neither way can serve a change (no config lines, Junos/VyOS XML, an nft map, ...) the rollback says so in
`note` and has no commands: a guessed command is worse than none.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from cfgwatch.model import to_json
from cfgwatch.model.changes import ChangeType, RuleChange, SourceLines
from cfgwatch.model.text import config_lines

# platform -> ciscoconfparse2 Diff syntax (or hier_config driver for "eos")
HIER_SYNTAX = {
    "cisco_ios": "ios",
    "cisco_nxos": "nxos",
    "cisco_xr": "iosxr",
    "cisco_asa": "asa",
    "arista_eos": "eos",
}
SET_PLATFORMS = frozenset({"juniper_junos", "vyos", "paloalto_panos"})

HIER_CONFIG = "hier_config"  # method names (JSON contract)
SOURCE_LINES = "source-lines"
UNSUPPORTED = "unsupported"
NOTHING = "nothing-to-undo"


@dataclass(frozen=True, slots=True)
class Rollback:
    """How to undo one finding on its device: commands in the device's syntax, or why there are none."""

    method: str  # hier_config | source-lines | unsupported | nothing-to-undo
    syntax: str  # e.g. ios, eos, iptables, nft, routeros, junos, vyos, panos, fortios ('' when unsupported)
    commands: tuple[str, ...] = ()
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "syntax": self.syntax, "commands": list(self.commands), "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rollback:
        return cls(data["method"], data["syntax"], tuple(data["commands"]), data["note"])


NOT_KNOWN = Rollback(UNSUPPORTED, "", note="the configs of this change were not available to the report")


def rollback_for(change: RuleChange, text_before: str | None, text_after: str | None) -> Rollback:
    """The commands that turn `text_after` back into `text_before` for this one change only."""
    old, new = change.lines_before, change.lines_after
    if old is None and new is None:
        return Rollback(UNSUPPORTED, "", note="no config lines are known for this change")
    if old is not None and new is not None and old.lines == new.lines:
        why = "; ".join(change.reasons) or "its meaning changed elsewhere"
        return Rollback(
            NOTHING, "", note=f"the rule's own lines did not change ({why}): roll back that object change instead"
        )
    after = config_lines(text_after) if text_after is not None else None
    before = config_lines(text_before) if text_before is not None else None
    if (new is not None and after is None) or (old is not None and before is None):
        return NOT_KNOWN
    try:
        rollback = _by_platform(change, before, after)
    except Exception as exc:  # hier_config or a tokenizer choking on odd text must not stop the whole report
        return Rollback(UNSUPPORTED, "", note=f"no rollback could be derived: {type(exc).__name__}: {exc}")
    return _with_missing_objects(rollback, change, before, after)


def _by_platform(change: RuleChange, before: list[str] | None, after: list[str] | None) -> Rollback:
    old, new = change.lines_before, change.lines_after
    platform = change.platform
    try:
        if platform in HIER_SYNTAX:
            if after is None:
                raise _Unsupported("the device is not in the newer snapshot: restore its whole config")
            return _hier(change, HIER_SYNTAX[platform], after, before)
        if platform in SET_PLATFORMS:
            return _set_paths(change, before, after)
        if platform == "fortinet":
            return _fortios(old, new, before, after)
        if platform == "mikrotik_routeros":
            return _routeros(old, new, before, after)
        if platform == "linux":
            return _linux(old, new, before, after)
    except _Unsupported as exc:
        return Rollback(UNSUPPORTED, "", note=str(exc))
    except _Nothing as exc:
        return Rollback(NOTHING, "", note=str(exc))
    return Rollback(UNSUPPORTED, "", note=f"cfgwatch derives no rollback commands for platform {platform}")


_WORD = re.compile(r"[^\s\"'{};\[\]]+")


def _with_missing_objects(
    rollback: Rollback, change: RuleChange, before: Sequence[str] | None, after: Sequence[str] | None
) -> Rollback:
    """Say so when the restored rule names objects the older config defined and the newer one no longer has.

    Defined = named in the older config outside the rule's own lines; names only the rule itself mentions are
    the platform's own (Junos `junos-http`, FortiOS `HTTP`, PAN-OS `application-default`)."""
    old = change.lines_before
    if change.before is None or old is None or before is None or rollback.method not in (HIER_CONFIG, SOURCE_LINES):
        return rollback
    elsewhere = set(_WORD.findall("\n".join([*before[: old.start - 1], *before[old.end :]])))
    now = set(_WORD.findall("\n".join(after or [])))
    missing = sorted(name for name in _names(to_json(change.before)) if name in elsewhere and name not in now)
    if not missing:
        return rollback
    text = f"re-create {', '.join(missing)} first: the newer config no longer defines them"
    return replace(rollback, note=f"{rollback.note}; {text}" if rollback.note else text)


def _names(data: Any) -> set[str]:
    """Object names a rule refers to (the `names` of its address and port sets, at any depth)."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "names" and isinstance(value, list):
                found.update(str(name) for name in value if isinstance(name, str))
            else:
                found |= _names(value)
    elif isinstance(data, list):
        for item in data:
            found |= _names(item)
    return found


class _Unsupported(Exception):
    """This change cannot be rolled back by the chosen way; the message says why."""


class _Nothing(Exception):
    """The change's statements are the same on both sides: its meaning changed through an object."""


def _span(lines: Sequence[str], part: SourceLines) -> list[str]:
    return list(lines[part.start - 1 : part.end])


# --- indented Cisco-style configs (ciscoconfparse2 Diff / hier_config) -----------------------------------

_BANG = re.compile(r"^\s*(!.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parents(lines: Sequence[str], start: int) -> list[str]:
    """The stanza lines enclosing 1-based line `start` (outermost first), by indentation."""
    level = _indent(lines[start - 1])
    found: list[str] = []
    for index in range(start - 2, -1, -1):
        if level == 0:
            break
        line = lines[index]
        if _BANG.match(line):
            continue
        if _indent(line) < level:
            found.append(line)
            level = _indent(line)
    return list(reversed(found))


def hier_target(change: RuleChange, after: Sequence[str], before: Sequence[str] | None) -> list[str]:
    """The newer config with this change undone textually: its new lines out, its old lines back in place."""
    target = list(after)
    old, new = change.lines_before, change.lines_after
    restored: list[str] = []
    if old is not None and before is not None:
        restored = _span(before, old)
    if new is not None:
        target[new.start - 1 : new.end] = restored
    elif restored and old is not None and before is not None:
        target.extend(parents(before, old.start) + restored)  # hier_config merges it into the parent stanza
    return target


def _top_level(lines: Sequence[str], start: int) -> str:
    """The top-level line of the stanza holding 1-based line `start` (the line itself at the top level)."""
    enclosing = parents(lines, start)
    return (enclosing[0] if enclosing else lines[start - 1]).rstrip()


def only_stanzas(lines: Sequence[str], headers: set[str]) -> list[str]:
    """The top-level stanzas (a line at indent 0 and the indented lines under it) whose first line is in `headers`.

    hier_config remediates each top-level stanza on its own, so the stanzas a change touches give the same
    commands as the whole config, and a 50k-line config is not parsed twice per finding."""
    out: list[str] = []
    keep = False
    for line in lines:
        if _BANG.match(line):
            continue
        if _indent(line) == 0:
            keep = line.rstrip() in headers
        if keep:
            out.append(line)
    return out


_NUMBERED = re.compile(r"access-list (\d+) (.*)")


def _ios_numbered_kind(number: int) -> str | None:
    """IOS numbered ACL ranges: standard 1-99/1300-1999, extended 100-199/2000-2699 (others: not IP lists)."""
    if 1 <= number <= 99 or 1300 <= number <= 1999:
        return "standard"
    if 100 <= number <= 199 or 2000 <= number <= 2699:
        return "extended"
    return None


def _ios_position(lines: Sequence[str], start: int, number: str) -> int:
    """1-based position of line `start` among the `access-list <number>` lines of a config."""
    prefix = f"access-list {number} "
    return 1 + sum(1 for line in lines[: start - 1] if line.startswith(prefix))


def _ios_numbered(change: RuleChange, after: list[str], before: list[str] | None) -> Rollback | None:
    """IOS numbered ACL entries by sequence number: `no access-list 101 permit ...` would delete all of list 101.

    IOS numbers the entries of a list 10, 20, ... in config order; the entry is removed with `no <seq>` and an
    old one is put back between its neighbours with `<seq> ...` under `ip access-list <kind> <number>`."""
    spans = [(after, change.lines_after), (before, change.lines_before)]
    texts = [line for lines, part in spans if lines is not None and part is not None for line in _span(lines, part)]
    if not texts or not all(_NUMBERED.fullmatch(line.strip()) for line in texts):
        return None
    commands: list[str] = []
    for lines, part in spans:
        if lines is None or part is None:
            continue
        for offset, line in enumerate(_span(lines, part)):
            found = _NUMBERED.fullmatch(line.strip())
            assert found is not None
            number, rest = found.groups()
            kind = _ios_numbered_kind(int(number))
            if kind is None:
                raise _Unsupported(f"access-list {number} is not an IP access list cfgwatch can address by sequence")
            position = _ios_position(lines, part.start + offset, number)
            if lines is after:
                commands += [f"ip access-list {kind} {number}", f" no {position * 10}"]
            else:
                commands += [f"ip access-list {kind} {number}", f" {(position - 1) * 10 + 5} {rest}"]
    note = (
        "IOS numbered list entries by sequence number (`no access-list N ...` would delete the whole list); "
        "assumes IOS's default numbering 10, 20, ...: check `show access-lists` if the list was resequenced"
    )
    return Rollback(SOURCE_LINES, "ios", tuple(commands), note)


def _hier(change: RuleChange, syntax: str, after: list[str], before: list[str] | None) -> Rollback:
    if syntax == "ios":
        numbered = _ios_numbered(change, after, before)
        if numbered is not None:
            return numbered
    headers = set()
    if change.lines_after is not None:
        headers.add(_top_level(after, change.lines_after.start))
    if change.lines_before is not None and before is not None:
        headers.add(_top_level(before, change.lines_before.start))
    target = only_stanzas(hier_target(change, after, before), headers)
    whole_after = after
    after = only_stanzas(after, headers)
    if syntax == "eos":
        commands = _hier_config_remediation("eos", after, target)
        note = "hier_config's eos driver (ciscoconfparse2's Diff accepts no eos syntax)"
    else:
        from ciscoconfparse2 import Diff

        commands = [line.rstrip() for line in Diff(after, target, syntax=syntax).get_diff()]
        note = f"ciscoconfparse2 Diff(syntax={syntax!r})"
    old = change.lines_before
    if syntax == "ios" and old is not None and before is not None:
        commands, placed = _ios_sequenced(commands, before, old)
        if placed:
            note += (
                "; restored named-list entries get the sequence number between their old neighbours "
                "(IOS numbers entries 10, 20, ...: check `show access-lists` if the list was resequenced)"
            )
    if change.family == "filter" and old is not None and change.change is not ChangeType.ADDED:
        first = old.lines[0].strip() if old.lines else ""
        if not re.match(r"\d+\s", first) and not first.startswith("access-list") and "sequence number" not in note:
            note += "; a restored entry without a sequence number goes to the end of its list: check its position"
        elif first.startswith("access-list") and syntax == "asa":
            note += "; a restored access-list entry is appended: add `line N` to put it back at its position"
    if not commands:  # hier_config's idempotency rules took the lines for one (an XR remark sharing a sequence)
        commands = _negated(change, whole_after, before)
        if not commands:
            raise _Unsupported(f"{note} found no difference to undo")
        return Rollback(SOURCE_LINES, syntax, tuple(commands), f"{note} saw no difference: `no` of the lines instead")
    return Rollback(HIER_CONFIG, syntax, tuple(commands), note)


def _negated(change: RuleChange, after: Sequence[str], before: Sequence[str] | None) -> list[str]:
    """Cisco-style undo from the lines themselves: `no <line>` for the new lines, the old lines back, each
    under its parent stanza lines."""
    commands: list[str] = []
    for lines, part, negate in ((after, change.lines_after, True), (before, change.lines_before, False)):
        if lines is None or part is None:
            continue
        context = parents(lines, part.start)
        commands += [line.rstrip() for line in context if line.rstrip() not in commands]
        for line in _span(lines, part):
            margin = line[: _indent(line)]
            commands.append(f"{margin}no {line.strip()}" if negate else line.rstrip())
    return commands


_NAMED_ACL = re.compile(r"ip access-list (standard|extended) \S+")


def _ios_sequenced(commands: list[str], before: Sequence[str], old: SourceLines) -> tuple[list[str], bool]:
    """Restored entries of an IOS named ACL without sequence numbers get one between their old neighbours, so
    they do not land at the end of the list (the position decides what a first-match list does)."""
    enclosing = parents(before, old.start)
    if len(enclosing) != 1 or not _NAMED_ACL.fullmatch(enclosing[0].strip()):
        return commands, False
    header = enclosing[0].rstrip()
    start = before.index(header) if header in before else None
    if start is None:
        return commands, False
    entries = []  # the list's entries in order (remarks carry no sequence number of their own here)
    for line in before[start + 1 :]:
        if _indent(line) == 0:
            break
        if line.strip() and not line.strip().startswith("remark"):
            entries.append(line.strip())
    out = list(commands)
    placed = False
    for text in (line.strip() for line in old.lines):
        if re.match(r"\d+\s", text) or text.startswith("remark") or text not in entries:
            continue
        sequence = entries.index(text) * 10 + 5
        words = text.split()
        for index, command in enumerate(out):
            # hier_config numbers a restored entry by its place at the end of the list ("40 deny ..."): renumber
            if _indent(command) and re.sub(r"^\d+\s+", "", command.strip()).split() == words:
                out[index] = command[: _indent(command)] + f"{sequence} {' '.join(words)}"
                placed = True
    return out, placed


def _hier_config_remediation(driver: str, running: Sequence[str], generated: Sequence[str]) -> list[str]:
    from hier_config import Host

    host = Host("cfgwatch", driver, {})
    host.load_running_config("\n".join(running))
    host.load_generated_config("\n".join(generated))
    return [node.cisco_style_text().rstrip() for node in host.remediation_config().all_children_sorted()]


# --- set-path platforms: Junos, VyOS, PAN-OS ------------------------------------------------------------


def _quote(token: str) -> str:
    if token and re.fullmatch(r"[^\s\"';{}\[\]#]+", token):
        return token
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _expand_list(tokens: list[str]) -> list[list[str]]:
    """`a [ b c ] d` -> `a b d`, `a c d`: one statement per member of a Junos/PAN-OS list."""
    if "[" not in tokens:
        return [tokens]
    start = tokens.index("[")
    end = tokens.index("]", start) if "]" in tokens[start:] else len(tokens)
    head, members, tail = tokens[:start], tokens[start + 1 : end], tokens[end + 1 :]
    return [path for member in members for path in _expand_list([*head, member, *tail])] or [head + tail]


def _newline_leaves(lines: Sequence[str], first: int, last: int) -> list[list[str]]:
    """VyOS `show configuration` braces, where a leaf ends at the end of its line (no `;`), to set paths."""
    out: list[list[str]] = []
    stack: list[list[str]] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith(("/*", "//", "#")):
            continue
        if line == "}":
            if stack:
                stack.pop()
            continue
        try:
            tokens = shlex.split(line, posix=False)
        except ValueError as exc:
            raise _Unsupported(f"line {number}: cannot split {line!r}: {exc}") from exc
        if tokens[-1] == "{":
            stack.append(tokens[:-1])
        elif first <= number <= last:
            out.append([token for part in stack for token in part] + tokens)
    return out


def set_statements(
    lines: Sequence[str], first: int = 1, last: int | None = None, *, vyos: bool = False
) -> list[list[str]]:
    """The leaf statements of lines `first`..`last` as token paths (without `set`), from set or brace text.

    Brace text is Junos/PAN-OS style (`;` ends a leaf) unless `vyos`, whose leaves end at the line's end."""
    last = len(lines) if last is None else last
    span = lines[first - 1 : last]
    if all(not line.strip() or line.lstrip().startswith(("set ", "#")) for line in span):
        out: list[list[str]] = []
        for number, line in enumerate(span, start=first):
            text = line.strip()
            if text.startswith("set "):
                try:
                    out.extend(_expand_list(shlex.split(text, posix=False)[1:]))
                except ValueError as exc:
                    raise _Unsupported(f"line {number}: cannot split {text!r}: {exc}") from exc
        return out
    if vyos:
        return _newline_leaves(lines, first, last)
    from cfgwatch.vendors._junos_tree import flatten

    flat, _ = flatten("\n".join(lines))
    return [[_quote(token) for token in stmt.path] for stmt in flat.statements if first <= stmt.line <= last]


def xml_statements(lines: Sequence[str], first: int = 1, last: int | None = None) -> list[list[str]]:
    """PAN-OS XML leaves of lines `first`..`last` as CLI set paths: `<entry name=X>` and `<member>X</member>`
    become the token X; the firewall's own `devices localhost.localdomain` and `vsys vsys1` prefix is the CLI's
    context and dropped (other vsys, device groups and `shared` stay in the path)."""
    from lxml import etree

    last = len(lines) if last is None else last
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        root = etree.fromstring("\n".join(lines).encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise _Unsupported(f"PAN-OS XML cannot be read: {exc}") from exc
    out: list[list[str]] = []

    def walk(element: Any, path: list[str]) -> None:
        tag, name = element.tag, element.get("name")
        children = [child for child in element if isinstance(child.tag, str)]
        text = (element.text or "").strip()
        if tag == "member":
            if first <= element.sourceline <= last:
                out.append([*path, text])
            return
        here = [*path, name] if tag == "entry" and name is not None else [*path, tag]
        if children:
            for child in children:
                walk(child, here)
        elif first <= element.sourceline <= last:
            out.append([*here, text] if text else here)

    for child in root:
        if isinstance(child.tag, str):
            walk(child, [])
    trimmed = []
    for path in out:
        if path[:1] == ["devices"]:
            path = path[2:]
        if path[:2] == ["vsys", "vsys1"]:
            path = path[2:]
        trimmed.append([_quote(token) for token in path])
    return trimmed


def _common_prefix(paths: Sequence[Sequence[str]]) -> list[str]:
    prefix = list(paths[0])
    for path in paths[1:]:
        size = 0
        while size < min(len(prefix), len(path)) and prefix[size] == path[size]:
            size += 1
        prefix = prefix[:size]
    return prefix


def _set_paths(change: RuleChange, before: list[str] | None, after: list[str] | None) -> Rollback:
    """Delete the statements only the newer config has, set those only the older one had (for this span)."""
    syntax = {"juniper_junos": "junos", "vyos": "vyos", "paloalto_panos": "panos"}[change.platform]
    vyos = syntax == "vyos"
    def is_xml(lines: Sequence[str]) -> bool:
        return next((line.lstrip() for line in lines if line.strip()), "").startswith("<")

    if syntax != "panos" and any(text is not None and is_xml(text) for text in (before, after)):
        raise _Unsupported(f"{syntax} XML config: cfgwatch derives CLI commands from set or brace text only")

    def statements(lines: Sequence[str], first: int = 1, last: int | None = None) -> list[list[str]]:
        return xml_statements(lines, first, last) if is_xml(lines) else set_statements(lines, first, last, vyos=vyos)
    old_all = {tuple(path) for path in statements(before)} if before is not None else set()
    new_all = {tuple(path) for path in statements(after)} if after is not None else set()
    commands: list[str] = []
    if change.lines_after is not None and after is not None:
        paths = statements(after, change.lines_after.start, change.lines_after.end)
        gone = [path for path in paths if tuple(path) not in old_all]
        node = _common_prefix(paths) if len(paths) > 1 else []
        if node and len(gone) == len(paths) and not any(path[: len(node)] == tuple(node) for path in old_all):
            commands.append("delete " + " ".join(node))  # the whole rule is new: delete the rule
        else:
            commands.extend("delete " + " ".join(path) for path in gone)
    note = "delete/set paths from the config lines"
    if change.lines_before is not None and before is not None:
        paths = statements(before, change.lines_before.start, change.lines_before.end)
        commands.extend("set " + " ".join(path) for path in paths if tuple(path) not in new_all)
        node = _common_prefix(paths) if len(paths) > 1 else []
        if node and not any(path[: len(node)] == tuple(node) for path in new_all):
            place = _place_before(syntax, node, statements(before), new_all)
            if place:
                commands.append(place)
    if not commands:
        why = "; ".join(change.reasons) or "its meaning changed elsewhere"
        raise _Nothing(f"the rule's own statements did not change ({why}): roll back that object change instead")
    return Rollback(SOURCE_LINES, syntax, tuple(commands), note)


def _place_before(
    syntax: str, node: Sequence[str], before_all: Sequence[Sequence[str]], new_all: set[tuple[str, ...]]
) -> str | None:
    """The command that moves a re-created node back before the sibling that followed it (None: it was last)."""
    parent, ident = list(node[:-1]), node[-1]
    seen = False
    for path in before_all:
        if list(path[: len(parent)]) != parent or len(path) <= len(parent):
            continue
        sibling = path[len(parent)]
        if sibling == ident:
            seen = True
        elif seen and any(other[: len(parent) + 1] == (*parent, sibling) for other in new_all):
            if syntax == "panos":
                return f"move {' '.join(node)} before {sibling}"
            if syntax == "junos":
                return f"insert {' '.join(node)} before {parent[-1]} {sibling}"
            return None  # VyOS orders rules by their number
    return None


# --- FortiOS ---------------------------------------------------------------------------------------------


def _forti_context(lines: Sequence[str], start: int) -> list[str]:
    """The open `config ...` / `edit ...` lines at 1-based line `start` (outermost first)."""
    stack: list[str] = []
    for line in lines[: start - 1]:
        text = line.strip()
        if text.startswith(("config ", "edit ")):
            stack.append(text)
        elif text in ("end", "next") and stack:
            stack.pop()
    return stack


def _forti_wrap(context: Sequence[str], body: Sequence[str]) -> list[str]:
    out = [("    " * depth) + line for depth, line in enumerate(context)]
    out += [("    " * len(context)) + line for line in body]
    for depth in range(len(context) - 1, -1, -1):
        out.append(("    " * depth) + ("next" if context[depth].startswith("edit ") else "end"))
    return out


def _forti_sets(span: Sequence[str]) -> dict[str, str]:
    """`set attr value` lines directly in an edit block, by attribute."""
    found: dict[str, str] = {}
    depth = 0
    for line in span:
        text = line.strip()
        if text.startswith("config "):
            depth += 1
        elif text == "end":
            depth -= 1
        elif depth == 0 and text.startswith("set "):
            found[text.split()[1]] = text
    return found


def _forti_block(lines: Sequence[str] | None, context: Sequence[str], head: str) -> list[str]:
    """The `edit` entry `head` inside `context` (the same `config` path) of a config, [] when it has none."""
    stack: list[str] = []
    start: int | None = None
    for index, line in enumerate(lines or ()):
        text = line.strip()
        if start is None and text == head and stack == list(context):
            start = index
        if text.startswith(("config ", "edit ")):
            stack.append(text)
        elif text in ("end", "next") and stack:
            stack.pop()
            if start is not None and len(stack) == len(context):
                return list((lines or [])[start : index + 1])
    return []


def _forti_follower(
    before: Sequence[str], old: SourceLines, after: Sequence[str], context: Sequence[str]
) -> str | None:
    """The id of the entry that followed the old one in its section and is still there (None: it was last)."""
    depth = 0
    for line in before[old.end :]:
        text = line.strip()
        if depth == 0 and text == "end":
            return None
        if depth == 0 and text.startswith("edit ") and _forti_block(after, context, text):
            return text.split(None, 1)[1]
        if text.startswith(("config ", "edit ")):
            depth += 1
        elif text in ("end", "next"):
            depth -= 1
    return None


def _fortios(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    body: list[str] = []
    context: list[str] = []
    new_span = _span(after, new) if new is not None and after is not None else []
    old_span = _span(before, old) if old is not None and before is not None else []
    head = (new_span or old_span)[0].strip()
    if new is not None and after is not None:
        context = _forti_context(after, new.start)
    elif old is not None and before is not None:
        context = _forti_context(before, old.start)
    if head.startswith("edit ") and not (old_span and new_span):
        # a binding or object inside an entry that both configs have (a zone's interface list): compare entries
        other = _forti_block(before if not old_span else after, context, head)
        if not old_span:
            old_span = other
        else:
            new_span = other
    if head.startswith("edit "):
        if not old_span:
            body = ["delete " + head.split(None, 1)[1]]
        elif not new_span:
            margin = min(_indent(line) for line in old_span if line.strip())
            body = [line[margin:].rstrip() for line in old_span]
            assert old is not None and before is not None
            follower = _forti_follower(before, old, after or [], context)
            if follower is not None:  # FortiOS policies match in list order: put it back where it was
                body.append(f"move {head.split(None, 1)[1]} before {follower}")
        else:
            old_sets, new_sets = _forti_sets(old_span[1:-1]), _forti_sets(new_span[1:-1])
            body = [head, *(f"    unset {attr}" for attr in new_sets if attr not in old_sets)]
            body += [f"    {line}" for attr, line in old_sets.items() if new_sets.get(attr) != line]
            body.append("next")
    elif head.startswith("set "):
        old_sets, new_sets = _forti_sets(old_span), _forti_sets(new_span)
        body = [f"unset {attr}" for attr in new_sets if attr not in old_sets]
        body += [line for attr, line in old_sets.items() if new_sets.get(attr) != line]
    else:
        raise _Unsupported(f"FortiOS change starting with {head!r} is neither an edit block nor set lines")
    return Rollback(
        SOURCE_LINES, "fortios", tuple(_forti_wrap(context, body)), "delete/unset/set in the config context"
    )


# --- RouterOS --------------------------------------------------------------------------------------------


def _routeros_menu(lines: Sequence[str], start: int) -> str:
    for line in reversed(lines[: start - 1]):
        if line.startswith("/"):
            return line.strip()
    raise _Unsupported(f"line {start}: no /menu line above the rule")


def _routeros_items(lines: Sequence[str], part: SourceLines) -> tuple[str, list[str]]:
    """The menu and the `add` properties of the span (continuation lines joined)."""
    joined: list[str] = []
    for line in _span(lines, part):
        text = line.strip()
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1].rstrip() + " " + text
        else:
            joined.append(text)
    menu = _routeros_menu(lines, part.start)
    items = []
    for text in joined:
        if text.startswith("/"):
            menu, _, text = text.partition(" ")
        if not text.startswith("add "):
            raise _Unsupported(f"RouterOS line {text!r} is not an `add` entry")
        items.append(text[4:].strip())
    return menu, items


def _routeros(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    commands: list[str] = []
    if new is not None and after is not None:
        menu, items = _routeros_items(after, new)
        commands += [f"{menu} remove [find {props}]" for props in items]
    if old is not None and before is not None:
        menu, items = _routeros_items(before, old)
        follower = _routeros_follower(before, old, after or [], menu)
        place = f" place-before=[find {follower}]" if follower else ""
        commands += [f"{menu} add {props}{place}" for props in items]
    return Rollback(SOURCE_LINES, "routeros", tuple(commands), "remove [find <the entry's properties>] / add")


def _routeros_follower(before: Sequence[str], old: SourceLines, after: Sequence[str], menu: str) -> str | None:
    """Properties of the entry that followed the old one in its menu and is still there (None: it was last)."""
    still = set()
    current = ""
    for line in after:
        if line.startswith("/"):
            current = line.strip()
        elif current == menu and line.startswith("add "):
            still.add(line[4:].strip())
    for line in before[old.end :]:
        if line.startswith("/"):
            return None
        if line.startswith("add ") and line[4:].strip() in still:
            return line[4:].strip()
    return None


# --- Linux: iptables-save and nft ------------------------------------------------------------------------


def _iptables_table(lines: Sequence[str], start: int) -> str:
    for line in reversed(lines[: start - 1]):
        if line.startswith("*"):
            return line[1:].strip()
    return "filter"


def _iptables_position(lines: Sequence[str], start: int, chain: str) -> int:
    """1-based position of the rule at `start` within its chain (rules of that chain in its table before it)."""
    position = 1
    for line in reversed(lines[: start - 1]):
        if line.startswith("*"):
            break
        if line.startswith(f"-A {chain} "):
            position += 1
    return position


def _iptables(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    text = "\n".join(after or before or [])
    tool = "ip6tables" if "ip6tables-save" in text else "iptables"
    commands: list[str] = []
    position: int | None = None
    if new is not None and after is not None:
        table = _iptables_table(after, new.start)
        for offset, line in enumerate(_span(after, new)):
            _, chain, rest = line.split(None, 2)
            position = _iptables_position(after, new.start + offset, chain)
            commands.append(f"{tool} -t {table} -D {chain} {rest}")
    if old is not None and before is not None:
        table = _iptables_table(before, old.start)
        for offset, line in enumerate(_span(before, old)):
            _, chain, rest = line.split(None, 2)
            at = position if position is not None else _iptables_position(before, old.start + offset, chain)
            commands.append(f"{tool} -t {table} -I {chain} {at} {rest}")
    return Rollback(SOURCE_LINES, tool, tuple(commands), "-D the rule by its spec / -I it back at its position")


def _nft_context(lines: Sequence[str], start: int, *, chain_needed: bool = True) -> tuple[str, str, str]:
    """(family, table, chain) of the rule at 1-based line `start` in `nft list ruleset` text."""
    family = table = chain = ""
    depth_stack: list[str] = []
    for line in lines[: start - 1]:
        text = line.split("#", 1)[0].strip()
        words = text.split()
        if text.endswith("{"):
            if words[:1] == ["table"]:
                family, table = (words[1], words[2]) if len(words) > 3 else ("ip", words[1])
            elif words[:1] == ["chain"]:
                chain = words[1]
            depth_stack.append(words[0] if words else "")
        if text.startswith("}") and depth_stack:
            kind = depth_stack.pop()
            if kind == "chain":
                chain = ""
    if not table or (chain_needed and not chain):
        raise _Unsupported(f"line {start}: not a rule inside a table and chain")
    return family, table, chain


_ELEMENTS = re.compile(r"elements\s*=\s*\{([^}]*)\}")


def _nft_elements(span: Sequence[str]) -> list[str]:
    found = _ELEMENTS.search(" ".join(line.strip() for line in span))
    return [item.strip() for item in found.group(1).split(",") if item.strip()] if found else []


def _nft_set(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    """A named set's elements back to the older ones: delete the new-only elements, add the old-only ones."""
    lines, part = (after, new) if new is not None and after is not None else (before, old)
    assert lines is not None and part is not None
    family, table, _ = _nft_context(lines, part.start, chain_needed=False)
    words = lines[part.start - 1].split()
    if words[0] == "map":
        raise _Unsupported(f"line {part.start}: an nft map is not undone element by element")
    name = words[1]
    now = _nft_elements(_span(after, new)) if new is not None and after is not None else []
    was = _nft_elements(_span(before, old)) if old is not None and before is not None else []
    commands = []
    gone = [item for item in now if item not in was]
    back = [item for item in was if item not in now]
    if new is not None and old is None:
        commands.append(f"nft delete set {family} {table} {name}")
    elif gone:
        commands.append(f"nft delete element {family} {table} {name} {{ {', '.join(gone)} }}")
    if old is not None and new is None:
        body = "; ".join(line.strip() for line in _span(before or [], old)[1:-1] if line.strip())
        commands.append(f"nft add set {family} {table} {name} {{ {body}; }}")
    elif back:
        commands.append(f"nft add element {family} {table} {name} {{ {', '.join(back)} }}")
    if not commands:
        raise _Nothing("the set's elements are the same on both sides")
    return Rollback(SOURCE_LINES, "nft", tuple(commands), "nft set elements: delete the new ones, add the old ones")


def _nft_index(lines: Sequence[str], start: int) -> int:
    """0-based index of the rule at `start` among the rules of its chain."""
    index = 0
    for line in reversed(lines[: start - 1]):
        text = line.strip()
        if text.startswith("chain ") or text.endswith("{"):
            break
        if text and not text.startswith(("type ", "policy ", "#", "}")):
            index += 1
    return index


def _nft(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    lines, part = (after, new) if new is not None and after is not None else (before, old)
    if lines is not None and part is not None and lines[part.start - 1].split()[:1] in (["set"], ["map"]):
        return _nft_set(old, new, before, after)
    commands: list[str] = []
    index: int | None = None
    if new is not None and after is not None:
        for offset, line in enumerate(_span(after, new)):
            family, table, chain = _nft_context(after, new.start + offset)
            rule = line.strip()
            index = _nft_index(after, new.start + offset)
            lookup = f"nft -a list chain {family} {table} {chain} | grep -F -- {shlex.quote(rule + ' # handle ')}"
            commands.append(f"nft delete rule {family} {table} {chain} handle $({lookup} | sed 's/.*# handle //')")
    if old is not None and before is not None:
        for offset, line in enumerate(_span(before, old)):
            family, table, chain = _nft_context(before, old.start + offset)
            at = index if index is not None else _nft_index(before, old.start + offset)
            where = "insert rule" if at == 0 else f"add rule {family} {table} {chain} index {at - 1}"
            head = f"nft insert rule {family} {table} {chain}" if where == "insert rule" else f"nft {where}"
            commands.append(f"{head} {line.strip()}")
    note = (
        "nft deletes rules by handle only: the handle is looked up by the rule's text as `nft -a list` prints it"
        if new is not None
        else "nft add/insert at the rule's old index"
    )
    return Rollback(SOURCE_LINES, "nft", tuple(commands), note)


def _linux(
    old: SourceLines | None, new: SourceLines | None, before: list[str] | None, after: list[str] | None
) -> Rollback:
    sample = (after if new is not None and after is not None else before) or []
    part = new if new is not None else old
    assert part is not None
    if sample[part.start - 1].startswith("-A "):
        return _iptables(old, new, before, after)
    return _nft(old, new, before, after)
