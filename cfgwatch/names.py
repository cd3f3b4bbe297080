"""Unknown names are errors: one line naming what was not found and the closest known name.

A `--device typo` that silently matched nothing looked exactly like "no change"; every place that takes a
name (device, group, revision, finding id, ticket id) checks it here instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from cfgwatch.errors import InputError


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like `name` (case-insensitive, difflib ratio >= 0.5), or None."""
    candidates = sorted(set(known))
    if not candidates:
        return None
    lowered = {candidate.lower(): candidate for candidate in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[hits[0]] if hits else None


def unknown_message(kind: str, name: str, known: Iterable[str], *, where: str = "") -> str:
    """`unknown device 'edg1' (closest: 'edge1')`, or `(none known)` when there is nothing to compare with."""
    known = list(known)
    hint = closest(name, known)
    suffix = f"closest: {hint!r}" if hint else ("none known" if not known else "nothing close")
    return f"unknown {kind} {name!r}{where} ({suffix})"


def require_known(kind: str, names: Iterable[str], known: Iterable[str], *, where: str = "") -> None:
    """Raise InputError (exit 2) for the first name not in `known`."""
    pool = set(known)
    for name in names:
        if name not in pool:
            raise InputError(unknown_message(kind, name, pool, where=where))
