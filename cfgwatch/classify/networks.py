"""Address classes: internal, org-public, public. Built-in private ranges plus inventory/networks.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cfgwatch.errors import ConfigError
from cfgwatch.model import AddressSet, PortSet
from cfgwatch.yamlio import load_yaml_document

# RFC 1918, RFC 6598 (CGNAT), loopback, link-local, ULA, IPv6 link-local / loopback.
BUILTIN_INTERNAL = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
)
# Not routable on the Internet, not ours either: never "public" (documentation ranges stay public so
# tests and demos can use them as Internet addresses, as RFC 5737 intends).
BUILTIN_NON_PUBLIC = ("0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32", "ff00::/8", "::/128")

DEFAULT_PROXY_PORTS = (1080, 3128, 8080, 8118, 8888, 9050, 9150, 3129, 8000, 8081, 1081, 9051)

# A public destination set is "bounded" (a specific destination, what egress-forward is about) when it
# covers at most 1/BOUNDED_FRACTION of its family's public space (about 3.7e9 IPv4 addresses): a /8
# of IPv4 is still bounded, a /7 is not, and neither is "any minus a few blocked prefixes" (bogon or
# blocklist denies ahead of a permit any).
BOUNDED_FRACTION = 128

# Names (or name parts) that mark the Internet side: zones, nameifs, interface lists, descriptions.
UNTRUSTED_WORDS = frozenset(
    {"outside", "untrust", "untrusted", "internet", "wan", "external", "ext", "isp", "public", "ppp", "pppoe", "dialer"}
)


def untrusted_name(name: str | None) -> bool:
    """Whether a zone/nameif/list name says it faces the Internet (`untrust`, `OUTSIDE`, `wan-zone`, `ISP1`)."""
    if not name:
        return False
    words = [word for word in re.split(r"[^a-z]+", name.lower()) if word]
    return any(word in UNTRUSTED_WORDS for word in words)


class AddressClass(StrEnum):
    INTERNAL = "internal"
    ORG_PUBLIC = "org-public"
    PUBLIC = "public"


class NetworksFile(BaseModel):
    """inventory/networks.yaml: what the organisation owns beyond the private ranges."""

    model_config = ConfigDict(extra="forbid")

    internal: list[str] = []  # extra internal ranges (e.g. public space used internally)
    org_public: list[str] = []  # the organisation's own public ranges (DMZ, NAT pools)
    proxy_ports: list[int] = []  # added to the default proxy/tunnel port list

    @field_validator("internal", "org_public")
    @classmethod
    def _valid_prefixes(cls, values: list[str]) -> list[str]:
        for value in values:
            AddressSet.parse(value)  # raises ValueError naming the bad prefix
        return values


@dataclass(frozen=True, slots=True)
class Networks:
    """The address plan used to class every address a change touches."""

    internal: AddressSet
    org_public: AddressSet
    non_public: AddressSet
    proxy_ports: PortSet
    # derived once: classification asks for the public space of every change
    _public: AddressSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_public", AddressSet.any() - self.internal - self.org_public - self.non_public)

    @classmethod
    def default(cls) -> Networks:
        return cls.build()

    @classmethod
    def build(
        cls, internal: tuple[str, ...] = (), org_public: tuple[str, ...] = (), proxy_ports: tuple[int, ...] = ()
    ) -> Networks:
        return cls(
            internal=AddressSet.parse(*BUILTIN_INTERNAL, *internal),
            org_public=AddressSet.parse(*org_public) if org_public else AddressSet(),
            non_public=AddressSet.parse(*BUILTIN_NON_PUBLIC),
            proxy_ports=PortSet.of(*DEFAULT_PROXY_PORTS, *proxy_ports),
        )

    @property
    def public(self) -> AddressSet:
        """Everything that is neither internal, ours, nor unroutable."""
        return self._public

    def internal_part(self, addresses: AddressSet) -> AddressSet:
        return addresses & self.internal

    def public_part(self, addresses: AddressSet) -> AddressSet:
        return addresses & self.public

    def org_part(self, addresses: AddressSet) -> AddressSet:
        return addresses & self.org_public

    def bounded_public(self, addresses: AddressSet) -> AddressSet:
        """The public part of `addresses` when it is bounded (see BOUNDED_FRACTION), else empty.

        Judged per address family: all of the IPv4 Internet except a blocklist is as unbounded as any.
        """
        public = self.public_part(addresses)
        everything = self.public
        v4 = public.v4 if _small(AddressSet(v4=public.v4), AddressSet(v4=everything.v4)) else ()
        v6 = public.v6 if _small(AddressSet(v6=public.v6), AddressSet(v6=everything.v6)) else ()
        return AddressSet(v4=v4, v6=v6)

    def classes(self, addresses: AddressSet) -> frozenset[AddressClass]:
        found: set[AddressClass] = set()
        if addresses.overlaps(self.internal):
            found.add(AddressClass.INTERNAL)
        if addresses.overlaps(self.org_public):
            found.add(AddressClass.ORG_PUBLIC)
        if addresses.overlaps(self.public) or addresses.fqdns:
            found.add(AddressClass.PUBLIC)
        return frozenset(found)


def _small(part: AddressSet, whole: AddressSet) -> bool:
    return part.count() * BOUNDED_FRACTION <= whole.count()


def load_networks(path: Path) -> Networks:
    """Read networks.yaml; a missing file means the built-in private ranges only."""
    if not path.exists():
        return Networks.default()
    document = load_yaml_document(path, what="networks file")
    raw = document.data or {}
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping with internal / org_public / proxy_ports", path=path)
    try:
        parsed = NetworksFile(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise document.error_at(first["msg"], first["loc"]) from exc
    return Networks.build(tuple(parsed.internal), tuple(parsed.org_public), tuple(parsed.proxy_ports))
