"""Normalised integer interval sets: the arithmetic under address sets and port sets.

An interval set is a sorted tuple of disjoint, non-adjacent inclusive (start, end) pairs, so two
sets that cover the same integers are equal as tuples. That is what makes rule identity and set
algebra (what a change newly permits) cheap and exact.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]
Intervals = tuple[Interval, ...]


def normalize(pairs: Iterable[Interval]) -> Intervals:
    """Sort and merge overlapping or adjacent intervals."""
    ordered = sorted(pairs)
    merged: list[list[int]] = []
    for start, end in ordered:
        if start > end:
            raise ValueError(f"interval start {start} is after end {end}")
        if merged and start <= merged[-1][1] + 1:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def union(left: Intervals, right: Intervals) -> Intervals:
    if not left:
        return right
    if not right:
        return left
    return normalize(left + right)


def intersection(left: Intervals, right: Intervals) -> Intervals:
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start <= end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


def difference(left: Intervals, right: Intervals) -> Intervals:
    """Integers in left that are not in right."""
    result: list[Interval] = []
    j = 0
    for start, end in left:
        current = start
        while j < len(right) and right[j][1] < current:
            j += 1
        k = j
        while k < len(right) and right[k][0] <= end:
            if right[k][0] > current:
                result.append((current, right[k][0] - 1))
            current = max(current, right[k][1] + 1)
            if current > end:
                break
            k += 1
        if current <= end:
            result.append((current, end))
    return tuple(result)


def contains(outer: Intervals, inner: Intervals) -> bool:
    """True when every integer of inner is in outer."""
    return not difference(inner, outer)


def overlaps(left: Intervals, right: Intervals) -> bool:
    return bool(intersection(left, right))


def size(intervals: Intervals) -> int:
    return sum(end - start + 1 for start, end in intervals)
