"""Linux parser: iptables-save and nft rulesets, NAT targets, chain inlining, policies, negation."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import Action, AddressSet, NatKind, PortSet, RuleSet, Service
from cfgwatch.vendors.golden import CONFIGS
from cfgwatch.vendors.linux.parser import detect, parse

FIXTURES = CONFIGS / "linux"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


def test_iptables_dnat_with_port_rewrite_and_comment() -> None:
    rules = _load("forms_iptables_nat.rules")
    dnat = next(n for n in rules.nats if n.source and n.source.start_line == 9)
    assert dnat.kind is NatKind.DESTINATION
    assert dnat.ingress == ("eth0",)
    assert dnat.match.services == (Service(6, PortSet(), PortSet.of(443)),)
    assert dnat.translated_dst == AddressSet.parse("10.0.0.10")
    assert dnat.translated_dst_ports == PortSet.of(8443)
    assert dnat.comment == "CHG-1001 web publish"
    assert dnat.section == "nat/PREROUTING"
    assert dnat.is_port_forward


def test_iptables_dnat_address_and_port_ranges() -> None:
    rules = _load("forms_iptables_nat.rules")
    dnat = next(n for n in rules.nats if n.source and n.source.start_line == 10)
    assert dnat.match.dst == AddressSet.parse("203.0.113.10")
    assert dnat.match.dst_ports() == PortSet.of((5000, 5009))
    assert dnat.translated_dst == AddressSet.parse("10.0.0.20-10.0.0.21")
    assert dnat.translated_dst_ports == PortSet.of((6000, 6009))


def test_iptables_negated_destination_is_complement() -> None:
    rules = _load("forms_iptables_nat.rules")
    dnat = next(n for n in rules.nats if n.source and n.source.start_line == 11)
    assert not dnat.match.dst.contains_ip("10.0.0.1")
    assert dnat.match.dst.contains_ip("8.8.8.8")
    assert dnat.match.src == AddressSet.parse("10.0.0.0/24")


def test_iptables_redirect_snat_masquerade_netmap_and_output_dnat() -> None:
    rules = _load("forms_iptables_nat.rules")
    by_line = {n.source.start_line: n for n in rules.nats if n.source}
    redirect = by_line[12]
    assert redirect.kind is NatKind.DESTINATION and "redirect" in redirect.options
    assert redirect.translate_to_interface == "eth1" and redirect.translated_dst_ports == PortSet.of(3128)
    out = by_line[13]
    assert out.section == "nat/OUTPUT" and out.translated_dst == AddressSet.parse("198.51.100.7")
    masq = by_line[14]
    assert masq.kind is NatKind.PAT and masq.egress == ("!docker0",)
    snat = by_line[15]
    assert snat.kind is NatKind.SOURCE and snat.translated_src == AddressSet.parse("203.0.113.2")
    ranged = by_line[16]
    assert ranged.translated_src == AddressSet.parse("203.0.113.3-203.0.113.4")
    assert ranged.translated_src_ports == PortSet.of((1024, 2047))
    assert by_line[17].translated_src_ports == PortSet.of((40000, 50000))
    assert by_line[18].kind is NatKind.SOURCE and by_line[18].translated_src == AddressSet.parse("192.0.0.0/16")


def test_iptables_user_chain_jump_is_inlined_with_conditions() -> None:
    rules = _load("forms_iptables_nat.rules")
    docker = next(n for n in rules.nats if "chain:DOCKER" in n.options)
    assert docker.section == "nat/PREROUTING"  # reached from PREROUTING via the addrtype jump
    assert "dst-type:local" in docker.options
    assert docker.translated_dst == AddressSet.parse("172.17.0.2")
    forward = rules.filter_lists()["FORWARD"]
    inlined = [f for f in forward if "chain:WAN_IN" in f.options]
    assert [f.action for f in inlined] == [Action.PERMIT, Action.PERMIT, Action.REJECT]
    assert all(f.from_zones == ("eth0",) and f.to_zones == ("eth1",) for f in inlined)
    assert forward[-1].action is Action.DENY and "chain-policy" in forward[-1].options
    codes = {d.code for d in rules.diagnostics}
    # the nat DOCKER chain's conditional RETURN stays a diagnostic: NAT rules are not first-match evaluated
    assert {"LINUX-RETURN", "LINUX-TPROXY", "LINUX-IPSET", "LINUX-IPT-UNSUPPORTED"} <= codes


def test_iptables_filter_multiport_state_and_policy() -> None:
    rules = _load("forms_iptables_nat.rules")
    inputs = rules.filter_lists()["INPUT"]
    assert inputs[0].from_zones == ("lo",)
    assert "established" in inputs[1].options
    assert inputs[2].match.services == (Service(6, PortSet(), PortSet.of(22, 80, 443)),)
    assert inputs[3].match.services == (Service(1, icmp_type=8),)
    assert inputs[-1].action is Action.DENY and "chain-policy" in inputs[-1].options


def test_nft_nat_forms() -> None:
    rules = _load("forms_nft_nat.nft")
    by_line = {n.source.start_line: n for n in rules.nats if n.source}
    dnat = by_line[10]
    assert dnat.kind is NatKind.DESTINATION and dnat.ingress == ("wan0",)
    assert dnat.translated_dst == AddressSet.parse("10.0.0.10") and dnat.translated_dst_ports == PortSet.of(8443)
    assert dnat.comment == "CHG-2002 publish"
    assert dnat.section == "ip nat/prerouting"
    assert by_line[11].match.dst_ports() == PortSet.of((5000, 5009))
    assert by_line[12].translated_dst_ports == PortSet.of(3128) and "redirect" in by_line[12].options
    named = by_line[13]
    assert named.match.dst == AddressSet.parse("198.51.100.0/28", "203.0.113.77")
    assert named.match.dst.names == ("proxies",)
    assert by_line[17].kind is NatKind.PAT and by_line[17].translate_to_interface == "wan0"
    assert by_line[19].translated_src == AddressSet.parse("203.0.113.3-203.0.113.4")


def test_nft_filter_sets_jump_return_and_family() -> None:
    rules = _load("forms_nft_nat.nft")
    inputs = rules.filter_lists()["inet filter/input"]
    assert "established" in inputs[0].options
    assert inputs[2].match.dst_ports() == PortSet.of(22, 443)
    assert inputs[3].match.src == AddressSet.parse("fe80::/10")
    jumped = [f for f in inputs if "chain:wan_checks" in f.options]
    assert len(jumped) == 1  # the reject after the unconditional return is unreachable
    assert not jumped[0].match.src.contains_ip("10.1.2.3") and jumped[0].match.src.contains_ip("11.0.0.1")
    assert inputs[-1].action is Action.DENY


def test_aerleon_nft_tables_with_same_name_in_two_families() -> None:
    rules = _load("aerleon_sample_nftables.nft")
    lists = rules.filter_lists()
    assert "inet filtering_policies/root3" in lists and "ip filtering_policies/root1" in lists
    # several base chains hook input/output: each is its own list, and nft(8) needs every one to accept
    assert {d.code for d in rules.diagnostics} == {"LINUX-NFT-SHARED-HOOK"}
    ssh = [f for f in lists["inet filtering_policies/root3"] if f.match.dst_ports() == PortSet.of(22, 53)]
    assert ssh and all(f.action is Action.DENY for f in ssh)


def test_detect_and_garbage() -> None:
    assert detect((FIXTURES / "forms_iptables_nat.rules").read_text())
    assert detect((FIXTURES / "forms_nft_nat.nft").read_text())
    assert not detect("config firewall policy\nend\n")
    assert parse("*nat\n-A PREROUTING -j DNAT --to-destination\nCOMMIT\n").nats == ()


_V4 = st.integers(min_value=1, max_value=(1 << 32) - 2).map(lambda v: str(ipaddress.IPv4Address(v)))


@settings(max_examples=60, deadline=None)
@given(
    src=_V4,
    dst=_V4,
    to=_V4,
    prefix=st.integers(8, 32),
    dport=st.integers(1, 65535),
    to_port=st.integers(1, 65535),
    proto=st.sampled_from(["tcp", "udp"]),
)
def test_property_iptables_dnat_round_trips(
    src: str, dst: str, to: str, prefix: int, dport: int, to_port: int, proto: str
) -> None:
    net = str(ipaddress.ip_network(f"{src}/{prefix}", strict=False))
    text = (
        "*nat\n:PREROUTING ACCEPT [0:0]\n"
        f"-A PREROUTING -s {net} -d {dst}/32 -i eth0 -p {proto} -m {proto} --dport {dport} "
        f"-j DNAT --to-destination {to}:{to_port}\nCOMMIT\n"
    )
    rules = parse(text)
    (nat,) = rules.nats
    assert nat.match.src == AddressSet.parse(net)
    assert nat.match.dst == AddressSet.parse(dst)
    assert nat.match.dst_ports() == PortSet.of(dport)
    assert nat.translated_dst == AddressSet.parse(to)
    assert nat.translated_dst_ports == PortSet.of(to_port)
    assert not rules.diagnostics


@settings(max_examples=60, deadline=None)
@given(
    saddr=_V4,
    ports=st.lists(st.integers(1, 65535), min_size=1, max_size=5, unique=True),
    verdict=st.sampled_from(["accept", "drop"]),
)
def test_property_nft_filter_round_trips(saddr: str, ports: list[int], verdict: str) -> None:
    port_text = ", ".join(str(p) for p in ports)
    text = (
        "table inet t {\n\tchain c {\n\t\ttype filter hook forward priority 0; policy accept;\n"
        f"\t\tip saddr {saddr} tcp dport {{ {port_text} }} {verdict}\n\t}}\n}}\n"
    )
    rules = parse(text)
    first = rules.filters[0]
    assert first.match.src == AddressSet.parse(saddr)
    assert first.match.dst_ports() == PortSet.of(*ports)
    assert first.action is (Action.PERMIT if verdict == "accept" else Action.DENY)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=" -!ADjsdpi:*{}@\"'0123456789.,/", max_size=30), max_size=12))
def test_property_random_lines_never_crash(lines: list[str]) -> None:
    for head in ("*filter\n", "table inet x {\n chain y {\n"):
        assert isinstance(parse(head + "\n".join(lines) + "\n"), RuleSet)


def test_nft_large_set_one_element_per_line_keeps_every_element() -> None:
    """Big blocklists are written one element per line; every element (and nothing else) ends up in the set."""
    from cfgwatch.vendors.registry import get_parser

    elements = [f"100.{index // 250}.{index % 250}.1" for index in range(5000)]
    text = (
        "table inet filter {\n\tset blocklist {\n\t\ttype ipv4_addr\n\t\telements = {\n"
        + "".join(
            f"\t\t\t{element},\n" if i % 7 else f"\t\t\t# note {i}\n\t\t\t{element},\n"
            for i, element in enumerate(elements)
        )
        + "\t\t\t198.51.100.1\n\t\t}\n\t}\n\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\tip saddr @blocklist drop\n\t}\n}\n"
    )
    rules = get_parser("linux").parse(text)
    (blocklist,) = [obj for obj in rules.objects if obj.name.endswith("blocklist")]
    assert blocklist.addresses is not None and blocklist.addresses.count() == 5001
    (drop,) = [rule for rule in rules.filters if rule.action.value == "deny"]
    assert drop.match.src.contains_ip("100.19.249.1") and drop.match.src.contains_ip("198.51.100.1")


_NFT_MAPS = """table inet filter {
	map allow {
		type ipv4_addr : verdict
		elements = { 203.0.113.9 : jump relay, 192.0.2.1 : drop }
	}
	chain relay {
		tcp dport 8118 accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "lan0" ip daddr vmap @allow
		iifname "lan0" tcp dport vmap { 53 : accept, 25 : drop }
	}
}
table ip nat {
	map fwd {
		type inet_service : ipv4_addr
		elements = { 8080 : 203.0.113.70, 1080 : 203.0.113.71 }
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "lan0" dnat to tcp dport map @fwd
		iifname "lan1" dnat ip to ip saddr map { 10.0.0.5 : 203.0.113.80, 10.0.0.6 : 203.0.113.81 }
	}
}
"""


def test_nft_verdict_maps_and_nat_maps_are_one_rule_per_element() -> None:
    """nft(8) MAPS / VERDICT MAPS: a packet whose selector equals a key gets that element's verdict (a
    `jump` inlines the chain with the key as condition) or translation; other packets go on to the next rule."""
    rules = parse(_NFT_MAPS)
    assert not rules.diagnostics
    forward = [f for f in rules.filters if f.list_name == "inet filter/forward"]
    relay = next(f for f in forward if "chain:relay" in f.options)
    assert relay.action is Action.PERMIT and relay.match.dst == AddressSet.parse("203.0.113.9")
    assert relay.match.services == (Service(6, PortSet(), PortSet.of(8118)),)
    dropped = next(f for f in forward if f.match.dst == AddressSet.parse("192.0.2.1"))
    assert dropped.action is Action.DENY
    ports = {f.match.services[0].dst_ports: f.action for f in forward if f.match.services[0].protocol == 6}
    assert ports[PortSet.of(53)] is Action.PERMIT and ports[PortSet.of(25)] is Action.DENY
    by_port = {n.match.services[0].dst_ports: n.translated_dst for n in rules.nats if n.ingress == ("lan0",)}
    assert by_port == {
        PortSet.of(8080): AddressSet.parse("203.0.113.70"),
        PortSet.of(1080): AddressSet.parse("203.0.113.71"),
    }
    by_src = {n.match.src: n.translated_dst for n in rules.nats if n.ingress == ("lan1",)}
    assert by_src == {
        AddressSet.parse("10.0.0.5"): AddressSet.parse("203.0.113.80"),
        AddressSet.parse("10.0.0.6"): AddressSet.parse("203.0.113.81"),
    }


def test_nft_unreadable_map_is_a_diagnostic() -> None:
    text = _NFT_MAPS.replace("dnat to tcp dport map @fwd", "dnat to tcp dport map @nosuch")
    rules = parse(text)
    assert any(d.line == 22 for d in rules.diagnostics)


def test_iptables_negated_ipset_is_every_address_not_the_set() -> None:
    """`-m set ! --match-set S dst` matches addresses outside S (iptables-extensions(8)); with S's members
    unknown the only bound is every address, never the set itself (which would invert the rule)."""
    text = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s 10.0.0.0/8 -m set ! --match-set blocked dst -j ACCEPT\nCOMMIT\n"
    rule = next(f for f in parse(text).filters if f.action is Action.PERMIT)
    assert rule.match.dst.is_any and not rule.match.dst.fqdns
    assert rule.match.dst.names == ("!blocked",)


def test_nft_filter_chains_sharing_a_hook_are_reported() -> None:
    """nft(8): every base chain on a hook sees the packet in priority order; accept ends one chain only, a
    drop is final. The inet table's forward chain and the ip table's share IPv4 forwarding; the ip6 input
    chain shares nothing."""
    text = """table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		tcp dport 8118 accept
	}
}
table ip guard {
	chain fwd {
		type filter hook forward priority 10; policy drop;
	}
}
table ip6 guard6 {
	chain input {
		type filter hook input priority 0; policy drop;
	}
}
"""
    (diag,) = parse(text).diagnostics
    assert diag.code == "LINUX-NFT-SHARED-HOOK" and diag.line == 8
    assert "inet filter/forward, ip guard/fwd" in diag.message


def test_iptables_restore_insert_goes_to_its_position() -> None:
    """iptables-restore accepts `-I CHAIN [N]`: the rule becomes rule N (1, the head, by default), so an
    inserted accept sits in front of the drop it would otherwise hide behind."""
    text = """*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --dport 3128 -j DROP
-A FORWARD -p tcp -m tcp --dport 443 -j ACCEPT
-I FORWARD -d 203.0.113.9/32 -p tcp -m tcp --dport 3128 -j ACCEPT
--insert FORWARD 3 -p udp -m udp --dport 53 -j ACCEPT
-I FORWARD 9 -p udp -m udp --dport 123 -j ACCEPT
COMMIT
"""
    forward = [f for f in parse(text).filters if "chain-policy" not in f.options]
    assert [f.source.start_line for f in forward if f.source] == [5, 3, 6, 4, 7]


def test_nft_fib_nfproto_and_bare_redirect_port() -> None:
    """`fib daddr type local` (as iptables `-m addrtype --dst-type LOCAL`), `meta nfproto ipv4` (one family of
    an inet table) and `redirect to 3128` (nft's older spelling of `to :3128`) are modelled, not dropped."""
    text = """table inet nat {
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tfib daddr type local tcp dport 2222 dnat ip to 10.0.1.22:22
\t\tmeta nfproto ipv4 iifname "lan0" udp dport 53 dnat ip to 203.0.113.53
\t\tiifname "lan0" tcp dport 80 redirect to 3128
\t}
}
"""
    rules = parse(text)
    assert not rules.diagnostics
    forward, dns, redirect = rules.nats
    assert forward.translated_dst == AddressSet.parse("10.0.1.22") and forward.translated_dst_ports == PortSet.of(22)
    assert dns.match.dst == AddressSet.any_v4() and dns.translated_dst == AddressSet.parse("203.0.113.53")
    assert "redirect" in redirect.options and redirect.translated_dst_ports == PortSet.of(3128)
