"""Cisco IOS / IOS-XE: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.sanitize.metadata import ChangeMetadata, cisco_time
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors import _cisco_family as family
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, HeaderCommand, LabProfile, NotApplicable, PlatformSpec


def _last_change(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "ios-header", line.strip())


def _nvram(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "ios-nvram-header", line.strip())


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="cisco_ios",
    description="Cisco IOS / IOS-XE: ACLs, object-groups, ip nat, interface and zone-pair bindings",
    forms=("cli",),
    features=frozenset(
        {
            "nat.static",
            "nat.dynamic",
            "nat.pat",
            "nat.destination",
            "nat.ports",
            "filter.acl",
            "binding.interface",
            "binding.zone",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.cisco_ios.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.cisco_ios.parser", "detect"),
)


SPEC = PlatformSpec(
    name="cisco_ios",
    parser=PARSER,
    detection_priority=100,  # the most generic Cisco-style syntax: asked last
    aliases=("cisco_xe", "cisco_ios_xe"),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["cisco_ios"],
        napalm_driver="ios",
        needs_enable=True,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on IOS"),
        # NAPALM's ios driver drops the `! Last configuration change ... by USER` header from get_config:
        # it is the change metadata (who, when) the audit attributes changes with, so it is fetched again.
        header_command=HeaderCommand(
            "show running-config | include Last configuration change", "! Last configuration change"
        ),
    ),
    completeness=family.ends_with_end,
    secrets=family.secrets(),
    continuation=NotApplicable("IOS prints one command per line"),
    volatile=LineRules(
        rules=(
            VolatileRule(
                "ios-building", re.compile(r"^Building configuration\.\.\.\s*$"), need="Building configuration..."
            ),
            VolatileRule(
                "ios-current-size",
                re.compile(r"^Current configuration\s*:\s*\d+ bytes\s*$"),
                need="Current configuration",
            ),
            VolatileRule(
                "ios-no-change",
                re.compile(r"^!\s*No configuration change since last restart\s*$"),
                need="No configuration change since last restart",
            ),
            VolatileRule("ntp-clock-period", re.compile(r"^\s*ntp clock-period\s+\d+\s*$"), need="ntp clock-period"),
        ),
        order=10,
        line_start=(r"Building config", r"Current configuration", r"!\s*No configuration"),
        anywhere=((r"ntp clock-period", "ntp clock-period"),),
    ),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "ios-last-change",
                re.compile(r"^!\s*Last configuration change at (?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
                meta=_last_change,
                rank=1,
                need="Last configuration change at ",
            ),
            VolatileRule(
                "ios-nvram",
                re.compile(r"^!\s*NVRAM config last updated at (?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
                meta=_nvram,
                rank=3,
                need="NVRAM config last updated at ",
            ),
        ),
        order=11,
        line_start=(r"!\s*(?:Last configuration|NVRAM)",),
        anywhere=(),
    ),
    syslog=family.IOS_SYSLOG,
    lab=LabProfile(
        emulator="cfgwatch.vendors.cisco_ios.lab:CiscoIOS",
        role="router",
        # NAPALM's ios driver speaks SSH CLI and the lab serves what it needs.
        collector="napalm",
    ),
)
