"""The numpy fold of `DuckDBBackend.check_summaries`: DuckDB reads each day partition once and hands back only the
candidate records (source or destination /24 among the changes' sources) as integer arrays; the marking
(which change and window a record belongs to, outbound or return) and every aggregate are vectorised here.

Why not SQL: at 20M flows the statement spent more CPU materialising, joining and grouping the 1.25M candidate
rows (~50%) than reading the Parquet columns; sorted-array look-ups (`np.searchsorted`) and integer reductions
over the same rows cost a fraction of that. The semantics are the ones of `cfgwatch.flows.backends.base` and
must equal `outbound_summary` folded by `verify.summarize_check` (tests/test_flows.py checks both paths on
random changes and flows). Only IPv4 sources without translated addresses take this path (`KeyedRequest`):
an IPv4 source or destination range only ever matches IPv4 records, so every marked record is IPv4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cfgwatch.flows.backends.base import Counters
from cfgwatch.flows.figures import Destination
from cfgwatch.flows.schema import prefix_key_text
from cfgwatch.flows.verify import CheckSummary, WindowTotals

Ranges = tuple[tuple[int, int], ...]
Array = npt.NDArray[np.int64]
# A record's slot is 2 * request + window (0 post, 1 baseline); a remote prefix is slot << 24 | its /24.
_SLOT_SHIFT = 24
_ADDRESS_SHIFT = 32


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """One (selector, post, baseline) request reduced to IPv4 integer ranges (see `DuckDBBackend`)."""

    exporters: tuple[str, ...]
    sources: Ranges  # affected IPv4 sources
    internal: Ranges  # IPv4 part of what counts as internal
    destinations: Ranges | None  # None: any remote that is not internal
    ports: Ranges | None  # None: any port
    windows: tuple[tuple[int, int], tuple[int, int]]  # (post, baseline) as [start, end) epoch microseconds


def merged(ranges: Sequence[tuple[int, int]]) -> Ranges:
    """Sorted, non-overlapping, non-adjacent ranges (what the sorted-array membership test needs)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


class _RangeTable:
    """Membership of (set id, value) in the ranges of set `id`, for many sets at once: one sorted array of
    set << 32 | start and a binary search per value."""

    def __init__(self, sets: Sequence[Ranges]) -> None:
        starts: list[int] = []
        ends: list[int] = []
        owners: list[int] = []
        for owner, ranges in enumerate(sets):
            for start, end in ranges:
                starts.append((owner << _ADDRESS_SHIFT) | start)
                ends.append(end)
                owners.append(owner)
        self.starts = np.array(starts, dtype=np.int64)
        self.ends = np.array(ends, dtype=np.int64)
        self.owners = np.array(owners, dtype=np.int64)

    def contains(self, owner: Array, value: Array) -> npt.NDArray[np.bool_]:
        if not len(self.starts):
            return np.zeros(len(value), dtype=bool)
        index = np.searchsorted(self.starts, (owner << _ADDRESS_SHIFT) | value, side="right") - 1
        safe = np.maximum(index, 0)
        return (index >= 0) & (self.owners[safe] == owner) & (value <= self.ends[safe])


def _expand(keys: Array, table: Array) -> tuple[Array, Array]:
    """All (row, entry) pairs with keys[row] == table[entry] (`table` sorted)."""
    left = np.searchsorted(table, keys, side="left")
    count = np.searchsorted(table, keys, side="right") - left
    rows = np.repeat(np.arange(len(keys), dtype=np.int64), count)
    first = np.repeat(left - (np.cumsum(count) - count), count)
    return rows, first + np.arange(len(rows), dtype=np.int64)


def _sums(index: Array, values: npt.NDArray[np.uint64], size: int) -> npt.NDArray[np.uint64]:
    out = np.zeros(size, dtype=np.uint64)
    np.add.at(out, index, values)
    return out


def _unique(values: Array) -> tuple[Array, Array]:
    """(sorted distinct values, index of each value among them): `np.unique(return_inverse=True)` by sorting
    (numpy 2's hash-based unique is several times slower on these integer keys)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def _member(values: Array, keys: Array) -> npt.NDArray[np.bool_]:
    """values[i] in `keys` (sorted, distinct), by binary search."""
    if not len(keys):
        return np.zeros(len(values), dtype=bool)
    position = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return keys[position] == values


def _distinct_per_slot(slot: Array, value: Array, size: int) -> Array:
    keys = np.sort((slot << _ADDRESS_SHIFT) | value)
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return np.bincount(keys[first] >> _ADDRESS_SHIFT, minlength=size)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate records (IPv4 only) as arrays: exporter (index into the request exporters), start time
    (epoch µs), addresses, ports, action, counters and the enrichment of the destination."""

    exporter: Array
    time: Array
    src: Array
    dst: Array
    nat_dst: Array  # 0 when the record carries no post-NAT destination
    nat_present: npt.NDArray[np.bool_]
    dst_port: Array
    nat_dst_port: Array
    action: Array
    packets: npt.NDArray[np.uint64]
    bytes: npt.NDArray[np.uint64]
    rev_packets: npt.NDArray[np.uint64]
    rev_bytes: npt.NDArray[np.uint64]
    asn: Array
    org: npt.NDArray[np.object_]
    provider_class: npt.NDArray[np.object_]


def fold(
    requests: Sequence[KeyedRequest],
    names: Sequence[str],
    rows: Candidates,
    records: Mapping[tuple[int, int], int],
    top: int,
) -> list[CheckSummary]:
    """One `CheckSummary` per request from the candidate records; `names` are the exporters `rows.exporter`
    indexes and `records` the coverage (records per (request, window))."""
    size = 2 * len(requests)
    code = {name: index for index, name in enumerate(names)}
    # (exporter, source /24) -> (request, first, last) entries: the exact source ranges of each request per /24
    entry_key: list[int] = []
    entry_request: list[int] = []
    entry_lo: list[int] = []
    entry_hi: list[int] = []
    for q, request in enumerate(requests):
        for start, end in request.sources:
            for block in range(start >> 8, (end >> 8) + 1):
                lo, hi = max(start, block << 8), min(end, (block << 8) | 255)
                for name in request.exporters:
                    entry_key.append((code[name] << _SLOT_SHIFT) | block)
                    entry_request.append(q)
                    entry_lo.append(lo)
                    entry_hi.append(hi)
    order = np.argsort(np.array(entry_key, dtype=np.int64), kind="stable")
    table = np.array(entry_key, dtype=np.int64)[order]
    table_request = np.array(entry_request, dtype=np.int64)[order]
    table_lo = np.array(entry_lo, dtype=np.int64)[order]
    table_hi = np.array(entry_hi, dtype=np.int64)[order]
    windows = np.array([[list(window) for window in request.windows] for request in requests], dtype=np.int64)
    sources = _RangeTable([request.sources for request in requests])
    internal = _RangeTable([request.internal for request in requests])
    destinations = _RangeTable([request.destinations or () for request in requests])
    has_destinations = np.array([request.destinations is not None for request in requests], dtype=bool)
    ports = _RangeTable([request.ports or () for request in requests])
    any_port = np.array([request.ports is None for request in requests], dtype=bool)
    remote = np.where(rows.nat_present, rows.nat_dst, rows.dst)

    blocks = table & ((1 << _SLOT_SHIFT) - 1)
    low = int(blocks.min()) if len(blocks) else 0
    known = np.zeros(int(blocks.max()) - low + 1 if len(blocks) else 1, dtype=bool)
    known[blocks - low] = True

    def marked(address: Array) -> tuple[Array, Array]:
        """(row, request) pairs whose `address` lies in the request's sources on the request's exporter."""
        block = (address >> 8) - low
        inside = (block >= 0) & (block < len(known))
        inside[inside] = known[block[inside]]  # a dense table of the /24s first: half the rows go no further
        near = np.flatnonzero(inside)
        pair, entry = _expand((rows.exporter[near] << _SLOT_SHIFT) | (address[near] >> 8), table)
        row = near[pair]
        hit = (address[row] >= table_lo[entry]) & (address[row] <= table_hi[entry])
        return row[hit], table_request[entry[hit]]

    def windowed(row: Array, q: Array) -> tuple[Array, Array]:
        """(row, slot) pairs: each pair once per window of its request that holds the record's start."""
        rows_out: list[Array] = []
        slots: list[Array] = []
        for w in (0, 1):
            inside = (rows.time[row] >= windows[q, w, 0]) & (rows.time[row] < windows[q, w, 1])
            rows_out.append(row[inside])
            slots.append(2 * q[inside] + w)
        return np.concatenate(rows_out), np.concatenate(slots)

    def outbound(row: Array, q: Array) -> npt.NDArray[np.bool_]:
        """The outbound test of `base` (the source test aside) for (row, request) pairs."""
        chosen = has_destinations[q]
        remote_ok = np.where(
            chosen,
            destinations.contains(q, rows.dst[row]) | destinations.contains(q, rows.nat_dst[row]),
            ~internal.contains(q, remote[row]),
        )
        ports_ok = any_port[q] | ports.contains(q, rows.dst_port[row]) | ports.contains(q, rows.nat_dst_port[row])
        return (rows.action[row] != 2) & remote_ok & ports_ok

    src_row, src_q = marked(rows.src)
    keep = outbound(src_row, src_q)
    out_row, out_slot = windowed(src_row[keep], src_q[keep])
    dst_row, dst_q = marked(rows.dst)
    chosen = has_destinations[dst_q]
    ret_remote = np.where(
        chosen, destinations.contains(dst_q, rows.src[dst_row]), ~internal.contains(dst_q, rows.src[dst_row])
    )
    also_out = sources.contains(dst_q, rows.src[dst_row]) & outbound(dst_row, dst_q)
    keep = (rows.action[dst_row] != 2) & ret_remote & ~also_out
    ret_row, ret_slot = windowed(dst_row[keep], dst_q[keep])

    # totals per slot
    out_flows = np.bincount(out_slot, minlength=size)
    out_packets = _sums(out_slot, rows.packets[out_row], size)
    out_bytes = _sums(out_slot, rows.bytes[out_row], size)
    rev_packets = _sums(out_slot, rows.rev_packets[out_row], size)
    rev_bytes = _sums(out_slot, rows.rev_bytes[out_row], size)
    rev_flows = np.bincount(out_slot[rows.rev_packets[out_row] > 0], minlength=size)
    destinations_count = _distinct_per_slot(out_slot, remote[out_row], size)
    sources_count = _distinct_per_slot(out_slot, rows.src[out_row], size)

    # remote prefixes with outbound traffic, and the returns paired with them
    out_key = (out_slot << _SLOT_SHIFT) | (remote[out_row] >> 8)
    keys, inverse = _unique(out_key)
    key_bytes = _sums(inverse, rows.bytes[out_row], len(keys))
    ret_key = (ret_slot << _SLOT_SHIFT) | (rows.src[ret_row] >> 8)
    paired = _member(ret_key, keys)
    paired_slot = ret_slot[paired]
    paired_row = ret_row[paired]
    ret_packets = rev_packets + _sums(paired_slot, rows.packets[paired_row], size)
    ret_bytes = rev_bytes + _sums(paired_slot, rows.bytes[paired_row], size)
    ret_flows = rev_flows + np.bincount(paired_slot, minlength=size)

    # prefixes new since the baseline, and the top prefixes of each post window
    key_slot = keys >> _SLOT_SHIFT
    post = (key_slot & 1) == 0
    before = _member(keys + (1 << _SLOT_SHIFT), keys)
    new_count = np.bincount(key_slot[post & ~before] >> 1, minlength=len(requests))
    tops: list[list[Destination]] = [[] for _ in requests]
    chosen_keys: list[int] = []
    for q in range(len(requests)):
        lo, hi = np.searchsorted(keys, [(2 * q) << _SLOT_SHIFT, (2 * q + 1) << _SLOT_SHIFT])
        if hi == lo:
            continue
        values = key_bytes[lo:hi]
        threshold = np.sort(values)[::-1][min(top, len(values)) - 1]  # rank() <= top keeps ties
        chosen_keys.extend(int(key) for key in keys[lo:hi][values >= threshold])
    if chosen_keys:
        wanted = np.array(sorted(chosen_keys), dtype=np.int64)
        detail: dict[int, list[int]] = {key: [] for key in chosen_keys}
        returned: dict[int, int] = dict.fromkeys(chosen_keys, 0)
        for index in np.flatnonzero(_member(out_key, wanted)):
            detail[int(out_key[index])].append(int(out_row[index]))
        paired_key = ret_key[paired]
        for index in np.flatnonzero(_member(paired_key, wanted)):
            returned[int(paired_key[index])] += int(rows.packets[paired_row[index]])
        seen_before = dict(zip((int(key) for key in keys[post]), (bool(flag) for flag in before[post]), strict=True))
        for key, members in detail.items():
            tops[key >> (_SLOT_SHIFT + 1)].append(_destination(key, members, rows, remote, returned[key], seen_before))
    out: list[CheckSummary] = []
    for q in range(len(requests)):
        after, earlier = (
            WindowTotals(
                records.get((q, w), 0),
                Counters(int(out_packets[slot]), int(out_bytes[slot]), int(out_flows[slot])),
                Counters(int(ret_packets[slot]), int(ret_bytes[slot]), int(ret_flows[slot])),
                int(sources_count[slot]),
                int(destinations_count[slot]),
            )
            for w, slot in ((0, 2 * q), (1, 2 * q + 1))
        )
        ranked = sorted(tops[q], key=lambda item: (-item.bytes, item.prefix))[:top]
        out.append(CheckSummary(after, earlier, int(new_count[q]), tuple(ranked)))
    return out


def _destination(
    key: int, members: list[int], rows: Candidates, remote: Array, returned: int, seen_before: dict[int, bool]
) -> Destination:
    """A top prefix from its outbound records (`members`, in fetch order): largest address by bytes first seen."""
    best = members[0]
    for row in members[1:]:
        if rows.bytes[row] > rows.bytes[best]:
            best = row
    orgs = [value for value in (rows.org[row] for row in members) if value is not None]
    classes = [value for value in (rows.provider_class[row] for row in members) if value is not None]
    sample = int(remote[best])
    return Destination(
        prefix=prefix_key_text(4, key & ((1 << _SLOT_SHIFT) - 1)),
        sample_address=f"{sample >> 24}.{(sample >> 16) & 255}.{(sample >> 8) & 255}.{sample & 255}",
        asn=int(max(int(rows.asn[row]) for row in members)),
        org=str(max(orgs)) if orgs else "",
        provider_class=str(max(classes)) if classes else "",
        packets=int(sum(int(rows.packets[row]) for row in members)),
        bytes=int(sum(int(rows.bytes[row]) for row in members)),
        flows=len(members),
        return_packets=int(sum(int(rows.rev_packets[row]) for row in members)) + returned,
        new=not seen_before.get(key, False),
    )


def fold_rows(
    requests: Sequence[KeyedRequest], names: Sequence[str], result: Mapping[str, npt.NDArray[np.generic]], top: int
) -> list[CheckSummary] | None:
    """`fold` over the columns of `DuckDBBackend._check_batch_numpy`'s statement: kind 0 candidate records,
    kind 1 (slot, records) coverage, kind 2 (hash, name in the `dst_org` column) of every exporter of the scanned
    range. None when a column holds NULL or a requested exporter shares its hash with another one (the caller
    then runs the SQL fold)."""
    if any(isinstance(column, np.ma.MaskedArray) and np.ma.is_masked(column) for column in result.values()):
        return None
    kind = np.asarray(result["kind"])
    hashes = np.asarray(result["e"])
    ticks = np.asarray(result["t"]).astype(np.int64)
    code = {name: index for index, name in enumerate(names)}
    present: dict[int, list[str]] = {}  # hash -> every exporter name of the scanned range with it
    for value, name in zip(hashes[kind == 2], np.asarray(result["dst_org"])[kind == 2], strict=True):
        present.setdefault(int(value), []).append(str(name))
    known_hashes: list[int] = []
    known_codes: list[int] = []
    for value, found in present.items():
        wanted = [name for name in found if name in code]
        if wanted and len(found) > 1:
            return None  # a requested exporter shares its hash with another one
        if wanted:
            known_hashes.append(value)
            known_codes.append(code[wanted[0]])
    order = np.argsort(np.array(known_hashes, dtype=np.uint64))
    sorted_hash = np.array(known_hashes, dtype=np.uint64)[order]
    sorted_code = np.array(known_codes, dtype=np.int64)[order]
    counts = kind == 1
    records = {(int(slot) >> 1, int(slot) & 1): int(n) for slot, n in zip(hashes[counts], ticks[counts], strict=True)}
    picked = kind == 0
    position = np.minimum(np.searchsorted(sorted_hash, hashes[picked]), max(len(sorted_hash) - 1, 0))
    known = sorted_hash[position] == hashes[picked] if len(sorted_hash) else np.zeros(int(picked.sum()), dtype=bool)
    picked[np.flatnonzero(picked)[~known]] = False  # another exporter of the scanned range (not requested)
    exporter = sorted_code[position[known]]
    size = int(picked.sum())

    def column(name: str) -> Array:
        values = result.get(name)
        if values is None:
            return np.zeros(size, dtype=np.int64)
        return np.asarray(values)[picked].astype(np.int64)

    def counter(name: str) -> npt.NDArray[np.uint64]:
        values = result.get(name)
        if values is None:
            return np.zeros(size, dtype=np.uint64)
        return np.asarray(values)[picked].astype(np.uint64)

    nat_dst = column("nat_dst_v4")
    rows = Candidates(
        exporter=exporter,
        time=ticks[picked],
        src=column("src_v4"),
        dst=column("dst_v4"),
        nat_dst=nat_dst,
        nat_present=(nat_dst != 0) | (counter("nat_dst_v6_hi") != 0) | (counter("nat_dst_v6_lo") != 0),
        dst_port=column("dst_port"),
        nat_dst_port=column("nat_dst_port"),
        action=column("action"),
        packets=counter("packets"),
        bytes=counter("bytes"),
        rev_packets=counter("rev_packets"),
        rev_bytes=counter("rev_bytes"),
        asn=column("dst_asn"),
        org=np.asarray(result["dst_org"])[picked],
        provider_class=np.asarray(result["dst_class"])[picked],
    )
    return fold(requests, names, rows, records, top)
