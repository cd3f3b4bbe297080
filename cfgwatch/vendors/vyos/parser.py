"""VyOS parser: `set nat destination|source rule N`, `set firewall` rulesets and their bindings (1.3 and 1.4).

Input is the `set` command form (`show configuration commands`, or vbash scripts of set lines); the
curly `show configuration` form is first flattened into the same set paths.

NAT: destination rules -> DESTINATION (ingress = inbound-interface, both `inbound-interface eth0` and
1.4 `inbound-interface name eth0`), source rules -> SOURCE, or PAT to the outbound interface for
`translation address masquerade`; name = "destination/N" / "source/N", sequence = N, comment = description.
Firewall: every ruleset is a filter list in rule-number order with its default-action as a final
match-all rule (`default-action`): 1.3 `firewall name X` (list X, bound by `interfaces ... firewall
in|out|local name X`), 1.4 `firewall ipv4|ipv6 name X` (list `ipv4/X`) and base chains
`firewall ipv4 forward|input|output filter` (list `ipv4/forward`). `action jump` inlines the target's
rules where it is reached (the target is also its own list). Groups resolve with names kept.
"""

from __future__ import annotations

import re
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
from cfgwatch.model.ports import ANY_PORTS, PORT_PROTOCOLS
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._chains import Builder, Chain, ChainRule, Cond, Table
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._misc_common import (
    Diagnostics,
    complement,
    lenient_protocol,
    negated,
    parse_address,
    port_set,
    split_quoted_words,
    union_all,
)
from cfgwatch.vendors._netfilter_icmp import icmp_name, state_option

PLATFORM = "vyos"

_TOKEN = re.compile(r"'([^']*)'|\"((?:[^\"\\]|\\.)*)\"|(#.*)|(\S+)")
_DETECT = re.compile(r"^\s*set (?:nat|firewall|interfaces|system|service|protocols|vpn|high-availability) ", re.M)
_DETECT_CURLY = re.compile(r"^(?:firewall|nat|interfaces|system|service|protocols) \{", re.M)
_BASE_CHAINS = ("forward", "input", "output", "prerouting")
# first characters of a set line's path that can make it a `nat`, `firewall`, `interfaces` or 1.3
# `zone-policy` line (the only heads _VyOS reads): their initials and quotes (a quoted head is unquoted
# by _tokens); whitespace too
_READ_FIRST = frozenset("nfiz'\"")


@dataclass(slots=True)
class _Item:
    """One rule: its set-lines (tokens after `rule N`), numbered."""

    number: int
    first: int
    last: int
    lines: list[tuple[int, list[str], str]] = field(default_factory=list)


def _tokens(text: str) -> list[str]:
    if '"' not in text and "#" not in text:
        words = split_quoted_words(text, "'")
        if words is not None:
            return words
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.group(3) is not None:
            break  # trailing comment
        single, double, word = match.group(1), match.group(2), match.group(4)
        out.append(single if single is not None else double if double is not None else word)
    return out


def _flatten_curly(text: str) -> list[tuple[int, list[str], str]]:
    """`show configuration` braces to set-command token lists (path + leaf + value)."""
    out: list[tuple[int, list[str], str]] = []
    stack: list[list[str]] = []
    for number, raw in enumerate(config_lines(text), start=1):
        line = raw.strip()
        if not line or line.startswith(("/*", "//", "#")):
            continue
        if line == "}":
            if stack:
                stack.pop()
            continue
        tokens = _tokens(line)
        if tokens and tokens[-1] == "{":
            stack.append(tokens[:-1])
            continue
        path = [t for part in stack for t in part]
        out.append((number, path + tokens, line))
    return out


def _set_lines(text: str) -> list[tuple[int, list[str], str]]:
    if not _DETECT.search(text) and _DETECT_CURLY.search(text):
        return _flatten_curly(text)
    out: list[tuple[int, list[str], str]] = []
    for number, raw in enumerate(config_lines(text), start=1):
        line = raw.strip()
        if line.startswith("set "):
            first = line[4]
            if first not in _READ_FIRST and not first.isspace():  # `set system ...`: _VyOS reads none of them
                continue
            out.append((number, _tokens(line)[1:], line))
        elif line.startswith("delete ") and (" nat " in line or " firewall " in line):
            out.append((number, ["__delete__", *_tokens(line)[1:]], line))
    return out


class _VyOS:
    def __init__(self, text: str) -> None:
        self.diags = Diagnostics()
        self.nat: dict[tuple[str, int], _Item] = {}
        self.rulesets: dict[str, dict[int, _Item]] = {}
        self.ruleset_settings: dict[str, dict[str, tuple[int, str]]] = {}
        self.ruleset_lines: dict[str, int] = {}
        self.groups: dict[tuple[str, str], tuple[list[str], int, int]] = {}
        self.bindings: list[Binding] = []
        self.iface_addr: dict[str, tuple[AddressSet, int]] = {}
        self.state_policy: dict[str, tuple[str, int]] = {}
        for number, tokens, line in _set_lines(text):
            self._line(number, tokens, line)

    # -- collection ------------------------------------------------------------------------------
    def _line(self, number: int, tokens: list[str], line: str) -> None:
        if not tokens:
            return
        if tokens[0] == "__delete__":
            self.diags.add(
                "VYOS-DELETE", "'delete' commands are not applied; parse the resulting configuration", number, line
            )
            return
        head = tokens[0]
        if head == "nat":
            if (
                len(tokens) >= 5
                and tokens[1] in ("destination", "source")
                and tokens[2] == "rule"
                and tokens[3].isdigit()
            ):
                key = (tokens[1], int(tokens[3]))
                item = self.nat.get(key) or self.nat.setdefault(key, _Item(int(tokens[3]), number, number))
                item.last = number
                item.lines.append((number, tokens[4:], line))
            elif len(tokens) >= 4 and tokens[2] == "rule":
                self.diags.add("VYOS-NAT-UNSUPPORTED", f"'nat {tokens[1]}' is not modelled", number, line)
            return
        if head == "firewall" and len(tokens) >= 2 and tokens[1] == "zone":
            self._zone(number, tokens[2:], line, v14=True)
            return
        if head == "zone-policy" and len(tokens) >= 2 and tokens[1] == "zone":
            self._zone(number, tokens[2:], line, v14=False)
            return
        if head == "firewall":
            self._firewall(number, tokens[1:], line)
            return
        if head == "interfaces" and len(tokens) >= 4:
            self._interface(number, tokens, line)

    def _firewall(self, number: int, tokens: list[str], line: str) -> None:
        if not tokens:
            return
        if tokens[0] == "group" and len(tokens) >= 4:
            kind, group, values = tokens[1], tokens[2], tokens[3:]
            if values[0] in ("address", "network", "port", "interface", "include") and len(values) >= 2:
                members, first, _ = self.groups.get((kind, group), ([], number, number))
                members.append(values[1] if values[0] != "include" else f"@{values[1]}")
                self.groups[(kind, group)] = (members, first, number)
            elif values[0] != "description":
                self.diags.add("VYOS-GROUP-UNSUPPORTED", f"group field '{values[0]}' is not modelled", number, line)
            return
        if tokens[0] in ("global-options", "state-policy"):
            policy = tokens[1:] if tokens[0] == "global-options" else tokens
            if policy and policy[0] == "state-policy" and len(policy) >= 4 and policy[2] == "action":
                self.state_policy[policy[1]] = (policy[3], number)
            return
        name: str | None = None
        rest: list[str] = []
        if tokens[0] in ("name", "ipv6-name") and len(tokens) >= 3:  # 1.3
            name = tokens[1] if tokens[0] == "name" else f"ipv6/{tokens[1]}"
            rest = tokens[2:]
        elif tokens[0] in ("ipv4", "ipv6") and len(tokens) >= 4:  # 1.4
            if tokens[1] == "name":
                name, rest = f"{tokens[0]}/{tokens[2]}", tokens[3:]
            elif tokens[1] in _BASE_CHAINS and tokens[2] == "filter":
                name, rest = f"{tokens[0]}/{tokens[1]}", tokens[3:]
        if name is None:
            if tokens[0] in ("bridge", "flowtable"):
                self.diags.add("VYOS-FIREWALL-UNSUPPORTED", f"'firewall {tokens[0]}' is not modelled", number, line)
            return
        self.ruleset_lines.setdefault(name, number)
        if rest and rest[0] == "rule" and len(rest) >= 3 and rest[1].isdigit():
            rules = self.rulesets.get(name)
            if rules is None:  # not setdefault(name, {}): that builds a throwaway dict per rule line
                rules = self.rulesets[name] = {}
            number_key = int(rest[1])
            item = rules.get(number_key) or rules.setdefault(number_key, _Item(number_key, number, number))
            item.last = number
            item.lines.append((number, rest[2:], line))
        elif rest:
            self.rulesets.setdefault(name, {})
            self.ruleset_settings.setdefault(name, {})[rest[0]] = (number, rest[1] if len(rest) > 1 else "")

    def _zone(self, number: int, tokens: list[str], line: str, *, v14: bool) -> None:
        """Zone-based firewall (1.3 `zone-policy zone Z ...`, 1.4 `firewall zone Z ...`): `interface I` (1.4
        `member interface I`) puts I in zone Z; `from F firewall name N` (`ipv6-name N`) applies ruleset N
        to traffic from zone F to zone Z, a zone-pair binding as for IOS ZBF."""
        if len(tokens) < 3:
            return
        zone, rest = tokens[0], tokens[1:]
        source = SourceRef(number, number)
        if rest[0] == "member" and len(rest) >= 3 and rest[1] == "interface":
            rest = rest[1:]
        if rest[0] == "interface" and len(rest) >= 2:
            self.bindings.append(Binding(BindingKind.ZONE, zone, rest[1], source=source))
        elif rest[0] == "from" and len(rest) >= 5 and rest[2] == "firewall" and rest[3] in ("name", "ipv6-name"):
            family = "ipv4" if rest[3] == "name" else "ipv6"
            ruleset = rest[4] if rest[3] == "name" and not v14 else f"{family}/{rest[4]}"
            self.bindings.append(Binding(BindingKind.FILTER, ruleset, f"{rest[1]}>{zone}", "zone-pair", None, source))
        elif rest[0] not in ("description", "default-action", "default-log", "local-zone", "enable-default-log"):
            self.diags.add("VYOS-ZONE-UNSUPPORTED", f"zone field '{rest[0]}' is not modelled", number, line)

    def _interface(self, number: int, tokens: list[str], line: str) -> None:
        name = tokens[2]
        rest = tokens[3:]
        while len(rest) >= 2 and rest[0] in ("vif", "vif-s", "vif-c"):
            name, rest = f"{name}.{rest[1]}", rest[2:]
        if rest and rest[0] == "address" and len(rest) >= 2:
            host = parse_address(rest[1].split("/")[0])
            if host is not None:
                previous = self.iface_addr.get(name, (AddressSet.empty(), number))[0]
                self.iface_addr[name] = (previous | host, number)
        elif rest and rest[0] == "firewall" and len(rest) >= 4:  # 1.3 binding
            direction, kind, ruleset = rest[1], rest[2], rest[3]
            list_name = ruleset if kind == "name" else f"ipv6/{ruleset}"
            self.bindings.append(
                Binding(BindingKind.FILTER, list_name, name, direction, source=SourceRef(number, number))
            )

    # -- groups ----------------------------------------------------------------------------------
    def group_addresses(self, name: str, depth: int = 0) -> AddressSet | None:
        if ("domain-group", name) in self.groups:  # 1.4: DNS names, resolved by the router at run time
            members = self.groups[("domain-group", name)][0]
            return AddressSet(fqdns=frozenset(member.lower() for member in members), names=(name,))
        for kind in ("address-group", "network-group", "ipv6-address-group", "ipv6-network-group"):
            if (kind, name) in self.groups:
                parts: list[AddressSet] = []
                for member in self.groups[(kind, name)][0]:
                    if member.startswith("@") and depth < 8:
                        parts.append(self.group_addresses(member[1:], depth + 1) or AddressSet.empty())
                        continue
                    parsed = parse_address(member)
                    if parsed is not None:
                        parts.append(parsed)
                return union_all(parts).named(name)  # one merge for big groups
        return None

    def group_ports(self, name: str) -> PortSet | None:
        if ("port-group", name) not in self.groups:
            return None
        result = PortSet(ranges=())
        for member in self.groups[("port-group", name)][0]:
            parsed = port_set(member)
            if parsed is not None:
                result = result | parsed
        return result.named(name)

    def objects(self) -> list[ObjectDef]:
        out: list[ObjectDef] = []
        for (kind, name), (members, first, last) in self.groups.items():
            source = SourceRef(first, last)
            if kind == "port-group":
                ports = self.group_ports(name) or PortSet(ranges=())
                services = (Service(6, ANY_PORTS, ports, names=(name,)), Service(17, ANY_PORTS, ports, names=(name,)))
                out.append(ObjectDef(name, "port-group", services=services, members=tuple(members), source=source))
            elif kind == "interface-group":
                out.append(ObjectDef(name, "interface-group", members=tuple(members), source=source))
            else:
                out.append(ObjectDef(name, kind, self.group_addresses(name), members=tuple(members), source=source))
        return out

    # -- rule fields -----------------------------------------------------------------------------
    def fields(self, item: _Item, where: str) -> dict[str, object]:
        """The match/translation fields of one NAT or firewall rule; unmodelled lines become diagnostics."""
        out: dict[str, object] = {"src": AddressSet.any(), "dst": AddressSet.any()}
        src_ports: PortSet | None = None
        dst_ports: PortSet | None = None
        for number, rest, line in item.lines:
            if not rest:
                continue
            key = rest[0]
            value = rest[1] if len(rest) > 1 else ""
            if key in ("source", "destination") and len(rest) >= 3:
                side = "src" if key == "source" else "dst"
                sub = rest[1]
                if sub == "address":
                    neg, text = negated(rest[2])
                    parsed = parse_address(text)
                    if parsed is None:
                        self.diags.add("VYOS-BAD-ADDRESS", f"cannot read address '{rest[2]}'", number, line)
                        out["invalid"] = True
                        continue
                    out[side] = complement(parsed).named(f"!{text}") if neg else parsed
                elif sub == "port":
                    neg, text = negated(rest[2])
                    ports = port_set(text)
                    if ports is None:
                        self.diags.add("VYOS-BAD-PORT", f"cannot read port '{rest[2]}'", number, line)
                        out["invalid"] = True
                        continue
                    ports = PortSet() - ports if neg else ports
                    if side == "src":
                        src_ports = ports
                    else:
                        dst_ports = ports
                elif sub == "group" and len(rest) >= 4:
                    neg, group = negated(rest[3])
                    if rest[2] == "port-group":
                        ports = self.group_ports(group)
                        if ports is None:
                            self.diags.add("VYOS-UNKNOWN-GROUP", f"port-group '{group}' is not defined", number, line)
                            continue
                        if side == "src":
                            src_ports = ports
                        else:
                            dst_ports = ports
                    else:
                        addresses = self.group_addresses(group)
                        if addresses is None:
                            self.diags.add("VYOS-UNKNOWN-GROUP", f"group '{group}' is not defined", number, line)
                            addresses = AddressSet.fqdn(f"group:{group}", names=(group,))
                        out[side] = complement(addresses).named(f"!{group}") if neg else addresses
                elif sub == "fqdn":
                    out[side] = AddressSet.fqdn(rest[2])
                else:
                    self.diags.add(f"VYOS-{where}-UNSUPPORTED", f"'{key} {sub}' is not modelled", number, line)
            elif key in ("inbound-interface", "outbound-interface") and value:
                name = (
                    rest[2]
                    if value in ("name", "interface-name", "group", "interface-group") and len(rest) > 2
                    else value
                )
                if value in ("group", "interface-group"):
                    name = f"group:{name}"
                out["in_if" if key.startswith("in") else "out_if"] = name
            elif key == "protocol":
                neg, text = negated(value)
                if text in ("tcp_udp", "tcp-udp"):
                    out["protocols"] = [6, 17]
                elif text == "all":
                    out["protocols"] = [None]
                else:
                    proto = lenient_protocol(text)
                    if proto is None or neg:
                        self.diags.add(f"VYOS-{where}-UNSUPPORTED", f"protocol '{value}' is not modelled", number, line)
                        out["invalid"] = True
                        continue
                    out["protocols"] = [proto]
            elif key == "translation" and len(rest) >= 2 and rest[1] == "redirect":
                # 1.4 `translation redirect [port N]`: to the router itself (nftables `redirect to :N`)
                out["redirect"] = True
                if len(rest) >= 4 and rest[2] == "port":
                    out["to_port"] = rest[3]
            elif key == "translation" and len(rest) >= 3:
                out[f"to_{rest[1]}"] = rest[2]
            elif key in ("description", "action", "jump-target"):
                out[key] = value
            elif key == "disable":
                out["disabled"] = True
            elif key == "state" and value:
                states = out.setdefault("states", set())
                assert isinstance(states, set)
                if len(rest) >= 3 and rest[2] == "disable":
                    continue
                states.update(v.strip() for v in value.split(","))
            elif key in ("icmp", "icmpv6") and len(rest) >= 3 and rest[1] in ("type", "type-name", "code"):
                # VyOS `icmp type N | type-name NAME | code N` (icmpv6 alike); the names are the iptables ones
                found = icmp_name(rest[2], key == "icmpv6") if rest[1] != "code" else None
                if rest[1] == "code" and rest[2].isdigit() and int(rest[2]) <= 255:
                    out["icmp_code"] = int(rest[2])
                elif found is not None and rest[2] != "any":
                    out["icmp_type"] = found[0]
                    if found[1] is not None:
                        out["icmp_code"] = found[1]
                elif rest[2] != "any":
                    self.diags.add(f"VYOS-{where}-UNSUPPORTED", f"{key} {rest[1]} '{rest[2]}' is unknown", number, line)
            elif key in ("log", "packet-type"):
                continue
            elif key == "exclude" and where == "NAT":
                out["exclude"] = True
            else:
                self.diags.add(f"VYOS-{where}-UNSUPPORTED", f"'{key}' is not modelled", number, line)
        protocols = out.get("protocols", [None])
        assert isinstance(protocols, list)
        if (src_ports or dst_ports) and protocols == [None]:
            protocols = [6, 17]  # VyOS needs a protocol with ports; tcp_udp is the default reading
        icmp_type = out.get("icmp_type")
        icmp_code = out.get("icmp_code") if isinstance(icmp_type, int) else None
        # a port-group's name rides on the service, so a change of the group marks the rules using it
        group_names = tuple(name for ports in (src_ports, dst_ports) if ports is not None for name in ports.names)
        out["services"] = tuple(
            Service(p, src_ports or ANY_PORTS, dst_ports or ANY_PORTS, names=group_names)
            if p in PORT_PROTOCOLS
            else Service(
                p,
                icmp_type=icmp_type if isinstance(icmp_type, int) and p in (1, 58) else None,
                icmp_code=icmp_code if isinstance(icmp_code, int) and p in (1, 58) else None,
            )
            for p in protocols
        )
        return out


def _nat_rules(state: _VyOS) -> list[NatRule]:
    out: list[NatRule] = []
    for (section, number), item in sorted(state.nat.items()):
        fields = state.fields(item, "NAT")
        if fields.get("invalid"):
            continue
        src, dst = fields["src"], fields["dst"]
        services = fields["services"]
        assert isinstance(src, AddressSet) and isinstance(dst, AddressSet) and isinstance(services, tuple)
        match = Match(src, dst, services)
        to_address = str(fields.get("to_address", ""))
        to_port_text = str(fields.get("to_port", ""))
        to_ports = port_set(to_port_text) if to_port_text else None
        translated = parse_address(to_address) if to_address and to_address != "masquerade" else None
        if to_address and to_address != "masquerade" and translated is None:
            state.diags.add("VYOS-BAD-ADDRESS", f"cannot read translation address '{to_address}'", item.first)
            continue
        in_if, out_if = fields.get("in_if"), fields.get("out_if")
        common = {
            "match": match,
            "name": f"{section}/{number}",
            "section": section,
            "enabled": not fields.get("disabled", False),
            "comment": fields.get("description") or None,
            "sequence": number,
            "source": SourceRef(item.first, item.last),
            "ingress": (str(in_if),) if in_if else (),
            "egress": (str(out_if),) if out_if else (),
        }
        if to_ports is not None and all(svc.dst_ports == to_ports for svc in services if svc.protocol is not None):
            to_ports = None if any(svc.protocol is not None for svc in services) else to_ports  # unchanged port
        if fields.get("exclude"):
            # VyOS docs: `exclude` exempts matching packets from NAT (the rule translates nothing; rules are
            # tried in number order, so it shields what later rules would translate)
            kind = NatKind.DESTINATION if section == "destination" else NatKind.SOURCE
            out.append(NatRule(kind=kind, options=frozenset({"no-nat"}), **common))  # type: ignore[arg-type]
        elif section == "destination" and fields.get("redirect"):
            out.append(
                NatRule(
                    kind=NatKind.DESTINATION,
                    translated_dst_ports=to_ports,
                    translate_to_interface=str(in_if) if in_if else "local",
                    options=frozenset({"redirect"}),
                    **common,  # type: ignore[arg-type]
                )
            )
        elif section == "destination":
            if translated is None and to_ports is None:
                state.diags.add("VYOS-NAT-NO-TRANSLATION", f"destination rule {number} has no translation", item.first)
                continue
            out.append(
                NatRule(kind=NatKind.DESTINATION, translated_dst=translated, translated_dst_ports=to_ports, **common)  # type: ignore[arg-type]
            )
        elif to_address == "masquerade":
            out.append(
                NatRule(
                    kind=NatKind.PAT,
                    translate_to_interface=str(out_if) if out_if else "egress",
                    translated_src_ports=to_ports,
                    **common,  # type: ignore[arg-type]
                )
            )
        else:
            if translated is None:
                state.diags.add("VYOS-NAT-NO-TRANSLATION", f"source rule {number} has no translation", item.first)
                continue
            out.append(
                NatRule(kind=NatKind.SOURCE, translated_src=translated, translated_src_ports=to_ports, **common)  # type: ignore[arg-type]
            )
    return out


_VERDICTS = {
    "accept": "ACCEPT",
    "drop": "DROP",
    "reject": "REJECT",
    "return": "RETURN",
    "jump": "JUMP",
    "continue": "PASS",
}


def _filters(state: _VyOS) -> list[FilterRule]:
    table = Table("vyos", "firewall")
    for name, rules in state.rulesets.items():
        chain = Chain(name, state.ruleset_lines.get(name, 1), hook="named")
        for number in sorted(rules):
            item = rules[number]
            fields = state.fields(item, "FIREWALL")
            if fields.get("invalid"):
                continue
            src, dst, services = fields["src"], fields["dst"], fields["services"]
            assert isinstance(src, AddressSet) and isinstance(dst, AddressSet) and isinstance(services, tuple)
            options: set[str] = set()
            states = fields.get("states")
            if isinstance(states, set) and states:
                options.add(state_option(states))
            in_if, out_if = fields.get("in_if"), fields.get("out_if")
            cond = Cond(
                src, dst, services, str(in_if) if in_if else None, str(out_if) if out_if else None, frozenset(options)
            )
            action = str(fields.get("action", "")).lower()
            verdict = _VERDICTS.get(action)
            if verdict is None:
                state.diags.add(
                    "VYOS-FIREWALL-UNSUPPORTED", f"rule {number} has action '{action or 'none'}'", item.first
                )
                continue
            target = str(fields.get("jump-target", ""))
            if "/" in name and target and "/" not in target:  # 1.4: jump targets live in the same family
                target = f"{name.split('/')[0]}/{target}"
            rule = ChainRule(item.first, cond, verdict, target=target, end_line=item.last, text=item.lines[0][2])
            rule.sequence = number if isinstance(number, int) else None  # `rule N`: the entry's identity
            rule.comment = str(fields["description"]) if fields.get("description") else None
            rule.enabled = not fields.get("disabled", False)
            chain.rules.append(rule)
        settings = state.ruleset_settings.get(name, {})
        default = settings.get("default-action")
        if default is not None:
            verdict = _VERDICTS.get(default[1].lower())
            if verdict in ("ACCEPT", "DROP", "REJECT"):
                chain.rules.append(
                    ChainRule(default[0], Cond(), verdict, comment="default-action", end_line=default[0])
                )
        for key, (number, _) in settings.items():
            if key not in ("default-action", "description", "enable-default-log", "default-log", "default-jump-target"):
                state.diags.add("VYOS-FIREWALL-UNSUPPORTED", f"'{key}' of ruleset {name} is not modelled", number)
        table.chains[name] = chain
    builder = Builder([table], state.diags)
    if not state.state_policy:
        return builder.filters
    # global state-policy: established/related handled before every ruleset
    out: list[FilterRule] = []
    seen: set[str] = set()
    for built in builder.filters:
        if built.list_name not in seen:
            seen.add(built.list_name)
            # one rule per action over the states that share it (established + related accept: one rule)
            grouped: dict[str, tuple[set[str], int]] = {}
            for state_name, (action, line) in sorted(state.state_policy.items()):
                names, first = grouped.get(action.lower(), (set(), line))
                grouped[action.lower()] = (names | {state_name}, min(first, line))
            merged = {(action, state_option(names)): line for action, (names, line) in grouped.items()}
            for (action, label), line in sorted(merged.items(), key=lambda kv: kv[1]):
                verdict = {"accept": "permit", "drop": "deny", "reject": "reject"}.get(action)
                if verdict is None:
                    continue
                out.append(
                    FilterRule(
                        list_name=built.list_name,
                        action=Action(verdict),
                        options=frozenset({"state-policy", label}),
                        source=SourceRef(line, line),
                    )
                )
        out.append(built)
    return out


@paused_gc
def parse(text: str) -> RuleSet:
    """VyOS set-command (or curly) configuration to a RuleSet (never raises on bad input)."""
    state = _VyOS(text)
    nats = _nat_rules(state)
    filters = _filters(state)
    interfaces = tuple(
        Interface(name, addresses, source=SourceRef(line, line)) for name, (addresses, line) in state.iface_addr.items()
    )
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(filters),
        nats=tuple(nats),
        bindings=tuple(state.bindings),
        interfaces=interfaces,
        objects=tuple(state.objects()),
        diagnostics=state.diags.result(),
    )


def detect(text: str) -> bool:
    return _DETECT.search(text) is not None or (
        _DETECT_CURLY.search(text) is not None and re.search(r"^\s*(?:nat|firewall) \{", text, re.M) is not None
    )
