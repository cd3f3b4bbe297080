"""Change records: one added, removed or modified rule, binding or object, with what it enables.

They live in the model layer because both diff/ (which makes them) and classify/ (which fills in
categories and affected addresses) work on them, and neither of those imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from cfgwatch.model import EMPTY_ADDRESS, EMPTY_PORTS, AddressSet, Binding, FilterRule, NatRule, ObjectDef, PortSet
from cfgwatch.model import to_json as model_to_json
from cfgwatch.model.space import SpaceDelta

Item = FilterRule | NatRule | Binding | ObjectDef

# Category names are part of the JSON contract (DESIGN.md).
EGRESS_FORWARD = "egress-forward"
INBOUND_EXPOSURE = "inbound-exposure"
ACL_WIDENED = "acl-widened"
ACL_NARROWED = "acl-narrowed"
NAT_ADDED = "nat-added"
NAT_REMOVED = "nat-removed"
NAT_MODIFIED = "nat-modified"
BINDING_CHANGED = "binding-changed"
OBJECT_CHANGED = "object-changed"
PROXY_PORT = "proxy-port"
BROAD = "broad"  # an inbound exposure that reaches many inside addresses and/or ports
CATEGORIES = (
    EGRESS_FORWARD,
    INBOUND_EXPOSURE,
    ACL_WIDENED,
    ACL_NARROWED,
    NAT_ADDED,
    NAT_REMOVED,
    NAT_MODIFIED,
    BINDING_CHANGED,
    OBJECT_CHANGED,
)


class ChangeType(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"

    def inverse(self) -> ChangeType:
        if self is ChangeType.ADDED:
            return ChangeType.REMOVED
        if self is ChangeType.REMOVED:
            return ChangeType.ADDED
        return self


@dataclass(frozen=True, slots=True)
class Affected:
    """Addresses and ports a change touches: what the flow check queries."""

    internal: AddressSet = EMPTY_ADDRESS  # internal sources that gain (or lose) a path
    public: AddressSet = EMPTY_ADDRESS  # public destinations on that path
    translated: AddressSet = EMPTY_ADDRESS  # addresses the NAT translates to
    ports: PortSet = EMPTY_PORTS  # destination ports on that path

    def to_json(self) -> dict[str, Any]:
        return {
            "internal": self.internal.ranges(),
            "public": self.public.ranges() + sorted(self.public.fqdns),
            "translated": self.translated.ranges(),
            "ports": self.ports.text() if not self.ports.is_empty else None,
        }


@dataclass(frozen=True, slots=True)
class SourceLines:
    """Config lines of one side of a change, with their line numbers."""

    start: int
    end: int
    lines: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "lines": list(self.lines)}


@dataclass(frozen=True, slots=True)
class RuleChange:
    """One classified change on one device between two revisions."""

    device: str
    platform: str
    change: ChangeType
    family: str  # filter | nat | binding | object
    key: str  # identity of the rule across versions
    before: Item | None
    after: Item | None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    affected: Affected = Affected()
    lines_before: SourceLines | None = None
    lines_after: SourceLines | None = None
    rev_before: str | None = None
    rev_after: str | None = None
    exact: bool = True  # False when packet-space analysis had to coarsen
    delta: SpaceDelta | None = field(default=None, compare=False, repr=False)

    @property
    def rule(self) -> Item:
        """The rule as it is now (or as it was, for a removal)."""
        item = self.after if self.after is not None else self.before
        assert item is not None
        return item

    @property
    def comment(self) -> str | None:
        item = self.rule
        return getattr(item, "comment", None)

    def inverse(self) -> RuleChange:
        """The same change seen from the other side (diff(b, a) of diff(a, b))."""
        return replace(
            self,
            change=self.change.inverse(),
            before=self.after,
            after=self.before,
            lines_before=self.lines_after,
            lines_after=self.lines_before,
            rev_before=self.rev_after,
            rev_after=self.rev_before,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "platform": self.platform,
            "change": self.change.value,
            "family": self.family,
            "key": self.key,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "reasons": list(self.reasons),
            "before": model_to_json(self.before) if self.before is not None else None,
            "after": model_to_json(self.after) if self.after is not None else None,
            "affected": self.affected.to_json(),
            "lines_before": self.lines_before.to_json() if self.lines_before else None,
            "lines_after": self.lines_after.to_json() if self.lines_after else None,
            "rev_before": self.rev_before,
            "rev_after": self.rev_after,
            "exact": self.exact,
        }
