"""FortiOS (FortiGate) parser: VIPs, IP pools, firewall policies, addresses/services, zones and VDOMs.

One pass collects the `config firewall ...` / `config system interface|zone` entries (per VDOM,
re-`edit`s merged into the first definition as FortiOS does), a second pass resolves them:

* a VIP is a DESTINATION NatRule (ingress = extintf, `any` -> ()): match.dst = extip (or extaddr),
  Service(protocol, dst_ports=extport) when portforward, translated_dst = mappedip (or the load-balance
  real servers), translated_dst_ports = mappedport when it differs; `nat-source-vip` marks it bidirectional.
* a policy is a FilterRule in list "policy" (from_zones = srcintf, to_zones = dstintf, name = `set name`
  or the id, sequence = id, order = config order). A VIP in dstaddr resolves to its mapped address,
  since FortiOS matches policy addresses and services after destination NAT.
* `set nat enable` adds a source NatRule: PAT to the dstintf address, or the ippool range (one-to-one
  pools are DYNAMIC, overload/port-block pools PAT). With `central-nat enable` the policy flag is ignored
  and each `config firewall central-snat-map` entry is the source NatRule (section "central-snat-map").
* a VIP's `set status disable` disables its NatRule; service-group and addrgrp names ride on the
  services/addresses they resolve to, so a group change marks the policies naming it.
Lines of these stanzas that cannot be modelled become FORTI-* diagnostics.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cfgwatch.model import (
    Action,
    AddressSet,
    Binding,
    BindingKind,
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
from cfgwatch.model.ports import ANY_PORTS
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._misc_common import (
    Diagnostics,
    complement,
    lenient_protocol,
    parse_address,
    split_quoted_words,
    union_all,
)

PLATFORM = "fortinet"

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|(\S+)')
_DETECT = re.compile(r"^[ \t]*config (?:firewall|system|vdom|global|router)\b", re.M)

# Sections whose entries are collected (per VDOM).
_SECTIONS = frozenset(
    {
        "firewall address",
        "firewall address6",
        "firewall addrgrp",
        "firewall addrgrp6",
        "firewall service custom",
        "firewall service group",
        "firewall vip",
        "firewall vip6",
        "firewall vipgrp",
        "firewall vipgrp6",
        "firewall ippool",
        "firewall ippool6",
        "firewall policy",
        "firewall policy6",
        "system interface",
        "system zone",
        "system settings",
        "firewall central-snat-map",
    }
)
# NAT/ACL sections cfgwatch does not model: every entry is reported.
_UNMODELLED = frozenset(
    {
        "firewall policy46",
        "firewall policy64",
        "firewall vip46",
        "firewall vip64",
        "firewall local-in-policy",
        "firewall local-in-policy6",
        "firewall multicast-policy",
        "firewall proxy-policy",
        "firewall security-policy",
        "firewall interface-policy",
        "firewall dos-policy",
        "firewall acl",
        "firewall acl6",
        "firewall dnstranslation",
    }
)

# Keys that carry no traffic semantics (metadata, logging, UTM profiles) per section family.
_COMMON_IGNORED = frozenset({"uuid", "color", "comment", "comments", "fabric-object", "visibility", "category"})
_IGNORED: dict[str, frozenset[str]] = {
    "firewall address": frozenset({"associated-interface", "allow-routing", "sub-type", "sdn", "cache-ttl", "tagging"}),
    "firewall addrgrp": frozenset({"allow-routing", "category"}),
    "firewall service custom": frozenset({"session-ttl", "check-reset-range", "proxy", "helper", "app-service-type"}),
    "firewall service group": frozenset({"proxy"}),
    "firewall vip": frozenset(
        {"arp-reply", "ldb-method", "portmapping-type", "gratuitous-arp-interval", "http-redirect", "id"}
    ),
    "firewall vipgrp": frozenset({"interface"}),
    "firewall central-snat-map": frozenset({"type", "port-preserve"}),
    "firewall ippool": frozenset({"arp-reply", "arp-intf", "associated-interface", "permit-any-host", "block-size"}),
    "firewall policy": frozenset(
        {
            "schedule",
            "logtraffic",
            "logtraffic-start",
            "fsso",
            "global-label",
            "label",
            "utm-status",
            "inspection-mode",
            "profile-type",
            "profile-group",
            "profile-protocol-options",
            "ssl-ssh-profile",
            "av-profile",
            "webfilter-profile",
            "dnsfilter-profile",
            "ips-sensor",
            "application-list",
            "emailfilter-profile",
            "file-filter-profile",
            "waf-profile",
            "voip-profile",
            "icap-profile",
            "dlp-sensor",
            "tcp-mss-sender",
            "tcp-mss-receiver",
            "auto-asic-offload",
            "capture-packet",
            "traffic-shaper",
            "traffic-shaper-reverse",
            "per-ip-shaper",
            "match-vip",
            "match-vip-only",
            "policy-expiry",
            "timeout-send-rst",
            "tcp-session-without-syn",
            "anti-replay",
            "permit-any-host",
            "nat64",
            "nat46",
            "ippool6",
            "vlan-cos-fwd",
            "vlan-cos-rev",
        }
    ),
}

# Predefined FortiOS services, used when the config does not define them itself.
_PREDEFINED_SERVICES: dict[str, tuple[Service, ...]] = {
    "ALL": (Service(),),
    "ALL_TCP": (Service(6, ANY_PORTS, PortSet.of((1, 65535))),),
    "ALL_UDP": (Service(17, ANY_PORTS, PortSet.of((1, 65535))),),
    "ALL_ICMP": (Service(1),),
    "ALL_ICMP6": (Service(58),),
    "PING": (Service(1, icmp_type=8),),
    "HTTP": (Service(6, ANY_PORTS, PortSet.of(80)),),
    "HTTPS": (Service(6, ANY_PORTS, PortSet.of(443)),),
    "SSH": (Service(6, ANY_PORTS, PortSet.of(22)),),
    "TELNET": (Service(6, ANY_PORTS, PortSet.of(23)),),
    "FTP": (Service(6, ANY_PORTS, PortSet.of(21)),),
    "SMTP": (Service(6, ANY_PORTS, PortSet.of(25)),),
    "SMTPS": (Service(6, ANY_PORTS, PortSet.of(465)),),
    "POP3": (Service(6, ANY_PORTS, PortSet.of(110)),),
    "POP3S": (Service(6, ANY_PORTS, PortSet.of(995)),),
    "IMAP": (Service(6, ANY_PORTS, PortSet.of(143)),),
    "IMAPS": (Service(6, ANY_PORTS, PortSet.of(993)),),
    "DNS": (Service(6, ANY_PORTS, PortSet.of(53)), Service(17, ANY_PORTS, PortSet.of(53))),
    "NTP": (Service(6, ANY_PORTS, PortSet.of(123)), Service(17, ANY_PORTS, PortSet.of(123))),
    "SNMP": (Service(6, ANY_PORTS, PortSet.of((161, 162))), Service(17, ANY_PORTS, PortSet.of((161, 162)))),
    "SYSLOG": (Service(17, ANY_PORTS, PortSet.of(514)),),
    "TFTP": (Service(17, ANY_PORTS, PortSet.of(69)),),
    "RDP": (Service(6, ANY_PORTS, PortSet.of(3389)),),
    "SAMBA": (Service(6, ANY_PORTS, PortSet.of(139)),),
    "SMB": (Service(6, ANY_PORTS, PortSet.of(445)),),
    "LDAP": (Service(6, ANY_PORTS, PortSet.of(389)),),
    "MYSQL": (Service(6, ANY_PORTS, PortSet.of(3306)),),
    "MS-SQL": (Service(6, ANY_PORTS, PortSet.of(1433, 1434)),),
    "BGP": (Service(6, ANY_PORTS, PortSet.of(179)),),
    "IKE": (Service(17, ANY_PORTS, PortSet.of(500, 4500)),),
    "SIP": (Service(6, ANY_PORTS, PortSet.of(5060)), Service(17, ANY_PORTS, PortSet.of(5060))),
    "SQUID": (Service(6, ANY_PORTS, PortSet.of(3128)),),
    "SOCKS": (Service(6, ANY_PORTS, PortSet.of(1080)), Service(17, ANY_PORTS, PortSet.of(1080))),
    "GRE": (Service(47),),
    "ESP": (Service(50),),
    "AH": (Service(51),),
}


@dataclass(slots=True)
class _Entry:
    """One `edit NAME` block: its settings (last `set` wins, `append` extends) and line span."""

    section: str
    name: str
    vdom: str | None
    start: int
    end: int
    values: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    children: dict[str, list[_Entry]] = field(default_factory=dict)

    def first(self, key: str, default: str = "") -> str:
        values = self.values.get(key)
        return values[0] if values else default

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.first(key, "enable" if default else "disable").lower()
        return value == "enable"

    def span(self) -> SourceRef:
        return SourceRef(self.start, max(self.start, self.end))


@dataclass(slots=True)
class _Frame:
    path: str
    indent: int
    parent: _Entry | None  # the entry a nested `config` sits in
    entry: _Entry | None = None
    settings: _Entry | None = None  # `set` lines directly under the config (no edit)


def _tokens(text: str) -> list[str]:
    if "'" not in text and "\\" not in text:
        words = split_quoted_words(text, '"')
        if words is not None:
            return words
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        out.append(quoted.replace('\\"', '"').replace("\\\\", "\\") if quoted is not None else match.group(3))
    return out


def _open_quote(line: str) -> bool:
    """The line leaves a double-quoted value open (an odd number of unescaped `"`)."""
    return (line.count('"') - line.count('\\"')) % 2 == 1


def _join_quoted(lines: list[str]) -> tuple[list[str], dict[int, int]]:
    """Lines with every multi-line quoted value (`set comments "CHG-1 ...` + `TICKET-2"`) joined into its
    first line (FortiOS keeps the newlines inside the quotes); the lines it swallowed become blank.

    Returns the lines and, for each joined line (1-based), the number of its last physical line.
    """
    if not any('"' in line and _open_quote(line) for line in lines):
        return lines, {}
    out = list(lines)
    ends: dict[int, int] = {}
    index = 0
    while index < len(out):
        line = out[index]
        if '"' in line and _open_quote(line):
            last = index + 1
            while last < len(out) and not _open_quote(out[last]):
                last += 1
            if last < len(out):  # the quote closes on line `last`: join; an unclosed quote is left alone
                out[index] = "\n".join(lines[index : last + 1])
                for blank in range(index + 1, last + 1):
                    out[blank] = ""
                ends[index + 1] = last + 1
                index = last
        index += 1
    return out, ends


def _section_family(section: str) -> str:
    return section[:-1] if section.endswith("6") and section[:-1] in _IGNORED else section


class _Collector:
    """The line scanner: tracks config/edit/next/end nesting and the current VDOM."""

    def __init__(self, text: str, diags: Diagnostics) -> None:
        self.diags = diags
        self.entries: dict[tuple[str | None, str, str], _Entry] = {}
        self.order: list[_Entry] = []
        self.unmodelled: list[tuple[int, str, str]] = []
        lines, self.ends = _join_quoted(config_lines(text))
        self.by_indent = not any(line.strip() == "end" for line in lines)
        self._scan(lines)

    def _vdom(self, stack: list[_Frame]) -> str | None:
        for frame in reversed(stack):
            if frame.path == "vdom" and frame.entry is not None:
                return frame.entry.name
        return None

    def _scan(self, lines: list[str]) -> None:
        stack: list[_Frame] = []
        for number, raw in enumerate(lines, start=1):
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            word, _, rest = stripped.partition(" ")
            top = stack[-1] if stack else None
            if word == "config":
                indent = len(raw) - len(raw.lstrip())
                if self.by_indent:
                    while stack and stack[-1].indent >= indent:
                        self._close(stack.pop(), number - 1)
                    top = stack[-1] if stack else None
                path = " ".join(rest.split()).lower()
                parent = top.entry if top is not None and top.path in _SECTIONS else None
                if parent is not None:
                    path = f"{top.path if top else ''}/{path}"
                elif top is not None and "/" in top.path and top.entry is not None:
                    parent = top.entry
                    path = f"{top.path}/{path}"
                stack.append(_Frame(path, indent, parent))
                if path in _UNMODELLED:
                    self.unmodelled.append((number, path, stripped))
                continue
            if top is None:
                continue
            if word == "end":
                self._close(stack.pop(), number)
                continue
            if word == "next":
                if top.entry is not None:
                    top.entry.end = number
                top.entry = None
                continue
            if word == "edit":
                name = (_tokens(rest) or [""])[0]
                if not name:
                    self.diags.add("FORTI-SYNTAX", "'edit' without a name", number, stripped)
                    top.entry = None
                    continue
                self._edit(stack, top, name, number)
                continue
            interesting = top.path in _SECTIONS or "/" in top.path
            if not interesting:
                continue
            target = top.entry
            if target is None and top.path == "system settings":
                if top.settings is None:
                    top.settings = _Entry(top.path, "", self._vdom(stack), number, number)
                    self._register(top.settings)
                target = top.settings
            if target is None:
                self.diags.add("FORTI-SYNTAX", f"line outside an 'edit' block of 'config {top.path}'", number, stripped)
                continue
            target.end = self.ends.get(number, number)
            args = _tokens(rest)
            if word in ("set", "append", "select", "unselect") and args:
                key, values = args[0].lower(), args[1:]
                if word == "append":
                    target.values.setdefault(key, []).extend(values)
                elif word == "unselect":
                    target.values[key] = [v for v in target.values.get(key, []) if v not in values]
                else:
                    if key == "protocol" and target.section.startswith("firewall service custom"):
                        for dependent in ("tcp-portrange", "udp-portrange", "sctp-portrange", "icmptype"):
                            target.values.pop(dependent, None)
                        target.values.pop("icmpcode", None)
                        target.values.pop("protocol-number", None)
                    target.values[key] = values
                target.lines[key] = number
                target.texts[key] = stripped
            elif word == "unset" and args:
                target.values.pop(args[0].lower(), None)
                if args[0].lower() == "icmptype":  # FortiOS drops the code with the type
                    target.values.pop("icmpcode", None)
            elif top.path in _SECTIONS:
                self.diags.add("FORTI-SYNTAX", f"unrecognised line in 'config {top.path}'", number, stripped)
        for frame in reversed(stack):
            self._close(frame, len(lines))

    def _edit(self, stack: list[_Frame], top: _Frame, name: str, number: int) -> None:
        if top.path == "vdom":
            top.entry = _Entry("vdom", name, None, number, number)
            return
        if top.path in _UNMODELLED:
            self.unmodelled.append((number, top.path, f"edit {name}"))
            top.entry = None
            return
        if top.path in _SECTIONS:
            key = (self._vdom(stack), top.path, name)
            entry = self.entries.get(key)
            if entry is None:
                entry = _Entry(top.path, name, key[0], number, number)
                self.entries[key] = entry
                self.order.append(entry)
            top.entry = entry
            return
        if top.parent is not None:
            child = _Entry(top.path, name, top.parent.vdom, number, number)
            sub = top.path.rsplit("/", 1)[-1]
            top.parent.children.setdefault(sub, []).append(child)
            top.entry = child
            return
        top.entry = None

    def _register(self, entry: _Entry) -> None:
        key = (entry.vdom, entry.section, "")
        if key not in self.entries:
            self.entries[key] = entry
            self.order.append(entry)

    def _close(self, frame: _Frame, number: int) -> None:
        if frame.parent is not None:
            frame.parent.end = max(frame.parent.end, number)


class _Resolver:
    """Second pass: turns collected entries into model objects, per VDOM."""

    def __init__(self, collector: _Collector, diags: Diagnostics) -> None:
        self.diags = diags
        self.entries = collector.order
        self.index: dict[tuple[str | None, str], dict[str, _Entry]] = {}
        for entry in self.entries:
            self.index.setdefault((entry.vdom, _section_family(entry.section)), {})[entry.name] = entry
        self.iface_addr: dict[str, AddressSet] = {}
        self.iface_net: dict[str, AddressSet] = {}
        self._addr_cache: dict[tuple[str | None, str], AddressSet | None] = {}
        self._svc_cache: dict[tuple[str | None, str], tuple[Service, ...] | None] = {}
        self.objects: list[ObjectDef] = []
        self.filters: list[FilterRule] = []
        self.nats: list[NatRule] = []
        self.bindings: list[Binding] = []
        self.interfaces: list[Interface] = []

    # -- lookups ----------------------------------------------------------------------------
    def _table(self, vdom: str | None, section: str) -> dict[str, _Entry]:
        return self.index.get((vdom, section), {})

    def _warn_unknown_keys(self, entry: _Entry, known: Iterable[str]) -> None:
        allowed = set(known) | _COMMON_IGNORED | _IGNORED.get(_section_family(entry.section), frozenset())
        for key in entry.values:
            if key not in allowed:
                code = "FORTI-" + _section_family(entry.section).split()[-1].upper() + "-UNSUPPORTED"
                self.diags.add(
                    code,
                    f"'{key}' in {entry.section} '{entry.name}' is not modelled",
                    entry.lines.get(key, entry.start),
                    entry.texts.get(key, ""),
                )

    def _placeholder(self, entry: _Entry, kind: str, value: str, key: str) -> AddressSet:
        self.diags.add(
            "FORTI-ADDRESS-UNRESOLVABLE",
            f"{entry.section} '{entry.name}': {kind} '{value}' cannot be resolved offline; kept by name",
            entry.lines.get(key, entry.start),
            entry.texts.get(key, ""),
        )
        return AddressSet.fqdn(f"{kind}:{value}")

    def address_of(self, entry: _Entry) -> AddressSet:
        kind = entry.first("type", "ipmask").lower()
        six = entry.section.endswith("6")
        if kind == "ipmask" or (six and kind == "ipprefix"):
            values = entry.values.get("ip6" if six else "subnet") or ["::/0" if six else "0.0.0.0/0"]
            spec = values[0] if len(values) == 1 or "/" in values[0] else None
            if spec is None and len(values) >= 2:
                try:
                    return (
                        AddressSet.from_mask(values[0], values[1]).named(entry.name)
                        if values[1] != "0.0.0.0"
                        else (AddressSet.any().named(entry.name))
                    )
                except ValueError:
                    spec = values[0]
            parsed = parse_address(spec or "")
            if parsed is None:
                return self._placeholder(entry, "subnet", " ".join(values), "ip6" if six else "subnet")
            return parsed.named(entry.name)
        if kind == "iprange":
            start, end = entry.first("start-ip", "0.0.0.0"), entry.first("end-ip", "0.0.0.0")
            parsed = parse_address(f"{start}-{end}") if start != end else parse_address(start)
            if parsed is None:
                return self._placeholder(entry, "iprange", f"{start}-{end}", "start-ip")
            return parsed.named(entry.name)
        if kind == "fqdn":
            return AddressSet.fqdn(entry.first("fqdn", entry.name), names=(entry.name,))
        if kind == "wildcard":
            values = entry.values.get("wildcard", ["0.0.0.0", "0.0.0.0"])
            try:
                mask = values[1] if len(values) > 1 else "255.255.255.255"
                holes = _wildcard_holes(mask)
                if holes > _MAX_WILDCARD_HOLES:
                    return self._placeholder(entry, "wildcard", " ".join(values), "wildcard").named(entry.name)
                return AddressSet.from_mask(values[0], mask).named(entry.name)
            except (ValueError, IndexError):
                return self._placeholder(entry, "wildcard", " ".join(values), "wildcard")
        if kind == "interface-subnet":
            iface = entry.first("interface")
            if iface in self.iface_net:
                return self.iface_net[iface].named(entry.name)
            subnet = entry.values.get("subnet")
            if subnet and len(subnet) == 2:
                try:
                    return AddressSet.from_mask(subnet[0], subnet[1]).named(entry.name)
                except ValueError:
                    pass
            return self._placeholder(entry, "interface-subnet", iface, "interface").named(entry.name)
        detail = entry.first("country") or entry.first("sdn") or entry.first("start-mac") or entry.name
        return self._placeholder(entry, kind, detail, "type").named(entry.name)

    def resolve_address(
        self, vdom: str | None, name: str, *, mapped_vip: bool = True, depth: int = 0
    ) -> AddressSet | None:
        """An address, group, VIP (mapped side) or VIP group by name; None when undefined."""
        key = (vdom, name)
        if key in self._addr_cache:
            return self._addr_cache[key]
        self._addr_cache[key] = None  # cycle guard
        result: AddressSet | None = None
        for section in ("firewall address", "firewall address6"):
            if (entry := self._table(vdom, section).get(name)) is not None:
                result = self.address_of(entry)
                break
        if result is None:
            for section in ("firewall addrgrp", "firewall addrgrp6", "firewall vipgrp", "firewall vipgrp6"):
                if (entry := self._table(vdom, section).get(name)) is not None and depth < 16:
                    parts: list[AddressSet] = []
                    for member in entry.values.get("member", []):
                        resolved = self.resolve_address(vdom, member, depth=depth + 1)
                        if resolved is None:
                            self._unknown(entry, member, "member")
                        else:
                            parts.append(resolved)
                    result = union_all(parts)  # one merge for big groups
                    if entry.flag("exclude"):
                        for member in entry.values.get("exclude-member", []):
                            resolved = self.resolve_address(vdom, member, depth=depth + 1)
                            if resolved is not None:
                                result = result.difference(resolved)
                    result = result.named(name)
                    break
        if result is None:
            for section in ("firewall vip", "firewall vip6"):
                if (entry := self._table(vdom, section).get(name)) is not None:
                    result = self.vip_mapped(entry).named(name)
                    break
        if result is None and name.lower() in ("all", "any"):
            result = AddressSet.any().named(name)
        if result is None and name.lower() == "none":
            result = AddressSet.empty().named(name)
        self._addr_cache[key] = result
        return result

    def _unknown(self, entry: _Entry, name: str, key: str) -> None:
        self.diags.add(
            "FORTI-UNKNOWN-OBJECT",
            f"{entry.section} '{entry.name}' references undefined '{name}' in {key}",
            entry.lines.get(key, entry.start),
            entry.texts.get(key, ""),
        )

    def resolve_service(self, vdom: str | None, name: str, depth: int = 0) -> tuple[Service, ...] | None:
        key = (vdom, name)
        if key in self._svc_cache:
            return self._svc_cache[key]
        self._svc_cache[key] = None
        result: tuple[Service, ...] | None = None
        if (entry := self._table(vdom, "firewall service custom").get(name)) is not None:
            result = tuple(svc.named(name) for svc in self.service_of(entry))
        elif (entry := self._table(vdom, "firewall service group").get(name)) is not None and depth < 16:
            members: list[Service] = []
            for member in entry.values.get("member", []):
                resolved = self.resolve_service(vdom, member, depth + 1)
                if resolved is None:
                    self._unknown(entry, member, "member")
                else:
                    # the group's name rides on its members' services (as an addrgrp's on its addresses), so
                    # a change of the group's membership marks the policies naming it
                    members.extend(svc.named(*svc.names, name) for svc in resolved)
            result = tuple(members)
        elif name.upper() in _PREDEFINED_SERVICES:
            result = tuple(svc.named(name) for svc in _PREDEFINED_SERVICES[name.upper()])
        self._svc_cache[key] = result
        return result

    def service_of(self, entry: _Entry) -> tuple[Service, ...]:
        protocol = entry.first("protocol", "TCP/UDP/SCTP").upper()
        if protocol in ("TCP/UDP/SCTP", "TCP/UDP/UDP-LITE/SCTP"):
            out: list[Service] = []
            for key, number in (("tcp-portrange", 6), ("udp-portrange", 17), ("sctp-portrange", 132)):
                for token in entry.values.get(key, []):
                    service = _port_token(number, token)
                    if service is None:
                        self.diags.add(
                            "FORTI-SERVICE-BAD-PORT",
                            f"service '{entry.name}': bad port range '{token}'",
                            entry.lines.get(key, entry.start),
                            entry.texts.get(key, ""),
                        )
                    else:
                        out.append(service)
            return tuple(out)
        if protocol in ("ICMP", "ICMP6"):
            number = 1 if protocol == "ICMP" else 58
            icmp_type = _int_or_none(entry.first("icmptype"))
            icmp_code = _int_or_none(entry.first("icmpcode"))
            return (Service(number, icmp_type=icmp_type, icmp_code=icmp_code),)
        if protocol == "IP":
            value = _int_or_none(entry.first("protocol-number", "0"))
            return (Service(value if value else None),)
        self.diags.add(
            "FORTI-SERVICE-UNSUPPORTED",
            f"service '{entry.name}': protocol {protocol} is not modelled",
            entry.lines.get("protocol", entry.start),
            entry.texts.get("protocol", ""),
        )
        return ()

    # -- VIPs --------------------------------------------------------------------------------
    def vip_mapped(self, entry: _Entry) -> AddressSet:
        kind = entry.first("type", "static-nat").lower()
        if kind in ("load-balance", "server-load-balance", "access-proxy"):
            result = AddressSet.empty()
            for server in entry.children.get("realservers", []):
                parsed = parse_address(server.first("ip"))
                if parsed is not None:
                    result = result.union(parsed)
            return result
        if kind == "fqdn":
            mapped = entry.first("mapped-addr")
            resolved = self.resolve_address(entry.vdom, mapped) if mapped else None
            return resolved if resolved is not None else AddressSet.fqdn(f"address:{mapped}")
        result = AddressSet.empty()
        for token in entry.values.get("mappedip", []):
            parsed = parse_address(token)
            if parsed is None:
                return self._placeholder(entry, "mappedip", token, "mappedip")
            result = result.union(parsed)
        return result

    def vip_external(self, entry: _Entry) -> AddressSet:
        if "extaddr" in entry.values:
            result = AddressSet.empty()
            for name in entry.values["extaddr"]:
                resolved = self.resolve_address(entry.vdom, name)
                if resolved is None:
                    self._unknown(entry, name, "extaddr")
                else:
                    result = result.union(resolved)
            return result
        if not entry.values.get("extip"):
            self.diags.add("FORTI-VIP-NO-EXTIP", f"VIP '{entry.name}' has no extip", entry.start)
            return AddressSet.empty()
        result = AddressSet.empty()
        for token in entry.values["extip"]:
            parsed = parse_address(token)
            if parsed is None:
                return self._placeholder(entry, "extip", token, "extip")
            result = result.union(parsed)
        return result

    def vip_rule(self, entry: _Entry) -> None:
        self._warn_unknown_keys(
            entry,
            (
                "type",
                "extip",
                "extaddr",
                "mappedip",
                "mapped-addr",
                "extintf",
                "portforward",
                "protocol",
                "extport",
                "mappedport",
                "src-filter",
                "srcintf-filter",
                "nat-source-vip",
                "realservers",
                "server-type",
                "status",
                "service",
            ),
        )
        kind = entry.first("type", "static-nat").lower()
        if kind not in ("static-nat", "load-balance", "server-load-balance", "fqdn", "access-proxy"):
            self.diags.add(
                "FORTI-VIP-UNSUPPORTED",
                f"VIP '{entry.name}' of type {kind} is not modelled",
                entry.lines.get("type", entry.start),
                entry.texts.get("type", ""),
            )
            return
        external = self.vip_external(entry)
        mapped = self.vip_mapped(entry)
        if external.is_empty:
            return
        src = AddressSet.any()
        if "src-filter" in entry.values:
            src = AddressSet.empty()
            for token in entry.values["src-filter"]:
                parsed = parse_address(token)
                if parsed is None:
                    self.diags.add(
                        "FORTI-VIP-BAD-ADDRESS",
                        f"VIP '{entry.name}': bad src-filter '{token}'",
                        entry.lines["src-filter"],
                    )
                else:
                    src = src.union(parsed)
        services: tuple[Service, ...] = (Service(),)
        translated_ports: PortSet | None = None
        if entry.values.get("service") and not entry.flag("portforward"):
            # "VIP with services" (FortiOS 6.4+): only traffic of these services is translated, ports kept
            found: list[Service] = []
            for name in entry.values["service"]:
                resolved = self.resolve_service(entry.vdom, name)
                if resolved is None:
                    self._unknown(entry, name, "service")
                else:
                    found.extend(resolved)
            services = tuple(found) or services
        if entry.flag("portforward") or kind in ("server-load-balance", "load-balance"):
            proto_name = entry.first("protocol", "tcp").lower()
            proto = lenient_protocol(proto_name)
            ext = _ports(entry.first("extport", "0-65535"))
            mapped_spec = entry.first("mappedport")
            if kind != "static-nat" and not mapped_spec:
                servers = entry.children.get("realservers", [])
                mapped_spec = servers[0].first("port") if servers else ""
            mapped_ports = _ports(mapped_spec) if mapped_spec else ext
            if ext is None or mapped_ports is None or proto is None:
                self.diags.add(
                    "FORTI-VIP-BAD-PORT",
                    f"VIP '{entry.name}': cannot read protocol/extport/mappedport",
                    entry.lines.get("extport", entry.start),
                    entry.texts.get("extport", ""),
                )
            else:
                services = (Service(proto, ANY_PORTS, ext) if proto in (6, 17, 132) else Service(proto),)
                mapped_ports = _stretch(ext, mapped_ports)
                translated_ports = None if mapped_ports == ext else mapped_ports
        extintf = [name for name in entry.values.get("extintf", ["any"]) if name.lower() != "any"]
        if not extintf and "srcintf-filter" in entry.values:
            extintf = list(entry.values["srcintf-filter"])
        bidirectional = entry.flag("nat-source-vip")
        self.nats.append(
            NatRule(
                kind=NatKind.DESTINATION,
                match=Match(src=src, dst=external.named(entry.name), services=services),
                translated_dst=mapped,
                translated_dst_ports=translated_ports,
                ingress=tuple(extintf),
                bidirectional=bidirectional,
                name=entry.name,
                section="vip",
                enabled=entry.first("status", "enable").lower() != "disable",
                context=entry.vdom,
                options=frozenset({"nat-source-vip"}) if bidirectional else frozenset(),
                comment=entry.first("comment") or None,
                source=entry.span(),
            )
        )
        self.objects.append(
            ObjectDef(
                entry.name,
                "vip",
                addresses=mapped,
                services=services,
                members=tuple(f"extip={r}" for r in external.ranges() + sorted(external.fqdns))
                + tuple(f"extintf={i}" for i in extintf),
                context=entry.vdom,
                source=entry.span(),
            )
        )

    # -- policies ----------------------------------------------------------------------------
    def _addresses(self, entry: _Entry, keys: tuple[str, ...]) -> AddressSet:
        names = [name for key in keys for name in entry.values.get(key, [])]
        if not names:
            return AddressSet.any() if not any(key in entry.values for key in keys) else AddressSet.empty()
        parts: list[AddressSet] = []
        for key in keys:
            for name in entry.values.get(key, []):
                resolved = self.resolve_address(entry.vdom, name)
                if resolved is None:
                    self._unknown(entry, name, key)
                else:
                    parts.append(resolved)
        result = union_all(parts)  # one merge for long address lists
        if entry.flag(keys[0] + "-negate"):
            result = complement(result).named(*(f"!{name}" for name in names))
        return result

    def policy(self, entry: _Entry, central_nat: bool) -> None:
        self._warn_unknown_keys(
            entry,
            (
                "name",
                "srcintf",
                "dstintf",
                "srcaddr",
                "dstaddr",
                "srcaddr6",
                "dstaddr6",
                "srcaddr-negate",
                "dstaddr-negate",
                "service",
                "service-negate",
                "action",
                "status",
                "nat",
                "ippool",
                "poolname",
                "natip",
                "fixedport",
                "groups",
                "users",
            ),
        )
        if entry.flag("internet-service") or entry.flag("internet-service-src"):
            self.diags.add(
                "FORTI-POLICY-INTERNET-SERVICE", f"policy {entry.name}: internet-service not modelled", entry.start
            )
        src = self._addresses(entry, ("srcaddr", "srcaddr6"))
        dst = self._addresses(entry, ("dstaddr", "dstaddr6"))
        services: list[Service] = []
        for name in entry.values.get("service", []):
            resolved = self.resolve_service(entry.vdom, name)
            if resolved is None:
                self._unknown(entry, name, "service")
            else:
                services.extend(resolved)
        if "service" not in entry.values:
            services = [Service()]
        if entry.flag("service-negate"):
            self.diags.add(
                "FORTI-POLICY-SERVICE-NEGATE",
                f"policy {entry.name}: service-negate not modelled",
                entry.lines["service-negate"],
                entry.texts["service-negate"],
            )
        action_text = entry.first("action", "deny").lower()
        action = Action.PERMIT if action_text in ("accept", "ipsec") else Action.DENY
        options = set()
        if action_text == "ipsec":
            options.add("ipsec")
        if entry.values.get("groups") or entry.values.get("users"):
            options.add("user-auth")
        nat = entry.flag("nat") and not central_nat
        if nat:
            options.add("nat")
        schedule = entry.first("schedule", "always")
        if schedule.lower() != "always":
            options.add(f"schedule:{schedule}")
        enabled = entry.first("status", "enable").lower() != "disable"
        srcintf = tuple(entry.values.get("srcintf", ()))
        dstintf = tuple(entry.values.get("dstintf", ()))
        sequence = _int_or_none(entry.name)
        match = Match(src=src, dst=dst, services=tuple(services))
        label = entry.first("name") or entry.name
        comment = entry.first("comments") or entry.first("comment") or None
        self.filters.append(
            FilterRule(
                list_name="policy" if entry.vdom is None else f"{entry.vdom}/policy",
                action=action,
                match=match,
                name=label,
                from_zones=srcintf,
                to_zones=dstintf,
                enabled=enabled,
                options=frozenset(options),
                comment=comment,
                sequence=sequence,
                source=entry.span(),
            )
        )
        if not nat or action is not Action.PERMIT:
            return
        translated: AddressSet | None = None
        kind = NatKind.PAT
        interface: str | None = None
        if entry.flag("ippool") and entry.values.get("poolname"):
            translated, kind = self.pools(entry, "poolname")
        elif entry.values.get("natip") and entry.values["natip"][0] != "0.0.0.0":
            values = entry.values["natip"]
            try:
                translated = AddressSet.from_mask(values[0], values[1]) if len(values) > 1 else parse_address(values[0])
            except ValueError:
                translated = None
            kind = NatKind.SOURCE
        else:
            interface = ",".join(name for name in dstintf if name.lower() != "any") or "egress"
        nat_options = frozenset({"fixedport"}) if entry.flag("fixedport") else frozenset()
        self.nats.append(
            NatRule(
                kind=kind,
                match=match,
                translated_src=translated,
                ingress=tuple(name for name in srcintf if name.lower() != "any"),
                egress=tuple(name for name in dstintf if name.lower() != "any"),
                translate_to_interface=interface,
                name=label,
                section="policy",
                context=entry.vdom,
                enabled=enabled,
                options=nat_options,
                comment=comment,
                sequence=sequence,
                source=entry.span(),
            )
        )

    def central_snat(self, entry: _Entry) -> None:
        """One `config firewall central-snat-map` entry (central NAT mode): a source NAT rule.

        FortiOS docs: entries are evaluated top-down, first match; `orig-addr`/`dst-addr` select the
        original source/destination, `protocol` 0 is any, `orig-port` is the original *source* port
        (0 any), 7.4+ `dst-port` the destination port, `nat-ippool` gives the translated source (none:
        the egress interface address), `nat disable` exempts the match from translation, `status
        disable` turns the entry off.
        """
        self._warn_unknown_keys(
            entry,
            (
                "status",
                "srcintf",
                "dstintf",
                "orig-addr",
                "orig-addr6",
                "dst-addr",
                "dst-addr6",
                "protocol",
                "orig-port",
                "dst-port",
                "nat",
                "nat-ippool",
                "nat-ippool6",
                "nat-port",
            ),
        )
        src = self._addresses(entry, ("orig-addr", "orig-addr6"))
        dst = self._addresses(entry, ("dst-addr", "dst-addr6"))
        proto = _int_or_none(entry.first("protocol", "0"))
        orig_port = _ports(entry.first("orig-port", "0").replace(":", "-"))
        dst_port = _ports(entry.first("dst-port", "0").replace(":", "-"))
        if proto is None or orig_port is None or dst_port is None:
            self.diags.add(
                "FORTI-SNAT-BAD-VALUE",
                f"central-snat-map {entry.name}: cannot read protocol/orig-port",
                entry.lines.get("orig-port", entry.lines.get("protocol", entry.start)),
                entry.texts.get("orig-port", entry.texts.get("protocol", "")),
            )
            return
        zero = PortSet.of((0, 0))
        src_ports = ANY_PORTS if orig_port == zero else orig_port
        dst_ports = ANY_PORTS if dst_port == zero else dst_port
        service = Service(proto, src_ports, dst_ports) if proto else Service()
        srcintf = tuple(name for name in entry.values.get("srcintf", ()) if name.lower() != "any")
        dstintf = tuple(name for name in entry.values.get("dstintf", ()) if name.lower() != "any")
        nat = entry.first("nat", "enable").lower() != "disable"
        translated: AddressSet | None = None
        interface: str | None = None
        kind = NatKind.PAT
        options: set[str] = set()
        pools = entry.values.get("nat-ippool", []) + entry.values.get("nat-ippool6", [])
        if not nat:
            kind = NatKind.SOURCE
            options.add("no-nat")
        elif pools:
            translated, kind = self.pools(entry, "nat-ippool", "nat-ippool6")
        else:
            interface = ",".join(dstintf) or "egress"
        nat_port = entry.first("nat-port")
        translated_ports = _ports(nat_port.replace(":", "-")) if nat and nat_port and nat_port != "0" else None
        self.nats.append(
            NatRule(
                kind=kind,
                match=Match(src=src, dst=dst, services=(service,)),
                translated_src=translated,
                translated_src_ports=translated_ports,
                ingress=srcintf,
                egress=dstintf,
                translate_to_interface=interface,
                name=entry.name,
                section="central-snat-map",
                context=entry.vdom,
                enabled=entry.first("status", "enable").lower() != "disable",
                options=frozenset(options),
                comment=entry.first("comments") or None,
                sequence=_int_or_none(entry.name),
                source=entry.span(),
            )
        )

    def pools(self, entry: _Entry, *keys: str) -> tuple[AddressSet, NatKind]:
        """The IP pools an entry names under `keys`: their ranges, DYNAMIC for one-to-one pools else PAT."""
        translated = AddressSet.empty()
        kind = NatKind.PAT
        names = [name for key in keys for name in entry.values.get(key, [])]
        for key in keys:
            for pool_name in entry.values.get(key, []):
                pool = self._table(entry.vdom, "firewall ippool").get(pool_name)
                if pool is None:
                    self._unknown(entry, pool_name, key)
                    continue
                translated = translated.union(self.pool_range(pool))
                if pool.first("type", "overload").lower() == "one-to-one":
                    kind = NatKind.DYNAMIC
        return translated.named(*names), kind

    def pool_range(self, entry: _Entry) -> AddressSet:
        start, end = entry.first("startip"), entry.first("endip") or entry.first("startip")
        parsed = parse_address(f"{start}-{end}" if start != end else start)
        if parsed is None:
            return self._placeholder(entry, "ippool", f"{start}-{end}", "startip")
        return parsed

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> None:
        zone_of: dict[str, str] = {}
        for entry in self.entries:
            if entry.section == "system zone":
                for iface in entry.values.get("interface", []):
                    zone_of[iface] = entry.name
                    self.bindings.append(
                        Binding(BindingKind.ZONE, entry.name, iface, context=entry.vdom, source=entry.span())
                    )
        for entry in self.entries:
            if entry.section != "system interface":
                continue
            values = entry.values.get("ip", [])
            host = network = None
            if values:
                try:
                    if len(values) >= 2:
                        host = AddressSet.parse(values[0])
                        network = AddressSet.from_mask(values[0], values[1])
                    elif "/" in values[0]:
                        host = AddressSet.parse(values[0].split("/")[0])
                        network = AddressSet.parse(values[0])
                except ValueError:
                    host = network = None
            if host is not None and network is not None:
                self.iface_addr[entry.name] = host
                self.iface_net[entry.name] = network
            self.interfaces.append(
                Interface(
                    entry.name,
                    addresses=host or AddressSet(),
                    zone=zone_of.get(entry.name),
                    nameif=entry.first("alias") or None,
                    vrf=entry.first("vdom") or None,
                    description=entry.first("description") or None,
                    source=entry.span(),
                )
            )
        central = {
            entry.vdom for entry in self.entries if entry.section == "system settings" and entry.flag("central-nat")
        }
        for entry in self.entries:
            family = _section_family(entry.section)
            if family == "firewall address":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "network",
                        self.resolve_address(entry.vdom, entry.name),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(
                    entry,
                    (
                        "type",
                        "subnet",
                        "ip6",
                        "start-ip",
                        "end-ip",
                        "fqdn",
                        "wildcard",
                        "interface",
                        "country",
                        "start-mac",
                        "end-mac",
                    ),
                )
            elif family == "firewall addrgrp":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "network-group",
                        self.resolve_address(entry.vdom, entry.name),
                        members=tuple(entry.values.get("member", [])),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(entry, ("member", "exclude", "exclude-member", "type"))
            elif entry.section == "firewall service custom":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "service",
                        services=self.resolve_service(entry.vdom, entry.name) or (),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(
                    entry,
                    (
                        "protocol",
                        "tcp-portrange",
                        "udp-portrange",
                        "sctp-portrange",
                        "icmptype",
                        "icmpcode",
                        "protocol-number",
                    ),
                )
            elif entry.section == "firewall service group":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "service-group",
                        services=self.resolve_service(entry.vdom, entry.name) or (),
                        members=tuple(entry.values.get("member", [])),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(entry, ("member",))
            elif family == "firewall vip":
                self.vip_rule(entry)
            elif family == "firewall vipgrp":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "vip-group",
                        self.resolve_address(entry.vdom, entry.name),
                        members=tuple(entry.values.get("member", [])),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(entry, ("member",))
            elif family == "firewall ippool":
                self.objects.append(
                    ObjectDef(
                        entry.name,
                        "pool",
                        self.pool_range(entry),
                        members=(f"type={entry.first('type', 'overload')}",),
                        context=entry.vdom,
                        source=entry.span(),
                    )
                )
                self._warn_unknown_keys(entry, ("type", "startip", "endip", "source-startip", "source-endip"))
            elif entry.section in ("firewall policy", "firewall policy6") and entry.name:
                self.policy(entry, entry.vdom in central)
            elif entry.section == "firewall central-snat-map" and entry.name:
                self.central_snat(entry)
            elif entry.section == "system settings" and entry.flag("central-nat"):
                self.diags.add(
                    "FORTI-CENTRAL-NAT",
                    "central NAT is enabled: policy 'nat' flags are ignored, source NAT comes from central-snat-map",
                    entry.lines.get("central-nat", entry.start),
                    entry.texts.get("central-nat", ""),
                )


_MAX_WILDCARD_HOLES = 8  # a wildcard with more scattered "don't care" bits expands to > 256 ranges


def _wildcard_holes(mask: str) -> int:
    """How many "don't care" bits of a FortiOS wildcard mask sit above its lowest care bit."""
    value = int(ipaddress.IPv4Address(mask))
    wild = (~value) & 0xFFFFFFFF
    low_run = 0
    while low_run < 32 and wild & (1 << low_run):
        low_run += 1
    return bin(wild >> low_run).count("1")


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _ports(spec: str) -> PortSet | None:
    try:
        return PortSet.parse(spec)
    except ValueError:
        return None


def _stretch(external: PortSet, mapped: PortSet) -> PortSet:
    """FortiOS maps an extport range onto a single mappedport start as a same-size range."""
    if len(external.ranges) == 1 and len(mapped.ranges) == 1:
        (ext_lo, ext_hi), (map_lo, map_hi) = external.ranges[0], mapped.ranges[0]
        if map_lo == map_hi and ext_hi > ext_lo and map_lo + (ext_hi - ext_lo) <= 65535:
            return PortSet.of((map_lo, map_lo + (ext_hi - ext_lo)))
    return mapped


def _port_token(protocol: int, token: str) -> Service | None:
    """FortiOS `dst[-hi][:src[-hi]]` port range token."""
    dst_text, _, src_text = token.partition(":")
    try:
        dst = PortSet.parse(dst_text) if dst_text else ANY_PORTS
        src = PortSet.parse(src_text) if src_text else ANY_PORTS
    except ValueError:
        return None
    return Service(protocol, src, dst)


@paused_gc
def parse(text: str) -> RuleSet:
    """FortiOS `show` / backup text to a RuleSet (never raises on bad input)."""
    diags = Diagnostics()
    collector = _Collector(text, diags)
    for number, path, line in collector.unmodelled:
        diags.add("FORTI-UNSUPPORTED-SECTION", f"'config {path}' is not modelled", number, line)
    resolver = _Resolver(collector, diags)
    resolver.run()
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(resolver.filters),
        nats=tuple(resolver.nats),
        bindings=tuple(resolver.bindings),
        interfaces=tuple(resolver.interfaces),
        objects=tuple(resolver.objects),
        diagnostics=diags.result(),
    )


def detect(text: str) -> bool:
    return _DETECT.search(text) is not None
