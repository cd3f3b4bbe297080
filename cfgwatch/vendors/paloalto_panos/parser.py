"""Palo Alto PAN-OS / Panorama: NAT and security rulebases, address/service objects and groups, zones.

Three input forms become one statement form `(scope, path, line)` before anything is interpreted:
set commands (`set rulebase nat rules R from trust`), brace text (`show config`, read by the Junos
flattener) and XML (`<entry name="R"><from><member>trust</member></from>`, read with lxml, entities
and network access off). An XML `<entry name=X>` and a `<member>X</member>` become the token X, so
all three forms yield the same paths.

Scope is the vsys (`vsys1` when a firewall's set form leaves it implicit), the Panorama device group,
or `shared`; objects resolve in their own scope first, then in `shared`. NAT rules carry the scope in
`context`; security rules are listed as "security" for vsys1 and "<scope>/security" elsewhere, with
Panorama pre/post rulebases as "<scope>/pre-security" and "<scope>/post-security".
Set-form semantics: list fields (from, source, translated-address ...) accumulate members; single
fields (action, NAT service, translated-port ...) keep the last value, as the PAN-OS CLI does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lxml import etree

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
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._junos_tree import MAX_DEPTH, flatten, parse_address, parse_ports
from cfgwatch.vendors._misc_common import union_all
from cfgwatch.vendors.paloalto_panos.appid import app_services

PLATFORM = "paloalto_panos"
DEFAULT_VSYS = "vsys1"
Path = tuple[str, ...]
RawStmt = tuple[Path, int]  # a leaf path from the config root and its line, before scoping

PREDEFINED_SERVICES: dict[str, tuple[Service, ...]] = {
    "service-http": (Service(6, ANY_PORTS, PortSet.of(80, 8080)),),
    "service-https": (Service(6, ANY_PORTS, PortSet.of(443)),),
}
# list fields kept as options
_OPTION_LIST_SET = frozenset({"application", "source-user", "category", "source-hip", "destination-hip"})
_ZONE_KINDS = frozenset({"layer3", "layer2", "virtual-wire", "tap", "tunnel"})
_RULEBASES = {"rulebase": "", "pre-rulebase": "pre-", "post-rulebase": "post-"}
_LIST_FIELDS = frozenset(
    {
        "from",
        "to",
        "source",
        "destination",
        "application",
        "source-user",
        "category",
        "source-hip",
        "destination-hip",
        "tag",
    }
)
_SECURITY_IGNORED = frozenset(
    {
        "log-setting",
        "log-start",
        "log-end",
        "profile-setting",
        "tag",
        "group-tag",
        "uuid",
        "option",
        "target",
        "qos",
        "icmp-unreachable",
        "description",
        "disabled",
        "action",
        "rule-type",
        "negate-source",
        "negate-destination",
        "log-settings",
        "hip-profiles",
        "source-imei",
        "source-imsi",
        "source-nw-slice",
        "audit-comment",
    }
)
_NAT_IGNORED = frozenset(
    {
        "tag",
        "group-tag",
        "uuid",
        "target",
        "active-active-device-binding",
        "description",
        "disabled",
        "nat-type",
        "to-interface",
        "audit-comment",
    }
)
_ACTIONS = {
    "allow": Action.PERMIT,
    "deny": Action.DENY,
    "drop": Action.DENY,
    "reset-client": Action.REJECT,
    "reset-server": Action.REJECT,
    "reset-both": Action.REJECT,
}


@dataclass(slots=True)
class _Fields:
    """A rule's settings: list fields accumulate members (first occurrence kept), single fields keep the last."""

    lists: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    single: dict[Path, tuple[str, int]] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)  # (list, member) already listed: no rescans


@dataclass(slots=True)
class _Rule:
    """One rule's statements, grouped as they are collected (first/last line give the span of set forms)."""

    scope: str
    rulebase: str  # security | nat | default-security-rules
    section: str  # "", "pre-", "post-"
    name: str
    raw_key: Path
    first_line: int
    last_line: int
    fields: _Fields = field(default_factory=_Fields)


@dataclass(slots=True)
class _State:
    lines: list[str]
    spans: dict[Path, tuple[int, int]]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    addresses: dict[tuple[str, str], tuple[list[Path], int]] = field(default_factory=dict)
    address_groups: dict[tuple[str, str], tuple[list[Path], int]] = field(default_factory=dict)
    services: dict[tuple[str, str], tuple[list[Path], int]] = field(default_factory=dict)
    service_groups: dict[tuple[str, str], tuple[list[str], int]] = field(default_factory=dict)
    edls: dict[tuple[str, str], int] = field(default_factory=dict)
    app_groups: dict[tuple[str, str], tuple[list[str], int]] = field(default_factory=dict)
    custom_apps: dict[tuple[str, str], tuple[list[Path], int]] = field(default_factory=dict)
    zones: list[tuple[str, str, str, int]] = field(default_factory=list)  # scope, zone, interface, line
    interfaces: dict[str, tuple[list[str], int, int]] = field(default_factory=dict)
    vrfs: dict[str, str] = field(default_factory=dict)
    rules: dict[tuple[str, str, str, str], _Rule] = field(default_factory=dict)

    def diag(self, code: str, message: str, line: int) -> None:
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.diagnostics.append(Diagnostic(code, message, line, text[:300]))


# ---------------------------------------------------------------------------------------------
# forms -> statements
# ---------------------------------------------------------------------------------------------


class _XmlFrame:
    """One open element of the XML walk: its path, first line, last line so far, whether it has children."""

    __slots__ = ("has_children", "here", "last", "line")

    def __init__(self, element: etree._Element, here: Path) -> None:
        self.here = here
        self.line: int = element.sourceline or 1
        self.last = self.line
        self.has_children = False


def _xml_statements(text: str) -> tuple[list[tuple[Path, int]], dict[Path, tuple[int, int]], str | None]:
    """XML config -> (raw path, line) leaves and element spans; error text when the XML is unreadable."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        return [], {}, str(exc)
    out: list[tuple[Path, int]] = []
    spans: dict[Path, tuple[int, int]] = {}

    def token(element: etree._Element) -> str:
        tag = element.tag
        if tag == "entry":
            name = element.get("name")
            return tag if name is None else name
        if tag == "member":
            return (element.text or "").strip()
        return tag

    # iterwalk, not recursion: XML nested 1,000 deep is valid XML and must not be a RecursionError. Leaves
    # come out in document order; an element's span is known at its end event, when its last child is done.
    if isinstance(root.tag, str):
        stack: list[_XmlFrame] = []
        for event, element in etree.iterwalk(root, events=("start", "end"), tag=etree.Element):
            if event == "start":
                if stack:
                    parent = stack[-1]
                    parent.has_children = True
                    stack.append(_XmlFrame(element, (*parent.here, token(element))))
                else:
                    stack.append(_XmlFrame(element, (token(element),)))
                continue
            frame = stack.pop()
            if frame.has_children:
                spans[frame.here] = (frame.line, frame.last)
            else:
                value = (element.text or "").strip()
                out.append(((*frame.here, value) if value and element.tag != "member" else frame.here, frame.line))
            if stack and frame.last > stack[-1].last:
                stack[-1].last = frame.last
    return out, spans, None


# First tokens _normalise treats specially; a path starting with anything else is vsys1's, unchanged.
_SCOPE_HEADS = frozenset(
    {
        "config",
        "devices",
        "vsys",
        "device-group",
        "shared",
        "network",
        "mgt-config",
        "deviceconfig",
        "policy",
        "readonly",
        "template",
        "template-stack",
    }
)


def _normalise(raw: Path) -> tuple[str, Path, Path] | None:
    """Raw path -> (scope, path inside the scope, stripped prefix); device-level paths get scope ''."""
    size = len(raw)
    index = 1 if size and raw[0] == "config" else 0
    if size > index + 2 and raw[index] == "devices":
        index += 2
    head = raw[index] if size > index else ""
    if head in ("vsys", "device-group") and len(raw) > index + 2:
        return raw[index + 1], raw[index + 2 :], raw[: index + 2]
    if head == "shared":
        return "shared", raw[index + 1 :], raw[: index + 1]
    if head == "network":
        return "", raw[index:], raw[:index]
    if head in ("mgt-config", "deviceconfig", "policy", "readonly", "template", "template-stack"):
        return None
    return DEFAULT_VSYS, raw[index:], raw[:index]


def _statements(
    text: str, state_lines: list[str]
) -> tuple[Sequence[RawStmt], dict[Path, tuple[int, int]], str | None, list[tuple[int, str]]]:
    """Any form -> raw (path, line) leaves in file order, element/brace spans, XML error text, and the
    (line, verb) of set-form commands not applied."""
    first = next((char for char in text if not char.isspace()), "")  # no lstrip copy of a big config
    if first == "<":
        return (*_xml_statements(text), [])
    flat, _ = flatten(text, state_lines)
    if flat.too_deep:
        error = f"braces nested deeper than {MAX_DEPTH} levels at line {flat.too_deep[0]}"
        return flat.statements, flat.spans, error, flat.unsupported
    return flat.statements, flat.spans, None, flat.unsupported  # Stmt is a (path, line) tuple


# ---------------------------------------------------------------------------------------------
# collect
# ---------------------------------------------------------------------------------------------


def _collect(state: _State, statements: Iterable[RawStmt]) -> None:
    """One pass: scope each raw statement and file it under its object, zone, interface or rule."""
    for raw, line in statements:
        if not raw:
            continue
        if raw[0] in _SCOPE_HEADS:
            normal = _normalise(raw)
            if normal is None:
                continue
            scope, path, raw_prefix = normal
        else:  # the common firewall set line: vsys1, nothing to strip
            scope, path, raw_prefix = DEFAULT_VSYS, raw, ()
        if len(path) < 2:
            continue
        head = path[0]
        if head in _RULEBASES:  # never a device-level ('' scope) path: those start with "network"
            if len(path) >= 4 and path[2] == "rules":
                _collect_rule(state, scope, path, line, raw_prefix)
        elif scope == "":
            _collect_network(state, path, line)
        elif head == "address" and len(path) >= 3:
            state.addresses.setdefault((scope, path[1]), ([], line))[0].append(path[2:])
        elif head == "address-group" and len(path) >= 3:
            state.address_groups.setdefault((scope, path[1]), ([], line))[0].append(path[2:])
        elif head == "service" and len(path) >= 3:
            state.services.setdefault((scope, path[1]), ([], line))[0].append(path[2:])
        elif head == "service-group" and len(path) >= 4 and path[2] == "members":
            state.service_groups.setdefault((scope, path[1]), ([], line))[0].append(path[3])
        elif head == "application-group" and len(path) >= 4 and path[2] == "members":
            state.app_groups.setdefault((scope, path[1]), ([], line))[0].append(path[3])
        elif head == "application" and len(path) >= 3:
            state.custom_apps.setdefault((scope, path[1]), ([], line))[0].append(path[2:])
        elif head == "external-list":
            state.edls.setdefault((scope, path[1]), line)
        elif head == "zone" and len(path) >= 5 and path[2] == "network" and path[3] in _ZONE_KINDS:
            state.zones.append((scope, path[1], path[4], line))


def _collect_rule(state: _State, scope: str, path: Path, line: int, raw_prefix: Path) -> None:
    """One `<rulebase> <security|nat|...> rules NAME ...` statement into its rule."""
    rulebase = path[1]
    if rulebase not in ("security", "nat", "default-security-rules"):
        return  # decryption, qos, pbf, application-override ...: not NAT/ACL
    section, name = _RULEBASES[path[0]], path[3]
    key = (scope, section, rulebase, name)
    rule = state.rules.get(key)
    if rule is None:
        rule = state.rules[key] = _Rule(scope, rulebase, section, name, raw_prefix + path[:4], line, line)
    elif line < rule.first_line:
        rule.first_line = line
    elif line > rule.last_line:
        rule.last_line = line
    if len(path) > 6:  # more than one `key value`: a nested setting, or several settings on one CLI line
        for rest in _settings(path[4:]):
            _add_item(rule, rest, line)
    elif len(path) > 4:
        _add_item(rule, path[4:], line)


_TRANSLATIONS = frozenset({"source-translation", "destination-translation", "dynamic-destination-translation"})
# every setting a security or NAT rule has directly under `rules NAME`
_RULE_KEYS = _LIST_FIELDS | _SECURITY_IGNORED | _NAT_IGNORED | _TRANSLATIONS | {"service", "schedule"}
# leaves inside the translation containers (one value each); other words there open a container
_TRANSLATION_LEAVES = frozenset(
    {"translated-address", "translated-port", "distribution", "direction", "interface", "ip", "floating-ip",
     "bi-directional"}
)  # fmt: skip


def _settings(rest: Path) -> list[Path]:
    """Split one rule line into its settings.

    The PAN-OS CLI takes several sibling settings in one command (`set rulebase security rules R from
    trust to untrust source any ... action allow`, `destination-translation translated-address A
    translated-port P`); `show config running format set` prints one leaf per line. Each setting is
    cut at the next rule-level keyword (a value is never taken as one); inside a translation container
    a leaf takes one value and stays in the innermost container opened before it.
    """
    if rest[0] not in _RULE_KEYS:
        return [rest]
    out: list[Path] = []
    index, size = 0, len(rest)
    while index < size:
        key = rest[index]
        end = index + 2
        while end < size and rest[end] not in _RULE_KEYS:
            end += 1
        values = rest[index + 1 : end]
        if key in _TRANSLATIONS and len(values) > 1:
            out.extend((key, *leaf) for leaf in _translation_leaves(values))
        else:
            out.append((key, *values))
        index = end
    return out


def _translation_leaves(values: Path) -> list[Path]:
    leaves: list[Path] = []
    prefix: Path = ()
    index = 0
    while index < len(values):
        word = values[index]
        if word in _TRANSLATION_LEAVES and index + 1 < len(values):
            leaves.append((*prefix, word, values[index + 1]))
            index += 2
        else:
            prefix = (*prefix, word)
            index += 1
    if not leaves or prefix != leaves[-1][: len(prefix)]:
        leaves.append(prefix)  # containers left without a leaf (or trailing words): kept as written
    return leaves


def _collect_network(state: _State, path: Path, line: int) -> None:
    if len(path) >= 5 and path[1] == "virtual-router" and path[3] == "interface":
        state.vrfs[path[4]] = path[2]
        return
    if len(path) < 4 or path[1] != "interface":
        return
    tokens = path[3:]
    if tokens[0] == "units" and len(tokens) >= 2:
        name, rest = tokens[1], tokens[2:]
    else:
        name, rest = tokens[0], tokens[1:]
    if rest[:2] == ("layer3", "units") and len(rest) >= 3:
        name, rest = rest[2], rest[3:]
    elif rest[:1] == ("layer3",):
        rest = rest[1:]
    entry = state.interfaces.get(name)
    if entry is None:
        entry = state.interfaces[name] = ([], line, line)
    state.interfaces[name] = (entry[0], entry[1], max(entry[2], line))
    if len(rest) >= 2 and rest[0] == "ip":
        entry[0].append(rest[1])
    elif len(rest) >= 3 and rest[:2] == ("ipv6", "address"):
        entry[0].append(rest[2])


# ---------------------------------------------------------------------------------------------
# resolve
# ---------------------------------------------------------------------------------------------


# Groups nest far less deeply on any real device; a chain deeper than this is hostile input, and walking
# it recursively would end in RecursionError (one bad config must not stop the audit of the others).
MAX_GROUP_DEPTH = 64


def _opaque(kind: str, name: str) -> AddressSet:
    return AddressSet(fqdns=frozenset({f"{kind}:{name}"}), names=(name,))


def _literal(text: str) -> AddressSet | None:
    try:
        return parse_address(text)
    except ValueError:
        return None


_FILTER_TOKEN = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|(\()|(\))|([^\s()'"]+))""")


def _tag_filter(text: str) -> Callable[[frozenset[str]], bool] | None:
    """A dynamic address group's match filter (`'web' and ('dmz' or 'ext')`) as a test on a tag set.

    PAN-OS filters are tags (quoted when they hold spaces) joined by `and` / `or` with parentheses;
    `and` binds tighter. None when the text is not such an expression.
    """
    tokens: list[tuple[str, str]] = []  # (kind, text): kind tag / ( / ) / and / or
    position = 0
    text = text.strip()
    while position < len(text):
        found = _FILTER_TOKEN.match(text, position)
        if found is None or found.end() == position:
            return None
        position = found.end()
        quoted = found.group(1) if found.group(1) is not None else found.group(2)
        word = found.group(5)
        if quoted is not None:
            tokens.append(("tag", quoted))
        elif found.group(3):
            tokens.append(("(", "("))
        elif found.group(4):
            tokens.append((")", ")"))
        elif word is not None and word.lower() in ("and", "or"):
            tokens.append((word.lower(), word))
        elif word is not None:
            tokens.append(("tag", word))
    Test = Callable[[frozenset[str]], bool]
    index = 0

    def chain(
        operator: str, operand: Callable[[], Test | None], combine: Callable[[Iterable[bool]], bool]
    ) -> Test | None:
        """Operands joined by one operator (`or` of conjunctions, `and` of factors)."""
        nonlocal index
        parts = [operand()]
        while index < len(tokens) and tokens[index][0] == operator:
            index += 1
            parts.append(operand())
        tests = [part for part in parts if part is not None]
        if len(tests) != len(parts):
            return None
        return tests[0] if len(tests) == 1 else lambda tags: combine(test(tags) for test in tests)

    def expression() -> Test | None:
        return chain("or", lambda: chain("and", factor, all), any)

    def factor() -> Test | None:
        nonlocal index
        if index >= len(tokens):
            return None
        kind, value = tokens[index]
        index += 1
        if kind == "tag":
            return lambda tags: value in tags
        if kind == "(":
            inner = expression()
            if inner is None or index >= len(tokens) or tokens[index][0] != ")":
                return None
            index += 1
            return inner
        return None

    result = expression() if tokens else None
    return result if index == len(tokens) else None


def _nesting_problem(kind: str, name: str, seen: tuple[str, ...]) -> tuple[str, str] | None:
    """(code, message) when entering group `name` would loop or nest past MAX_GROUP_DEPTH, else None."""
    if name in seen:
        chain = " -> ".join((*seen[seen.index(name) :], name))
        return "PANOS-GROUP-CYCLE", f"{kind} {name} contains itself ({chain}): resolved as unknown"
    if len(seen) >= MAX_GROUP_DEPTH:
        return (
            "PANOS-GROUP-TOO-DEEP",
            f"{kind} {name} is nested deeper than {MAX_GROUP_DEPTH} groups: resolved as unknown",
        )
    return None


class _Resolver:
    """Names -> addresses/services in a scope, each distinct name resolved once.

    Resolution is deterministic and only adds diagnostics, so a result that added none is cached by
    (name, scope) and shared by every rule naming it; a result that did add some (an unknown name,
    reported at the referencing line) is recomputed each time, exactly as without the cache.
    """

    def __init__(self, state: _State) -> None:
        self.state = state
        self._addresses: dict[tuple[str, str], AddressSet] = {}
        self._services: dict[tuple[str, str], tuple[Service, ...]] = {}
        self._objects: dict[tuple[str, str], AddressSet] = {}
        # names each table defines in any scope (tables are complete before resolving starts): most look-ups
        # are of literals or of names in another table, answered by one set test instead of three probes
        self._names: dict[int, set[str]] = {}

    def _lookup(self, table: Mapping[tuple[str, str], object], scope: str, name: str) -> str | None:
        names = self._names.get(id(table))
        if names is None:
            names = self._names[id(table)] = {key[1] for key in table}
        if name not in names:
            return None
        for candidate in (scope, "shared", DEFAULT_VSYS):
            if (candidate, name) in table:
                return candidate
        return None

    def address(self, name: str, scope: str, line: int, seen: tuple[str, ...] = ()) -> AddressSet:
        if name == "any":
            return ANY_ADDRESS
        if seen:  # inside a group walk: the result depends on the groups already entered
            return self._resolve_address(name, scope, line, seen)
        cached = self._addresses.get((name, scope))
        if cached is not None:
            return cached
        before = len(self.state.diagnostics)
        result = self._resolve_address(name, scope, line, seen)
        if len(self.state.diagnostics) == before:
            self._addresses[(name, scope)] = result
        return result

    def _resolve_address(self, name: str, scope: str, line: int, seen: tuple[str, ...]) -> AddressSet:
        found = self._lookup(self.state.addresses, scope, name)
        if found is not None:
            return self._address_object(found, name).named(name)
        found = self._lookup(self.state.address_groups, scope, name)
        if found is not None:
            problem = _nesting_problem("address-group", name, seen)
            if problem is None:
                return self._group(found, name, line, (*seen, name)).named(name)
            self.state.diag(*problem, line)
            return _opaque("unresolved", name)
        literal = _literal(name)
        if literal is not None:
            return literal
        if self._lookup(self.state.edls, scope, name) is not None or name.startswith("panw-"):
            return _opaque("edl", name)
        if re.fullmatch(r"[A-Z]{2}", name):
            return _opaque("region", name)
        self.state.diag("PANOS-UNKNOWN-ADDRESS", f"address '{name}' is not defined in {scope} or shared", line)
        return _opaque("unresolved", name)

    def _address_object(self, scope: str, name: str) -> AddressSet:
        """An address object's value, computed once (its diagnostics name the object's own line)."""
        cached = self._objects.get((scope, name))
        if cached is None:
            cached = self._objects[(scope, name)] = self._compute_address_object(scope, name)
        return cached

    def _compute_address_object(self, scope: str, name: str) -> AddressSet:
        specs, line = self.state.addresses[(scope, name)]
        parts: list[AddressSet] = []
        for spec in specs:
            if len(spec) < 2:
                continue
            kind, value = spec[0], spec[1]
            try:
                if kind in ("ip-netmask", "ip-range"):
                    parts.append(parse_address(value))
                elif kind == "fqdn":
                    parts.append(AddressSet.fqdn(value))
                elif kind == "ip-wildcard":
                    address, _, mask = value.partition("/")
                    parts.append(AddressSet.from_mask(address, mask, wildcard=True))
            except ValueError:
                self.state.diag("PANOS-BAD-ADDRESS", f"address {name}: bad {kind} {value!r}", line)
        return union_all(parts)  # the value itself for the usual one-spec object

    def _group(self, scope: str, name: str, line: int, seen: tuple[str, ...]) -> AddressSet:
        specs, group_line = self.state.address_groups[(scope, name)]
        parts: list[AddressSet] = []
        for spec in specs:
            if spec[0] == "static" and len(spec) >= 2:
                parts.append(self.address(spec[1], scope, group_line, seen))
            elif spec[0] == "dynamic":
                matches = _tag_filter(spec[2]) if len(spec) >= 3 and spec[1] == "filter" else None
                if matches is None:
                    self.state.diag(
                        "PANOS-DYNAMIC-GROUP",
                        f"address-group {name}: dynamic filter not understood: members kept by name",
                        group_line,
                    )
                else:
                    for member in self._tagged(scope, matches):
                        parts.append(self.address(member, scope, group_line, seen))
                    self.state.diag(
                        "PANOS-DYNAMIC-GROUP",
                        f"address-group {name}: tagged address objects resolved; addresses registered at run time"
                        " are kept by name",
                        group_line,
                    )
                parts.append(_opaque("dynamic-group", name))
        return union_all(parts)  # one merge for big groups

    def _tagged(self, scope: str, matches: Callable[[frozenset[str]], bool]) -> list[str]:
        """Address objects visible in `scope` (its own, then shared) whose tags satisfy a dynamic filter."""
        found: dict[str, None] = {}
        for (owner, name), (specs, _line) in self.state.addresses.items():
            if owner in (scope, "shared") and matches(frozenset(spec[1] for spec in specs if spec[0] == "tag")):
                found[name] = None
        return sorted(found)

    def service(self, name: str, scope: str, line: int, seen: tuple[str, ...] = ()) -> tuple[Service, ...]:
        """The services a name stands for, without duplicates (empty for an empty group)."""
        if name in ("any", "application-default"):
            return (ANY_SERVICE,)
        if seen:  # inside a group walk: the result depends on the groups already entered
            return self._resolve_service(name, scope, line, seen)
        cached = self._services.get((name, scope))
        if cached is not None:
            return cached
        before = len(self.state.diagnostics)
        result = self._resolve_service(name, scope, line, seen)
        if len(self.state.diagnostics) == before:
            self._services[(name, scope)] = result
        return result

    def _resolve_service(self, name: str, scope: str, line: int, seen: tuple[str, ...]) -> tuple[Service, ...]:
        found = self._lookup(self.state.services, scope, name)
        if found is not None:
            return tuple(s.named(name) for s in self._service_object(found, name))
        found = self._lookup(self.state.service_groups, scope, name)
        problem = _nesting_problem("service-group", name, seen) if found is not None else None
        if problem is not None:
            self.state.diag(*problem, line)
            return (ANY_SERVICE.named(name),)
        if found is not None:
            out: list[Service] = []
            for member in self.state.service_groups[(found, name)][0]:
                out.extend(self.service(member, found, line, (*seen, name)))
            return tuple(dict.fromkeys(s.named(name) for s in out))
        if name in PREDEFINED_SERVICES:
            return tuple(s.named(name) for s in PREDEFINED_SERVICES[name])
        self.state.diag("PANOS-UNKNOWN-SERVICE", f"service '{name}' is not defined in {scope} or shared", line)
        return (ANY_SERVICE.named(name),)

    def _service_object(self, scope: str, name: str) -> tuple[Service, ...]:
        specs, line = self.state.services[(scope, name)]
        protocol: int | None = None
        dst, src = ANY_PORTS, ANY_PORTS
        for spec in specs:
            if spec[0] != "protocol" or len(spec) < 2:
                continue
            try:
                protocol = protocol_number(spec[1])
                if len(spec) >= 4 and spec[2] == "port":
                    dst = parse_ports(spec[3])
                elif len(spec) >= 4 and spec[2] == "source-port":
                    src = parse_ports(spec[3])
            except ValueError as exc:
                self.state.diag("PANOS-BAD-SERVICE", f"service {name}: {exc}", line)
        if protocol is None:
            return (ANY_SERVICE,)
        return (Service(protocol, src, dst),)


# ---------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------


def _add_item(rule: _Rule, rest: Path, line: int) -> None:
    """One setting of a rule (the path after `rules NAME`) into its list or single fields."""
    fields = rule.fields
    key = rest[0]
    if len(rest) >= 2:
        if key in _LIST_FIELDS:
            _add_member(fields, key, rest[1], line)
            return
        if key == "source-translation" and len(rest) >= 4 and rest[2] == "translated-address":
            _add_member(fields, f"{key} {rest[1]}", rest[3], line)
            return
        if key == "service" and rule.rulebase == "security":
            _add_member(fields, key, rest[1], line)
            return
        fields.single[rest[:-1]] = (rest[-1], line)
    else:
        fields.single[rest] = ("", line)


def _add_member(fields: _Fields, list_key: str, value: str, line: int) -> None:
    member = (list_key, value)
    if member in fields.seen:
        return
    fields.seen.add(member)
    values = fields.lists.get(list_key)
    if values is None:
        fields.lists[list_key] = [(value, line)]
    else:
        values.append((value, line))


def _span(state: _State, rule: _Rule) -> SourceRef:
    span = state.spans.get(rule.raw_key)
    if span is not None:
        return SourceRef(span[0], span[1])
    return SourceRef(rule.first_line, rule.last_line)


def _union(sets: Iterable[AddressSet]) -> AddressSet:
    return union_all(list(sets))


def _addresses(resolver: _Resolver, values: list[tuple[str, int]] | None, scope: str) -> AddressSet:
    if not values:
        return ANY_ADDRESS
    if len(values) == 1:  # the usual rule: one member, nothing to merge
        value, line = values[0]
        return ANY_ADDRESS if value == "any" else resolver.address(value, scope, line)
    if any(value == "any" for value, _line in values):
        return ANY_ADDRESS
    return _union(resolver.address(value, scope, line) for value, line in values)


def _zones(values: list[tuple[str, int]] | None) -> tuple[str, ...]:
    if not values:
        return ()
    return tuple(value for value, _line in values)


def _rule_services(resolver: _Resolver, values: list[tuple[str, int]], scope: str) -> tuple[Service, ...]:
    """A security rule's services: members resolved and de-duplicated in order, any when none are listed."""
    if len(values) == 1:  # resolver.service already returns a duplicate-free tuple
        name, line = values[0]
        return resolver.service(name, scope, line) or (ANY_SERVICE,)  # an empty group: any, as below
    services: list[Service] = []
    for name, line in values:
        services.extend(resolver.service(name, scope, line))
    return tuple(dict.fromkeys(services)) or (ANY_SERVICE,)


def _security(state: _State, resolver: _Resolver, rule: _Rule, fields: _Fields) -> FilterRule:
    scope = rule.scope
    prefix = "" if scope == DEFAULT_VSYS else f"{scope}/"
    base = "default-security" if rule.rulebase == "default-security-rules" else "security"
    list_name = f"{prefix}{rule.section}{base}"
    options: set[str] = set()
    src = _addresses(resolver, fields.lists.get("source"), scope)
    dst = _addresses(resolver, fields.lists.get("destination"), scope)
    if fields.single.get(("negate-source",), ("no", 0))[0] == "yes":
        src = ANY_ADDRESS.difference(src).named(*(f"!{n}" for n in src.names))
    if fields.single.get(("negate-destination",), ("no", 0))[0] == "yes":
        dst = ANY_ADDRESS.difference(dst).named(*(f"!{n}" for n in dst.names))
    service_values = fields.lists.get("service")
    services = _rule_services(resolver, service_values, scope) if service_values else (ANY_SERVICE,)
    app_default = ("service", "application-default") in fields.seen
    if app_default:
        options.add("application-default")
    for key, values in fields.lists.items():  # a rule has a few lists: test each, not every option list
        if key in _OPTION_LIST_SET:
            for value, _line in values:
                if value != "any":
                    options.add(f"{key}:{value}")
    rule_type = fields.single.get(("rule-type",))
    if rule_type is not None and rule_type[0] != "universal":
        options.add(f"rule-type:{rule_type[0]}")
    schedule = fields.single.get(("schedule",))
    if schedule is not None:
        options.add(f"schedule:{schedule[0]}")
    if fields.single.get(("log-start",), ("no", 0))[0] == "yes":
        options.add("log")
    action_text, action_line = fields.single.get(("action",), ("", rule.first_line))
    action = _ACTIONS.get(action_text)
    if action is None:
        if rule.rulebase != "default-security-rules" or action_text:
            state.diag("PANOS-RULE-NO-ACTION", f"security rule {rule.name}: action {action_text!r}", action_line)
        action = Action.DENY
    for single_key, (_value, line) in fields.single.items():
        if single_key[0] not in _SECURITY_IGNORED and single_key[0] not in ("schedule", "service"):
            where = " ".join(single_key)
            state.diag("PANOS-RULE-UNSUPPORTED", f"security rule {rule.name}: {where} is not modelled", line)
    applications = fields.lists.get("application")
    if applications and all(value != "any" for value, _line in applications):
        services = _application_services(state, resolver, rule, applications, services, app_default, action)
    description = fields.single.get(("description",))
    any_zone = ("any",) if rule.rulebase == "default-security-rules" else ()
    return FilterRule(
        list_name=list_name,
        action=action,
        match=Match(src, dst, services),
        name=rule.name,
        from_zones=_zones(fields.lists.get("from")) or any_zone,
        to_zones=_zones(fields.lists.get("to")) or any_zone,
        enabled=fields.single.get(("disabled",), ("no", 0))[0] != "yes",
        options=frozenset(options),
        comment=description[0] if description else None,
        source=_span(state, rule),
    )


def _application_services(
    state: _State,
    resolver: _Resolver,
    rule: _Rule,
    applications: list[tuple[str, int]],
    services: tuple[Service, ...],
    app_default: bool,
    action: Action,
) -> tuple[Service, ...]:
    """The services a rule that selects by application matches (PAN-OS: application AND service).

    `application-default`: the applications' default protocols/ports (App-ID table, custom applications'
    `default port`); `any`: their protocols on every port; explicit services: those services restricted to
    the applications' protocols. An application with no known defaults is a diagnostic and judged
    conservatively, so that no newly permitted traffic is missed: in an allow rule it counts as any
    protocol and port (the rule is as broad as its services allow), in a deny/drop rule it matches
    nothing (the rule never hides a later allow rule).
    """
    known: list[Service] = []
    unknown: list[str] = []
    for name, line in applications:
        _app_defaults(state, resolver, rule.scope, name, line, known, unknown, ())
    if unknown:
        judged = "any protocol and port" if action.allows else "matching nothing"
        names = ", ".join(dict.fromkeys(unknown))
        line = applications[0][1]
        state.diag(
            "PANOS-UNKNOWN-APPLICATION",
            f"security rule {rule.name}: application {names} has no known default protocol/ports; "
            f"judged conservatively as {judged} for this {'allow' if action.allows else 'deny'} rule",
            line,
        )
        if action.allows:
            return services
    if app_default:
        return tuple(dict.fromkeys(known))
    result: list[Service] = []
    for app in known:
        for service in services:
            if service.protocol is None:
                ports = app.protocol in (6, 17, 132)
                result.append(app if not ports else Service(app.protocol, names=app.names))
            elif service.protocol == app.protocol:
                result.append(service)
    return tuple(dict.fromkeys(result))


def _app_defaults(
    state: _State,
    resolver: _Resolver,
    scope: str,
    name: str,
    line: int,
    known: list[Service],
    unknown: list[str],
    seen: tuple[str, ...],
) -> None:
    """Expand one application name (group, custom application, App-ID table) into `known`/`unknown`."""
    group = resolver._lookup(state.app_groups, scope, name)
    if group is not None and name not in seen:
        for member in state.app_groups[(group, name)][0]:
            _app_defaults(state, resolver, group, member, line, known, unknown, (*seen, name))
        return
    custom = resolver._lookup(state.custom_apps, scope, name)
    if custom is not None:
        found = _custom_app(state.custom_apps[(custom, name)][0], name)
        if found:
            known.extend(found)
            return
    table = app_services(name)
    if table is None:
        unknown.append(name)
    else:
        known.extend(table)


def _custom_app(specs: list[Path], name: str) -> list[Service]:
    """A custom application's `default port tcp/80,8080` / `default ident-by-ip-protocol 47` statements."""
    out: list[Service] = []
    icmp: dict[int, dict[str, int]] = {}  # protocol -> type/code of `ident-by-icmp[6]-type`
    for spec in specs:
        if len(spec) >= 3 and spec[:2] == ("default", "port"):
            proto, _, ports = spec[2].partition("/")
            try:
                out.append(Service(protocol_number(proto), dst_ports=parse_ports(ports), names=(name,)))
            except ValueError:
                continue
        elif len(spec) >= 3 and spec[:2] == ("default", "ident-by-ip-protocol") and spec[2].isdigit():
            out.append(Service(int(spec[2]), names=(name,)))
        elif len(spec) >= 3 and spec[:2] in (("default", "ident-by-icmp-type"), ("default", "ident-by-icmp6-type")):
            fields = icmp.setdefault(58 if spec[1] == "ident-by-icmp6-type" else 1, {})
            if len(spec) >= 4 and spec[2] in ("type", "code") and spec[3].isdigit():
                fields[spec[2]] = int(spec[3])
    for protocol, fields in icmp.items():
        out.append(Service(protocol, icmp_type=fields.get("type"), icmp_code=fields.get("code"), names=(name,)))
    return out


def _nat(state: _State, resolver: _Resolver, rule: _Rule, fields: _Fields, sequence: int) -> NatRule:
    scope = rule.scope
    src = _addresses(resolver, fields.lists.get("source"), scope)
    dst = _addresses(resolver, fields.lists.get("destination"), scope)
    service_name = fields.single.get(("service",))
    services = resolver.service(service_name[0], scope, service_name[1]) if service_name else (ANY_SERVICE,)
    options: set[str] = set()
    kind: NatKind | None = None
    translated_src: AddressSet | None = None
    translate_if: str | None = None
    bidirectional = False
    for flavour, nat_kind in (
        ("dynamic-ip-and-port", NatKind.PAT),
        ("dynamic-ip", NatKind.DYNAMIC),
        ("static-ip", NatKind.STATIC),
    ):
        values = fields.lists.get(f"source-translation {flavour}")
        if values:
            kind = nat_kind
            translated_src = _union(resolver.address(value, scope, line) for value, line in values)
    static_single = fields.single.get(("source-translation", "static-ip", "translated-address"))
    if static_single is not None:
        kind, translated_src = NatKind.STATIC, resolver.address(static_single[0], scope, static_single[1])
    if fields.single.get(("source-translation", "static-ip", "bi-directional"), ("no", 0))[0] == "yes":
        bidirectional = True
    interface = fields.single.get(("source-translation", "dynamic-ip-and-port", "interface-address", "interface"))
    if interface is not None:
        kind, translate_if = NatKind.PAT, interface[0]
        address = fields.single.get(("source-translation", "dynamic-ip-and-port", "interface-address", "ip"))
        if address is not None:
            # `ip` picks one of the interface's addresses, written with its mask (203.0.113.2/24): the
            # source becomes that address, not its subnet
            text = address[0].split("/", 1)[0] if _literal(address[0]) is not None else address[0]
            translated_src = resolver.address(text, scope, address[1])
    translated_dst: AddressSet | None = None
    translated_port: PortSet | None = None
    for head in ("destination-translation", "dynamic-destination-translation"):
        target = fields.single.get((head, "translated-address"))
        if target is not None:
            translated_dst = resolver.address(target[0], scope, target[1])
            if head == "dynamic-destination-translation":
                options.add("dynamic-destination")
        port = fields.single.get((head, "translated-port"))
        if port is not None:
            try:
                translated_port = parse_ports(port[0])
            except ValueError:
                state.diag("PANOS-NAT-BAD-PORT", f"NAT rule {rule.name}: bad port {port[0]!r}", port[1])
    for key, (value, line) in fields.single.items():
        if key[0] in ("source-translation", "destination-translation", "dynamic-destination-translation"):
            if key[-1] in ("translated-address", "translated-port", "interface", "ip", "bi-directional"):
                continue
            if key[-1] in ("dns-rewrite", "direction", "distribution", "fallback", "floating-ip"):
                options.add(f"{key[-1]}:{value}" if value else key[-1])
                continue
            state.diag("PANOS-NAT-UNSUPPORTED", f"NAT rule {rule.name}: {' '.join(key)} is not modelled", line)
        elif key[0] not in _NAT_IGNORED and key[0] != "service":
            state.diag("PANOS-NAT-UNSUPPORTED", f"NAT rule {rule.name}: {' '.join(key)} is not modelled", line)
    nat_type = fields.single.get(("nat-type",))
    if nat_type is not None and nat_type[0] != "ipv4":
        options.add(f"nat-type:{nat_type[0]}")
    to_interface = fields.single.get(("to-interface",))
    if to_interface is not None and to_interface[0] != "any":
        options.add(f"to-interface:{to_interface[0]}")
    if translated_dst is not None or translated_port is not None:
        kind = NatKind.TWICE if kind is not None else NatKind.DESTINATION
    if kind is None:
        kind = NatKind.SOURCE
        options.add("no-translate")
    ingress = tuple(z for z in _zones(fields.lists.get("from")) if z != "any")
    egress = tuple(z for z in _zones(fields.lists.get("to")) if z != "any")
    description = fields.single.get(("description",))
    return NatRule(
        kind=kind,
        match=Match(src, dst, services),
        translated_src=translated_src,
        translated_dst=translated_dst,
        translated_dst_ports=translated_port,
        ingress=ingress,
        egress=egress,
        bidirectional=bidirectional,
        translate_to_interface=translate_if,
        name=rule.name,
        section=rule.section.rstrip("-") or None,
        context=scope,
        enabled=fields.single.get(("disabled",), ("no", 0))[0] != "yes",
        options=frozenset(options),
        comment=description[0] if description else None,
        sequence=sequence,
        source=_span(state, rule),
    )


# ---------------------------------------------------------------------------------------------
# objects, interfaces
# ---------------------------------------------------------------------------------------------


def _ctx(scope: str) -> str | None:
    return None if scope == DEFAULT_VSYS else scope


def _objects(state: _State, resolver: _Resolver) -> list[ObjectDef]:
    out: list[ObjectDef] = []
    for (scope, name), (_specs, line) in state.addresses.items():
        value = resolver._address_object(scope, name)
        out.append(ObjectDef(name, "network", value, context=_ctx(scope), source=SourceRef(line, line)))
    for (scope, name), (specs, line) in state.address_groups.items():
        members = tuple(spec[1] for spec in specs if spec[0] == "static" and len(spec) >= 2)
        value = resolver.address(name, scope, line)
        out.append(
            ObjectDef(name, "network-group", value, members=members, context=_ctx(scope), source=SourceRef(line, line))
        )
    for (scope, name), (_specs, line) in state.services.items():
        services = resolver._service_object(scope, name)
        out.append(ObjectDef(name, "service", services=services, context=_ctx(scope), source=SourceRef(line, line)))
    for (scope, name), (service_members, line) in state.service_groups.items():
        services = resolver.service(name, scope, line)
        out.append(
            ObjectDef(
                name,
                "service-group",
                services=services,
                members=tuple(service_members),
                context=_ctx(scope),
                source=SourceRef(line, line),
            )
        )
    for (scope, name), line in state.edls.items():
        out.append(
            ObjectDef(name, "address-list", _opaque("edl", name), context=_ctx(scope), source=SourceRef(line, line))
        )
    return out


def _interfaces(state: _State) -> tuple[list[Interface], list[Binding]]:
    zone_of: dict[str, str] = {}
    bindings: list[Binding] = []
    seen: set[tuple[str, str, str]] = set()
    for scope, zone, interface, line in state.zones:
        if (scope, zone, interface) in seen:
            continue
        seen.add((scope, zone, interface))
        zone_of.setdefault(interface, zone)
        bindings.append(Binding(BindingKind.ZONE, zone, interface, context=_ctx(scope), source=SourceRef(line, line)))
    out: list[Interface] = []
    for name, (addresses, start, end) in state.interfaces.items():
        value = AddressSet.empty()
        for text in addresses:
            literal = _literal(text.split("/")[0])
            if literal is not None:
                value = value.union(literal)
        out.append(
            Interface(name, value, zone=zone_of.get(name), vrf=state.vrfs.get(name), source=SourceRef(start, end))
        )
    for name, zone in zone_of.items():
        if name not in state.interfaces:
            out.append(Interface(name, zone=zone, vrf=state.vrfs.get(name)))
    return out, bindings


# ---------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------


@paused_gc
def parse(text: str) -> RuleSet:
    """PAN-OS config text (set commands, `show config` braces, or XML) -> RuleSet."""
    lines = config_lines(text)
    raw, spans, error, unsupported = _statements(text, lines)
    state = _State(lines, spans)
    for line, verb in unsupported:  # CLI session lines (configure, commit) say nothing about rules
        if any(word in lines[line - 1] for word in ("rulebase", "address", "service", "zone")):
            state.diag("PANOS-SET-VERB-UNSUPPORTED", f"'{verb}' commands are not applied", line)
    if error is not None:
        if error.startswith("braces nested"):  # the brace form: that block is skipped, the rest is read
            state.diag("PANOS-TOO-DEEP", error, 1)
        else:
            state.diag("PANOS-XML-UNREADABLE", f"XML could not be read: {error}", 1)
    _collect(state, raw)
    resolver = _Resolver(state)
    filters: list[FilterRule] = []
    nats: list[NatRule] = []
    order = {"pre-": 0, "": 1, "post-": 2}
    sequences: dict[tuple[str, str], int] = {}  # NAT rule number per (scope, section)
    for rule in sorted(state.rules.values(), key=lambda r: order[r.section]):  # stable: file order inside
        if rule.rulebase == "nat":
            key = (rule.scope, rule.section)
            sequences[key] = sequences.get(key, 0) + 1
            nats.append(_nat(state, resolver, rule, rule.fields, sequences[key]))
        else:
            filters.append(_security(state, resolver, rule, rule.fields))
    interfaces, bindings = _interfaces(state)
    objects = _objects(state, resolver)
    diagnostics = list(dict.fromkeys(state.diagnostics))
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(filters),
        nats=tuple(nats),
        bindings=tuple(bindings),
        interfaces=tuple(interfaces),
        objects=tuple(objects),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: (d.line, d.code))),
    )


_DETECT = re.compile(
    r"^(?:set (?:rulebase|deviceconfig|device-group \S+ (?:pre|post)-rulebase|zone \S+ network|"
    r"network interface ethernet|address \S+ ip-netmask|service \S+ protocol|vsys \S+ rulebase)|"
    r"\s*(?:deviceconfig|rulebase|pre-rulebase) \{|\s*<(?:devices|vsys|rulebase|device-group)>)",
    re.MULTILINE,
)


def detect(text: str) -> bool:
    """PAN-OS: set/brace/XML text with PAN-OS-only hierarchies (rulebase, deviceconfig, vsys ...)."""
    return bool(_DETECT.search(text[:400_000]))
