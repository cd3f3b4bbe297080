"""Rule model: set algebra and JSON round-trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cfgwatch.model import (
    Action,
    AddressSet,
    Binding,
    BindingKind,
    FilterRule,
    Match,
    NatKind,
    NatRule,
    PortSet,
    RuleSet,
    SourceRef,
    from_json,
    tcp,
    to_json,
)
from cfgwatch.model import intervals as iv

intervals_st = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60)), max_size=8).map(
    lambda pairs: iv.normalize((start, start + width) for start, width in pairs)
)


@given(intervals_st, intervals_st)
def test_interval_algebra_is_consistent(left: iv.Intervals, right: iv.Intervals) -> None:
    def points(intervals: iv.Intervals) -> set[int]:
        return {value for start, end in intervals for value in range(start, end + 1)}

    assert points(iv.union(left, right)) == points(left) | points(right)
    assert points(iv.intersection(left, right)) == points(left) & points(right)
    assert points(iv.difference(left, right)) == points(left) - points(right)
    assert iv.contains(iv.union(left, right), left)


def test_wildcard_masks_contiguous_and_scattered() -> None:
    assert AddressSet.from_mask("10.1.2.3", "0.0.0.255", wildcard=True).ranges() == ["10.1.2.0/24"]
    assert AddressSet.from_mask("10.0.0.0", "255.0.0.0").ranges() == ["10.0.0.0/8"]
    scattered = AddressSet.from_mask("10.0.0.1", "0.0.1.0", wildcard=True)
    assert scattered.ranges() == ["10.0.0.1", "10.0.1.1"]


def test_address_set_operations_and_names_are_not_identity() -> None:
    wide = AddressSet.parse("10.0.0.0/8")
    narrow = AddressSet.parse("10.1.0.0/16", names=["OBJ-NET"])
    assert wide.contains(narrow) and not narrow.contains(wide)
    assert (wide - narrow).ranges() == ["10.0.0.0/16", "10.2.0.0-10.255.255.255"]
    assert narrow == AddressSet.parse("10.1.0.0/16")
    assert str(narrow) == "OBJ-NET (10.1.0.0/16)"
    assert AddressSet.parse("any").is_any
    assert AddressSet.parse("2001:db8::/32").contains_ip("2001:db8::1")


def test_port_operators() -> None:
    assert PortSet.from_operator("eq", ["www", "443"]).text() == "80,443"
    assert PortSet.from_operator("gt", ["1023"]).text() == "1024-65535"
    assert PortSet.from_operator("lt", ["1024"]).text() == "0-1023"
    assert PortSet.from_operator("neq", ["80"]).text() == "0-79,81-65535"
    assert PortSet.from_operator("range", ["8000", "8080"]).contains(PortSet.of(8080))


def test_ruleset_json_round_trip_keeps_everything() -> None:
    rules = RuleSet(
        platform="cisco_ios",
        filters=(
            FilterRule(
                "OUT",
                Action.PERMIT,
                Match(src=AddressSet.parse("10.0.0.0/8", names=["INSIDE"]), services=(tcp(3128),)),
                comment="CHG0001",
                sequence=10,
                options=frozenset({"log"}),
                source=SourceRef(4, 4, "r1", "abc"),
            ),
        ),
        nats=(
            NatRule(
                NatKind.DESTINATION,
                Match(dst=AddressSet.parse("203.0.113.5"), services=(tcp(8080),)),
                translated_dst=AddressSet.parse("10.0.0.5"),
                translated_dst_ports=PortSet.of(80),
                ingress=("outside",),
            ),
        ),
        bindings=(Binding(BindingKind.FILTER, "OUT", "Gi0/1", "in"),),
    )
    data = to_json(rules)
    back = from_json(RuleSet, data)
    assert back == rules
    assert back.filters[0].source == SourceRef(4, 4, "r1", "abc")
    assert back.filters[0].match.src.names == ("INSIDE",)
    assert to_json(back) == data
    assert back.nats[0].is_port_forward


def test_sequence_and_source_are_not_identity() -> None:
    first = FilterRule("A", Action.DENY, sequence=10, source=SourceRef(1, 1))
    second = FilterRule("A", Action.DENY, sequence=20, source=SourceRef(9, 9))
    assert first == second and hash(first) == hash(second)
