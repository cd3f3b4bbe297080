"""Diff two inline config texts through the real parser and classifier: the held-out attack checks."""

from __future__ import annotations

from cfgwatch.classify.networks import Networks
from cfgwatch.model.changes import RuleChange
from cfgwatch.revisions import diff_device
from cfgwatch.vendors.registry import get_parser

EGRESS = "egress-forward"


def changes(platform: str, before: str, after: str, allow: frozenset[str] = frozenset()) -> tuple[RuleChange, ...]:
    """The classified changes; the newer text parses without diagnostics (nothing dropped) but `allow`ed codes."""
    result = diff_device(f"{platform}-held-out", platform, before, after, Networks.default())
    assert result.error is None, result
    codes = {diagnostic.code for diagnostic in get_parser(platform).parse(after).diagnostics}
    assert codes <= allow, codes
    return result.changes


def _text(change: RuleChange) -> str:
    side = change.lines_after or change.lines_before
    return "\n".join(side.lines) if side else change.key


def egress(platform: str, before: str, after: str, marker: str, allow: frozenset[str] = frozenset()) -> RuleChange:
    """The one change whose config lines hold `marker`; it must be an egress-forward on proxy ports."""
    found = [c for c in changes(platform, before, after, allow) if marker in _text(c)]
    assert len(found) == 1, [(c.change.value, c.family, c.categories) for c in found]
    change = found[0]
    assert EGRESS in change.categories and "proxy-port" in change.tags, (change.categories, change.tags)
    return change
