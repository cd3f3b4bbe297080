"""MikroTik RouterOS: parser, collection, sanitizing, syslog and lab emulation in one spec."""

from __future__ import annotations

import re

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.metadata import ChangeMetadata, iso_time
from cfgwatch.sanitize.rules import Rule, secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, LabProfile, LineContinuation, NotApplicable, PlatformSpec, SecretRules

_SECRET_RULES: tuple[Rule, ...] = (
    secret_rule(
        "routeros-secret",
        r"(?<![\w-])(?P<k>[\w-]*?(?:password|secret|passphrase|pre-shared-key|psk|private-key|auth-key|"
        r"authentication-key|community|key))=" + r'(?P<v>"(?:[^"\\]|\\.)*"|\S+)',
        reject=r"public",
        need=("pass", "secret", "psk", "key", "community"),
        also=("=",),
    ),
    secret_rule(
        "routeros-snmp-community",
        r'(?<![\w-])name=(?P<v>"(?:[^"\\]|\\.)*"|\S+)',
        guard=("ros", r"^/snmp community"),
        need=("name=",),
    ),
)


def _history_row(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), iso_time(m.group("when")), "routeros-history", line.strip())


# A configuration item added/changed/removed (RouterOS "system,info" topic): firewall rules, address-list
# entries, routes, addresses ... The session prefix before the user (`ssh:`, `winbox-3.40/tcp-msg(winbox):`)
# and the `/action:N` after the address are dropped.
ROUTEROS_ITEM = re.compile(
    r"\b(?P<what>(?:[\w-]+ ){0,2}(?:rule|entry|route|address|item|interface|script|user|service|pool|server|client|"
    r"settings|list|queue|peer|key|certificate|profile|bridge|port|vlan)) "
    r"(?P<op>added|changed|removed|moved|enabled|disabled|commented) by "
    r"(?:[^\s:]*:)?(?P<user>[^\s@/:()]+)(?:@(?P<addr>[0-9A-Fa-f.:]+))?"
)

# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="mikrotik_routeros",
    description="MikroTik RouterOS export: /ip(v6) firewall nat, filter, raw, address-lists; interface lists as zones",
    forms=("export",),
    features=frozenset({"nat.destination", "nat.pat", "nat.ports", "filter.acl", "binding.zone", "objects.network"}),
    parse=Deferred("cfgwatch.vendors.mikrotik_routeros.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.mikrotik_routeros.parser", "detect"),
)


SPEC = PlatformSpec(
    name="mikrotik_routeros",
    parser=PARSER,
    detection_priority=40,
    aliases=("routeros", "mikrotik"),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["mikrotik_routeros"],
        napalm_driver=NotApplicable("NAPALM has no RouterOS driver in cfgwatch's dependencies"),
        needs_enable=False,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on RouterOS"),
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=NotApplicable("an /export has no closing line"),
    secrets=SecretRules(rules=_SECRET_RULES, order=40, also_for=()),
    continuation=LineContinuation(re.compile(r"\\\r?\n\s*"), "RouterOS line continuations joined"),
    # The export timestamp and the (volatile, reboot-cleared) undo history that Oxidized adds.
    volatile=LineRules(
        rules=(
            VolatileRule(
                "routeros-export-time",
                re.compile(r"^#\s*(?:\S+\s+\d\d:\d\d:\d\d\s+)?by RouterOS\s+(?P<ver>\S+).*$"),
                replace=r"# by RouterOS \g<ver>",
                need="by RouterOS",
            ),
            VolatileRule("routeros-history-flags", re.compile(r"^#\s*Flags:\s*U - UNDOABLE.*$"), need="U - UNDOABLE"),
            VolatileRule(
                "routeros-history-columns", re.compile(r"^#\s*Columns:\s*ACTION, BY, POLICY, TIME\s*$"), need="Columns:"
            ),
            VolatileRule("routeros-history-head", re.compile(r"^#\s+ACTION\s+BY\s+POLICY\s+TIME\s*$"), need="ACTION"),
            VolatileRule(
                "routeros-history-wrap", re.compile(r"^#\s{20,}(?:write|read|policy|sensitive|reboot)\s*$"), need="#"
            ),
        ),
        order=70,
        line_start=(r"#.*by RouterOS", r"#\s*(?:Flags:|Columns:|\s+ACTION|\s{20,})"),
        anywhere=(),
    ),
    # After the volatile rules: a history-flags line or an export-time line that also ends in a time is
    # dropped or rewritten before it could be read as a history row.
    change_header=LineRules(
        rules=(
            VolatileRule(
                "routeros-history-row",
                re.compile(
                    r"^#\s(?:U|\s)\s.*?(?:\s(?P<user>[\w.@-]+))?\s+(?:write|read|policy|sensitive|reboot|\S+)?\s*"
                    r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$"
                ),
                meta=_history_row,
                rank=6,
                need="#",
            ),
        ),
        order=71,
        line_start=(r"#\s*(?:U\s|\s{20,})",),
        anywhere=(),
    ),
    syslog=SyslogPatterns(
        patterns=(
            SyslogPattern("routeros-config", re.compile(r"\bconfig changed by (?P<user>\S+)"), event_from_groups),
            # `nat rule added by admin` (v6); v7 names the session: `filter rule changed by
            # winbox-3.40/tcp-msg(winbox):admin@10.0.0.5/action:133 (/ip firewall filter set ...)`, `ssh:admin@...`.
            SyslogPattern("routeros-item", ROUTEROS_ITEM, event_from_groups),
            SyslogPattern(
                "routeros-login", re.compile(r"\buser (?P<user>\S+) logged in from (?P<addr>\S+)"), event_from_groups
            ),
        ),
        order=60,
        markers=(),
        exports=(),
    ),
    lab=LabProfile(
        emulator="cfgwatch.vendors.mikrotik_routeros.lab:MikroTikRouterOS", role="router", collector="netmiko"
    ),
)
