"""Junos built-in names: predefined `junos-*` applications and ICMP type names.

Only what policies commonly reference; an unknown `junos-*` name becomes a diagnostic, never a guess.
"""

from __future__ import annotations

from cfgwatch.model import ANY_PORTS, PortSet, Service

_TCP, _UDP, _ICMP, _ICMP6 = 6, 17, 1, 58


def _tcp(*ports: int | tuple[int, int]) -> Service:
    return Service(_TCP, ANY_PORTS, PortSet.of(*ports))


def _udp(*ports: int | tuple[int, int]) -> Service:
    return Service(_UDP, ANY_PORTS, PortSet.of(*ports))


# Predefined applications as `show configuration groups junos-defaults applications` lists them.
PREDEFINED_APPLICATIONS: dict[str, tuple[Service, ...]] = {
    "junos-bgp": (_tcp(179),),
    "junos-dhcp-client": (_udp(68),),
    "junos-dhcp-server": (_udp(67),),
    "junos-dns-tcp": (_tcp(53),),
    "junos-dns-udp": (_udp(53),),
    "junos-ftp": (_tcp(21),),
    "junos-ftp-data": (_tcp(20),),
    "junos-http": (_tcp(80),),
    "junos-http-ext": (_tcp(7001),),
    "junos-https": (_tcp(443),),
    "junos-icmp-all": (Service(_ICMP),),
    "junos-icmp-ping": (Service(_ICMP, icmp_type=8),),
    "junos-icmp6-all": (Service(_ICMP6),),
    "junos-ping": (Service(_ICMP, icmp_type=8),),
    "junos-pingv6": (Service(_ICMP6, icmp_type=128),),
    "junos-ike": (_udp(500),),
    "junos-ike-nat": (_udp(4500),),
    "junos-imap": (_tcp(143),),
    "junos-imaps": (_tcp(993),),
    "junos-ldap": (_tcp(389),),
    "junos-ms-sql": (_tcp(1433),),
    "junos-nntp": (_tcp(119),),
    "junos-ntp": (_udp(123),),
    "junos-pop3": (_tcp(110),),
    "junos-radius": (_udp(1812),),
    "junos-radacct": (_udp(1813),),
    "junos-rdp": (_tcp(3389),),
    "junos-smtp": (_tcp(25),),
    "junos-smtps": (_tcp(465),),
    "junos-snmp-agentx": (_tcp(705),),
    "junos-sqlnet-v2": (_tcp(1521),),
    "junos-ssh": (_tcp(22),),
    "junos-syslog": (_udp(514),),
    "junos-telnet": (_tcp(23),),
    "junos-tftp": (_udp(69),),
    "junos-gre": (Service(47),),
    "junos-pptp": (_tcp(1723),),
    "junos-sip": (_udp(5060), _tcp(5060)),
    "junos-ident": (_tcp(113),),
    "junos-ospf": (Service(89),),
}

ICMP_TYPES: dict[str, int] = {
    "echo-reply": 0,
    "unreachable": 3,
    "destination-unreachable": 3,
    "source-quench": 4,
    "redirect": 5,
    "echo-request": 8,
    "router-advertisement": 9,
    "router-solicit": 10,
    "time-exceeded": 11,
    "parameter-problem": 12,
    "timestamp": 13,
    "timestamp-reply": 14,
    "info-request": 15,
    "info-reply": 16,
    "mask-request": 17,
    "mask-reply": 18,
}

ICMP6_TYPES: dict[str, int] = {
    "destination-unreachable": 1,
    "packet-too-big": 2,
    "time-exceeded": 3,
    "parameter-problem": 4,
    "echo-request": 128,
    "echo-reply": 129,
    "membership-query": 130,
    "membership-report": 131,
    "membership-termination": 132,
    "router-solicit": 133,
    "router-advertisement": 134,
    "neighbor-solicit": 135,
    "neighbor-advertisement": 136,
    "redirect": 137,
}
