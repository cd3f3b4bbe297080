"""Packet-space algebra for first-match rule lists: what a list permits, and what a change adds or removes.

A rule's match is a union of boxes over eight dimensions (from-zone, to-zone, src, dst, protocol,
src port, dst port or ICMP type/code, connection state). To compare two versions of a list inside the
region a change touches, the region is cut into cells along every boundary of the rules that overlap it;
the first-match decision is constant inside a cell, so deciding every cell is exact. Cells are decided
all at once with numpy (one vectorised pass per rule), within a budget of cells and seconds: past it the
change is judged conservatively as widening everything it matches, and says so.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from cfgwatch.model import AddressSet, FilterRule, PortSet
from cfgwatch.model import intervals as iv
from cfgwatch.model.budget import DEFAULT_BUDGET, DiffBudget
from cfgwatch.model.ports import ICMP_PROTOCOLS, PORT_MAX, PORT_PROTOCOLS, icmp_axis
from cfgwatch.model.rules import CONN_STATES, NEW_STATE

V6_OFFSET = 1 << 32  # IPv6 addresses live above IPv4 on one address axis
ADDRESS_AXIS_MAX = V6_OFFSET + (1 << 128) - 1
ZONE_MAX = 1 << 20
STATE_MAX = len(CONN_STATES) - 1
DIMENSIONS = ("from_zone", "to_zone", "src", "dst", "protocol", "src_port", "dst_port", "state")
PROTOCOL_DIM, DPORT_DIM, STATE_DIM = 4, 6, 7
ALL_STATES: iv.Intervals = ((0, STATE_MAX),)
__all__ = ["DEFAULT_BUDGET", "DiffBudget", "SpaceDelta", "compare_in_region"]


Box = tuple[iv.Intervals, ...]  # one Intervals per dimension


def address_axis(addresses: AddressSet) -> iv.Intervals:
    if addresses.is_any:
        return ((0, ADDRESS_AXIS_MAX),)
    v6 = tuple((start + V6_OFFSET, end + V6_OFFSET) for start, end in addresses.v6)
    return addresses.v4 + v6


def axis_to_addresses(intervals: iv.Intervals) -> AddressSet:
    v4: list[tuple[int, int]] = []
    v6: list[tuple[int, int]] = []
    for start, end in intervals:
        if end < V6_OFFSET:
            v4.append((start, end))
        elif start >= V6_OFFSET:
            v6.append((start - V6_OFFSET, end - V6_OFFSET))
        else:
            v4.append((start, V6_OFFSET - 1))
            v6.append((0, end - V6_OFFSET))
    return AddressSet(iv.normalize(v4), iv.normalize(v6))


class ZoneIndex:
    """Zone names to integers so zones are one more interval dimension; empty zone list = any zone."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def axis(self, zones: Iterable[str]) -> iv.Intervals:
        names = list(zones)
        if not names or "any" in (name.lower() for name in names):
            return ((0, ZONE_MAX),)
        ids = []
        for name in names:
            if name not in self._ids:
                self._ids[name] = len(self._ids) + 1
            ids.append((self._ids[name], self._ids[name]))
        return iv.normalize(ids)


def state_axis(rule: FilterRule) -> iv.Intervals:
    """The connection states a rule matches, as intervals on the state axis."""
    if not rule.options:  # the common case: a stateless entry
        return ALL_STATES
    states = rule.states
    if len(states) == len(CONN_STATES):
        return ALL_STATES
    return iv.normalize((index, index) for index, name in enumerate(CONN_STATES) if name in states)


def rule_boxes(rule: FilterRule, zones: ZoneIndex) -> tuple[Box, ...]:
    """The boxes a filter rule matches (one per service); none at all when it matches nothing.

    A rule over an empty group (an empty nft set, IOS/ASA/NX-OS/EOS object-group, Junos address-set,
    PAN-OS address-group, FortiOS addrgrp, RouterOS address-list, VyOS group) matches no packet: the
    vendors document a group as the union of its members, and the union of none is empty (an empty
    dynamic set or address-list matches nothing until it is filled). Such a rule therefore has no box, so
    adding, removing or moving it changes no traffic, and no empty interval reaches the cell cutter.
    ICMP and ICMPv6 services put their type/code on the destination-port axis (`icmp_axis`).
    """
    from_axis = zones.axis(rule.from_zones)
    to_axis = zones.axis(rule.to_zones)
    src = address_axis(rule.match.src)
    dst = address_axis(rule.match.dst)
    states = state_axis(rule)
    boxes: list[Box] = []
    for service in rule.match.services:
        if service.protocol is None:
            proto: iv.Intervals = ((0, 255),)
            sport: iv.Intervals = ((0, PORT_MAX),)
            dport: iv.Intervals = ((0, PORT_MAX),)
        else:
            proto = ((service.protocol, service.protocol),)
            if service.protocol in PORT_PROTOCOLS:
                sport, dport = service.src_ports.ranges, service.dst_ports.ranges
            elif service.protocol in ICMP_PROTOCOLS:
                sport, dport = ((0, PORT_MAX),), icmp_axis(service)
            else:
                sport = dport = ((0, PORT_MAX),)
        box = (from_axis, to_axis, src, dst, proto, sport, dport, states)
        if all(box):
            boxes.append(box)
    return tuple(boxes)


def _box_overlaps(left: Box, right: Box) -> bool:
    return all(iv.overlaps(a, b) for a, b in zip(left, right, strict=True))


def _box_intersection(left: Box, right: Box) -> Box | None:
    result = tuple(iv.intersection(a, b) for a, b in zip(left, right, strict=True))
    return None if any(not part for part in result) else result


def _rule_bounds(rule: FilterRule, zones: ZoneIndex) -> tuple[float, ...]:
    """Lowest and highest value of a rule on every dimension (one bounding box over its services).

    Computed straight from the match without building boxes, because it runs for every rule of both
    lists; float64 rounding is monotonic, so the prefilter stays conservative (never drops an overlap).
    """
    from_axis = zones.axis(rule.from_zones)
    to_axis = zones.axis(rule.to_zones)
    src = address_axis(rule.match.src)
    dst = address_axis(rule.match.dst)
    proto_low, proto_high, sport_low, sport_high, dport_low, dport_high = 255, 0, PORT_MAX, 0, PORT_MAX, 0
    for service in rule.match.services:
        if service.protocol is None:
            proto_low, proto_high = 0, 255
            sport_low, sport_high, dport_low, dport_high = 0, PORT_MAX, 0, PORT_MAX
            continue
        proto_low, proto_high = min(proto_low, service.protocol), max(proto_high, service.protocol)
        if service.protocol in PORT_PROTOCOLS and service.src_ports.ranges and service.dst_ports.ranges:
            sport_low = min(sport_low, service.src_ports.ranges[0][0])
            sport_high = max(sport_high, service.src_ports.ranges[-1][1])
            dport_low = min(dport_low, service.dst_ports.ranges[0][0])
            dport_high = max(dport_high, service.dst_ports.ranges[-1][1])
        elif service.protocol in ICMP_PROTOCOLS:
            icmp = icmp_axis(service)
            sport_low, sport_high = 0, PORT_MAX
            dport_low, dport_high = min(dport_low, icmp[0][0]), max(dport_high, icmp[-1][1])
        else:
            sport_low, sport_high, dport_low, dport_high = 0, PORT_MAX, 0, PORT_MAX
    states = state_axis(rule) if rule.options else ALL_STATES
    if not src or not dst or not states:  # matches nothing: a box that overlaps nothing
        return (1.0, 0.0) * len(DIMENSIONS)
    return (
        float(from_axis[0][0]),
        float(from_axis[-1][1]),
        float(to_axis[0][0]),
        float(to_axis[-1][1]),
        float(src[0][0]),
        float(src[-1][1]),
        float(dst[0][0]),
        float(dst[-1][1]),
        float(proto_low),
        float(proto_high),
        float(sport_low),
        float(sport_high),
        float(dport_low),
        float(dport_high),
        float(states[0][0]),
        float(states[-1][1]),
    )


@dataclass(frozen=True, slots=True)
class CompiledList:
    """A filter list ready for first-match evaluation, with a vectorised bounding-box index.

    Exact boxes are built lazily, only for the rules the index says may overlap a changed region.
    """

    rules: tuple[FilterRule, ...]
    allows: tuple[bool, ...]
    zones: ZoneIndex
    low: np.ndarray  # (rules, dimensions)
    high: np.ndarray
    _boxes: dict[int, tuple[Box, ...]]

    @classmethod
    def build(cls, rules: Sequence[FilterRule], zones: ZoneIndex) -> CompiledList:
        active = tuple(rule for rule in rules if rule.enabled)
        bounds = np.array([_rule_bounds(rule, zones) for rule in active], dtype=np.float64).reshape(
            -1, 2 * len(DIMENSIONS)
        )
        return cls(
            rules=active,
            allows=tuple(rule.action.allows for rule in active),
            zones=zones,
            low=bounds[:, 0::2],
            high=bounds[:, 1::2],
            _boxes={},
        )

    def boxes(self, index: int) -> tuple[Box, ...]:
        found = self._boxes.get(index)
        if found is None:
            found = rule_boxes(self.rules[index], self.zones)
            self._boxes[index] = found
        return found

    def overlapping(self, region: Box) -> list[int]:
        """Rules (in list order) with a box overlapping the region: numpy prefilter, then the exact test."""
        if not self.rules:
            return []
        region_low = np.array([float(dim[0][0]) for dim in region])
        region_high = np.array([float(dim[-1][1]) for dim in region])
        mask = np.all(self.low <= region_high, axis=1) & np.all(self.high >= region_low, axis=1)
        candidates = np.nonzero(mask)[0].tolist()
        return [index for index in candidates if any(_box_overlaps(box, region) for box in self.boxes(index))]

    def decide(self, point: tuple[int, ...], candidates: Sequence[int]) -> bool:
        """First-match decision for one packet, over the candidate rules (in list order); default deny."""
        index = self.first_match(point, candidates)
        return index is not None and self.allows[index]

    def first_match(self, point: tuple[int, ...], candidates: Sequence[int]) -> int | None:
        """Index of the rule that decides one packet (None: the implicit default deny)."""
        for index in candidates:
            for box in self.boxes(index):
                if all(_in(point[d], box[d]) for d in range(len(DIMENSIONS))):
                    return index
        return None

    def index_of(self, rule: FilterRule | None) -> int | None:
        """Position of this very rule object among the active rules (None if absent or disabled)."""
        if rule is None:
            return None
        for index, candidate in enumerate(self.rules):
            if candidate is rule:
                return index
        return None


def _in(value: int, intervals: iv.Intervals) -> bool:
    return any(start <= value <= end for start, end in intervals)


Projection = tuple[iv.Intervals, ...]  # per dimension: the union of the cells' pieces
_NO_PROJECTION: Projection = ((),) * len(DIMENSIONS)


@dataclass(frozen=True, slots=True)
class SpaceDelta:
    """Traffic a change newly permits (`widened`) or newly denies (`narrowed`).

    `widened`/`narrowed` say whether there is any such traffic, in any connection state; the address and
    port projections describe new connections when there are any (new paths are judged for NEW
    packets, so an `established,related` accept never hides or fakes one), else every state. When the
    budget ran out (`exact` False) the whole region counts as widened and `note` says why.
    """

    widened: bool
    narrowed: bool
    exact: bool = True
    widened_new: Projection = _NO_PROJECTION
    narrowed_proj: Projection = _NO_PROJECTION
    cells: int = 0
    note: str | None = field(default=None)

    def only_widened(self) -> SpaceDelta:
        """The widening part alone (a binding that can only add filtering or only remove it)."""
        return replace(self, narrowed=False, narrowed_proj=_NO_PROJECTION)

    def only_narrowed(self) -> SpaceDelta:
        return replace(self, widened=False, widened_new=_NO_PROJECTION)

    @property
    def widened_new_connections(self) -> bool:
        """True when new connections (not only established/related packets) gain a path."""
        return bool(self.widened_new[2])

    def widened_src(self) -> AddressSet:
        return axis_to_addresses(self.widened_new[2])

    def widened_dst(self) -> AddressSet:
        return axis_to_addresses(self.widened_new[3])

    def widened_dst_ports(self) -> PortSet:
        return PortSet(self.widened_new[DPORT_DIM])

    def narrowed_dst_ports(self) -> PortSet:
        return PortSet(self.narrowed_proj[DPORT_DIM])

    def narrowed_src(self) -> AddressSet:
        return axis_to_addresses(self.narrowed_proj[2])

    def narrowed_dst(self) -> AddressSet:
        return axis_to_addresses(self.narrowed_proj[3])


NO_DELTA = SpaceDelta(False, False)


def _elementary(region_axis: iv.Intervals, boxes: Iterable[Box], dimension: int) -> list[iv.Interval]:
    """Cut the region's axis at every boundary of the overlapping boxes."""
    cuts: set[int] = set()
    for box in boxes:
        for start, end in box[dimension]:
            cuts.add(start)
            cuts.add(end + 1)
    ordered = sorted(cuts)
    pieces: list[iv.Interval] = []
    for start, end in region_axis:
        low = bisect.bisect_right(ordered, start)
        high = bisect.bisect_right(ordered, end)
        current = start
        for cut in ordered[low:high]:
            pieces.append((current, cut - 1))
            current = cut
        pieces.append((current, end))
    return pieces


def _membership(pieces: list[iv.Interval], starts: list[int], intervals: iv.Intervals) -> np.ndarray:
    """Which elementary pieces of one axis lie inside a box's intervals (pieces never straddle a bound)."""
    inside = np.zeros(len(pieces), dtype=bool)
    for start, end in intervals:
        low = bisect.bisect_left(starts, start)
        high = bisect.bisect_right(starts, end)
        if low < high:
            inside[low:high] = True
    return inside


def _box_mask(members: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """The cells of the grid inside a box: the outer AND of its per-axis memberships."""
    mask: np.ndarray | None = None
    for dim, inside in enumerate(members):
        if inside.all():
            continue
        view = inside.reshape(tuple(len(inside) if d == dim else 1 for d in range(len(shape))))
        mask = view if mask is None else mask & view
    if mask is None:
        return np.ones(shape, dtype=bool)
    return np.broadcast_to(mask, shape)


class BudgetExceeded(Exception):
    """Internal: the packet-space comparison of one change ran past its budget."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _first_matches(
    compiled: CompiledList,
    candidates: Sequence[int],
    axes: list[list[iv.Interval]],
    starts: list[list[int]],
    deadline: float,
) -> np.ndarray:
    """Index of the deciding rule for every cell of the grid (-1: the implicit default deny)."""
    shape = tuple(len(axis) for axis in axes)
    first = np.full(shape, -1, dtype=np.int32)
    undecided = np.ones(shape, dtype=bool)
    for index in candidates:
        if time.monotonic() > deadline:
            raise BudgetExceeded("time")
        for box in compiled.boxes(index):
            members = [_membership(axes[d], starts[d], box[d]) for d in range(len(DIMENSIONS))]
            if not all(inside.any() for inside in members):
                continue
            hit = _box_mask(members, shape) & undecided
            first[hit] = index
            undecided &= ~hit
        if not undecided.any():
            break
    return first


def _projection(mask: np.ndarray, axes: list[list[iv.Interval]]) -> Projection:
    """Per dimension, the union of the pieces that hold a selected cell.

    On the destination-port axis only TCP/UDP/SCTP cells give ports; a cell of another protocol (ICMP,
    whose type/code shares that axis, or any-protocol) counts as every port, as before ICMP was split.
    """
    result: list[iv.Intervals] = []
    for dim in range(len(DIMENSIONS)):
        other = tuple(d for d in range(len(DIMENSIONS)) if d != dim)
        present = np.nonzero(mask.any(axis=other))[0].tolist()
        result.append(iv.normalize(axes[dim][i] for i in present))
    proto_axis = axes[PROTOCOL_DIM]
    port_protocol = np.array(
        [start == end and start in PORT_PROTOCOLS for start, end in proto_axis], dtype=bool
    ).reshape(tuple(len(proto_axis) if d == PROTOCOL_DIM else 1 for d in range(len(DIMENSIONS))))
    if (mask & ~port_protocol).any():
        result[DPORT_DIM] = ((0, PORT_MAX),)
    else:
        other = tuple(d for d in range(len(DIMENSIONS)) if d != DPORT_DIM)
        ports = np.nonzero((mask & port_protocol).any(axis=other))[0].tolist()
        result[DPORT_DIM] = iv.normalize(axes[DPORT_DIM][i] for i in ports)
    return tuple(result)


def _merge(left: Projection, right: Projection) -> Projection:
    return tuple(iv.union(a, b) for a, b in zip(left, right, strict=True))


def _new_state_only(mask: np.ndarray, axes: list[list[iv.Interval]]) -> np.ndarray:
    """The cells of new connections (the state piece that holds NEW)."""
    new_piece = np.array([start <= NEW_STATE <= end for start, end in axes[STATE_DIM]], dtype=bool)
    return mask & new_piece.reshape((1,) * STATE_DIM + (len(new_piece),))


def _conservative(regions: Sequence[Box], reason: str, cells: int) -> SpaceDelta:
    """Past the budget: everything the changed rule matches counts as newly permitted (never a silent pass)."""
    projection: Projection = _NO_PROJECTION
    for region in regions:
        if all(region):
            ports_only = all(start == end and start in PORT_PROTOCOLS for start, end in region[PROTOCOL_DIM])
            box = region if ports_only else (*region[:DPORT_DIM], ((0, PORT_MAX),), *region[DPORT_DIM + 1 :])
            projection = _merge(projection, tuple(box))
    note = f"packet-space budget exceeded ({reason}); judged conservatively as widening everything the rule matches"
    return SpaceDelta(True, False, exact=False, widened_new=projection, cells=cells, note=note)


def compare_in_region(
    before: CompiledList,
    after: CompiledList,
    regions: Sequence[Box],
    owners: tuple[int | None, int | None] | None = None,
    budget: DiffBudget = DEFAULT_BUDGET,
    until: float | None = None,
) -> SpaceDelta:
    """Exact widened/narrowed traffic of `after` against `before`, inside the given regions.

    With `owners` (the changed rule's index in `before` and in `after`), only packets that rule decides
    in either version count: traffic decided by other rules in both versions belongs to their own
    changes (an added deny-all after a new permit does not widen anything; the permit does). `until` is
    the `time.monotonic()` deadline of the whole diff this comparison belongs to.
    """
    deadline = time.monotonic() + budget.max_seconds
    if until is not None and until < deadline:
        if time.monotonic() >= until:
            return _conservative(regions, f"the device diff ran over {budget.max_total_seconds:g} s", 0)
        deadline = until
    widened = narrowed = False
    widened_new: Projection = _NO_PROJECTION
    narrowed_new: Projection = _NO_PROJECTION
    narrowed_all: Projection = _NO_PROJECTION
    total_cells = 0
    for region in regions:
        if not all(region):  # an empty dimension holds no packet
            continue
        cand_before = before.overlapping(region)
        cand_after = after.overlapping(region)
        relevant: list[Box] = []
        for compiled, candidates in ((before, cand_before), (after, cand_after)):
            for index in candidates:
                for box in compiled.boxes(index):
                    clipped = _box_intersection(box, region)
                    if clipped is not None:
                        relevant.append(clipped)
        axes = [_elementary(region[d], relevant, d) for d in range(len(DIMENSIONS))]
        cells = 1
        for axis in axes:
            cells *= len(axis)
        total_cells += cells
        if total_cells > budget.max_cells:
            return _conservative(regions, f"{total_cells:,} cells > {budget.max_cells:,}", total_cells)
        starts = [[piece[0] for piece in axis] for axis in axes]
        try:
            first_before = _first_matches(before, cand_before, axes, starts, deadline)
            first_after = _first_matches(after, cand_after, axes, starts, deadline)
        except BudgetExceeded:
            reason = f"over {budget.max_seconds:g} s" if deadline != until else "the device diff ran out of time"
            return _conservative(regions, reason, total_cells)
        allows_before = np.array((*before.allows, False), dtype=bool)  # index -1: default deny
        allows_after = np.array((*after.allows, False), dtype=bool)
        allowed_before = allows_before[first_before]
        allowed_after = allows_after[first_after]
        gained = allowed_after & ~allowed_before
        lost = allowed_before & ~allowed_after
        if owners is not None:
            owned = np.zeros(first_before.shape, dtype=bool)
            if owners[0] is not None:
                owned |= first_before == owners[0]
            if owners[1] is not None:
                owned |= first_after == owners[1]
            gained &= owned
            lost &= owned
        if gained.any():
            widened = True  # in some state; only new connections open a path (and fill the projection)
            fresh = _new_state_only(gained, axes)
            if fresh.any():
                widened_new = _merge(widened_new, _projection(fresh, axes))
        if lost.any():
            narrowed = True
            narrowed_all = _merge(narrowed_all, _projection(lost, axes))
            fresh = _new_state_only(lost, axes)
            if fresh.any():
                narrowed_new = _merge(narrowed_new, _projection(fresh, axes))
    return SpaceDelta(
        widened,
        narrowed,
        exact=True,
        widened_new=widened_new,
        narrowed_proj=narrowed_new if narrowed_new[2] else narrowed_all,
        cells=total_cells,
    )
