"""PAN-OS App-ID: the default protocols and ports of common predefined applications.

A security rule that selects by application matches only that application's traffic, so it is never
"any protocol": `icmp` is IP protocol 1, `gre` 47, `ssh` is TCP. With `service application-default` the
applications are allowed on their *default* ports only; with `service any` on any port of their
protocols; with explicit services on those services' ports (PAN-OS admin guide, "Security Policy Rule
fields": Service). The defaults below are the "Standard Ports" Palo Alto's Applipedia lists for each
application (applipedia.paloaltonetworks.com); an application missing here is reported as a diagnostic
by the parser and judged conservatively there (see `parser._application_services`).

Each entry is a tuple of (protocol, destination ports or None, ICMP type or None); ports None means the
application is recognised by its IP protocol (no ports).
"""

from __future__ import annotations

from cfgwatch.model import PortSet, Service

TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58

AppDefault = tuple[int, tuple[int | tuple[int, int], ...] | None, int | None]


def _tcp(*ports: int | tuple[int, int]) -> AppDefault:
    return (TCP, ports, None)


def _udp(*ports: int | tuple[int, int]) -> AppDefault:
    return (UDP, ports, None)


def _ip(protocol: int, icmp_type: int | None = None) -> AppDefault:
    return (protocol, None, icmp_type)


# Applipedia "Standard Ports" (tcp/N, udp/N; ip protocol for protocol-identified applications).
APP_DEFAULTS: dict[str, tuple[AppDefault, ...]] = {
    # protocol-identified
    "icmp": (_ip(ICMP),),
    "ipv6-icmp": (_ip(ICMP6),),
    "ping": (_ip(ICMP, 8), _ip(ICMP6, 128)),  # ICMP / ICMPv6 echo request
    "traceroute": (_ip(ICMP), _ip(ICMP6), _udp((33434, 33534))),
    "gre": (_ip(47),),
    "ipsec-esp": (_ip(50),),
    "ipsec-ah": (_ip(51),),
    "ospf": (_ip(89),),
    "eigrp": (_ip(88),),
    "igmp": (_ip(2),),
    "pim": (_ip(103),),
    "vrrp": (_ip(112),),
    "ip-in-ip": (_ip(4),),
    "ipv6": (_ip(41),),
    "sctp": (_ip(132),),
    # remote access and file transfer
    "ssh": (_tcp(22),),
    "telnet": (_tcp(23),),
    "ms-rdp": (_tcp(3389), _udp(3389)),
    "vnc": (_tcp(5900),),
    "ftp": (_tcp(21),),
    "tftp": (_udp(69),),
    "scp": (_tcp(22),),
    "sftp": (_tcp(22),),
    "rsync": (_tcp(873),),
    "git": (_tcp(9418),),
    # web
    "web-browsing": (_tcp(80),),
    "ssl": (_tcp(443),),
    "http-proxy": (_tcp(8080),),
    "socks": (_tcp(1080), _udp(1080)),
    "quic": (_udp(80, 443),),
    # name, time, address and directory services
    "dns": (_tcp(53), _udp(53)),
    "dns-base": (_tcp(53), _udp(53)),
    "mdns": (_udp(5353),),
    "ntp": (_udp(123),),
    "ntp-base": (_udp(123),),
    "dhcp": (_udp(67, 68),),
    "ldap": (_tcp(389), _udp(389)),
    "kerberos": (_tcp(88), _udp(88)),
    "radius": (_udp(1812, 1813, 1645, 1646),),
    "tacacs-plus": (_tcp(49),),
    "snmp": (_tcp(161, 162), _udp(161, 162)),
    "snmp-base": (_udp(161),),
    "snmp-trap": (_udp(162),),
    "syslog": (_tcp(514), _udp(514)),
    # mail
    "smtp": (_tcp(25, 587),),
    "smtp-base": (_tcp(25, 587),),
    "pop3": (_tcp(110),),
    "imap": (_tcp(143),),
    # Microsoft and file sharing
    "msrpc": (_tcp(135),),
    "msrpc-base": (_tcp(135),),
    "ms-ds-smb": (_tcp(139, 445),),
    "ms-ds-smb-base": (_tcp(139, 445),),
    "netbios-ns": (_udp(137),),
    "netbios-dg": (_udp(138),),
    "netbios-ss": (_tcp(139),),
    "nfs": (_tcp(111, 2049), _udp(111, 2049)),
    # databases
    "mysql": (_tcp(3306),),
    "mssql-db": (_tcp(1433),),
    "mssql-mon": (_udp(1434),),
    "oracle": (_tcp(1521),),
    "postgres": (_tcp(5432),),
    "redis": (_tcp(6379),),
    "mongodb": (_tcp(27017),),
    # routing and VPN
    "bgp": (_tcp(179),),
    "rip": (_udp(520),),
    "bfd": (_udp(3784, 3785),),
    "ike": (_udp(500, 4500),),
    "ipsec-esp-udp": (_udp(4500),),
    "l2tp": (_udp(1701),),
    "pptp": (_tcp(1723),),
    "openvpn": (_tcp(1194), _udp(1194)),
    # voice and messaging
    "sip": (_tcp(5060, 5061), _udp(5060)),
    "h.323": (_tcp(1720),),
    "rtsp": (_tcp(554),),
    "irc": (_tcp(6665, 6666, 6667, 6668, 6669),),
    "xmpp": (_tcp(5222),),
}


def app_services(name: str) -> tuple[Service, ...] | None:
    """The default services of a predefined application, None when it is not in the table."""
    defaults = APP_DEFAULTS.get(name.lower())
    if defaults is None:
        return None
    services: list[Service] = []
    for protocol, ports, icmp_type in defaults:
        if ports is None:
            services.append(Service(protocol, icmp_type=icmp_type, names=(name,)))
        else:
            services.append(Service(protocol, dst_ports=PortSet.of(*ports), names=(name,)))
    return tuple(services)
