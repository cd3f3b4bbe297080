"""Palo Alto PAN-OS: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from cfgwatch.collect.validate import closed_xml_or_braces
from cfgwatch.policy.attribution import ExportReader, SyslogPattern, SyslogPatterns
from cfgwatch.sanitize.rules import NOT_VALUE, Rule, secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.paloalto_panos import syslog
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec, SecretRules

_PANOS_TAGS = (
    r"password|phash|secret|key|passwd|pwd|authpwd|privpwd|community|community-string|passphrase|psk|private-key|"
    r"api-key|password-hash"
)

_SECRET_RULES: tuple[Rule, ...] = (
    secret_rule(
        "panos-xml-secret",
        r"<(?P<tag>(?:[\w-]*-)?(?:" + _PANOS_TAGS + r"))>(?P<v>[^<]+)</(?P=tag)>",
        reject=r"^<[\w-]*public",
        xml=True,
        need=("pass", "phash", "secret", "key", "pwd", "community", "psk"),
    ),
    secret_rule(
        "panos-keyword",
        r"(?<![\w-])(?:phash|password|secret|authpwd|privpwd|auth-password|priv-password|bind-password|passphrase|"
        r"snmp-community-string|community-string)\s+" + NOT_VALUE + r'(?P<v>"[^"]*"|[^\s;"{}]+)(?=\s*(?:;|$))',
        need=("phash", "pass", "secret", "pwd", "community-string"),
    ),
    secret_rule("panos-psk", r'\bpre-shared-key\s+key\s+(?P<v>"[^"]*"|[^\s;"{}]+)', need=("pre-shared-key",)),
    secret_rule(
        "panos-psk-block", r'^\s*key\s+(?P<v>"[^"]*"|[^\s;"{}]+)\s*;', guard=("path", r"pre-shared-key$"), need=("key",)
    ),
)


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="paloalto_panos",
    description="Palo Alto PAN-OS / Panorama: NAT and security rulebases, objects, zones, vsys/device groups",
    forms=("set", "brace", "xml"),
    features=frozenset(
        {
            "nat.static",
            "nat.dynamic",
            "nat.pat",
            "nat.destination",
            "nat.twice",
            "nat.ports",
            "filter.policy",
            "binding.zone",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.paloalto_panos.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.paloalto_panos.parser", "detect"),
)


SPEC = PlatformSpec(
    name="paloalto_panos",
    parser=PARSER,
    detection_priority=10,
    aliases=(),
    collect=Collect(
        command="show config running",  # netutils' RUNNING_CONFIG_MAPPER does not list PAN-OS
        napalm_driver=NotApplicable("NAPALM has no PAN-OS driver in cfgwatch's dependencies"),
        needs_enable=False,
        # netmiko's disconnect() first probes for configuration mode by timing (it waits 2 s for output to
        # stop); a read-only session never entered it.
        quick_exit="exit",
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=closed_xml_or_braces,
    secrets=SecretRules(rules=_SECRET_RULES, order=20, also_for=()),
    continuation=NotApplicable("PAN-OS prints XML or whole brace-form statements"),
    volatile=LineRules(
        # XML per-node commit bookkeeping
        rules=(VolatileRule("panos-dirty-id", re.compile(r' dirtyId="\d+"'), replace="", need=' dirtyId="'),),
        order=90,
        line_start=(),
        anywhere=((r"dirtyId=", "dirtyId="),),
    ),
    change_header=NotApplicable("a PAN-OS config holds no change header; the config log attributes changes"),
    syslog=SyslogPatterns(
        # First of all platforms: a CONFIG log line is CSV, which other platforms' patterns could misread.
        patterns=(SyslogPattern("panos-config", syslog.CONFIG_LINE, syslog.config_event),),
        order=0,
        markers=(",CONFIG,",),
        exports=(ExportReader(syslog.is_csv_export, syslog.read_csv_export),),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.paloalto_panos.lab:PaloAltoPANOS", role="firewall", collector="netmiko"),
)
