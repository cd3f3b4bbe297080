"""What a change enables: categories, the proxy-port tag, and the affected addresses the flow check needs.

NAT rules are judged in every direction they apply: the direction they are written in and, for
bidirectional static NAT, the reverse view (`inside source static A B` also forwards outside traffic
for B to A: an inbound exposure; `outside source static P I` also redirects inside clients that
connect to I out to P: an egress forward).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cfgwatch.classify.networks import Networks
from cfgwatch.model import ANY_ADDRESS, ANY_PORTS, EMPTY_ADDRESS, AddressSet, NatRule, PortSet
from cfgwatch.model import changes as r
from cfgwatch.model.changes import Affected, ChangeType, RuleChange


@dataclass(frozen=True, slots=True)
class NatView:
    """One direction of a NAT rule: packets src->dst (dst ports) become tsrc->tdst (tdst ports)."""

    src: AddressSet
    dst: AddressSet
    dst_ports: PortSet
    translated_src: AddressSet | None
    translated_dst: AddressSet | None
    translated_dst_ports: PortSet | None
    ingress: tuple[str, ...]


def nat_views(rule: NatRule) -> list[NatView]:
    forward = NatView(
        src=rule.match.src,
        dst=rule.match.dst,
        dst_ports=rule.match.dst_ports(),
        translated_src=rule.translated_src,
        translated_dst=rule.translated_dst,
        translated_dst_ports=rule.translated_dst_ports,
        ingress=rule.ingress,
    )
    views = [forward]
    if rule.bidirectional:
        src_ports = ANY_PORTS
        for service in rule.match.services:
            if not service.src_ports.is_any:
                src_ports = service.src_ports if src_ports.is_any else src_ports | service.src_ports
        reverse_dst_ports = rule.translated_src_ports or src_ports
        views.append(
            NatView(
                src=rule.translated_dst or rule.match.dst,
                dst=rule.translated_src or rule.match.src,
                dst_ports=reverse_dst_ports,
                translated_src=rule.match.dst if rule.translated_dst is not None else None,
                translated_dst=rule.match.src if rule.translated_src is not None else None,
                translated_dst_ports=src_ports if rule.translated_src_ports is not None else None,
                ingress=rule.egress,
            )
        )
    return views


@dataclass(frozen=True, slots=True)
class Judgement:
    categories: frozenset[str]
    proxy_port: bool
    affected: Affected
    # (category, view) pairs behind the categories: a modified NAT enables something new when a pair
    # is new (e.g. the same host exposed on another public port), even if `affected` looks the same
    paths: frozenset[tuple[str, NatView]] = frozenset()


NOTHING = Judgement(frozenset(), False, Affected())


def _specific_public(addresses: AddressSet, networks: Networks) -> AddressSet:
    """Public addresses a rule names specifically (all of the Internet is not a specific destination)."""
    public = networks.public_part(addresses)
    everything = networks.public_part(ANY_ADDRESS)
    # "any" of one family (nftables `ip daddr` absent, an IPv4-only any) is not specific either
    v4_whole = not public.v4 or public.v4 == everything.v4
    v6_whole = not public.v6 or public.v6 == everything.v6
    if (public.v4 or public.v6) and v4_whole and v6_whole:
        public = EMPTY_ADDRESS
    if public.is_empty and not addresses.fqdns:
        return EMPTY_ADDRESS
    if addresses.fqdns:
        return public | AddressSet(fqdns=addresses.fqdns)
    return public


def _same_family(addresses: AddressSet, target: AddressSet) -> AddressSet:
    """Keep only the address family the target uses (an IPv4 forward does not concern IPv6 clients)."""
    if target.v4 and not target.v6:
        return AddressSet(v4=addresses.v4)
    if target.v6 and not target.v4:
        return AddressSet(v6=addresses.v6)
    return addresses


def _is_proxy(ports: PortSet | None, networks: Networks) -> bool:
    return ports is not None and not ports.is_any and ports.overlaps(networks.proxy_ports)


def judge_nat(rule: NatRule, networks: Networks) -> Judgement:
    categories: set[str] = set()
    paths: set[tuple[str, NatView]] = set()
    proxy = False
    affected = Affected()
    for view in nat_views(rule):
        internal_src = networks.internal_part(view.src)
        ports = view.translated_dst_ports or view.dst_ports
        tdst_public = networks.public_part(view.translated_dst) if view.translated_dst is not None else EMPTY_ADDRESS
        match_public = _specific_public(view.dst, networks)
        egress_target = (
            tdst_public
            if not tdst_public.is_empty
            else (match_public if view.translated_src is not None or rule.translate_to_interface else EMPTY_ADDRESS)
        )
        if not internal_src.is_empty and not egress_target.is_empty:
            categories.add(r.EGRESS_FORWARD)
            paths.add((r.EGRESS_FORWARD, view))
            internal_src = _same_family(internal_src, egress_target)
            translated = view.translated_src or view.translated_dst or EMPTY_ADDRESS
            affected = Affected(internal=internal_src, public=egress_target, translated=translated, ports=ports)
            proxy = proxy or _is_proxy(ports, networks) or _is_proxy(view.dst_ports, networks)
        if view.translated_dst is not None:
            inside_target = view.translated_dst & (networks.internal | networks.org_public)
            exposed_from_outside = view.src.is_any or not networks.public_part(view.src).is_empty
            reachable = view.dst.is_any or not (view.dst - networks.internal).is_empty
            if not inside_target.is_empty and exposed_from_outside and reachable:
                categories.add(r.INBOUND_EXPOSURE)
                paths.add((r.INBOUND_EXPOSURE, view))
                if r.EGRESS_FORWARD not in categories:
                    public_side = networks.public_part(view.dst) | networks.org_part(view.dst)
                    affected = Affected(
                        internal=networks.internal_part(inside_target),
                        public=EMPTY_ADDRESS if view.dst.is_any else public_side,
                        translated=inside_target,
                        ports=ports,
                    )
                proxy = proxy or _is_proxy(ports, networks) or _is_proxy(view.dst_ports, networks)
    return Judgement(frozenset(categories), proxy, affected, frozenset(paths))


def judge_filter_change(change: RuleChange, networks: Networks) -> Judgement:
    delta = change.delta
    if delta is None:
        return NOTHING
    categories: set[str] = set()
    affected = Affected()
    proxy = False
    if delta.widened:
        categories.add(r.ACL_WIDENED)
        src, dst, ports = delta.widened_src(), delta.widened_dst(), delta.widened_dst_ports()
        internal_src = networks.internal_part(src)
        public_dst = networks.public_part(dst)
        specific = _specific_public(dst, networks)
        proxy = _is_proxy(ports, networks)
        if not internal_src.is_empty and not public_dst.is_empty and (not specific.is_empty or proxy):
            categories.add(r.EGRESS_FORWARD)
            affected = Affected(internal=internal_src, public=specific or public_dst, ports=ports)
        inside_dst = dst & (networks.internal | networks.org_public)
        if not networks.public_part(src).is_empty and not inside_dst.is_empty and not dst.is_any:
            categories.add(r.INBOUND_EXPOSURE)
            proxy = proxy or _is_proxy(ports, networks)
            if r.EGRESS_FORWARD not in categories:
                # as for a port forward: `public` is what outsiders reach (our exposed org-public
                # addresses) plus any specific public sources; all of the Internet is not recorded
                affected = Affected(
                    internal=networks.internal_part(inside_dst),
                    public=networks.org_part(inside_dst) | _specific_public(src, networks),
                    ports=ports,
                )
        if affected == Affected():
            affected = Affected(internal=internal_src, public=specific, ports=ports)
    if delta.narrowed:
        categories.add(r.ACL_NARROWED)
        if affected == Affected():  # what lost its path: the flow check and reports still need it
            affected = Affected(
                internal=networks.internal_part(delta.narrowed_src()),
                public=_specific_public(delta.narrowed_dst(), networks),
                ports=delta.narrowed_dst_ports(),
            )
    return Judgement(frozenset(categories), proxy, affected)


def classify_change(change: RuleChange, networks: Networks) -> RuleChange:
    """Return the change with categories, tags and affected addresses filled in."""
    categories: set[str] = set()
    proxy = False
    affected = Affected()
    if change.family == "filter":
        judgement = judge_filter_change(change, networks)
        categories |= judgement.categories
        proxy, affected = judgement.proxy_port, judgement.affected
    elif change.family == "nat":
        categories.add(
            {ChangeType.ADDED: r.NAT_ADDED, ChangeType.REMOVED: r.NAT_REMOVED, ChangeType.MODIFIED: r.NAT_MODIFIED}[
                change.change
            ]
        )
        if change.change is not ChangeType.REMOVED and isinstance(change.after, NatRule) and change.after.enabled:
            new = judge_nat(change.after, networks)
            old = (
                judge_nat(change.before, networks)
                if isinstance(change.before, NatRule) and change.before.enabled
                else NOTHING
            )
            for category in new.categories:
                new_paths = {path for path in new.paths if path[0] == category}
                if category not in old.categories or new.affected != old.affected or not new_paths <= old.paths:
                    categories.add(category)
            if categories & {r.EGRESS_FORWARD, r.INBOUND_EXPOSURE}:
                proxy, affected = new.proxy_port, new.affected
        if affected == Affected():
            # a removal (or a change that enables nothing new) still records what the rule covered:
            # removing a port forward is evidence too, and the report names the hosts it concerned
            rule = change.after if isinstance(change.after, NatRule) and change.after.enabled else change.before
            if isinstance(rule, NatRule):
                affected = judge_nat(rule, networks).affected
    elif change.family == "binding":
        categories.add(r.BINDING_CHANGED)
    elif change.family == "object":
        categories.add(r.OBJECT_CHANGED)
    if change.family in ("filter", "nat") and any(reason.startswith("object ") for reason in change.reasons):
        categories.add(r.OBJECT_CHANGED)
    ordered = tuple(category for category in r.CATEGORIES if category in categories)
    tags = (r.PROXY_PORT,) if proxy else ()
    return replace(change, categories=ordered, tags=tags, affected=affected)


def classify_changes(changes: list[RuleChange], networks: Networks) -> list[RuleChange]:
    return [classify_change(change, networks) for change in changes]
