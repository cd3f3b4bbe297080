"""Netfilter-style chains, shared by the Linux, VyOS and RouterOS parsers.

Each of those parsers reads its own syntax into `Table`s of `Chain`s of `ChainRule`s; `Builder` then walks
the base chains in packet order, inlines jumps/gotos to user chains with the jump's condition intersected
in (`Cond.intersect`), turns chain policies into final match-all rules and emits filter and NAT rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from cfgwatch.model import (
    Action,
    AddressSet,
    FilterRule,
    Match,
    NatKind,
    NatRule,
    ObjectDef,
    PortSet,
    Service,
    SourceRef,
)
from cfgwatch.model.addresses import ANY_ADDRESS
from cfgwatch.model.ports import ANY_PORTS, ANY_SERVICE, PORT_PROTOCOLS
from cfgwatch.vendors._misc_common import Diagnostics

_MAX_DEPTH = 16
_MAX_CONTINUATION = 20_000  # rules one conditional RETURN may copy from its callers before it is a diagnostic


class Cond(NamedTuple):
    """The match part of one rule, combinable with a jump's match when a chain is inlined.

    A tuple rather than a frozen dataclass: one is built per rule, and tuple construction is cheap.
    """

    src: AddressSet = ANY_ADDRESS
    dst: AddressSet = ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)
    in_if: str | None = None
    out_if: str | None = None
    options: frozenset[str] = frozenset()

    def intersect(self, other: Cond) -> Cond | None:
        """Both conditions at once (a jump's match and a rule of the chain it jumps to); None if disjoint."""
        if self is TOP or self.is_top:
            return other
        src, dst = self.src & other.src, self.dst & other.dst
        if src.is_empty and not (self.src.fqdns or other.src.fqdns):
            return None
        if dst.is_empty and not (self.dst.fqdns or other.dst.fqdns):
            return None
        if self.src.fqdns or other.src.fqdns:
            src = other.src if self.src.is_any else self.src
        if self.dst.fqdns or other.dst.fqdns:
            dst = other.dst if self.dst.is_any else self.dst
        services = tuple(s for a in self.services for b in other.services if (s := _svc_and(a, b)) is not None)
        if not services:
            return None
        in_if = _if_and(self.in_if, other.in_if)
        out_if = _if_and(self.out_if, other.out_if)
        if in_if == "" or out_if == "":
            return None
        return Cond(
            src.named(*other.src.names) if other.src.names else src.named(*self.src.names),
            dst.named(*other.dst.names) if other.dst.names else dst.named(*self.dst.names),
            services,
            in_if,
            out_if,
            self.options | other.options,
        )

    @property
    def is_top(self) -> bool:
        """Matches everything (the start of a base chain): intersecting with it is the identity."""
        return (
            self.in_if is None
            and self.out_if is None
            and not self.options
            and self.services == (ANY_SERVICE,)
            and self.src.is_any
            and self.dst.is_any
        )

    def match(self) -> Match:
        return Match(self.src, self.dst, self.services)


def _if_and(left: str | None, right: str | None) -> str | None:
    if left is None or left == right:
        return right
    if right is None:
        return left
    return ""  # two different interfaces: never both


def _svc_and(left: Service, right: Service) -> Service | None:
    if left.protocol is None:
        return right
    if right.protocol is None:
        return left
    if left.protocol != right.protocol:
        return None
    if left.protocol in PORT_PROTOCOLS:
        src, dst = left.src_ports & right.src_ports, left.dst_ports & right.dst_ports
        if src.is_empty or dst.is_empty:
            return None
        return Service(left.protocol, src, dst, names=left.names + right.names)
    return left if left.icmp_type is not None else right


@dataclass(slots=True)
class ChainRule:
    """One parsed rule: its condition, what it does and where it is."""

    line: int
    cond: Cond
    verdict: str  # ACCEPT, DROP, REJECT, RETURN, JUMP, GOTO, DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP, PASS
    target: str = ""  # chain for JUMP/GOTO
    to_addr: AddressSet | None = None
    to_ports: PortSet | None = None
    comment: str | None = None
    end_line: int = 0
    text: str = ""
    enabled: bool = True
    sequence: int | None = None  # VyOS `rule N`; netfilter rules have no number


@dataclass(slots=True)
class Chain:
    name: str
    line: int
    policy: str | None = None  # ACCEPT / DROP for base chains
    hook: str | None = None  # input, forward, output, prerouting, postrouting
    kind: str = "filter"  # filter | nat | route
    rules: list[ChainRule] = field(default_factory=list)


@dataclass(slots=True)
class Table:
    family: str  # iptables | ip | ip6 | inet | ...
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)
    sets: dict[str, AddressSet | PortSet] = field(default_factory=dict)
    set_spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # nft set name -> first, last line


Expanded = list[tuple[Cond, ChainRule, tuple[str, ...]]]
Continuation = Callable[[Cond], Expanded | None]  # None: what follows is unknown


def _default_of(chain: Chain, cond: Cond) -> Expanded | None:
    """A RETURN in a chain applied directly ends in that chain's own match-all last rule (VyOS default-action)."""
    if chain.rules and chain.rules[-1].cond.is_top and chain.rules[-1].verdict in _FILTER_ACTIONS:
        last = chain.rules[-1]
        merged = cond.intersect(last.cond)
        return [(merged, last, ())] if merged is not None else []
    return None


_FILTER_ACTIONS = {"ACCEPT": Action.PERMIT, "DROP": Action.DENY, "REJECT": Action.REJECT}
TOP = Cond()  # matches everything; shared because Cond is immutable


# -- model building ------------------------------------------------------------------------------
class Builder:
    def __init__(self, tables: list[Table], diags: Diagnostics) -> None:
        self.diags = diags
        self.filters: list[FilterRule] = []
        self.nats: list[NatRule] = []
        self.objects: list[ObjectDef] = []
        for table in tables:
            self._table(table)

    def _list_name(self, table: Table, chain: str) -> str:
        if table.family == "vyos":  # reused by the vyos parser: the ruleset name is the list
            return chain
        if table.family == "routeros":  # reused by the mikrotik_routeros parser
            return chain if table.name == "filter" else f"{table.name}/{chain}"
        if table.family == "iptables":
            return chain if table.name == "filter" else f"{table.name}/{chain}"
        return f"{table.family} {table.name}/{chain}"

    def _table(self, table: Table) -> None:
        for name, value in table.sets.items():
            span = table.set_spans.get(name)
            source = SourceRef(span[0], span[1]) if span else None
            context = f"{table.family} {table.name}"
            if isinstance(value, AddressSet):
                self.objects.append(ObjectDef(name, "address-set", value.named(name), context=context, source=source))
            else:
                self.objects.append(
                    ObjectDef(
                        name, "service-set", services=(Service(6, ANY_PORTS, value),), context=context, source=source
                    )
                )
        reached: set[str] = set()
        for chain in table.chains.values():
            if chain.hook is None:
                continue
            is_nat = table.name == "nat" if table.family == "iptables" else chain.kind == "nat"
            # NAT rules are judged one by one, not first-match over a packet space, so the exclusion a
            # RETURN makes there cannot be expressed: it stays a LINUX-RETURN diagnostic
            policy = None if is_nat else self._policy_of(chain)
            expanded = self._expand(table, chain, TOP, (), 0, reached, chain.name, policy)
            if is_nat:
                for cond, rule, via in expanded:
                    self._nat(table, chain, cond, rule, via)
                continue
            list_name = self._list_name(table, chain.name)
            for cond, rule, via in expanded:
                self._filter(list_name, cond, rule, via)
            if chain.policy in ("ACCEPT", "DROP"):
                self.filters.append(
                    FilterRule(
                        list_name=list_name,
                        action=Action.PERMIT if chain.policy == "ACCEPT" else Action.DENY,
                        options=frozenset({"chain-policy"}),
                        source=SourceRef(chain.line, chain.line),
                    )
                )
        for chain in table.chains.values():
            if chain.hook is None and chain.name not in reached and chain.rules:
                list_name = self._list_name(table, chain.name)
                for cond, rule, via in self._expand(table, chain, TOP, (), 0, reached, chain.name):
                    if rule.verdict in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"):
                        self._nat(table, chain, cond, rule, via)
                    else:
                        self._filter(list_name, cond, rule, via)

    def _expand(
        self,
        table: Table,
        chain: Chain,
        outer: Cond,
        via: tuple[str, ...],
        depth: int,
        reached: set[str],
        base: str,
        after: Continuation | None = None,
        start: int = 0,
    ) -> Expanded:
        """The rules of `chain` from `start` on, inlined under `outer`, in first-match order.

        `after` gives what decides a packet that leaves this chain (RETURN, or the end of a chain entered
        by GOTO): the rest of the calling chain, then its caller's, down to the base chain's policy. A
        conditional RETURN is exact that way: the packets it matches are decided by a copy of that
        continuation placed at the RETURN, limited to the RETURN's match (netfilter: "stop traversing this
        chain and resume at the next rule in the previous (calling) chain").
        """
        out: Expanded = []
        for position in range(start, len(chain.rules)):
            rule = chain.rules[position]
            cond = outer.intersect(rule.cond)
            if cond is None:
                continue
            if not rule.enabled and rule.verdict in ("JUMP", "GOTO", "RETURN"):
                continue
            if rule.verdict in ("JUMP", "GOTO"):
                target = table.chains.get(rule.target)
                if target is None:
                    self.diags.add(
                        "LINUX-UNKNOWN-CHAIN", f"jump to undefined chain '{rule.target}'", rule.line, rule.text
                    )
                    continue
                if depth >= _MAX_DEPTH or rule.target in via or rule.target == base:
                    self.diags.add(
                        "LINUX-CHAIN-LOOP", f"chain '{rule.target}' loops or nests too deep", rule.line, rule.text
                    )
                    continue
                reached.add(rule.target)
                inner = (
                    after if rule.verdict == "GOTO" else self._rest_of(table, chain, via, depth, base, after, position)
                )
                out.extend(self._expand(table, target, cond, (*via, rule.target), depth + 1, reached, base, inner))
                if rule.verdict == "GOTO":
                    if cond == outer:
                        break
                    # packets that fall off the end of a GOTO target go back to this chain's caller
                    tail = after(cond) if after is not None else None
                    if tail is not None:
                        out.extend(tail)
                continue
            if rule.verdict == "RETURN":
                if cond == outer:
                    break  # unconditional: the rest of this chain is never reached
                tail = after(cond) if after is not None else _default_of(chain, cond) if depth == 0 else None
                if tail is not None:
                    out.extend(tail)
                elif position != len(chain.rules) - 1:
                    self.diags.add(
                        "LINUX-RETURN",
                        # a NAT chain, or a chain with no known caller/policy to fall back to
                        "conditional RETURN is not modelled: later rules of the chain are treated as reached",
                        rule.line,
                        rule.text,
                    )
                continue
            out.append((cond, rule, via))
        return out

    def _rest_of(
        self,
        table: Table,
        chain: Chain,
        via: tuple[str, ...],
        depth: int,
        base: str,
        after: Continuation | None,
        position: int,
    ) -> Continuation:
        """What decides a packet that comes back from a JUMP at `position`: the rest of `chain`, then
        whatever decides packets leaving `chain`. None (unknown) when that is unknown or too large."""

        def resume(cond: Cond) -> Expanded | None:
            rest = self._expand(table, chain, cond, via, depth, set(), base, after, position + 1)
            if len(rest) > _MAX_CONTINUATION:
                return None
            if rest and rest[-1][0] == cond and rest[-1][1].verdict in _FILTER_ACTIONS:
                return rest  # the rest of the chain ends in a match-all verdict (VyOS default-action)
            tail = after(cond) if after is not None else None
            if tail is None or len(rest) + len(tail) > _MAX_CONTINUATION:
                return None
            return rest + tail

        return resume

    def _policy_of(self, chain: Chain) -> Continuation | None:
        """The end of a base chain: its policy decides every packet that reaches it."""
        if chain.policy not in ("ACCEPT", "DROP"):
            return None
        policy = ChainRule(chain.line, Cond(options=frozenset({"chain-policy"})), chain.policy, end_line=chain.line)

        def decide(cond: Cond) -> Expanded | None:
            merged = cond.intersect(policy.cond)
            return [(merged, policy, ())] if merged is not None else []

        return decide

    def _filter(self, list_name: str, cond: Cond, rule: ChainRule, via: tuple[str, ...]) -> None:
        action = _FILTER_ACTIONS.get(rule.verdict)
        if action is None:
            if rule.verdict not in ("PASS",):
                self.diags.add(
                    "LINUX-UNSUPPORTED-TARGET",
                    f"{rule.verdict} in a filter chain is not modelled",
                    rule.line,
                    rule.text,
                )
            return
        options = cond.options | {f"chain:{via[-1]}"} if via else cond.options
        self.filters.append(
            FilterRule(
                list_name=list_name,
                action=action,
                match=cond.match(),
                from_zones=(cond.in_if,) if cond.in_if else (),
                to_zones=(cond.out_if,) if cond.out_if else (),
                enabled=rule.enabled,
                options=frozenset(options),
                comment=rule.comment,
                # a rule number identifies the entry only in its own chain, not once inlined elsewhere
                sequence=rule.sequence if not via else None,
                source=SourceRef(rule.line, max(rule.line, rule.end_line)),
            )
        )

    def _nat(self, table: Table, chain: Chain, cond: Cond, rule: ChainRule, via: tuple[str, ...]) -> None:
        verdict = rule.verdict
        if verdict in ("ACCEPT", "PASS"):
            if verdict == "ACCEPT" and cond.match() != Match():
                self.diags.add(
                    "LINUX-NAT-EXEMPT", "ACCEPT in a NAT chain (NAT exemption) is not modelled", rule.line, rule.text
                )
            return
        if verdict in ("DROP", "REJECT"):
            self.diags.add(
                "LINUX-UNSUPPORTED-TARGET", f"{verdict} in a NAT chain is not modelled", rule.line, rule.text
            )
            return
        hook = chain.hook or ""
        options = set(cond.options)
        if via:
            options.add(f"chain:{via[-1]}")
        kind: NatKind
        translated_src = translated_dst = None
        src_ports = dst_ports = None
        interface = None
        if verdict == "NETMAP":
            verdict = "SNAT" if hook == "postrouting" else "DNAT"
        if verdict == "DNAT":
            kind, translated_dst, dst_ports = NatKind.DESTINATION, rule.to_addr, rule.to_ports
        elif verdict == "SNAT":
            kind, translated_src, src_ports = NatKind.SOURCE, rule.to_addr, rule.to_ports
        elif verdict == "MASQUERADE":
            kind, src_ports = NatKind.PAT, rule.to_ports
            interface = cond.out_if or "egress"
        elif verdict == "REDIRECT":
            kind, dst_ports = NatKind.DESTINATION, rule.to_ports
            interface = cond.in_if or "local"
            options.add("redirect")
        else:
            self.diags.add(
                "LINUX-UNSUPPORTED-TARGET", f"{verdict} in a NAT chain is not modelled", rule.line, rule.text
            )
            return
        self.nats.append(
            NatRule(
                kind=kind,
                match=cond.match(),
                translated_src=translated_src,
                translated_dst=translated_dst,
                translated_src_ports=src_ports,
                translated_dst_ports=dst_ports,
                ingress=(cond.in_if,) if cond.in_if else (),
                egress=(cond.out_if,) if cond.out_if else (),
                translate_to_interface=interface,
                section=self._list_name(table, chain.name),
                enabled=rule.enabled,
                options=frozenset(options),
                comment=rule.comment,
                source=SourceRef(rule.line, max(rule.line, rule.end_line)),
            )
        )
