"""Platform names: accept what users type (netmiko, napalm, netutils names) and return the canonical one."""

from __future__ import annotations

from netutils.lib_mapper import NAPALM_LIB_MAPPER, NETMIKO_LIB_MAPPER

from cfgwatch.errors import UnknownPlatformError
from cfgwatch.vendors.registry import canonical_platform, platform_names


def known_platforms() -> frozenset[str]:
    """Platforms cfgwatch can parse plus every platform netmiko can collect from (backup-only)."""
    return frozenset(platform_names()) | frozenset(NETMIKO_LIB_MAPPER)


def canonical(name: str) -> str:
    """Canonical netutils/netmiko name for `name` (aliases such as ios, junos, panos accepted)."""
    key = canonical_platform(name)
    key = NAPALM_LIB_MAPPER.get(key, key)
    if key not in known_platforms():
        parsers = ", ".join(sorted(platform_names()))
        raise UnknownPlatformError(f"unknown platform '{name}' (parsed platforms: {parsers}; or any netmiko name)")
    return key


def has_parser(platform: str) -> bool:
    return platform in platform_names()
