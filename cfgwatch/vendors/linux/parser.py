"""Linux netfilter parser: `iptables-save` / `ip6tables-save` output and `nft list ruleset` (detected per text).

Filtering: every base chain (iptables INPUT/FORWARD/OUTPUT/..., nftables chains with a `hook`) is one
filter list in packet order. Jumps/gotos to user chains are inlined at the jump position with the
jump's conditions intersected in (each inlined rule carries the option `chain:NAME`), because the
diff engine evaluates lists first-match and a user chain only acts where it is reached; user chains
that nothing reaches are emitted as their own list. The chain policy becomes a final match-all rule
with the option `chain-policy`. `-i`/`-o` (`iifname`/`oifname`) are the rule's from/to zones.

NAT: DNAT -> DESTINATION (translated_dst/ports from `--to-destination ip[-ip][:port[-port]]` or
`dnat to`), SNAT -> SOURCE, MASQUERADE -> PAT to the egress interface, REDIRECT -> DESTINATION to the
local host (translate_to_interface = the ingress interface or `local`, option `redirect`), NETMAP by
chain direction. List names: the chain for the iptables filter table, `TABLE/CHAIN` for other tables,
`FAMILY TABLE/CHAIN` for nftables. nft verdict maps (`vmap`) and NAT maps (`dnat to SEL map {...}`) are
one rule per element; filter base chains of several tables on one hook get LINUX-NFT-SHARED-HOOK (each
is judged as its own list, while nft(8) needs every one of them to accept).
"""

from __future__ import annotations

import re

from cfgwatch.model import (
    RuleSet,
)
from cfgwatch.vendors._chains import Builder
from cfgwatch.vendors._cisco_common import paused_gc
from cfgwatch.vendors._misc_common import (
    Diagnostics,
)
from cfgwatch.vendors.linux.iptables import parse_iptables
from cfgwatch.vendors.linux.nftables import NftParser

PLATFORM = "linux"
_DETECT_IPT = re.compile(
    r"^(?:\*(?:filter|nat|mangle|raw|security)\s*$|:[A-Z][A-Za-z0-9_-]* (?:ACCEPT|DROP|-) |-A \S+ )", re.M
)
_DETECT_NFT = re.compile(r"^\s*table (?:ip|ip6|inet|arp|bridge|netdev) \S+ \{", re.M)


@paused_gc
def parse(text: str) -> RuleSet:
    """iptables-save or `nft list ruleset` text to a RuleSet (never raises on bad input)."""
    diags = Diagnostics()
    tables = NftParser(text, diags).tables if _DETECT_NFT.search(text) else parse_iptables(text, diags)
    builder = Builder(tables, diags)
    return RuleSet(
        platform=PLATFORM,
        filters=tuple(builder.filters),
        nats=tuple(builder.nats),
        objects=tuple(builder.objects),
        diagnostics=diags.result(),
    )


def detect(text: str) -> bool:
    return _DETECT_NFT.search(text) is not None or _DETECT_IPT.search(text) is not None
