"""Address sets: IPv4 and IPv6 ranges with exact set algebra, plus display names that are not identity.

Objects and groups are resolved by the parsers; the names they came from ride along in `names`
(excluded from equality and hashing) so reports can say `object WEB-SERVERS (10.1.1.0/24)` while two
rules that mean the same addresses compare equal.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cfgwatch.model import intervals as iv
from cfgwatch.model._fastinit import fast_init

V4_MAX = (1 << 32) - 1
V6_MAX = (1 << 128) - 1
_NTOA = socket.inet_ntoa


def _network_interval(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> iv.Interval:
    return int(net.network_address), int(net.broadcast_address)


@fast_init
@dataclass(frozen=True, slots=True)
class AddressSet:
    """A set of IPv4 and IPv6 addresses; FQDN objects that cannot be resolved offline are kept by name."""

    v4: iv.Intervals = ()
    v6: iv.Intervals = ()
    fqdns: frozenset[str] = frozenset()
    names: tuple[str, ...] = field(default=(), compare=False, hash=False)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def any(cls) -> AddressSet:
        return ANY_ADDRESS

    @classmethod
    def any_v4(cls) -> AddressSet:
        return cls(v4=((0, V4_MAX),))

    @classmethod
    def empty(cls) -> AddressSet:
        return EMPTY_ADDRESS

    @classmethod
    def parse(cls, *specs: str, names: Iterable[str] = ()) -> AddressSet:
        """Build from CIDRs, bare addresses, `a-b` ranges or `any`; raises ValueError on junk."""
        v4: list[iv.Interval] = []
        v6: list[iv.Interval] = []
        for raw in specs:
            spec = raw.strip()
            if spec.lower() in ("any", "0.0.0.0/0 ::/0"):
                return cls(v4=ANY_ADDRESS.v4, v6=ANY_ADDRESS.v6, names=tuple(names))
            if "-" in spec and "/" not in spec:
                first_text, last_text = (part.strip() for part in spec.split("-", 1))
                first = ipaddress.ip_address(first_text)
                last = ipaddress.ip_address(last_text)
                if first.version != last.version:
                    raise ValueError(f"range {spec!r} mixes IPv4 and IPv6")
                if int(first) > int(last):
                    raise ValueError(f"range {spec!r} runs backwards")
                (v4 if first.version == 4 else v6).append((int(first), int(last)))
                continue
            net = ipaddress.ip_network(spec, strict=False)
            (v4 if net.version == 4 else v6).append(_network_interval(net))
        return cls(v4=iv.normalize(v4), v6=iv.normalize(v6), names=tuple(names))

    @classmethod
    def from_mask(cls, address: str, mask: str, *, wildcard: bool = False, names: Iterable[str] = ()) -> AddressSet:
        """IPv4 address plus netmask (or Cisco wildcard). Non-contiguous wildcards are expanded exactly."""
        base = int(ipaddress.IPv4Address(address))
        mask_int = int(ipaddress.IPv4Address(mask))
        wild = mask_int if wildcard else (~mask_int) & V4_MAX
        bits = [bit for bit in range(32) if wild & (1 << bit)]
        # contiguous low bits: one interval
        if wild & (wild + 1) == 0:
            start = base & ~wild & V4_MAX
            return cls(v4=((start, start | wild),), names=tuple(names))
        # non-contiguous wildcard: expand the high "don't care" bits, keep the low contiguous run
        low_run = 0
        while low_run < 32 and wild & (1 << low_run):
            low_run += 1
        high_bits = [bit for bit in bits if bit >= low_run]
        if len(high_bits) > 16:
            raise ValueError(f"wildcard {mask} is too scattered to expand ({len(high_bits)} bits)")
        start_base = base & ~wild & V4_MAX
        pairs = []
        for combo in range(1 << len(high_bits)):
            value = start_base
            for index, bit in enumerate(high_bits):
                if combo & (1 << index):
                    value |= 1 << bit
            pairs.append((value, value | ((1 << low_run) - 1)))
        return cls(v4=iv.normalize(pairs), names=tuple(names))

    @classmethod
    def fqdn(cls, name: str, *, names: Iterable[str] = ()) -> AddressSet:
        return cls(fqdns=frozenset({name.lower()}), names=tuple(names))

    def named(self, *names: str) -> AddressSet:
        """The same addresses with display names (objects or groups they came from)."""
        return AddressSet(self.v4, self.v6, self.fqdns, tuple(names))

    # -- predicates ---------------------------------------------------------------------------
    @property
    def is_any(self) -> bool:
        return self.v4 == ANY_ADDRESS.v4 and self.v6 == ANY_ADDRESS.v6

    @property
    def is_empty(self) -> bool:
        return not self.v4 and not self.v6 and not self.fqdns

    def contains(self, other: AddressSet) -> bool:
        return (
            iv.contains(self.v4, other.v4)
            and iv.contains(self.v6, other.v6)
            and other.fqdns <= self.fqdns | (frozenset(other.fqdns) if self.is_any else frozenset())
        )

    def contains_ip(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        value = int(ip)
        intervals = self.v4 if ip.version == 4 else self.v6
        return any(start <= value <= end for start, end in intervals)

    def overlaps(self, other: AddressSet) -> bool:
        return iv.overlaps(self.v4, other.v4) or iv.overlaps(self.v6, other.v6) or bool(self.fqdns & other.fqdns)

    # -- algebra ------------------------------------------------------------------------------
    def union(self, other: AddressSet) -> AddressSet:
        if not (self.v4 or self.v6 or self.fqdns or self.names):  # empty and unnamed: the union is `other`
            return other
        return AddressSet(
            iv.union(self.v4, other.v4), iv.union(self.v6, other.v6), self.fqdns | other.fqdns, self.names + other.names
        )

    def intersection(self, other: AddressSet) -> AddressSet:
        return AddressSet(
            iv.intersection(self.v4, other.v4), iv.intersection(self.v6, other.v6), self.fqdns & other.fqdns
        )

    def difference(self, other: AddressSet) -> AddressSet:
        return AddressSet(iv.difference(self.v4, other.v4), iv.difference(self.v6, other.v6), self.fqdns - other.fqdns)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def count(self) -> int:
        return iv.size(self.v4) + iv.size(self.v6)

    # -- display / JSON -----------------------------------------------------------------------
    def cidrs(self) -> list[str]:
        """Minimal CIDR cover, IPv4 first; `any` when the set is everything."""
        if self.is_any:
            return ["any", *sorted(self.fqdns)]
        out: list[str] = []
        for start, end in self.v4:
            out.extend(
                str(net)
                for net in ipaddress.summarize_address_range(ipaddress.IPv4Address(start), ipaddress.IPv4Address(end))
            )
        for start, end in self.v6:
            out.extend(
                str(net)
                for net in ipaddress.summarize_address_range(ipaddress.IPv6Address(start), ipaddress.IPv6Address(end))
            )
        out.extend(sorted(self.fqdns))
        return out

    def ranges(self) -> list[str]:
        """Compact text form for JSON: CIDR where aligned, `first-last` where not."""
        if self.is_any:
            return ["any"]
        out = [_v4_range_text(start, end) for start, end in self.v4]
        if self.v6:
            out.extend(_v6_range_text(start, end) for start, end in self.v6)
        return out

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ranges": self.ranges()}
        if self.fqdns:
            data["fqdns"] = sorted(self.fqdns)
        if self.names:
            data["names"] = list(self.names)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AddressSet:
        ranges = data.get("ranges", [])
        base = cls.parse(*ranges) if ranges else EMPTY_ADDRESS
        return cls(base.v4, base.v6, frozenset(data.get("fqdns", ())), tuple(data.get("names", ())))

    def __str__(self) -> str:
        text = ", ".join(self.ranges() + sorted(self.fqdns)) or "none"
        if self.names:
            return f"{'/'.join(self.names)} ({text})"
        return text


def _v4_text(value: int) -> str:
    """Dotted quad of an IPv4 integer (what `str(IPv4Address(value))` gives, without the object)."""
    return _NTOA(value.to_bytes(4, "big"))


def _prefix_length(start: int, end: int, bits: int) -> int | None:
    """The prefix length when [start, end] is exactly one CIDR block, else None."""
    size = end - start + 1
    if size & (size - 1) or start & (size - 1):
        return None
    return bits - size.bit_length() + 1


def _interval_text(start: int, end: int, bits: int, address: Callable[[int], str]) -> str:
    """`A`, `A/len` or `A-B` from integers: the JSON form of one interval, computed without summarising
    (a 50k-line config has tens of thousands of them; `_range_text` is the reference it must agree with)."""
    if start == end:
        return address(start)
    length = _prefix_length(start, end, bits)
    if length is not None:
        return f"{address(start)}/{length}"
    return f"{address(start)}-{address(end)}"


def _v6_text(value: int) -> str:
    return str(ipaddress.IPv6Address(value))


def _v4_range_text(start: int, end: int) -> str:
    return _interval_text(start, end, 32, _v4_text)


def _v6_range_text(start: int, end: int) -> str:
    return _interval_text(start, end, 128, _v6_text)


def _range_text(
    first: ipaddress.IPv4Address | ipaddress.IPv6Address, last: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> str:
    """The reference form of one interval (via ipaddress); the fast functions above must agree with it."""
    if first == last:
        return str(first)
    nets = list(ipaddress.summarize_address_range(first, last))
    if len(nets) == 1:
        return str(nets[0])
    return f"{first}-{last}"


ANY_ADDRESS = AddressSet(v4=((0, V4_MAX),), v6=((0, V6_MAX),))
EMPTY_ADDRESS = AddressSet()
