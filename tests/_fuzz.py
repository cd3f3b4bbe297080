"""Shared pieces of the fuzz suite: the hypothesis budget and mutations of real input.

CI runs a bounded, derandomized number of examples per test; ``CFGWATCH_FUZZ_EXAMPLES=N`` runs N random
examples per test (for a long local or nightly run). An example over SLOW seconds counts as a hang.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_ASKED = os.environ.get("CFGWATCH_FUZZ_EXAMPLES")
EXAMPLES = int(_ASKED) if _ASKED else 12
SLOW = 30.0  # seconds: one parse, diff, read or load taking longer is a hang

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the SLOW check below is the time limit; hypothesis deadlines flake on shared CI cores
    derandomize=_ASKED is None,  # CI: the same examples every run; a long run explores
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# What hostile input puts into a line: structure characters, line separators the parsers and the store
# could disagree on, controls, huge or negative numbers, keywords out of place, deep nesting.
HOSTILE = (
    "{",
    "}",
    ";",
    '"',
    "'",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "</entry>",
    "&amp;",
    "&#0;",
    "\\",
    "\u2028",
    "\u0085",
    "\ufeff",
    "\x00",
    "\x1b[31m",
    "\u009b31m",
    "\u202e",
    "\t",
    "\r",
    "any",
    "0.0.0.0/0",
    "::/0",
    "-1",
    "0",
    "65536",
    "99999",
    "18446744073709551616",
    "1e308",
    "255.255.255.256",
    "10.0.0.1/33",
    "host",
    "object-group",
    "exit",
    "end",
    "next",
    "edit",
    "config",
    "set",
    "delete",
    "inactive:",
    "!",
    "#",
    "/*",
    "*/",
    "permit",
    "deny",
    "eq",
    "range",
    "gt",
    "lt",
    "{" * 300,
    "}" * 50,
    "[" * 200,
    "x" * 5000,
)

T = TypeVar("T")


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """``text`` with 1-8 line-level edits: delete, duplicate, swap, cut, insert a hostile token, a huge number."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(("delete", "dup", "swap", "cut", "insert", "number", "tail", "replace")))
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, line)
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], line
        elif op == "cut":
            lines[i] = line[: draw(st.integers(0, len(line)))]
        elif op == "insert":
            at = draw(st.integers(0, len(line)))
            token = draw(st.sampled_from(HOSTILE) | st.text(max_size=12))
            lines[i] = line[:at] + token + line[at:]
        elif op == "number":
            words = line.split(" ")
            k = draw(st.integers(0, len(words) - 1))
            words[k] = draw(st.sampled_from(("99999999999999999999", "-5", "65536", "4294967296", "0x10", "1.5")))
            lines[i] = " ".join(words)
        elif op == "tail":
            del lines[i:]
        else:
            lines[i] = draw(st.sampled_from(lines))
    return "\n".join(lines)


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1-6 byte-level edits: flip, insert, delete, truncate, repeat a slice."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            out.extend(b"\x00")
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate", "repeat")))
        if op == "flip":
            out[i] = draw(st.integers(0, 255))
        elif op == "insert":
            out[i:i] = draw(st.binary(max_size=16) | st.sampled_from([t.encode() for t in HOSTILE]))
        elif op == "delete":
            del out[i : i + draw(st.integers(1, 64))]
        elif op == "truncate":
            del out[i:]
        else:
            out[i:i] = out[i : i + draw(st.integers(1, 256))] * draw(st.integers(2, 20))
    return bytes(out)


def timed(call: Callable[[], T], what: str) -> T:
    """call(), failing if it takes over SLOW seconds (a hang on hostile input is a bug)."""
    start = time.monotonic()
    result = call()
    elapsed = time.monotonic() - start
    assert elapsed < SLOW, f"{what}: {elapsed:.1f} s"
    return result
