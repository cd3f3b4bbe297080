"""Cisco IOS XR: `ipv4|ipv6 access-list` (sequence numbers), `object-group network ipv4|ipv6` and
`object-group port`, interface `ipv4|ipv6 access-group NAME ingress|egress` bindings.

Semantics from the IOS XR IP Addresses and Services Command Reference (access-list commands):

* an ACL's entries are evaluated in sequence-number order (an entry written without a number gets 10
  more than the highest so far), first match wins, an implicit deny ends every list;
* `ipv4` / `ipv6` as the protocol means any protocol of the list's family; `icmp` in an IPv6 list is
  ICMPv6 (as `icmpv6`);
* `net-group NAME` stands for an address, `port-group NAME` for a port operator; a network
  object-group's members are prefixes (`A/len` or `A MASK`), `host A`, `range A B` and nested
  `object-group NAME`; a port object-group's members are `eq|neq|lt|gt P` / `range A B` and nested groups;
* an entry without a protocol (`permit 10.0.0.0 0.255.255.255`) matches the source address only;
* `counter`, `capture`, `log`, `icmp-off`, `nexthop1..3` (ABF forwarding) and `set qos-group` do not
  change which packets an entry permits or denies: they are kept as options.

IOS XR has no IOS-style `ip nat` on the routing platforms (CGN lives in service cards), so no NAT is
modelled; `service cgn` stanzas are reported as diagnostics.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cfgwatch.model import (
    AddressSet,
    Binding,
    Diagnostic,
    FilterRule,
    Interface,
    ObjectDef,
    PortSet,
    RuleSet,
    Service,
    Severity,
)
from cfgwatch.vendors import _cisco_common as cc

PLATFORM = "cisco_xr"
CODE = "XR"

# Entry options that do not change the permit/deny decision: name -> how many arguments follow.
_OPTION_ARGS: dict[str, int] = {
    "counter": 1,
    "capture": 0,
    "icmp-off": 0,
    "icmp-on": 0,
    "log": 0,
    "log-input": 0,
    "default": 0,
    "hw-count": 0,
}
# ICMPv6 message names of XR IPv6 ACLs (type [code]) that the shared table spells differently or lacks.
_ICMP6_NAMES: dict[str, str] = {
    "echo": "128",
    "echo-request": "128",
    "echo-reply": "129",
    "unreachable": "1",
    "no-route": "1 0",
    "no-admin": "1 1",
    "beyond-scope": "1 2",
    "address-unreachable": "1 3",
    "port-unreachable": "1 4",
    "packet-too-big": "2",
    "time-exceeded": "3",
    "hop-limit": "3 0",
    "reassembly-timeout": "3 1",
    "parameter-problem": "4",
    "header": "4 0",
    "next-header": "4 1",
    "parameter-option": "4 2",
    "mld-query": "130",
    "mld-report": "131",
    "mld-reduction": "132",
    "router-solicitation": "133",
    "router-advertisement": "134",
    "nd-ns": "135",
    "neighbor-solicitation": "135",
    "nd-na": "136",
    "neighbor-advertisement": "136",
    "redirect": "137",
    "renum-command": "138 0",
    "renum-result": "138 1",
}
_NEXTHOPS = frozenset({"nexthop1", "nexthop2", "nexthop3"})
_DIRECTIONS = {"ingress": "in", "egress": "out"}


@dataclass
class _State:
    """Everything collected while walking the stanzas of one config."""

    diags: list[Diagnostic] = field(default_factory=list)
    table: cc.ObjectTable = field(default_factory=cc.ObjectTable)
    objects: list[ObjectDef] = field(default_factory=list)
    acls: dict[str, list[FilterRule]] = field(default_factory=dict)


@cc.paused_gc
def parse(text: str) -> RuleSet:
    """Config text -> RuleSet. Pure and deterministic; never raises on bad input."""
    state = _State()
    groups: list[cc.Stanza] = []
    acls: list[cc.Stanza] = []
    interfaces: list[Interface] = []
    bindings: list[Binding] = []
    for stanza in cc.scan(text):
        head = stanza.head.text
        if head.startswith("object-group "):
            groups.append(stanza)
        elif head.startswith(("ipv4 access-list ", "ipv6 access-list ")):
            acls.append(stanza)
        elif head.startswith(("no ipv4 access-list ", "no ipv6 access-list ")):
            acls.append(stanza)  # a config script's `no ipv4 access-list X` removes what came before
        elif head.startswith("interface "):
            info = cc.parse_interface(_ios_spelling(stanza), state.diags, CODE)
            interfaces.append(info.interface)
            bindings.extend(info.bindings)
        elif head.startswith(("service cgn ", "ip nat ")):
            state.diags.append(
                Diagnostic(f"{CODE}-NAT-UNSUPPORTED", "IOS XR NAT (CGN) is not modelled", stanza.head.number, head)
            )
    cc.define_in_order(groups, lambda stanza, final: _object_group(stanza, state, final=final))
    _acls(acls, state)
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(rule for rules in state.acls.values() for rule in rules),
        bindings=tuple(bindings),
        interfaces=tuple(interfaces),
        objects=tuple(state.objects),
        diagnostics=tuple(sorted(state.diags, key=lambda d: (d.line, d.code))),
    )


# -- interfaces ---------------------------------------------------------------------------------


def _ios_spelling(stanza: cc.Stanza) -> cc.Stanza:
    """The interface stanza with XR's `ipv4 address` and `access-group NAME ingress|egress` written the
    IOS way (`ip address`, `in|out`), so the shared interface reader applies unchanged."""
    children: list[cc.Line] = []
    for line in stanza.children:
        if not line.text.startswith(("ipv4 ", "ipv6 ")):  # most lines: nothing to respell
            children.append(line)
            continue
        tokens = line.text.split()
        if len(tokens) >= 3 and tokens[0] == "ipv4" and tokens[1] == "address":
            tokens[0] = "ip"
        elif len(tokens) >= 4 and tokens[0] in ("ipv4", "ipv6") and tokens[1] == "access-group":
            # `ipv4 access-group [common COMMON-ACL] [ACL] ingress|egress [hardware-count ...]`: the common
            # ACL is evaluated first, then the interface's own.
            where = next((i for i, word in enumerate(tokens) if word in _DIRECTIONS), len(tokens))
            family = "ip" if tokens[0] == "ipv4" else "ipv6"
            direction = _DIRECTIONS.get(tokens[where], "") if where < len(tokens) else tokens[-1]
            for name in tokens[2:where]:
                if name != "common":
                    children.append(cc.with_text(line, f"{family} access-group {name} {direction}"))
            continue
        children.append(cc.with_text(line, " ".join(tokens)))
    return cc.Stanza(stanza.head, tuple(children))


# -- object-groups ------------------------------------------------------------------------------


def _object_group(stanza: cc.Stanza, state: _State, *, final: bool) -> bool:
    """`object-group network ipv4|ipv6 NAME` and `object-group port NAME`; False: retry (forward reference)."""
    tokens = stanza.head.text.split()
    if len(tokens) == 4 and tokens[1] == "network" and tokens[2] in ("ipv4", "ipv6"):
        kind, name = "network", tokens[3]
    elif len(tokens) == 3 and tokens[1] == "port":
        kind, name = "port", tokens[2]
    else:
        head = stanza.head
        state.diags.append(Diagnostic(f"{CODE}-OBJECT-UNSUPPORTED", "object-group type not modelled", head.number,
                                      head.text, Severity.INFO))  # fmt: skip
        return True
    found: list[AddressSet] = []
    port_sets: list[PortSet] = []

    def read(parts: list[str]) -> None:
        if kind == "network":
            found.append(_network_member(parts, state.table))
        else:
            port_sets.append(_port_member(parts, state.table))

    read_out = cc.read_group_members(stanza, "object-group", read, final=final, code=CODE)
    if read_out is None:
        return False
    members, problems = read_out
    state.diags.extend(problems)
    addresses = AddressSet()
    for member in found:
        addresses = addresses.union(member)
    ports = PortSet(ranges=())
    for port_set in port_sets:
        ports = ports.union(port_set)
    if kind == "network":
        # IPv4 and IPv6 groups may share a name (aerleon writes both): one name, the union of both families.
        previous = state.table.networks.get(name)
        if previous is not None:
            addresses = previous.union(addresses)
        resolved = AddressSet(addresses.v4, addresses.v6, addresses.fqdns, (name,))
        state.table.networks[name] = resolved
        state.objects.append(cc.object_def(name, "network-group", stanza, addresses=resolved, members=tuple(members)))
    else:
        named = PortSet(ports.ranges, (name,))
        state.table.ports[name] = named
        services = tuple(Service(proto, dst_ports=named).named(name) for proto in (cc.TCP, cc.UDP))
        state.objects.append(cc.object_def(name, "port-group", stanza, services=services, members=tuple(members)))
    return True


def _network_member(parts: Sequence[str], table: cc.ObjectTable) -> AddressSet:
    if parts[0] == "object-group" and len(parts) == 2:
        return table.network(parts[1])
    # `A.B.C.D A.B.C.D` in a network object-group is an address and a netmask.
    return cc.network_member(parts, table, wildcard=False)


def _port_member(parts: Sequence[str], table: cc.ObjectTable) -> PortSet:
    if parts[0] == "object-group" and len(parts) == 2:
        found = table.ports.get(parts[1])
        if found is None:
            raise cc.SyntaxProblem("UNKNOWN-OBJECT", f"undefined port object-group '{parts[1]}'")
        return found
    if parts[0] not in cc.PORT_OPERATORS:
        raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model port group member '{' '.join(parts)}'")
    ports, index = cc.parse_port_op(parts, 0)
    if index != len(parts):
        raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model port group member '{' '.join(parts)}'")
    return ports


# -- access-lists -------------------------------------------------------------------------------


def _acls(stanzas: list[cc.Stanza], state: _State) -> None:
    """Every `ipv4|ipv6 access-list NAME` stanza and one-line entry, merged per list (a list may be given
    in several stanzas; its entries are evaluated in sequence-number order whatever order they came in)."""
    lists: dict[tuple[bool, str], list[cc.AclItem]] = {}
    options: dict[int, frozenset[str]] = {}
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        if tokens[0] == "no":
            if len(tokens) == 4:
                lists.pop((tokens[1] == "ipv6", tokens[3]), None)
            continue
        if len(tokens) < 3:
            state.diags.append(
                Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "ACL form not modelled", stanza.head.number, stanza.head.text)
            )
            continue
        v6 = tokens[0] == "ipv6"
        items = lists.setdefault((v6, tokens[2]), [])
        lines = [(stanza.head, tokens[3:])] if len(tokens) > 3 else []  # `ipv4 access-list X permit ...`
        lines += [(line, line.text.split()) for line in stanza.children]
        for line, words in lines:
            item = cc.acl_item(line, words)
            if not item.tokens:
                continue
            xr_words, extra = _xr_words(item.tokens, v6=v6)
            if extra:
                options[line.number] = extra
            items.append(item if xr_words is item.tokens else cc.AclItem(item.line, tuple(xr_words), item.sequence))
    tables = {family: _family_table(state.table, v6=family) for family in {v6 for v6, _name in lists}}
    for (v6, name), items in lists.items():
        syntax = cc.Syntax(v6=True) if v6 else cc.IOS_SYNTAX
        rules = cc.build_acl(name, items, tables[v6], syntax, code=CODE, diags=state.diags, renumber=True)
        for index, rule in enumerate(rules):
            kept = options.get(rule.source.start_line if rule.source else 0)
            if kept:
                rules[index] = dataclasses.replace(rule, options=rule.options | kept)
        state.acls.setdefault(name, []).extend(rules)


def _family_table(table: cc.ObjectTable, *, v6: bool) -> cc.ObjectTable:
    """The object table an IPv4 (IPv6) list sees: `net-group X` names X's IPv4 (IPv6) members only (XR keeps
    `object-group network ipv4 X` and `... ipv6 X` apart; a list uses the group of its own family)."""
    networks = {
        name: AddressSet((), found.v6, found.fqdns, found.names)
        if v6
        else AddressSet(found.v4, (), found.fqdns, found.names)
        for name, found in table.networks.items()
    }
    return cc.ObjectTable(networks=networks, services=table.services, ports=table.ports)


def _source_only(tokens: Sequence[str], index: int) -> int | None:
    """Where the address after the action ends when the entry has no protocol (`permit A WILDCARD`), else None."""
    word = tokens[index]
    if word == "any":
        return index + 1
    if word in ("host", "net-group") and index + 1 < len(tokens):
        return index + 2
    if "/" in word or (":" in word and word[:1] != ":"):
        return index + 1
    if cc.is_v4(word):
        return index + 2 if index + 1 < len(tokens) and cc.is_v4(tokens[index + 1]) else index + 1
    return None


_XR_ONLY_WORDS = frozenset({"net-group", "port-group", "set", *_OPTION_ARGS, *_NEXTHOPS})
_RESPELLED_PROTOCOLS = frozenset({"ipv4", "icmp", "icmpv6", "ipv6-icmp", "58"})


def _xr_words(tokens: Sequence[str], *, v6: bool) -> tuple[Sequence[str], frozenset[str]]:
    """An XR entry in the shared IOS grammar: `ipv4` -> `ip`, `icmp` in IPv6 -> `icmpv6`, `net-group` ->
    `object-group`, `port-group` -> `portgroup`; XR-only options that do not change the decision are
    taken out and returned as options. An entry with none of these comes back as it is (the same object)."""
    if not tokens or tokens[0] not in cc.ACTIONS:
        return tokens, frozenset()
    if (
        len(tokens) > 1
        and tokens[1] not in _RESPELLED_PROTOCOLS
        and _XR_ONLY_WORDS.isdisjoint(tokens)
        and _source_only(tokens, 1) is None
    ):
        return tokens, frozenset()  # most entries: already in the shared grammar
    tokens = list(tokens)
    out: list[str] = [tokens[0]]
    options: set[str] = set()
    index = 1
    if index < len(tokens):
        source_end = _source_only(tokens, index)
        if source_end is not None:  # no protocol: the source address only, any protocol and destination
            tokens = [tokens[0], "ipv4", *tokens[1:source_end], "any", *tokens[source_end:]]
        proto = tokens[index]
        if proto == "ipv4":
            proto = "ipv6" if v6 else "ip"
        elif proto == "icmp" and v6:
            proto = "icmpv6"
        out.append(proto)
        index += 1
        if proto in ("icmpv6", "ipv6-icmp", "58"):  # message names after the addresses -> type [code]
            tokens = tokens[:index] + [
                word for token in tokens[index:] for word in _ICMP6_NAMES.get(token, token).split()
            ]
    while index < len(tokens):
        token = tokens[index]
        if token == "net-group":
            out.append("object-group")
        elif token == "port-group":
            out.append("portgroup")
        elif token in _OPTION_ARGS:
            count = _OPTION_ARGS[token]
            options.add(" ".join(tokens[index : index + 1 + count]))
            index += 1 + count
            continue
        elif token in _NEXTHOPS:  # `nexthop1 ipv4 A [vrf V]`: policy routing of permitted packets
            end = index + 1
            while end < len(tokens) and tokens[end] not in _NEXTHOPS and tokens[end] not in _OPTION_ARGS:
                end += 1
            options.add(" ".join(tokens[index:end]))
            index = end
            continue
        elif token == "set":  # `set qos-group N`, `set ttl N`
            options.add(" ".join(tokens[index : index + 3]))
            index += 3
            continue
        else:
            out.append(token)
        index += 1
    return out, frozenset(options)


_DETECT = re.compile(
    r"^(?:!! IOS XR Configuration|ipv[46] access-list \S+\s*$|object-group network ipv[46] \S+\s*$|"
    r"interface \S+?\d+/\d+/\d+/\d+|\s+ipv[46] access-group \S+ (?:ingress|egress)\b|RP/\d+/\S+:\S+#)",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """IOS XR markers: the `!! IOS XR Configuration` banner, `ipv4 access-list`, `object-group network ipv4`,
    rack/slot/module/port interface names, `access-group NAME ingress|egress`."""
    return bool(_DETECT.search(text[:400_000]))
