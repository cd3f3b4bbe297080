"""MikroTik RouterOS `/export` parser: `/ip firewall nat|filter|raw|address-list` (and the `/ipv6` ones).

Export lines are joined across `\\` continuations, split into `key=value` pairs (quoted values
kept whole) and turned into the same chain/rule structures the Linux parser uses, so jumps
(`action=jump jump-target=X`), `return` and first-match order behave like netfilter (RouterOS is
netfilter underneath): built-in chains input/forward/output (accept by default) and dstnat/srcnat.

NAT: dst-nat -> DESTINATION (to-addresses/to-ports), src-nat -> SOURCE, masquerade -> PAT to the
out-interface (or its interface list), redirect -> DESTINATION to the router (option `redirect`),
netmap by chain. Address lists are resolved (names kept) and become ObjectDefs; interface lists act as
zones (`in-interface-list=WAN` is from_zones ("WAN",), members are ZONE bindings). List names: the
chain (`forward`), `nat/dstnat`, `raw/prerouting`, and `ipv6/...` for the IPv6 tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from cfgwatch.model import AddressSet, Binding, BindingKind, Interface, ObjectDef, PortSet, RuleSet, Service, SourceRef
from cfgwatch.model.ports import ANY_PORTS, PORT_PROTOCOLS
from cfgwatch.model.text import config_lines
from cfgwatch.vendors._chains import Builder, Chain, ChainRule, Cond, Table
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._misc_common import (
    V4_ALL,
    V6_ALL,
    Diagnostics,
    complement,
    lenient_protocol,
    negated,
    parse_address,
    port_set,
    union_all,
)
from cfgwatch.vendors._netfilter_icmp import state_option

PLATFORM = "mikrotik_routeros"

_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_PAIR = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)|(\S+)')
_DETECT = re.compile(r"^/(?:ip|ipv6|interface|system|routing|tool|user|snmp|queue) ", re.M)
_TABLES = {
    "/ip firewall filter": ("filter", ""),
    "/ip firewall nat": ("nat", ""),
    "/ip firewall raw": ("raw", ""),
    "/ipv6 firewall filter": ("filter", "ipv6"),
    "/ipv6 firewall nat": ("nat", "ipv6"),
    "/ipv6 firewall raw": ("raw", "ipv6"),
}
_LISTS = {"/ip firewall address-list": "", "/ipv6 firewall address-list": "ipv6"}
_HOOKS = {
    "input": "input",
    "forward": "forward",
    "output": "output",
    "dstnat": "prerouting",
    "srcnat": "postrouting",
    "prerouting": "prerouting",
}
_PASSIVE_ACTIONS = frozenset(
    {
        "log",
        "passthrough",
        "add-src-to-address-list",
        "add-dst-to-address-list",
        "fasttrack-connection",
        "mark-connection",
        "mark-packet",
        "mark-routing",
        "change-mss",
        "change-ttl",
        "change-dscp",
        "sniff-tzsp",
        "sniff-pc",
        "notrack",
    }
)
# keys that annotate or only narrow by state the model does not carry (no diagnostic)
_IGNORED = frozenset(
    {
        "log",
        "log-prefix",
        "hw-offload",
        "address-list-timeout",
        "address-list",
        "new-mss",
        "passthrough",
        "new-connection-mark",
        "new-packet-mark",
        "new-routing-mark",
        "copy-from",
        "reject-with",
    }
)
# narrowing conditions kept as options
_OPTION_KEYS = (
    "connection-nat-state",
    "ipsec-policy",
    "connection-mark",
    "packet-mark",
    "routing-mark",
    "src-address-type",
    "dst-address-type",
    "tcp-flags",
    "limit",
    "hop-limit",
    "ttl",
    "packet-size",
    "connection-type",
    "connection-limit",
    "nth",
    "random",
    "time",
    "dscp",
    "fragment",
    "psd",
)

_OPTION_KEY_SET = frozenset(_OPTION_KEYS)
# every key a firewall rule may carry without a MIKROTIK-UNSUPPORTED diagnostic
_KNOWN_KEYS = _IGNORED | _OPTION_KEY_SET | {
    "chain", "action", "src-address", "dst-address", "src-address-list", "dst-address-list", "protocol",
    "dst-port", "src-port", "connection-state", "icmp-options", "in-interface", "in-interface-list",
    "out-interface", "out-interface-list", "to-addresses", "to-ports", "disabled", "comment", "jump-target",
    "place-before",
}  # fmt: skip
_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "reject": "REJECT", "tarpit": "REJECT", "return": "RETURN"}

# the sections _RouterOS reads commands of; every other section's commands are skipped unread
_READ_PATHS = frozenset({*_TABLES, *_LISTS, "/ip address", "/interface list member"})


@dataclass(slots=True)
class _Command:
    path: str
    line: int
    end: int
    verb: str
    pairs: dict[str, str] = field(default_factory=dict)
    text: str = ""


@lru_cache(maxsize=4096)
def _is_key(word: str) -> bool:
    """A RouterOS property name as _PAIR reads one (exports repeat a few dozen names)."""
    return _KEY.fullmatch(word) is not None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def _commands(text: str, diags: Diagnostics) -> list[_Command]:
    """Logical export commands with their section path, continuation lines joined."""
    out: list[_Command] = []
    path = ""
    pending: list[str] = []
    start = 0
    lines = config_lines(text)
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not pending:
            if not stripped or stripped.startswith("#"):
                continue
            start = number
        if stripped.endswith("\\") and not stripped.endswith("\\\\\\"):
            pending.append(stripped[:-1])
            if number < len(lines):
                continue
        if pending:
            pending.append(stripped)
            logical = "".join(pending).strip()
            pending = []
        else:  # one whole line (most): already stripped
            logical = stripped
        if logical.startswith("/"):
            words = logical.split()
            verbs = [i for i, w in enumerate(words) if w in ("add", "set", "remove", "disable", "enable")]
            if verbs:
                path = " ".join(words[: verbs[0]])
                logical = " ".join(words[verbs[0] :])
            else:
                path = logical
                continue
        if path not in _READ_PATHS:  # a section nothing reads (DNS, queues, ...): no pairs to split
            continue
        verb, _, rest = logical.partition(" ")
        pairs: dict[str, str] = {}
        if '"' not in rest:  # no quoted values: every word is `key=value` or a bare word
            for word in rest.split():
                key, eq, value = word.partition("=")
                if eq and _is_key(key):
                    pairs[key] = value
        else:
            for key, value, _bare in _PAIR.findall(rest):
                if key:
                    pairs[key] = _unquote(value) if value[:1] == '"' else value
        out.append(_Command(path, start, number, verb, pairs, logical))
    return out


class _RouterOS:
    def __init__(self, text: str) -> None:
        self.diags = Diagnostics()
        self.lists: dict[tuple[str, str], AddressSet] = {}
        # entries read since the list was last merged: one union per look-up instead of one per entry
        self.pending: dict[tuple[str, str], list[AddressSet]] = {}
        self.list_lines: dict[tuple[str, str], tuple[int, int]] = {}
        self.tables: dict[tuple[str, str], Table] = {}
        # every rule of one menu (/ip firewall filter, nat, ...) across its chains, in menu order
        self.menus: dict[tuple[str, str], list[tuple[str, ChainRule]]] = {}
        self.objects: list[ObjectDef] = []
        self.bindings: list[Binding] = []
        self.interfaces: dict[str, Interface] = {}
        self._referenced: dict[tuple[str, str, bool], AddressSet] = {}  # (family, list, negated) -> match
        commands = _commands(text, self.diags)
        for command in commands:
            if command.path in _LISTS and command.verb == "add":
                self._list_entry(command, _LISTS[command.path])
        for command in commands:
            if command.path in _TABLES:
                self._rule(command, *_TABLES[command.path])
            elif command.path == "/ip address" and command.verb == "add":
                self._address(command)
            elif command.path == "/interface list member" and command.verb == "add":
                iface, name = command.pairs.get("interface"), command.pairs.get("list")
                if iface and name and command.pairs.get("disabled") != "yes":
                    self.bindings.append(
                        Binding(BindingKind.ZONE, name, iface, source=SourceRef(command.line, command.end))
                    )
        for family, name in list(self.lists):
            addresses = self._list((family, name))
            first, last = self.list_lines[(family, name)]
            self.objects.append(
                ObjectDef(
                    name, "address-list", addresses.named(name), context=family or None, source=SourceRef(first, last)
                )
            )

    # -- address lists / interfaces -------------------------------------------------------------
    def _list(self, key: tuple[str, str]) -> AddressSet:
        """The address list as read so far (pending entries merged in once)."""
        pending = self.pending.pop(key, None)
        if pending:
            self.lists[key] = union_all([self.lists[key], *pending])
        return self.lists[key]

    def _list_entry(self, command: _Command, family: str) -> None:
        name, address = command.pairs.get("list"), command.pairs.get("address", "")
        if not name:
            self.diags.add("MIKROTIK-SYNTAX", "address-list entry without list=", command.line, command.text)
            return
        key = (family, name)
        first, _ = self.list_lines.get(key, (command.line, command.end))
        self.list_lines[key] = (first, command.end)
        self.lists.setdefault(key, AddressSet.empty())
        if command.pairs.get("disabled") == "yes":
            return
        parsed = parse_address(address)
        if parsed is None:
            if re.fullmatch(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", address):
                parsed = AddressSet.fqdn(address)
            else:
                self.diags.add(
                    "MIKROTIK-BAD-ADDRESS",
                    f"address-list '{name}': cannot read '{address}'",
                    command.line,
                    command.text,
                )
                return
        self.pending.setdefault(key, []).append(parsed)

    def _address(self, command: _Command) -> None:
        iface, address = command.pairs.get("interface"), command.pairs.get("address", "")
        if not iface or command.pairs.get("disabled") == "yes":
            return
        host = parse_address(address.split("/")[0])
        existing = self.interfaces.get(iface)
        addresses = (existing.addresses if existing else AddressSet.empty()) | (host or AddressSet.empty())
        self.interfaces[iface] = Interface(iface, addresses=addresses, source=SourceRef(command.line, command.end))

    # -- rules -----------------------------------------------------------------------------------
    def _table(self, name: str, family: str) -> Table:
        key = (name, family)
        if key not in self.tables:
            label = name if not family else (family if name == "filter" else f"{family}/{name}")
            self.tables[key] = Table("routeros", label)
        return self.tables[key]

    def _addresses(self, command: _Command, key: str, list_key: str, family: str) -> AddressSet | None:
        result = AddressSet.any()
        if key in command.pairs:
            neg, text = negated(command.pairs[key])
            parsed = AddressSet.empty()
            for part in text.split(",") if "," in text else ():
                one = parse_address(part)
                if one is None:
                    self.diags.add("MIKROTIK-BAD-ADDRESS", f"cannot read {key}={text}", command.line, command.text)
                    return None
                parsed = parsed | one
            if "," not in text:  # one address: the union below would be the address itself
                one = parse_address(text)
                if one is None:
                    self.diags.add("MIKROTIK-BAD-ADDRESS", f"cannot read {key}={text}", command.line, command.text)
                    return None
                parsed = one
            result = complement(parsed).named(f"!{text}") if neg else parsed
        if list_key in command.pairs:
            neg, name = negated(command.pairs[list_key])
            listed = self._referenced.get((family, name, neg))
            if listed is None:
                listed = self._reference(command, family, name, neg)
            result = listed if result.is_any else (result & listed).named(*listed.names)
        return result

    def _reference(self, command: _Command, family: str, name: str, neg: bool) -> AddressSet:
        """What `src-address-list=[!]NAME` matches; a defined list's answer is kept for the rules after it
        (lists are complete before rules are read), an undefined one is reported at every reference."""
        known = (family, name) in self.lists
        listed = self._list((family, name)) if known else AddressSet.fqdn(f"address-list:{name}")
        if not known:
            self.diags.add("MIKROTIK-UNKNOWN-LIST", f"address list '{name}' is not defined", command.line, command.text)
        if neg and listed.fqdns:
            # `!NAME` of a list no line fills (it matches nothing until filled): every address of the family,
            # never the list itself, which would invert the rule
            listed = (V6_ALL if family == "ipv6" else V4_ALL).named(f"!{name}")
        else:
            listed = complement(listed).named(f"!{name}") if neg else listed.named(name)
        if known:
            self._referenced[(family, name, neg)] = listed
        return listed

    def _rule(self, command: _Command, table_name: str, family: str) -> None:
        if command.verb != "add":
            if command.verb == "set" and "[ find" in command.text:
                self.diags.add(
                    "MIKROTIK-UNSUPPORTED",
                    f"'{command.verb}' of existing firewall rules not modelled",
                    command.line,
                    command.text,
                )
            elif command.verb not in ("set",):
                self.diags.add(
                    "MIKROTIK-UNSUPPORTED",
                    f"'{command.verb}' in a firewall section not modelled",
                    command.line,
                    command.text,
                )
            return
        pairs = command.pairs
        chain_name = pairs.get("chain", "")
        if not chain_name:
            self.diags.add("MIKROTIK-SYNTAX", "firewall rule without chain=", command.line, command.text)
            return
        src = self._addresses(command, "src-address", "src-address-list", family)
        dst = self._addresses(command, "dst-address", "dst-address-list", family)
        if src is None or dst is None:
            return
        if family == "ipv6":
            src = V6_ALL if src.is_any else src
            dst = V6_ALL if dst.is_any else dst
        proto: int | None = None
        if "protocol" in pairs:
            neg, text = negated(pairs["protocol"])
            proto = lenient_protocol(text)
            if proto is None or neg:
                self.diags.add(
                    "MIKROTIK-UNSUPPORTED", f"protocol={pairs['protocol']} not modelled", command.line, command.text
                )
                return
        ports: dict[str, PortSet | None] = {}
        for key in ("dst-port", "src-port"):
            if key in pairs:
                neg, text = negated(pairs[key])
                parsed = port_set(text)
                if parsed is None:
                    self.diags.add("MIKROTIK-BAD-PORT", f"cannot read {key}={pairs[key]}", command.line, command.text)
                    return
                ports[key] = PortSet() - parsed if neg else parsed
        options: set[str] = set()
        if "connection-state" in pairs:
            neg, text = negated(pairs["connection-state"])
            states = frozenset(text.lower().split(","))
            if neg:
                options.add(f"ctstate:!{','.join(sorted(states))}")
            else:
                options.add(state_option(states))
        for key in pairs:
            if key in _OPTION_KEY_SET:
                options.add(f"{key}:{pairs[key]}")
        icmp_type = icmp_code = None
        if "icmp-options" in pairs:
            type_text, _, code_text = pairs["icmp-options"].partition(":")
            icmp_type = int(type_text) if type_text.isdigit() else None
            icmp_code = int(code_text) if code_text.isdigit() else None
        in_if = self._iface(pairs, "in-interface", "in-interface-list", command)
        out_if = self._iface(pairs, "out-interface", "out-interface-list", command)
        for key in pairs:
            if key not in _KNOWN_KEYS:
                self.diags.add("MIKROTIK-UNSUPPORTED", f"'{key}=' is not modelled", command.line, command.text)
        if proto in PORT_PROTOCOLS:
            services: tuple[Service, ...] = (
                Service(proto, ports.get("src-port") or ANY_PORTS, ports.get("dst-port") or ANY_PORTS),
            )
        elif proto is not None:
            services = (Service(proto, icmp_type=icmp_type, icmp_code=icmp_code),)
        else:
            services = (Service(),)
        cond = Cond(src, dst, services, in_if, out_if, frozenset(options))
        rule = ChainRule(
            command.line, cond, "PASS", comment=pairs.get("comment") or None, end_line=command.end, text=command.text
        )
        rule.enabled = pairs.get("disabled", "no") != "yes"
        action = pairs.get("action", "accept").lower()
        if action in _VERDICTS:
            rule.verdict = _VERDICTS[action]
        elif action == "jump":
            rule.verdict, rule.target = "JUMP", pairs.get("jump-target", "")
        elif action in ("dst-nat", "src-nat", "netmap", "same"):
            rule.verdict = {"dst-nat": "DNAT", "src-nat": "SNAT", "netmap": "NETMAP", "same": "SNAT"}[action]
            if "to-addresses" in pairs:
                rule.to_addr = parse_address(pairs["to-addresses"])
                if rule.to_addr is None:
                    self.diags.add(
                        "MIKROTIK-BAD-ADDRESS",
                        f"cannot read to-addresses={pairs['to-addresses']}",
                        command.line,
                        command.text,
                    )
                    return
        elif action in ("masquerade", "redirect"):
            rule.verdict = action.upper()
        elif action in _PASSIVE_ACTIONS:
            rule.verdict = "PASS"
        else:
            self.diags.add("MIKROTIK-UNSUPPORTED", f"action={action} is not modelled", command.line, command.text)
            return
        if "to-ports" in pairs:
            rule.to_ports = port_set(pairs["to-ports"])
            if rule.to_ports is None:
                self.diags.add(
                    "MIKROTIK-BAD-PORT", f"cannot read to-ports={pairs['to-ports']}", command.line, command.text
                )
                return
        table = self._table(table_name, family)
        chain = table.chains.get(chain_name)
        if chain is None:
            hook = _HOOKS.get(chain_name)
            chain = table.chains[chain_name] = Chain(chain_name, command.line, hook=hook)
            chain.kind = "nat" if table_name == "nat" else "filter"
            if hook is not None and table_name == "filter":
                chain.policy = "ACCEPT"  # RouterOS accepts what no rule drops
        menu = self.menus.setdefault((table_name, family), [])
        before = self._place_before(command, len(menu))
        if before is None:
            menu.append((chain_name, rule))
            chain.rules.append(rule)
            return
        # `add ... place-before=N` puts the new item in front of item N of the menu (all chains count); in
        # its chain it goes in front of the first rule of that chain at or after that place
        following = next((item for name, item in menu[before:] if name == chain_name), None)
        menu.insert(before, (chain_name, rule))
        if following is None:
            chain.rules.append(rule)
        else:
            chain.rules.insert(next(i for i, item in enumerate(chain.rules) if item is following), rule)

    def _place_before(self, command: _Command, count: int) -> int | None:
        """The menu position of `place-before=N` (None: append), with a diagnostic saying how it was read."""
        value = command.pairs.get("place-before")
        if value is None:
            return None
        if not value.isdigit():
            self.diags.add(
                "MIKROTIK-UNSUPPORTED",
                f"place-before={value} cannot be resolved offline: the rule is kept at the end of its chain",
                command.line,
                command.text,
            )
            return None
        self.diags.add(
            "MIKROTIK-PLACE-BEFORE",
            f"placed before item {value} of the menu as this file numbers it (dynamic items are not counted)",
            command.line,
            command.text,
        )
        return min(int(value), count)

    def _iface(self, pairs: dict[str, str], key: str, list_key: str, command: _Command) -> str | None:
        name = pairs.get(key) or pairs.get(list_key)
        if name and name.startswith("!"):
            self.diags.add(
                "MIKROTIK-NEGATED-INTERFACE", f"negated interface '{name}' kept as a label", command.line, command.text
            )
        if key in pairs and list_key in pairs:
            self.diags.add(
                "MIKROTIK-UNSUPPORTED", f"both {key} and {list_key}: only {key} is modelled", command.line, command.text
            )
        return name or None


@paused_gc
def parse(text: str) -> RuleSet:
    """RouterOS export text to a RuleSet (never raises on bad input)."""
    state = _RouterOS(text)
    builder = Builder(list(state.tables.values()), state.diags)
    zones = {b.interface: b.name for b in state.bindings}
    interfaces = tuple(
        Interface(i.name, i.addresses, zone=zones.get(i.name), source=i.source) for i in state.interfaces.values()
    )
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(builder.filters),
        nats=tuple(builder.nats),
        bindings=tuple(state.bindings),
        interfaces=interfaces,
        objects=tuple(state.objects),
        diagnostics=state.diags.result(),
    )


def detect(text: str) -> bool:
    return _DETECT.search(text) is not None
