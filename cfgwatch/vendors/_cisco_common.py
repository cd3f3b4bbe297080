"""Cisco-style syntax shared by the IOS, ASA, NX-OS and EOS parsers.

One single-pass scanner cuts a config into top-level stanzas (skipping banners, so an `ip nat`
line inside a banner is never a rule); token parsers turn addresses, wildcards/netmasks, port
operators, ICMP types and ACL entries into the rule model; IOS-style `ip nat` statements (also used
by NX-OS) are parsed here once. The whole file is never handed to a hierarchy parser: the scanner
is what keeps a 50k-line config well under the 0.5 s budget.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import NamedTuple, TypeVar

from cfgwatch.model import (
    ANY_ADDRESS,
    ANY_PORTS,
    EMPTY_ADDRESS,
    EMPTY_PORTS,
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
    Service,
    Severity,
    SourceRef,
    port_number,
    protocol_number,
)
from cfgwatch.model._fastinit import fast_init
from cfgwatch.model.addresses import V4_MAX, V6_MAX
from cfgwatch.model.gcpause import collector_paused
from cfgwatch.model.ports import PORT_MAX, PORT_NAMES
from cfgwatch.model.text import config_lines

TCP, UDP, SCTP, ICMP, ICMP6, IGMP = 6, 17, 132, 1, 58, 2
PORT_PROTOCOLS = frozenset({TCP, UDP, SCTP})


class SyntaxProblem(Exception):
    """A statement the parser cannot model; the caller turns it into a Diagnostic with its prefix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------------------------
# scanning
# ---------------------------------------------------------------------------------------------


class Line(NamedTuple):
    """One non-blank, non-comment config line (1-based number, stripped text, indentation).

    A NamedTuple rather than a frozen dataclass: one is built per config line, and tuple
    construction is several times cheaper on this hot path.
    """

    number: int
    text: str
    indent: int
    after_break: bool = False  # a blank/comment line came right before: ends a remark block


class Stanza(NamedTuple):
    """A top-level line and the indented lines under it (NamedTuple for the same reason as Line)."""

    head: Line
    children: tuple[Line, ...] = ()

    @property
    def end_line(self) -> int:
        return self.children[-1].number if self.children else self.head.number

    @property
    def source(self) -> SourceRef:
        return SourceRef(self.head.number, self.end_line)


def with_text(line: Line, text: str) -> Line:
    """The same line with other text (a vendor module's respelling); cheaper than NamedTuple._replace."""
    return tuple.__new__(Line, (line.number, text, line.indent, line.after_break))


BANNER_TYPES = frozenset(
    {"motd", "login", "exec", "incoming", "slip-ppp", "prompt-timeout", "config-save", "enable", "asdm", "lcd"}
)


def scan(text: str, *, banner_style: str = "delimited") -> list[Stanza]:
    """Cut `text` into top-level stanzas in one pass.

    banner_style: "delimited" (IOS/NX-OS/EOS: `banner motd ^C ... ^C`, or EOS `banner motd` ... `EOF`)
    or "line" (ASA: every banner line stands alone, so nothing to skip).
    """
    stanzas: list[Stanza] = []
    head: Line | None = None
    children: list[Line] = []
    lines = config_lines(text)
    brk = False
    delimited = banner_style == "delimited"
    new = tuple.__new__  # Line(...) without the NamedTuple's Python-level __new__: one per config line
    numbered = enumerate(lines, 1)
    for number, raw in numbered:
        if not raw:
            brk = True
            continue
        if raw[0] in " \t":
            if head is None:
                continue
            lstripped = raw.lstrip()
            if not lstripped or lstripped[0] == "!":
                brk = True
                continue
            stripped = lstripped.rstrip()
            if stripped == "exit":
                brk = True
                continue
            children.append(new(Line, (number, stripped, len(raw) - len(lstripped), brk)))
            brk = False
            continue
        stripped = raw.rstrip()
        if stripped[:1] == "!" or stripped == "end" or not stripped:
            brk = True
            continue
        if head is not None:
            stanzas.append(new(Stanza, (head, tuple(children))))
            children = []
        if delimited and stripped.startswith("banner "):
            head = None
            skip = _skip_banner(stripped, lines, number) - number
            if skip > 0:
                next(islice(numbered, skip - 1, skip), None)  # consume the banner's lines
            brk = True
            continue
        head = new(Line, (number, stripped, 0, brk))
        brk = False
    if head is not None:
        stanzas.append(new(Stanza, (head, tuple(children))))
    return stanzas


def _skip_banner(stripped: str, lines: Sequence[str], index: int) -> int:
    """Index of the first line after the banner that starts on the line before `index`."""
    parts = stripped.split(None, 2)
    if len(parts) >= 2 and parts[1] in BANNER_TYPES:
        rest = parts[2] if len(parts) == 3 else ""
    else:
        rest = stripped.split(None, 1)[1] if len(parts) > 1 else ""
    if not rest:  # EOS: banner text runs until a line `EOF`
        while index < len(lines) and lines[index].strip() != "EOF":
            index += 1
        return index + 1
    delim = "^C" if rest.startswith("^C") else ("\x03" if rest.startswith("\x03") else rest[0])
    if delim in rest[len(delim) :]:
        return index  # single-line banner
    while index < len(lines):
        line = lines[index]
        index += 1
        if delim in line:
            return index
    return index


# ---------------------------------------------------------------------------------------------
# tokens: addresses
# ---------------------------------------------------------------------------------------------


def strip_comment(tokens: Sequence[str]) -> Sequence[str]:
    """Drop a trailing `! comment` (batfish-style test configs put them after entries)."""
    if "!" not in "".join(tokens):  # nearly every entry: one C-level search instead of a loop
        return tokens
    for index, token in enumerate(tokens):
        if token.startswith("!"):
            return tokens[:index]
    return tokens


_V4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")


_INET_PTON = socket.inet_pton
_AF_INET = socket.AF_INET
_FROM_BYTES = int.from_bytes


@lru_cache(maxsize=131072)
def v4_value(token: str) -> int | None:
    """Dotted-quad IPv4 text to its integer, None if it is not one (hot path: no ipaddress objects).

    Most tokens are not addresses (keywords, names, ports): three dots or nothing. A canonical dotted
    quad goes through the C `inet_pton`; what it refuses (leading zeros as in `010.0.0.1`, which the
    devices read as decimal) is left to the regular expression, so both paths accept the same texts.
    """
    if token.count(".") != 3:
        return None
    try:
        return _FROM_BYTES(_INET_PTON(_AF_INET, token), "big")
    except (OSError, ValueError):
        return _v4_value_slow(token)


def _v4_value_slow(token: str) -> int | None:
    found = _V4_RE.fullmatch(token)
    if found is None:
        return None
    a, b, c, d = (int(part) for part in found.groups())
    if a > 255 or b > 255 or c > 255 or d > 255:
        return None
    return (a << 24) | (b << 16) | (c << 8) | d


def is_v4(token: str) -> bool:
    return v4_value(token) is not None


def _v4_int(token: str) -> int:
    value = v4_value(token)
    if value is None:
        raise SyntaxProblem("BAD-ADDRESS", f"not an IPv4 address: {token!r}")
    return value


@lru_cache(maxsize=65536)
def v4_masked(address: str, mask: str, wildcard: bool) -> AddressSet:
    """IPv4 address plus wildcard (IOS) or netmask (ASA); non-contiguous wildcards expanded exactly."""
    mask_int = _v4_int(mask)
    wild = mask_int if wildcard else (~mask_int) & V4_MAX
    if wild & (wild + 1) == 0:
        start = _v4_int(address) & ~wild & V4_MAX
        return AddressSet(v4=((start, start | wild),))
    if not wildcard:
        raise SyntaxProblem("BAD-ADDRESS", f"netmask {mask} is not contiguous")
    try:
        return AddressSet.from_mask(address, mask, wildcard=True)
    except ValueError as exc:
        raise SyntaxProblem("BAD-ADDRESS", str(exc)) from exc


@lru_cache(maxsize=65536)
def host(address: str) -> AddressSet:
    """One IPv4 or IPv6 address."""
    value = v4_value(address)
    if value is not None:
        return AddressSet(((value, value),))
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError as exc:
        raise SyntaxProblem("BAD-ADDRESS", f"not an IP address: {address!r}") from exc
    return AddressSet(v6=((int(ip), int(ip)),))


@lru_cache(maxsize=65536)
def prefix(text: str) -> AddressSet:
    """`A/len` (IPv4 or IPv6, host bits ignored as the devices do)."""
    address, _, length = text.partition("/")
    value = v4_value(address)
    if value is not None and length.isdecimal():
        bits = int(length)
        if bits <= 32:
            wild = V4_MAX >> bits
            start = value & (V4_MAX ^ wild)
            return AddressSet(((start, start | wild),))
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise SyntaxProblem("BAD-ADDRESS", f"not a prefix: {text!r}") from exc
    interval = ((int(net.network_address), int(net.broadcast_address)),)
    return AddressSet(v4=interval) if net.version == 4 else AddressSet(v6=interval)


def address_range(first: str, last: str) -> AddressSet:
    """`range A B` as in ASA objects and NAT pools."""
    low, high = host(first), host(last)
    if low.v4 and high.v4 and low.v4[0][0] <= high.v4[0][0]:
        return AddressSet(v4=((low.v4[0][0], high.v4[0][0]),))
    if low.v6 and high.v6 and low.v6[0][0] <= high.v6[0][0]:
        return AddressSet(v6=((low.v6[0][0], high.v6[0][0]),))
    raise SyntaxProblem("BAD-ADDRESS", f"bad address range {first} {last}")


ANY_V4 = AddressSet(v4=((0, V4_MAX),))
ANY_V6 = AddressSet(v6=((0, V6_MAX),))


@dataclass
class ObjectTable:
    """Resolved objects and groups by name, filled by each vendor module before rules are parsed."""

    networks: dict[str, AddressSet] = field(default_factory=dict)
    services: dict[str, tuple[Service, ...]] = field(default_factory=dict)
    ports: dict[str, PortSet] = field(default_factory=dict)  # port groups (NX-OS portgroup, ASA typed)
    protocols: dict[str, tuple[int | None, ...]] = field(default_factory=dict)
    icmp_types: dict[str, tuple[tuple[int, int | None], ...]] = field(default_factory=dict)  # ASA icmp-type
    interfaces: dict[str, AddressSet] = field(default_factory=dict)  # ASA nameif -> its addresses

    def network(self, name: str) -> AddressSet:
        found = self.networks.get(name)
        if found is None:
            raise SyntaxProblem("UNKNOWN-OBJECT", f"undefined network object or group '{name}'")
        return found


@dataclass(frozen=True, slots=True)
class Syntax:
    """What an address token may look like on a platform."""

    wildcard: bool = True  # IOS/NX-OS/EOS write A WILDCARD; ASA writes A NETMASK
    asa: bool = False  # any4/any6, `object NAME`, `interface NAME`
    v6: bool = False  # an IPv6 list: `ipv6` as protocol means any


IOS_SYNTAX = Syntax()
ASA_SYNTAX = Syntax(wildcard=False, asa=True)


def parse_address(tokens: Sequence[str], index: int, table: ObjectTable, syntax: Syntax) -> tuple[AddressSet, int]:
    """One address spec starting at tokens[index]; returns the set and the next index."""
    if index >= len(tokens):
        raise SyntaxProblem("TRUNCATED", "address expected at end of line")
    token = tokens[index]
    if token == "any":
        return ANY_ADDRESS, index + 1
    if token == "host":
        return host(_need(tokens, index + 1, "address after 'host'")), index + 2
    if token in ("object-group", "addrgroup") or (syntax.asa and token == "object"):
        name = _need(tokens, index + 1, f"name after '{token}'")
        return table.network(name), index + 2
    if syntax.asa:
        if token == "any4":
            return ANY_V4, index + 1
        if token == "any6":
            return ANY_V6, index + 1
        if token == "interface":
            name = _need(tokens, index + 1, "interface name")
            found = table.interfaces.get(name)
            if found is None:
                raise SyntaxProblem("UNKNOWN-INTERFACE", f"no interface with nameif '{name}'")
            return found.named(f"interface {name}"), index + 2
    if "/" in token:
        return prefix(token), index + 1
    if v4_value(token) is not None:
        if index + 1 < len(tokens) and v4_value(tokens[index + 1]) is not None:
            return v4_masked(token, tokens[index + 1], syntax.wildcard), index + 2
        return host(token), index + 1
    if ":" in token:
        return host(token), index + 1
    raise SyntaxProblem("BAD-ADDRESS", f"unexpected token '{token}' where an address belongs")


def _need(tokens: Sequence[str], index: int, what: str) -> str:
    if index >= len(tokens):
        raise SyntaxProblem("TRUNCATED", f"{what} missing")
    return tokens[index]


# ---------------------------------------------------------------------------------------------
# tokens: ports, protocols, ICMP
# ---------------------------------------------------------------------------------------------

# Cisco/Arista port names that the model's shared table does not carry.
EXTRA_PORT_NAMES: dict[str, int] = {
    "microsoft-ds": 445,
    "bfd": 3784,
    "bfd-echo": 3785,
    "drip": 3949,
    "non500-isakmp": 4500,
    "mlag": 4432,
    "lpd": 515,
    "citrix-ica": 1494,
    "pcanywhere-data": 5631,
    "ctiqbe": 2748,
    "kerberos": 88,
    "snmp-trap": 162,
    "ntp": 123,
    "ssh": 22,
    "gtp-c": 2123,
    "gtp-u": 2152,
    "radius-acct": 1646,
    "rpc": 111,
    "ssl": 443,
    "www-http": 80,
}

PORT_OPERATORS = frozenset({"eq", "neq", "lt", "gt", "range"})


def port(token: str) -> int:
    """A port number or Cisco port name."""
    if token.isdecimal() and len(token) <= 5:  # hot path: a plain number (names and junk below)
        number = int(token)
        if number <= PORT_MAX:
            return number
    try:
        return port_number(token)
    except ValueError:
        value = EXTRA_PORT_NAMES.get(token.lower())
        if value is None:
            raise SyntaxProblem("UNKNOWN-PORT", f"unknown port name '{token}'") from None
        return value


def is_port_token(token: str) -> bool:
    if token.isdigit():
        return True
    lowered = token.lower()
    if lowered not in EXTRA_PORT_NAMES and lowered.strip() not in PORT_NAMES and not lowered.strip().isdigit():
        return False  # e.g. `log` after `eq 80`: no exception raised and caught to say so
    try:
        port(token)
    except SyntaxProblem:
        return False
    return True


def parse_port_op(tokens: Sequence[str], index: int) -> tuple[PortSet, int]:
    """`eq P [P...]`, `neq P`, `lt P`, `gt P`, `range A B` starting at tokens[index]."""
    op = _need(tokens, index, "port operator")
    if op not in PORT_OPERATORS:  # e.g. ASA `service tcp source <junk>`: a diagnostic, not a ValueError
        raise SyntaxProblem("BAD-PORT", f"unknown port operator '{op}'")
    if op == "range":
        first = port(_need(tokens, index + 1, "range start"))
        last = port(_need(tokens, index + 2, "range end"))
        if first > last:
            raise SyntaxProblem("BAD-PORT", f"port range {first} {last} runs backwards")
        return PortSet(((first, last),)), index + 3
    values = [port(_need(tokens, index + 1, f"port after '{op}'"))]
    index += 2
    if op in ("eq", "neq"):  # IOS accepts several ports after eq/neq
        while index < len(tokens) and is_port_token(tokens[index]) and not is_v4(tokens[index]):
            values.append(port(tokens[index]))
            index += 1
    first = values[0]
    if len(values) == 1 and op != "neq":  # one interval, already valid: no normalising needed
        if op == "eq":
            return PortSet(((first, first),)), index
        if op == "lt":
            return (PortSet(((0, first - 1),)) if first else EMPTY_PORTS), index
        return (PortSet(((first + 1, PORT_MAX),)) if first < PORT_MAX else EMPTY_PORTS), index
    return PortSet.from_operator(op, [str(value) for value in values]), index


# Protocol keywords beyond the model's table: Cisco spellings.
EXTRA_PROTOCOLS: dict[str, int | None] = {
    "ip": None,
    "ipv4": 4,
    "ahp": 51,
    "igrp": 9,
    "nd": 77,
    "snp": 109,
    "pptp": 47,
    "ipsec": 50,
    "icmp6": 58,
    "ipv6-icmp": 58,
    "sctp": 132,
}


@lru_cache(maxsize=4096)
def protocols(token: str, syntax: Syntax) -> tuple[int | None, ...]:
    """Protocol keyword/number to protocol numbers (`tcp-udp` is two; `ip` is any)."""
    lowered = token.lower()
    if lowered == "tcp-udp":
        return (TCP, UDP)
    if lowered == "ipv6" and syntax.v6:
        return (None,)
    if lowered == "icmp" and syntax.v6:  # `icmp` inside an IPv6 ACL is ICMPv6 (IOS, NX-OS, EOS)
        return (ICMP6,)
    if lowered in EXTRA_PROTOCOLS:
        return (EXTRA_PROTOCOLS[lowered],)
    try:
        return (protocol_number(lowered),)
    except ValueError:
        raise SyntaxProblem("UNKNOWN-PROTOCOL", f"unknown protocol '{token}'") from None


ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "echo-reply": (0, None),
    "unreachable": (3, None),
    "net-unreachable": (3, 0),
    "host-unreachable": (3, 1),
    "protocol-unreachable": (3, 2),
    "port-unreachable": (3, 3),
    "packet-too-big": (3, 4),
    "source-route-failed": (3, 5),
    "network-unknown": (3, 6),
    "host-unknown": (3, 7),
    "host-isolated": (3, 8),
    "dod-net-prohibited": (3, 9),
    "dod-host-prohibited": (3, 10),
    "net-tos-unreachable": (3, 11),
    "host-tos-unreachable": (3, 12),
    "administratively-prohibited": (3, 13),
    "host-precedence-unreachable": (3, 14),
    "precedence-unreachable": (3, 15),
    "source-quench": (4, None),
    "redirect": (5, None),
    "net-redirect": (5, 0),
    "host-redirect": (5, 1),
    "net-tos-redirect": (5, 2),
    "host-tos-redirect": (5, 3),
    "alternate-address": (6, None),
    "echo": (8, None),
    "echo-request": (8, None),
    "router-advertisement": (9, None),
    "router-solicitation": (10, None),
    "time-exceeded": (11, None),
    "ttl-exceeded": (11, 0),
    "reassembly-timeout": (11, 1),
    "parameter-problem": (12, None),
    "general-parameter-problem": (12, 0),
    "option-missing": (12, 1),
    "no-room-for-option": (12, 2),
    "timestamp-request": (13, None),
    "timestamp-reply": (14, None),
    "information-request": (15, None),
    "information-reply": (16, None),
    "mask-request": (17, None),
    "mask-reply": (18, None),
    "traceroute": (30, None),
    "conversion-error": (31, None),
    "mobile-redirect": (32, None),
}
# ICMPv6 names of IOS/IOS-XE `ipv6 access-list` (Cisco IOS IPv6 Command Reference, `permit icmp`), NX-OS
# `ipv6 access-list`, EOS `ipv6 access-list` and ASA `icmp6`: (type, code or None for every code).
ICMP6_TYPES: dict[str, tuple[int, int | None]] = {
    "unreachable": (1, None),
    "destination-unreachable": (1, None),
    "no-route": (1, 0),
    "no-admin": (1, 1),
    "beyond-scope": (1, 2),
    "address-unreachable": (1, 3),
    "host-unreachable": (1, 3),
    "port-unreachable": (1, 4),
    "packet-too-big": (2, None),
    "time-exceeded": (3, None),
    "hop-limit": (3, 0),
    "hop-limit-exceeded": (3, 0),
    "reassembly-timeout": (3, 1),
    "parameter-problem": (4, None),
    "header": (4, 0),
    "erroneous-header": (4, 0),
    "next-header": (4, 1),
    "unrecognized-next-header": (4, 1),
    "parameter-option": (4, 2),
    "unrecognized-option": (4, 2),
    "echo": (128, None),  # ASA icmp6
    "echo-request": (128, None),
    "echo-reply": (129, None),
    "mld-query": (130, None),
    "membership-query": (130, None),
    "mld-report": (131, None),
    "membership-report": (131, None),
    "mld-reduction": (132, None),
    "mld-done": (132, None),
    "membership-reduction": (132, None),
    "router-solicitation": (133, None),
    "router-advertisement": (134, None),
    "nd-ns": (135, None),
    "neighbor-solicitation": (135, None),
    "nd-na": (136, None),
    "neighbor-advertisement": (136, None),
    "redirect": (137, None),
    "neighbor-redirect": (137, None),
    "redirect-message": (137, None),
    "router-renumbering": (138, None),
    "renum-command": (138, 0),
    "renum-result": (138, 1),
    "renum-seq-number": (138, 255),
    "mldv2-report": (143, None),
}
IGMP_TYPES = frozenset({"host-query", "host-report", "pim", "dvmrp", "trace", "mtrace-response", "mtrace-route"})


def icmp_type(tokens: Sequence[str], index: int, proto: int) -> tuple[int | None, int | None, int]:
    """Optional ICMP type [code] (name or numbers) at tokens[index]."""
    if index >= len(tokens):
        return None, None, index
    token = tokens[index]
    names = ICMP6_TYPES if proto == ICMP6 else ICMP_TYPES
    if token in names:
        kind, code = names[token]
        return kind, code, index + 1
    if token.isdigit() and int(token) <= 255:
        if index + 1 < len(tokens) and tokens[index + 1].isdigit() and int(tokens[index + 1]) <= 255:
            return int(token), int(tokens[index + 1]), index + 2
        return int(token), None, index + 1
    return None, None, index


# ---------------------------------------------------------------------------------------------
# ACL entries
# ---------------------------------------------------------------------------------------------

ACTIONS = {"permit": Action.PERMIT, "deny": Action.DENY}
NO_OPTIONS: frozenset[str] = frozenset()
FLAG_OPTIONS = frozenset(
    {"established", "fragments", "log-input", "tracked", "ack", "fin", "psh", "rst", "syn", "urg", "ece", "cwr"}
)
ONE_ARG_OPTIONS = frozenset(
    {
        "dscp",
        "precedence",
        "tos",
        "time-range",
        "option",
        "reflect",
        "tcp-flags-mask",
        "tcp-option-length",
        "http-method",
        "hop-limit",
        "flow-label",
        "sequence",
        "vlan",
        "timeout",
        "udf",
    }
)
OPERATOR_OPTIONS = frozenset({"ttl", "packet-length"})
LOG_LEVELS = frozenset(
    {
        "emergencies",
        "alerts",
        "critical",
        "errors",
        "warnings",
        "notifications",
        "informational",
        "debugging",
    }
)


@fast_init
@dataclass(frozen=True, slots=True)
class Ace:
    """One parsed ACL entry before it becomes a FilterRule."""

    action: Action
    match: Match
    options: frozenset[str] = frozenset()
    enabled: bool = True


def parse_extended(tokens: Sequence[str], table: ObjectTable, syntax: Syntax) -> Ace:
    """`permit|deny PROTO SRC [PORTS] DST [PORTS] [icmp-type] [options]`."""
    action = ACTIONS.get(tokens[0]) if tokens else None
    if action is None:
        raise SyntaxProblem("ACL-UNSUPPORTED", f"expected permit/deny, got '{tokens[0] if tokens else ''}'")
    index = 1
    group: tuple[Service, ...] | None = None
    token = _need(tokens, index, "protocol")
    if token == "object-group" or (syntax.asa and token == "object"):
        name = _need(tokens, index + 1, "service group name")
        if name in table.services:
            group = table.services[name]
            protos: tuple[int | None, ...] = ()
        elif name in table.protocols:
            protos = table.protocols[name]
        else:
            raise SyntaxProblem("UNKNOWN-OBJECT", f"undefined service object or group '{name}'")
        index += 2
    else:
        protos = protocols(token, syntax)
        index += 1
    port_capable = bool(protos) and PORT_PROTOCOLS.issuperset(protos)
    single = protos[0] if len(protos) == 1 else -1  # the one protocol of the entry (-1: several or none)
    options: set[str] = set()
    if syntax.asa:
        index = _asa_identity(tokens, index, options, "source")
    src, index = parse_address(tokens, index, table, syntax)
    src_ports, index = _maybe_ports(tokens, index, table, port_capable)
    if syntax.asa:
        index = _asa_identity(tokens, index, options, "destination")
    dst, index = parse_address(tokens, index, table, syntax)
    dst_ports, index = _maybe_ports(tokens, index, table, port_capable)
    icmp_kind: int | None = None
    icmp_code: int | None = None
    icmp_group: tuple[Service, ...] | None = None
    if single in (ICMP, ICMP6) and index < len(tokens) and tokens[index] == "object-group":
        # ASA `permit icmp SRC DST object-group NAME`: an `object-group icmp-type` of ICMP types
        name = _need(tokens, index + 1, "icmp-type group name")
        if name not in table.icmp_types:
            raise SyntaxProblem("UNKNOWN-OBJECT", f"undefined icmp-type object-group '{name}'")
        proto = single or ICMP
        icmp_group = tuple(Service(proto, icmp_type=t, icmp_code=c).named(name) for t, c in table.icmp_types[name])
        index += 2
    elif single in (ICMP, ICMP6):
        icmp_kind, icmp_code, index = icmp_type(tokens, index, single or ICMP)
    elif single == IGMP and index < len(tokens) and (tokens[index] in IGMP_TYPES or tokens[index].isdigit()):
        options.add(f"igmp-type {tokens[index]}")
        index += 1
    enabled = True
    while index < len(tokens):
        token = tokens[index]
        if token in FLAG_OPTIONS:
            options.add(token)
            index += 1
        elif token == "log":
            index += 1
            disabled = False
            while index < len(tokens) and (
                tokens[index].isdigit() or tokens[index] in LOG_LEVELS or tokens[index] in ("disable", "default")
            ):
                disabled = disabled or tokens[index] == "disable"
                index += 1
            if index + 1 < len(tokens) and tokens[index] == "interval":
                index += 2
            if not disabled:
                options.add("log")
        elif token == "inactive":
            enabled = False
            index += 1
        elif token in ONE_ARG_OPTIONS:
            options.add(f"{token} {_need(tokens, index + 1, f'value after {token}')}")
            index += 2
        elif token in OPERATOR_OPTIONS:
            values, index = _operator_option(tokens, index)
            options.add(values)
        elif token in ("match-any", "match-all"):
            flags = [token]
            index += 1
            while index < len(tokens) and tokens[index][:1] in "+-" and len(tokens[index]) > 1:
                flags.append(tokens[index])
                index += 1
            options.add(" ".join(flags))
        elif token == "nve":
            options.add(" ".join(tokens[index : index + 3]))
            index += 3
        else:
            raise SyntaxProblem("ACL-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    if group is not None:
        services = group
        if not (src_ports.is_any and dst_ports.is_any):
            raise SyntaxProblem("ACL-UNSUPPORTED", "ports after a service group")
    elif icmp_group is not None:
        services = icmp_group
    elif port_capable and len(protos) == 1:  # the common case: one of tcp/udp/sctp
        services = (Service(single, src_ports, dst_ports, icmp_kind, icmp_code),)
    else:
        services = tuple(
            Service(
                proto,
                src_ports if proto in PORT_PROTOCOLS else ANY_PORTS,
                dst_ports if proto in PORT_PROTOCOLS else ANY_PORTS,
                icmp_kind,
                icmp_code,
            )
            for proto in protos
        )
    return Ace(action, Match(src, dst, services), frozenset(options) if options else NO_OPTIONS, enabled)


# ASA identity-firewall and TrustSec criteria written before an address: `user DOMAIN\\NAME`,
# `user-group DOMAIN\\GROUP`, `object-group-user NAME`, `security-group name|tag X`, `object-group-security NAME`.
_ASA_IDENTITY_ONE = frozenset({"user", "user-group", "object-group-user", "object-group-security"})


def _asa_identity(tokens: Sequence[str], index: int, options: set[str], side: str) -> int:
    """Consume ASA user / security-group criteria before an address; they narrow which packets an entry
    matches, so they are kept as options (the address match stays as written)."""
    while index < len(tokens):
        token = tokens[index]
        if token in _ASA_IDENTITY_ONE:
            options.add(f"{side} {token} {_need(tokens, index + 1, f'name after {token}')}")
            index += 2
        elif token == "security-group" and index + 2 < len(tokens) and tokens[index + 1] in ("name", "tag"):
            options.add(f"{side} security-group {tokens[index + 1]} {tokens[index + 2]}")
            index += 3
        else:
            return index
    return index


def _maybe_ports(tokens: Sequence[str], index: int, table: ObjectTable, port_capable: bool) -> tuple[PortSet, int]:
    if index >= len(tokens):
        return ANY_PORTS, index
    token = tokens[index]
    if port_capable and token in PORT_OPERATORS:
        return parse_port_op(tokens, index)
    if token == "portgroup" or (
        token == "object-group" and tokens[index + 1 : index + 2] and tokens[index + 1] in table.ports
    ):
        name = _need(tokens, index + 1, "port group name")
        found = table.ports.get(name)
        if found is None:
            raise SyntaxProblem("UNKNOWN-OBJECT", f"undefined port group '{name}'")
        return found, index + 2
    return ANY_PORTS, index


def _operator_option(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """`ttl [eq|lt|gt|neq] N`, `ttl range A B`, `packet-length ...` kept as option text."""
    name = tokens[index]
    index += 1
    op = _need(tokens, index, f"value after {name}")
    if op == "range":
        return (
            f"{name} range {_need(tokens, index + 1, 'range start')} {_need(tokens, index + 2, 'range end')}",
            index + 3,
        )
    if op in PORT_OPERATORS:
        return f"{name} {op} {_need(tokens, index + 1, f'{name} value')}", index + 2
    return f"{name} eq {op}", index + 1


def parse_standard(tokens: Sequence[str], table: ObjectTable, syntax: Syntax, *, as_dst: bool = False) -> Ace:
    """`permit|deny [host] A [WILDCARD] | any [log]` (ASA standard ACLs match destinations)."""
    action = ACTIONS.get(tokens[0]) if tokens else None
    if action is None:
        raise SyntaxProblem("ACL-UNSUPPORTED", f"expected permit/deny, got '{tokens[0] if tokens else ''}'")
    addresses, index = parse_address(tokens, 1, table, syntax)
    options: set[str] = set()
    for token in tokens[index:]:
        if token == "log":
            options.add("log")
        elif token.isdigit() or token in LOG_LEVELS or token in ("interval",):
            continue
        else:
            raise SyntaxProblem("ACL-UNSUPPORTED", f"cannot model '{token}' in a standard ACL entry")
    match = Match(dst=addresses) if as_dst else Match(src=addresses)
    return Ace(action, match, frozenset(options))


class Remarks:
    """Attach remarks to the entries that follow them.

    Consecutive remark lines form one comment; it applies to the following entries until the next
    remark, or until a blank/`!` line separates an entry from it (so an entry added later, away
    from a ticket remark, does not inherit that ticket).
    """

    __slots__ = ("comment", "last_was_remark")

    def __init__(self) -> None:
        self.comment: str | None = None
        self.last_was_remark = False

    def remark(self, text: str, after_break: bool) -> None:
        if self.last_was_remark and not after_break and self.comment is not None:
            self.comment = f"{self.comment}\n{text}"
        else:
            self.comment = text
        self.last_was_remark = True

    def entry(self, after_break: bool) -> str | None:
        if after_break and not self.last_was_remark:
            self.comment = None
        self.last_was_remark = False
        return self.comment


# ---------------------------------------------------------------------------------------------
# object groups written the IOS / NX-OS way
# ---------------------------------------------------------------------------------------------


def network_member(tokens: Sequence[str], table: ObjectTable, *, wildcard: bool) -> AddressSet:
    """One member line of an IOS `object-group network` / NX-OS `object-group ip address`."""
    if tokens and tokens[0].isdigit():  # NX-OS sequence number
        tokens = tokens[1:]
    if not tokens:
        raise SyntaxProblem("OBJECT-UNSUPPORTED", "empty member")
    head = tokens[0]
    if head == "group-object" and len(tokens) == 2:
        # a nested group may be defined further down: UNKNOWN-OBJECT lets define_in_order retry it
        return table.network(tokens[1])
    if head in ("group-object", "network-object"):
        return network_member(tokens[1:], table, wildcard=wildcard)
    if head == "object" and len(tokens) == 2:
        return table.network(tokens[1])
    if head == "range" and len(tokens) == 3:
        return address_range(tokens[1], tokens[2])
    if head == "any":
        return ANY_ADDRESS
    if head == "host" and len(tokens) == 2:
        return host(tokens[1])
    if len(tokens) == 1 and tokens[0] in table.networks:
        return table.networks[tokens[0]]
    if len(tokens) == 1 and "/" in head:
        return prefix(head)
    if len(tokens) == 2 and is_v4(tokens[0]) and is_v4(tokens[1]):
        return v4_masked(tokens[0], tokens[1], wildcard)
    if len(tokens) == 1 and (is_v4(head) or ":" in head):
        return host(head)
    raise SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model group member '{' '.join(tokens)}'")


def service_member(tokens: Sequence[str], table: ObjectTable, syntax: Syntax) -> tuple[Service, ...]:
    """IOS `object-group service` member: `tcp eq 80`, `tcp-udp range 1 5`, `icmp echo`, `tcp source eq 1`."""
    if not tokens:
        raise SyntaxProblem("OBJECT-UNSUPPORTED", "empty member")
    if tokens[0] == "group-object" and len(tokens) == 2:
        found = table.services.get(tokens[1])
        if found is None:
            raise SyntaxProblem("UNKNOWN-OBJECT", f"undefined service group '{tokens[1]}'")
        return found
    protos = protocols(tokens[0], syntax)
    index = 1
    src_ports = dst_ports = ANY_PORTS
    kind: int | None = None
    code: int | None = None
    if all(p in PORT_PROTOCOLS for p in protos):
        if index < len(tokens) and tokens[index] == "source":
            src_ports, index = parse_port_op(tokens, index + 1)
        if index < len(tokens) and tokens[index] == "destination":
            index += 1
        if index < len(tokens) and tokens[index] in PORT_OPERATORS:
            dst_ports, index = parse_port_op(tokens, index)
    elif len(protos) == 1 and protos[0] in (ICMP, ICMP6):
        kind, code, index = icmp_type(tokens, index, protos[0] or ICMP)
    if index != len(tokens):
        raise SyntaxProblem("OBJECT-UNSUPPORTED", f"cannot model service member '{' '.join(tokens)}'")
    return tuple(Service(proto, src_ports, dst_ports, kind, code) for proto in protos)


def union_all(sets: Iterable[AddressSet]) -> AddressSet:
    result = EMPTY_ADDRESS
    for item in sets:
        result = result.union(item)
    return result


def dedupe_names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# ---------------------------------------------------------------------------------------------
# IOS-style `ip nat` statements (IOS / IOS-XE and NX-OS)
# ---------------------------------------------------------------------------------------------

NAT_FLAGS = frozenset(
    {
        "extendable",
        "no-alias",
        "no-payload",
        "add-route",
        "match-in-vrf",
        "reversible",
        "oer",
        "stateless",
        "portmap",
        "no-stateful",
        "route-map-check",
        "egress",
    }
)
NAT_ONE_ARG = frozenset({"redundancy", "mapping-id", "group", "portmap"})
NAT_SETTINGS = frozenset(
    {
        "translation",
        "log",
        "service",
        "settings",
        "create",
        "stateful",
        "sip-sbc",
        "switchover",
        "name",
        "portmap",
        "piggyback-support",
        "host",
        "limit",
        "redundancy",
        "hairpin",
        "65",
        "sip",
        "rtsp",
        "helper",
        "dns",
        "ipv6",
    }
)


@dataclass(frozen=True, slots=True)
class NatContext:
    """What an `ip nat` statement refers to: ACLs, route-maps and pools, resolved by the vendor module."""

    acl_match: Callable[[str], tuple[AddressSet, AddressSet]]  # ACL -> (sources, destinations) it permits
    route_map_match: Callable[[str], tuple[AddressSet, AddressSet]]
    pool: Callable[[str], AddressSet]
    acl_services: Callable[[str], tuple[Service, ...] | None] = lambda _name: None  # None: any service
    interface_address: Callable[[str], AddressSet | None] = lambda _name: None  # an interface's one IPv4 address


def parse_ios_nat(tokens: Sequence[str], source: SourceRef, ctx: NatContext) -> NatRule | None:
    """`ip nat inside|outside source|destination ...` -> NatRule; None for global settings lines."""
    if len(tokens) < 3:
        raise SyntaxProblem("NAT-UNSUPPORTED", "incomplete ip nat statement")
    role = tokens[2]
    if role not in ("inside", "outside"):
        if role in NAT_SETTINGS:
            return None
        raise SyntaxProblem("NAT-UNSUPPORTED", f"cannot model 'ip nat {role}'")
    if len(tokens) < 5:
        raise SyntaxProblem("NAT-UNSUPPORTED", "incomplete ip nat statement")
    direction, mode = tokens[3], tokens[4]
    other = "outside" if role == "inside" else "inside"
    if direction == "source" and mode == "static":
        return _ios_nat_static(tokens, 5, role, other, source, ctx)
    if direction == "source" and mode in ("list", "route-map"):
        return _ios_nat_dynamic(tokens, role, other, source, ctx)
    if direction == "destination" and mode in ("list", "route-map"):
        return _ios_nat_dynamic(tokens, role, other, source, ctx, destination=True)
    raise SyntaxProblem("NAT-UNSUPPORTED", f"cannot model 'ip nat {role} {direction} {mode}'")


def _ios_nat_static(
    tokens: Sequence[str], index: int, role: str, other: str, source: SourceRef, ctx: NatContext
) -> NatRule:
    proto: int | None = None
    network = False
    if index < len(tokens) and tokens[index] in ("tcp", "udp", "sctp"):
        proto = protocols(tokens[index], IOS_SYNTAX)[0]
        index += 1
    elif index < len(tokens) and tokens[index] == "esp":
        proto = 50
        index += 1
    if index < len(tokens) and tokens[index] == "network":
        network = True
        index += 1
    local_text = _need(tokens, index, "local address")
    index += 1
    local_port: int | None = None
    if proto in PORT_PROTOCOLS:
        local_port = port(_need(tokens, index, "local port"))
        index += 1
    translate_if: str | None = None
    global_text: str | None = None
    global_set: AddressSet | None = None
    if _need(tokens, index, "global address") == "interface":
        translate_if = _need(tokens, index + 1, "interface name")
        index += 2
    else:
        global_text = tokens[index]
        global_set = host(global_text)
        index += 1
    global_port: int | None = None
    if proto in PORT_PROTOCOLS:
        global_port = port(_need(tokens, index, "global port"))
        index += 1
    if translate_if is not None:
        # `interface X` as the global address is X's own address: a static mapping to a known address,
        # like the explicit form (the interface stays named in the address); unknown (DHCP): kept as is
        global_set = ctx.interface_address(translate_if)
        if global_set is not None:
            translate_if = None
    local = host(local_text)
    if network:
        mask = _need(tokens, index, "network mask")
        index += 1
        if mask.startswith("/"):
            local = prefix(local_text + mask)
            global_set = prefix(global_text + mask) if global_text is not None else None
        elif is_v4(mask):
            local = v4_masked(local_text, mask, False)
            global_set = v4_masked(global_text, mask, False) if global_text is not None else None
        else:
            raise SyntaxProblem("NAT-UNSUPPORTED", f"bad network mask '{mask}'")
    context, options, _rest = _nat_trailer(tokens, index)
    services = (Service(proto, PortSet.of(local_port)),) if proto is not None and local_port is not None else None
    if services is None and proto is not None:
        services = (Service(proto),)
    return NatRule(
        kind=NatKind.STATIC,
        match=Match(src=local, services=services) if services else Match(src=local),
        translated_src=global_set,
        translated_src_ports=PortSet.of(global_port) if global_port is not None else None,
        ingress=(role,),
        egress=(other,),
        bidirectional=True,
        translate_to_interface=translate_if,
        context=context,
        options=options,
        source=source,
    )


def _nat_trailer(tokens: Sequence[str], index: int) -> tuple[str | None, frozenset[str], dict[str, str]]:
    """vrf, flags and keyword arguments after the addresses of an `ip nat` statement."""
    context: str | None = None
    options: set[str] = set()
    values: dict[str, str] = {}
    while index < len(tokens):
        token = tokens[index]
        if token == "vrf":
            context = _need(tokens, index + 1, "vrf name")
            index += 2
        elif token == "route-map":
            name = _need(tokens, index + 1, "route-map name")
            options.add(f"route-map {name}")
            index += 2
        elif token in ("pool", "interface"):
            values[token] = _need(tokens, index + 1, f"{token} name")
            index += 2
        elif token == "overload":
            values["overload"] = "yes"
            index += 1
        elif token in NAT_FLAGS:
            options.add(token)
            index += 1
        elif token in NAT_ONE_ARG:
            options.add(f"{token} {_need(tokens, index + 1, f'value after {token}')}")
            index += 2
        else:
            raise SyntaxProblem("NAT-UNSUPPORTED", f"cannot model '{' '.join(tokens[index:])}'")
    return context, frozenset(options), values


def _ios_nat_dynamic(
    tokens: Sequence[str],
    role: str,
    other: str,
    source: SourceRef,
    ctx: NatContext,
    *,
    destination: bool = False,
) -> NatRule:
    by, ref = tokens[4], _need(tokens, 5, f"{tokens[4]} name")
    src, dst = ctx.acl_match(ref) if by == "list" else ctx.route_map_match(ref)
    context, options, values = _nat_trailer(tokens, 6)
    pool_name = values.get("pool")
    interface = values.get("interface")
    if pool_name is None and interface is None:
        raise SyntaxProblem("NAT-UNSUPPORTED", "dynamic NAT without pool or interface")
    translated = ctx.pool(pool_name).named(pool_name) if pool_name is not None else None
    if destination:
        # The ACL names the destination (the virtual address clients connect to). A standard ACL (every
        # permit with any destination) holds it in its one address field; an extended ACL holds it in
        # its destination, beside the clients' sources and the services (`permit tcp any host V eq 8080`).
        services = ctx.acl_services(ref) if by == "list" else None
        if dst.is_any:
            match = Match(dst=src, services=services) if services else Match(dst=src)
        else:
            match = Match(src=src, dst=dst, services=services) if services else Match(src=src, dst=dst)
        return NatRule(
            kind=NatKind.DESTINATION,
            match=match,
            translated_dst=translated,
            ingress=(other,),
            egress=(role,),
            context=context,
            options=options,
            source=source,
        )
    overload = "overload" in values or interface is not None
    return NatRule(
        kind=NatKind.PAT if overload else NatKind.DYNAMIC,
        match=Match(src=src, dst=dst),
        translated_src=translated,
        translate_to_interface=interface,
        ingress=(role,),
        egress=(other,),
        context=context,
        options=options,
        source=source,
    )


def parse_nat_pool(tokens: Sequence[str], children: Sequence[Line]) -> AddressSet:
    """`ip nat pool NAME START END (netmask M | prefix-length N) ...` or `address|range A B` children."""
    rest = list(tokens[4:])
    if len(rest) >= 2 and (is_v4(rest[0]) or ":" in rest[0]) and (is_v4(rest[1]) or ":" in rest[1]):
        return address_range(rest[0], rest[1])
    result = EMPTY_ADDRESS
    for child in children:
        parts = child.text.split()
        if len(parts) >= 3 and parts[0] in ("address", "range"):
            result = result.union(address_range(parts[1], parts[2]))
    if result.is_empty:
        raise SyntaxProblem("NAT-POOL-UNSUPPORTED", "NAT pool without addresses")
    return result


def acl_permits(rules: Sequence[tuple[Action, Match]]) -> tuple[AddressSet, AddressSet, bool]:
    """Union of permitted sources and destinations of an ACL used as a NAT match; True if it has denies."""
    src = EMPTY_ADDRESS
    dst = EMPTY_ADDRESS
    denies = False
    for action, match in rules:
        if action is Action.PERMIT:
            src = src.union(match.src)
            dst = dst.union(match.dst)
        else:
            denies = True
    return AddressSet(src.v4, src.v6, src.fqdns), AddressSet(dst.v4, dst.v6, dst.fqdns), denies


def diagnostic(
    prefix_code: str, problem: SyntaxProblem, line: Line, severity: Severity = Severity.WARNING
) -> Diagnostic:
    return Diagnostic(f"{prefix_code}-{problem.code}", problem.message, line.number, line.text, severity)


def object_def(
    name: str,
    kind: str,
    stanza: Stanza,
    *,
    addresses: AddressSet | None = None,
    services: tuple[Service, ...] = (),
    members: tuple[str, ...] = (),
    context: str | None = None,
) -> ObjectDef:
    return ObjectDef(name, kind, addresses, services, members, context, stanza.source)


# ---------------------------------------------------------------------------------------------
# ACL bodies and interfaces (shared shapes)
# ---------------------------------------------------------------------------------------------

ACL_IGNORED = frozenset({"statistics", "counters"})  # per-entry hit counters: telemetry, not policy


@fast_init
@dataclass(frozen=True, slots=True)
class AclItem:
    """One ACL line: tokens from the keyword (permit/deny/remark/...) on, plus its sequence number."""

    line: Line
    tokens: tuple[str, ...]
    sequence: int | None = None


def acl_item(line: Line, tokens: Sequence[str]) -> AclItem:
    """Split off a leading sequence number, or IOS IPv6 `sequence N` (leading as IOS-XE prints it, or trailing)."""
    seq: int | None = None
    if tokens and tokens[0].isdigit():
        seq, tokens = int(tokens[0]), tokens[1:]
    elif len(tokens) >= 3 and tokens[0] == "sequence" and tokens[1].isdigit():
        seq, tokens = int(tokens[1]), tokens[2:]
    elif len(tokens) >= 2 and tokens[-2] == "sequence" and tokens[-1].isdigit():
        seq, tokens = int(tokens[-1]), tokens[:-2]
    return AclItem(line, tuple(tokens), seq)


def build_acl(
    name: str,
    items: Sequence[AclItem],
    table: ObjectTable,
    syntax: Syntax,
    *,
    code: str,
    diags: list[Diagnostic],
    standard: bool = False,
    renumber: bool = False,
    ordered: bool = False,
    as_dst: bool = False,
    context: str | None = None,
) -> list[FilterRule]:
    """Turn ACL lines into FilterRules in evaluation order, remarks attached as comments.

    renumber: NX-OS/EOS semantics -- an entry without a number gets 10 more than the highest so far,
    and entries are evaluated in number order whatever order they were written in.
    ordered: IOS named ACLs -- evaluated in number order the same way, but sequences are reported as
    written (an unnumbered entry keeps None).
    """
    del context  # ACL names are global on these platforms; kept for call-site symmetry
    work = list(items)
    if renumber or ordered:
        highest = 0
        keys: list[tuple[int, int]] = []
        for position, item in enumerate(work):
            seq = item.sequence
            if seq is None:
                seq = highest + 10
                if renumber:
                    work[position] = AclItem(item.line, item.tokens, seq)
            highest = max(highest, seq)
            keys.append((seq, position))
        if renumber or keys != sorted(keys):  # written in order (the usual case): nothing to move
            work = [work[position] for _seq, position in sorted(keys)]
    remarks = Remarks()
    rules: list[FilterRule] = []
    for item in work:
        tokens = item.tokens
        if not tokens:
            continue
        keyword = tokens[0]
        if keyword == "remark":
            text = item.line.text.split("remark", 1)[1].strip()
            remarks.remark(text, item.line.after_break)
            continue
        if keyword in ACL_IGNORED:
            continue
        try:
            clean = strip_comment(tokens)
            if standard:
                ace = parse_standard(clean, table, syntax, as_dst=as_dst)
            else:
                ace = parse_extended(clean, table, syntax)
        except SyntaxProblem as problem:
            if not problem.code.startswith("ACL-"):
                problem = SyntaxProblem(f"ACL-{problem.code}", problem.message)
            diags.append(diagnostic(code, problem, item.line))
            remarks.entry(item.line.after_break)
            continue
        number = item.line.number
        comment = remarks.entry(item.line.after_break)
        # positional: the hot path of every Cisco-family parse (list_name, action, match, name, from_zones,
        # to_zones, enabled, options, comment, sequence, source)
        rules.append(
            FilterRule(
                name, ace.action, ace.match, None, (), (), ace.enabled, ace.options, comment, item.sequence,
                SourceRef(number, number),
            )
        )  # fmt: skip
    return rules


@dataclass
class InterfaceInfo:
    """An interface stanza: the Interface, its bindings, and the lines left for the vendor module."""

    interface: Interface
    bindings: list[Binding]
    other: list[Line]


_INTERFACE_HEADS = frozenset({"description", "ip", "ipv6", "vrf", "zone-member", "nameif", "security-level"})


def parse_interface(stanza: Stanza, diags: list[Diagnostic], code: str) -> InterfaceInfo:
    """`interface NAME` with addresses, VRF, ACL bindings, NAT roles, zone, nameif, security-level."""
    name = stanza.head.text.split(None, 1)[1] if " " in stanza.head.text else ""
    addresses = EMPTY_ADDRESS
    vrf: str | None = None
    zone: str | None = None
    nameif: str | None = None
    level: int | None = None
    description: str | None = None
    pending: list[tuple[BindingKind, str, str, Line]] = []
    other: list[Line] = []
    for line in stanza.children:
        tokens = line.text.split()
        head = tokens[0]
        if head not in _INTERFACE_HEADS:  # most lines (shutdown, speed, mtu ...): left for the vendor module
            other.append(line)
            continue
        try:
            if head == "description":
                description = line.text.split(None, 1)[1] if len(tokens) > 1 else ""
            elif head == "ip" and len(tokens) >= 3 and tokens[1] == "address":
                if tokens[2] in ("dhcp", "negotiated", "unnumbered", "pool"):
                    continue
                if "/" in tokens[2]:  # NX-OS/EOS `ip address A/len`: the interface's own address is A
                    addresses = addresses.union(host(tokens[2].split("/", 1)[0]))
                elif len(tokens) >= 4 and v4_value(tokens[2]) is not None and v4_value(tokens[3]) is not None:
                    addresses = addresses.union(host(tokens[2]))
                else:
                    other.append(line)
            elif head == "ipv6" and len(tokens) >= 3 and tokens[1] == "address" and "/" in tokens[2]:
                addresses = addresses.union(host(tokens[2].split("/", 1)[0]))
            elif (head == "ip" and tokens[1:2] == ["vrf"] and tokens[2:3] == ["forwarding"]) or (
                head == "vrf" and len(tokens) >= 3 and tokens[1] in ("forwarding", "member")
            ):
                vrf = tokens[-1]
            elif head == "vrf" and len(tokens) == 2:
                vrf = tokens[1]
            elif head in ("ip", "ipv6") and len(tokens) >= 4 and tokens[1] in ("access-group", "traffic-filter"):
                pending.append((BindingKind.FILTER, tokens[2], tokens[3], line))
            elif head == "ip" and len(tokens) >= 5 and tokens[1] == "port" and tokens[2] == "access-group":
                pending.append((BindingKind.FILTER, tokens[3], tokens[4], line))
            elif (
                head == "ip"
                and len(tokens) == 3
                and tokens[1] == "nat"
                and tokens[2] in ("inside", "outside", "enable")
            ):
                pending.append((BindingKind.NAT_ROLE, tokens[2], "", line))
            elif head == "zone-member" and len(tokens) >= 3:
                zone = tokens[-1]
                pending.append((BindingKind.ZONE, zone, "", line))
            elif head == "nameif" and len(tokens) == 2:
                nameif = tokens[1]
            elif head == "security-level" and len(tokens) == 2 and tokens[1].isdigit():
                level = int(tokens[1])
            else:
                other.append(line)
        except SyntaxProblem as problem:
            diags.append(diagnostic(code, problem, line))
    bindings = [
        Binding(kind, ref, name, direction, vrf, SourceRef(line.number, line.number))
        for kind, ref, direction, line in pending
    ]
    interface = Interface(name, addresses, zone, nameif, vrf, level, description, stanza.source)
    return InterfaceInfo(interface, bindings, other)


def read_group_members(
    stanza: Stanza, nested: str, read: Callable[[list[str]], None], *, final: bool, code: str
) -> tuple[list[str], list[Diagnostic]] | None:
    """Feed each member line of an object-group (descriptions skipped) to `read`.

    Returns the names of nested groups (`nested NAME` lines) and a diagnostic per unreadable member, or
    None when a member names a group not defined yet and this is not the `final` round of
    `define_in_order` (the group is then retried after the others).
    """
    members: list[str] = []
    problems: list[Diagnostic] = []
    for line in stanza.children:
        parts = line.text.split()
        if parts[0] == "description":
            continue
        if parts[0] == nested and len(parts) == 2:
            members.append(parts[1])
        try:
            read(parts)
        except SyntaxProblem as problem:
            if problem.code == "UNKNOWN-OBJECT" and not final:
                return None
            problems.append(diagnostic(code, problem, line))
    return members, problems


def define_in_order(stanzas: Sequence[Stanza], define: Callable[[Stanza, bool], bool]) -> None:
    """Define objects/groups, retrying those whose members refer to groups defined further down.

    `define(stanza, final)` returns False to be retried later (only while `final` is False); the
    last round runs with final=True so unresolvable references end as diagnostics.
    """
    pending = list(stanzas)
    while pending:
        retry = [stanza for stanza in pending if not define(stanza, False)]
        if len(retry) == len(pending):
            break
        pending = retry
    else:
        return
    for stanza in pending:
        define(stanza, True)


def nat_context(
    acls: dict[str, list[FilterRule]],
    route_maps: dict[str, list[str]],
    pools: dict[str, AddressSet],
    diags: list[Diagnostic],
    line: Line,
    code: str,
    interfaces: Mapping[str, Interface] | None = None,
) -> NatContext:
    """Resolvers for one `ip nat` line (shared with NX-OS): ACL permits, route-map ACLs, pools."""

    def acl_match(name: str) -> tuple[AddressSet, AddressSet]:
        rules = acls.get(name)
        if rules is None:
            raise SyntaxProblem("NAT-UNKNOWN-ACL", f"NAT refers to undefined ACL '{name}'")
        src, dst, denies = acl_permits([(rule.action, rule.match) for rule in rules])
        if denies:
            diags.append(
                Diagnostic(
                    f"{code}-NAT-ACL-DENY",
                    f"ACL '{name}' has deny entries; the NAT match is the union of its permits",
                    line.number,
                    line.text,
                    Severity.INFO,
                )
            )
        return src.named(name), (dst if dst.is_any else dst.named(name))

    def route_map_match(name: str) -> tuple[AddressSet, AddressSet]:
        if name not in route_maps:
            raise SyntaxProblem("NAT-UNKNOWN-ROUTE-MAP", f"NAT refers to undefined route-map '{name}'")
        names = route_maps[name]
        if not names:
            return ANY_ADDRESS.named(name), ANY_ADDRESS
        src = AddressSet()
        dst = AddressSet()
        for acl in names:
            acl_src, acl_dst = acl_match(acl)
            src, dst = src.union(acl_src), dst.union(acl_dst)
        label = dedupe_names((name, *names))
        return src.named(*label), (dst if dst.is_any else dst.named(*label))

    def pool(name: str) -> AddressSet:
        found = pools.get(name)
        if found is None:
            raise SyntaxProblem("NAT-UNKNOWN-POOL", f"NAT refers to undefined pool '{name}'")
        return found

    def acl_services(name: str) -> tuple[Service, ...] | None:
        """The services an ACL's permits match (None when one of them matches every service)."""
        found: dict[Service, None] = {}
        for rule in acls.get(name, ()):
            if rule.action is Action.PERMIT:
                for service in rule.match.services:
                    if service.is_any:
                        return None
                    found[service] = None
        return tuple(found) or None

    def interface_address(name: str) -> AddressSet | None:
        """An interface's address when it has exactly one IPv4 address in the config (not DHCP)."""
        found = interfaces.get(name) if interfaces is not None else None
        if found is None:
            return None
        v4 = AddressSet(v4=found.addresses.v4)
        return v4.named(f"interface {name}") if v4.count() == 1 else None

    return NatContext(acl_match, route_map_match, pool, acl_services, interface_address)


P = TypeVar("P")


def paused_gc(func: Callable[[str], P]) -> Callable[[str], P]:
    """Run a parse with the cyclic garbage collector paused, restoring its previous state.

    A 50k-line config allocates hundreds of thousands of small acyclic objects; generation-2 scans
    triggered by them cost more than the parse itself. Reference counting still frees everything.
    """

    @functools.wraps(func)
    def wrapper(text: str) -> P:
        with collector_paused():
            return func(text)

    return wrapper
