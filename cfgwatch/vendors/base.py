"""The parser contract: a pure function from config text to a RuleSet, plus what it declares it models."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cfgwatch.model import RuleSet

# Feature names a parser may declare. The contract test checks a declared feature is really produced
# by at least one golden fixture of that platform.
FEATURES: dict[str, str] = {
    "nat.static": "1:1 static NAT (bidirectional)",
    "nat.dynamic": "dynamic NAT from a pool",
    "nat.pat": "PAT / overload / masquerade / interface NAT",
    "nat.destination": "destination NAT, VIPs, port forwards",
    "nat.twice": "source and destination translated together (twice/manual NAT)",
    "nat.ports": "NAT with port matching or port translation",
    "filter.acl": "ACL entries / filter terms in order",
    "filter.policy": "zone-based security policies",
    "binding.interface": "filters and NAT roles bound to interfaces",
    "binding.zone": "interfaces as members of zones",
    "objects.network": "network objects and groups resolved",
    "objects.service": "service objects and groups resolved",
}

Parse = Callable[[str], RuleSet]
Detect = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Deferred:
    """`module.name(text)`, importing the module on the first call.

    A platform's spec names its parser's functions this way, so reading a spec (for its collect, sanitize
    or lab settings: the lab server, a collector worker process) does not import the parser module.
    """

    module: str
    name: str

    def __call__(self, text: str) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(text)


@dataclass(frozen=True, slots=True)
class ParserInfo:
    """One registered platform parser (napalm's driver table / sqlfluff's dialect table shape)."""

    platform: str  # netutils / netmiko canonical name
    description: str
    forms: tuple[str, ...]  # e.g. ("cli",), ("curly", "set"), ("set", "brace", "xml")
    features: frozenset[str]
    parse: Parse
    detect: Detect  # cheap look at the text: does this look like my platform?

    def __post_init__(self) -> None:
        unknown = self.features - FEATURES.keys()
        if unknown:
            raise ValueError(f"{self.platform}: unknown features {sorted(unknown)}")
