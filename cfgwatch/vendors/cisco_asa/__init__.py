"""Cisco ASA: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from cfgwatch.collect.validate import last_line_is
from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.metadata import ChangeMetadata, cisco_time
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors import _cisco_family as family
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec


def _written_by(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "asa-header", line.strip())


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="cisco_asa",
    description="Cisco ASA: objects/groups, object and twice NAT (sections, order), access-lists, access-groups",
    forms=("cli",),
    features=frozenset(
        {
            "nat.static",
            "nat.dynamic",
            "nat.pat",
            "nat.destination",
            "nat.twice",
            "nat.ports",
            "filter.acl",
            "binding.interface",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.cisco_asa.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.cisco_asa.parser", "detect"),
)


SPEC = PlatformSpec(
    name="cisco_asa",
    parser=PARSER,
    detection_priority=70,
    aliases=(),
    collect=Collect(
        command="show running-config",  # netutils' RUNNING_CONFIG_MAPPER does not list the ASA
        napalm_driver=NotApplicable("NAPALM has no ASA driver in cfgwatch's dependencies"),
        needs_enable=True,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on the ASA"),
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=last_line_is((": end", "end"), "': end'"),
    secrets=family.secrets(),
    continuation=NotApplicable("the ASA prints one command per line"),
    volatile=LineRules(
        rules=(VolatileRule("asa-cryptochecksum", re.compile(r"^Cryptochecksum:\s*\S*\s*$"), need="Cryptochecksum:"),),
        order=20,
        line_start=(r"Cryptochecksum",),
        anywhere=(),
    ),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "asa-written-by",
                re.compile(r"^:\s*Written by (?P<user>\S+) at (?P<when>.+?)\s*$"),
                meta=_written_by,
                rank=1,
                need="Written by ",
            ),
        ),
        order=21,
        line_start=(r":\s*Written by",),
        anywhere=(),
    ),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern(
                "asa-111008",
                re.compile(r"%ASA-5-111008: User '(?P<user>[^']+)' executed the '(?P<cmd>[^']*)' command"),
                event_from_groups,
            ),
            SyslogPattern(
                "asa-111010",
                re.compile(
                    r"%ASA-5-111010: User '(?P<user>[^']+)', running '[^']*' from IP (?P<addr>\S+?), "
                    r"executed '(?P<cmd>[^']*)'"
                ),
                event_from_groups,
            ),
        ),
        order=20,
        markers=("111008", "111010"),
        exports=(),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.cisco_asa.lab:CiscoASA", role="firewall", collector="netmiko"),
)
