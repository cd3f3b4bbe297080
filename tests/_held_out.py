"""Diff two inline config texts through the real parser and classifier: the held-out attack checks."""

from __future__ import annotations

from cfgwatch.classify.networks import Networks
from cfgwatch.model.changes import RuleChange
from cfgwatch.revisions import diff_device

EGRESS = "egress-forward"


def changes(platform: str, before: str, after: str) -> tuple[RuleChange, ...]:
    """The classified changes; the newer text must parse without diagnostics (nothing dropped)."""
    result = diff_device(f"{platform}-held-out", platform, before, after, Networks.default())
    assert result.error is None and result.diagnostics == 0, result
    return result.changes


def _text(change: RuleChange) -> str:
    side = change.lines_after or change.lines_before
    return "\n".join(side.lines) if side else change.key


def egress(platform: str, before: str, after: str, marker: str) -> RuleChange:
    """The one change whose config lines hold `marker`; it must be an egress-forward on proxy ports."""
    found = [c for c in changes(platform, before, after) if marker in _text(c)]
    assert len(found) == 1, [(c.change.value, c.family, c.categories) for c in found]
    change = found[0]
    assert EGRESS in change.categories and "proxy-port" in change.tags, (change.categories, change.tags)
    return change
