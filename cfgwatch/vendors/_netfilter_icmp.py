"""Connection-state options and ICMP/ICMPv6 type and code names of the netfilter family.

Names: iptables/ip6tables (`iptables -p icmp -h`, `ip6tables -p ipv6-icmp -h`), nftables (`nft describe icmp
type`, `icmpv6 type`, `icmp code`) and VyOS `icmp type-name` / `icmpv6 type-name` (the iptables names).
Shared by the Linux, VyOS and RouterOS parsers.
"""

from __future__ import annotations

IcmpName = tuple[int, int | None]  # type, code (None: every code of the type)

IPTABLES_ICMP: dict[str, IcmpName] = {
    "echo-reply": (0, None),
    "pong": (0, None),
    "destination-unreachable": (3, None),
    "network-unreachable": (3, 0),
    "host-unreachable": (3, 1),
    "protocol-unreachable": (3, 2),
    "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4),
    "source-route-failed": (3, 5),
    "network-unknown": (3, 6),
    "host-unknown": (3, 7),
    "network-prohibited": (3, 9),
    "host-prohibited": (3, 10),
    "tos-network-unreachable": (3, 11),
    "tos-host-unreachable": (3, 12),
    "communication-prohibited": (3, 13),
    "host-precedence-violation": (3, 14),
    "precedence-cutoff": (3, 15),
    "source-quench": (4, None),
    "redirect": (5, None),
    "network-redirect": (5, 0),
    "host-redirect": (5, 1),
    "tos-network-redirect": (5, 2),
    "tos-host-redirect": (5, 3),
    "echo-request": (8, None),
    "ping": (8, None),
    "router-advertisement": (9, None),
    "router-solicitation": (10, None),
    "time-exceeded": (11, None),
    "ttl-exceeded": (11, None),
    "ttl-zero-during-transit": (11, 0),
    "ttl-zero-during-reassembly": (11, 1),
    "parameter-problem": (12, None),
    "ip-header-bad": (12, 0),
    "required-option-missing": (12, 1),
    "timestamp-request": (13, None),
    "timestamp-reply": (14, None),
    "address-mask-request": (17, None),
    "address-mask-reply": (18, None),
}

IPTABLES_ICMP6: dict[str, IcmpName] = {
    "destination-unreachable": (1, None),
    "no-route": (1, 0),
    "communication-prohibited": (1, 1),
    "beyond-scope": (1, 2),
    "address-unreachable": (1, 3),
    "port-unreachable": (1, 4),
    "failed-policy": (1, 5),
    "reject-route": (1, 6),
    "packet-too-big": (2, None),
    "time-exceeded": (3, None),
    "ttl-exceeded": (3, None),
    "ttl-zero-during-transit": (3, 0),
    "ttl-zero-during-reassembly": (3, 1),
    "parameter-problem": (4, None),
    "bad-header": (4, 0),
    "unknown-header-type": (4, 1),
    "unknown-option": (4, 2),
    "echo-request": (128, None),
    "ping": (128, None),
    "echo-reply": (129, None),
    "pong": (129, None),
    "mld-listener-query": (130, None),
    "mld-listener-report": (131, None),
    "mld-listener-done": (132, None),
    "router-solicitation": (133, None),
    "router-advertisement": (134, None),
    "neighbour-solicitation": (135, None),
    "neighbor-solicitation": (135, None),
    "neighbour-advertisement": (136, None),
    "neighbor-advertisement": (136, None),
    "redirect": (137, None),
}

NFT_ICMP: dict[str, IcmpName] = {
    "echo-reply": (0, None),
    "destination-unreachable": (3, None),
    "source-quench": (4, None),
    "redirect": (5, None),
    "echo-request": (8, None),
    "router-advertisement": (9, None),
    "router-solicitation": (10, None),
    "time-exceeded": (11, None),
    "parameter-problem": (12, None),
    "timestamp-request": (13, None),
    "timestamp-reply": (14, None),
    "info-request": (15, None),
    "info-reply": (16, None),
    "address-mask-request": (17, None),
    "address-mask-reply": (18, None),
}

NFT_ICMP6: dict[str, IcmpName] = {
    "destination-unreachable": (1, None),
    "packet-too-big": (2, None),
    "time-exceeded": (3, None),
    "parameter-problem": (4, None),
    "echo-request": (128, None),
    "echo-reply": (129, None),
    "mld-listener-query": (130, None),
    "mld-listener-report": (131, None),
    "mld-listener-done": (132, None),
    "mld-listener-reduction": (132, None),
    "nd-router-solicit": (133, None),
    "nd-router-advert": (134, None),
    "nd-neighbor-solicit": (135, None),
    "nd-neighbor-advert": (136, None),
    "nd-redirect": (137, None),
    "router-renumbering": (138, None),
    "ind-neighbor-solicit": (141, None),
    "ind-neighbor-advert": (142, None),
    "mld2-listener-report": (143, None),
}

NFT_ICMP_CODES: dict[str, int] = {
    "net-unreachable": 0,
    "host-unreachable": 1,
    "prot-unreachable": 2,
    "port-unreachable": 3,
    "frag-needed": 4,
    "net-prohibited": 9,
    "host-prohibited": 10,
    "admin-prohibited": 13,
}

NFT_ICMP6_CODES: dict[str, int] = {
    "no-route": 0,
    "admin-prohibited": 1,
    "addr-unreachable": 3,
    "port-unreachable": 4,
    "policy-fail": 5,
    "reject-route": 6,
}


def icmp_name(text: str, v6: bool, *, nft: bool = False) -> IcmpName | None:
    """`echo-request`, `8`, `3/4` (iptables type/code) to (type, code); None when unknown."""
    token = text.strip().lower()
    type_text, slash, code_text = token.partition("/")
    if type_text.isdigit() and int(type_text) <= 255:
        if slash and code_text.isdigit() and int(code_text) <= 255:
            return int(type_text), int(code_text)
        return (int(type_text), None) if not slash else None
    table = (NFT_ICMP6 if v6 else NFT_ICMP) if nft else (IPTABLES_ICMP6 if v6 else IPTABLES_ICMP)
    found = table.get(token)
    if found is None and nft:  # nft also reads the iptables spellings in `icmp type` of older rule sets
        found = (IPTABLES_ICMP6 if v6 else IPTABLES_ICMP).get(token)
    return found


def icmp_code(text: str, v6: bool) -> int | None:
    """nft `icmp code` / `icmpv6 code` value (number or name); None when unknown."""
    token = text.strip().lower()
    if token.isdigit() and int(token) <= 255:
        return int(token)
    return (NFT_ICMP6_CODES if v6 else NFT_ICMP_CODES).get(token)


def state_option(states: frozenset[str] | set[str]) -> str:
    """The rule-model option for a conntrack state list (iptables `--ctstate`, nft `ct state`, RouterOS
    `connection-state`, VyOS `state`): `established` for exactly ESTABLISHED,RELATED (the usual return-
    traffic rule), else the exact set as `ctstate:a,b`; read back by `model.rules.connection_states`."""
    lowered = {state.strip().lower() for state in states if state.strip()}
    if lowered == {"established", "related"}:
        return "established"
    return "ctstate:" + ",".join(sorted(lowered))
