"""The one table of platform parsers. Each platform lives in its own module exposing `PARSER`."""

from __future__ import annotations

import importlib
from functools import cache

from cfgwatch.errors import UnknownPlatformError
from cfgwatch.model import RuleSet
from cfgwatch.vendors.base import ParserInfo

# platform name -> module; platform names follow netutils/netmiko. Order is detection order:
# the most distinctive syntaxes first, generic Cisco IOS last.
PLATFORM_MODULES: dict[str, str] = {
    "paloalto_panos": "cfgwatch.vendors.paloalto_panos",
    "fortinet": "cfgwatch.vendors.fortinet",
    "juniper_junos": "cfgwatch.vendors.juniper_junos",
    "mikrotik_routeros": "cfgwatch.vendors.mikrotik_routeros",
    "vyos": "cfgwatch.vendors.vyos",
    "linux": "cfgwatch.vendors.linux",
    "cisco_asa": "cfgwatch.vendors.cisco_asa",
    "cisco_nxos": "cfgwatch.vendors.cisco_nxos",
    "arista_eos": "cfgwatch.vendors.arista_eos",
    "cisco_ios": "cfgwatch.vendors.cisco_ios",
}

# Aliases users type (napalm driver names, netutils variants) -> canonical platform.
ALIASES: dict[str, str] = {
    "ios": "cisco_ios",
    "cisco_xe": "cisco_ios",
    "cisco_ios_xe": "cisco_ios",
    "iosxe": "cisco_ios",
    "asa": "cisco_asa",
    "nxos": "cisco_nxos",
    "nxos_ssh": "cisco_nxos",
    "cisco_nxos_ssh": "cisco_nxos",
    "eos": "arista_eos",
    "arista": "arista_eos",
    "junos": "juniper_junos",
    "juniper": "juniper_junos",
    "fortios": "fortinet",
    "fortinet_fortios": "fortinet",
    "panos": "paloalto_panos",
    "paloalto": "paloalto_panos",
    "iptables": "linux",
    "nftables": "linux",
    "linux_iptables": "linux",
    "linux_nftables": "linux",
    "routeros": "mikrotik_routeros",
    "mikrotik": "mikrotik_routeros",
}


def canonical_platform(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


@cache
def get_parser(platform: str) -> ParserInfo:
    """The parser for a platform; raises UnknownPlatformError naming the known ones."""
    canonical = canonical_platform(platform)
    module_name = PLATFORM_MODULES.get(canonical)
    if module_name is None:
        known = ", ".join(sorted(PLATFORM_MODULES)) or "none"
        raise UnknownPlatformError(f"no parser for platform '{platform}' (known: {known})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownPlatformError(f"the parser for platform '{canonical}' is not available: {exc}") from exc
    info: ParserInfo = module.PARSER
    return info


def all_parsers() -> list[ParserInfo]:
    """Every registered parser, in detection order."""
    return [get_parser(name) for name in PLATFORM_MODULES]


def parse_config(text: str, platform: str) -> RuleSet:
    return get_parser(platform).parse(text)


def detect_platform(text: str) -> str | None:
    """First platform whose detector accepts the text (in the table's detection order)."""
    for info in all_parsers():
        if info.detect(text):
            return info.platform
    return None
