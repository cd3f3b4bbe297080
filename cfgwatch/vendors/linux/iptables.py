"""iptables-save / ip6tables-save text to chains (the `--to-destination` form is shared with the
nftables reader; ICMP names live in vendors/_netfilter_icmp.py)."""

from __future__ import annotations

import re
from functools import lru_cache

from cfgwatch.model import (
    AddressSet,
    PortSet,
    Service,
)
from cfgwatch.model.addresses import ANY_ADDRESS
from cfgwatch.model.ports import ANY_PORTS, ANY_SERVICE, PORT_PROTOCOLS
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._chains import Chain, ChainRule, Cond, Table
from cfgwatch.vendors._misc_common import (
    Diagnostics,
    complement,
    lenient_protocol,
    narrow,
    parse_address,
    port_set,
)
from cfgwatch.vendors._netfilter_icmp import icmp_name, state_option

_IPT_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')

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


def to_spec(value: str) -> tuple[AddressSet | None, PortSet | None, bool]:
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


_ANY_SERVICES = (ANY_SERVICE,)
_new_cond = tuple.__new__  # one C call instead of the NamedTuple's generated Python __new__ (a rule per line)


@lru_cache(maxsize=1024)
def _state(text: str, negate: bool) -> str:
    """The option for `--ctstate TEXT` (rule sets repeat a handful of state lists on thousands of rules)."""
    states = frozenset(text.upper().split(","))
    if negate:
        return "ctstate:!" + ",".join(sorted(s.lower() for s in states))
    return state_option(states)


@lru_cache(maxsize=16_384)
def _services(
    proto: int, sports: PortSet | None, dports: PortSet | None, icmp: tuple[int | None, int | None]
) -> tuple[Service, ...]:
    """The one Service of a rule with a protocol; one shared immutable value per distinct match."""
    if proto in PORT_PROTOCOLS:
        return (Service(proto, sports or ANY_PORTS, dports or ANY_PORTS),)
    return (Service(proto, icmp_type=icmp[0], icmp_code=icmp[1]),)


def _next_value(tokens: list[str], index: int) -> tuple[int, bool, str]:
    """The value after the option at `index`: (its index, whether an old-style `! ` preceded it, the value)."""
    index += 1
    negate = False
    if index < len(tokens) and tokens[index] == "!":  # old `-s ! x` syntax
        negate = True
        index += 1
    return index, negate, tokens[index] if index < len(tokens) else ""


# option kinds that take exactly one value (read inline: one function call less per option)
_ONE_VALUE = frozenset({"chain", "addr", "proto", "iface", "port", "state", "comment", "icmp", "addrtype", "match"})
_ONE_VALUE |= {"jump", "to"}
_SRC_OPTIONS = frozenset({"-s", "--source", "--src", "--src-range"})


def _parse_ipt_rule(tokens: list[str], line: int, raw: str, diags: Diagnostics) -> tuple[str, ChainRule] | None:
    chain = ""
    src: AddressSet = ANY_ADDRESS
    dst: AddressSet = ANY_ADDRESS
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

    while index < count:
        token = tokens[index]
        if token == "!":
            neg = True
            index += 1
            continue
        kind = _IPT_KIND.get(token)  # one dict look-up instead of a chain of tuple membership tests
        text = ""
        if kind in _ONE_VALUE:
            index += 1
            if index < count and tokens[index] == "!":  # old `-s ! x` syntax
                neg = True
                index += 1
            text = tokens[index] if index < count else ""
        if kind == "addr":
            parsed = parse_address(text) if "," not in text else _addr_list(text)
            if parsed is None:
                diags.add("LINUX-IPT-BAD-ADDRESS", f"cannot read address '{text}'", line, raw)
                return None
            if neg:
                parsed = complement(parsed).named(f"!{text}")
            if token in _SRC_OPTIONS:
                src = narrow(src, parsed)
            else:
                dst = narrow(dst, parsed)
        elif kind == "match":
            pass
        elif kind == "jump":
            target = text
            if token in ("-g", "--goto"):
                target_args["goto"] = "1"
        elif kind == "chain":
            chain = text
            if index + 1 < count and tokens[index + 1].isdigit():
                index += 1
        elif kind == "proto":
            if text.lower() in ("all", "0"):
                proto = None
            else:
                proto = lenient_protocol(text)
                if proto is None or neg:
                    diags.add("LINUX-IPT-UNSUPPORTED", f"protocol '{'!' if neg else ''}{text}' not modelled", line, raw)
                    return None
        elif kind == "port":
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
            options.add(_state(text, neg))
        elif kind == "ignored":  # --set-xmark, --log-prefix, --reject-with ...: common, so tested early
            index += _IGNORED_OPTS[token]
        elif kind == "iface":
            name = f"!{text}" if neg else text
            if neg:
                diags.add("LINUX-NEGATED-INTERFACE", f"negated interface '{name}' kept as a label", line, raw)
            if token in ("-i", "--in-interface"):
                in_if = name
            else:
                out_if = name
        elif kind == "comment":
            comments.append(text)
        elif kind == "icmp":
            found = icmp_name(text, token == "--icmpv6-type" or proto == 58)
            if found is None:
                diags.add("LINUX-IPT-BAD-ICMP", f"unknown ICMP type '{text}': every type is assumed", line, raw)
            elif neg:
                diags.add("LINUX-IPT-UNSUPPORTED", f"negated ICMP type '{text}': every type is assumed", line, raw)
            else:
                icmp = found
        elif kind == "addrtype":
            options.add(f"{token[2:]}:{text.lower()}")
        elif kind == "to":
            target_args[token] = text
        elif kind == "syn":
            options.add("syn")
        elif kind == "tcp-flags":
            index, _, mask = _next_value(tokens, index)
            index, _, flags = _next_value(tokens, index)
            options.add(f"tcp-flags:{mask}/{flags}")
        elif kind == "match-set":
            index, _, name = _next_value(tokens, index)
            index, _, direction = _next_value(tokens, index)
            placeholder = AddressSet.fqdn(f"ipset:{name}", names=(name,))
            diags.add("LINUX-IPSET", f"ipset '{name}' contents are not in the ruleset; kept by name", line, raw)
            if neg:
                # `! --match-set S dst`: every address outside an unknown set; only "every address" bounds it
                # (iptables-extensions(8) set match), so a permit is judged as permitting them all
                placeholder = AddressSet.any().named(f"!{name}")
            if direction.startswith("src"):
                src = placeholder
            else:
                dst = placeholder
        elif kind == "counters":
            index += 2
        elif token.startswith("-"):
            diags.add("LINUX-IPT-UNSUPPORTED", f"option '{token}' is not modelled", line, raw)
            while index + 1 < count and not tokens[index + 1].startswith("-") and tokens[index + 1] != "!":
                index += 1
        else:
            diags.add("LINUX-IPT-UNSUPPORTED", f"unexpected token '{token}'", line, raw)
        neg = False  # `token` is never "!" here: that case continued above
        index += 1

    if not chain:
        return None
    services: tuple[Service, ...]
    if proto is None:
        if dports is not None or sports is not None:
            diags.add("LINUX-IPT-UNSUPPORTED", "ports without a protocol", line, raw)
        services = _ANY_SERVICES
    else:
        services = _services(proto, sports, dports, icmp)
    cond = _new_cond(Cond, (src, dst, services, in_if, out_if, frozenset(options)))  # Cond(...) without its __new__
    comment = " ".join(comments) or None
    rule = ChainRule(line, cond, "PASS", comment=comment, text=raw)
    upper = target.upper()
    if not target:
        rule.verdict = "PASS"
    elif upper in ("ACCEPT", "DROP", "REJECT", "RETURN"):
        rule.verdict = upper
    elif upper in ("DNAT", "SNAT", "NETMAP"):
        spec = target_args.get("--to-destination") or target_args.get("--to-source") or target_args.get("--to", "")
        addr, ports, ok = to_spec(spec)
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


def _add_rule(table: Table, line: str, number: int, diags: Diagnostics) -> None:
    parsed = _parse_ipt_rule(_ipt_tokens(line), number, line, diags)
    if parsed is None:
        return
    chain_name, rule = parsed
    found = table.chains.get(chain_name)
    if found is None:
        found = table.chains[chain_name] = Chain(chain_name, number, kind="nat" if table.name == "nat" else "filter")
        found.hook = _BUILTIN.get(chain_name)
    rule.end_line = number
    if line.startswith("-A ") or line.startswith("--append "):
        found.rules.append(rule)
        return
    # `-I CHAIN [N]` (iptables-restore input): inserted as rule N, 1 (the head of the chain) by default
    words = line.split(None, 3)
    position = int(words[2]) if len(words) > 2 and words[2].isdigit() else 1
    found.rules.insert(max(0, min(position - 1, len(found.rules))), rule)


def parse_iptables(text: str, diags: Diagnostics) -> list[Table]:
    tables: list[Table] = []
    table: Table | None = None
    for number, raw in enumerate(config_lines(text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "]" in line:  # iptables-save -c counters
            line = line.split("]", 1)[1].strip()
            if not line:
                continue
        if table is not None and line.startswith("-A "):  # most lines: nothing below matches them
            _add_rule(table, line, number, diags)
            continue
        head = line[0]
        if head == "*":
            table = Table("iptables", line[1:].strip())
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
                chain = table.chains.setdefault(parts[0], Chain(parts[0], number))
                if len(parts) > 1 and parts[1] != "-":
                    chain.policy = parts[1].upper()
                chain.hook = _BUILTIN.get(parts[0])
                chain.kind = "nat" if table.name == "nat" else "filter"
            continue
        if line.startswith("-N ") or line.startswith("--new-chain "):
            name = line.split()[1]
            table.chains.setdefault(name, Chain(name, number, kind="nat" if table.name == "nat" else "filter"))
            continue
        if line.startswith("-P "):
            parts = line.split()
            if len(parts) >= 3:
                chain = table.chains.setdefault(parts[1], Chain(parts[1], number))
                chain.policy, chain.hook = parts[2].upper(), _BUILTIN.get(parts[1])
            continue
        if line.startswith(("-A ", "-I ", "--append ", "--insert ")):
            _add_rule(table, line, number, diags)
            continue
        diags.add("LINUX-IPT-SYNTAX", "unrecognised iptables-save line", number, line)
    return tables
