"""Cisco IOS / IOS-XE: ACLs (numbered, named, IPv6), object-groups, `ip nat`, interface bindings, zone pairs.

One pass of the shared scanner picks out the stanzas that matter; everything else in the config is
skipped, so banners (which may contain `ip nat` text) never become rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cfgwatch.model import (
    AddressSet,
    Binding,
    BindingKind,
    Diagnostic,
    FilterRule,
    Interface,
    NatRule,
    ObjectDef,
    RuleSet,
    Service,
    Severity,
    SourceRef,
)
from cfgwatch.vendors import _cisco_common as cc

PLATFORM = "cisco_ios"
CODE = "IOS"


def _numbered_kind(name: str) -> str | None:
    """IOS numbered ACL ranges: standard 1-99 and 1300-1999, extended 100-199 and 2000-2699."""
    if not name.isdigit():
        return None
    number = int(name)
    if 1 <= number <= 99 or 1300 <= number <= 1999:
        return "standard"
    if 100 <= number <= 199 or 2000 <= number <= 2699:
        return "extended"
    return None


# Stanzas only IOS XR writes (`ipv4 access-list`, `object-group network ipv4 X`, `object-group port X`): an
# XR config read as IOS must not parse to silently nothing.
_XR_HEADS = ("ipv4 access-list ", "object-group network ipv4 ", "object-group network ipv6 ", "object-group port ")


# First words of the top-level lines `parse` looks at (each prefix it tests starts with one of them).
_HEAD_WORDS = frozenset(
    {"ip", "ipv4", "ipv6", "object-group", "access-list", "interface", "route-map", "class-map", "policy-map",
     "zone-pair"}
)  # fmt: skip


@dataclass
class _State:
    """Everything collected while walking the stanzas of one config."""

    diags: list[Diagnostic] = field(default_factory=list)
    table: cc.ObjectTable = field(default_factory=cc.ObjectTable)
    objects: list[ObjectDef] = field(default_factory=list)
    acls: dict[str, list[FilterRule]] = field(default_factory=dict)
    pools: dict[str, AddressSet] = field(default_factory=dict)
    route_maps: dict[str, list[str]] = field(default_factory=dict)  # name -> ACLs matched by permit clauses
    class_maps: dict[str, list[str]] = field(default_factory=dict)
    policy_maps: dict[str, list[str]] = field(default_factory=dict)


@cc.paused_gc
def parse(text: str) -> RuleSet:
    """Config text -> RuleSet. Pure and deterministic; never raises on bad input."""
    stanzas = cc.scan(text)
    state = _State()
    groups: list[cc.Stanza] = []
    named_acls: list[cc.Stanza] = []
    numbered: dict[str, list[cc.AclItem]] = {}
    numbered_kind: dict[str, str] = {}
    nat_lines: list[cc.Stanza] = []
    interfaces: list[cc.Stanza] = []
    zone_pairs: list[cc.Stanza] = []
    for stanza in stanzas:
        head = stanza.head.text
        if head.partition(" ")[0] not in _HEAD_WORDS:  # banners' neighbours, routes, services ...: one set test
            continue
        if head.startswith(_XR_HEADS):
            state.diags.append(
                Diagnostic(
                    f"{CODE}-XR-SYNTAX",
                    "IOS XR syntax, not modelled as IOS: set the device's platform to cisco_xr",
                    stanza.head.number,
                    head,
                )
            )
        elif head.startswith("object-group "):
            groups.append(stanza)
        elif head.startswith(("ip access-list ", "ipv6 access-list ")):
            named_acls.append(stanza)
        elif head.startswith("access-list "):
            _numbered_line(stanza, numbered, numbered_kind, state)
        elif head.startswith("ip nat "):
            nat_lines.append(stanza)
        elif head.startswith("interface "):
            interfaces.append(stanza)
        elif head.startswith("route-map "):
            _route_map(stanza, state)
        elif head.startswith("class-map "):
            _class_map(stanza, state)
        elif head.startswith("policy-map "):
            _policy_map(stanza, state)
        elif head.startswith("zone-pair "):
            zone_pairs.append(stanza)
    _object_groups(groups, state)
    for stanza in named_acls:
        _named_acl(stanza, state)
    for name, items in numbered.items():
        standard = numbered_kind[name] == "standard"
        state.acls.setdefault(name, []).extend(
            cc.build_acl(name, items, state.table, cc.IOS_SYNTAX, code=CODE, diags=state.diags, standard=standard)
        )
    bindings: list[Binding] = []
    parsed_interfaces: list[Interface] = []
    for stanza in interfaces:
        info = cc.parse_interface(stanza, state.diags, CODE)
        parsed_interfaces.append(info.interface)
        bindings.extend(info.bindings)
    nats = _nat(nat_lines, state, {interface.name: interface for interface in parsed_interfaces})
    bindings.extend(_zone_pairs(zone_pairs, state))
    filters = tuple(rule for rules in state.acls.values() for rule in rules)
    return RuleSet(
        platform=PLATFORM,
        filters=filters,
        nats=tuple(nats),
        bindings=tuple(bindings),
        interfaces=tuple(parsed_interfaces),
        objects=tuple(state.objects),
        diagnostics=tuple(sorted(state.diags, key=lambda d: (d.line, d.code))),
    )


# -- objects ------------------------------------------------------------------------------------


def _object_groups(stanzas: list[cc.Stanza], state: _State) -> None:
    """`object-group network|service NAME`; group-object references resolve in dependency order."""
    cc.define_in_order(stanzas, lambda stanza, final: _object_group(stanza, state, final=final))


def _object_group(stanza: cc.Stanza, state: _State, *, final: bool) -> bool:
    tokens = stanza.head.text.split()
    if len(tokens) < 3 or tokens[1] not in ("network", "service"):
        if final or len(tokens) < 3:
            state.diags.append(
                Diagnostic(
                    f"{CODE}-OBJECT-UNSUPPORTED",
                    "object-group type not modelled",
                    stanza.head.number,
                    stanza.head.text,
                    Severity.INFO,
                )
            )
            return True
        return False
    kind, name = tokens[1], tokens[2]
    found: list[AddressSet] = []
    services: list[Service] = []

    def read(parts: list[str]) -> None:
        if kind == "network":
            found.append(cc.network_member(parts, state.table, wildcard=False))
        else:
            services.extend(cc.service_member(parts, state.table, cc.IOS_SYNTAX))

    read_out = cc.read_group_members(stanza, "group-object", read, final=final, code=CODE)
    if read_out is None:
        return False
    members, problems = read_out
    state.diags.extend(problems)
    addresses = AddressSet()
    for member in found:
        addresses = addresses.union(member)
    if kind == "network":
        resolved = AddressSet(addresses.v4, addresses.v6, addresses.fqdns, (name,))
        state.table.networks[name] = resolved
        state.objects.append(cc.object_def(name, "network-group", stanza, addresses=resolved, members=tuple(members)))
    else:
        named = tuple(service.named(name) for service in services)
        state.table.services[name] = named
        state.objects.append(cc.object_def(name, "service-group", stanza, services=named, members=tuple(members)))
    return True


# -- ACLs ---------------------------------------------------------------------------------------


def _numbered_line(
    stanza: cc.Stanza, numbered: dict[str, list[cc.AclItem]], kinds: dict[str, str], state: _State
) -> None:
    tokens = stanza.head.text.split()
    if len(tokens) < 3:
        if tokens[1:] == ["dynamic-extended"]:
            return  # global knob for lock-and-key ACLs, not a rule
        state.diags.append(
            Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "incomplete access-list line", stanza.head.number, stanza.head.text)
        )
        return
    name = tokens[1]
    kind = _numbered_kind(name)
    if kind is None or tokens[2] == "dynamic":
        state.diags.append(
            Diagnostic(
                f"{CODE}-ACL-UNSUPPORTED",
                "not an IOS numbered ACL (ASA/other syntax or dynamic entry)",
                stanza.head.number,
                stanza.head.text,
            )
        )
        return
    kinds[name] = kind
    numbered.setdefault(name, []).append(cc.AclItem(stanza.head, tuple(tokens[2:])))


def _named_acl(stanza: cc.Stanza, state: _State) -> None:
    tokens = stanza.head.text.split()
    v6 = tokens[0] == "ipv6"
    rest = tokens[2:]
    standard = False
    if rest and rest[0] in ("extended", "standard") and len(rest) >= 2:
        standard = rest[0] == "standard"
        rest = rest[1:]
    if len(rest) != 1 or rest[0] in ("resequence", "logging", "log-update", "role-based", "match-local-traffic"):
        if rest and rest[0] in ("resequence", "logging", "log-update", "match-local-traffic"):
            return  # global knobs, not rules
        state.diags.append(
            Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "ACL type not modelled", stanza.head.number, stanza.head.text)
        )
        return
    name = rest[0]
    syntax = cc.Syntax(v6=True) if v6 else cc.IOS_SYNTAX
    items = [cc.acl_item(line, line.text.split()) for line in stanza.children]
    rules = cc.build_acl(
        name, items, state.table, syntax, code=CODE, diags=state.diags, standard=standard, ordered=True
    )
    state.acls.setdefault(name, []).extend(rules)


# -- route-maps, class-maps, policy-maps, zone pairs ---------------------------------------------


def _route_map(stanza: cc.Stanza, state: _State) -> None:
    tokens = stanza.head.text.split()
    if len(tokens) < 2:
        return
    name = tokens[1]
    acls = state.route_maps.setdefault(name, [])
    if len(tokens) >= 3 and tokens[2] == "deny":
        return
    for line in stanza.children:
        parts = line.text.split()
        if parts[:3] == ["match", "ip", "address"] and len(parts) > 3 and parts[3] != "prefix-list":
            acls.extend(parts[3:])


def _class_map(stanza: cc.Stanza, state: _State) -> None:
    tokens = [token for token in stanza.head.text.split() if token not in ("type", "inspect", "match-all", "match-any")]
    if len(tokens) < 2:
        return
    acls = state.class_maps.setdefault(tokens[-1], [])
    for line in stanza.children:
        parts = line.text.split()
        if parts[:2] == ["match", "access-group"] and len(parts) >= 3:
            acls.append(parts[-1])


def _policy_map(stanza: cc.Stanza, state: _State) -> None:
    tokens = stanza.head.text.split()
    classes = state.policy_maps.setdefault(tokens[-1], [])
    for line in stanza.children:
        parts = line.text.split()
        if parts[0] == "class" and len(parts) >= 2:
            classes.append(parts[-1])


def _zone_pairs(stanzas: list[cc.Stanza], state: _State) -> list[Binding]:
    """A zone pair's inspect policy -> its class-maps -> their ACLs, as FILTER bindings on `SRC>DST`."""
    bindings: list[Binding] = []
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        try:
            src = tokens[tokens.index("source") + 1]
            dst = tokens[tokens.index("destination") + 1]
        except (ValueError, IndexError):
            state.diags.append(
                Diagnostic(
                    f"{CODE}-ZONE-UNSUPPORTED",
                    "zone-pair without source/destination zones",
                    stanza.head.number,
                    stanza.head.text,
                )
            )
            continue
        pair = f"{src}>{dst}"
        for line in stanza.children:
            parts = line.text.split()
            if parts[0] != "service-policy":
                continue
            for class_name in state.policy_maps.get(parts[-1], []):
                for acl in state.class_maps.get(class_name, []):
                    bindings.append(
                        Binding(BindingKind.FILTER, acl, pair, "zone-pair", None, SourceRef(line.number, line.number))
                    )
    return bindings


# -- NAT ----------------------------------------------------------------------------------------


def _nat(stanzas: list[cc.Stanza], state: _State, interfaces: dict[str, Interface]) -> list[NatRule]:
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        if len(tokens) >= 4 and tokens[2] == "pool":
            try:
                pool = cc.parse_nat_pool(tokens, stanza.children)
            except cc.SyntaxProblem as problem:
                state.diags.append(cc.diagnostic(CODE, problem, stanza.head))
                continue
            state.pools[tokens[3]] = pool.named(tokens[3])
            state.objects.append(cc.object_def(tokens[3], "pool", stanza, addresses=pool.named(tokens[3])))
    rules: list[NatRule] = []
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        if len(tokens) >= 3 and tokens[2] == "pool":
            continue
        line = stanza.head
        context = cc.nat_context(state.acls, state.route_maps, state.pools, state.diags, line, CODE, interfaces)
        try:
            rule = cc.parse_ios_nat(tokens, SourceRef(line.number, stanza.end_line), context)
        except cc.SyntaxProblem as problem:
            if not problem.code.startswith("NAT-"):
                problem = cc.SyntaxProblem(f"NAT-{problem.code}", problem.message)
            state.diags.append(cc.diagnostic(CODE, problem, line))
            continue
        if rule is not None:
            rules.append(rule)
    return rules


_DETECT = re.compile(
    r"^(?:version 1[0-9]|ip access-list |access-list \d+ |ip nat |interface \S+|hostname \S+|ip routing)",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """Generic Cisco IOS look (detection runs last for IOS, after ASA/NX-OS/EOS had their turn)."""
    return bool(_DETECT.search(text))
