"""Juniper Junos: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from cfgwatch.collect.validate import closed_xml_or_braces
from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.metadata import ChangeMetadata, iso_time
from cfgwatch.sanitize.rules import NOT_ID, NOT_VALUE, QTOK, Rule, secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, NotApplicable, PlatformSpec, SecretRules

_JUNOS_KEYWORDS = (
    r"encrypted-password|authentication-key|secret|ascii-text|hexadecimal|simple-password|authentication-password|"
    r"privacy-password|pre-shared-key|key|password|hello-authentication-key|md5-key|plain-text-password-value"
)

_SECRET_RULES: tuple[Rule, ...] = (
    secret_rule("junos-secret-data", r'(?<=\s)(?P<v>"[^"]*"|[^\s;"]+)\s*;\s*##\s*SECRET-DATA', need=("secret-data",)),
    secret_rule(
        "junos-keyword",
        r"(?<![\w-])(?:"
        + _JUNOS_KEYWORDS
        + r")\s+"
        + NOT_VALUE
        + NOT_ID
        + r'(?P<v>"[^"]*"|[^\s;"{}]+)(?=\s*(?:;|$|##))',
        need=("key", "password", "secret", "ascii-text", "hexadecimal"),
    ),
    secret_rule(
        "junos-ntp-key",
        r'\bauthentication-key\s+\d+\b.*?\bvalue\s+(?P<v>"[^"]*"|[^\s;"{}]+)',
        need=("authentication-key",),
        also=("value",),
    ),
    secret_rule(
        "junos-snmp-community-set", r"^\s*set\s+snmp\s+community\s+" + QTOK, need=("community",), also=("snmp",)
    ),
    secret_rule(
        "junos-snmp-community", r"^\s*community\s+" + QTOK + r"\s*[{;]", guard=("path", r"^snmp\b"), need=("community",)
    ),
)


# The header's time and optional zone: `2024-08-29 11:54:34 UTC`.
_WHEN = r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*(?P<zone>[A-Z]{1,5}|[+-]\d\d:?\d\d)?"


def _header(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(
        m.groupdict().get("user"), iso_time(m.group("when"), m.group("zone")), "junos-header", line.strip()
    )


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="juniper_junos",
    description="Juniper Junos (SRX/MX/EX): security NAT, security policies, firewall filters, bindings",
    forms=("curly", "set"),
    features=frozenset(
        {
            "nat.static",
            "nat.dynamic",
            "nat.pat",
            "nat.destination",
            "nat.ports",
            "filter.acl",
            "filter.policy",
            "binding.interface",
            "binding.zone",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.juniper_junos.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.juniper_junos.parser", "detect"),
)


SPEC = PlatformSpec(
    name="juniper_junos",
    parser=PARSER,
    detection_priority=30,
    aliases=("juniper",),
    collect=Collect(
        # Curly-brace form (netutils' RUNNING_CONFIG_MAPPER says `| display set`): it keeps the
        # `## Last commit` header, which the set form drops.
        command="show configuration",
        napalm_driver="junos",  # NETCONF: the lab serves SSH CLI only, so the lab collects with netmiko
        needs_enable=False,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on Junos"),
        header_command=NotApplicable("only NAPALM's ios driver is known to drop the change header"),
    ),
    completeness=closed_xml_or_braces,
    secrets=SecretRules(rules=_SECRET_RULES, order=10, also_for=()),
    continuation=NotApplicable("Junos prints whole statements on one line"),
    volatile=NotApplicable("Junos prints no volatile lines besides the change header"),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "junos-last-commit",
                re.compile(r"^#+\s*Last commit:\s*" + _WHEN + r"(?:\s+by\s+(?P<user>\S+))?.*$"),
                meta=_header,
                rank=1,
                need="Last commit:",
            ),
            VolatileRule(
                "junos-last-changed",
                re.compile(r"^#+\s*Last changed:\s*" + _WHEN + r".*$"),
                meta=_header,
                rank=5,
                need="Last changed:",
            ),
        ),
        order=51,
        line_start=(r"#+\s*Last (?:commit|changed)",),
        anywhere=(),
    ),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern(
                "junos-commit",
                re.compile(
                    r"UI_COMMIT: User '(?P<user>[^']+)' requested '[^']*' operation"
                    r"(?: \(comment: (?P<comment>[^)]*)\))?"
                ),
                event_from_groups,
            ),
            SyslogPattern(
                "junos-audit-set",
                re.compile(r"UI_CFG_AUDIT_SET: User '(?P<user>[^']+)' set: \[(?P<cmd>[^\]]*)\]"),
                event_from_groups,
            ),
        ),
        order=30,
        markers=("UI_COMMIT",),
        exports=(),
    ),
    lab=LabProfile(emulator="cfgwatch.vendors.juniper_junos.lab:JuniperJunos", role="firewall", collector="netmiko"),
)
