"""Device inventory: Nornir SimpleInventory files validated with pydantic; credentials only by reference."""

from cfgwatch.inventory.credentials import CredentialRef, Credentials
from cfgwatch.inventory.loader import (
    DEFAULTS_FILE,
    GROUPS_FILE,
    HOSTS_FILE,
    Device,
    Group,
    Inventory,
    JumpHost,
    load_inventory,
    resolve_credentials,
)
from cfgwatch.inventory.platforms import canonical, has_parser, known_platforms

__all__ = [
    "DEFAULTS_FILE",
    "GROUPS_FILE",
    "HOSTS_FILE",
    "CredentialRef",
    "Credentials",
    "Device",
    "Group",
    "Inventory",
    "JumpHost",
    "canonical",
    "has_parser",
    "known_platforms",
    "load_inventory",
    "resolve_credentials",
]
