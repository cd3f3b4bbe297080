"""Fortinet FortiOS: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import dataclasses
import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.collect.validate import OK, Verdict
from cfgwatch.model.text import config_lines
from cfgwatch.policy.attribution import ConfigEvent, SyslogLine, SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.rules import Rule, secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec, SecretRules

_SECRET_RULES: tuple[Rule, ...] = (
    secret_rule(
        "fortios-set-secret",
        r"^\s*set\s+(?P<k>[\w-]*?(?:password|passwd|psksecret|secret|passphrase|pwd|key|md5-key|private-key)"
        r"[\w-]*)\s+(?P<v>.+?)\s*$",
        need=("pass", "secret", "pwd", "key"),
    ),
    secret_rule(
        "fortios-snmp-community",
        r"^\s*set\s+name\s+(?P<v>.+?)\s*$",
        guard=("forti", r"system snmp community"),
        need=("name",),
        also=("set",),
    ),
)


def _complete(text: str) -> Verdict:
    """Every `config` block is closed by its `end`."""
    depth = 0
    for line in config_lines(text):
        word = line.strip().split(" ", 1)[0]
        if word == "config":
            depth += 1
        elif word == "end":
            depth -= 1
    if depth != 0:
        return Verdict(False, "incomplete", f"{depth} 'config' block(s) without 'end'")
    return OK


_DEVNAME = re.compile(r'devname="([^"]+)"')
_ADDR_IN_UI = re.compile(r"\(([0-9a-fA-F:.]+)\)")


def _config_event(kind: str, found: re.Match[str], at: SyslogLine) -> ConfigEvent:
    """FortiOS names the device in `devname=` and the client in `ui="ssh(10.0.0.1)"`."""
    device = _DEVNAME.search(at.rest)
    ui = found.group("ui") or ""
    address = _ADDR_IN_UI.search(ui)
    return dataclasses.replace(
        event_from_groups(kind, found, at),
        device=device.group(1) if device else at.host,
        origin=address.group(1) if address else ui or None,
    )


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="fortinet",
    description="FortiOS: VIPs (port forwards), IP pools, policies with NAT, addresses/services, zones, VDOMs",
    forms=("cli",),
    features=frozenset(
        {
            "nat.destination",
            "nat.pat",
            "nat.dynamic",
            "nat.ports",
            "filter.policy",
            "binding.zone",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.fortinet.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.fortinet.parser", "detect"),
)


SPEC = PlatformSpec(
    name="fortinet",
    parser=PARSER,
    detection_priority=20,
    aliases=(),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["fortinet"],
        napalm_driver=NotApplicable("NAPALM has no FortiOS driver in cfgwatch's dependencies"),
        needs_enable=False,
        # netmiko's own disconnect restores the console output mode it changed.
        quick_exit=NotApplicable("netmiko's disconnect restores the console output mode"),
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=_complete,
    secrets=SecretRules(rules=_SECRET_RULES, order=50, also_for=()),
    continuation=NotApplicable("FortiOS prints one `set` per line"),
    volatile=LineRules(
        rules=(VolatileRule("fortios-conf-file-ver", re.compile(r"^#conf_file_ver=\S*\s*$"), need="#conf_file_ver="),),
        order=60,
        line_start=(r"#conf_file_ver",),
        anywhere=(),
    ),
    change_header=NotApplicable("the #config-version header names a user but no time; syslog attributes changes"),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern(
                "fortios-config",
                re.compile(r'logid="?0100044547"?.*?user="(?P<user>[^"]+)"(?:.*?ui="(?P<ui>[^"]*)")?'),
                _config_event,
            ),
        ),
        order=40,
        markers=("0100044547",),
        exports=(),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.fortinet.lab:Fortinet", role="firewall", collector="netmiko"),
)
