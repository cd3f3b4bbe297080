"""Cisco NX-OS: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.collect.validate import has_top_level
from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.metadata import ChangeMetadata, ctime
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors import _cisco_family as family
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec


def _last_done(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(None, ctime(m.group("when")), "nxos-header", line.strip())


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="cisco_nxos",
    description="Cisco NX-OS: ip access-list (sequence semantics), addrgroup/portgroup, access-group bindings, ip nat",
    forms=("cli",),
    features=frozenset(
        {"nat.static", "nat.pat", "nat.ports", "filter.acl", "binding.interface", "objects.network", "objects.service"}
    ),
    parse=Deferred("cfgwatch.vendors.cisco_nxos.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.cisco_nxos.parser", "detect"),
)


SPEC = PlatformSpec(
    name="cisco_nxos",
    parser=PARSER,
    detection_priority=80,
    aliases=("cisco_nxos_ssh",),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["cisco_nxos"],
        napalm_driver="nxos_ssh",
        needs_enable=True,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on NX-OS"),
        header_command=NotApplicable("only NAPALM's ios driver is known to drop the change header"),
    ),
    # No closing line, but a fixed order: `version` first, then features, VLANs, VRFs, interfaces (mgmt0
    # last), then the always-printed `line console` / `line vty` and the `boot` image lines at the very
    # end (only a few globals may follow). An output cut anywhere before them lacks one of them.
    completeness=has_top_level(
        ("version", "line console", "line vty", "boot"),
        "an NX-OS running config prints them at its start and end",
    ),
    secrets=family.secrets(),
    continuation=NotApplicable("NX-OS prints one command per line"),
    volatile=LineRules(
        rules=(VolatileRule("nxos-time", re.compile(r"^!\s*Time:\s.*$"), need="Time:"),),
        order=30,
        line_start=(r"!\s*Time:",),
        anywhere=(),
    ),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "nxos-last-done",
                re.compile(r"^!\s*Running configuration last done at:?\s*(?P<when>.+?)\s*$"),
                meta=_last_done,
                rank=4,
                need="Running configuration last done at",
            ),
        ),
        order=31,
        line_start=(r"!\s*Running conf",),
        anywhere=(),
    ),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern(
                "nxos-config",
                re.compile(r"%VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from \S+ by (?P<user>\S+) on (?P<addr>[^@\s]+)"),
                event_from_groups,
            ),
        ),
        order=50,
        markers=("CONFIG_I",),
        exports=(),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.cisco_nxos.lab:CiscoNXOS", role="switch", collector="netmiko"),
)
