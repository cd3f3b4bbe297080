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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from cfgwatch.model import AddressSet, FilterRule, PortSet
from cfgwatch.model import intervals as iv
from cfgwatch.model.budget import DEFAULT_BUDGET, DiffBudget
from cfgwatch.model.ports import ICMP_PROTOCOLS, PORT_MAX, PORT_PROTOCOLS, Service, icmp_axis
from cfgwatch.model.rules import CONN_STATES, NEW_STATE

V6_OFFSET = 1 << 32  # IPv6 addresses live above IPv4 on one address axis
ADDRESS_AXIS_MAX = V6_OFFSET + (1 << 128) - 1
ZONE_MAX = 1 << 20
STATE_MAX = len(CONN_STATES) - 1
DIMENSIONS = ("from_zone", "to_zone", "src", "dst", "protocol", "src_port", "dst_port", "state")
PROTOCOL_DIM, SPORT_DIM, DPORT_DIM, STATE_DIM = 4, 5, 6, 7
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


_NO_BOUNDS = (1.0, 0.0) * len(DIMENSIONS)  # a rule that matches nothing: low > high overlaps nothing
_SERVICE_NEUTRAL = (255.0, 0.0, float(PORT_MAX), 0.0, float(PORT_MAX), 0.0)  # the min/max start points
_ALL_STATES_BOUNDS = (float(ALL_STATES[0][0]), float(ALL_STATES[-1][1]))
_PORT_MAX_F = float(PORT_MAX)
_ANY_SERVICE_BOUNDS = (0.0, 255.0, 0.0, _PORT_MAX_F, 0.0, _PORT_MAX_F)
Bounds = tuple[float, ...]


def _service_bounds(service: Service) -> Bounds:
    """Protocol, source-port and destination-port (or ICMP type/code) extent of one service.

    A port protocol with an empty port set adds its protocol but no port, so a rule made only of such
    services keeps low > high on the port axes and overlaps nothing, as its boxes are empty.
    """
    protocol = service.protocol
    if protocol is None:
        return _ANY_SERVICE_BOUNDS
    number = float(protocol)
    if protocol in PORT_PROTOCOLS:
        sports, dports = service.src_ports.ranges, service.dst_ports.ranges
        if sports and dports:
            return (number, number, sports[0][0], sports[-1][1], dports[0][0], dports[-1][1])
        return (number, number, _PORT_MAX_F, 0.0, _PORT_MAX_F, 0.0)
    if protocol in ICMP_PROTOCOLS:
        icmp = icmp_axis(service)
        return (number, number, 0.0, _PORT_MAX_F, float(icmp[0][0]), float(icmp[-1][1]))
    return (number, number, 0.0, _PORT_MAX_F, 0.0, _PORT_MAX_F)


def _address_bounds(addresses: AddressSet) -> Bounds:
    """Lowest and highest point of `address_axis(addresses)` without building it (empty: no address)."""
    v4, v6 = addresses.v4, addresses.v6
    if not v4 and not v6:
        return ()
    low = v4[0][0] if v4 else v6[0][0] + V6_OFFSET
    high = v6[-1][1] + V6_OFFSET if v6 else v4[-1][1]
    return (float(low), float(high))


class _BoundsMaker:
    """Lowest and highest value of each rule on every dimension (one bounding box over its services).

    Computed straight from the match without building boxes, because it runs for every rule of a list;
    float64 rounding is monotonic, so the prefilter stays conservative (never drops an overlap). Only the
    zone axes are remembered (by zone names): memoising addresses or services by object cost more than
    recomputing them (measured: 3.4 against 1.4 us per entry on a 50,000-entry list).
    """

    def __init__(self, zones: ZoneIndex) -> None:
        self.zones = zones
        self._zones: dict[tuple[str, ...], Bounds] = {}

    def _zone(self, names: tuple[str, ...]) -> Bounds:
        axis = self.zones.axis(names)  # registers new zone ids in rule order, as before
        found = self._zones[names] = (float(axis[0][0]), float(axis[-1][1]))
        return found

    def bounds(self, rule: FilterRule) -> Bounds:
        """The rule's 16 bounds: (low, high) per dimension, in DIMENSIONS order."""
        zones = self._zones
        from_bounds = zones.get(rule.from_zones) or self._zone(rule.from_zones)
        to_bounds = zones.get(rule.to_zones) or self._zone(rule.to_zones)
        match = rule.match
        src = _address_bounds(match.src)
        dst = _address_bounds(match.dst)
        services = match.services
        if len(services) == 1:
            service = _service_bounds(services[0])
        else:
            proto_low, proto_high, sport_low, sport_high, dport_low, dport_high = _SERVICE_NEUTRAL
            for one in services:
                p_low, p_high, s_low, s_high, d_low, d_high = _service_bounds(one)
                proto_low, proto_high = min(proto_low, p_low), max(proto_high, p_high)
                sport_low, sport_high = min(sport_low, s_low), max(sport_high, s_high)
                dport_low, dport_high = min(dport_low, d_low), max(dport_high, d_high)
            service = (proto_low, proto_high, sport_low, sport_high, dport_low, dport_high)
        if rule.options:
            axis = state_axis(rule)
            states = (float(axis[0][0]), float(axis[-1][1])) if axis else ()
        else:
            states = _ALL_STATES_BOUNDS
        if not src or not dst or not states:  # matches nothing: a box that overlaps nothing
            return _NO_BOUNDS
        return from_bounds + to_bounds + src + dst + service + states


@dataclass(frozen=True, slots=True)
class CompiledList:
    """A filter list ready for first-match evaluation, with a vectorised bounding-box index.

    Exact boxes are built lazily, only for the rules the index says may overlap a changed region.
    """

    rules: tuple[FilterRule, ...]
    allows: tuple[bool, ...]
    zones: ZoneIndex
    low: np.ndarray  # (rules, dimensions), column-major: the prefilter reads one dimension at a time
    high: np.ndarray
    _boxes: dict[int, tuple[Box, ...]]
    _positions: dict[int, int]  # id(rule) -> index among the active rules
    verdicts: np.ndarray  # allows as an array, one more False at the end: index -1 is the default deny

    @classmethod
    def build(
        cls,
        rules: Sequence[FilterRule],
        zones: ZoneIndex,
        *,
        like: CompiledList | None = None,
        twins: Mapping[int, FilterRule] | None = None,
    ) -> CompiledList:
        """Compile the enabled rules of a list.

        `like` and `twins` (id of a rule here -> a rule of `like` with the same meaning) let the second
        version of a list copy the index rows of the entries it shares with the first instead of
        recomputing them: a rule's bounds depend only on what it matches, so an entry equal in meaning to
        its counterpart has the same row. Only the entries without a twin cost Python work.
        """
        active = tuple(rule for rule in rules if rule.enabled)
        count = len(active)
        low = np.empty((count, len(DIMENSIONS)), dtype=np.float64, order="F")
        high = np.empty((count, len(DIMENSIONS)), dtype=np.float64, order="F")
        maker = _BoundsMaker(zones)
        fresh_rows: list[int] = []
        fresh: list[Bounds] = []
        if like is not None and twins:
            copy_to: list[int] = []
            copy_from: list[int] = []
            positions = like._positions
            for index, rule in enumerate(active):
                twin = twins.get(id(rule))
                row = positions.get(id(twin)) if twin is not None else None
                if row is None:
                    fresh_rows.append(index)
                    fresh.append(maker.bounds(rule))
                else:
                    copy_to.append(index)
                    copy_from.append(row)
            if copy_to:
                low[copy_to] = like.low[copy_from]
                high[copy_to] = like.high[copy_from]
        else:
            fresh_rows = list(range(count))
            fresh = [maker.bounds(rule) for rule in active]
        if fresh:
            table = np.array(fresh, dtype=np.float64).reshape(-1, 2 * len(DIMENSIONS))
            low[fresh_rows] = table[:, 0::2]
            high[fresh_rows] = table[:, 1::2]
        allows = tuple(rule.action.allows for rule in active)
        return cls(
            rules=active,
            allows=allows,
            zones=zones,
            low=low,
            high=high,
            _boxes={},
            # the first position of a rule object listed twice (later writes win, so write in reverse)
            _positions=dict(zip(map(id, reversed(active)), range(count - 1, -1, -1), strict=True)),
            verdicts=np.array((*allows, False), dtype=bool),
        )

    def boxes(self, index: int) -> tuple[Box, ...]:
        found = self._boxes.get(index)
        if found is None:
            found = rule_boxes(self.rules[index], self.zones)
            self._boxes[index] = found
        return found

    def overlapping(self, region: Box) -> list[int]:
        """Rules (in list order) with a box overlapping the region: numpy prefilter, then the exact test.

        The prefilter narrows one dimension at a time (addresses first, the most selective in practice),
        so a region costs two comparisons over the whole list and the rest only over the survivors.
        """
        if not self.rules:
            return []
        candidates: np.ndarray | None = None
        for dim in _PREFILTER_ORDER:
            region_low, region_high = float(region[dim][0][0]), float(region[dim][-1][1])
            if candidates is None:
                keep = (self.low[:, dim] <= region_high) & (self.high[:, dim] >= region_low)
                candidates = np.flatnonzero(keep)
            else:
                keep = (self.low[candidates, dim] <= region_high) & (self.high[candidates, dim] >= region_low)
                candidates = candidates[keep]
            if not len(candidates):
                return []
        assert candidates is not None
        return [index for index in candidates.tolist() if any(_box_overlaps(box, region) for box in self.boxes(index))]

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
        return self._positions.get(id(rule))


_PREFILTER_ORDER = (2, 3, 6, 4, 5, 0, 1, 7)  # src, dst, dst port, protocol, src port, zones, state


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

    def widened_src_ports(self) -> PortSet:
        return PortSet(self.widened_new[SPORT_DIM])

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
        allowed_before = before.verdicts[first_before]  # index -1: the default deny
        allowed_after = after.verdicts[first_after]
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
