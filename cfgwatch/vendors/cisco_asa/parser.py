"""Cisco ASA: objects and object-groups, object (auto) NAT, twice (manual) NAT with sections and order,
access-lists, access-group bindings, nameif and security-level."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from cfgwatch.model import (
    ANY_ADDRESS,
    AddressSet,
    Binding,
    BindingKind,
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
    SourceRef,
)
from cfgwatch.vendors import _cisco_common as cc

PLATFORM = "cisco_asa"
CODE = "ASA"
NAT_FLAGS = frozenset(
    {"dns", "no-proxy-arp", "route-lookup", "unidirectional", "net-to-net", "extended", "flat", "include-reserve",
     "round-robin", "block-allocation", "ipv6"}
)  # fmt: skip


@dataclass
class _State:
    diags: list[Diagnostic] = field(default_factory=list)
    table: cc.ObjectTable = field(default_factory=cc.ObjectTable)
    objects: list[ObjectDef] = field(default_factory=list)
    nats: list[NatRule] = field(default_factory=list)


# First words of the top-level lines `parse` looks at (each prefix it tests starts with one of them).
_HEAD_WORDS = frozenset(
    {"object", "object-group", "access-list", "access-group", "nat", "interface", "static", "global"}
)


@cc.paused_gc
def parse(text: str) -> RuleSet:
    """Config text -> RuleSet. Pure and deterministic; never raises on bad input."""
    state = _State()
    net_objects: dict[str, list[cc.Stanza]] = {}
    svc_objects: list[cc.Stanza] = []
    groups: list[cc.Stanza] = []
    acl_items: dict[str, list[cc.AclItem]] = {}
    acl_kind: dict[str, str] = {}
    twice: list[cc.Stanza] = []
    interfaces: list[cc.Stanza] = []
    groups_bindings: list[cc.Stanza] = []
    for stanza in cc.scan(text, banner_style="line"):
        head = stanza.head.text
        if head.partition(" ")[0] not in _HEAD_WORDS:  # names, routes, logging ...: one set test, not eight
            continue
        if head.startswith("object network "):
            net_objects.setdefault(head.split()[2], []).append(stanza)
        elif head.startswith("object service "):
            svc_objects.append(stanza)
        elif head.startswith("object-group "):
            groups.append(stanza)
        elif head.startswith("access-list "):
            _acl_line(stanza.head, acl_items, acl_kind, state)
        elif head.startswith("access-group "):
            groups_bindings.append(stanza)
        elif head.startswith("nat "):
            twice.append(stanza)
        elif head.startswith("interface "):
            interfaces.append(stanza)
        elif head.startswith(("static (", "global (")):
            state.diags.append(
                Diagnostic(f"{CODE}-NAT-LEGACY", "pre-8.3 NAT syntax is not modelled", stanza.head.number, head)
            )
    parsed_interfaces: list[Interface] = []
    for stanza in interfaces:
        info = cc.parse_interface(stanza, state.diags, CODE)
        parsed_interfaces.append(info.interface)
        if info.interface.nameif:
            state.table.interfaces[info.interface.nameif] = info.interface.addresses
    for name, stanzas in net_objects.items():
        _network_object(name, stanzas, state)
    for stanza in svc_objects:
        _service_object(stanza, state)
    cc.define_in_order(groups, lambda stanza, final: _group(stanza, state, final=final))
    filters: list[FilterRule] = []
    for name, items in acl_items.items():
        filters.extend(
            cc.build_acl(
                name,
                items,
                state.table,
                cc.ASA_SYNTAX,
                code=CODE,
                diags=state.diags,
                standard=acl_kind.get(name) == "standard",
                as_dst=True,
            )
        )
    auto = _object_nats(net_objects, state)
    manual = _twice_nats(twice, state)
    bindings = [binding for stanza in groups_bindings if (binding := _access_group(stanza, state))]
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(filters),
        nats=tuple(manual["manual"] + auto + manual["after-auto"]),
        bindings=tuple(bindings),
        interfaces=tuple(parsed_interfaces),
        objects=tuple(state.objects),
        diagnostics=tuple(sorted(state.diags, key=lambda d: (d.line, d.code))),
    )


# -- objects ------------------------------------------------------------------------------------


def _network_object(name: str, stanzas: list[cc.Stanza], state: _State) -> None:
    """`object network NAME` (host/subnet/range/fqdn); NAT lines inside are handled later."""
    value: AddressSet | None = None
    where = stanzas[0]
    for stanza in stanzas:
        for line in stanza.children:
            tokens = line.text.split()
            try:
                if tokens[0] == "host" and len(tokens) == 2:
                    value = cc.host(tokens[1])
                elif tokens[0] == "subnet" and len(tokens) == 3:
                    value = cc.v4_masked(tokens[1], tokens[2], False)
                elif tokens[0] == "subnet" and len(tokens) == 2:
                    value = cc.prefix(tokens[1])
                elif tokens[0] == "range" and len(tokens) == 3:
                    value = cc.address_range(tokens[1], tokens[2])
                elif tokens[0] == "fqdn" and len(tokens) >= 2:
                    value = AddressSet.fqdn(tokens[-1])
                elif tokens[0] in ("nat", "description"):
                    continue
                else:
                    raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{line.text}' in object network")
                where = stanza
            except cc.SyntaxProblem as problem:
                state.diags.append(cc.diagnostic(CODE, problem, line))
    if value is None:
        return  # an object stanza holding only NAT lines for an object defined nowhere: reported at its NAT
    named = value.named(name)
    state.table.networks[name] = named
    state.objects.append(cc.object_def(name, "network", where, addresses=named))


def _service_object(stanza: cc.Stanza, state: _State) -> None:
    name = stanza.head.text.split()[2]
    services: tuple[Service, ...] = ()
    for line in stanza.children:
        tokens = line.text.split()
        if tokens[0] == "description":
            continue
        try:
            if tokens[0] != "service":
                raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{line.text}' in object service")
            services = _service_spec(tokens[1:], state)
        except cc.SyntaxProblem as problem:
            state.diags.append(cc.diagnostic(CODE, problem, line))
    named = tuple(service.named(name) for service in services)
    state.table.services[name] = named
    state.objects.append(cc.object_def(name, "service", stanza, services=named))


def _service_spec(tokens: list[str], state: _State) -> tuple[Service, ...]:
    """`PROTO [source OP P] [destination OP P]`, `icmp [TYPE [CODE]]`, legacy `tcp eq P`, `object NAME`."""
    if tokens[:1] == ["object"] and len(tokens) == 2:
        found = state.table.services.get(tokens[1])
        if found is None:
            raise cc.SyntaxProblem("UNKNOWN-OBJECT", f"undefined service object '{tokens[1]}'")
        return found
    return cc.service_member(tokens, state.table, cc.ASA_SYNTAX)


def _group(stanza: cc.Stanza, state: _State, *, final: bool) -> bool:
    tokens = stanza.head.text.split()
    if len(tokens) < 3:
        return True
    kind, name = tokens[1], tokens[2]
    typed = tokens[3] if len(tokens) > 3 else None
    members: list[str] = []
    addresses = AddressSet()
    services: list[Service] = []
    ports = PortSet(ranges=())
    protos: list[int | None] = []
    icmp: list[tuple[int, int | None]] = []
    problems: list[Diagnostic] = []
    for line in stanza.children:
        parts = line.text.split()
        if parts[0] == "description":
            continue
        if parts[0] == "group-object" or parts[-2:-1] == ["object"]:
            members.append(parts[-1])
        try:
            if kind == "network":
                addresses = addresses.union(cc.network_member(parts, state.table, wildcard=False))
            elif kind == "service" and typed:
                if parts[0] == "group-object":
                    ports = ports.union(_port_group(parts[1], state))
                elif parts[0] == "port-object" and len(parts) >= 3:
                    ports = ports.union(cc.parse_port_op(parts, 1)[0])
                else:
                    raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{line.text}'")
            elif kind == "service":
                if parts[0] == "group-object":
                    services.extend(_service_spec(["object", parts[1]], state))
                elif parts[0] == "service-object":
                    services.extend(_service_spec(parts[1:], state))
                else:
                    raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{line.text}'")
            elif kind == "protocol":
                if parts[0] == "group-object":
                    protos.extend(state.table.protocols[parts[1]])
                elif parts[0] == "protocol-object" and len(parts) == 2:
                    protos.extend(cc.protocols(parts[1], cc.ASA_SYNTAX))
                else:
                    raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{line.text}'")
            elif kind == "icmp-type":
                icmp.extend(_icmp_member(parts, state))
            else:
                raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"object-group {kind} is not modelled")
        except KeyError:
            if not final:
                return False
            problems.append(
                cc.diagnostic(CODE, cc.SyntaxProblem("UNKNOWN-OBJECT", f"undefined group '{parts[-1]}'"), line)
            )
        except cc.SyntaxProblem as problem:
            if problem.code == "UNKNOWN-OBJECT" and not final:
                return False
            problems.append(cc.diagnostic(CODE, problem, line))
            if kind not in ("network", "service", "protocol", "icmp-type"):
                break
    state.diags.extend(problems)
    if kind == "network":
        resolved = AddressSet(addresses.v4, addresses.v6, addresses.fqdns, (name,))
        state.table.networks[name] = resolved
        state.objects.append(cc.object_def(name, "network-group", stanza, addresses=resolved, members=tuple(members)))
    elif kind == "service" and typed:
        named_ports = PortSet(ports.ranges, (name,))
        state.table.ports[name] = named_ports
        try:
            typed_protos = cc.protocols(typed, cc.ASA_SYNTAX)
        except cc.SyntaxProblem as problem:  # `object-group service NAME <junk>`: the ports stay usable
            state.diags.append(cc.diagnostic(CODE, problem, stanza.head))
            typed_protos = ()
        group = tuple(Service(proto, dst_ports=named_ports).named(name) for proto in typed_protos)
        state.objects.append(cc.object_def(name, "service-group", stanza, services=group, members=tuple(members)))
    elif kind == "service":
        group = tuple(service.named(name) for service in services)
        state.table.services[name] = group
        state.objects.append(cc.object_def(name, "service-group", stanza, services=group, members=tuple(members)))
    elif kind == "icmp-type":
        state.table.icmp_types[name] = tuple(dict.fromkeys(icmp))
        group = tuple(Service(cc.ICMP, icmp_type=t, icmp_code=c).named(name) for t, c in dict.fromkeys(icmp))
        state.objects.append(cc.object_def(name, "icmp-type-group", stanza, services=group, members=tuple(members)))
    elif kind == "protocol":
        state.table.protocols[name] = tuple(dict.fromkeys(protos))
        group = tuple(Service(proto).named(name) for proto in dict.fromkeys(protos))
        state.objects.append(cc.object_def(name, "protocol-group", stanza, services=group, members=tuple(members)))
    return True


def _icmp_member(parts: list[str], state: _State) -> tuple[tuple[int, int | None], ...]:
    """`icmp-object echo` / `icmp-object 3` (ASA ICMP type names) or `group-object NAME`."""
    if parts[0] == "group-object" and len(parts) == 2:
        return state.table.icmp_types[parts[1]]
    if parts[0] == "icmp-object" and len(parts) == 2:
        kind, code, used = cc.icmp_type(parts, 1, cc.ICMP)
        if kind is not None and used == 2:
            return ((kind, code),)
    raise cc.SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model '{' '.join(parts)}'")


def _port_group(name: str, state: _State) -> PortSet:
    found = state.table.ports.get(name)
    if found is None:
        raise cc.SyntaxProblem("UNKNOWN-OBJECT", f"undefined port group '{name}'")
    return found


# -- ACLs and bindings --------------------------------------------------------------------------


def _acl_line(line: cc.Line, items: dict[str, list[cc.AclItem]], kinds: dict[str, str], state: _State) -> None:
    tokens = line.text.split()
    if len(tokens) < 3:
        state.diags.append(Diagnostic(f"{CODE}-ACL-UNSUPPORTED", "incomplete access-list line", line.number, line.text))
        return
    name = tokens[1]
    rest = tokens[2:]
    at: int | None = None  # `line N`: inserted as line N of the list (remarks count as lines)
    if rest[0] == "line" and len(rest) > 2 and rest[1].isdigit():
        at, rest = max(int(rest[1]) - 1, 0), rest[2:]
    kind = rest[0]
    if kind in ("extended", "standard", "remark", "permit", "deny"):
        entries = items.setdefault(name, [])
        if kind in ("extended", "standard"):
            kinds.setdefault(name, kind)
            rest = rest[1:]
        entries.insert(len(entries) if at is None else at, cc.AclItem(line, tuple(rest)))
    else:
        state.diags.append(
            Diagnostic(f"{CODE}-ACL-UNSUPPORTED", f"access-list type '{kind}' is not modelled", line.number, line.text)
        )


def _access_group(stanza: cc.Stanza, state: _State) -> Binding | None:
    tokens = stanza.head.text.split()
    source = SourceRef(stanza.head.number, stanza.head.number)
    if len(tokens) == 3 and tokens[2] == "global":
        return Binding(BindingKind.FILTER, tokens[1], "global", "in", None, source)
    if len(tokens) >= 5 and tokens[2] in ("in", "out") and tokens[3] == "interface":
        return Binding(BindingKind.FILTER, tokens[1], tokens[4], tokens[2], None, source)
    state.diags.append(
        Diagnostic(
            f"{CODE}-BINDING-UNSUPPORTED", "access-group form not modelled", stanza.head.number, stanza.head.text
        )
    )
    return None


# -- NAT ----------------------------------------------------------------------------------------


def _interfaces(token: str) -> tuple[str, str] | None:
    if not (token.startswith("(") and token.endswith(")") and "," in token):
        return None
    real, mapped = token[1:-1].split(",", 1)
    return real, mapped


def _side(name: str) -> tuple[str, ...]:
    return () if name == "any" else (name,)


def _mapped_inline(token: str, real: AddressSet, state: _State) -> AddressSet:
    """An object NAT's mapped address: an object, or an inline IP that maps a subnet 1:1 from that address."""
    if token in state.table.networks:
        return state.table.networks[token]
    if "/" in token:
        return cc.prefix(token)
    if not (cc.is_v4(token) or ":" in token):
        raise cc.SyntaxProblem("NAT-UNKNOWN-OBJECT", f"undefined network object '{token}'")
    start = cc.host(token)
    intervals = real.v4 if start.v4 else real.v6
    if len(intervals) == 1:
        size = intervals[0][1] - intervals[0][0]
        first = (start.v4 or start.v6)[0][0]
        return AddressSet(v4=((first, first + size),)) if start.v4 else AddressSet(v6=((first, first + size),))
    return start


def _object_nats(net_objects: dict[str, list[cc.Stanza]], state: _State) -> list[NatRule]:
    rules: list[NatRule] = []
    for name, stanzas in net_objects.items():
        for stanza in stanzas:
            for line in stanza.children:
                if not line.text.startswith("nat "):
                    continue
                try:
                    rules.append(_object_nat(name, line, state, len(rules) + 1))
                except cc.SyntaxProblem as problem:
                    if not problem.code.startswith("NAT-"):
                        problem = cc.SyntaxProblem(f"NAT-{problem.code}", problem.message)
                    state.diags.append(cc.diagnostic(CODE, problem, line))
    return rules


def _object_nat(name: str, line: cc.Line, state: _State, position: int) -> NatRule:
    tokens = line.text.split()
    real = state.table.networks.get(name)
    if real is None:
        raise cc.SyntaxProblem("NAT-UNKNOWN-OBJECT", f"object network '{name}' has no address")
    index = 1
    real_if, mapped_if = "any", "any"
    sides = _interfaces(tokens[index]) if len(tokens) > index else None
    if sides:
        real_if, mapped_if = sides
        index += 1
    mode = cc._need(tokens, index, "static or dynamic")
    index += 1
    translated: AddressSet | None = None
    to_interface: str | None = None
    options: set[str] = set()
    services: tuple[Service, ...] | None = None
    mapped_port: PortSet | None = None
    pat = False
    while index < len(tokens):
        token = tokens[index]
        if token == "interface":
            to_interface = mapped_if
            pat = True
            index += 1
        elif token == "pat-pool":
            translated = state.table.network(cc._need(tokens, index + 1, "pat-pool object"))
            pat = True
            index += 2
        elif token == "service" and mode == "static":
            proto = cc.protocols(cc._need(tokens, index + 1, "protocol"), cc.ASA_SYNTAX)[0]
            real_port = cc.port(cc._need(tokens, index + 2, "real port"))
            mapped = cc.port(cc._need(tokens, index + 3, "mapped port"))
            services = (Service(proto, src_ports=PortSet.of(real_port)),)
            mapped_port = PortSet.of(mapped)
            index += 4
        elif token in NAT_FLAGS:
            options.add(token)
            index += 1
        elif translated is None and to_interface is None:
            translated = _mapped_inline(token, real, state)
            index += 1
        else:
            raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    if mode == "static":
        kind = NatKind.STATIC
        translated, to_interface = _static_interface(translated, to_interface, state)
    elif mode == "dynamic":
        single = translated is not None and translated.count() == 1
        kind = NatKind.PAT if pat or single else NatKind.DYNAMIC
    else:
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"object NAT mode '{mode}' is not modelled")
    return NatRule(
        kind=kind,
        match=Match(src=real, services=services) if services else Match(src=real),
        translated_src=translated,
        translated_src_ports=mapped_port,
        ingress=_side(real_if),
        egress=_side(mapped_if),
        bidirectional=mode == "static" and "unidirectional" not in options,
        translate_to_interface=to_interface,
        name=name,
        section="auto",
        options=frozenset(options - {"unidirectional"}),
        sequence=position,
        source=SourceRef(line.number, line.number),
    )


def _twice_nats(stanzas: list[cc.Stanza], state: _State) -> dict[str, list[NatRule]]:
    sections: dict[str, list[NatRule]] = {"manual": [], "after-auto": []}
    for stanza in stanzas:
        try:
            section, position, rule = _twice_nat(stanza.head, state)
        except cc.SyntaxProblem as problem:
            if not problem.code.startswith("NAT-"):
                problem = cc.SyntaxProblem(f"NAT-{problem.code}", problem.message)
            state.diags.append(cc.diagnostic(CODE, problem, stanza.head))
            continue
        rules = sections[section]
        if position is not None and 1 <= position <= len(rules):
            rules.insert(position - 1, rule)
        else:
            rules.append(rule)
    return {
        name: [replace(rule, sequence=index) for index, rule in enumerate(rules, 1)] for name, rules in sections.items()
    }


def _address_ref(token: str, state: _State) -> AddressSet:
    return ANY_ADDRESS if token == "any" else state.table.network(token)


def _static_interface(
    translated: AddressSet | None, to_interface: str | None, state: _State
) -> tuple[AddressSet | None, str | None]:
    """Static NAT to `interface` maps to that interface's address (ASA: "uses the interface IP address as
    the mapped address"): a known single IPv4 address becomes the translation, as if written out."""
    if translated is not None or to_interface is None:
        return translated, to_interface
    found = state.table.interfaces.get(to_interface)
    v4 = AddressSet(v4=found.v4) if found is not None else None
    if v4 is None or v4.count() != 1:
        return translated, to_interface
    return v4.named(f"interface {to_interface}"), None


def _service_ref(token: str, state: _State) -> tuple[Service, ...]:
    found = state.table.services.get(token)
    if found is None:
        raise cc.SyntaxProblem("NAT-UNKNOWN-OBJECT", f"undefined service object '{token}'")
    return found


def _twice_nat(line: cc.Line, state: _State) -> tuple[str, int | None, NatRule]:
    """`nat (real,mapped) [after-auto] [line N] source static|dynamic A A2 [destination static B2 B] ...`."""
    text = line.text
    comment: str | None = None
    if " description " in text:
        text, comment = text.split(" description ", 1)
    tokens = text.split()
    index = 1
    real_if, mapped_if = "any", "any"
    sides = _interfaces(tokens[index]) if len(tokens) > index else None
    if sides:
        real_if, mapped_if = sides
        index += 1
    section = "manual"
    position: int | None = None
    if index < len(tokens) and tokens[index] == "after-auto":
        section = "after-auto"
        index += 1
    if index + 1 < len(tokens) and tokens[index] == "line" and tokens[index + 1].isdigit():
        position = int(tokens[index + 1])
        index += 2
    if cc._need(tokens, index, "source") != "source":
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    mode = cc._need(tokens, index + 1, "static or dynamic")
    if mode not in ("static", "dynamic"):
        raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"source mode '{mode}' is not modelled")
    real_name = cc._need(tokens, index + 2, "real source")
    real = _address_ref(real_name, state)
    index += 3
    translated: AddressSet | None = None
    to_interface: str | None = None
    pat = False
    mapped_name = cc._need(tokens, index, "mapped source")
    if mapped_name == "pat-pool":
        translated = state.table.network(cc._need(tokens, index + 1, "pat-pool object"))
        pat = True
        index += 2
    elif mapped_name == "interface":
        to_interface = mapped_if
        pat = True
        index += 1
    else:
        if mapped_name != real_name:
            translated = _address_ref(mapped_name, state)
        index += 1
    dst = ANY_ADDRESS
    translated_dst: AddressSet | None = None
    services: tuple[Service, ...] | None = None
    translated_src_ports: PortSet | None = None
    translated_dst_ports: PortSet | None = None
    options: set[str] = set()
    enabled = True
    while index < len(tokens):
        token = tokens[index]
        if token == "interface" and mode == "dynamic":
            to_interface = mapped_if
            pat = True
            index += 1
        elif token == "destination":
            if cc._need(tokens, index + 1, "destination mode") != "static":
                raise cc.SyntaxProblem("NAT-UNSUPPORTED", "only 'destination static' exists")
            mapped_dst = cc._need(tokens, index + 2, "mapped destination")
            real_dst = cc._need(tokens, index + 3, "real destination")
            if mapped_dst == "interface":
                found = state.table.interfaces.get(real_if)
                if found is None:
                    raise cc.SyntaxProblem("NAT-UNKNOWN-INTERFACE", f"no interface with nameif '{real_if}'")
                dst = found.named(f"interface {real_if}")
            else:
                dst = _address_ref(mapped_dst, state)
            if real_dst != mapped_dst:
                translated_dst = _address_ref(real_dst, state)
            index += 4
        elif token == "service":
            first = _service_ref(cc._need(tokens, index + 1, "service object"), state)
            second = _service_ref(cc._need(tokens, index + 2, "service object"), state)
            services = first
            if second and first:
                if not second[0].src_ports.is_any and second[0].src_ports != first[0].src_ports:
                    translated_src_ports = second[0].src_ports
                if not second[0].dst_ports.is_any and second[0].dst_ports != first[0].dst_ports:
                    translated_dst_ports = second[0].dst_ports
            index += 3
        elif token == "inactive":
            enabled = False
            index += 1
        elif token in NAT_FLAGS:
            options.add(token)
            index += 1
        else:
            raise cc.SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    if mode == "static":
        translated, to_interface = _static_interface(translated, to_interface, state)
    src_changes = translated is not None or to_interface is not None or translated_src_ports is not None
    dst_changes = translated_dst is not None or translated_dst_ports is not None
    if src_changes and dst_changes:
        kind = NatKind.TWICE
    elif dst_changes:
        kind = NatKind.DESTINATION
    elif mode == "static":
        kind = NatKind.STATIC
    else:
        single = translated is not None and translated.count() == 1
        kind = NatKind.PAT if pat or single else NatKind.DYNAMIC
    rule = NatRule(
        kind=kind,
        match=Match(src=real, dst=dst, services=services) if services else Match(src=real, dst=dst),
        translated_src=translated,
        translated_dst=translated_dst,
        translated_src_ports=translated_src_ports,
        translated_dst_ports=translated_dst_ports,
        ingress=_side(real_if),
        egress=_side(mapped_if),
        bidirectional=mode == "static" and "unidirectional" not in options,
        translate_to_interface=to_interface,
        section=section,
        enabled=enabled,
        options=frozenset(options - {"unidirectional"}),
        comment=comment,
        source=SourceRef(line.number, line.number),
    )
    return section, position, rule


_DETECT = re.compile(
    r"^(?:ASA Version |: Saved|: Hardware: +ASA|object network |access-list \S+ extended |same-security-traffic |"
    r" nameif )",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """ASA banners (`ASA Version`), `nameif`, `object network`, `access-list X extended`."""
    return bool(_DETECT.search(text))
