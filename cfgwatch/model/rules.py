"""The vendor-neutral rule model: what every parser produces and the diff engine compares.

Identity is meaning: `SourceRef`, sequence numbers, positions and display names are excluded from
equality so that a renumbered ACL or a moved line is not a change by itself. Order within a list is
carried by the order of the tuples in `RuleSet`, not by a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from cfgwatch.model._fastinit import fast_init
from cfgwatch.model.addresses import ANY_ADDRESS, AddressSet
from cfgwatch.model.ports import ANY_PORTS, ANY_SERVICE, PortSet, Service


class Action(StrEnum):
    PERMIT = "permit"
    DENY = "deny"
    REJECT = "reject"  # deny with an ICMP/RST answer; same traffic effect as deny

    @property
    def allows(self) -> bool:
        return self is Action.PERMIT


class NatKind(StrEnum):
    STATIC = "static"  # 1:1, bidirectional
    DYNAMIC = "dynamic"  # many:many from a pool
    PAT = "pat"  # many:1 with port translation (overload, masquerade, interface)
    DESTINATION = "destination"  # DNAT / port forward / VIP
    SOURCE = "source"  # SNAT to a fixed address
    TWICE = "twice"  # source and destination translated together (ASA manual NAT, PAN-OS)


class BindingKind(StrEnum):
    FILTER = "filter"  # an ACL/filter applied to an interface in a direction
    NAT_ROLE = "nat-role"  # IOS `ip nat inside|outside` on an interface
    ZONE = "zone"  # interface membership in a security zone
    NAT_RULESET = "nat-ruleset"  # a NAT rule set attached to an interface/zone


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@fast_init
@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a rule came from. Never part of a rule's identity."""

    start_line: int
    end_line: int
    device: str | None = None
    revision: str | None = None

    def span(self) -> str:
        if self.start_line == self.end_line:
            return f"line {self.start_line}"
        return f"lines {self.start_line}-{self.end_line}"


def _no_source() -> SourceRef | None:
    return None


# Connection-tracking states, in the order of the packet-space state axis (netfilter names; RouterOS,
# VyOS and nftables use the same words). A stateless ACL entry matches every state.
CONN_STATES = ("new", "established", "related", "invalid", "untracked")
NEW_STATE = 0  # index of "new" on the state axis: new paths are judged for new connections


ALL_CONN_STATES = frozenset(CONN_STATES)


@lru_cache(maxsize=4096)
def connection_states(options: frozenset[str]) -> frozenset[str]:
    """The connection states a rule matches, read from the options its parser recorded.

    `established` is what the parsers record for iptables/nft `ESTABLISHED,RELATED`, RouterOS
    `connection-state=established,related`, VyOS `state established/related` and state-policy, IOS/EOS/
    NX-OS `established` and Junos `tcp-established` (TCP segments with ACK or RST: never a connection's
    first packet). `ctstate:a,b` is an explicit set, `ctstate:!a,b` its complement; several are ANDed.
    Unknown state words (conntrack statuses such as `dnat`) are not states and leave the set alone.
    """
    states = ALL_CONN_STATES
    for option in options:
        if option == "established":
            states &= {"established", "related"}
        elif option == "tcp-initial":  # Junos: the first packet of a TCP connection (SYN without ACK)
            states &= {"new"}
        elif option.startswith("ctstate:"):
            text = option[len("ctstate:") :]
            negated = text.startswith("!")
            named = frozenset(part.strip() for part in text.lstrip("!").split(",")) & set(CONN_STATES)
            if not named:
                continue
            states &= (ALL_CONN_STATES - named) if negated else named
    return ALL_CONN_STATES if states == ALL_CONN_STATES else states


@fast_init
@dataclass(frozen=True, slots=True)
class Match:
    """The traffic a rule selects: source and destination addresses and a union of services."""

    src: AddressSet = ANY_ADDRESS
    dst: AddressSet = ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)

    @property
    def is_any(self) -> bool:
        return self.src.is_any and self.dst.is_any and any(svc.is_any for svc in self.services)

    def dst_ports(self) -> PortSet:
        """Union of destination ports over the port-carrying services (any when a service is any)."""
        result = PortSet(ranges=())
        for service in self.services:
            if service.protocol is None or service.dst_ports.is_any:
                return ANY_PORTS
            result = result.union(service.dst_ports)
        return result


ANY_MATCH = Match()


@fast_init
@dataclass(frozen=True, slots=True)
class FilterRule:
    """One ACL entry, filter term or security policy.

    `list_name` is the ACL/filter/policy-set; zones are set for zone-based policies (SRX, PAN-OS,
    FortiOS), empty for interface ACLs whose attachment is a `Binding`.
    """

    list_name: str
    action: Action
    match: Match = ANY_MATCH
    name: str | None = None  # policy/term name where the platform has one
    from_zones: tuple[str, ...] = ()
    to_zones: tuple[str, ...] = ()
    enabled: bool = True
    options: frozenset[str] = frozenset()  # e.g. established, fragments, log
    comment: str | None = field(default=None, compare=False)
    sequence: int | None = field(default=None, compare=False)
    source: SourceRef | None = field(default_factory=_no_source, compare=False)

    @property
    def family(self) -> str:
        return "filter"

    @property
    def states(self) -> frozenset[str]:
        """Connection states this rule matches (all of them for a stateless entry)."""
        return connection_states(self.options)


@fast_init
@dataclass(frozen=True, slots=True)
class NatRule:
    """One translation, in the direction its original match is written.

    `ingress`/`egress` name where the original packet enters and leaves (interfaces, zones or IOS
    roles `inside`/`outside`). A translated field of None is left unchanged. `bidirectional` marks
    static NAT that also applies in reverse (IOS static, ASA static, Junos static-nat): the reverse
    view is what turns `inside source static` into an inbound exposure.
    """

    kind: NatKind
    match: Match = ANY_MATCH
    translated_src: AddressSet | None = None
    translated_dst: AddressSet | None = None
    translated_src_ports: PortSet | None = None
    translated_dst_ports: PortSet | None = None
    ingress: tuple[str, ...] = ()
    egress: tuple[str, ...] = ()
    bidirectional: bool = False
    translate_to_interface: str | None = None  # PAT/SNAT to an interface's own address
    name: str | None = None  # rule name, rule-set/rule, or object name
    section: str | None = None  # ASA manual/auto/after-auto, Junos rule-set, ...
    context: str | None = None  # VRF, routing-instance, vsys, VDOM
    enabled: bool = True
    options: frozenset[str] = frozenset()
    comment: str | None = field(default=None, compare=False)
    sequence: int | None = field(default=None, compare=False)
    source: SourceRef | None = field(default_factory=_no_source, compare=False)

    @property
    def family(self) -> str:
        return "nat"

    @property
    def is_port_forward(self) -> bool:
        """A NAT that maps (address, port) to (address, port): DNAT with a port match or port rewrite."""
        if self.translated_dst is None:
            return False
        return self.translated_dst_ports is not None or not self.match.dst_ports().is_any


@fast_init
@dataclass(frozen=True, slots=True)
class Binding:
    """Where a filter or NAT applies: ACL on an interface+direction, NAT role, zone membership."""

    kind: BindingKind
    name: str  # ACL/filter name, `inside`/`outside`, zone name, rule-set name
    interface: str
    direction: str = ""  # in / out / input / output, empty where not directional
    context: str | None = None
    source: SourceRef | None = field(default_factory=_no_source, compare=False)


@fast_init
@dataclass(frozen=True, slots=True)
class Interface:
    """An interface's addresses, zone/nameif, VRF and security level: context for classification."""

    name: str
    addresses: AddressSet = field(default_factory=AddressSet)
    zone: str | None = None
    nameif: str | None = None
    vrf: str | None = None
    security_level: int | None = None
    description: str | None = field(default=None, compare=False)
    source: SourceRef | None = field(default_factory=_no_source, compare=False)


@fast_init
@dataclass(frozen=True, slots=True)
class ObjectDef:
    """A named object or group as resolved, so a change of meaning can be reported as such."""

    name: str
    kind: str  # network, service, network-group, service-group, protocol-group, pool, vip, ...
    addresses: AddressSet | None = None
    services: tuple[Service, ...] = ()
    members: tuple[str, ...] = ()
    context: str | None = None
    source: SourceRef | None = field(default_factory=_no_source, compare=False)


@fast_init
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something in a NAT/ACL stanza the parser could not model. Never dropped silently."""

    code: str  # stable, e.g. IOS-NAT-UNSUPPORTED
    message: str
    line: int
    text: str = ""  # the offending line, cut to DIAGNOSTIC_TEXT characters
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        # One hostile line can raise a diagnostic per token: holding the whole line in each made the
        # output grow with the square of the line length (a 40 KB iptables line gave 801 MB of JSON).
        if len(self.text) > DIAGNOSTIC_TEXT:
            object.__setattr__(self, "text", _cut(self.text))
        if len(self.message) > DIAGNOSTIC_TEXT:
            object.__setattr__(self, "message", _cut(self.message))


DIAGNOSTIC_TEXT = 400  # characters of a line or message a diagnostic keeps


def _cut(text: str) -> str:
    return f"{text[:DIAGNOSTIC_TEXT]}... [{len(text) - DIAGNOSTIC_TEXT} more characters]"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything a parser extracted from one config. Filter order is list order within a list_name."""

    platform: str
    filters: tuple[FilterRule, ...] = ()
    nats: tuple[NatRule, ...] = ()
    bindings: tuple[Binding, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    objects: tuple[ObjectDef, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = field(default=(), compare=False)
    device: str | None = field(default=None, compare=False)
    revision: str | None = field(default=None, compare=False)

    def filter_lists(self) -> dict[str, tuple[FilterRule, ...]]:
        """Filters grouped by list, in order."""
        grouped: dict[str, list[FilterRule]] = {}
        for rule in self.filters:
            grouped.setdefault(rule.list_name, []).append(rule)
        return {name: tuple(rules) for name, rules in grouped.items()}

    def object_map(self) -> dict[str, ObjectDef]:
        return {obj.name if obj.context is None else f"{obj.context}/{obj.name}": obj for obj in self.objects}
