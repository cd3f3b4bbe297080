"""Vendor-neutral rule model. Imports nothing else from cfgwatch.

Submodules `space` (packet-space algebra) and `changes` (change records) are the shared ground of
diff/ and classify/; they are not re-exported here, so importing the rule model stays light.
"""

from cfgwatch.model.addresses import ANY_ADDRESS, EMPTY_ADDRESS, AddressSet
from cfgwatch.model.codec import dumps, from_json, to_json
from cfgwatch.model.ports import (
    ANY_PORTS,
    ANY_SERVICE,
    EMPTY_PORTS,
    PortSet,
    Service,
    port_number,
    protocol_name,
    protocol_number,
    tcp,
    udp,
)
from cfgwatch.model.rules import (
    ANY_MATCH,
    Action,
    Binding,
    BindingKind,
    Diagnostic,
    FilterRule,
    Interface,
    Match,
    NatKind,
    NatRule,
    ObjectDef,
    RuleSet,
    Severity,
    SourceRef,
)

__all__ = [
    "ANY_ADDRESS",
    "ANY_MATCH",
    "ANY_PORTS",
    "ANY_SERVICE",
    "EMPTY_ADDRESS",
    "EMPTY_PORTS",
    "Action",
    "AddressSet",
    "Binding",
    "BindingKind",
    "Diagnostic",
    "FilterRule",
    "Interface",
    "Match",
    "NatKind",
    "NatRule",
    "ObjectDef",
    "PortSet",
    "RuleSet",
    "Service",
    "Severity",
    "SourceRef",
    "dumps",
    "from_json",
    "port_number",
    "protocol_name",
    "protocol_number",
    "tcp",
    "to_json",
    "udp",
]
