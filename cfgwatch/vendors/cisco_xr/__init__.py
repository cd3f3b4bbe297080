"""Cisco IOS XR: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.metadata import ChangeMetadata, ctime
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors import _cisco_family as family
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec


def _last_change(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), ctime(m.group("when")), "xr-header", line.strip())


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="cisco_xr",
    description="Cisco IOS XR: ipv4/ipv6 access-lists, object-group network/port, access-group ingress/egress",
    forms=("cli",),
    features=frozenset({"filter.acl", "binding.interface", "objects.network", "objects.service"}),
    parse=Deferred("cfgwatch.vendors.cisco_xr.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.cisco_xr.parser", "detect"),
)

# XR prints the time of the command before every show output: `Tue Mar  4 14:02:11.123 UTC`.
_SHOW_TIME = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} "
    r"\d\d:\d\d:\d\d(?:\.\d+)? ?\S*\s*$"
)

SPEC = PlatformSpec(
    name="cisco_xr",
    parser=PARSER,
    detection_priority=75,  # before NX-OS, EOS and IOS: `ipv4 access-list` and 4-part interface names are XR only
    aliases=(),  # netutils maps iosxr, cisco_iosxr and ciscoxr (aerleon) onto cisco_xr
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["cisco_xr"],
        napalm_driver=NotApplicable("NAPALM's iosxr driver needs the XML agent; cfgwatch reads XR over SSH CLI"),
        needs_enable=False,  # XR has no enable mode: task groups decide what a user may read
        quick_exit=NotApplicable("netmiko's own disconnect is fast on IOS XR"),
        header_command=NotApplicable("collected with netmiko: the header is in the running config"),
    ),
    completeness=family.ends_with_end,
    secrets=family.secrets(),
    continuation=NotApplicable("IOS XR prints one command per line"),
    volatile=LineRules(
        rules=(VolatileRule("xr-show-time", _SHOW_TIME, need=":"),),
        order=35,
        line_start=(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ",),
        anywhere=(),
    ),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "xr-last-change",
                re.compile(r"^!!\s*Last configuration change at (?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
                meta=_last_change,
                rank=1,
                need="Last configuration change at ",
            ),
        ),
        order=36,
        line_start=(r"!!\s*Last configuration",),
        anywhere=(),
    ),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern(
                "xr-commit",
                re.compile(r"%MGBL-CONFIG-6-DB_COMMIT\s*:\s*Configuration committed by user '(?P<user>[^']+)'"),
                event_from_groups,
            ),
            # the SSH login before a commit names the address the change came from
            SyslogPattern(
                "xr-login",
                re.compile(
                    r"%SECURITY-SSHD-6-INFO_SUCCESS\s*:\s*Successfully authenticated user '(?P<user>[^']+)' "
                    r"from '(?P<addr>[^']+)'"
                ),
                event_from_groups,
            ),
            SyslogPattern(
                "xr-config",
                re.compile(
                    r"%MGBL-SYS-5-CONFIG_I\s*:\s*Configured from (?P<origin>\S+) by (?P<user>[^\s(]+)"
                    r"(?: on \S+)?(?: \((?P<addr>[^)]+)\))?"
                ),
                event_from_groups,
            ),
        ),
        order=55,
        markers=("DB_COMMIT",),
        exports=(),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.cisco_xr.lab:CiscoXR", role="router", collector="netmiko"),
)
