"""One pause of the cyclic garbage collector, shared by the parsers, the diff engine and the JSON writer
(here in model/, the bottom layer every one of them may import).

Parsing, diffing and encoding a big config allocate hundreds of thousands of small acyclic objects;
every few thousand allocations the collector would walk everything alive to find nothing, which cost a
third of a large diff and more than some parses. Reference counting still frees all of it. Nested and
concurrent pauses share one: the collector comes back on (if it was on) when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_turned_off = False  # whether the outermost pause turned the collector off (and must turn it back on)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic collector off for the block; a collector the caller had switched off stays off."""
    global _depth, _turned_off
    with _lock:
        if _depth == 0:
            _turned_off = gc.isenabled()
            if _turned_off:
                gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _turned_off:
                gc.enable()
                _turned_off = False
