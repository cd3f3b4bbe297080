"""Small helpers shared by the fortinet, linux, mikrotik_routeros and vyos parsers.

They exist so every parser turns junk into a Diagnostic the same way instead of raising, and so
negated address matches (`!10.0.0.1`, `! -s`, `src-address=!...`) become the same exact complement.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache

from cfgwatch.model import AddressSet, Diagnostic, PortSet, Service, protocol_number
from cfgwatch.model.addresses import ANY_ADDRESS, V4_MAX, V6_MAX
from cfgwatch.model.intervals import normalize
from cfgwatch.model.ports import PORT_PROTOCOLS

V4_ALL = AddressSet(v4=((0, V4_MAX),))
V6_ALL = AddressSet(v6=((0, V6_MAX),))

# protocol aliases the Linux/RouterOS/VyOS tools print that the model table lacks
_EXTRA_PROTOCOLS: dict[str, int] = {
    "ipsec-esp": 50,
    "ipsec-ah": 51,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "ip-encap": 4,
    "ipencap": 4,
    "ipip": 4,
    "udplite": 136,
    "udp-lite": 136,
    "dccp": 33,
    "rsvp": 46,
    "l2tp": 115,
    "vrrp": 112,
    "carp": 112,
}


@dataclass(slots=True)
class Diagnostics:
    """Collects diagnostics in line order; a parser holds one per parse call."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, line: int, text: str = "") -> None:
        self.items.append(Diagnostic(code=code, message=message, line=max(1, line), text=text.strip()))

    def result(self) -> tuple[Diagnostic, ...]:
        return tuple(sorted(self.items, key=lambda d: (d.line, d.code, d.message)))


_V4_TEXT = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?")
# host-bit masks by prefix-length text, for every text `/(\d{1,2})` reads as 0..32 in ASCII ("08" too)
_HOST_BITS = {f"{bits}": (1 << (32 - bits)) - 1 for bits in range(33)} | {
    f"0{bits}": (1 << (32 - bits)) - 1 for bits in range(10)
}
_AF_INET = socket.AF_INET


def v4_interval(text: str) -> tuple[int, int] | None:
    """`a.b.c.d[/len]` -> (first, last) without the ipaddress module (hot path); None if not that shape.

    `inet_pton` reads the usual spelling (four ASCII octets without leading zeros: a strict subset of
    the pattern, same value) in C; anything else (`010.1.1.1`, non-ASCII digits, junk) takes the pattern.
    """
    if not text[:1].isdecimal():  # the pattern's first character is a digit: names end here
        return None
    address, slash, length = text.partition("/")
    try:
        value = int.from_bytes(socket.inet_pton(_AF_INET, address), "big")
    except OSError:
        return _v4_interval_text(text)
    if not slash:
        return value, value
    host = _HOST_BITS.get(length)
    if host is None:
        return _v4_interval_text(text)
    first = value & ~host & V4_MAX
    return first, first | host


def _v4_interval_text(text: str) -> tuple[int, int] | None:
    match = _V4_TEXT.fullmatch(text)
    if match is None:
        return None
    a, b, c, d, length = match.groups()
    first_octet, second, third, fourth = int(a), int(b), int(c), int(d)
    if first_octet > 255 or second > 255 or third > 255 or fourth > 255:
        return None
    bits = 32 if length is None else int(length)
    if bits > 32:
        return None
    value = (first_octet << 24) | (second << 16) | (third << 8) | fourth
    host = (1 << (32 - bits)) - 1
    first = value & ~host & V4_MAX
    return first, first | host


@lru_cache(maxsize=131_072)
def parse_address(spec: str) -> AddressSet | None:
    """CIDR, host, `a-b` range or `any`; None when the text is not an address (templates, junk).

    Cached and with a fast path for plain IPv4 (configs repeat the same addresses many times and
    the ipaddress module dominates parse time otherwise).
    """
    text = spec.strip().strip("'\"")
    if not text:
        return None
    interval = v4_interval(text)
    if interval is not None:
        if interval == (0, V4_MAX):  # a /0: everything, as AddressSet.any()
            return AddressSet.any()
        return AddressSet(v4=(interval,))
    try:
        result = AddressSet.parse(text)
    except ValueError:
        return None
    if text in ("0.0.0.0/0", "::/0"):
        return AddressSet.any() if text == "0.0.0.0/0" else V6_ALL
    return result


def split_quoted_words(text: str, quote: str) -> list[str] | None:
    """Words of `text`, quotes removed, when every `quote`-quoted value is one whole word; else None.

    The parsers' tokenizer regexes cost more than the rest of a line's parsing; most lines are
    plain words or `'x'`-style values, which a split reads identically. None means: use the regex.
    Callers first rule out what their regex treats specially besides `quote` (other quotes, escapes, comments).
    """
    words = text.split()
    if quote not in text:
        return words
    if text.count(quote) == 2:  # the usual line: one quoted value, its last word (`set ... address '10.1.1.1'`)
        last = words[-1]
        if len(last) >= 2 and last[0] == quote and last[-1] == quote:
            words[-1] = last[1:-1]
            return words
    for index, word in enumerate(words):
        if word[0] == quote:
            if len(word) < 2 or word[-1] != quote or word.count(quote) != 2:
                return None
            words[index] = word[1:-1]
    return words


def union_all(sets: list[AddressSet]) -> AddressSet:
    """Union of many sets with one merge at the end (pairwise unions re-sort the growing result each time).

    Same value, FQDNs and names (in order) as folding `AddressSet.union` over the list.
    """
    if len(sets) <= 1:
        return sets[0] if sets else AddressSet.empty()
    return AddressSet(
        normalize([pair for item in sets for pair in item.v4]),
        normalize([pair for item in sets for pair in item.v6]),
        frozenset().union(*(item.fqdns for item in sets)),
        tuple(name for item in sets for name in item.names),
    )


def complement(addresses: AddressSet) -> AddressSet:
    """Everything of the same address family that is not in `addresses` (a negated match)."""
    universe = AddressSet.empty()
    if addresses.v4 or not addresses.v6:
        universe = universe.union(V4_ALL)
    if addresses.v6:
        universe = universe.union(V6_ALL)
    return universe.difference(addresses)


def narrow(current: AddressSet, parsed: AddressSet) -> AddressSet:
    """`current & parsed` without the interval walk when `current` is everything (the usual case).

    Same value as the intersection: the addresses of `parsed`, no FQDNs, no display names.
    """
    if current is ANY_ADDRESS:
        if parsed.names or parsed.fqdns:
            return AddressSet(parsed.v4, parsed.v6)
        return parsed
    return current & parsed


def negated(spec: str) -> tuple[bool, str]:
    """Split a leading `!` off a value."""
    text = spec.strip()
    if text.startswith("!"):
        return True, text[1:].strip()
    return False, text


@lru_cache(maxsize=1024)
def lenient_protocol(token: str) -> int | None:
    """Protocol name/number to its number; None for unknown names (callers report a diagnostic)."""
    text = token.strip().lower()
    if text in _EXTRA_PROTOCOLS:
        return _EXTRA_PROTOCOLS[text]
    try:
        return protocol_number(text)
    except ValueError:
        return None


@lru_cache(maxsize=65_536)
def port_set(spec: str) -> PortSet | None:
    """`80`, `80-90`, `80:90`, `80,443`; None on junk."""
    try:
        return PortSet.parse(spec.strip().strip("'\""))
    except ValueError:
        return None


@lru_cache(maxsize=16_384)
def port_union(specs: tuple[str, ...]) -> PortSet | str:
    """The union of several port specs (`{ 80, 443 }`), or the first spec that is unreadable.

    Cached by the spec tuple: rule sets repeat the same port lists on thousands of rules.
    """
    ports = PortSet(ranges=())
    for spec in specs:
        one = port_set(spec)
        if one is None:
            return spec
        ports = ports | one
    return ports


def services_for(
    protocols: tuple[int | None, ...], dst_ports: PortSet | None, src_ports: PortSet | None
) -> tuple[Service, ...]:
    """One Service per protocol, ports attached only where the protocol carries ports."""
    out: list[Service] = []
    for proto in protocols:
        if proto in PORT_PROTOCOLS:
            out.append(
                Service(
                    proto,
                    src_ports if src_ports is not None else PortSet(),
                    dst_ports if dst_ports is not None else PortSet(),
                )
            )
        else:
            out.append(Service(proto))
    return tuple(out) or (Service(),)
