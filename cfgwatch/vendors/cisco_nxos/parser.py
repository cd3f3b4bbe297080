"""Cisco NX-OS: `ip access-list` with NX-OS sequence semantics, addrgroup/portgroup object-groups,
`ip access-group` / `ip port access-group` bindings, and IOS-style `ip nat` where the platform has it."""

from __future__ import annotations

import re

from cfgwatch.model import (
    AddressSet,
    Binding,
    Diagnostic,
    FilterRule,
    Interface,
    NatRule,
    ObjectDef,
    PortSet,
    RuleSet,
    Service,
    Severity,
    SourceRef,
)
from cfgwatch.vendors import _cisco_common as cc

PLATFORM = "cisco_nxos"
CODE = "NXOS"


@cc.paused_gc
def parse(text: str) -> RuleSet:
    """Config text -> RuleSet. Pure and deterministic; never raises on bad input."""
    diags: list[Diagnostic] = []
    table = cc.ObjectTable()
    table6 = cc.ObjectTable(ports=table.ports)  # IPv6 addrgroups are a namespace of their own
    objects: list[ObjectDef] = []
    acls: dict[str, list[FilterRule]] = {}
    nat_stanzas: list[cc.Stanza] = []
    bindings: list[Binding] = []
    interfaces: list[Interface] = []
    acl_stanzas: list[cc.Stanza] = []
    for stanza in cc.scan(text):
        head = stanza.head.text
        if head.startswith(("object-group ip ", "object-group ipv6 ")):
            _object_group(stanza, table6 if head.startswith("object-group ipv6 ") else table, objects, diags)
        elif head.startswith(("ip access-list ", "ipv6 access-list ")):
            acl_stanzas.append(stanza)
        elif head.startswith("ip nat "):
            nat_stanzas.append(stanza)
        elif head.startswith("interface "):
            info = cc.parse_interface(stanza, diags, CODE)
            interfaces.append(info.interface)
            bindings.extend(info.bindings)
    for stanza in acl_stanzas:
        _acl(stanza, table6 if stanza.head.text.startswith("ipv6 ") else table, acls, diags)
    nats = _nat(nat_stanzas, acls, objects, diags, {interface.name: interface for interface in interfaces})
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(rule for rules in acls.values() for rule in rules),
        nats=tuple(nats),
        bindings=tuple(bindings),
        interfaces=tuple(interfaces),
        objects=tuple(objects),
        diagnostics=tuple(sorted(diags, key=lambda d: (d.line, d.code))),
    )


def _object_group(stanza: cc.Stanza, table: cc.ObjectTable, objects: list[ObjectDef], diags: list[Diagnostic]) -> None:
    """`object-group ip|ipv6 address NAME` (addrgroup) and `object-group ip port NAME` (portgroup).

    NX-OS keeps IPv6 address groups in their own `object-group ipv6 address` stanzas; `addrgroup NAME`
    in an `ipv6 access-list` refers to them (there is no IPv6 port group)."""
    tokens = stanza.head.text.split()
    if len(tokens) != 4 or tokens[2] not in ("address", "port") or (tokens[1] == "ipv6" and tokens[2] == "port"):
        diags.append(
            Diagnostic(f"{CODE}-OBJECT-UNSUPPORTED", "object-group type not modelled", stanza.head.number,
                       stanza.head.text, Severity.INFO)
        )  # fmt: skip
        return
    kind, name = tokens[2], tokens[3]
    addresses = AddressSet()
    ports = PortSet(ranges=())
    for line in stanza.children:
        parts = line.text.split()
        if parts and parts[0].isdigit():
            parts = parts[1:]
        try:
            if kind == "address":
                addresses = addresses.union(cc.network_member(parts, table, wildcard=True))
            elif parts and parts[0] in cc.PORT_OPERATORS:
                ports = ports.union(cc.parse_port_op(parts, 0)[0])
            else:
                raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model port group member '{line.text}'")
        except cc.SyntaxProblem as problem:
            diags.append(cc.diagnostic(CODE, problem, line))
    if kind == "address":
        resolved = AddressSet(addresses.v4, addresses.v6, addresses.fqdns, (name,))
        table.networks[name] = resolved
        objects.append(cc.object_def(name, "network-group", stanza, addresses=resolved))
    else:
        named = PortSet(ports.ranges, (name,))
        table.ports[name] = named
        services = tuple(Service(proto, dst_ports=named).named(name) for proto in (cc.TCP, cc.UDP))
        objects.append(cc.object_def(name, "port-group", stanza, services=services))


LIST_OPTIONS = frozenset({"fragments", "ignore"})


def _acl(stanza: cc.Stanza, table: cc.ObjectTable, acls: dict[str, list[FilterRule]], diags: list[Diagnostic]) -> None:
    tokens = stanza.head.text.split()
    if len(tokens) != 3:
        diags.append(
            Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "ACL form not modelled", stanza.head.number, stanza.head.text)
        )
        return
    name = tokens[2]
    syntax = cc.Syntax(v6=True) if tokens[0] == "ipv6" else cc.IOS_SYNTAX
    items: list[cc.AclItem] = []
    for line in stanza.children:
        parts = line.text.split()
        if parts[0] in LIST_OPTIONS:
            diags.append(
                Diagnostic(
                    f"{CODE}-ACL-LIST-OPTION",
                    "list-wide option (fragment/routable handling) is not part of the rule model",
                    line.number,
                    line.text,
                    Severity.INFO,
                )
            )
            continue
        items.append(cc.acl_item(line, parts))
    rules = cc.build_acl(name, items, table, syntax, code=CODE, diags=diags, renumber=True)
    acls.setdefault(name, []).extend(rules)


def _nat(
    stanzas: list[cc.Stanza],
    acls: dict[str, list[FilterRule]],
    objects: list[ObjectDef],
    diags: list[Diagnostic],
    interfaces: dict[str, Interface],
) -> list[NatRule]:
    pools: dict[str, AddressSet] = {}
    rules: list[NatRule] = []
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        if len(tokens) >= 4 and tokens[2] == "pool":
            try:
                pool = cc.parse_nat_pool(tokens, stanza.children).named(tokens[3])
            except cc.SyntaxProblem as problem:
                diags.append(cc.diagnostic(CODE, problem, stanza.head))
                continue
            pools[tokens[3]] = pool
            objects.append(cc.object_def(tokens[3], "pool", stanza, addresses=pool))
    for stanza in stanzas:
        tokens = stanza.head.text.split()
        if len(tokens) >= 3 and tokens[2] == "pool":
            continue
        context = cc.nat_context(acls, {}, pools, diags, stanza.head, CODE, interfaces)
        try:
            rule = cc.parse_ios_nat(tokens, SourceRef(stanza.head.number, stanza.end_line), context)
        except cc.SyntaxProblem as problem:
            if not problem.code.startswith("NAT-"):
                problem = cc.SyntaxProblem(f"NAT-{problem.code}", problem.message)
            diags.append(cc.diagnostic(CODE, problem, stanza.head))
            continue
        if rule is not None:
            rules.append(rule)
    return rules


_DETECT = re.compile(
    r"^(?:!Command: show running-config|!RANCID-CONTENT-TYPE: cisco-nx|feature \S+|vrf context |"
    r"object-group ip (?:address|port) |version \d+\.\d+\(\d+\)\S*\s*$|  vrf member )",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """NX-OS markers: `feature X`, `vrf context`, NX-OS version strings, addrgroup/portgroup definitions."""
    return bool(_DETECT.search(text))
