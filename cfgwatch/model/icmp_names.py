"""ICMP/ICMPv6 type and code names as each platform family's documentation writes them, for display.

Keys and identity stay numeric (type, code); these names only make reasons and reports read the way the
device config does: IOS/NX-OS/EOS/ASA `echo`, `unreachable`, `time-exceeded`; netfilter (iptables, nft,
VyOS, RouterOS) `echo-request`, `destination-unreachable`; Junos `echo-request`, `unreachable`.
"""

from __future__ import annotations

# (type, code or None) -> name, per protocol (1 = ICMP, 58 = ICMPv6), per naming family
_CISCO_V4 = {
    (0, None): "echo-reply",
    (3, None): "unreachable",
    (3, 0): "net-unreachable",
    (3, 1): "host-unreachable",
    (3, 2): "protocol-unreachable",
    (3, 3): "port-unreachable",
    (3, 4): "packet-too-big",
    (3, 13): "administratively-prohibited",
    (4, None): "source-quench",
    (5, None): "redirect",
    (8, None): "echo",
    (9, None): "router-advertisement",
    (10, None): "router-solicitation",
    (11, None): "time-exceeded",
    (11, 0): "ttl-exceeded",
    (12, None): "parameter-problem",
    (13, None): "timestamp-request",
    (14, None): "timestamp-reply",
}
_CISCO_V6 = {
    (1, None): "unreachable",
    (1, 0): "no-route",
    (1, 1): "no-admin",
    (1, 4): "port-unreachable",
    (2, None): "packet-too-big",
    (3, None): "time-exceeded",
    (3, 0): "hop-limit",
    (4, None): "parameter-problem",
    (128, None): "echo-request",
    (129, None): "echo-reply",
    (133, None): "router-solicitation",
    (134, None): "router-advertisement",
    (135, None): "nd-ns",
    (136, None): "nd-na",
    (137, None): "redirect",
}
_NETFILTER_V4 = {
    (0, None): "echo-reply",
    (3, None): "destination-unreachable",
    (3, 0): "network-unreachable",
    (3, 1): "host-unreachable",
    (3, 2): "protocol-unreachable",
    (3, 3): "port-unreachable",
    (3, 4): "fragmentation-needed",
    (3, 13): "communication-prohibited",
    (4, None): "source-quench",
    (5, None): "redirect",
    (8, None): "echo-request",
    (9, None): "router-advertisement",
    (10, None): "router-solicitation",
    (11, None): "time-exceeded",
    (12, None): "parameter-problem",
    (13, None): "timestamp-request",
    (14, None): "timestamp-reply",
}
_NETFILTER_V6 = {
    (1, None): "destination-unreachable",
    (1, 0): "no-route",
    (1, 1): "communication-prohibited",
    (1, 4): "port-unreachable",
    (2, None): "packet-too-big",
    (3, None): "time-exceeded",
    (4, None): "parameter-problem",
    (128, None): "echo-request",
    (129, None): "echo-reply",
    (133, None): "router-solicitation",
    (134, None): "router-advertisement",
    (135, None): "neighbour-solicitation",
    (136, None): "neighbour-advertisement",
    (137, None): "redirect",
}
_JUNOS_V4 = {**_NETFILTER_V4, (3, None): "unreachable"}
_JUNOS_V6 = {**_NETFILTER_V6, (1, None): "destination-unreachable", (135, None): "neighbor-solicit"}
_JUNOS_V6[(136, None)] = "neighbor-advertisement"

_FAMILIES = {
    "cisco": {1: _CISCO_V4, 58: _CISCO_V6},
    "netfilter": {1: _NETFILTER_V4, 58: _NETFILTER_V6},
    "junos": {1: _JUNOS_V4, 58: _JUNOS_V6},
}
_PLATFORM_FAMILY = {
    "cisco_ios": "cisco",
    "cisco_nxos": "cisco",
    "arista_eos": "cisco",
    "cisco_asa": "cisco",
    "cisco_xr": "cisco",
    "linux": "netfilter",
    "vyos": "netfilter",
    "mikrotik_routeros": "netfilter",
    "juniper_junos": "junos",
}


def icmp_display(platform: str | None, protocol: int | None, icmp_type: int | None, icmp_code: int | None) -> str:
    """`echo`, `port-unreachable`, or `type 3 code 9` where the platform's documentation has no name."""
    if icmp_type is None:
        return ""
    table = _FAMILIES.get(_PLATFORM_FAMILY.get(platform or "", "netfilter"), {}).get(protocol or 0, {})
    name = table.get((icmp_type, icmp_code))
    if name is not None:
        return name
    base = table.get((icmp_type, None))
    if base is not None:
        return f"{base} code {icmp_code}"
    return f"type {icmp_type}" + (f" code {icmp_code}" if icmp_code is not None else "")
