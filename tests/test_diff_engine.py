"""Rule-level diff and classification on hand-built rule sets (parser-independent)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.classify.categories import classify_changes
from cfgwatch.classify.networks import Networks
from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.model import (
    Action,
    AddressSet,
    Binding,
    BindingKind,
    FilterRule,
    Match,
    NatKind,
    NatRule,
    ObjectDef,
    PortSet,
    RuleSet,
    Service,
    tcp,
)
from cfgwatch.model.changes import RuleChange

NETWORKS = Networks.build(org_public=("203.0.113.0/24",))
A = AddressSet.parse
IP_ANY = Service()


def acl(*entries: tuple[Action, AddressSet, AddressSet, Service], name: str = "OUT") -> RuleSet:
    rules = tuple(
        FilterRule(name, action, Match(src=src, dst=dst, services=(svc,)), sequence=(index + 1) * 10)
        for index, (action, src, dst, svc) in enumerate(entries)
    )
    return RuleSet("cisco_ios", filters=rules)


def classified(before: RuleSet, after: RuleSet) -> list[RuleChange]:
    return classify_changes(diff_rulesets(before, after, device="r1"), NETWORKS)


BASE = (
    (Action.PERMIT, A("10.0.0.0/8"), AddressSet.any(), tcp(80, 443)),
    (Action.DENY, AddressSet.any(), AddressSet.any(), IP_ANY),
)


def test_added_permit_to_public_proxy_is_egress_forward_with_affected_addresses() -> None:
    after = acl((Action.PERMIT, A("10.1.0.0/16"), A("198.51.100.7"), tcp(3128)), *BASE)
    (change,) = classified(acl(*BASE), after)
    assert change.change.value == "added"
    assert change.categories == ("egress-forward", "acl-widened")
    assert change.tags == ("proxy-port",)
    assert change.affected.internal.ranges() == ["10.1.0.0/16"]
    assert change.affected.public.ranges() == ["198.51.100.7"]
    assert change.affected.ports.text() == "3128"


def test_shadowed_addition_changes_nothing_it_permits() -> None:
    after = acl(*BASE, (Action.PERMIT, A("10.1.0.0/16"), A("198.51.100.7"), tcp(3128)))
    (change,) = classified(acl(*BASE), after)
    assert change.change.value == "added"
    assert change.categories == ()  # after the deny-any it can never match


def test_renumbering_is_no_change_and_reorder_matters_only_when_it_changes_the_permitted_set() -> None:
    before = acl(*BASE)
    renumbered = RuleSet(
        "cisco_ios",
        filters=tuple(FilterRule(r.list_name, r.action, r.match, sequence=r.sequence + 5) for r in before.filters),  # type: ignore[operator]
    )
    assert diff_rulesets(before, renumbered) == []
    independent = acl(
        (Action.PERMIT, A("10.0.0.5"), AddressSet.any(), tcp(80)),
        (Action.PERMIT, A("10.0.0.6"), AddressSet.any(), tcp(80)),
    )
    swapped = acl(
        (Action.PERMIT, A("10.0.0.6"), AddressSet.any(), tcp(80)),
        (Action.PERMIT, A("10.0.0.5"), AddressSet.any(), tcp(80)),
    )
    assert diff_rulesets(independent, swapped) == []
    shadowing = acl(
        (Action.DENY, A("10.0.0.5"), AddressSet.any(), IP_ANY),
        (Action.PERMIT, A("10.0.0.0/8"), AddressSet.any(), IP_ANY),
    )
    unshadowed = acl(
        (Action.PERMIT, A("10.0.0.0/8"), AddressSet.any(), IP_ANY),
        (Action.DENY, A("10.0.0.5"), AddressSet.any(), IP_ANY),
    )
    (change,) = classified(shadowing, unshadowed)
    assert change.change.value == "modified"
    assert "acl-widened" in change.categories
    assert change.affected.internal.ranges() == ["10.0.0.5"]


def test_narrowing_and_action_flip() -> None:
    narrowed = acl((Action.DENY, A("10.0.0.0/8"), AddressSet.any(), tcp(80, 443)), BASE[1])
    (change,) = classified(acl(*BASE), narrowed)
    assert change.change.value == "modified"
    assert change.categories == ("acl-narrowed",)


def test_object_change_marks_every_rule_using_it() -> None:
    def ruleset(proxy: str) -> RuleSet:
        target = A(proxy).named("PROXY")
        return RuleSet(
            "cisco_asa",
            filters=(
                FilterRule("IN", Action.PERMIT, Match(src=A("10.0.0.0/8"), dst=target, services=(tcp(8080),))),
                FilterRule("IN2", Action.PERMIT, Match(src=A("172.16.0.0/12"), dst=target, services=(tcp(8080),))),
            ),
            objects=(ObjectDef("PROXY", "network", addresses=target),),
        )

    changes = classified(ruleset("10.9.9.9"), ruleset("198.51.100.9"))
    families = Counter(change.family for change in changes)
    assert families == {"filter": 2, "object": 1}
    for change in changes:
        assert "object-changed" in change.categories
        if change.family == "filter":
            assert change.reasons == ("object PROXY changed meaning",)
            assert "egress-forward" in change.categories and "proxy-port" in change.tags


def test_nat_views_egress_forward_and_inbound_exposure() -> None:
    outside_static = NatRule(
        NatKind.STATIC,
        Match(src=A("12.0.1.1")),
        translated_src=A("10.0.2.1"),
        ingress=("outside",),
        egress=("inside",),
        bidirectional=True,
    )
    port_forward = NatRule(
        NatKind.STATIC,
        Match(src=A("10.0.0.5"), services=(Service(6, src_ports=PortSet.of(80)),)),
        translated_src=A("198.51.100.5"),
        translated_src_ports=PortSet.of(8080),
        ingress=("inside",),
        egress=("outside",),
        bidirectional=True,
    )
    redirect = NatRule(
        NatKind.DESTINATION,
        Match(src=A("192.168.0.0/16"), services=(tcp(80),)),
        translated_dst=A("45.77.1.2"),
        translated_dst_ports=PortSet.of(3128),
        ingress=("lan",),
    )
    after = RuleSet("cisco_ios", nats=(outside_static, port_forward, redirect))
    by_rule = {id(change.after): change for change in classified(RuleSet("cisco_ios"), after)}
    outside = next(c for c in by_rule.values() if c.after == outside_static)
    assert outside.categories == ("egress-forward", "nat-added")
    assert outside.affected.public.ranges() == ["12.0.1.1"]
    forward = next(c for c in by_rule.values() if c.after == port_forward)
    assert forward.categories == ("inbound-exposure", "nat-added")
    assert forward.affected.internal.ranges() == ["10.0.0.5"] and forward.affected.ports.text() == "80"
    assert forward.tags == ("proxy-port",)  # exposed on 8080
    proxy = next(c for c in by_rule.values() if c.after == redirect)
    assert proxy.categories == ("egress-forward", "nat-added") and proxy.tags == ("proxy-port",)
    assert proxy.affected.internal.ranges() == ["192.168.0.0/16"]
    assert proxy.affected.translated.ranges() == ["45.77.1.2"]


def test_nat_retarget_is_one_modification_and_removal_enables_nothing() -> None:
    def redirect(target: str) -> RuleSet:
        rule = NatRule(NatKind.DESTINATION, Match(src=A("10.0.0.0/8"), services=(tcp(80),)), translated_dst=A(target))
        return RuleSet("linux", nats=(rule,))

    (change,) = classified(redirect("10.1.1.1"), redirect("198.51.100.77"))
    assert change.change.value == "modified"
    assert change.categories == ("egress-forward", "nat-modified")
    (removal,) = classified(redirect("198.51.100.77"), RuleSet("linux"))
    assert removal.categories == ("nat-removed",)


def test_binding_changes() -> None:
    before = RuleSet("cisco_ios", bindings=(Binding(BindingKind.FILTER, "OUT", "Gi0/1", "in"),))
    after = RuleSet(
        "cisco_ios",
        bindings=(
            Binding(BindingKind.FILTER, "OUT", "Gi0/1", "in"),
            Binding(BindingKind.FILTER, "OUT", "Gi0/2", "out"),
        ),
    )
    (change,) = classified(before, after)
    assert change.categories == ("binding-changed",) and change.change.value == "added"


# -- properties --------------------------------------------------------------------------------

prefixes = st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3", "192.168.0.0/24", "198.51.100.7", "any"])
services = st.one_of(
    st.just(IP_ANY),
    st.builds(lambda port: tcp(port), st.sampled_from([22, 80, 443, 3128, 8080])),
    st.builds(lambda low: tcp((low, low + 100)), st.integers(1000, 2000)),
)
entries = st.tuples(st.sampled_from([Action.PERMIT, Action.DENY]), prefixes.map(A), prefixes.map(A), services)
entry_lists = st.lists(entries, min_size=0, max_size=8)


def _signature(changes: list[RuleChange]) -> Counter[Any]:
    return Counter((c.change.value, c.family, c.before, c.after) for c in changes)


@settings(max_examples=150, deadline=None)
@given(entry_lists)
def test_diff_of_identical_rule_sets_is_empty(items: list[tuple[Action, AddressSet, AddressSet, Service]]) -> None:
    rules = acl(*items)
    assert diff_rulesets(rules, rules) == []


@settings(max_examples=150, deadline=None)
@given(entry_lists, entry_lists)
def test_reverse_diff_is_the_inverse(
    first: list[tuple[Action, AddressSet, AddressSet, Service]],
    second: list[tuple[Action, AddressSet, AddressSet, Service]],
) -> None:
    a, b = acl(*first), acl(*second)
    forward = diff_rulesets(a, b)
    backward = diff_rulesets(b, a)
    assert _signature(backward) == _signature([change.inverse() for change in forward])
    widened = {c.key for c in classify_changes(forward, NETWORKS) if "acl-widened" in c.categories}
    narrowed_back = {c.key for c in classify_changes(backward, NETWORKS) if "acl-narrowed" in c.categories}
    assert widened <= narrowed_back | {c.key for c in backward if c.change.value == "modified"}


@settings(max_examples=100, deadline=None)
@given(entry_lists, st.integers(1, 50))
def test_renumbering_never_changes_anything(
    items: list[tuple[Action, AddressSet, AddressSet, Service]], step: int
) -> None:
    rules = acl(*items)
    renumbered = RuleSet(
        "cisco_ios",
        filters=tuple(
            FilterRule(r.list_name, r.action, r.match, sequence=index * step) for index, r in enumerate(rules.filters)
        ),
    )
    assert diff_rulesets(rules, renumbered) == []


# -- properties with connection state and ICMP type/code (issue 15 items 1, 2) -----------------------

icmp_services = st.sampled_from(
    [
        Service(1),
        Service(1, icmp_type=8),
        Service(1, icmp_type=0),
        Service(1, icmp_type=3),
        Service(1, icmp_type=3, icmp_code=4),
        Service(58, icmp_type=128),
    ]
)
state_options = st.sampled_from(
    [frozenset(), frozenset({"established"}), frozenset({"ctstate:new"}), frozenset({"ctstate:!new,invalid"})]
)
stateful_entries = st.tuples(
    st.sampled_from([Action.PERMIT, Action.DENY]),
    prefixes.map(A),
    prefixes.map(A),
    st.one_of(services, icmp_services),
    state_options,
)
stateful_lists = st.lists(stateful_entries, min_size=0, max_size=7)
StatefulEntry = tuple[Action, AddressSet, AddressSet, Service, frozenset[str]]


def stateful_acl(entries: list[StatefulEntry]) -> RuleSet:
    return RuleSet(
        "linux",
        filters=tuple(
            FilterRule("FORWARD", action, Match(src=src, dst=dst, services=(svc,)), options=options)
            for action, src, dst, svc, options in entries
        ),
    )


# sample packets: (src, dst, protocol, dst port or (icmp type, code), state), decided by a plain oracle
SAMPLE_HOSTS = ["10.1.2.3", "10.5.0.1", "192.168.0.5", "198.51.100.7", "8.8.8.8"]
SAMPLE_SERVICES: list[tuple[int, int | tuple[int, int]]] = [
    (6, 22),
    (6, 443),
    (6, 3128),
    (6, 1500),
    (17, 53),
    (1, (8, 0)),
    (1, (0, 0)),
    (1, (3, 4)),
    (1, (3, 1)),
    (58, (128, 0)),
]
STATES = ("new", "established", "related", "invalid", "untracked")


def _oracle_permits(rules: RuleSet, src: str, dst: str, proto: int, what: int | tuple[int, int], state: str) -> bool:
    """First match by the vendors' documented reading, written independently of model/space.py."""
    for rule in rules.filters:
        if not (rule.match.src.contains_ip(src) and rule.match.dst.contains_ip(dst)) or state not in rule.states:
            continue
        for svc in rule.match.services:
            if svc.protocol is None:
                return rule.action.allows
            if svc.protocol != proto:
                continue
            if isinstance(what, int):
                if svc.dst_ports.contains_port(what):
                    return rule.action.allows
            elif (svc.icmp_type is None or svc.icmp_type == what[0]) and (
                svc.icmp_code is None or svc.icmp_code == what[1]
            ):
                return rule.action.allows
    return False


@settings(max_examples=80, deadline=None)
@given(stateful_lists, stateful_lists)
def test_stateful_icmp_diff_properties_and_soundness(first: list[StatefulEntry], second: list[StatefulEntry]) -> None:
    a, b = stateful_acl(first), stateful_acl(second)
    assert diff_rulesets(a, a) == []
    forward = diff_rulesets(a, b)
    backward = diff_rulesets(b, a)
    assert _signature(backward) == _signature([change.inverse() for change in forward])
    renumbered = RuleSet("linux", filters=tuple(replace(r, sequence=i * 7) for i, r in enumerate(a.filters)))
    assert diff_rulesets(a, renumbered) == []
    gained = lost = False
    for src in SAMPLE_HOSTS:
        for dst in SAMPLE_HOSTS:
            for proto, what in SAMPLE_SERVICES:
                for state in STATES:
                    before = _oracle_permits(a, src, dst, proto, what, state)
                    after = _oracle_permits(b, src, dst, proto, what, state)
                    gained |= after and not before
                    lost |= before and not after
    if gained:
        assert any(c.delta is not None and c.delta.widened for c in forward)
    if lost:
        assert any(c.delta is not None and c.delta.narrowed for c in forward)
