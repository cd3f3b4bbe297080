"""Arista EOS: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.sanitize.metadata import ChangeMetadata, ctime
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors import _cisco_family as family
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec


def _startup_modified(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), ctime(m.group("when")), "eos-header", line.strip())


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="arista_eos",
    description="Arista EOS: ip access-list (seq, prefixes), interface ip nat source/destination static/dynamic, pools",
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
            "objects.network",
        }
    ),
    parse=Deferred("cfgwatch.vendors.arista_eos.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.arista_eos.parser", "detect"),
)


SPEC = PlatformSpec(
    name="arista_eos",
    parser=PARSER,
    detection_priority=90,
    aliases=(),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["arista_eos"],
        napalm_driver="eos",  # eAPI (HTTPS): the lab serves SSH CLI only, so the lab collects with netmiko
        needs_enable=True,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on EOS"),
        header_command=NotApplicable("only NAPALM's ios driver is known to drop the change header"),
    ),
    completeness=family.ends_with_end,
    secrets=family.secrets(),
    continuation=NotApplicable("EOS prints one command per line"),
    volatile=NotApplicable("EOS prints no volatile lines in its running config besides the change header"),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "eos-startup-modified",
                re.compile(r"^!\s*Startup-config last modified at\s+(?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
                meta=_startup_modified,
                rank=2,
                need="Startup-config last modified at",
            ),
        ),
        order=41,
        line_start=(r"!\s*Startup-config",),
        anywhere=(),
    ),
    syslog=family.IOS_SYSLOG,  # EOS's ConfigAgent sends IOS's %SYS-5-CONFIG_I
    lab=LabProfile(emulator="cfgwatch.vendors.arista_eos.lab:AristaEOS", role="router", collector="netmiko"),
)
