"""The platform registry: every `PlatformSpec`, from the `cfgwatch.platforms` entry-point group.

cfgwatch declares its eleven built-in platforms in its own pyproject.toml (`cisco_ios =
"cfgwatch.vendors.cisco_ios:SPEC"` ...); a site package declares its own under the same group and a spec
of the same name replaces the built-in. Detection asks the specs in ascending `detection_priority`
(the most distinctive syntaxes first, generic Cisco IOS last).

Platform names follow netutils/netmiko. Aliases come from netutils' lib_mapper tables (`NAPALM_LIB_MAPPER`
and friends: every name those tables map onto a registered platform), plus the few each spec declares
that netutils does not know (`iptables` -> linux):

>>> canonical_platform("IOS")
'cisco_ios'
>>> canonical_platform("nftables")
'linux'
>>> get_spec("junos").collect.command
'show configuration'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from netutils.lib_mapper import (
    AERLEON_LIB_MAPPER,
    CAPIRCA_LIB_MAPPER,
    HIERCONFIG_LIB_MAPPER,
    NAPALM_LIB_MAPPER,
    NETMIKO_LIB_MAPPER,
    NETUTILSPARSER_LIB_MAPPER,
    PYATS_LIB_MAPPER,
    SCRAPLI_LIB_MAPPER,
)

from cfgwatch.errors import InputError, UnknownPlatformError
from cfgwatch.model import RuleSet
from cfgwatch.plugins import PLATFORMS_GROUP, PluginError, Registry
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.spec import PlatformSpec

# netutils tables whose keys are other tools' names for a platform, first table first when two disagree.
# NETMIKO_LIB_MAPPER also guards the others: a netmiko name of a platform of its own (huawei) is never
# folded onto a registered platform (cfgwatch collects such devices as backup-only).
ALIAS_TABLES: tuple[Mapping[str, str], ...] = (
    NETMIKO_LIB_MAPPER,
    NAPALM_LIB_MAPPER,
    NETUTILSPARSER_LIB_MAPPER,
    HIERCONFIG_LIB_MAPPER,
    PYATS_LIB_MAPPER,
    SCRAPLI_LIB_MAPPER,
    AERLEON_LIB_MAPPER,
    CAPIRCA_LIB_MAPPER,
)


def _validate(name: str, obj: object) -> PlatformSpec:
    if not isinstance(obj, PlatformSpec):
        raise PluginError(f"platform {name!r} is not a PlatformSpec (got {type(obj).__name__})", key=PLATFORMS_GROUP)
    if obj.name != name:
        raise PluginError(f"platform {name!r} is registered with a spec named {obj.name!r}", key=PLATFORMS_GROUP)
    return obj


PLATFORMS: Registry[PlatformSpec] = Registry(PLATFORMS_GROUP, "platform", validate=_validate)


@dataclass(frozen=True, slots=True)
class SpecRow:
    """One registered platform: its spec, or why it cannot be loaded right now."""

    name: str
    spec: PlatformSpec | None
    problem: str | None = None


def spec_rows() -> list[SpecRow]:
    """Every registered platform, loadable ones in detection order, then the ones that fail to load (with why).

    For callers that must not fail because one platform package is broken or still being written.
    """
    loaded: list[SpecRow] = []
    broken: list[SpecRow] = []
    for name in PLATFORMS.names():
        try:
            loaded.append(SpecRow(name, PLATFORMS.get(name)))
        except PluginError as exc:
            cause = exc.__cause__ or exc
            broken.append(SpecRow(name, None, f"{type(cause).__name__}: {cause}"))
    loaded.sort(key=lambda row: row.spec.detection_priority if row.spec else 0)
    return loaded + broken


def all_specs() -> tuple[PlatformSpec, ...]:
    """Every registered spec that loads, in detection order.

    A platform package that fails to load (broken, still being written) is left out, as if it were not
    installed: the engines keep working for every other platform, `get_spec` of that platform says why
    it is not available, and `cfgwatch vendors` lists it with the reason (`spec_rows`).
    """
    return tuple(row.spec for row in spec_rows() if row.spec is not None)


def platform_names() -> tuple[str, ...]:
    """The registered platform names (without loading any platform package)."""
    return PLATFORMS.names()


def aliases() -> dict[str, str]:
    """Every alias -> canonical platform (netutils' tables, then the specs' own; a spec's own wins)."""
    return _aliases(all_specs())


@cache
def _aliases(specs: tuple[PlatformSpec, ...]) -> dict[str, str]:
    names = {spec.name for spec in specs}
    table: dict[str, str] = {}
    for mapper in ALIAS_TABLES:
        for alias, target in mapper.items():
            key = alias.strip().lower()
            if target in names and key not in names and NETMIKO_LIB_MAPPER.get(key, target) == target:
                table.setdefault(key, target)
    for spec in specs:
        table.update((alias.lower(), spec.name) for alias in spec.aliases if alias.lower() not in names)
    return table


def canonical_platform(name: str) -> str:
    """The registered platform `name` stands for, or `name` (stripped, lower case) when it is none's alias."""
    key = name.strip().lower()
    if key in PLATFORMS:
        return key
    return aliases().get(key, key)


def registered_spec(platform: str | None) -> PlatformSpec | None:
    """The spec registered under exactly this (canonical) name, or None (no alias folding)."""
    if platform is None or platform not in PLATFORMS:
        return None
    return PLATFORMS.get(platform)


def get_spec(platform: str) -> PlatformSpec:
    """The spec for a platform or alias; raises UnknownPlatformError naming the known ones."""
    canonical = canonical_platform(platform)
    if canonical not in PLATFORMS:
        known = ", ".join(sorted(PLATFORMS.names())) or "none"
        raise UnknownPlatformError(f"no parser for platform '{platform}' (known: {known})")
    try:
        return PLATFORMS.get(canonical)
    except PluginError as exc:
        raise UnknownPlatformError(f"the parser for platform '{canonical}' is not available: {exc}") from exc


def get_parser(platform: str) -> ParserInfo:
    """The parser for a platform; raises UnknownPlatformError naming the known ones."""
    return get_spec(platform).parser


def all_parsers() -> list[ParserInfo]:
    """Every registered parser that loads, in detection order."""
    return [spec.parser for spec in all_specs()]


def parse_config(text: str, platform: str) -> RuleSet:
    return get_parser(platform).parse(text)


def detect_platform(text: str) -> str | None:
    """First platform whose detector accepts the text (in detection order)."""
    for info in all_parsers():
        if info.detect(text):
            return info.platform
    return None


def parse_file(path: str | Path, platform: str = "auto") -> RuleSet:
    """One config file -> RuleSet. `auto` asks each importable parser's detector in registry order.

    Raises InputError for an unreadable file or an undetectable platform, UnknownPlatformError for a
    platform no parser is registered for.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig", errors="replace")  # -sig: an editor's BOM is no config
    except OSError as exc:
        raise InputError(f"cannot read config: {exc.strerror or exc}", path=file) from exc
    if platform.strip().lower() != "auto":
        try:
            info = get_parser(platform)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"the parser for '{platform}' is not available: {exc}", path=file) from exc
    else:
        # a platform package still being written is skipped for detection
        found = next((candidate for candidate in all_parsers() if candidate.detect(text)), None)
        if found is None:
            raise InputError("cannot detect the platform; pass --platform", path=file)
        info = found
    return info.parse(text)
