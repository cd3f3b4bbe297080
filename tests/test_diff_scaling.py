"""Issue 19 goal 4: the diff's cost follows what changed, with the same answers as the full computation."""

from __future__ import annotations

import gc
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.diff import engine, keys
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.model import Action, AddressSet, FilterRule, Match, RuleSet, Service, tcp
from cfgwatch.model import space as space_module
from cfgwatch.model.space import CompiledList, ZoneIndex

A = AddressSet.parse
SERVICES = [Service(), tcp(22), tcp(80, 443), tcp((1000, 1100)), Service(1, icmp_type=8), Service(58), Service(47)]
addresses = st.sampled_from(["10.0.0.0/8", "10.1.2.3", "any", "2001:db8::/32", "192.0.2.0/24"]).map(A)
rules = st.builds(
    lambda action, src, dst, services, zones, options, enabled: FilterRule(
        "L", action, Match(src, dst, tuple(services)), from_zones=zones, options=options, enabled=enabled
    ),
    st.sampled_from([Action.PERMIT, Action.DENY]),
    addresses,
    addresses,
    st.lists(st.sampled_from(SERVICES), min_size=0, max_size=3),
    st.sampled_from([(), ("trust",), ("dmz", "untrust")]),
    st.sampled_from([frozenset(), frozenset({"established"}), frozenset({"ctstate:new"}), frozenset({"log"})]),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(rules, max_size=12), st.lists(rules, max_size=12))
def test_index_rows_copied_from_twins_equal_recomputed_rows(first: list[FilterRule], second: list[FilterRule]) -> None:
    """The second version copies the rows of entries equal in meaning to an old one: same index as built alone."""
    zones = ZoneIndex()
    old = CompiledList.build(first, zones)
    twins = {id(rule): next(o for o in first if o == rule) for rule in second if rule in first}
    copied = CompiledList.build(second, zones, like=old, twins=twins)
    alone = CompiledList.build(second, zones)
    assert np.array_equal(copied.low, alone.low) and np.array_equal(copied.high, alone.high)
    assert np.array_equal(copied.verdicts, alone.verdicts)
    assert copied.rules == alone.rules


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SERVICES), min_size=0, max_size=4), st.lists(st.sampled_from(SERVICES), max_size=4))
def test_identity_of_services_is_their_set(first: list[Service], second: list[Service]) -> None:
    """A single service stands for its one-element set, so identities are equal exactly when the sets are."""

    def rule(services: list[Service]) -> FilterRule:
        return FilterRule("L", Action.PERMIT, Match(services=tuple(services)))

    same_sets = {keys._service_identity(s) for s in first} == {keys._service_identity(s) for s in second}
    assert (keys.filter_identity(rule(first)) == keys.filter_identity(rule(second))) is same_sets


def big_acl(entries: int, changed: set[int]) -> RuleSet:
    filters = []
    for index in range(entries):
        src = AddressSet(v4=((0x0A000000 + index * 256, 0x0A000000 + index * 256 + 255),))
        dst = A("45.77.1.9") if index in changed else AddressSet.any()
        port = 3128 if index in changed else 1024 + index % 5000
        filters.append(FilterRule("BIG", Action.PERMIT, Match(src, dst, (tcp(port),)), sequence=(index + 1) * 10))
    filters.append(FilterRule("BIG", Action.DENY, Match(), sequence=999_999))
    return RuleSet("cisco_ios", filters=tuple(filters))


def test_a_long_list_is_compiled_once_and_only_changed_entries_are_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[int] = []
    judged: list[int] = []
    build, compare = CompiledList.build.__func__, space_module.compare_in_region  # type: ignore[attr-defined]

    def counting_build(cls: type[CompiledList], rules: list[FilterRule], *args: object, **kwargs: object) -> object:
        builds.append(len(rules))
        return build(cls, rules, *args, **kwargs)

    def counting_compare(*args: object, **kwargs: object) -> object:
        judged.append(1)
        return compare(*args, **kwargs)

    monkeypatch.setattr(CompiledList, "build", classmethod(counting_build))
    monkeypatch.setattr(engine, "compare_in_region", counting_compare)
    changed = set(range(5, 20_000, 2_000))
    before, after = big_acl(20_000, set()), big_acl(20_000, changed)
    changes = diff_rulesets(before, after)
    assert len(changes) == len(changed) and all(change.delta is not None and change.delta.widened for change in changes)
    assert builds == [20_001, 20_001] and len(judged) == len(changed)
    # renumbering every entry: nothing to judge, nothing compiled
    builds.clear()
    renumbered = RuleSet("cisco_ios", filters=tuple(replace(r, sequence=i) for i, r in enumerate(before.filters)))
    shuffled = RuleSet("cisco_ios", filters=renumbered.filters[1:] + renumbered.filters[:1])
    assert diff_rulesets(before, renumbered) == [] and builds == []
    assert len(diff_rulesets(before, shuffled)) == 1  # the first permit moved behind the deny-all: narrowed


def test_the_collector_is_paused_during_a_diff_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = engine._Differ.diff_filters

    def watching(self: engine._Differ) -> None:
        seen.append(gc.isenabled())
        real(self)

    monkeypatch.setattr(engine._Differ, "diff_filters", watching)
    before, after = big_acl(50, set()), big_acl(50, {7})
    was = gc.isenabled()
    try:
        gc.enable()
        diff_rulesets(before, after)
        assert gc.isenabled() and seen == [False]
        gc.disable()
        diff_rulesets(before, after)
        assert not gc.isenabled()  # a caller that turned it off keeps it off
        gc.enable()
        monkeypatch.setattr(engine._Differ, "diff_nats", lambda self: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            diff_rulesets(before, after)
        assert gc.isenabled()  # back on after a failure too
    finally:
        (gc.enable if was else gc.disable)()
