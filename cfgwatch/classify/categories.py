"""What a change enables: categories, the proxy-port tag, and the affected addresses the flow check needs.

NAT rules are judged in every direction they apply: the direction they are written in and, for
bidirectional static NAT, the reverse view (`inside source static A B` also forwards outside traffic
for B to A: an inbound exposure; `outside source static P I` also redirects inside clients that
connect to I out to P: an egress forward).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from cfgwatch.classify.context import EMPTY_VIEW, DeviceView
from cfgwatch.classify.networks import Networks, untrusted_name
from cfgwatch.model import (
    ANY_PORTS,
    EMPTY_ADDRESS,
    Action,
    AddressSet,
    Binding,
    BindingKind,
    FilterRule,
    Match,
    NatRule,
    PortSet,
    RuleSet,
)
from cfgwatch.model import changes as r
from cfgwatch.model.changes import Affected, ChangeType, RuleChange
from cfgwatch.model.space import CompiledList, SpaceDelta, ZoneIndex, compare_in_region, rule_boxes


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
    # source translated to this interface's own address (PAT/static to `interface X`): a source NAT even
    # when the address is not in the config; only the view written in the rule's direction has it
    src_interface: str | None = None


def interface_address(name: str) -> AddressSet:
    """An interface's own address the config does not hold (DHCP, PPP `negotiated`): a placeholder named
    after it. Its `interface:` prefix marks it as no DNS name, so it is never an Internet destination."""
    return AddressSet(fqdns=frozenset({f"interface:{name.lower()}"}), names=(f"interface {name}",))


def nat_views(rule: NatRule) -> list[NatView]:
    forward = NatView(
        src=rule.match.src,
        dst=rule.match.dst,
        dst_ports=rule.match.dst_ports(),
        translated_src=rule.translated_src,
        translated_dst=rule.translated_dst,
        translated_dst_ports=rule.translated_dst_ports,
        ingress=rule.ingress,
        src_interface=rule.translate_to_interface,
    )
    views = [forward]
    if rule.bidirectional:
        src_ports = ANY_PORTS
        for service in rule.match.services:
            if not service.src_ports.is_any:
                src_ports = service.src_ports if src_ports.is_any else src_ports | service.src_ports
        reverse_dst_ports = rule.translated_src_ports or src_ports
        # static NAT to `interface X` maps the inside host to X's address even when DHCP or PPP sets it:
        # outside packets to that address (and port) reach the inside host, as for a written address
        mapped = rule.translated_src
        if mapped is None and rule.translate_to_interface is not None:
            mapped = interface_address(rule.translate_to_interface)
        views.append(
            NatView(
                src=rule.translated_dst or rule.match.dst,
                dst=mapped or rule.match.src,
                dst_ports=reverse_dst_ports,
                translated_src=rule.match.dst if rule.translated_dst is not None else None,
                translated_dst=rule.match.src if mapped is not None else None,
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
    """Public addresses a rule names specifically: a bounded part of the Internet (Networks.bounded_public)
    or FQDNs. All of the Internet, or all of it but a blocklist, is not a specific destination."""
    bounded = networks.bounded_public(addresses)
    names = _runtime(addresses)  # not placeholders such as an interface's unknown address
    if names:
        return bounded | AddressSet(fqdns=names)
    return bounded


def _same_family(addresses: AddressSet, target: AddressSet) -> AddressSet:
    """Keep only the address family the target uses (an IPv4 forward does not concern IPv6 clients)."""
    if target.v4 and not target.v6:
        return AddressSet(v4=addresses.v4, fqdns=addresses.fqdns)
    if target.v6 and not target.v4:
        return AddressSet(v6=addresses.v6, fqdns=addresses.fqdns)
    return addresses


def _from_internet(view: NatView) -> bool:
    """Whether a NAT view only takes packets arriving on interfaces named like the Internet side."""
    return bool(view.ingress) and all(untrusted_name(name) for name in view.ingress)


def _is_proxy(ports: PortSet | None, networks: Networks) -> bool:
    return ports is not None and not ports.is_any and ports.overlaps(networks.proxy_ports)


def judge_nat(rule: NatRule, networks: Networks) -> Judgement:
    categories: set[str] = set()
    paths: set[tuple[str, NatView]] = set()
    proxy = False
    affected = Affected()
    for view in nat_views(rule):
        internal_src = networks.internal_part(view.src)
        if internal_src.is_empty and _runtime(view.src):
            # clients named by a set whose members the config does not hold (an ipset, an nft set or
            # address-list filled at run time) may be internal ones: kept by name, judged as such
            internal_src = AddressSet(fqdns=_runtime(view.src), names=view.src.names)
        ports = view.translated_dst_ports or view.dst_ports
        tdst_public = networks.public_part(view.translated_dst) if view.translated_dst is not None else EMPTY_ADDRESS
        if view.translated_dst is not None and _runtime(view.translated_dst) and not _from_internet(view):
            # a DNS name as the new destination (FortiOS `type fqdn` VIP, a mapped FQDN object) is resolved
            # at run time: a host on the Internet, as for a filter's FQDN destination (_specific_public),
            # unless the packets arrive from the Internet side (then it is a published inside server)
            tdst_public = tdst_public | AddressSet(fqdns=_runtime(view.translated_dst))
        match_public = _specific_public(view.dst, networks)
        egress_target = (
            tdst_public
            if not tdst_public.is_empty
            else (match_public if view.translated_src is not None or view.src_interface else EMPTY_ADDRESS)
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


def egress_flow_targets(change: RuleChange, networks: Networks) -> tuple[AddressSet, PortSet | None] | None:
    """Destinations and ports an egress NAT path shows in flow records, on both sides of the translation.

    Inside clients of a redirect (IOS `outside source static`, a DNAT toward the Internet) connect to the
    inside-global address and port; the router sends the packets on to the real destination (a Junos
    destination pool `address X port P` rewrites the port too). An exporter on the inside interface
    reports the first, one on the outside the second: the flow check looks for both. None when the
    change is no egress NAT path.
    """
    if change.family != "nat" or not isinstance(change.after, NatRule) or r.EGRESS_FORWARD not in change.categories:
        return None
    destinations = change.affected.public
    ports: PortSet | None = None if change.affected.ports.is_any else change.affected.ports
    for category, view in judge_nat(change.after, networks).paths:
        if category != r.EGRESS_FORWARD:
            continue
        if view.translated_dst is not None and not view.dst.is_any:
            destinations = destinations | view.dst
        seen = [view.dst_ports, view.translated_dst_ports or view.dst_ports]
        for side in seen:
            ports = None if ports is None or side.is_any else ports | side
    return destinations, ports


def judge_filter_change(
    change: RuleChange,
    networks: Networks,
    *,
    faces_internet: bool | None = None,
    only_internet: bool = False,
    reopened: bool = False,
) -> Judgement:
    """Categories of a filter change from the traffic it newly permits or denies.

    `faces_internet` True: the list judges traffic arriving from the Internet (see context.py), so whatever
    it newly lets in from public sources to inside addresses is an inbound exposure even when the rule says
    `any` (on a LAN-side list, `any` as destination is the Internet, not the inside). False: known not to
    (a filter bound on a LAN interface), so no inbound exposure. None: unknown, an inbound exposure needs
    inside destinations named specifically. `only_internet`: the list judges nothing else, so its internal
    sources are spoofed, never an egress path.
    `reopened`: the widening comes from a whole filter going away or being swapped (a binding change),
    which reopens every port it closed, proxy and tunnel ports included, even when that is every port.
    """
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
        proxy = _is_proxy(ports, networks) or (reopened and ports.overlaps(networks.proxy_ports))
        to_proxy, from_proxy = _proxy_services(change, delta, networks)
        proxy = proxy or to_proxy
        if (
            not only_internet
            and not internal_src.is_empty
            and not public_dst.is_empty
            and (not specific.is_empty or proxy)
        ):
            categories.add(r.EGRESS_FORWARD)
            affected = Affected(
                internal=internal_src, public=public_dst if specific.is_empty else specific, ports=ports
            )
        inside_dst = dst & (networks.internal | networks.org_public)
        inbound_side = faces_internet if faces_internet is not None else not _everything(dst)
        if not networks.public_part(src).is_empty and not inside_dst.is_empty and inbound_side:
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
        proxy = proxy or from_proxy
    if delta.narrowed:
        categories.add(r.ACL_NARROWED)
        if affected == Affected():  # what lost its path: the flow check and reports still need it
            affected = Affected(
                internal=networks.internal_part(delta.narrowed_src()),
                public=_specific_public(delta.narrowed_dst(), networks),
                ports=delta.narrowed_dst_ports(),
            )
    return Judgement(frozenset(categories), proxy, affected)


def _proxy_services(change: RuleChange, delta: SpaceDelta, networks: Networks) -> tuple[bool, bool]:
    """Whether a permit's own services name proxy ports the widening reaches: (as destination, as source).

    The widened ports are one projection over all of a rule's services, so a service that leaves every
    destination port open hides another that names a proxy port: Junos `from port 9050` (source OR
    destination port) is (sport 9050, any dport) plus (any sport, dport 9050). A destination-side proxy
    port is a path to a proxy like any other; a source-side one (traffic from a proxy's port) only tags.
    """
    rule = change.after
    if not isinstance(rule, FilterRule) or rule.action is not Action.PERMIT or not rule.enabled:
        return False, False
    dst_reached = delta.widened_dst_ports().intersection(networks.proxy_ports)
    src_reached = delta.widened_src_ports().intersection(networks.proxy_ports)
    to_proxy = from_proxy = False
    for service in rule.match.services:
        if service.is_any:
            continue
        to_proxy = to_proxy or (not service.dst_ports.is_any and service.dst_ports.overlaps(dst_reached))
        from_proxy = from_proxy or (not service.src_ports.is_any and service.src_ports.overlaps(src_reached))
    return to_proxy, from_proxy


def _opaque(rule: object) -> frozenset[str]:
    """Names a filter rule matches whose addresses the config does not hold (FQDNs, unresolved sets)."""
    if not isinstance(rule, FilterRule):
        return frozenset()
    return _runtime(rule.match.src) | _runtime(rule.match.dst)


# Placeholders for sets whose members live outside the saved config (iptables ipsets, FortiOS geography /
# dynamic / SDN addresses); DNS names carry no prefix. Other placeholders stand for references the config
# does not define (`unresolved:`, `group:`, `set:`, `address:`), which a vendor refuses to commit, or for a
# RouterOS address-list no line fills (`address-list:`), which matches nothing until it is filled (see
# model/space.py rule_boxes): they stay what the packet space makes of them, nothing, as an empty group.
_RUNTIME_PREFIXES = ("ipset:", "geography:", "dynamic:", "sdn:")


def _runtime(addresses: AddressSet) -> frozenset[str]:
    """The names of an address set whose members are decided at run time (DNS names, run-time sets)."""
    if not addresses.fqdns:
        return frozenset()
    return frozenset(name for name in addresses.fqdns if ":" not in name or name.startswith(_RUNTIME_PREFIXES))


def judge_opaque_permit(change: RuleChange, networks: Networks, *, only_internet: bool = False) -> Judgement | None:
    """A permit naming addresses the packet space cannot place: judged as newly permitting what it names.

    FQDN objects (FortiOS `type fqdn`, PAN-OS/ASA fqdn objects) resolve through DNS at run time, and an ipset,
    nft named set or address-list whose members are not in the saved ruleset can hold any address; the
    packet-space algebra has no interval for them, so such a rule shows no widening at all. A permit that
    newly names one (added, enabled, turned into a permit, or given another name, more sources or services) is
    judged conservatively as widening: an FQDN destination is an Internet host (what egress-forward looks
    for), and a source set of unknown contents may hold internal clients. None when nothing opaque is new.
    """
    after = change.after
    if change.change is ChangeType.REMOVED or not isinstance(after, FilterRule):
        return None
    if not after.enabled or after.action is not Action.PERMIT:
        return None
    names = _opaque(after)
    if not names:
        return None
    before = change.before
    if (
        isinstance(before, FilterRule)
        and before.enabled
        and before.action is Action.PERMIT
        and names <= _opaque(before)
        and all(any(old.contains(new) for old in before.match.services) for new in after.match.services)
        and before.match.src.contains(after.match.src)
        and (before.from_zones, before.to_zones) == (after.from_zones, after.to_zones)
    ):
        return None  # the same names, for no more sources or services than before: nothing opaque is new
    src, dst = after.match.src, after.match.dst
    ports = after.match.dst_ports()
    proxy = _is_proxy(ports, networks)
    internal_src = networks.internal_part(src)
    maybe_internal = not internal_src.is_empty or bool(_runtime(src))
    opaque_dst = _runtime(dst)
    targets = networks.bounded_public(dst) | AddressSet(fqdns=opaque_dst) if opaque_dst else EMPTY_ADDRESS
    if not opaque_dst and (proxy or not _specific_public(dst, networks).is_empty):
        targets = networks.public_part(dst)  # an unknown source set permitted to a public host
    categories = {r.ACL_WIDENED}
    if not only_internet and maybe_internal and not targets.is_empty:
        categories.add(r.EGRESS_FORWARD)
    affected = Affected(internal=internal_src, public=targets, ports=ports)
    return Judgement(frozenset(categories), proxy, affected)


def _merge(first: Judgement, second: Judgement) -> Judgement:
    """Both judgements' categories; the affected addresses of the one that found an egress path."""
    keep = second if r.EGRESS_FORWARD in second.categories or first.affected == Affected() else first
    return Judgement(first.categories | second.categories, first.proxy_port or second.proxy_port, keep.affected)


def _everything(addresses: AddressSet) -> bool:
    """`any`, or `any` of one family (an IPv4 ACL's `any`)."""
    whole = AddressSet.any()
    if addresses.is_empty:
        return False
    return addresses.v4 in ((), whole.v4) and addresses.v6 in ((), whole.v6)


# -- breadth ---------------------------------------------------------------------------------------
# How much becomes reachable decides how bad an inbound exposure is. Scores per axis (0, 1, 2):
#   inside addresses: up to 16 0, up to a /20 (4096) 1, more 2
#   ports:            up to 16 ports 0, up to 1024 1, more (or every protocol) 2
# An exposure scoring BROAD_SCORE or more (e.g. one host on every port, a /16 on one port, any/any)
# is tagged `broad`, which raises its severity one level (high -> critical).
BROAD_SCORE = 2


@dataclass(frozen=True, slots=True)
class Breadth:
    addresses: int  # inside addresses reachable (IPv4 + IPv6)
    ports: int  # destination ports reachable (65536 = every port)
    v6: int = 0  # of which IPv6

    @property
    def score(self) -> int:
        address_score = 0 if self.addresses <= 16 else 1 if self.addresses <= 4096 else 2
        port_score = 0 if self.ports <= 16 else 1 if self.ports <= 1024 else 2
        return address_score + port_score

    def text(self) -> str:
        ports = "every port" if self.ports >= 65536 else f"{self.ports} port{'s' if self.ports != 1 else ''}"
        v4 = self.addresses - self.v6
        parts = [f"{v4} IPv4"] if v4 else []
        if self.v6:
            parts.append(f"{self.v6} IPv6" if self.v6 < 1 << 16 else f"about 2^{self.v6.bit_length() - 1} IPv6")
        count = " + ".join(parts) or "0"
        plural = "es" if self.addresses != 1 else ""
        return (
            f"breadth: {count} inside address{plural} reachable on {ports}"
            f" (score {self.score}/4; {BROAD_SCORE} or more is broad)"
        )


def exposure_breadth(affected: Affected, networks: Networks) -> Breadth:
    """Inside addresses (internal, translated-to and our own public ones) and ports an exposure reaches."""
    inside = affected.internal | (affected.translated & (networks.internal | networks.org_public))
    inside = inside | networks.org_part(affected.public)
    ports = (
        65536
        if affected.ports.is_empty or affected.ports.is_any
        else sum(end - start + 1 for start, end in affected.ports.ranges)
    )
    return Breadth(inside.count(), ports, AddressSet(v6=inside.v6).count())


def classify_change(
    change: RuleChange,
    networks: Networks,
    before: DeviceView = EMPTY_VIEW,
    after: DeviceView = EMPTY_VIEW,
    cache: DeltaCache | None = None,
    existing_egress: Callable[[], tuple[NatView, ...]] | None = None,
) -> RuleChange:
    """Return the change with categories, tags and affected addresses filled in.

    `before` / `after` describe the device on each side (where lists are bound, which side faces the
    Internet); without them a change is judged from its own rule only. `existing_egress`: the egress NAT
    paths of the device before the change (a NAT added or modified only within one of them, e.g. an
    unnamed DNAT whose clients were narrowed, enables no new egress), called only for a NAT change judged
    an egress: finding them judges every NAT rule of the device.
    """
    categories: set[str] = set()
    proxy = False
    affected = Affected()
    reasons = list(change.reasons)
    if change.family == "filter":
        view = after if change.after is not None else before
        rule = change.rule
        # a list known to face the Internet, else unknown (LAN-side bindings are not proof: the same
        # list may be applied elsewhere, and a rule may name inside destinations on purpose)
        faces = True if isinstance(rule, FilterRule) and view.faces_internet(rule) else None
        only = isinstance(rule, FilterRule) and view.only_internet(rule)
        judgement = judge_filter_change(change, networks, faces_internet=faces, only_internet=only)
        opaque = judge_opaque_permit(change, networks, only_internet=only)
        if opaque is not None:
            judgement = _merge(judgement, opaque)
            reasons.append(
                "permits traffic to/from names whose addresses are not in the config"
                f" ({', '.join(sorted(_opaque(rule)))}); judged as newly permitted"
            )
            change = replace(change, exact=False)
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
            egress = [view for category, view in new.paths if category == r.EGRESS_FORWARD]
            if (
                r.EGRESS_FORWARD in categories
                and existing_egress is not None
                and all(any(_covers(old_view, view) for old_view in existing_egress()) for view in egress)
            ):
                categories.discard(r.EGRESS_FORWARD)
                reasons.append("no new egress path: the device already translated these clients the same way")
            if categories & {r.EGRESS_FORWARD, r.INBOUND_EXPOSURE}:
                proxy, affected = new.proxy_port, new.affected
        if affected == Affected():
            # a removal (or a change that enables nothing new) still records what the rule covered:
            # removing a port forward is evidence too, and the report names the hosts it concerned
            nat = change.after if isinstance(change.after, NatRule) and change.after.enabled else change.before
            if isinstance(nat, NatRule):
                affected = judge_nat(nat, networks).affected
    elif change.family == "binding":
        categories.add(r.BINDING_CHANGED)
        binding = change.rule
        if isinstance(binding, Binding) and binding.kind is BindingKind.NAT_RULESET:
            # the rule-set's NAT rules carry their binding (ingress/egress), so the NAT changes beside this
            # one say what is translated where now
            state = "no longer applies" if change.change is ChangeType.REMOVED else "applies"
            side = "from" if binding.direction == "in" else "to"
            reasons.append(f"NAT rule-set {binding.name} {state} to traffic {side} {binding.interface}")
        judged = judge_binding_change(change, networks, before, after, cache)
        if judged is not None:
            judgement, delta, reason = judged
            categories |= judgement.categories
            proxy, affected = judgement.proxy_port, judgement.affected
            reasons.append(reason)
            change = replace(change, delta=delta, exact=delta.exact)
    elif change.family == "object":
        categories.add(r.OBJECT_CHANGED)
    if change.family in ("filter", "nat") and any(reason.startswith("object ") for reason in change.reasons):
        categories.add(r.OBJECT_CHANGED)
    tags = [r.PROXY_PORT] if proxy else []
    if r.INBOUND_EXPOSURE in categories:
        breadth = exposure_breadth(affected, networks)
        reasons.append(breadth.text())
        if breadth.score >= BROAD_SCORE:
            tags.append(r.BROAD)
    ordered = tuple(category for category in r.CATEGORIES if category in categories)
    return replace(change, categories=ordered, tags=tuple(tags), affected=affected, reasons=tuple(reasons))


# -- bindings --------------------------------------------------------------------------------------


def _unbound_permits(binding: Binding, view: DeviceView) -> bool:
    """What passes where no filter is bound, as the vendors document it.

    No ACL on an interface permits everything (IOS, NX-OS, EOS, Junos, VyOS), except that an ASA lets
    traffic entering an interface through only toward lower security levels, so nothing enters through the
    security-level-0 outside interface without an ACL; and IOS ZBF drops traffic between zones that have no
    zone-pair policy.
    """
    direction = binding.direction.lower()
    if direction == "zone-pair":
        return False
    if view.platform == "cisco_asa" and direction == "in":
        return not view.binding_faces_internet(binding)
    return True


def _slot(binding: Binding) -> tuple[str, str, str | None]:
    return binding.interface, binding.direction.lower(), binding.context


def _bound_rules(binding: Binding | None, view: DeviceView, reference: Binding) -> tuple[FilterRule, ...]:
    """The rules deciding traffic at the binding's place: its list, or what the platform does unbound."""
    if binding is None:
        if _unbound_permits(reference, view):
            return PASS_ALL
        return PASS_NONE
    rules = view.rules_of(binding.name)
    if rules is None:  # a reference to a list that does not exist filters nothing (IOS, ASA docs)
        return PASS_ALL
    return rules


UNBOUND = "(binding)"
PASS_ALL = (FilterRule(UNBOUND, Action.PERMIT),)
PASS_NONE: tuple[FilterRule, ...] = ()
# (old rules, new rules, family) -> delta, keyed by the identity of the rule tuples (one device's views
# hold them for the whole classification): a list bound on many interfaces is compared once
DeltaCache = dict[tuple[int, int, AddressSet], SpaceDelta]


_V6_BINDING = re.compile(r"\bipv6\b|\binet6\b|\bipv6-name\b", re.IGNORECASE)
_V4_BINDING = re.compile(r"\bip (port )?access-group\b|\bfamily inet\b|\bfirewall (in|out|local) name\b", re.IGNORECASE)


def _binding_family(change: RuleChange) -> AddressSet:
    """The address family a filter binding filters, from its config line (`ip access-group` is IPv4 only,
    `ipv6 traffic-filter` IPv6 only, Junos `family inet` / `inet6`, VyOS `name` / `ipv6-name`); both
    when the line does not say (ASA unified ACLs, zone policies)."""
    side = change.lines_after or change.lines_before
    text = " ".join(side.lines) if side else ""
    whole = AddressSet.any()
    if _V6_BINDING.search(text):
        return AddressSet(v6=whole.v6)
    if _V4_BINDING.search(text):
        return AddressSet(v4=whole.v4)
    return whole


def judge_binding_change(
    change: RuleChange,
    networks: Networks,
    before: DeviceView,
    after: DeviceView,
    cache: DeltaCache | None = None,
) -> tuple[Judgement, SpaceDelta, str] | None:
    """A filter bound or unbound on an interface changes what passes there: compare the traffic decided at
    that place before and after.

    A list swapped for another is one comparison split between its two changes, so each part is reported
    once and diff(b, a) stays the inverse: the removed binding carries what is now denied, the added one
    what is now permitted.
    """
    binding = change.rule
    if not isinstance(binding, Binding) or binding.kind is not BindingKind.FILTER:
        return None
    if change.change is ChangeType.MODIFIED:
        return None
    if before is EMPTY_VIEW and after is EMPTY_VIEW:
        return None  # no device context: nothing to compare
    old_bound = [b for b in before.bindings if b.kind is BindingKind.FILTER and _slot(b) == _slot(binding)]
    new_bound = [b for b in after.bindings if b.kind is BindingKind.FILTER and _slot(b) == _slot(binding)]
    place = f"{binding.interface} {binding.direction}".rstrip()
    keep: str | None = None  # "widened" / "narrowed": the part of a swap this side reports
    if change.change is ChangeType.REMOVED:
        replacement = next((b for b in new_bound if b.name != binding.name), None)
        old_rules = _bound_rules(binding, before, binding)
        new_rules = _bound_rules(replacement, after, binding)
        view = before
        what = f"filter {binding.name} no longer applied on {place}"
        if replacement is not None:
            what += f" (replaced by {replacement.name})"
            keep = "narrowed"
    else:
        replaced = next((b for b in old_bound if b.name != binding.name), None)
        old_rules = _bound_rules(replaced, before, binding)
        new_rules = _bound_rules(binding, after, binding)
        view = after
        what = f"filter {binding.name} applied on {place}"
        if replaced is not None:
            what += f" instead of {replaced.name}"
            keep = "widened"
    # an IPv4 ACL binding (`ip access-group`) filters IPv4 only: compare within the lists' families
    family = _binding_family(change)
    key = (id(old_rules), id(new_rules), family)
    cached = cache.get(key) if cache is not None else None
    if cached is None:
        zones = ZoneIndex()
        region = rule_boxes(FilterRule(UNBOUND, Action.PERMIT, Match(src=family, dst=family)), zones)
        cached = compare_in_region(CompiledList.build(old_rules, zones), CompiledList.build(new_rules, zones), region)
        if cache is not None:
            cache[key] = cached
    delta = cached
    if keep == "widened":
        delta = delta.only_widened()
    elif keep == "narrowed":
        delta = delta.only_narrowed()
    judgement = judge_filter_change(
        replace(change, delta=delta),
        networks,
        faces_internet=view.binding_faces_internet(binding),
        only_internet=view.binding_only_internet(binding),
        reopened=True,
    )
    effect = (
        "which newly permits traffic"
        if delta.widened and not delta.narrowed
        else "which newly denies traffic"
        if delta.narrowed and not delta.widened
        else "which permits some traffic and denies other"
        if delta.widened
        else "which changes no traffic"
    )
    return judgement, delta, f"{what}, {effect}"


def classify_changes(
    changes: list[RuleChange],
    networks: Networks,
    before: RuleSet | None = None,
    after: RuleSet | None = None,
) -> list[RuleChange]:
    """Classify every change of one device; with both rule sets, bindings and the Internet side count."""
    before_view = DeviceView.of(before) if before is not None else EMPTY_VIEW
    after_view = DeviceView.of(after) if after is not None else EMPTY_VIEW
    deltas: DeltaCache = {}

    @functools.cache
    def existing() -> tuple[NatView, ...]:
        """The egress NAT paths the device had before: judged once, and only if a NAT change is an egress."""
        if before is None:
            return ()
        return tuple(
            view
            for nat in before.nats
            if nat.enabled
            for category, view in judge_nat(nat, networks).paths
            if category == r.EGRESS_FORWARD
        )

    return [classify_change(change, networks, before_view, after_view, deltas, existing) for change in changes]


def _covers(old: NatView, new: NatView) -> bool:
    """Whether an existing egress NAT path already carries every packet of a new one, translated alike."""
    return (
        old.translated_dst == new.translated_dst
        and old.translated_src == new.translated_src
        and old.translated_dst_ports == new.translated_dst_ports
        and old.ingress == new.ingress
        and old.src.contains(new.src)
        and old.dst.contains(new.dst)
        and old.dst_ports.contains(new.dst_ports)
    )
