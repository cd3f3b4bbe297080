"""Juniper Junos (SRX / MX / EX): security NAT, security policies, firewall filters and their bindings.

Both curly-brace and `set` form are flattened into one statement form first (`_junos_tree`), so one
reader handles both and the two forms of a config give the same RuleSet. Reading is two-phase: rule
blocks are gathered while objects (address books, applications, pools, prefix lists, zones) are
collected, then resolved once everything is known, so definition order does not matter.

Conventions beyond PARSERS.md:
- NAT `name` is "RULE-SET/RULE", `section` the rule-set type (source|destination|static), `sequence`
  the rule's position in its rule-set, `context` the rule-set's `from routing-instance` (if any).
- `source-nat off` / `destination-nat off` are kept as rules with nothing translated and the option
  "no-translate" (they exempt traffic from later rules, so their removal is a change).
- `source-nat interface` is PAT with `translate_to_interface` set to the egress interface when the rule
  set names exactly one (directly or through a one-interface zone), else "egress".
- Filters of family inet are listed under their own name, other families as "FAMILY:NAME".
- A name that resolves nowhere is kept as an opaque member "unresolved:NAME" (a diagnostic says so):
  neither any nor nothing, so the diff still sees the reference change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cfgwatch.model import (
    ANY_ADDRESS,
    ANY_PORTS,
    ANY_SERVICE,
    Action,
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
    protocol_number,
)
from cfgwatch.model.ports import PORT_PROTOCOLS
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._junos_tables import ICMP6_TYPES, ICMP_TYPES, JUNOS_PORT_NAMES, PREDEFINED_APPLICATIONS
from cfgwatch.vendors._junos_tree import (
    MAX_DEPTH,
    FlatConfig,
    Path,
    Stmt,
    expand_groups,
    flatten,
    parse_address,
)
from cfgwatch.vendors._junos_tree import parse_ports as _shared_ports
from cfgwatch.vendors._misc_common import union_all, v4_interval

PLATFORM = "juniper_junos"
_RELEVANT = frozenset({"security", "firewall", "interfaces", "applications", "policy-options", "routing-instances"})
_V6_ANY = AddressSet.parse("::/0")
_TCP, _UDP, _ICMP, _ICMP6 = 6, 17, 1, 58


def parse_ports(text: str) -> PortSet:
    """A port spec with Junos's own port names first (`socks`, `radius` 1812, `ftp-data` as one name)."""
    value = JUNOS_PORT_NAMES.get(text.lower())
    if value is not None:
        return PortSet(((value, value),))
    return _shared_ports(text)


def unresolved(name: str) -> AddressSet:
    """An address reference that resolves nowhere: an opaque member, not any and not nothing."""
    return AddressSet(fqdns=frozenset({f"unresolved:{name}"}), names=(name,))


@dataclass(slots=True)
class _Block:
    """A rule/term/policy being gathered: its own statements (relative paths) and their line range."""

    path: Path
    opened: int  # line of the first statement seen, kept or not: the range when every statement was dropped
    items: list[tuple[Path, int]] = field(default_factory=list)
    first: int = 0  # lowest / highest line of the kept statements (0: none kept)
    last: int = 0
    disabled: bool = False

    @property
    def first_line(self) -> int:
        return self.first or self.opened

    @property
    def last_line(self) -> int:
        return self.last or self.opened


@dataclass(slots=True)
class _IfInfo:
    """Addresses and description of one interface unit as gathered."""

    line: int
    end: int
    addresses: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass(slots=True)
class _State:
    flat: FlatConfig
    lines: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # address books: book -> name -> (specs, line); sets: book -> name -> (members, line)
    addresses: dict[str, dict[str, tuple[list[Path], int]]] = field(default_factory=dict)
    address_sets: dict[str, dict[str, tuple[list[tuple[str, str]], int]]] = field(default_factory=dict)
    zone_books: dict[str, list[str]] = field(default_factory=dict)
    applications: dict[str, tuple[dict[str, list[Path]], int]] = field(default_factory=dict)
    application_sets: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    prefix_lists: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    pools: dict[tuple[str, str], tuple[list[Path], int]] = field(default_factory=dict)
    interfaces: dict[str, _IfInfo] = field(default_factory=dict)
    zone_members: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    vrf_members: dict[str, str] = field(default_factory=dict)
    filter_bindings: list[tuple[str, str, str, int]] = field(default_factory=list)
    rule_sets: dict[Path, _Block] = field(default_factory=dict)
    nat_rules: dict[Path, _Block] = field(default_factory=dict)
    policies: dict[Path, _Block] = field(default_factory=dict)
    default_policy: tuple[str, int] | None = None  # `security policies default-policy permit-all|deny-all`
    terms: dict[Path, _Block] = field(default_factory=dict)
    logical_systems_seen: set[str] = field(default_factory=set)
    services_rules_seen: set[str] = field(default_factory=set)  # [services] rules already reported

    def diag(self, code: str, message: str, line: int) -> None:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.diagnostics.append(Diagnostic(code, message, line, text))


# ---------------------------------------------------------------------------------------------
# phase 1: collect
# ---------------------------------------------------------------------------------------------


def _block(store: dict[Path, _Block], key: Path, stmt: Stmt, depth: int | None) -> None:
    """Add a statement to the block at `key`; inactive at/above the block disables it, below drops it."""
    line = stmt.line
    block = store.get(key)
    if block is None:
        block = store[key] = _Block(key, line)
    if depth is not None and depth > len(key):
        return
    if depth is not None:
        block.disabled = True
    rest = stmt.path[len(key) :]
    if rest:  # `policy p1 { }` / `term t1;` name the block and say nothing more: no item
        block.items.append((rest, line))
    if block.first == 0 or line < block.first:  # group statements come last with earlier lines
        block.first = line
    if line > block.last:
        block.last = line


def _collect(state: _State) -> None:
    flat = state.flat
    for stmt in flat.statements:
        path = stmt.path
        if len(path) < 2:
            continue
        head = path[0]
        if head not in _RELEVANT:
            if head == "services":
                _services_rule(state, stmt)
                continue
            if (
                head in ("logical-systems", "tenants")
                and len(path) > 2
                and path[2] in _RELEVANT
                and path[1] not in state.logical_systems_seen
            ):
                state.logical_systems_seen.add(path[1])
                state.diag(
                    "JUNOS-LOGICAL-SYSTEM-UNSUPPORTED",
                    f"{head} {path[1]}: rules inside logical systems/tenants are not modelled",
                    stmt.line,
                )
            continue
        depth = flat.inactive_depth(path) if flat.inactive else None  # most configs: nothing inactive
        if head == "security":
            _collect_security(state, stmt, depth)
        elif head == "firewall":
            _collect_firewall(state, stmt, depth)
        elif depth is not None:
            continue
        elif head == "interfaces":
            _collect_interface(state, stmt)
        elif head == "applications":
            _collect_application(state, stmt)
        elif head == "policy-options" and path[1] == "prefix-list" and len(path) >= 4:
            entry = state.prefix_lists.setdefault(path[2], ([], stmt.line))
            if path[3] == "apply-path":
                state.diag("JUNOS-PREFIX-LIST-APPLY-PATH", "prefix-list apply-path is not expanded", stmt.line)
            else:
                entry[0].append(path[3])
        elif head == "routing-instances" and len(path) >= 4 and path[2] == "interface":
            state.vrf_members[path[3]] = path[1]


# MX/MS-MPC and Next Gen Services hierarchies whose rules filter or translate traffic but are not modelled:
# each rule is a diagnostic (a config whose rules all live there must not read as "no rules").
_SERVICES_RULES = {"stateful-firewall": "stateful firewall", "nat": "NAT"}


def _services_rule(state: _State, stmt: Stmt) -> None:
    """`services stateful-firewall rule R ...` / `services nat rule R ...`: one diagnostic per rule."""
    path = stmt.path
    kind = _SERVICES_RULES.get(path[1])
    if kind is None or len(path) < 4:
        return
    if path[2] in ("rule", "rule-set"):
        name = f"{path[2]} {path[3]}"
    elif path[1] == "nat" and path[2] in ("source", "destination", "static") and len(path) >= 5:
        name = f"{path[2]} {path[3]} {path[4]}"  # Next Gen Services: `services nat source rule-set RS ...`
    else:
        return
    key = f"services {path[1]} {name}"
    if key in state.services_rules_seen:
        return
    state.services_rules_seen.add(key)
    state.diag(
        f"JUNOS-SERVICES-{path[1].upper()}-UNSUPPORTED",
        f"{key}: {kind} rules under [services] (MS-MPC / Next Gen Services) are not modelled",
        stmt.line,
    )


def _collect_security(state: _State, stmt: Stmt, depth: int | None) -> None:
    path = stmt.path
    area = path[1]
    if area == "nat" and len(path) >= 4:
        kind = path[2]
        if kind not in ("source", "destination", "static"):
            return  # proxy-arp, proxy-ndp, traceoptions: no rules
        if path[3] == "pool" and len(path) >= 6:
            if depth is None:
                entry = state.pools.setdefault((kind, path[4]), ([], stmt.line))
                entry[0].append(path[5:])
            return
        if path[3] == "rule-set" and len(path) >= 6:
            if path[5] == "rule" and len(path) >= 8:
                _block(state.nat_rules, path[:7], stmt, depth)
            else:
                _block(state.rule_sets, path[:5], stmt, depth)
        return
    if depth is not None:
        if area == "policies" and len(path) > 7 and path[2] == "from-zone" and path[6] == "policy":
            _block(state.policies, path[:8], stmt, depth)
        elif area == "policies" and len(path) > 4 and path[2] == "global" and path[3] == "policy":
            _block(state.policies, path[:5], stmt, depth)
        return
    if area == "address-book" and len(path) >= 4:
        book = path[2]
        if path[3] == "attach" and len(path) >= 6 and path[4] == "zone":
            state.zone_books.setdefault(path[5], []).append(book)
        else:
            _collect_book_entry(state, book, path[3:], stmt.line)
    elif area == "zones" and len(path) >= 6 and path[2] == "security-zone":
        zone = path[3]
        if path[4] == "interfaces":
            members = state.zone_members.setdefault(zone, [])
            if all(name != path[5] for name, _line in members):
                members.append((path[5], stmt.line))
        elif path[4] == "address-book":
            book = f"zone:{zone}"
            if book not in state.zone_books.get(zone, []):
                state.zone_books.setdefault(zone, []).insert(0, book)
            _collect_book_entry(state, book, path[5:], stmt.line)
    elif area == "policies" and len(path) > 7 and path[2] == "from-zone" and path[6] == "policy":
        _block(state.policies, path[:8], stmt, depth)
    elif area == "policies" and len(path) > 4 and path[2] == "global" and path[3] == "policy":
        _block(state.policies, path[:5], stmt, depth)
    elif area == "policies" and len(path) == 4 and path[2] == "default-policy":
        state.default_policy = (path[3], stmt.line)


def _collect_book_entry(state: _State, book: str, rest: Path, line: int) -> None:
    if len(rest) < 3:
        return
    if rest[0] == "address":
        entry = state.addresses.setdefault(book, {}).setdefault(rest[1], ([], line))
        entry[0].append(rest[2:])
    elif rest[0] == "address-set" and len(rest) >= 4 and rest[2] in ("address", "address-set"):
        group = state.address_sets.setdefault(book, {}).setdefault(rest[1], ([], line))
        group[0].append((rest[2], rest[3]))


def _collect_firewall(state: _State, stmt: Stmt, depth: int | None) -> None:
    path = stmt.path
    if path[1] == "family" and len(path) >= 7 and path[3] == "filter" and path[5] == "term":
        key, family = path[:7], path[2]
    elif path[1] == "filter" and len(path) >= 5 and path[3] == "term":
        key, family = path[:5], "inet"
    else:
        return  # policers, filter-level knobs (interface-specific), other families' settings
    del family
    _block(state.terms, key, stmt, depth)


def _collect_interface(state: _State, stmt: Stmt) -> None:
    path = stmt.path
    if path[1] in ("interface-range", "traceoptions"):
        return
    name, rest = path[1], path[2:]
    if len(rest) >= 2 and rest[0] == "unit":
        name, rest = f"{name}.{rest[1]}", rest[2:]
    info = state.interfaces.get(name)
    if info is None:
        info = state.interfaces[name] = _IfInfo(stmt.line, stmt.line)
    info.end = max(info.end, stmt.line)
    if len(rest) >= 2 and rest[0] == "description" and info.description is None:
        info.description = rest[1]
    if len(rest) < 4 or rest[0] != "family":
        return
    family = rest[1]
    if rest[2] == "address":
        info.addresses.append(rest[3])
    elif rest[2] == "filter" and rest[3] in ("input", "output", "input-list", "output-list") and len(rest) >= 5:
        direction = "input" if rest[3].startswith("input") else "output"
        state.filter_bindings.append((_filter_list_name(family, rest[4]), name, direction, stmt.line))


def _collect_application(state: _State, stmt: Stmt) -> None:
    path = stmt.path
    if len(path) < 4:
        return
    if path[1] == "application":
        entry = state.applications.setdefault(path[2], ({}, stmt.line))
        rest = path[3:]
        if rest[0] == "term" and len(rest) >= 2:
            entry[0].setdefault(rest[1], []).append(rest[2:])
        else:
            entry[0].setdefault("", []).append(rest)
    elif path[1] == "application-set" and len(path) >= 5 and path[3] in ("application", "application-set"):
        group = state.application_sets.setdefault(path[2], ([], stmt.line))
        group[0].append(path[4])


def _filter_list_name(family: str, name: str) -> str:
    return name if family == "inet" else f"{family}:{name}"


# ---------------------------------------------------------------------------------------------
# phase 2: resolve objects
# ---------------------------------------------------------------------------------------------


def _address_spec(spec: Path) -> AddressSet | None:
    """One `address NAME ...` tail: prefix, range-address, dns-name, wildcard-address (None = not an address)."""
    if not spec:
        return None
    key = spec[0]
    if key in ("description",):
        return None
    try:
        if key == "range-address" and len(spec) >= 4:
            return parse_address(f"{spec[1]}-{spec[3]}")
        if key == "dns-name" and len(spec) >= 2:
            return AddressSet.fqdn(spec[1])
        if key == "wildcard-address" and len(spec) >= 2:
            address, _, mask = spec[1].partition("/")
            return AddressSet.from_mask(address, mask)
        return parse_address(key)
    except ValueError:
        return None


# Sets nest far less deeply on any real device; a chain deeper than this is hostile input, and resolving it
# recursively would end in RecursionError (one bad config must not stop the audit of the others).
MAX_SET_DEPTH = 64


class _BadNesting(Exception):
    """A set that contains itself or nests past MAX_SET_DEPTH: unwinds the walk without caching its parts."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_BAD: tuple[Service, ...] = (ANY_SERVICE,)  # identity-compared: an application that could not be resolved


def _check_nesting(name: str, seen: tuple[str, ...]) -> None:
    if name in seen:
        chain = " -> ".join((*seen[seen.index(name) :], name))
        raise _BadNesting("JUNOS-SET-CYCLE", f"{seen[0]} contains itself ({chain})")
    if len(seen) >= MAX_SET_DEPTH:
        raise _BadNesting("JUNOS-SET-TOO-DEEP", f"{seen[0]} nests deeper than {MAX_SET_DEPTH} sets")


class _Resolver:
    """Name -> resolved value, with per-zone address books, predefined applications and cycle guards.

    A policy's address or application name is resolved once: a resolution that found the name (and so
    added no diagnostic) is cached, an unknown name is reported again at each line that uses it.
    """

    def __init__(self, state: _State) -> None:
        self.state = state
        self._addr_cache: dict[tuple[str, str], AddressSet | None] = {}
        self._app_cache: dict[str, tuple[Service, ...] | None] = {}
        self._named_addresses: dict[tuple[str, str | None], AddressSet] = {}
        self._named_applications: dict[str, tuple[Service, ...]] = {}

    def books_for(self, zone: str | None) -> list[str]:
        books = list(self.state.zone_books.get(zone, [])) if zone else []
        books.append("global")
        return books

    def address(self, name: str, zone: str | None, line: int) -> AddressSet:
        if name in ("any", "any-ipv4", "any-ipv6"):
            return {"any": ANY_ADDRESS, "any-ipv4": AddressSet.any_v4(), "any-ipv6": _V6_ANY}[name]
        cached = self._named_addresses.get((name, zone))
        if cached is not None:
            return cached
        for book in self.books_for(zone):
            try:
                found = self._book_address(book, name, ())
            except _BadNesting as problem:
                self.state.diag(problem.code, f"address-set {problem}: resolved as unknown", line)
                return unresolved(name)
            if found is not None:
                result = self._named_addresses[(name, zone)] = found.named(name)
                return result
        try:
            result = self._named_addresses[(name, zone)] = parse_address(name)
            return result
        except ValueError:
            pass
        where = f"zone {zone} or global" if zone else "the global address book"
        self.state.diag("JUNOS-UNKNOWN-ADDRESS", f"address '{name}' is not defined in {where}", line)
        return unresolved(name)

    def _book_address(self, book: str, name: str, seen: tuple[str, ...]) -> AddressSet | None:
        key = (book, name)
        if key in self._addr_cache:
            return self._addr_cache[key]
        result: AddressSet | None = None
        entry = self.state.addresses.get(book, {}).get(name)
        if entry is not None:
            values = [v for v in map(_address_spec, entry[0]) if v is not None]
            result = _union(values)
        group = self.state.address_sets.get(book, {}).get(name)
        if group is not None:
            _check_nesting(name, seen)
            parts = [result or AddressSet.empty()]
            for _kind, member in group[0]:
                value = self._book_address(book, member, (*seen, name))
                if value is None and book != "global":
                    value = self._book_address("global", member, (*seen, name))
                parts.append(value if value is not None else unresolved(member))
            result = union_all(parts)  # one merge for big address sets
        self._addr_cache[key] = result
        return result

    def application(self, name: str, line: int) -> tuple[Service, ...]:
        """The services an application name stands for, without duplicates (callers de-duplicate anyway)."""
        if name == "any":
            return (ANY_SERVICE,)
        cached = self._named_applications.get(name)
        if cached is not None:
            return cached
        services = self.checked_application(name, line)
        if services is _BAD:
            return (ANY_SERVICE.named(name),)
        if services is None:
            missing = self._unknown_member(name)
            what = f"application '{name}'" if missing == name else f"application-set '{name}' member '{missing}'"
            self.state.diag("JUNOS-UNKNOWN-APPLICATION", f"{what} is not defined (or not known)", line)
            return (ANY_SERVICE.named(name),)
        result = self._named_applications[name] = tuple(dict.fromkeys(service.named(name) for service in services))
        return result

    def _unknown_member(self, name: str) -> str:
        """The first name under an unresolvable application(-set) that is itself unknown (for the message)."""
        pending, seen = [name], set()
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            if current in self.state.application_sets:
                pending.extend(self.state.application_sets[current][0])
            elif current not in self.state.applications and current not in PREDEFINED_APPLICATIONS:
                return current
        return name

    def checked_book_address(self, book: str, name: str, line: int) -> AddressSet | None:
        """`_book_address` for a caller outside a walk: a cycle or too-deep chain is a diagnostic at `line`."""
        try:
            return self._book_address(book, name, ())
        except _BadNesting as problem:
            self.state.diag(problem.code, f"address-set {problem}: resolved as unknown", line)
            return None

    def checked_application(self, name: str, line: int) -> tuple[Service, ...] | None:
        """`_application` for a caller outside a walk; `_BAD` (after a diagnostic at `line`) when unusable."""
        try:
            return self._application(name, ())
        except _BadNesting as problem:
            self.state.diag(problem.code, f"application-set {problem}: resolved as any application", line)
        except ValueError as exc:  # a port or icmp type no device accepts (destination-port 99999)
            self.state.diag("JUNOS-BAD-APPLICATION", f"application '{name}': {exc}: resolved as any application", line)
        return _BAD

    def _application(self, name: str, seen: tuple[str, ...]) -> tuple[Service, ...] | None:
        if name in self._app_cache:
            return self._app_cache[name]
        result: tuple[Service, ...] | None = None
        if name in self.state.applications:
            result = _application_services(self.state.applications[name][0])
        elif name in self.state.application_sets:
            _check_nesting(name, seen)
            collected: list[Service] = []
            for member in self.state.application_sets[name][0]:
                services = self._application(member, (*seen, name))
                if services is None:
                    return None
                collected.extend(services)
            result = tuple(dict.fromkeys(collected))
        elif name in PREDEFINED_APPLICATIONS:
            result = PREDEFINED_APPLICATIONS[name]
        self._app_cache[name] = result
        return result

    def prefix_list(self, name: str, line: int) -> AddressSet:
        entry = self.state.prefix_lists.get(name)
        if entry is None:
            self.state.diag("JUNOS-UNKNOWN-PREFIX-LIST", f"prefix-list '{name}' is not defined", line)
            return unresolved(name)
        parts: list[AddressSet] = []
        for prefix in entry[0]:
            try:
                parts.append(parse_address(prefix))
            except ValueError:
                self.state.diag("JUNOS-BAD-PREFIX", f"prefix-list {name}: bad prefix {prefix!r}", entry[1])
        return union_all(parts).named(name)  # one merge for big prefix lists


def _ports(values: list[str]) -> PortSet:
    if len(values) == 1:
        return parse_ports(values[0])
    result = PortSet(ranges=())
    for value in values:
        result = result.union(parse_ports(value))
    return result


def _icmp_number(token: str, v6: bool) -> int:
    if token.isdigit():
        return int(token)
    table = ICMP6_TYPES if v6 else ICMP_TYPES
    if token in table:
        return table[token]
    raise ValueError(f"unknown icmp type {token!r}")


def _application_services(terms: dict[str, list[Path]]) -> tuple[Service, ...]:
    """Services of one custom application: one per term (a term-less application is one term)."""
    out: list[Service] = []
    for statements in terms.values():
        values: dict[str, str] = {}
        for statement in statements:
            tokens = list(statement)
            while len(tokens) >= 2:
                values[tokens[0]] = tokens[1]
                tokens = tokens[2:]
        proto_text = values.get("protocol")
        if proto_text is None:
            continue
        try:
            proto = protocol_number(proto_text)
        except ValueError:
            continue
        if proto in PORT_PROTOCOLS:
            src = parse_ports(values["source-port"]) if "source-port" in values else ANY_PORTS
            dst = parse_ports(values["destination-port"]) if "destination-port" in values else ANY_PORTS
            out.append(Service(proto, src, dst))
        elif proto in (_ICMP, _ICMP6):
            v6 = proto == _ICMP6
            kind = values.get("icmp6-type" if v6 else "icmp-type")
            code = values.get("icmp6-code" if v6 else "icmp-code")
            out.append(
                Service(
                    proto,
                    icmp_type=_icmp_number(kind, v6) if kind else None,
                    icmp_code=int(code) if code and code.isdigit() else None,
                )
            )
        else:
            out.append(Service(proto))
    return tuple(out) or (ANY_SERVICE,)


def _services(protocols: list[int], sports: PortSet, dports: PortSet, either: PortSet | None) -> tuple[Service, ...]:
    """Protocols x ports. Ports without protocol mean tcp and udp; `port` (either side) doubles them."""
    has_ports = not (sports.is_any and dports.is_any and either is None)
    protos: list[int | None] = list(protocols) or ([_TCP, _UDP] if has_ports else [None])
    out: list[Service] = []
    for proto in protos:
        if proto is None:
            out.append(ANY_SERVICE)
        elif proto in PORT_PROTOCOLS:
            if either is None:
                out.append(Service(proto, sports, dports))
            else:
                out.append(Service(proto, sports.intersection(either), dports))
                out.append(Service(proto, sports, dports.intersection(either)))
        else:
            out.append(Service(proto))
    if len(out) == 1:  # the usual single protocol: nothing to de-duplicate (and no hashing of port sets)
        return (out[0],)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------------------------
# phase 3: rules
# ---------------------------------------------------------------------------------------------


def _span(state: _State, block: _Block) -> SourceRef:
    span = state.flat.spans.get(block.path)
    if span is not None:
        return SourceRef(span[0], span[1])
    return SourceRef(block.first_line, block.last_line)


def _note(state: _State, block: _Block, description: str | None) -> str | None:
    return description if description is not None else state.flat.annotations.get(block.path)


def _policies(state: _State, resolver: _Resolver) -> list[FilterRule]:
    out: list[FilterRule] = []
    for path, block in state.policies.items():
        if path[2] == "global":
            list_name, name, from_zones, to_zones = "global", path[4], [], []
        else:
            from_zone, to_zone, name = path[3], path[5], path[7]
            list_name, from_zones, to_zones = f"{from_zone}>{to_zone}", [from_zone], [to_zone]
        src_names: list[tuple[str, int]] = []
        dst_names: list[tuple[str, int]] = []
        apps: list[tuple[str, int]] = []
        negate_src = negate_dst = False
        action: Action | None = None
        options: set[str] = set()
        description: str | None = None
        for rest, line in block.items:
            key = rest[0]
            if key == "description" and len(rest) >= 2:
                description = rest[1]
            elif key == "match" and len(rest) >= 2:
                field_name, values = rest[1], rest[2:]
                if field_name == "source-address" and values:
                    src_names.append((values[0], line))
                elif field_name == "destination-address" and values:
                    dst_names.append((values[0], line))
                elif field_name == "application" and values:
                    apps.append((values[0], line))
                elif field_name == "source-address-excluded":
                    negate_src = True
                elif field_name == "destination-address-excluded":
                    negate_dst = True
                elif field_name == "from-zone" and values:
                    from_zones.append(values[0])
                elif field_name == "to-zone" and values:
                    to_zones.append(values[0])
                elif field_name in (
                    "dynamic-application",
                    "url-category",
                    "source-identity",
                    "source-end-user-profile",
                ):
                    if values and values[0] not in ("any", "none"):
                        options.add(f"{field_name}:{values[0]}")
                else:
                    state.diag("JUNOS-POLICY-MATCH-UNSUPPORTED", f"policy {name}: match {field_name}", line)
            elif key == "then" and len(rest) >= 2:
                verb = rest[1]
                if verb == "permit":
                    action = Action.PERMIT
                elif verb == "deny":
                    action = Action.DENY
                elif verb == "reject":
                    action = Action.REJECT
                elif verb == "log":
                    options.add("log")
                elif verb == "count":
                    options.add("count")
                else:
                    state.diag("JUNOS-POLICY-THEN-UNSUPPORTED", f"policy {name}: then {verb}", line)
            elif key in ("scheduler-name",):
                options.add(f"scheduler:{rest[1]}" if len(rest) > 1 else "scheduler")
            else:
                state.diag("JUNOS-POLICY-UNSUPPORTED", f"policy {name}: {key} is not modelled", line)
        src_zone = from_zones[0] if len(from_zones) == 1 else None
        dst_zone = to_zones[0] if len(to_zones) == 1 else None
        src = _policy_addresses(resolver, src_names, src_zone)
        dst = _policy_addresses(resolver, dst_names, dst_zone)
        if negate_src:
            src = ANY_ADDRESS.difference(src).named(*(f"!{n}" for n in src.names))
        if negate_dst:
            dst = ANY_ADDRESS.difference(dst).named(*(f"!{n}" for n in dst.names))
        if action is None:
            state.diag("JUNOS-POLICY-NO-ACTION", f"policy {name} has no permit/deny/reject", block.first_line)
            action = Action.DENY
        out.append(
            FilterRule(
                list_name=list_name,
                action=action,
                match=Match(src, dst, _policy_services(resolver, apps)),
                name=name,
                from_zones=tuple(from_zones),
                to_zones=tuple(to_zones),
                enabled=not block.disabled,
                options=frozenset(options),
                comment=_note(state, block, description),
                source=_span(state, block),
            )
        )
    return out


def _default_policy(state: _State) -> list[FilterRule]:
    """`default-policy permit-all`: what no policy of any zone pair (or global) matches is permitted.

    Junos evaluates zone-pair policies, then global policies, then the default policy; deny-all is the
    factory default, so only permit-all adds a rule (the last one, for every zone pair)."""
    if state.default_policy is None:
        return []
    verb, line = state.default_policy
    if verb == "deny-all":
        return []
    if verb != "permit-all":
        state.diag("JUNOS-POLICY-UNSUPPORTED", f"default-policy {verb} is not modelled", line)
        return []
    return [
        FilterRule(
            list_name="default-policy",
            action=Action.PERMIT,
            match=Match(ANY_ADDRESS, ANY_ADDRESS, (ANY_SERVICE,)),
            name="default-policy",
            from_zones=("any",),
            to_zones=("any",),
            source=SourceRef(line, line),
        )
    ]


def _policy_addresses(resolver: _Resolver, names: list[tuple[str, int]], zone: str | None) -> AddressSet:
    """A policy's source or destination: the union of its named members, any when none are listed."""
    if not names:
        return ANY_ADDRESS
    if len(names) == 1:  # the usual policy: one member, nothing to merge
        name, line = names[0]
        return resolver.address(name, zone, line)
    return _union(resolver.address(name, zone, line) for name, line in names)


def _policy_services(resolver: _Resolver, apps: list[tuple[str, int]]) -> tuple[Service, ...]:
    """A policy's applications resolved and de-duplicated in order, any when none are listed."""
    if len(apps) == 1:  # resolver.application already returns a duplicate-free tuple
        app, line = apps[0]
        return resolver.application(app, line) or (ANY_SERVICE,)
    services: list[Service] = []
    for app, line in apps:
        services.extend(resolver.application(app, line))
    return tuple(dict.fromkeys(services)) or (ANY_SERVICE,)


def _union(sets: Iterable[AddressSet]) -> AddressSet:
    return union_all(list(sets))


_FILTER_QUALIFIERS = frozenset(
    {
        "packet-length",
        "dscp",
        "precedence",
        "ttl",
        "hop-limit",
        "traffic-class",
        "fragment-offset",
        "fragment-flags",
        "ip-options",
        "forwarding-class",
        "loss-priority",
        "interface",
        "interface-group",
        "source-class",
        "destination-class",
        "extension-header",
        "payload-protocol",
        "tcp-flags",
        "tcp-initial",
        "first-fragment",
        "is-fragment",
        "tcp-established",
        "flexible-match-range",
    }
)
_FILTER_TERMINAL = {"accept": Action.PERMIT, "discard": Action.DENY, "reject": Action.REJECT}
_FILTER_MODIFIERS = frozenset(
    {"count", "log", "syslog", "sample", "policer", "forwarding-class", "loss-priority", "dscp", "port-mirror"}
)


def _lpm(entries: list[tuple[AddressSet, bool, str]]) -> AddressSet:
    """Junos address lists are longest-prefix match: a more specific `except` carves out, and back in.

    Entries are (value, except, prefix text; "" for a prefix list, which sorts first). The prefix
    lengths are only worked out when there is more than one entry to order.
    """
    if len(entries) == 1 and not entries[0][1]:
        return entries[0][0]
    ordered = sorted(entries, key=lambda item: _prefix_length(item[2]) if item[2] else 0)
    result = AddressSet.empty()
    names: list[str] = []
    for value, excluded, _length in ordered:
        result = result.difference(value) if excluded else result.union(value)
        names.extend(value.names)
    return result.named(*names) if names else result


def _prefix_length(value: str) -> int:
    if v4_interval(value) is not None:  # plain IPv4: the length is what follows the slash
        _, slash, bits = value.partition("/")
        return int(bits) if slash else 32
    try:
        return ipaddress.ip_network(value, strict=False).prefixlen
    except ValueError:
        return 0


def _terms(state: _State, resolver: _Resolver) -> list[FilterRule]:
    out: list[FilterRule] = []
    sequence: dict[str, int] = {}
    for path, block in state.terms.items():
        if path[1] == "family":
            family, filter_name, term = path[2], path[4], path[6]
        else:
            family, filter_name, term = "inet", path[2], path[4]
        list_name = _filter_list_name(family, filter_name)
        if family not in ("inet", "inet6", "any"):
            state.diag(
                "JUNOS-FILTER-FAMILY-UNSUPPORTED",
                f"filter {list_name} term {term}: family {family} is not an IP filter",
                block.first_line,
            )
            continue
        v6 = family == "inet6"
        addr: dict[str, list[tuple[AddressSet, bool, str]]] = {"src": [], "dst": [], "either": []}
        protocols: list[int] = []
        ports: dict[str, list[str]] = {"source-port": [], "destination-port": [], "port": []}
        icmp_types: list[int] = []
        icmp_codes: list[int] = []
        options: set[str] = set()
        action: Action | None = None
        for rest, line in block.items:
            key = rest[0]
            if key == "from" and len(rest) >= 2:
                cond, values = rest[1], rest[2:]
                target = _ADDRESS_KEYS.get(cond)
                if target is not None and values:
                    excluded = len(values) > 1 and values[1] == "except"
                    if cond.endswith("prefix-list"):
                        value = resolver.prefix_list(values[0], line)
                        prefix_text = ""
                    else:
                        try:
                            value = parse_address(values[0])
                        except ValueError:
                            state.diag("JUNOS-FILTER-BAD-ADDRESS", f"bad address {values[0]!r}", line)
                            continue
                        prefix_text = values[0]
                    addr[target].append((value, excluded, prefix_text))
                elif cond in ("protocol", "next-header") and values:
                    try:
                        protocols.append(protocol_number(_PROTO_ALIASES.get(values[0], values[0])))
                    except ValueError:
                        state.diag("JUNOS-FILTER-UNKNOWN-PROTOCOL", f"unknown protocol {values[0]!r}", line)
                elif cond in ports and values:
                    ports[cond].append(values[0])
                elif cond in ("icmp-type", "icmp6-type") and values:
                    try:
                        icmp_types.append(_icmp_number(values[0], v6))
                    except ValueError:
                        state.diag("JUNOS-FILTER-UNKNOWN-ICMP", f"unknown icmp type {values[0]!r}", line)
                elif cond in ("icmp-code", "icmp6-code") and values and values[0].isdigit():
                    icmp_codes.append(int(values[0]))
                elif cond in _FILTER_QUALIFIERS:
                    options.add(_OPTION_NAMES.get(cond, f"{cond}:{' '.join(values)}" if values else cond))
                else:
                    state.diag("JUNOS-FILTER-MATCH-UNSUPPORTED", f"filter {list_name} term {term}: from {cond}", line)
            elif key == "then" and len(rest) >= 2:
                verb = rest[1]
                if verb in _FILTER_TERMINAL:
                    action = _FILTER_TERMINAL[verb]
                elif verb in ("routing-instance", "next-ip", "next-ip6", "next-interface") and len(rest) >= 3:
                    action = Action.PERMIT
                    options.add(f"{verb}:{rest[2]}")
                elif verb in _FILTER_MODIFIERS:
                    options.add("log" if verb in ("log", "syslog") else verb)
                elif verb == "next" and len(rest) >= 3 and rest[2] == "term":
                    options.add("next-term")
                    state.diag(
                        "JUNOS-FILTER-NEXT-TERM",
                        f"filter {list_name} term {term}: 'next term' continues evaluation (kept as option)",
                        line,
                    )
                else:
                    state.diag("JUNOS-FILTER-THEN-UNSUPPORTED", f"filter {list_name} term {term}: then {verb}", line)
            elif key == "filter":
                state.diag("JUNOS-FILTER-NESTED", f"term {term} calls filter {rest[1:]} (not expanded)", line)
            else:
                state.diag("JUNOS-FILTER-UNSUPPORTED", f"filter {list_name} term {term}: {key}", line)
        try:
            sports = _ports(ports["source-port"]) if ports["source-port"] else ANY_PORTS
            dports = _ports(ports["destination-port"]) if ports["destination-port"] else ANY_PORTS
            either = _ports(ports["port"]) if ports["port"] else None
        except ValueError as exc:
            state.diag("JUNOS-FILTER-BAD-PORT", f"filter {list_name} term {term}: {exc}", block.first_line)
            continue
        if icmp_types or icmp_codes:
            icmp = _ICMP6 if v6 else _ICMP
            types: list[int | None] = list(icmp_types) or [None]
            codes: list[int | None] = list(icmp_codes) or [None]
            services = tuple(dict.fromkeys(Service(icmp, icmp_type=t, icmp_code=c) for t in types for c in codes))
            other = [p for p in protocols if p not in (_ICMP, _ICMP6)]
            if other:
                services += _services(other, sports, dports, either)
        else:
            services = _services(protocols, sports, dports, either)
        src = _lpm(addr["src"]) if addr["src"] else ANY_ADDRESS
        dst = _lpm(addr["dst"]) if addr["dst"] else ANY_ADDRESS
        matches = [Match(src, dst, services)]
        if addr["either"]:
            either_set = _lpm(addr["either"])
            matches = [
                Match(src.intersection(either_set).named(*either_set.names), dst, services),
                Match(src, dst.intersection(either_set).named(*either_set.names), services),
            ]
        for match in matches:
            sequence[list_name] = sequence.get(list_name, 0) + 1
            out.append(
                FilterRule(
                    list_name=list_name,
                    action=action if action is not None else Action.PERMIT,
                    match=match,
                    name=term,
                    enabled=not block.disabled,
                    options=frozenset(options),
                    comment=state.flat.annotations.get(block.path),
                    source=_span(state, block),
                )
            )
    return out


_ADDRESS_KEYS = {
    "source-address": "src",
    "ip-source-address": "src",
    "source-prefix-list": "src",
    "destination-address": "dst",
    "ip-destination-address": "dst",
    "destination-prefix-list": "dst",
    "address": "either",
    "prefix-list": "either",
}
_PROTO_ALIASES = {"icmp6": "icmp6", "icmpv6": "icmp6", "ipip": "ipinip"}
_OPTION_NAMES = {
    "tcp-established": "established",
    "is-fragment": "fragments",
    "first-fragment": "first-fragment",
    "tcp-initial": "tcp-initial",
}


# ---------------------------------------------------------------------------------------------
# NAT
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pool:
    addresses: AddressSet
    port: PortSet | None
    no_port_translation: bool
    routing_instance: str | None


def _pools(state: _State) -> dict[tuple[str, str], _Pool]:
    out: dict[tuple[str, str], _Pool] = {}
    for (kind, name), (specs, line) in state.pools.items():
        addresses = AddressSet.empty()
        port: PortSet | None = None
        no_translation = False
        instance: str | None = None
        for spec in specs:
            key = spec[0]
            if key == "address" and len(spec) >= 2:
                tokens = list(spec[1:])
                try:
                    if len(tokens) >= 3 and tokens[1] == "to":
                        first = tokens[0].split("/")[0]
                        last = tokens[2].split("/")[0]
                        addresses = addresses.union(parse_address(f"{first}-{last}"))
                        tokens = tokens[3:]
                    else:
                        addresses = addresses.union(parse_address(tokens[0]))
                        tokens = tokens[1:]
                    if len(tokens) >= 2 and tokens[0] == "port":
                        port = parse_ports(tokens[1])
                except ValueError:
                    state.diag("JUNOS-NAT-BAD-POOL", f"pool {name}: bad address {' '.join(spec[1:])!r}", line)
            elif key == "port" and len(spec) >= 2:
                if spec[1] == "no-translation":
                    no_translation = True
                elif spec[1] == "range" and len(spec) >= 3:
                    try:
                        last = spec[4] if len(spec) >= 5 and spec[3] == "to" else spec[2]
                        port = parse_ports(f"{spec[2]}-{last}")
                    except ValueError:
                        state.diag("JUNOS-NAT-BAD-POOL", f"pool {name}: bad port range", line)
            elif key == "routing-instance" and len(spec) >= 2:
                instance = spec[1]
        out[(kind, name)] = _Pool(addresses.named(name), port, no_translation, instance)
    return out


def _nat(
    state: _State, resolver: _Resolver, pools: dict[tuple[str, str], _Pool]
) -> tuple[list[NatRule], list[Binding]]:
    rules: list[NatRule] = []
    bindings: list[Binding] = []
    set_info: dict[Path, dict[str, list[tuple[str, str]]]] = {}
    for path, block in state.rule_sets.items():
        info: dict[str, list[tuple[str, str]]] = {"from": [], "to": [], "description": []}
        for rest, line in block.items:
            if rest[0] in ("from", "to") and len(rest) >= 3:
                info[rest[0]].append((rest[1], rest[2]))
            elif rest[0] == "description" and len(rest) >= 2:
                info["description"].append(("", rest[1]))
            else:
                state.diag("JUNOS-NAT-UNSUPPORTED", f"rule-set {path[4]}: {rest[0]} is not modelled", line)
        set_info[path] = info
        if not block.disabled:
            for direction in ("from", "to"):
                for kind, value in info[direction]:
                    if kind in ("zone", "interface"):
                        bindings.append(
                            Binding(
                                BindingKind.NAT_RULESET,
                                path[4],
                                value,
                                "in" if direction == "from" else "out",
                                source=_span(state, block),
                            )
                        )
    positions: dict[Path, int] = {}
    for path, block in state.nat_rules.items():
        set_path = path[:5]
        info = set_info.get(set_path, {"from": [], "to": [], "description": []})
        set_block = state.rule_sets.get(set_path)
        positions[set_path] = positions.get(set_path, 0) + 1
        set_disabled = set_block is not None and set_block.disabled
        rule = _nat_rule(state, resolver, pools, path, block, info, set_disabled, positions[set_path])
        if rule is not None:
            rules.append(rule)
    return rules, bindings


def _nat_rule(
    state: _State,
    resolver: _Resolver,
    pools: dict[tuple[str, str], _Pool],
    path: Path,
    block: _Block,
    info: dict[str, list[tuple[str, str]]],
    set_disabled: bool,
    sequence: int,
) -> NatRule | None:
    section, rule_set, rule_name = path[2], path[4], path[6]
    label = f"{rule_set}/{rule_name}"
    src_parts: list[AddressSet] = []
    dst_parts: list[AddressSet] = []
    protocols: list[int] = []
    sports: list[str] = []
    dports: list[str] = []
    apps: list[tuple[str, int]] = []
    then: list[tuple[Path, int]] = []
    description: str | None = None
    for rest, line in block.items:
        key = rest[0]
        if key == "description" and len(rest) >= 2:
            description = rest[1]
        elif key == "match" and len(rest) >= 3:
            cond, values = rest[1], rest[2:]
            try:
                if cond == "source-address":
                    src_parts.append(parse_address(values[0]))
                elif cond == "destination-address":
                    dst_parts.append(parse_address(values[0]))
                elif cond == "source-address-name":
                    src_parts.append(resolver.address(values[0], None, line))
                elif cond == "destination-address-name":
                    dst_parts.append(resolver.address(values[0], None, line))
                elif cond in ("destination-port", "source-port"):
                    text = f"{values[0]}-{values[2]}" if len(values) >= 3 and values[1] == "to" else values[0]
                    parse_ports(text)
                    (dports if cond == "destination-port" else sports).append(text)
                elif cond == "protocol":
                    protocols.append(protocol_number(values[0]))
                elif cond == "application":
                    apps.append((values[0], line))
                else:
                    state.diag("JUNOS-NAT-MATCH-UNSUPPORTED", f"NAT rule {label}: match {cond}", line)
            except ValueError as exc:
                state.diag("JUNOS-NAT-BAD-VALUE", f"NAT rule {label}: {exc}", line)
        elif key == "then" and len(rest) >= 2:
            then.append((rest[1:], line))
        else:
            state.diag("JUNOS-NAT-UNSUPPORTED", f"NAT rule {label}: {key} is not modelled", line)
    services: tuple[Service, ...]
    if apps:
        collected: list[Service] = []
        for app, line in apps:
            collected.extend(resolver.application(app, line))
        services = tuple(dict.fromkeys(collected))
    else:
        services = _services(
            protocols, _ports(sports) if sports else ANY_PORTS, _ports(dports) if dports else ANY_PORTS, None
        )
    match = Match(
        _union(src_parts) if src_parts else ANY_ADDRESS,
        _union(dst_parts) if dst_parts else ANY_ADDRESS,
        services,
    )
    ingress = tuple(v for k, v in info["from"] if k in ("zone", "interface"))
    egress = tuple(v for k, v in info["to"] if k in ("zone", "interface"))
    instances = [v for k, v in info["from"] if k == "routing-instance"]
    context = ",".join(instances) or None
    base: dict[str, Any] = {  # NatRule fields common to every outcome; each return adds its own
        "kind": NatKind.SOURCE,
        "match": match,
        "ingress": ingress,
        "egress": egress,
        "name": label,
        "section": section,
        "context": context,
        "enabled": not block.disabled and not set_disabled,
        "comment": description if description is not None else state.flat.annotations.get(block.path),
        "sequence": sequence,
        "source": _span(state, block),
    }
    first_line = block.first_line
    if not then:
        state.diag("JUNOS-NAT-NO-ACTION", f"NAT rule {label} has no 'then'", first_line)
        return None
    tail, line = then[0]
    extra = [t for t in then[1:] if t[0][:2] != tail[:2]]
    for ignored_tail, ignored_line in extra:
        if ignored_tail[0] != tail[0] or len(ignored_tail) < 2 or ignored_tail[1] not in _NAT_SUBOPTIONS:
            state.diag("JUNOS-NAT-THEN-UNSUPPORTED", f"NAT rule {label}: then {' '.join(ignored_tail)}", ignored_line)
    verb = tail[0]
    arg = tail[1] if len(tail) > 1 else ""
    if verb == "source-nat":
        if arg == "off":
            return _built(base, kind=NatKind.SOURCE, options=frozenset({"no-translate"}))
        if arg == "interface":
            return _built(base, kind=NatKind.PAT, translate_to_interface=_egress_interface(state, info))
        if arg == "pool":
            pool_name = _first_name(then, "source-nat", "pool")
            pool = pools.get(("source", pool_name or ""))
            if pool is None:
                state.diag("JUNOS-NAT-UNKNOWN-POOL", f"NAT rule {label}: source pool {pool_name!r} not defined", line)
                return _built(base, kind=NatKind.PAT, translated_src=unresolved(pool_name or "?"))
            kind = NatKind.DYNAMIC if pool.no_port_translation else NatKind.PAT
            return _built(base, kind=kind, translated_src=pool.addresses, translated_src_ports=pool.port)
    elif verb == "destination-nat":
        if arg == "off":
            return _built(base, kind=NatKind.DESTINATION, options=frozenset({"no-translate"}))
        if arg == "pool":
            pool_name = _first_name(then, "destination-nat", "pool")
            pool = pools.get(("destination", pool_name or ""))
            if pool is None:
                state.diag(
                    "JUNOS-NAT-UNKNOWN-POOL", f"NAT rule {label}: destination pool {pool_name!r} not defined", line
                )
                return _built(base, kind=NatKind.DESTINATION, translated_dst=unresolved(pool_name or "?"))
            options = frozenset({f"routing-instance:{pool.routing_instance}"}) if pool.routing_instance else frozenset()
            return _built(
                base,
                kind=NatKind.DESTINATION,
                translated_dst=pool.addresses,
                translated_dst_ports=pool.port,
                options=options,
            )
    elif verb == "static-nat" and arg in ("prefix", "prefix-name"):
        target: AddressSet | None = None
        mapped: PortSet | None = None
        options_set: set[str] = set()
        for item, item_line in then:
            if item[:2] != ("static-nat", arg) or len(item) < 3:
                continue
            values = item[2:]
            if values[0] == "routing-instance" and len(values) >= 2:
                options_set.add(f"routing-instance:{values[1]}")
            elif values[0] == "mapped-port" and len(values) >= 2:
                try:
                    text = f"{values[1]}-{values[3]}" if len(values) >= 4 and values[2] == "to" else values[1]
                    mapped = parse_ports(text)
                except ValueError as exc:
                    state.diag("JUNOS-NAT-BAD-VALUE", f"NAT rule {label}: {exc}", item_line)
            elif arg == "prefix-name":
                target = resolver.address(values[0], None, item_line)
            else:
                try:
                    target = parse_address(values[0])
                except ValueError:
                    state.diag("JUNOS-NAT-BAD-VALUE", f"NAT rule {label}: bad prefix {values[0]!r}", item_line)
        if target is None:
            state.diag("JUNOS-NAT-NO-ACTION", f"NAT rule {label}: static-nat without a prefix", line)
            return None
        return _built(
            base,
            kind=NatKind.STATIC,
            translated_dst=target,
            translated_dst_ports=mapped,
            bidirectional=True,
            options=frozenset(options_set),
        )
    state.diag("JUNOS-NAT-THEN-UNSUPPORTED", f"NAT rule {label}: then {' '.join(tail)}", line)
    return None


def _built(base: dict[str, Any], **changes: Any) -> NatRule:
    """The NAT rule `base` describes with `changes` applied: one construction, no copy per step."""
    return NatRule(**{**base, **changes})


_NAT_SUBOPTIONS = frozenset(
    {"pool", "prefix", "prefix-name", "interface", "persistent-nat", "rule-session-count-alarm", "off"}
)
_POOL_KEYWORDS = frozenset({"persistent-nat", "rule-session-count-alarm", "routing-instance", "mapped-port"})


def _first_name(then: list[tuple[Path, int]], verb: str, sub: str) -> str | None:
    for item, _line in then:
        if item[:2] == (verb, sub) and len(item) >= 3 and item[2] not in _POOL_KEYWORDS:
            return item[2]
    return None


def _egress_interface(state: _State, info: dict[str, list[tuple[str, str]]]) -> str:
    interfaces = [v for k, v in info["to"] if k == "interface"]
    for kind, zone in info["to"]:
        if kind == "zone":
            interfaces.extend(name for name, _line in state.zone_members.get(zone, []))
    unique = list(dict.fromkeys(interfaces))
    return unique[0] if len(unique) == 1 else "egress"


# ---------------------------------------------------------------------------------------------
# objects, interfaces, bindings
# ---------------------------------------------------------------------------------------------


def _objects(state: _State, resolver: _Resolver, pools: dict[tuple[str, str], _Pool]) -> list[ObjectDef]:
    out: list[ObjectDef] = []
    for book, entries in state.addresses.items():
        context = None if book == "global" else book
        for name, (_specs, line) in entries.items():
            value = resolver.checked_book_address(book, name, line)
            out.append(ObjectDef(name, "network", value, context=context, source=SourceRef(line, line)))
    for book, groups in state.address_sets.items():
        context = None if book == "global" else book
        for name, (members, line) in groups.items():
            value = resolver.checked_book_address(book, name, line)
            out.append(
                ObjectDef(
                    name,
                    "network-group",
                    value,
                    members=tuple(m for _k, m in members),
                    context=context,
                    source=SourceRef(line, line),
                )
            )
    for name, (_terms_map, line) in state.applications.items():
        services = resolver.checked_application(name, line) or ()
        out.append(ObjectDef(name, "service", services=services, source=SourceRef(line, line)))
    for name, (app_members, line) in state.application_sets.items():
        services = resolver.checked_application(name, line) or ()
        out.append(
            ObjectDef(
                name, "service-group", services=services, members=tuple(app_members), source=SourceRef(line, line)
            )
        )
    for (kind, name), pool in pools.items():
        line = state.pools[(kind, name)][1]
        out.append(ObjectDef(name, "pool", pool.addresses, context=f"{kind}-nat", source=SourceRef(line, line)))
    for name, (_prefixes, line) in state.prefix_lists.items():
        out.append(ObjectDef(name, "prefix-list", resolver.prefix_list(name, line), source=SourceRef(line, line)))
    return out


def _interfaces(state: _State) -> tuple[list[Interface], list[Binding]]:
    zone_of: dict[str, str] = {}
    bindings: list[Binding] = []
    for zone, members in state.zone_members.items():
        for name, line in members:
            zone_of.setdefault(name, zone)
            bindings.append(Binding(BindingKind.ZONE, zone, name, source=SourceRef(line, line)))
    out: list[Interface] = []
    for name, info in state.interfaces.items():
        addresses = AddressSet.empty()
        for text in info.addresses:
            try:
                addresses = addresses.union(parse_address(text.split("/")[0]))
            except ValueError:
                continue
        out.append(
            Interface(
                name=name,
                addresses=addresses,
                zone=zone_of.get(name),
                vrf=state.vrf_members.get(name),
                description=info.description,
                source=SourceRef(info.line, info.end),
            )
        )
    for name, zone in zone_of.items():
        if name not in state.interfaces:
            out.append(Interface(name=name, zone=zone, vrf=state.vrf_members.get(name)))
    for list_name, interface, direction, line in state.filter_bindings:
        bindings.append(
            Binding(
                BindingKind.FILTER,
                list_name,
                interface,
                direction,
                context=state.vrf_members.get(interface),
                source=SourceRef(line, line),
            )
        )
    return out, bindings


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------


@paused_gc
def parse(text: str) -> RuleSet:
    """Junos config text (curly or set form, or both mixed) -> RuleSet."""
    flat, lines = flatten(text)
    expand_groups(flat, _RELEVANT | {"services"})  # services: to report its rules
    state = _State(flat, lines)
    for line in flat.too_deep:
        state.diag("JUNOS-TOO-DEEP", f"block nested deeper than {MAX_DEPTH} levels: not read", line)
    for line, verb in flat.unsupported:
        if any(word in lines[line - 1] for word in ("security", "firewall", "interfaces", "applications")):
            state.diag("JUNOS-SET-VERB-UNSUPPORTED", f"'{verb}' commands are not applied", line)
    _collect(state)
    resolver = _Resolver(state)
    filters = _policies(state, resolver) + _default_policy(state) + _terms(state, resolver)
    pools = _pools(state)  # once: the NAT rules and the pool objects share it
    nats, nat_bindings = _nat(state, resolver, pools)
    interfaces, bindings = _interfaces(state)
    objects = _objects(state, resolver, pools)
    diagnostics = list(dict.fromkeys(state.diagnostics))
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(filters),
        nats=tuple(nats),
        bindings=tuple(bindings + nat_bindings),
        interfaces=tuple(interfaces),
        objects=tuple(objects),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.line, d.code))),
    )


_DETECT_SET = re.compile(
    r"^(?:set|deactivate) (?:security (?:nat|policies|zones|address-book)|firewall (?:family|filter)|"
    r"interfaces \S+ unit |applications application|policy-options |routing-instances |groups )",
    re.MULTILINE,
)
_DETECT_CURLY = re.compile(
    r"^(?:## Last commit:|version \d[\w.\-]*;|(?:security|firewall|applications|policy-options) \{|"
    r"\s+(?:replace: |inactive: )?(?:from-zone \S+ to-zone \S+|family inet6?|security-zone \S+|unit \d+) \{)",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """Junos: set commands under Junos-only hierarchies, or curly text with Junos-only statements."""
    sample = text[:200_000]
    if _DETECT_SET.search(sample):
        return True
    return bool(_DETECT_CURLY.search(sample)) and ";" in sample
