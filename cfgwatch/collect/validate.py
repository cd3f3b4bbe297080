"""Completeness check: decide whether collected output is a whole config before it may replace a snapshot.

Backup tools have lost history by committing empty output, a CLI error message or a config cut off
by a dropped session. Each check here names what it found, so the failed device's reason is useful.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cfgwatch.model.text import config_lines

# Lines a CLI prints instead of a config (anchored at a line start so config text quoting them is rare).
_CLI_ERRORS = re.compile(
    r"^\s*(?:"
    r"% ?Invalid (?:input|command)"
    r"|% ?Incomplete command"
    r"|% ?Ambiguous command"
    r"|% ?Authorization failed"
    r"|% ?Bad (?:secrets|passwords?)"
    r"|% ?Unknown command"
    r"|% ?Permission denied"
    r"|Permission denied"
    r"|ERROR: % "
    r"|syntax error\b"
    r"|unknown command\.?\s*$"
    r"|error: (?:syntax error|permission denied|unknown command)"
    r"|Command fail\. Return code"
    r"|Unknown action \d+\s*$"
    r"|Invalid syntax\.\s*$"
    r"|Unknown command: "
    r"|bad command name "
    r"|expected end of command"
    r")",
    re.IGNORECASE | re.MULTILINE,
)

# Smallest size ratio (new / last good snapshot) accepted without --allow-shrink. Defined here, not in
# collect.settings (which imports it): platform specs import this module, and it stays free of pydantic.
DEFAULT_MIN_RATIO = 0.5
# Below this many bytes of last-good text the shrink check is meaningless.
_MIN_BASE = 200


@dataclass(frozen=True, slots=True)
class Verdict:
    """ok, or the failure reason (`incomplete` | `cli-error`) with a one-line detail."""

    ok: bool
    reason: str | None = None
    detail: str = ""


OK = Verdict(True)


def _strip_comments_and_strings(text: str) -> str:
    text = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)#.*$", "", text)


def _brace_balance(text: str) -> tuple[int, int]:
    """(final depth, lowest depth reached) of {} nesting, ignoring strings and comments."""
    depth = lowest = 0
    for ch in _strip_comments_and_strings(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            lowest = min(lowest, depth)
    return depth, lowest


def last_line(text: str) -> str:
    """The last non-blank line, stripped (lines as the parsers see them: `... remark x\u2028end` is no `end`)."""
    for line in reversed(config_lines(text)):
        if line.strip():
            return line.strip()
    return ""


def last_line_is(accepted: tuple[str, ...], shown: str) -> Callable[[str], Verdict]:
    """A completeness check: the last non-blank line is one of `accepted` (`shown` names it in the detail)."""

    def check(text: str) -> Verdict:
        last = last_line(text)
        if last not in accepted:
            return Verdict(False, "incomplete", f"config does not end with {shown} (last line: {last[:60]!r})")
        return OK

    return check


def has_top_level(required: tuple[str, ...], why: str) -> Callable[[str], Verdict]:
    """A completeness check for a config with no closing line but a fixed section order: every `required`
    top-level command (at column 0, matched whole or as its first words) appears. Naming sections that
    the device always prints near the end makes a cut-off output fail; `why` says where they come from."""

    def check(text: str) -> Verdict:
        present = {
            word
            for line in config_lines(text)
            if line[:1].strip()
            for word in required
            if line.rstrip() == word or line.startswith(word + " ")
        }
        missing = [word for word in required if word not in present]
        if missing:
            return Verdict(False, "incomplete", f"no top-level {', '.join(map(repr, missing))} ({why})")
        return OK

    return check


def closed_xml_or_braces(text: str) -> Verdict:
    """A completeness check for XML or curly-brace configs: the XML document is closed, the braces balance."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        if not re.search(r"</(?:config|configuration|rpc-reply)>\s*$", text):
            return Verdict(False, "incomplete", "XML config is not closed")
    elif "{" in text or "}" in text:
        depth, lowest = _brace_balance(text)
        if depth != 0 or lowest < 0:
            return Verdict(False, "incomplete", f"unbalanced braces (depth {depth} at end of output)")
    return OK


def _check_structure(text: str, platform: str | None) -> Verdict:
    """The platform's own completeness check (its spec's); a platform without one, or unknown, passes."""
    from cfgwatch.vendors.registry import registered_spec
    from cfgwatch.vendors.spec import NotApplicable

    spec = registered_spec(platform)
    if spec is None or isinstance(spec.completeness, NotApplicable):
        return OK
    return spec.completeness(text)


def check_output(text: str, platform: str | None) -> Verdict:
    """Structural checks on raw collected output: empty, CLI error, truncated (per platform)."""
    if not text.strip():
        return Verdict(False, "incomplete", "empty output")
    m = _CLI_ERRORS.search(text)
    if m:
        line = text[m.start() : text.find("\n", m.start()) if "\n" in text[m.start() :] else len(text)].strip()
        return Verdict(False, "cli-error", f"device answered with an error: {line[:80]!r}")
    return _check_structure(text, platform)


def utf8_size(text: str) -> int:
    """Bytes the text takes in UTF-8 (as stored), without encoding an ASCII text (the common case)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def check_size(text: str, last_good: str | int | None, *, min_ratio: float = DEFAULT_MIN_RATIO) -> Verdict:
    """Output far smaller than the last good snapshot (compare sanitized to sanitized) is suspect.

    Sizes are UTF-8 bytes, as stored; `last_good` is the stored text or just its size (a pull reads the
    sizes from the tree: reading every last good text cost more than the run it guards).
    """
    if last_good is None or min_ratio <= 0:
        return OK
    base = last_good if isinstance(last_good, int) else utf8_size(last_good)
    if base < _MIN_BASE:
        return OK
    size = utf8_size(text)
    ratio = size / base
    if ratio < min_ratio:
        return Verdict(
            False,
            "incomplete",
            f"output is {size} bytes, {ratio:.0%} of the last good snapshot ({base} bytes); "
            "use --allow-shrink if the config really shrank",
        )
    return OK
