"""Linux netfilter parser: `iptables-save` / `ip6tables-save` output and `nft list ruleset` (detected per text).

Filtering: every base chain (iptables INPUT/FORWARD/OUTPUT/..., nftables chains with a `hook`) is one
filter list in packet order. Jumps/gotos to user chains are inlined at the jump position with the
jump's conditions intersected in (each inlined rule carries the option `chain:NAME`), because the
diff engine evaluates lists first-match and a user chain only acts where it is reached; user chains
that nothing reaches are emitted as their own list. The chain policy becomes a final match-all rule
with the option `chain-policy`. `-i`/`-o` (`iifname`/`oifname`) are the rule's from/to zones.

NAT: DNAT -> DESTINATION (translated_dst/ports from `--to-destination ip[-ip][:port[-port]]` or
`dnat to`), SNAT -> SOURCE, MASQUERADE -> PAT to the egress interface, REDIRECT -> DESTINATION to the
local host (translate_to_interface = the ingress interface or `local`, option `redirect`), NETMAP by
chain direction. List names: the chain for the iptables filter table, `TABLE/CHAIN` for other tables,
`FAMILY TABLE/CHAIN` for nftables.
"""

from __future__ import annotations

import re
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
    RuleSet,
    Service,
    SourceRef,
)
from cfgwatch.model.addresses import ANY_ADDRESS
from cfgwatch.model.ports import ANY_PORTS, ANY_SERVICE, PORT_PROTOCOLS
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._misc_common import (
    V4_ALL,
    V6_ALL,
    Diagnostics,
    complement,
    lenient_protocol,
    narrow,
    parse_address,
    port_set,
    port_union,
    union_all,
)
from cfgwatch.vendors.base import ParserInfo

PLATFORM = "linux"
_MAX_DEPTH = 16

_IPT_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_NFT_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([{},;])|([^\s{},;"]+)')
_DETECT_IPT = re.compile(
    r"^(?:\*(?:filter|nat|mangle|raw|security)\s*$|:[A-Z][A-Za-z0-9_-]* (?:ACCEPT|DROP|-) |-A \S+ )", re.M
)
_DETECT_NFT = re.compile(r"^\s*table (?:ip|ip6|inet|arp|bridge|netdev) \S+ \{", re.M)

_ICMP_TYPES = {
    "echo-reply": 0,
    "destination-unreachable": 3,
    "source-quench": 4,
    "redirect": 5,
    "echo-request": 8,
    "router-advertisement": 9,
    "router-solicitation": 10,
    "time-exceeded": 11,
    "parameter-problem": 12,
    "timestamp-request": 13,
    "timestamp-reply": 14,
    "packet-too-big": 2,
    "nd-router-solicit": 133,
    "nd-router-advert": 134,
    "nd-neighbor-solicit": 135,
    "nd-neighbor-advert": 136,
    "mld-listener-query": 130,
    "mld-listener-report": 131,
    "mld-listener-done": 132,
}
# non-terminating or non-access targets: they neither permit nor deny
_PASSIVE_TARGETS = frozenset(
    {
        "LOG",
        "NFLOG",
        "ULOG",
        "MARK",
        "CONNMARK",
        "TCPMSS",
        "CT",
        "NOTRACK",
        "TRACE",
        "DSCP",
        "TOS",
        "TTL",
        "HL",
        "CLASSIFY",
        "CHECKSUM",
        "SECMARK",
        "CONNSECMARK",
        "AUDIT",
        "SET",
        "NFQUEUE",
        "QUEUE",
    }
)
# match options that narrow or annotate but that the model does not carry (accepted without a diagnostic)
_IGNORED_OPTS = {
    "--limit": 1,
    "--limit-burst": 1,
    "--log-prefix": 1,
    "--log-level": 1,
    "--log-uid": 0,
    "--log-tcp-options": 0,
    "--log-ip-options": 0,
    "--reject-with": 1,
    "--set-xmark": 1,
    "--set-mark": 1,
    "--mark": 1,
    "--clamp-mss-to-pmtu": 0,
    "--set-mss": 1,
    "--random": 0,
    "--random-fully": 0,
    "--persistent": 0,
    "--fragment": 0,
    "-f": 0,
    "--nflog-group": 1,
    "--nflog-prefix": 1,
    "--queue-num": 1,
    "--notrack": 0,
    "--zone": 1,
    "--on-port": 1,
    "--on-ip": 1,
    "--tproxy-mark": 1,
}

# iptables-save option -> what _parse_ipt_rule does with it (first entry wins, as in an if/elif chain)
_IPT_KIND: dict[str, str] = {}
for _kind, _options in (
    ("chain", ("-A", "--append", "-I", "--insert")),
    ("addr", ("-s", "--source", "--src", "-d", "--destination", "--dst", "--src-range", "--dst-range")),
    ("proto", ("-p", "--protocol")),
    ("iface", ("-i", "--in-interface", "-o", "--out-interface")),
    (
        "port",
        (
            "--dport",
            "--destination-port",
            "--dports",
            "--destination-ports",
            "--sport",
            "--source-port",
            "--sports",
            "--source-ports",
        ),
    ),
    ("state", ("--state", "--ctstate")),
    ("comment", ("--comment",)),
    ("icmp", ("--icmp-type", "--icmpv6-type")),
    ("syn", ("--syn",)),
    ("tcp-flags", ("--tcp-flags",)),
    ("addrtype", ("--dst-type", "--src-type")),
    ("match-set", ("--match-set",)),
    ("match", ("-m", "--match")),
    ("counters", ("-c", "--set-counters")),
    ("jump", ("-j", "--jump", "-g", "--goto")),
    ("to", ("--to-destination", "--to-source", "--to-ports", "--to", "--to-port")),
    ("ignored", tuple(_IGNORED_OPTS)),
):
    for _option in _options:
        _IPT_KIND.setdefault(_option, _kind)


class _Cond(NamedTuple):
    """The match part of one rule, combinable with a jump's match when a chain is inlined.

    A tuple rather than a frozen dataclass: one is built per rule, and tuple construction is cheap.
    """

    src: AddressSet = ANY_ADDRESS
    dst: AddressSet = ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)
    in_if: str | None = None
    out_if: str | None = None
    options: frozenset[str] = frozenset()

    def intersect(self, other: _Cond) -> _Cond | None:
        """Both conditions at once (a jump's match and a rule of the chain it jumps to); None if disjoint."""
        if self is _TOP or self.is_top:
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
        return _Cond(
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
class _Rule:
    """One parsed rule: its condition, what it does and where it is."""

    line: int
    cond: _Cond
    verdict: str  # ACCEPT, DROP, REJECT, RETURN, JUMP, GOTO, DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP, PASS
    target: str = ""  # chain for JUMP/GOTO
    to_addr: AddressSet | None = None
    to_ports: PortSet | None = None
    comment: str | None = None
    end_line: int = 0
    text: str = ""
    enabled: bool = True


@dataclass(slots=True)
class _Chain:
    name: str
    line: int
    policy: str | None = None  # ACCEPT / DROP for base chains
    hook: str | None = None  # input, forward, output, prerouting, postrouting
    kind: str = "filter"  # filter | nat | route
    rules: list[_Rule] = field(default_factory=list)


@dataclass(slots=True)
class _Table:
    family: str  # iptables | ip | ip6 | inet | ...
    name: str
    chains: dict[str, _Chain] = field(default_factory=dict)
    sets: dict[str, AddressSet | PortSet] = field(default_factory=dict)
    set_spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # nft set name -> first, last line


_FILTER_ACTIONS = {"ACCEPT": Action.PERMIT, "DROP": Action.DENY, "REJECT": Action.REJECT}
_NFT_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "return": "RETURN", "continue": "PASS"}
_NFT_NAT = {"dnat": "DNAT", "snat": "SNAT", "masquerade": "MASQUERADE", "redirect": "REDIRECT"}
_CHAIN_WORDS = frozenset({"type", "comment", "policy", "devices", "device"})  # chain lines that are not rules
_TOP = _Cond()  # matches everything; shared because _Cond is immutable

_BUILTIN = {
    "INPUT": "input",
    "FORWARD": "forward",
    "OUTPUT": "output",
    "PREROUTING": "prerouting",
    "POSTROUTING": "postrouting",
}


# -- iptables-save ---------------------------------------------------------------------------------
def _ipt_tokens(text: str) -> list[str]:
    if '"' not in text:  # no quoted comment: the regex would only split on whitespace
        return text.split()
    return [m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2) for m in _IPT_TOKEN.finditer(text)]


def _addr_list(value: str) -> AddressSet | None:
    if "," not in value:
        return parse_address(value)
    result = AddressSet.empty()
    for part in value.split(","):
        parsed = parse_address(part)
        if parsed is None:
            return None
        result = result | parsed
    return result


def _to_spec(value: str) -> tuple[AddressSet | None, PortSet | None, bool]:
    """`ip[-ip][:port[-port]]`, `[v6]:port`, `:port`; third item False when unreadable."""
    text = value.strip()
    addr_text, port_text = text, ""
    if text.startswith("["):
        addr_text, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        addr_text, port_text = text.split(":")
    addr = parse_address(addr_text) if addr_text else None
    ports = port_set(port_text) if port_text else None
    ok = (not addr_text or addr is not None) and (not port_text or ports is not None)
    return addr, ports, ok


def _icmp_type(value: str) -> tuple[int | None, int | None]:
    type_text, _, code_text = value.partition("/")
    if type_text.isdigit():
        return int(type_text), int(code_text) if code_text.isdigit() else None
    return _ICMP_TYPES.get(type_text.lower()), None


def _parse_ipt_rule(tokens: list[str], line: int, raw: str, diags: Diagnostics) -> tuple[str, _Rule] | None:
    chain = ""
    src: AddressSet = AddressSet.any()
    dst: AddressSet = AddressSet.any()
    proto: int | None = None
    sports: PortSet | None = None
    dports: PortSet | None = None
    icmp: tuple[int | None, int | None] = (None, None)
    in_if: str | None = None
    out_if: str | None = None
    options: set[str] = set()
    comments: list[str] = []
    target = ""
    target_args: dict[str, str] = {}
    neg = False
    index, count = 0, len(tokens)

    def value() -> str:
        nonlocal index, neg
        index += 1
        if index < count and tokens[index] == "!":  # old `-s ! x` syntax
            neg = True
            index += 1
        return tokens[index] if index < count else ""

    while index < count:
        token = tokens[index]
        if token == "!":
            neg = True
            index += 1
            continue
        kind = _IPT_KIND.get(token)  # one dict look-up instead of a chain of tuple membership tests
        if kind == "chain":
            chain = value()
            if index + 1 < count and tokens[index + 1].isdigit():
                index += 1
        elif kind == "addr":
            text = value()
            parsed = _addr_list(text)
            if parsed is None:
                diags.add("LINUX-IPT-BAD-ADDRESS", f"cannot read address '{text}'", line, raw)
                return None
            if neg:
                parsed = complement(parsed).named(f"!{text}")
            if token in ("-s", "--source", "--src", "--src-range"):
                src = narrow(src, parsed)
            else:
                dst = narrow(dst, parsed)
        elif kind == "proto":
            text = value()
            if text.lower() in ("all", "0"):
                proto = None
            else:
                proto = lenient_protocol(text)
                if proto is None or neg:
                    diags.add("LINUX-IPT-UNSUPPORTED", f"protocol '{'!' if neg else ''}{text}' not modelled", line, raw)
                    return None
        elif kind == "iface":
            text = value()
            name = f"!{text}" if neg else text
            if neg:
                diags.add("LINUX-NEGATED-INTERFACE", f"negated interface '{name}' kept as a label", line, raw)
            if token in ("-i", "--in-interface"):
                in_if = name
            else:
                out_if = name
        elif kind == "port":
            text = value()
            ports = port_set(text)
            if ports is None:
                diags.add("LINUX-IPT-BAD-PORT", f"cannot read ports '{text}'", line, raw)
                return None
            if neg:
                ports = PortSet() - ports
            if token.startswith("--d"):
                dports = ports
            else:
                sports = ports
        elif kind == "state":
            states = frozenset(value().upper().split(","))
            if neg:
                options.add("ctstate:!" + ",".join(sorted(s.lower() for s in states)))
            elif states <= {"ESTABLISHED", "RELATED", "UNTRACKED"}:
                options.add("established")
            elif states != {"NEW", "ESTABLISHED", "RELATED"}:
                options.add("ctstate:" + ",".join(sorted(s.lower() for s in states)))
        elif kind == "comment":
            comments.append(value())
        elif kind == "icmp":
            icmp = _icmp_type(value())
        elif kind == "syn":
            options.add("syn")
        elif kind == "tcp-flags":
            options.add(f"tcp-flags:{value()}/{value()}")
        elif kind == "addrtype":
            options.add(f"{token[2:]}:{value().lower()}")
        elif kind == "match-set":
            name = value()
            direction = value()
            placeholder = AddressSet.fqdn(f"ipset:{name}", names=(name,))
            diags.add("LINUX-IPSET", f"ipset '{name}' contents are not in the ruleset; kept by name", line, raw)
            if direction.startswith("src"):
                src = placeholder
            else:
                dst = placeholder
        elif kind == "match":
            value()
        elif kind == "counters":
            index += 2
        elif kind == "jump":
            target = value()
            if token in ("-g", "--goto"):
                target_args["goto"] = "1"
        elif kind == "to":
            target_args[token] = value()
        elif kind == "ignored":
            index += _IGNORED_OPTS[token]
        elif token.startswith("-"):
            diags.add("LINUX-IPT-UNSUPPORTED", f"option '{token}' is not modelled", line, raw)
            while index + 1 < count and not tokens[index + 1].startswith("-") and tokens[index + 1] != "!":
                index += 1
        else:
            diags.add("LINUX-IPT-UNSUPPORTED", f"unexpected token '{token}'", line, raw)
        if token != "!":
            neg = False
        index += 1

    if not chain:
        return None
    services: tuple[Service, ...]
    if proto is None:
        if dports is not None or sports is not None:
            diags.add("LINUX-IPT-UNSUPPORTED", "ports without a protocol", line, raw)
        services = (Service(),)
    elif proto in PORT_PROTOCOLS:
        services = (Service(proto, sports or ANY_PORTS, dports or ANY_PORTS),)
    else:
        services = (Service(proto, icmp_type=icmp[0], icmp_code=icmp[1]),)
    cond = _Cond(src, dst, services, in_if, out_if, frozenset(options))
    comment = " ".join(comments) or None
    rule = _Rule(line, cond, "PASS", comment=comment, text=raw)
    upper = target.upper()
    if not target:
        rule.verdict = "PASS"
    elif upper in ("ACCEPT", "DROP", "REJECT", "RETURN"):
        rule.verdict = upper
    elif upper in ("DNAT", "SNAT", "NETMAP"):
        spec = target_args.get("--to-destination") or target_args.get("--to-source") or target_args.get("--to", "")
        addr, ports, ok = _to_spec(spec)
        if not ok or (addr is None and ports is None):
            diags.add("LINUX-IPT-BAD-NAT", f"cannot read {target} target '{spec}'", line, raw)
            return None
        rule.verdict, rule.to_addr, rule.to_ports = upper, addr, ports
    elif upper in ("MASQUERADE", "REDIRECT"):
        rule.verdict = upper
        to_ports = target_args.get("--to-ports") or target_args.get("--to-port")
        if to_ports:
            spec = to_ports
            rule.to_ports = port_set(spec)
            if rule.to_ports is None:
                diags.add("LINUX-IPT-BAD-NAT", f"cannot read --to-ports '{spec}'", line, raw)
                return None
    elif upper in _PASSIVE_TARGETS:
        rule.verdict = "PASS"
    elif upper in ("TPROXY",):
        diags.add("LINUX-TPROXY", "TPROXY (transparent proxy) is not modelled", line, raw)
        return None
    else:
        rule.verdict = "GOTO" if "goto" in target_args else "JUMP"
        rule.target = target
    return chain, rule


def _parse_iptables(text: str, diags: Diagnostics) -> list[_Table]:
    tables: list[_Table] = []
    table: _Table | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "]" in line:  # iptables-save -c counters
            line = line.split("]", 1)[1].strip()
        head = line[0]
        if head == "*":
            table = _Table("iptables", line[1:].strip())
            tables.append(table)
            continue
        if line == "COMMIT":
            table = None
            continue
        if table is None:
            if head in ":-":
                diags.add("LINUX-IPT-SYNTAX", "rule outside a *table section", number, line)
            continue
        if head == ":":
            parts = line[1:].split()
            if parts:
                chain = table.chains.setdefault(parts[0], _Chain(parts[0], number))
                if len(parts) > 1 and parts[1] != "-":
                    chain.policy = parts[1].upper()
                chain.hook = _BUILTIN.get(parts[0])
                chain.kind = "nat" if table.name == "nat" else "filter"
            continue
        if line.startswith("-N ") or line.startswith("--new-chain "):
            name = line.split()[1]
            table.chains.setdefault(name, _Chain(name, number, kind="nat" if table.name == "nat" else "filter"))
            continue
        if line.startswith("-P "):
            parts = line.split()
            if len(parts) >= 3:
                chain = table.chains.setdefault(parts[1], _Chain(parts[1], number))
                chain.policy, chain.hook = parts[2].upper(), _BUILTIN.get(parts[1])
            continue
        if line.startswith("-A ") or line.startswith("-I ") or line.startswith("--append "):
            parsed = _parse_ipt_rule(_ipt_tokens(line), number, line, diags)
            if parsed is None:
                continue
            chain_name, rule = parsed
            found = table.chains.get(chain_name)
            if found is None:
                found = table.chains[chain_name] = _Chain(
                    chain_name, number, kind="nat" if table.name == "nat" else "filter"
                )
                found.hook = _BUILTIN.get(chain_name)
            rule.end_line = number
            found.rules.append(rule)
            continue
        diags.add("LINUX-IPT-SYNTAX", "unrecognised iptables-save line", number, line)
    return tables


# -- nftables ------------------------------------------------------------------------------------
def _nft_tokens(text: str) -> list[str]:
    if '"' not in text:  # no quoted string: punctuation is its own token, the rest splits on whitespace
        for mark in "{},;":
            if mark in text:
                text = text.replace(mark, f" {mark} ")
        return text.split()
    out: list[str] = []
    for match in _NFT_TOKEN.finditer(text):
        if match.group(1) is not None:
            out.append('"' + match.group(1) + '"')
        else:
            out.append(match.group(2) or match.group(3))
    return out


def _brace_values(tokens: list[str], index: int) -> tuple[list[str], int]:
    """Values of `{ a, b }` (or a single value) starting at tokens[index]; returns (values, next index)."""
    if index >= len(tokens):
        return [], index
    if tokens[index] != "{":
        single = [tokens[index]]
        index += 1
        while index + 1 < len(tokens) and tokens[index] == ",":  # `established,related`
            single.append(tokens[index + 1])
            index += 2
        return single, index
    values: list[str] = []
    index += 1
    while index < len(tokens) and tokens[index] != "}":
        if tokens[index] != ",":
            values.append(tokens[index])
        index += 1
    return values, index + 1


class _NftParser:
    """Brace-structured `nft list ruleset` text: tables, chains, named sets, rules."""

    def __init__(self, text: str, diags: Diagnostics) -> None:
        self.diags = diags
        self.tables: list[_Table] = []
        self._scan(text.splitlines())

    def _scan(self, lines: list[str]) -> None:
        table: _Table | None = None
        chain: _Chain | None = None
        set_name: str | None = None
        set_type = ""
        set_buffer: list[str] = []
        set_line = 0
        set_depth = 0
        depth_extra = 0  # braces of blocks we skip (flowtables, maps, ...)
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if set_name is not None and table is not None:
                # brace balance kept incrementally: re-joining the buffer per line was quadratic on big sets
                set_buffer.append(line)
                set_depth += line.count("{") - line.count("}")
                if set_depth <= 0:
                    joined = " ".join(set_buffer)
                    table.sets[set_name] = self._set_value(set_type, joined, set_line)
                    table.set_spans[set_name] = (set_line, number)
                    set_name, set_buffer = None, []
                continue
            if depth_extra:
                depth_extra += line.count("{") - line.count("}")
                continue
            first = line.split(None, 1)[0]
            # a rule line inside a chain (the bulk of a ruleset) needs only its first word here
            words = line.split() if table is None or chain is None or first in _CHAIN_WORDS else [first]
            if table is None:
                if words[0] == "table" and len(words) >= 3:
                    family, name = (words[1], words[2]) if len(words) >= 4 else ("ip", words[1])
                    table = _Table(family, name.rstrip("{").strip())
                    self.tables.append(table)
                elif words[0] in ("flush", "add", "insert", "define", "include"):
                    self.diags.add(
                        "LINUX-NFT-UNSUPPORTED",
                        "nft script commands are not modelled (use `nft list ruleset`)",
                        number,
                        line,
                    )
                continue
            if chain is None:
                if line == "}":
                    table = None
                elif words[0] == "chain" and len(words) >= 2:
                    chain = table.chains.setdefault(words[1], _Chain(words[1], number))
                    if line.endswith("}"):  # empty one-line chain
                        chain = None
                elif words[0] in ("set", "map") and len(words) >= 2:
                    set_name, set_line, set_buffer = words[1], number, [line]
                    set_depth = line.count("{") - line.count("}")
                    set_type = "map" if words[0] == "map" else ""
                    if line.count("{") == line.count("}"):
                        table.sets[set_name] = self._set_value(set_type, line, number)
                        table.set_spans[set_name] = (number, number)
                        set_name, set_buffer = None, []
                elif line.endswith("{"):
                    depth_extra = 1
                continue
            if line == "}":
                chain = None
                continue
            if words[0] == "type" and "hook" in words:
                chain.kind = words[1]
                chain.hook = words[words.index("hook") + 1].rstrip(";")
                if "policy" in words:
                    chain.policy = words[words.index("policy") + 1].rstrip(";").upper()
                continue
            if words[0] in ("comment", "policy", "devices", "device"):
                if words[0] == "policy":
                    chain.policy = words[1].rstrip(";").upper()
                continue
            rule = self._rule(line, number, table)
            if rule is not None:
                rule.end_line = number
                chain.rules.append(rule)

    def _set_value(self, kind: str, text: str, line: int) -> AddressSet | PortSet:
        match = re.search(r"type\s+(\w+)", text)
        set_type = match.group(1) if match else ""
        elements_match = re.search(r"elements\s*=\s*\{([^}]*)\}", text)
        elements = [e.strip() for e in elements_match.group(1).split(",")] if elements_match else []
        if kind == "map" or set_type not in ("ipv4_addr", "ipv6_addr", "inet_service"):
            self.diags.add(
                "LINUX-NFT-UNSUPPORTED", f"set/map of type '{set_type or kind}' not modelled", line, text[:120]
            )
            return AddressSet.empty()
        if set_type == "inet_service":
            ports = PortSet(ranges=())
            for element in elements:
                one_port = port_set(element)
                if one_port is not None:
                    ports = ports | one_port
            return ports
        parts: list[AddressSet] = []
        for element in elements:
            parsed = parse_address(element.replace(" ", ""))
            if parsed is None:
                self.diags.add("LINUX-NFT-BAD-ADDRESS", f"cannot read set element '{element}'", line, text[:120])
            else:
                parts.append(parsed)
        return union_all(parts)  # one merge: big blocklist sets would re-sort per element

    def _values(
        self, table: _Table, tokens: list[str], index: int, number: int = 1
    ) -> tuple[list[str], AddressSet | PortSet | None, int]:
        if index < len(tokens) and tokens[index].startswith("@"):
            found = table.sets.get(tokens[index][1:])
            if found is None:
                self.diags.add(
                    "LINUX-NFT-UNKNOWN-SET", f"set '{tokens[index]}' is not defined in this table; kept by name", number
                )
                return [tokens[index]], AddressSet.fqdn(f"set:{tokens[index][1:]}"), index + 1
            return [tokens[index]], found, index + 1
        if index < len(tokens) and tokens[index] != "{" and (index + 1 == len(tokens) or tokens[index + 1] != ","):
            return [tokens[index]], None, index + 1  # one plain value: what _brace_values returns, without the call
        values, index = _brace_values(tokens, index)
        return values, None, index

    def _rule(self, line: str, number: int, table: _Table) -> _Rule | None:
        tokens = _nft_tokens(line)
        src: AddressSet = ANY_ADDRESS
        dst: AddressSet = ANY_ADDRESS
        protocols: list[int | None] = [None]
        sports: PortSet | None = None
        dports: PortSet | None = None
        icmp_type: int | None = None
        in_if: str | None = None
        out_if: str | None = None
        options: set[str] = set()
        comment: str | None = None
        rule = _Rule(number, _TOP, "PASS", text=line)
        family_limit: AddressSet | None = None
        index, count = 0, len(tokens)
        while index < count:
            word = tokens[index]
            # the commonest words first (each branch below tests a different word, so order is free)
            verdict = _NFT_VERDICTS.get(word)
            if verdict is not None:
                rule.verdict = verdict
                index += 1
                continue
            if word == "counter":
                index += 1
                while index + 1 < count and tokens[index] in ("packets", "bytes"):
                    index += 2
                continue
            nxt = tokens[index + 1] if index + 1 < count else ""
            negate = False
            if word in ("ip", "ip6") and nxt in ("saddr", "daddr"):
                index += 2
                if index < count and tokens[index] == "!=":
                    negate, index = True, index + 1
                values, named, index = self._values(table, tokens, index, number)
                parsed: AddressSet | None = named if isinstance(named, AddressSet) else None
                if parsed is None and len(values) == 1:
                    parsed = parse_address(values[0])
                    if parsed is None:
                        self.diags.add("LINUX-NFT-BAD-ADDRESS", f"cannot read address '{values[0]}'", number, line)
                        return None
                elif parsed is None:
                    parsed = AddressSet.empty()
                    for value in values:
                        one = parse_address(value)
                        if one is None:
                            self.diags.add("LINUX-NFT-BAD-ADDRESS", f"cannot read address '{value}'", number, line)
                            return None
                        parsed = parsed | one
                elif named is not None:
                    parsed = parsed.named(values[0][1:])
                if negate:
                    parsed = complement(parsed)
                if nxt == "saddr":
                    src = parsed if src is ANY_ADDRESS or src.is_any else src & parsed
                else:
                    dst = parsed if dst is ANY_ADDRESS or dst.is_any else dst & parsed
                family_limit = V4_ALL if word == "ip" else V6_ALL
                continue
            if (word in ("ip", "ip6") and nxt in ("protocol", "nexthdr")) or (
                word == "meta" and nxt in ("l4proto", "protocol")
            ):
                values, _, index = self._values(table, tokens, index + 2, number)
                numbers = [lenient_protocol(value) for value in values]
                if None in numbers:
                    self.diags.add("LINUX-NFT-UNSUPPORTED", f"protocol {values} not modelled", number, line)
                    return None
                protocols = list(numbers)
                if word in ("ip", "ip6"):
                    family_limit = V4_ALL if word == "ip" else V6_ALL
                continue
            if word in ("tcp", "udp", "sctp", "th") and nxt in ("dport", "sport"):
                index += 2
                if index < count and tokens[index] == "!=":
                    negate, index = True, index + 1
                values, named, index = self._values(table, tokens, index, number)
                ports: PortSet | None = named if isinstance(named, PortSet) else None
                if ports is None:
                    union = port_set(values[0]) if len(values) == 1 else port_union(tuple(values))
                    if not isinstance(union, PortSet):
                        bad = values[0] if len(values) == 1 else union
                        self.diags.add("LINUX-NFT-BAD-PORT", f"cannot read port '{bad}'", number, line)
                        return None
                    ports = union
                if negate:
                    ports = PortSet() - ports
                if word != "th":
                    protocols = [lenient_protocol(word)]
                elif protocols == [None]:
                    protocols = [6, 17]
                if nxt == "dport":
                    dports = ports
                else:
                    sports = ports
                continue
            if word in ("icmp", "icmpv6") and nxt == "type":
                values, _, index = self._values(table, tokens, index + 2, number)
                protocols = [1 if word == "icmp" else 58]
                types = [_ICMP_TYPES.get(v, int(v) if v.isdigit() else -1) for v in values]
                if len(types) == 1 and types[0] >= 0:
                    icmp_type = types[0]
                else:
                    options.add(f"icmp-type:{','.join(values)}")
                continue
            if word in ("iifname", "oifname", "iif", "oif"):
                index += 1
                if index < count and tokens[index] == "!=":
                    negate, index = True, index + 1
                values, _, index = self._values(table, tokens, index, number)
                names = ",".join(v.strip('"') for v in values)
                name = f"!{names}" if negate else names
                if negate:
                    self.diags.add(
                        "LINUX-NEGATED-INTERFACE", f"negated interface '{name}' kept as a label", number, line
                    )
                if word.startswith("i"):
                    in_if = name
                else:
                    out_if = name
                continue
            if word == "ct" and nxt in ("state", "status"):
                values, _, index = self._values(table, tokens, index + 2, number)
                states = frozenset(part.upper() for value in values for part in value.split(","))
                if nxt == "status":
                    options.add("ctstatus:" + ",".join(sorted(s.lower() for s in states)))
                elif states <= {"ESTABLISHED", "RELATED", "UNTRACKED"}:
                    options.add("established")
                elif states != {"NEW", "ESTABLISHED", "RELATED"}:
                    options.add("ctstate:" + ",".join(sorted(s.lower() for s in states)))
                continue
            if word == "log":
                index += 1
                while index + 1 < count and tokens[index] in ("prefix", "level", "group", "flags"):
                    index += 2
                continue
            if word == "limit":
                options.add("limit")
                index += 1
                while index < count and tokens[index] not in (
                    "accept",
                    "drop",
                    "reject",
                    "counter",
                    "log",
                    "jump",
                    "goto",
                ):
                    index += 1
                continue
            if word == "comment":
                comment = nxt.strip('"')
                index += 2
                continue
            if word == "reject":
                rule.verdict = "REJECT"
                index += 1
                if index < count and tokens[index] == "with":
                    index += 3
                continue
            if word in ("jump", "goto"):
                rule.verdict, rule.target = word.upper(), nxt
                index += 2
                continue
            if word in ("dnat", "snat", "masquerade", "redirect"):
                rule.verdict = _NFT_NAT[word]
                index += 1
                if index < count and tokens[index] in ("ip", "ip6"):
                    index += 1
                if index < count and tokens[index] == "to":
                    spec = tokens[index + 1] if index + 1 < count else ""
                    index += 2
                    addr, ports, ok = _to_spec(spec)
                    if not ok:
                        self.diags.add("LINUX-NFT-BAD-NAT", f"cannot read {word} target '{spec}'", number, line)
                        return None
                    rule.to_addr, rule.to_ports = addr, ports
                while index < count and tokens[index] in ("random", "persistent", "fully-random", ","):
                    index += 1
                continue
            self.diags.add("LINUX-NFT-UNSUPPORTED", f"'{word}' is not modelled", number, line)
            return None
        if family_limit is not None and table.family == "inet":
            if src is ANY_ADDRESS or src.is_any:
                src = family_limit
            if dst is ANY_ADDRESS or dst.is_any:
                dst = family_limit
        if len(protocols) == 1:  # the usual case, without a generator
            proto = protocols[0]
            if proto is None:
                services: tuple[Service, ...] = (ANY_SERVICE,)
            elif proto in PORT_PROTOCOLS:
                services = (Service(proto, sports or ANY_PORTS, dports or ANY_PORTS),)
            else:
                services = (Service(proto, icmp_type=icmp_type if proto in (1, 58) else None),)
        else:
            services = tuple(
                Service(proto, sports or ANY_PORTS, dports or ANY_PORTS)
                if proto in PORT_PROTOCOLS
                else Service(proto, icmp_type=icmp_type if proto in (1, 58) else None)
                for proto in protocols
            )
        rule.cond = _Cond(src, dst, services, in_if, out_if, frozenset(options))
        rule.comment = comment
        return rule


# -- model building ------------------------------------------------------------------------------
class _Builder:
    def __init__(self, tables: list[_Table], diags: Diagnostics) -> None:
        self.diags = diags
        self.filters: list[FilterRule] = []
        self.nats: list[NatRule] = []
        self.objects: list[ObjectDef] = []
        for table in tables:
            self._table(table)

    def _list_name(self, table: _Table, chain: str) -> str:
        if table.family == "vyos":  # reused by the vyos parser: the ruleset name is the list
            return chain
        if table.family == "routeros":  # reused by the mikrotik_routeros parser
            return chain if table.name == "filter" else f"{table.name}/{chain}"
        if table.family == "iptables":
            return chain if table.name == "filter" else f"{table.name}/{chain}"
        return f"{table.family} {table.name}/{chain}"

    def _table(self, table: _Table) -> None:
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
            expanded = self._expand(table, chain, _TOP, (), 0, reached, chain.name)
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
                for cond, rule, via in self._expand(table, chain, _TOP, (), 0, reached, chain.name):
                    if rule.verdict in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"):
                        self._nat(table, chain, cond, rule, via)
                    else:
                        self._filter(list_name, cond, rule, via)

    def _expand(
        self, table: _Table, chain: _Chain, outer: _Cond, via: tuple[str, ...], depth: int, reached: set[str], base: str
    ) -> list[tuple[_Cond, _Rule, tuple[str, ...]]]:
        out: list[tuple[_Cond, _Rule, tuple[str, ...]]] = []
        for position, rule in enumerate(chain.rules):
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
                out.extend(self._expand(table, target, cond, (*via, rule.target), depth + 1, reached, base))
                if rule.verdict == "GOTO" and cond == outer:
                    break
                continue
            if rule.verdict == "RETURN":
                if cond == outer:
                    break  # unconditional: the rest of this chain is never reached
                if position != len(chain.rules) - 1:
                    self.diags.add(
                        "LINUX-RETURN",
                        "conditional RETURN is not modelled: later rules of the chain are treated as reached",
                        rule.line,
                        rule.text,
                    )
                continue
            out.append((cond, rule, via))
        return out

    def _filter(self, list_name: str, cond: _Cond, rule: _Rule, via: tuple[str, ...]) -> None:
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
                source=SourceRef(rule.line, max(rule.line, rule.end_line)),
            )
        )

    def _nat(self, table: _Table, chain: _Chain, cond: _Cond, rule: _Rule, via: tuple[str, ...]) -> None:
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


@paused_gc
def parse(text: str) -> RuleSet:
    """iptables-save or `nft list ruleset` text to a RuleSet (never raises on bad input)."""
    diags = Diagnostics()
    tables = _NftParser(text, diags).tables if _DETECT_NFT.search(text) else _parse_iptables(text, diags)
    builder = _Builder(tables, diags)
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(builder.filters),
        nats=tuple(builder.nats),
        objects=tuple(builder.objects),
        diagnostics=diags.result(),
    )


def detect(text: str) -> bool:
    return _DETECT_NFT.search(text) is not None or _DETECT_IPT.search(text) is not None


PARSER = ParserInfo(
    platform=PLATFORM,
    description="Linux netfilter: iptables-save (filter/nat/mangle) and nft list ruleset; chains inlined",
    forms=("iptables-save", "nftables"),
    features=frozenset({"nat.destination", "nat.pat", "nat.ports", "filter.acl", "objects.network"}),
    parse=parse,
    detect=detect,
)
