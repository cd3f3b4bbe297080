"""Packet-space algebra for first-match rule lists: what a list permits, and what a change adds or removes.

A rule's match is a union of boxes over seven dimensions (from-zone, to-zone, src, dst, protocol,
src port, dst port). To compare two versions of a list inside the region a change touches, the region
is cut into cells along every boundary of the rules that overlap it; the first-match decision is
constant inside a cell, so evaluating one representative point per cell is exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cfgwatch.model import AddressSet, FilterRule, PortSet
from cfgwatch.model import intervals as iv
from cfgwatch.model.ports import PORT_MAX, PORT_PROTOCOLS

V6_OFFSET = 1 << 32  # IPv6 addresses live above IPv4 on one address axis
ADDRESS_AXIS_MAX = V6_OFFSET + (1 << 128) - 1
ZONE_MAX = 1 << 20
DIMENSIONS = ("from_zone", "to_zone", "src", "dst", "protocol", "src_port", "dst_port")
MAX_CELLS = 200_000

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


def rule_boxes(rule: FilterRule, zones: ZoneIndex) -> tuple[Box, ...]:
    """The boxes a filter rule matches (one per service); none at all when it matches nothing.

    A rule over an empty group (an empty nft set, IOS/ASA/NX-OS/EOS object-group, Junos address-set,
    PAN-OS address-group, FortiOS addrgrp, RouterOS address-list, VyOS group) matches no packet: the
    vendors document a group as the union of its members, and the union of none is empty (an empty
    dynamic set or address-list matches nothing until it is filled). Such a rule therefore has no box, so
    adding, removing or moving it changes no traffic, and no empty interval reaches the cell cutter.
    """
    from_axis = zones.axis(rule.from_zones)
    to_axis = zones.axis(rule.to_zones)
    src = address_axis(rule.match.src)
    dst = address_axis(rule.match.dst)
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
            else:
                sport = dport = ((0, PORT_MAX),)
        box = (from_axis, to_axis, src, dst, proto, sport, dport)
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
        else:
            sport_low, sport_high, dport_low, dport_high = 0, PORT_MAX, 0, PORT_MAX
    if not src or not dst:  # matches nothing: a box that overlaps nothing
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


@dataclass(frozen=True, slots=True)
class SpaceDelta:
    """Traffic a change newly permits (`widened`) or newly denies (`narrowed`), as unions of boxes."""

    widened: tuple[Box, ...]
    narrowed: tuple[Box, ...]
    exact: bool  # False when the region had too many cells and only rule-level evidence was used

    def widened_src(self) -> AddressSet:
        return _union_dimension(self.widened, 2)

    def widened_dst(self) -> AddressSet:
        return _union_dimension(self.widened, 3)

    def widened_dst_ports(self) -> PortSet:
        ranges: iv.Intervals = ()
        for box in self.widened:
            ranges = iv.union(ranges, box[6])
        return PortSet(ranges)

    def narrowed_dst_ports(self) -> PortSet:
        ranges: iv.Intervals = ()
        for box in self.narrowed:
            ranges = iv.union(ranges, box[6])
        return PortSet(ranges)

    def narrowed_src(self) -> AddressSet:
        return _union_dimension(self.narrowed, 2)

    def narrowed_dst(self) -> AddressSet:
        return _union_dimension(self.narrowed, 3)


def _union_dimension(boxes: Sequence[Box], dimension: int) -> AddressSet:
    merged: iv.Intervals = ()
    for box in boxes:
        merged = iv.union(merged, box[dimension])
    return axis_to_addresses(merged)


def _elementary(region_axis: iv.Intervals, boxes: Iterable[Box], dimension: int) -> list[iv.Interval]:
    """Cut the region's axis at every boundary of the overlapping boxes."""
    cuts: set[int] = set()
    for box in boxes:
        for start, end in box[dimension]:
            cuts.add(start)
            cuts.add(end + 1)
    pieces: list[iv.Interval] = []
    for start, end in region_axis:
        inner = sorted(cut for cut in cuts if start < cut <= end)
        current = start
        for cut in inner:
            pieces.append((current, cut - 1))
            current = cut
        pieces.append((current, end))
    return pieces


def compare_in_region(
    before: CompiledList,
    after: CompiledList,
    regions: Sequence[Box],
    owners: tuple[int | None, int | None] | None = None,
) -> SpaceDelta:
    """Exact widened/narrowed traffic of `after` against `before`, inside the given regions.

    With `owners` (the changed rule's index in `before` and in `after`), only packets that rule decides
    in either version count: traffic decided by other rules in both versions belongs to their own
    changes (an added deny-all after a new permit does not widen anything; the permit does).
    """
    widened: list[Box] = []
    narrowed: list[Box] = []
    exact = True
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
        cell_count = 1
        for axis in axes:
            cell_count *= len(axis)
        if cell_count > MAX_CELLS:
            exact = False
            axes = [[(axis[0][0], axis[-1][1])] if len(axis) > 1 else axis for axis in axes]
        for cell in itertools.product(*axes):
            point = tuple(piece[0] for piece in cell)
            first_before = before.first_match(point, cand_before)
            first_after = after.first_match(point, cand_after)
            if owners is not None and not (
                (owners[0] is not None and first_before == owners[0])
                or (owners[1] is not None and first_after == owners[1])
            ):
                continue
            allowed_before = first_before is not None and before.allows[first_before]
            allowed_after = first_after is not None and after.allows[first_after]
            if allowed_after and not allowed_before:
                widened.append(tuple((piece,) for piece in cell))
            elif allowed_before and not allowed_after:
                narrowed.append(tuple((piece,) for piece in cell))
    return SpaceDelta(tuple(widened), tuple(narrowed), exact)
