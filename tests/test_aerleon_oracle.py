"""An independent oracle for the parsers: policies compiled by aerleon (a firewall-policy compiler that knows
nothing of cfgwatch) into every syntax aerleon emits that cfgwatch parses, read back with cfgwatch's parser,
must make the same first-match permit/deny decision as the policy itself on sampled packets.

The expected decision comes from a small reference evaluator over the policy terms (the aerleon policy
language: a term matches when every given field matches, excludes are removed from the addresses, the first
matching term decides, no match is deny); cfgwatch's decision is first-match over the parsed FilterRules of
the generated list. Seeded random policies, so a failure names a reproducible seed, term and packet.

Known aerleon generator quirks are avoided per target rather than papered over in cfgwatch (aerleon 1.18):
PAN-OS exclusions come out wrong; XR object-group output with exclusions writes `net-group <empty>` (cfgwatch
reports those entries as XR-ACL-UNKNOWN-OBJECT); FortiGate cannot sort ICMP next to port services, renders
an ICMP term or a protocol without ports as service ALL and drops source ports silently; FortiGate and
nftables have no reject; nftables crashes on ICMP types; ASA inet6 output renders no term that names an
address (so it is not a target here).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cfgwatch.model import FilterRule, RuleSet
from cfgwatch.model.ports import PORT_PROTOCOLS
from cfgwatch.vendors import _cisco_common as cc
from cfgwatch.vendors.registry import get_parser

aerleon_api = pytest.importorskip("aerleon.api")
naming = pytest.importorskip("aerleon.lib.naming")

TCP, UDP, ICMP, GRE, ICMP6 = 6, 17, 1, 47, 58

NETWORKS: dict[str, list[str]] = {
    "CORP": ["10.0.0.0/8"],
    "CORP_SUB": ["10.1.0.0/16"],
    "LAB": ["10.1.2.0/24", "172.16.0.0/12"],
    "WEB": ["192.0.2.10/32", "192.0.2.64/26"],
    "WEB_SUB": ["192.0.2.64/28"],
    "PARTNER": ["198.51.100.0/24", "203.0.113.128/25"],
    "DNS_SRV": ["192.0.2.53/32", "198.51.100.53/32"],
}
NETWORKS6: dict[str, list[str]] = {  # the same names for IPv6 filters
    "CORP": ["2001:db8::/32"],
    "CORP_SUB": ["2001:db8:1::/48"],
    "LAB": ["2001:db8:1:2::/64", "fd00::/8"],
    "WEB": ["2001:db8:ffff::10/128", "2001:db8:ffff:100::/56"],
    "WEB_SUB": ["2001:db8:ffff:100::/60"],
    "PARTNER": ["2001:db9::/32", "3fff:1::/48"],
    "DNS_SRV": ["2001:db8:ffff::53/128", "2001:db9::53/128"],
}
SERVICES: dict[str, list[tuple[str, str]]] = {  # name -> (port or range, protocol)
    "HTTP": [("80", "tcp")],
    "WEBS": [("80", "tcp"), ("443", "tcp"), ("8080-8090", "tcp")],
    "DNS": [("53", "udp"), ("53", "tcp")],
    "HIGH": [("1024-65535", "tcp"), ("1024-65535", "udp")],
    "SQL": [("5432", "tcp"), ("1433", "tcp")],
    "NTP": [("123", "udp")],
    "SSH": [("22", "tcp")],
}
ICMP_TYPES = {"echo-request": 8, "echo-reply": 0, "unreachable": 3, "time-exceeded": 11}
ICMP6_TYPES = {"echo-request": 128, "echo-reply": 129, "destination-unreachable": 1, "time-exceeded": 3}
ACTIONS = ("accept", "deny", "reject")


@dataclass(frozen=True, slots=True)
class Target:
    """One aerleon target: its header options, the cfgwatch platform, and what its generator gets wrong."""

    aerleon: str
    options: str
    platform: str
    excludes: bool = True
    reject: bool = True
    icmp: bool = True  # ICMP terms at all
    bare_protocols: bool = True  # a protocol without ports (FortiGate renders it as service ALL)
    source_ports: bool = True
    typed_icmp: bool = True
    wrap: Callable[[str], str] | None = None
    family: str = "inet"  # inet6: IPv6 networks, icmpv6 and IPv6 packets

    @property
    def networks(self) -> dict[str, list[str]]:
        return NETWORKS6 if self.family == "inet6" else NETWORKS

    @property
    def icmp_word(self) -> str:
        return "icmpv6" if self.family == "inet6" else "icmp"

    @property
    def icmp_types(self) -> dict[str, int]:
        return ICMP6_TYPES if self.family == "inet6" else ICMP_TYPES


def _iptables_save(text: str) -> str:
    """aerleon writes bare `-P/-N/-A` lines for the filter table; iptables-save prints them in a *filter block."""
    lines = [line for line in text.splitlines() if line.startswith("-")]
    policies = [line.split() for line in lines if line.startswith("-P ")]
    chains = [line.split()[1] for line in lines if line.startswith("-N ")]
    body = ["*filter", *(f":{p[1]} {p[2]} [0:0]" for p in policies), *(f":{c} - [0:0]" for c in chains)]
    return "\n".join([*body, *(line for line in lines if line.startswith("-A ")), "COMMIT"]) + "\n"


TARGETS = [
    Target("cisco", "f1 extended", "cisco_ios"),
    Target("ciscoxr", "f1", "cisco_xr"),
    Target("ciscoxr", "f1 object-group", "cisco_xr", excludes=False),
    Target("ciscoasa", "f1", "cisco_asa"),
    Target("cisconx", "f1 extended", "cisco_nxos"),
    Target("arista", "f1 extended", "arista_eos"),
    Target("juniper", "f1 inet", "juniper_junos"),
    Target("srx", "from-zone trust to-zone untrust", "juniper_junos"),
    Target("paloalto", "from-zone trust to-zone untrust", "paloalto_panos", excludes=False),
    Target(
        "fortigate",
        "from-zone port1 to-zone port2",
        "fortinet",
        reject=False,
        icmp=False,
        source_ports=False,
        bare_protocols=False,
    ),
    Target("iptables", "INPUT DROP", "linux", excludes=False, wrap=_iptables_save),
    Target("cisco", "f6 inet6", "cisco_ios", family="inet6"),
    Target("ciscoxr", "f6 inet6", "cisco_xr", family="inet6"),
    Target("cisconx", "f6 inet6", "cisco_nxos", family="inet6"),
    Target("arista", "f6 inet6", "arista_eos", family="inet6"),
    Target("juniper", "f6 inet6", "juniper_junos", family="inet6"),
    Target("srx", "from-zone trust to-zone untrust inet6", "juniper_junos", family="inet6"),
    Target("paloalto", "from-zone trust to-zone untrust inet6", "paloalto_panos", excludes=False, family="inet6"),
    Target("nftables", "inet6 INPUT", "linux", reject=False, typed_icmp=False, family="inet6"),
    Target("nftables", "inet INPUT", "linux", reject=False, typed_icmp=False),
]
SEEDS = range(int(__import__("os").environ.get("ORACLE_SEEDS", "4")))
PACKETS_PER_POLICY = 400


# -- policies ----------------------------------------------------------------------------------------------


def _term(rng: random.Random, index: int, target: Target) -> dict[str, Any]:
    term: dict[str, Any] = {"name": f"t{index}"}
    kinds = ["tcp", "udp", "tcp udp", "any"] + ([target.icmp_word] if target.icmp else [])
    kind = rng.choice(kinds)
    if kind != "any":
        term["protocol"] = kind
    if rng.random() < 0.6:
        term["source-address"] = rng.choice(["CORP", "LAB", "PARTNER", "WEB"])
        if term["source-address"] == "CORP" and target.excludes and rng.random() < 0.5:
            term["source-exclude"] = "CORP_SUB"
    if rng.random() < 0.6:
        term["destination-address"] = rng.choice(["WEB", "PARTNER", "DNS_SRV", "LAB"])
        if term["destination-address"] == "WEB" and target.excludes and rng.random() < 0.5:
            term["destination-exclude"] = "WEB_SUB"
    if kind in ("tcp", "udp", "tcp udp"):
        wanted = set(kind.split())
        names = [name for name, ports in SERVICES.items() if wanted & {proto for _port, proto in ports}]
        if rng.random() < 0.7 or not target.bare_protocols:
            term["destination-port"] = rng.choice(names)
        if target.source_ports and rng.random() < 0.2:
            term["source-port"] = "HIGH"
    if kind == target.icmp_word and target.typed_icmp and rng.random() < 0.7:
        term["icmp-type"] = " ".join(rng.sample(sorted(target.icmp_types), rng.randint(1, 2)))
    actions = ACTIONS if target.reject else ("accept", "deny")
    term["action"] = rng.choice(actions)
    return term


def _policy(seed: int, target: Target) -> list[dict[str, Any]]:
    rng = random.Random(seed * 7919 + 17)
    return [_term(rng, index, target) for index in range(rng.randint(5, 9))]


def _definitions(target: Target) -> Any:
    definitions = naming.Naming()
    networks = {
        name: {"values": [{"address": prefix} for prefix in prefixes]} for name, prefixes in target.networks.items()
    }
    services = {
        name: [{"port": port, "protocol": proto} for port, proto in entries] for name, entries in SERVICES.items()
    }
    definitions.ParseDefinitionsObject({"networks": networks}, "")
    definitions.ParseDefinitionsObject({"services": services}, "")
    return definitions


def _generate(target: Target, terms: list[dict[str, Any]]) -> str:
    header = {"targets": {target.aerleon: target.options}}
    policy = {"filename": "oracle", "filters": [{"header": header, "terms": terms}]}
    out = aerleon_api.Generate([policy], _definitions(target))
    assert out is not None and len(out) == 1
    (text,) = out.values()
    return target.wrap(text) if target.wrap else text


# -- packets and the two evaluators ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Packet:
    src: str
    dst: str
    proto: int
    sport: int = 0
    dport: int = 0
    icmp_type: int | None = None


def _addresses(networks: dict[str, list[str]]) -> list[str]:
    """Addresses at and around every prefix edge, plus some that are in none."""
    out = {"8.8.8.8", "10.200.0.1", "100.64.0.1", "192.0.2.9", "192.0.2.11", "203.0.113.127"}
    if networks is NETWORKS6:
        out = {"2001:4860::8888", "2001:db7:ffff::1", "fe80::1", "2001:db8:ffff::11"}
    for prefixes in networks.values():
        for prefix in prefixes:
            net = ipaddress.ip_network(prefix)
            out.update(str(a) for a in (net.network_address, net.broadcast_address, net.network_address + 1))
            out.update(str(a) for a in (net.network_address - 1, net.broadcast_address + 1))
    return sorted(out)


PORTS = [0, 22, 52, 53, 54, 79, 80, 81, 123, 443, 1023, 1024, 1433, 5432, 8080, 8085, 8091, 40000, 65535]


def _packets(seed: int, target: Target, terms: list[dict[str, Any]]) -> list[Packet]:
    """Half random packets over edge addresses and ports, half aimed at one term (its networks, protocols,
    ports and ICMP types), so every term is hit, including the last ones behind broad earlier terms."""
    rng = random.Random(seed)
    addresses = _addresses(target.networks)
    icmp = ICMP6 if target.family == "inet6" else ICMP
    icmp_types = [1, 3, 128, 129, 135] if target.family == "inet6" else [0, 3, 8, 11, 13]
    packets: list[Packet] = []
    for number in range(PACKETS_PER_POLICY):
        term = terms[number % len(terms)] if number % 2 else None
        protocols = [TCP, TCP, UDP, UDP, icmp, GRE]
        src, dst = rng.choice(addresses), rng.choice(addresses)
        ports = PORTS
        if term is not None:
            words = term.get("protocol", "").split()
            protocols = [{"tcp": TCP, "udp": UDP}.get(word, icmp) for word in words] or protocols
            src = _pick(rng, term.get("source-address"), target) or src
            dst = _pick(rng, term.get("destination-address"), target) or dst
            named = term.get("destination-port", "").split()
            ports = [int(spec.split("-")[0]) for name in named for spec, _proto in SERVICES[name]] or PORTS
        proto = rng.choice(protocols)
        if proto in (TCP, UDP):
            packets.append(Packet(src, dst, proto, rng.choice(PORTS), rng.choice(ports)))
        elif proto == icmp:
            packets.append(Packet(src, dst, proto, icmp_type=rng.choice(icmp_types)))
        else:
            packets.append(Packet(src, dst, proto))
    return packets


def _pick(rng: random.Random, names: str | None, target: Target) -> str | None:
    """A random address inside one of the named networks (None when the term names none)."""
    if names is None:
        return None
    net = ipaddress.ip_network(rng.choice([p for name in names.split() for p in target.networks[name]]))
    return str(net.network_address + rng.randrange(min(net.num_addresses, 1 << 20)))


def _in(address: str, names: str | None, networks: dict[str, list[str]]) -> bool:
    if names is None:
        return True
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(prefix) for name in names.split() for prefix in networks[name])


def _port_in(port: int, service_names: str, protocols: str) -> bool:
    """aerleon's term ports are one set for all the term's protocols: the services' ports of any of them."""
    wanted = set(protocols.split())
    for name in service_names.split():
        for spec, spec_proto in SERVICES[name]:
            low, _, high = spec.partition("-")
            if spec_proto in wanted and int(low) <= port <= int(high or low):
                return True
    return False


def _term_matches(term: dict[str, Any], packet: Packet, target: Target) -> bool:
    """The aerleon policy language, from its documentation: every given field must match."""
    protocols = term.get("protocol")
    if protocols is not None:
        numbers = {{"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmpv6": ICMP6}[word] for word in protocols.split()}
        if packet.proto not in numbers:
            return False
    networks = target.networks
    if not _in(packet.src, term.get("source-address"), networks):
        return False
    if "source-exclude" in term and _in(packet.src, term["source-exclude"], networks):
        return False
    if not _in(packet.dst, term.get("destination-address"), networks):
        return False
    if "destination-exclude" in term and _in(packet.dst, term["destination-exclude"], networks):
        return False
    if "destination-port" in term and not _port_in(packet.dport, term["destination-port"], protocols or ""):
        return False
    if "source-port" in term and not _port_in(packet.sport, term["source-port"], protocols or ""):
        return False
    if "icmp-type" in term:
        return packet.icmp_type in {target.icmp_types[name] for name in term["icmp-type"].split()}
    return True


def reference_decision(terms: list[dict[str, Any]], packet: Packet, target: Target = TARGETS[0]) -> bool:
    for term in terms:
        if _term_matches(term, packet, target):
            return bool(term["action"] == "accept")
    return False


def _for_new_connections(rule: FilterRule) -> bool:
    """A rule that only matches established/related packets never decides a new connection."""
    states = {option.split(":", 1)[1] for option in rule.options if option.startswith("ctstate:")}
    if states:
        return any("new" in state.split(",") for state in states)
    return "established" not in rule.options


def _rule_matches(rule: FilterRule, packet: Packet) -> bool:
    match = rule.match
    if not (match.src.contains_ip(packet.src) and match.dst.contains_ip(packet.dst)):
        return False
    for service in match.services:
        if service.protocol is None:
            return True
        if service.protocol != packet.proto:
            continue
        if service.protocol in PORT_PROTOCOLS:
            if service.src_ports.contains_port(packet.sport) and service.dst_ports.contains_port(packet.dport):
                return True
            continue
        if service.icmp_type is not None and service.icmp_type != packet.icmp_type:
            continue
        if service.icmp_code is not None:
            continue  # the sampled packets carry code 0 only where the type says so: never generated here
        return True
    return False


def cfgwatch_decision(rules: tuple[FilterRule, ...], packet: Packet) -> bool:
    for rule in rules:
        if rule.enabled and _for_new_connections(rule) and _rule_matches(rule, packet):
            return rule.action.allows
    return False


def _the_list(parsed: RuleSet) -> tuple[FilterRule, ...]:
    lists = parsed.filter_lists()
    assert len(lists) == 1, f"expected one generated list, got {sorted(lists)}"
    (rules,) = lists.values()
    return rules


# -- the check ---------------------------------------------------------------------------------------------


def _check(target: Target, seed: int) -> None:
    terms = _policy(seed, target)
    text = _generate(target, terms)
    parsed = get_parser(target.platform).parse(text)
    rules = _the_list(parsed)
    mismatches = []
    for packet in _packets(seed, target, terms):
        expected = reference_decision(terms, packet, target)
        if cfgwatch_decision(rules, packet) != expected:
            mismatches.append((packet, "permit" if expected else "deny"))
    detail = "\n".join(f"  {packet} should be {verdict}" for packet, verdict in mismatches[:5])
    diags = "\n".join(f"  {d.code} line {d.line}: {d.message}" for d in parsed.diagnostics[:5])
    assert not mismatches, (
        f"{target.aerleon} {target.options!r} seed {seed}: {len(mismatches)} of {PACKETS_PER_POLICY} packets "
        f"decided differently\n{detail}\nterms: {terms}\ndiagnostics:\n{diags}\n--- generated:\n{text[:3000]}"
    )


# `icmp` inside a Cisco-style IPv6 ACL is ICMPv6 (issue 15 item 2, branch sem-state): until that lands, an
# IPv6 target that writes `icmp` is expected to disagree on ICMPv6 packets (strict: it fails once fixed).
_ICMP_IN_V6_IS_ICMP6 = cc.protocols("icmp", cc.Syntax(v6=True)) == (ICMP6,)
_ICMP6_PENDING = pytest.mark.xfail(
    not _ICMP_IN_V6_IS_ICMP6, reason="`icmp` in an IPv6 ACL is ICMPv6: issue 15 item 2 (sem-state)", strict=True
)


def _cases() -> list[Any]:
    cases = []
    for target in TARGETS:
        # aerleon writes ICMPv6 as `58` for IOS and `icmpv6` for EOS/XR, but as `icmp` for NX-OS
        pending = target.family == "inet6" and target.aerleon == "cisconx"
        cases.append(pytest.param(target, marks=[_ICMP6_PENDING] if pending else []))
    return cases


@pytest.mark.parametrize("target", _cases(), ids=lambda t: f"{t.aerleon}-{t.options.split()[-1]}-{t.family}")
def test_first_match_decisions_agree_with_the_policy(target: Target) -> None:
    for seed in SEEDS:
        _check(target, seed)


@pytest.mark.xfail(strict=True, reason="iptables -j RETURN in user chains is issue 15 item 4 (branch sem-state)")
def test_iptables_exclusions_as_return_rules() -> None:
    target = Target("iptables", "INPUT DROP", "linux", wrap=_iptables_save)
    for seed in SEEDS:
        _check(target, seed)


def test_the_reference_evaluator_itself() -> None:
    terms = [
        {"name": "a", "source-address": "CORP", "source-exclude": "CORP_SUB", "action": "deny"},
        {"name": "b", "protocol": "tcp", "destination-port": "WEBS", "action": "accept"},
    ]
    assert not reference_decision(terms, Packet("10.9.0.1", "8.8.8.8", TCP, 1024, 443))
    assert reference_decision(terms, Packet("10.1.0.1", "8.8.8.8", TCP, 1024, 8085))
    assert not reference_decision(terms, Packet("10.1.0.1", "8.8.8.8", TCP, 1024, 8091))
    assert not reference_decision(terms, Packet("10.1.0.1", "8.8.8.8", UDP, 1024, 443))
    both = [{"name": "c", "protocol": "tcp udp", "destination-port": "SSH", "action": "accept"}]
    assert reference_decision(both, Packet("1.1.1.1", "2.2.2.2", UDP, 1024, 22))  # ports apply to every protocol


def test_msmpc_stateful_firewall_is_reported_not_silent() -> None:
    """aerleon's MS-MPC target writes `services stateful-firewall` rules inside `groups` + `apply-groups`:
    cfgwatch does not model them, so the parse says so instead of reading as "no rules" (issue 15 item 10)."""
    target = Target("msmpc", "f1 inet", "juniper_junos")
    terms = [
        {"name": "a", "source-address": "CORP", "protocol": "tcp", "destination-port": "SSH", "action": "accept"},
        {"name": "b", "action": "deny"},
    ]
    parsed = get_parser(target.platform).parse(_generate(target, terms))
    assert not parsed.filters
    assert [d.code for d in parsed.diagnostics] == ["JUNOS-SERVICES-STATEFUL-FIREWALL-UNSUPPORTED"]
    assert "rule f1" in parsed.diagnostics[0].message
