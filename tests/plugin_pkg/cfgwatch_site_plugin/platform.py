"""The site's own firewall OS, "site_os", as one cfgwatch platform spec.

Its config is one rule per line (`rule 10 permit 10.0.0.0/8 any`), an admin secret (`admin-secret X`)
and a `# saved <time> by <user>` header. The appliance is collected over SSH with netmiko's generic
driver and has no syslog feed or lab emulation.
"""

from __future__ import annotations

import re

from cfgwatch.collect.validate import last_line_is
from cfgwatch.model import Action, AddressSet, FilterRule, Match, RuleSet, SourceRef
from cfgwatch.sanitize.metadata import ChangeMetadata, iso_time
from cfgwatch.sanitize.rules import secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.spec import Collect, NotApplicable, PlatformSpec, SecretRules

_RULE = re.compile(r"^rule (\d+) (permit|deny) (\S+) (\S+)\s*$")


def parse(text: str) -> RuleSet:
    """Every `rule` line, in order, as one filter list `site`."""
    filters = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _RULE.match(line)
        if found is None:
            continue
        sequence, action, src, dst = found.groups()
        filters.append(
            FilterRule(
                list_name="site",
                action=Action.PERMIT if action == "permit" else Action.DENY,
                match=Match(AddressSet.parse(src), AddressSet.parse(dst)),
                sequence=int(sequence),
                source=SourceRef(number, number),
            )
        )
    return RuleSet(platform="site_os", filters=tuple(filters))


def detect(text: str) -> bool:
    return text.startswith("site-os ")


def _saved(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), iso_time(m.group("when")), "site-os-header", line.strip())


SITE_OS = PlatformSpec(
    name="site_os",
    parser=ParserInfo(
        platform="site_os",
        description="Site OS: the site's own firewall appliance (rule lines)",
        forms=("cli",),
        features=frozenset({"filter.acl"}),
        parse=parse,
        detect=detect,
    ),
    detection_priority=1,
    aliases=("siteos",),
    collect=Collect(
        command="show config",
        napalm_driver=NotApplicable("no NAPALM driver for the appliance"),
        needs_enable=False,
        quick_exit=NotApplicable("netmiko's generic disconnect is fast"),
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=last_line_is(("end",), "'end'"),
    secrets=SecretRules(
        rules=(secret_rule("site-admin-secret", r"\badmin-secret\s+(?P<v>\S+)", need=("admin-secret",)),),
        order=100,
        also_for=(),
    ),
    continuation=NotApplicable("one command per line"),
    volatile=NotApplicable("the appliance prints no volatile lines"),
    change_header=LineRules(
        rules=(
            VolatileRule(
                "site-os-saved",
                re.compile(r"^# saved (?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) by (?P<user>\S+)$"),
                meta=_saved,
                rank=1,
                need="# saved ",
            ),
        ),
        order=100,
        line_start=(r"# saved ",),
        anywhere=(),
    ),
    syslog=NotApplicable("the appliance sends no syslog"),
    lab=NotApplicable("the lab does not emulate the appliance"),
)
