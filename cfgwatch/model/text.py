"""Config text to lines: the one line model shared by every parser and the diff's source excerpts.

`str.splitlines()` also breaks at U+000B, U+000C, U+001C-U+001E, U+0085, U+2028 and U+2029. Those are
ordinary characters to a router and to the sanitizer and store (which split at newlines only), so a
U+2028 inside an ACL remark made a parser start a new "line" there and lose its place in the stanza:
every later entry vanished without a diagnostic. Lines end at LF, CRLF or a lone CR (the universal
newlines `Path.read_text` and the sanitizer use), nowhere else.
"""

from __future__ import annotations

BOM = "\ufeff"


def strip_bom(text: str) -> str:
    """Text without a leading UTF-8 byte order mark (an editor's, not the device's)."""
    return text[1:] if text.startswith(BOM) else text


def config_lines(text: str) -> list[str]:
    """The lines of a config, like `str.splitlines()` but breaking only at LF, CRLF and CR."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":  # a final newline ends the last line; it does not start an empty one
        lines.pop()
    return lines
