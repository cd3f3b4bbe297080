"""Port sets, protocol numbers and services (protocol + ports), with names kept only for display."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cfgwatch.model import intervals as iv
from cfgwatch.model._fastinit import fast_init

PORT_MAX = 65535

PROTOCOL_NUMBERS: dict[str, int] = {
    "icmp": 1,
    "igmp": 2,
    "ipinip": 4,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "udp": 17,
    "ipv6": 41,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmp6": 58,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "eigrp": 88,
    "ospf": 89,
    "nos": 94,
    "pim": 103,
    "pcp": 108,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
}
PROTOCOL_NAMES: dict[int, str] = {}
for _name, _number in PROTOCOL_NUMBERS.items():
    PROTOCOL_NAMES.setdefault(_number, _name)

TCP = 6
UDP = 17
ICMP = 1
ICMP6 = 58
PORT_PROTOCOLS = frozenset({TCP, UDP, 132})
ICMP_PROTOCOLS = frozenset({ICMP, ICMP6})

# Named ports as Cisco, Junos, FortiOS and PAN-OS print them (tcp and udp share most names).
PORT_NAMES: dict[str, int] = {
    "aol": 5190,
    "bgp": 179,
    "biff": 512,
    "bootpc": 68,
    "bootps": 67,
    "chargen": 19,
    "cifs": 3020,
    "citrix-ica": 1494,
    "cmd": 514,
    "ctiqbe": 2748,
    "daytime": 13,
    "discard": 9,
    "dns": 53,
    "dnsix": 195,
    "domain": 53,
    "echo": 7,
    "exec": 512,
    "finger": 79,
    "ftp": 21,
    "ftp-data": 20,
    "gopher": 70,
    "h323": 1720,
    "hostname": 101,
    "http": 80,
    "https": 443,
    "ident": 113,
    "imap": 143,
    "imap4": 143,
    "irc": 194,
    "isakmp": 500,
    "kerberos": 88,
    "klogin": 543,
    "kshell": 544,
    "ldap": 389,
    "ldaps": 636,
    "login": 513,
    "lotusnotes": 1352,
    "lpd": 515,
    "mobile-ip": 434,
    "msrpc": 135,
    "nameserver": 42,
    "netbios-dgm": 138,
    "netbios-ns": 137,
    "netbios-ss": 139,
    "netbios-ssn": 139,
    "nfs": 2049,
    "nntp": 119,
    "ntp": 123,
    "onep-plain": 15001,
    "onep-tls": 15002,
    "pcanywhere-data": 5631,
    "pcanywhere-status": 5632,
    "pim-auto-rp": 496,
    "pop2": 109,
    "pop3": 110,
    "pptp": 1723,
    "radius": 1645,
    "radius-acct": 1646,
    "rip": 520,
    "rsh": 514,
    "rtsp": 554,
    "secureid-udp": 5510,
    "sip": 5060,
    "smtp": 25,
    "snmp": 161,
    "snmptrap": 162,
    "sqlnet": 1521,
    "ssh": 22,
    "sunrpc": 111,
    "syslog": 514,
    "tacacs": 49,
    "tacacs-ds": 65,
    "talk": 517,
    "telnet": 23,
    "tftp": 69,
    "time": 37,
    "uucp": 540,
    "vxlan": 4789,
    "who": 513,
    "whois": 43,
    "www": 80,
    "xdmcp": 177,
}


def protocol_number(token: str) -> int:
    """Protocol name or number to its IANA number; raises ValueError for unknown names."""
    text = token.strip().lower()
    if text.isdigit():
        value = int(text)
        if not 0 <= value <= 255:
            raise ValueError(f"protocol number {value} out of range")
        return value
    if text in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[text]
    raise ValueError(f"unknown protocol {token!r}")


def protocol_name(number: int | None) -> str:
    if number is None:
        return "ip"
    return PROTOCOL_NAMES.get(number, str(number))


def port_number(token: str) -> int:
    """Port name or number to its number; raises ValueError for unknown names."""
    text = token.strip().lower()
    if text.isdigit():
        value = int(text)
        if not 0 <= value <= PORT_MAX:
            raise ValueError(f"port {value} out of range")
        return value
    if text in PORT_NAMES:
        return PORT_NAMES[text]
    raise ValueError(f"unknown port name {token!r}")


@fast_init
@dataclass(frozen=True, slots=True)
class PortSet:
    """A set of TCP/UDP/SCTP ports as normalised ranges; `names` is display only."""

    ranges: iv.Intervals = ((0, PORT_MAX),)
    names: tuple[str, ...] = field(default=(), compare=False, hash=False)

    @classmethod
    def any(cls) -> PortSet:
        return ANY_PORTS

    @classmethod
    def of(cls, *ports: int | tuple[int, int], names: Iterable[str] = ()) -> PortSet:
        pairs: list[iv.Interval] = []
        for port in ports:
            start, end = (port, port) if isinstance(port, int) else port
            if not (0 <= start <= end <= PORT_MAX):
                raise ValueError(f"port range {start}-{end} is invalid")
            pairs.append((start, end))
        return cls(iv.normalize(pairs), tuple(names))

    @classmethod
    def from_operator(cls, operator: str, values: Iterable[str]) -> PortSet:
        """Cisco-style port operator (eq, neq, lt, gt, range) with names or numbers."""
        numbers = [port_number(value) for value in values]
        op = operator.lower()
        if op == "eq":
            return cls.of(*numbers)
        if op == "neq":
            return cls(iv.difference(ANY_PORTS.ranges, cls.of(*numbers).ranges))
        if op == "lt":
            if numbers[0] == 0:
                return EMPTY_PORTS
            return cls.of((0, numbers[0] - 1))
        if op == "gt":
            if numbers[0] == PORT_MAX:
                return EMPTY_PORTS
            return cls.of((numbers[0] + 1, PORT_MAX))
        if op == "range":
            if len(numbers) != 2:
                raise ValueError("range needs two ports")
            return cls.of((numbers[0], numbers[1]))
        raise ValueError(f"unknown port operator {operator!r}")

    @classmethod
    def parse(cls, text: str) -> PortSet:
        """`80`, `8000-8080`, `80,443`, `any`, named ports."""
        spec = text.strip().lower()
        if spec in ("any", "", "0-65535", "1-65535"):
            return ANY_PORTS if spec != "1-65535" else cls.of((1, PORT_MAX))
        pairs: list[iv.Interval] = []
        for part in spec.replace(" ", ",").split(","):
            if not part:
                continue
            if "-" in part:
                first, last = part.split("-", 1)
                pairs.append((port_number(first), port_number(last)))
            elif ":" in part:
                first, last = part.split(":", 1)
                pairs.append((port_number(first or "0"), port_number(last or str(PORT_MAX))))
            else:
                value = port_number(part)
                pairs.append((value, value))
        return cls.of(*pairs)

    def named(self, *names: str) -> PortSet:
        return PortSet(self.ranges, tuple(names))

    @property
    def is_any(self) -> bool:
        return self.ranges == ANY_PORTS.ranges

    @property
    def is_empty(self) -> bool:
        return not self.ranges

    def contains(self, other: PortSet) -> bool:
        return iv.contains(self.ranges, other.ranges)

    def contains_port(self, port: int) -> bool:
        return any(start <= port <= end for start, end in self.ranges)

    def overlaps(self, other: PortSet) -> bool:
        return iv.overlaps(self.ranges, other.ranges)

    def union(self, other: PortSet) -> PortSet:
        return PortSet(iv.union(self.ranges, other.ranges), self.names + other.names)

    def intersection(self, other: PortSet) -> PortSet:
        return PortSet(iv.intersection(self.ranges, other.ranges))

    def difference(self, other: PortSet) -> PortSet:
        return PortSet(iv.difference(self.ranges, other.ranges))

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def ports(self, limit: int = 4096) -> list[int]:
        """Explicit port numbers (for queries); raises ValueError past `limit`."""
        if iv.size(self.ranges) > limit:
            raise ValueError(f"port set has more than {limit} ports")
        return [port for start, end in self.ranges for port in range(start, end + 1)]

    def text(self) -> str:
        if self.is_any:
            return "any"
        parts = [str(start) if start == end else f"{start}-{end}" for start, end in self.ranges]
        return ",".join(parts) or "none"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ranges": self.text()}
        if self.names:
            data["names"] = list(self.names)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PortSet:
        text = data.get("ranges", "any")
        base = EMPTY_PORTS if text == "none" else cls.parse(text)
        return cls(base.ranges, tuple(data.get("names", ())))

    def __str__(self) -> str:
        if self.names:
            return f"{'/'.join(self.names)} ({self.text()})"
        return self.text()


ANY_PORTS = PortSet()
EMPTY_PORTS = PortSet(ranges=())


@fast_init
@dataclass(frozen=True, slots=True)
class Service:
    """A protocol with source/destination ports (ports only matter for tcp, udp, sctp).

    `protocol` None means any IP protocol. ICMP type/code are kept when given.
    """

    protocol: int | None = None
    src_ports: PortSet = ANY_PORTS
    dst_ports: PortSet = ANY_PORTS
    icmp_type: int | None = None
    icmp_code: int | None = None
    names: tuple[str, ...] = field(default=(), compare=False, hash=False)

    @property
    def is_any(self) -> bool:
        return self.protocol is None

    def named(self, *names: str) -> Service:
        return Service(self.protocol, self.src_ports, self.dst_ports, self.icmp_type, self.icmp_code, tuple(names))

    def contains(self, other: Service) -> bool:
        """True when every packet `other` matches is matched by self."""
        if self.protocol is None:
            return True
        if other.protocol != self.protocol:
            return False
        if self.protocol in PORT_PROTOCOLS:
            return self.src_ports.contains(other.src_ports) and self.dst_ports.contains(other.dst_ports)
        if self.icmp_type is not None and (other.icmp_type != self.icmp_type):
            return False
        return not (self.icmp_code is not None and other.icmp_code != self.icmp_code)

    def overlaps(self, other: Service) -> bool:
        if self.protocol is None or other.protocol is None:
            return True
        if self.protocol != other.protocol:
            return False
        if self.protocol in PORT_PROTOCOLS:
            return self.src_ports.overlaps(other.src_ports) and self.dst_ports.overlaps(other.dst_ports)
        return iv.overlaps(icmp_axis(self), icmp_axis(other))

    def text(self) -> str:
        proto = protocol_name(self.protocol)
        parts = [proto]
        if self.protocol in PORT_PROTOCOLS:
            if not self.src_ports.is_any:
                parts.append(f"sport {self.src_ports.text()}")
            if not self.dst_ports.is_any:
                parts.append(f"dport {self.dst_ports.text()}")
        if self.icmp_type is not None:
            parts.append(f"type {self.icmp_type}")
        if self.icmp_code is not None:
            parts.append(f"code {self.icmp_code}")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"protocol": self.protocol, "protocol_name": protocol_name(self.protocol)}
        if not self.src_ports.is_any:
            data["src_ports"] = self.src_ports.to_json()
        if not self.dst_ports.is_any:
            data["dst_ports"] = self.dst_ports.to_json()
        if self.icmp_type is not None:
            data["icmp_type"] = self.icmp_type
        if self.icmp_code is not None:
            data["icmp_code"] = self.icmp_code
        if self.names:
            data["names"] = list(self.names)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Service:
        return cls(
            protocol=data.get("protocol"),
            src_ports=PortSet.from_json(data["src_ports"]) if "src_ports" in data else ANY_PORTS,
            dst_ports=PortSet.from_json(data["dst_ports"]) if "dst_ports" in data else ANY_PORTS,
            icmp_type=data.get("icmp_type"),
            icmp_code=data.get("icmp_code"),
            names=tuple(data.get("names", ())),
        )

    def __str__(self) -> str:
        if self.names:
            return f"{'/'.join(self.names)} ({self.text()})"
        return self.text()


ANY_SERVICE = Service()


def icmp_axis(service: Service) -> iv.Intervals:
    """ICMP/ICMPv6 type and code as one integer axis (type * 256 + code), so that echo-only and all-ICMP
    are different cells of the packet space; every code of a type when the code is not given."""
    if service.icmp_type is None or not 0 <= service.icmp_type <= 255:
        return ((0, PORT_MAX),)
    base = service.icmp_type * 256
    if service.icmp_code is None or not 0 <= service.icmp_code <= 255:
        return ((base, base + 255),)
    return ((base + service.icmp_code, base + service.icmp_code),)


def tcp(*ports: int | tuple[int, int]) -> Service:
    """Shorthand used by parsers and tests: tcp to the given destination ports."""
    return Service(TCP, ANY_PORTS, PortSet.of(*ports) if ports else ANY_PORTS)


def udp(*ports: int | tuple[int, int]) -> Service:
    return Service(UDP, ANY_PORTS, PortSet.of(*ports) if ports else ANY_PORTS)
