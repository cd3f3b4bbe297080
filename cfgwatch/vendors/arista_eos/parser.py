"""Arista EOS: `ip access-list` (sequence numbers, prefix form), interface `ip nat source|destination
static|dynamic` (ports, access-list, protocol), `ip nat pool`, and interface bindings."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cfgwatch.model import (
    ANY_ADDRESS,
    AddressSet,
    Binding,
    Diagnostic,
    FilterRule,
    Interface,
    Match,
    NatKind,
    NatRule,
    ObjectDef,
    PortSet,
    RuleSet,
    Service,
    Severity,
    SourceRef,
)
from cfgwatch.vendors import _cisco_common as cc

PLATFORM = "arista_eos"
CODE = "EOS"


@cc.paused_gc
def parse(text: str) -> RuleSet:
    """Config text -> RuleSet. Pure and deterministic; never raises on bad input."""
    diags: list[Diagnostic] = []
    table = cc.ObjectTable()
    objects: list[ObjectDef] = []
    acls: dict[str, list[FilterRule]] = {}
    pools: dict[str, AddressSet] = {}
    bindings: list[Binding] = []
    interfaces: list[Interface] = []
    nat_lines: list[tuple[cc.Line, str, str | None]] = []  # (line, interface, vrf)
    for stanza in cc.scan(text):
        head = stanza.head.text
        tokens = head.split()
        if head.startswith(("ip access-list ", "ipv6 access-list ")):
            _acl(stanza, table, acls, diags)
        elif head.startswith("ip nat pool ") and len(tokens) >= 4:
            try:
                pool = cc.parse_nat_pool(tokens, stanza.children).named(tokens[3])
            except cc.SyntaxProblem as problem:
                diags.append(cc.diagnostic(CODE, problem, stanza.head))
                continue
            pools[tokens[3]] = pool
            objects.append(cc.object_def(tokens[3], "pool", stanza, addresses=pool))
        elif head.startswith("interface "):
            info = cc.parse_interface(stanza, diags, CODE)
            interfaces.append(info.interface)
            bindings.extend(info.bindings)
            for line in info.other:
                if line.text.startswith("ip nat "):
                    nat_lines.append((line, info.interface.name, info.interface.vrf))
    nats: list[NatRule] = []
    for line, interface, vrf in nat_lines:
        try:
            nats.append(_nat(line, interface, vrf, acls, pools, diags))
        except cc.SyntaxProblem as problem:
            if not problem.code.startswith("NAT-"):
                problem = cc.SyntaxProblem(f"NAT-{problem.code}", problem.message)
            diags.append(cc.diagnostic(CODE, problem, line))
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(rule for rules in acls.values() for rule in rules),
        nats=tuple(nats),
        bindings=tuple(bindings),
        interfaces=tuple(interfaces),
        objects=tuple(objects),
        diagnostics=tuple(sorted(diags, key=lambda d: (d.line, d.code))),
    )


def _acl(stanza: cc.Stanza, table: cc.ObjectTable, acls: dict[str, list[FilterRule]], diags: list[Diagnostic]) -> None:
    tokens = stanza.head.text.split()
    standard = len(tokens) == 4 and tokens[2] == "standard"
    if len(tokens) != 3 and not standard:
        diags.append(
            Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "ACL form not modelled", stanza.head.number, stanza.head.text)
        )
        return
    name = tokens[-1]
    syntax = cc.Syntax(v6=True) if tokens[0] == "ipv6" else cc.IOS_SYNTAX
    items = [cc.acl_item(line, line.text.split()) for line in stanza.children]
    rules = cc.build_acl(name, items, table, syntax, code=CODE, diags=diags, standard=standard, renumber=True)
    acls.setdefault(name, []).extend(rules)


def _ports(proto: str | None, port: int | None) -> tuple[Service, ...] | None:
    """Port-specific static NAT matches tcp and udp unless `protocol` narrows it."""
    if port is None:
        return None
    protos = (cc.TCP, cc.UDP) if proto is None else cc.protocols(proto, cc.IOS_SYNTAX)
    return tuple(Service(p, src_ports=PortSet.of(port)) for p in protos)


def _dst_ports(proto: str | None, port: int | None) -> tuple[Service, ...] | None:
    if port is None:
        return None
    protos = (cc.TCP, cc.UDP) if proto is None else cc.protocols(proto, cc.IOS_SYNTAX)
    return tuple(Service(p, dst_ports=PortSet.of(port)) for p in protos)


def _acl_match(
    name: str, acls: dict[str, list[FilterRule]], line: cc.Line, diags: list[Diagnostic], *, static_dst: bool
) -> tuple[AddressSet, AddressSet]:
    rules = acls.get(name)
    if rules is None:
        raise cc.SyntaxProblem("NAT-UNKNOWN-ACL", f"NAT refers to undefined ACL '{name}'")
    src, dst, denies = cc.acl_permits([(rule.action, rule.match) for rule in rules])
    if static_dst:
        # static source NAT filters by destination only: EOS rejects entries matching anything else
        odd = [rule for rule in rules if not rule.match.src.is_any or rule.options or rule.match.dst.is_any
               or not all(service.is_any for service in rule.match.services)]  # fmt: skip
        if odd:
            diags.append(
                Diagnostic(
                    f"{CODE}-NAT-ACL-INVALID",
                    f"ACL '{name}' has entries a static NAT filter cannot use (only destination addresses count)",
                    line.number,
                    line.text,
                )
            )
    if denies:
        diags.append(
            Diagnostic(
                f"{CODE}-NAT-ACL-DENY",
                f"ACL '{name}' has deny entries; the NAT match is the union of its permits",
                line.number,
                line.text,
                Severity.INFO,
            )
        )
    return src.named(name), (dst if dst.is_any else dst.named(name))


def _nat(
    line: cc.Line,
    interface: str,
    vrf: str | None,
    acls: dict[str, list[FilterRule]],
    pools: dict[str, AddressSet],
    diags: list[Diagnostic],
) -> NatRule:
    """`ip nat source|destination static|dynamic ...` on an interface."""
    tokens = line.text.split()
    if len(tokens) < 5 or tokens[2] not in ("source", "destination") or tokens[3] not in ("static", "dynamic"):
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{line.text}'")
    direction, mode = tokens[2], tokens[3]
    source = SourceRef(line.number, line.number)
    if mode == "static":
        return _static(tokens[4:], direction, interface, vrf, acls, line, diags, source)
    return _dynamic(tokens[4:], direction, interface, vrf, acls, pools, line, diags, source)


def _static(
    tokens: Sequence[str],
    direction: str,
    interface: str,
    vrf: str | None,
    acls: dict[str, list[FilterRule]],
    line: cc.Line,
    diags: list[Diagnostic],
    source: SourceRef,
) -> NatRule:
    """`ORIGINAL [PORT] [access-list ACL] TRANSLATED [PORT] [protocol P] [group N] [comment ...]`."""
    index = 0
    original = cc.host(cc._need(tokens, index, "original address"))
    index += 1
    original_port: int | None = None
    if index < len(tokens) and tokens[index].isdigit():
        original_port = int(tokens[index])
        index += 1
    acl: str | None = None
    if index < len(tokens) and tokens[index] == "access-list":
        acl = cc._need(tokens, index + 1, "access-list name")
        index += 2
    translated = cc.host(cc._need(tokens, index, "translated address"))
    index += 1
    translated_port: int | None = None
    if index < len(tokens) and tokens[index].isdigit():
        translated_port = int(tokens[index])
        index += 1
    proto: str | None = None
    options: set[str] = set()
    comment: str | None = None
    while index < len(tokens):
        token = tokens[index]
        if token == "protocol":
            proto = cc._need(tokens, index + 1, "protocol")
            index += 2
        elif token == "group":
            options.add(f"group {cc._need(tokens, index + 1, 'group number')}")
            index += 2
        elif token == "comment":
            comment = " ".join(tokens[index + 1 :])
            break
        else:
            raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    if (original_port is None) != (translated_port is None):
        raise cc.SyntaxProblem("NAT-INVALID", "static NAT with a port on one side only")
    if original_port == 0 or translated_port == 0:
        raise cc.SyntaxProblem("NAT-INVALID", "port 0 is not a valid NAT port")
    mapped_port = PortSet.of(translated_port) if translated_port is not None else None
    if direction == "source":
        other = ANY_ADDRESS
        if acl is not None:
            _, other = _acl_match(acl, acls, line, diags, static_dst=True)
        services = _ports(proto, original_port)
        match = Match(src=original, dst=other, services=services) if services else Match(src=original, dst=other)
        return NatRule(
            kind=NatKind.STATIC,
            match=match,
            translated_src=translated,
            translated_src_ports=mapped_port,
            egress=(interface,),
            bidirectional=True,
            context=vrf,
            options=frozenset(options),
            comment=comment,
            source=source,
        )
    other = ANY_ADDRESS
    if acl is not None:
        other, _ = _acl_match(acl, acls, line, diags, static_dst=False)
    services = _dst_ports(proto, original_port)
    match = Match(src=other, dst=original, services=services) if services else Match(src=other, dst=original)
    return NatRule(
        kind=NatKind.DESTINATION,
        match=match,
        translated_dst=translated,
        translated_dst_ports=mapped_port,
        ingress=(interface,),
        context=vrf,
        options=frozenset(options),
        comment=comment,
        source=source,
    )


def _dynamic(
    tokens: Sequence[str],
    direction: str,
    interface: str,
    vrf: str | None,
    acls: dict[str, list[FilterRule]],
    pools: dict[str, AddressSet],
    line: cc.Line,
    diags: list[Diagnostic],
    source: SourceRef,
) -> NatRule:
    """`access-list ACL (pool P [address-only] | overload) [priority N] [comment ...]`."""
    if len(tokens) < 2 or tokens[0] != "access-list":
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{line.text}'")
    src, dst = _acl_match(tokens[1], acls, line, diags, static_dst=False)
    index = 2
    pool: AddressSet | None = None
    overload = False
    options: set[str] = set()
    comment: str | None = None
    while index < len(tokens):
        token = tokens[index]
        if token == "pool":
            name = cc._need(tokens, index + 1, "pool name")
            pool = pools.get(name)
            if pool is None:
                raise cc.SyntaxProblem("NAT-UNKNOWN-POOL", f"NAT refers to undefined pool '{name}'")
            index += 2
        elif token == "overload":
            overload = True
            index += 1
        elif token in ("address-only", "full-cone"):
            options.add(token)
            index += 1
        elif token == "priority":
            options.add(f"priority {cc._need(tokens, index + 1, 'priority')}")
            index += 2
        elif token == "comment":
            comment = " ".join(tokens[index + 1 :])
            break
        else:
            raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    if pool is None and not overload:
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", "dynamic NAT without pool or overload")
    if direction == "destination":
        return NatRule(
            kind=NatKind.DESTINATION,
            match=Match(src=src, dst=dst),
            translated_dst=pool,
            ingress=(interface,),
            context=vrf,
            options=frozenset(options),
            comment=comment,
            source=source,
        )
    return NatRule(
        kind=NatKind.PAT if overload else NatKind.DYNAMIC,
        match=Match(src=src, dst=dst),
        translated_src=pool,
        translate_to_interface=interface if overload else None,
        egress=(interface,),
        context=vrf,
        options=frozenset(options),
        comment=comment,
        source=source,
    )


_DETECT = re.compile(
    r"^(?:!RANCID-CONTENT-TYPE: arista|! device: \S+ \(\S*EOS|boot system flash\S* \S+\.swi|daemon TerminAttr|"
    r"management api http-commands|transceiver qsfp default-mode|service routing protocols model|"
    r"   ip nat (?:source|destination) |  ip nat (?:source|destination) |ip access-list \S+\n  \d+ \w+ \w+ [\d.]+/\d+)",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """EOS markers: RANCID/device headers, `.swi` images, TerminAttr, EOS-only NAT and ACL forms."""
    return bool(_DETECT.search(text))
