"""Text for terminals and plain-text files: control characters from device text made visible.

A remark or user name in a device config is attacker-controlled. Written raw to a terminal, an ESC or a
C1 CSI (U+009B) starts an escape sequence that can recolour, hide or rewrite what the operator reads
(or set the window title); U+2028/U+0085 and bidi overrides make a line read as something it is not.
Every plain-text output shows them as `\\x9b`-style escapes instead; JSON output keeps the exact text.
"""

from __future__ import annotations

import re

# C0 except tab and newline, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character that could steer a terminal replaced by a visible escape."""
    return _UNSAFE.sub(_escape, text)
