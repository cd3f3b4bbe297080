"""`nft list ruleset` text to chains: tables, base chains with hooks, named sets and rule statements."""

from __future__ import annotations

import re

from cfgwatch.model import (
    AddressSet,
    PortSet,
    Service,
)
from cfgwatch.model.addresses import ANY_ADDRESS
from cfgwatch.model.ports import ANY_PORTS, ANY_SERVICE, PORT_PROTOCOLS
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._chains import TOP, Chain, ChainRule, Cond, Table
from cfgwatch.vendors._misc_common import (
    V4_ALL,
    V6_ALL,
    Diagnostics,
    complement,
    lenient_protocol,
    parse_address,
    port_set,
    port_union,
    union_all,
)
from cfgwatch.vendors._netfilter_icmp import icmp_code, icmp_name, state_option
from cfgwatch.vendors.linux.iptables import to_spec

_NFT_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([{},;])|([^\s{},;"]+)')
_NFT_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "return": "RETURN", "continue": "PASS"}
_NFT_NAT = {"dnat": "DNAT", "snat": "SNAT", "masquerade": "MASQUERADE", "redirect": "REDIRECT"}
_CHAIN_WORDS = frozenset({"type", "comment", "policy", "devices", "device"})  # chain lines that are not rules


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


# A selector (`ip daddr`, `tcp dport`, `ct state`, `iifname` ...) looked up in an anonymous `{ k : v }` or
# named `@map` map: a verdict map (`vmap`) or the address a `dnat`/`snat` translates to (`... to SEL map`).
_SELECTOR = r"(?P<sel>\b(?:ip6?|tcp|udp|sctp|th|meta|ct|icmp|icmpv6)\s+[\w-]+|\b(?:iifname|oifname|iif|oif))"
_BODY = r"(?:\{(?P<body>[^}]*)\}|@(?P<name>[\w-]+))"
_VMAP = re.compile(_SELECTOR + r"\s+vmap\s*" + _BODY)
_NAT_MAP = re.compile(r"\b(?P<nat>dnat|snat)(?P<fam>\s+(?:ip6?|inet))?\s+to\s+" + _SELECTOR + r"\s+map\s*" + _BODY)


def _map_entries(found: re.Match[str], maps: dict[str, str]) -> list[tuple[str, str]] | None:
    """The `key : value` pairs of a map expression (anonymous or named); None when they cannot be read
    (an unknown map, or concatenated `a . b` keys/values), which leaves the rule to the rule parser."""
    body = found.group("body") if found.group("body") is not None else maps.get(found.group("name") or "")
    if body is None:
        return None
    pairs: list[tuple[str, str]] = []
    for entry in body.split(","):
        if not entry.strip():
            continue
        key, colon, value = entry.partition(":") if " : " not in entry else entry.partition(" : ")
        if not colon or not key.strip() or not value.strip() or " . " in entry:
            return None
        pairs.append((key.strip(), value.strip()))
    return pairs or None


def _expand_maps(line: str, maps: dict[str, str]) -> list[str]:
    """One rule per map element (nft(8) MAPS / VERDICT MAPS): a packet whose selector equals a key gets that
    element's verdict or translation; any other packet goes on to the next rule. The keys of one map never
    overlap, so the expanded rules keep the single rule's meaning in any order.

    `ct state vmap { established : accept }` -> `ct state established accept`;
    `ip daddr vmap { 192.0.2.1 : jump relay }` -> `ip daddr 192.0.2.1 jump relay`;
    `dnat ip to tcp dport map { 8080 : 203.0.113.7 }` -> `tcp dport 8080 dnat ip to 203.0.113.7`.
    """
    if "map" not in line:  # a substring test first: most rules map nothing
        return [line]
    for pattern in (_VMAP, _NAT_MAP):
        found = pattern.search(line)
        if found is None:
            continue
        pairs = _map_entries(found, maps)
        if pairs is None:
            return [line]
        head, tail, selector = line[: found.start()], line[found.end() :].strip(), found.group("sel")
        if pattern is _VMAP:
            return [f"{head}{selector} {key} {tail} {verdict}".replace("  ", " ") for key, verdict in pairs]
        nat = found.group("nat") + (found.group("fam") or "")
        return [f"{head}{selector} {key} {nat} to {target} {tail}".strip() for key, target in pairs]
    return [line]


class NftParser:
    """Brace-structured `nft list ruleset` text: tables, chains, named sets, rules."""

    def __init__(self, text: str, diags: Diagnostics) -> None:
        self.diags = diags
        self.tables: list[Table] = []
        self._maps: dict[str, str] = {}  # elements text of the current table's named maps
        self._scan(config_lines(text))
        self._shared_hooks()

    def _shared_hooks(self) -> None:
        """Filter base chains of several tables on one hook: nft(8) runs each of them in priority order, an
        `accept` ends only its own chain and a `drop` anywhere is final, so a packet passes only if every
        chain accepts it. Each chain stays its own first-match list; what one chain's change widens may
        still be dropped by another, and the diagnostic says so rather than letting it pass silently."""
        seen: dict[tuple[str, str], list[tuple[Table, Chain]]] = {}
        for table in self.tables:
            families = {"inet": ("ip", "ip6")}.get(table.family, (table.family,))
            for chain in table.chains.values():
                if chain.hook is None or chain.kind != "filter":
                    continue
                for family in families:
                    seen.setdefault((family, chain.hook), []).append((table, chain))
        reported: set[int] = set()
        for (_, hook), chains in seen.items():
            if len(chains) < 2:
                continue
            names = ", ".join(f"{table.family} {table.name}/{chain.name}" for table, chain in chains)
            for _, chain in chains[1:]:
                if id(chain) not in reported:
                    reported.add(id(chain))
                    self.diags.add(
                        "LINUX-NFT-SHARED-HOOK",
                        f"filter chains {names} all hook {hook}: a packet passes only if each accepts it;"
                        " each is judged as its own list",
                        chain.line,
                    )

    def _scan(self, lines: list[str]) -> None:
        table: Table | None = None
        chain: Chain | None = None
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
                    table.sets[set_name] = self._set_value(set_type, joined, set_line, set_name)
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
                    table = Table(family, name.rstrip("{").strip())
                    self.tables.append(table)
                    self._maps = {}
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
                    chain = table.chains.setdefault(words[1], Chain(words[1], number))
                    if line.endswith("}"):  # empty one-line chain
                        chain = None
                elif words[0] in ("set", "map") and len(words) >= 2:
                    set_name, set_line, set_buffer = words[1], number, [line]
                    set_depth = line.count("{") - line.count("}")
                    set_type = "map" if words[0] == "map" else ""
                    if line.count("{") == line.count("}"):
                        table.sets[set_name] = self._set_value(set_type, line, number, set_name)
                        table.set_spans[set_name] = (number, number)
                        set_name, set_buffer = None, []
                elif line.endswith("{"):
                    depth_extra = 1
                continue
            if line == "}":
                chain = None
                continue
            if words[0] == "type" and "hook" in words:
                chain.kind = _word_after(words, "type") or chain.kind
                chain.hook = (_word_after(words, "hook") or "").rstrip(";") or chain.hook
                if "policy" in words:
                    chain.policy = (_word_after(words, "policy") or "").rstrip(";").upper() or chain.policy
                continue
            if words[0] in ("comment", "policy", "devices", "device"):
                if words[0] == "policy" and len(words) > 1:
                    chain.policy = words[1].rstrip(";").upper()
                continue
            for text in _expand_maps(line, self._maps):
                rule = self._rule(text, number, table)
                if rule is not None:
                    rule.end_line = number
                    chain.rules.append(rule)

    def _set_value(self, kind: str, text: str, line: int, name: str | None = None) -> AddressSet | PortSet:
        match = re.search(r"type\s+(\w+)", text)
        set_type = match.group(1) if match else ""
        elements_match = re.search(r"elements\s*=\s*\{([^}]*)\}", text)
        elements = [e.strip() for e in elements_match.group(1).split(",")] if elements_match else []
        if (
            kind == "map"
            and elements_match is not None
            and (name is not None and re.search(r"type\s+[\w.\s]+:\s*(?:verdict|ipv4_addr|ipv6_addr)\b", text))
        ):
            self._maps[name] = elements_match.group(1)  # expanded where a rule looks it up
            return AddressSet.empty()
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
        self, table: Table, tokens: list[str], index: int, number: int = 1
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

    def _rule(self, line: str, number: int, table: Table) -> ChainRule | None:
        tokens = _nft_tokens(line)
        src: AddressSet = ANY_ADDRESS
        dst: AddressSet = ANY_ADDRESS
        protocols: list[int | None] = [None]
        sports: PortSet | None = None
        dports: PortSet | None = None
        icmp_types: list[int | None] = [None]  # one service per listed type
        icmp_code_value: int | None = None
        in_if: str | None = None
        out_if: str | None = None
        options: set[str] = set()
        comment: str | None = None
        rule = ChainRule(number, TOP, "PASS", text=line)
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
            if word == "meta" and nxt == "nfproto" and index + 2 < count and tokens[index + 2] in ("ipv4", "ipv6"):
                # an inet-table rule for one family only (nft(8) META EXPRESSION)
                family_limit = V4_ALL if tokens[index + 2] == "ipv4" else V6_ALL
                index += 3
                continue
            if word == "fib" and nxt in ("saddr", "daddr"):
                # `fib daddr type local`: the route lookup's address type, as iptables `-m addrtype --dst-type`
                # (kept as the same option); other fib lookups (oif, mark) stay unmodelled
                rest = index + 2
                while rest + 1 < count and tokens[rest] == ".":
                    rest += 2
                if rest + 1 < count and tokens[rest] == "type":
                    negate = tokens[rest + 1] == "!="
                    value = tokens[rest + 2] if negate and rest + 2 < count else tokens[rest + 1]
                    side = "dst-type" if nxt == "daddr" else "src-type"
                    options.add(f"{side}:{'!' if negate else ''}{value.lower()}")
                    index = rest + (3 if negate else 2)
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
            if word in ("icmp", "icmpv6") and nxt in ("type", "code"):
                negate = index + 2 < count and tokens[index + 2] == "!="
                values, _, index = self._values(table, tokens, index + 3 if negate else index + 2, number)
                v6 = word == "icmpv6"
                protocols = [58 if v6 else 1]
                if negate:
                    self.diags.add("LINUX-NFT-UNSUPPORTED", f"negated {word} {nxt}: every one is assumed", number, line)
                    continue
                if nxt == "code":
                    codes = [icmp_code(value, v6) for value in values]
                    if len(codes) == 1 and codes[0] is not None:
                        icmp_code_value = codes[0]
                    else:
                        self.diags.add("LINUX-NFT-UNSUPPORTED", f"{word} code {values} is not modelled", number, line)
                    continue
                found = [icmp_name(value, v6, nft=True) for value in values]
                if found and all(item is not None for item in found):
                    icmp_types = [item[0] for item in found if item is not None]
                else:
                    unknown = [value for value, item in zip(values, found, strict=True) if item is None]
                    message = f"unknown {word} type {', '.join(unknown)}: every type assumed"
                    self.diags.add("LINUX-NFT-BAD-ICMP", message, number, line)
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
                negate = index + 2 < count and tokens[index + 2] == "!="  # `ct state != { ... }`
                values, _, index = self._values(table, tokens, index + 3 if negate else index + 2, number)
                states = frozenset(part.upper() for value in values for part in value.split(","))
                if nxt == "status":
                    options.add(("ctstatus:!" if negate else "ctstatus:") + ",".join(sorted(s.lower() for s in states)))
                elif negate:
                    options.add("ctstate:!" + ",".join(sorted(s.lower() for s in states)))
                else:
                    options.add(state_option(states))
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
                    if word == "redirect" and spec[:1].isdigit():
                        spec = ":" + spec  # `redirect to 3128`: a port (nft prints it as `to :3128`)
                    addr, ports, ok = to_spec(spec)
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
        if len(protocols) == 1 and protocols[0] is None:  # the usual cases, without a generator
            services: tuple[Service, ...] = (ANY_SERVICE,)
        elif len(protocols) == 1 and protocols[0] in PORT_PROTOCOLS:
            services = (Service(protocols[0], sports or ANY_PORTS, dports or ANY_PORTS),)
        else:
            services = tuple(
                Service(proto, sports or ANY_PORTS, dports or ANY_PORTS)
                if proto in PORT_PROTOCOLS
                else Service(proto)
                if proto not in (1, 58)
                else Service(proto, icmp_type=kind, icmp_code=icmp_code_value if kind is not None else None)
                for proto in protocols
                for kind in (icmp_types if proto in (1, 58) else [None])
            )
        rule.cond = Cond(src, dst, services, in_if, out_if, frozenset(options))
        rule.comment = comment
        return rule


def _word_after(words: list[str], keyword: str) -> str | None:
    """The word after `keyword` (None when the line ends there: a cut or hand-edited chain header)."""
    index = words.index(keyword) + 1
    return words[index] if index < len(words) else None
