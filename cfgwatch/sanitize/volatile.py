"""Volatile lines: text that changes between two reads of an unchanged device.

Each rule either drops the line or rewrites it to a stable form; rules that carry change
metadata (who/when) hand it to the caller before the line disappears.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cfgwatch.sanitize.metadata import ChangeMetadata, cisco_time, ctime, iso_time

MetaFn = Callable[["re.Match[str]", str], ChangeMetadata]


@dataclass(frozen=True, slots=True)
class VolatileRule:
    """``replace`` None drops the line; otherwise it is an ``re.sub`` template for the match."""

    name: str
    pattern: re.Pattern[str]
    replace: str | None = None
    meta: MetaFn | None = None
    rank: int = 9  # lower wins when several headers carry metadata
    need: str = ""  # text every match contains (case as written): the regex is skipped without it


def _ios_change(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "ios-header", line.strip())


def _ios_nvram(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "ios-nvram-header", line.strip())


def _junos(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(
        m.groupdict().get("user"), iso_time(m.group("when"), m.group("zone")), "junos-header", line.strip()
    )


def _asa(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), cisco_time(m.group("when")), "asa-header", line.strip())


def _eos(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), ctime(m.group("when")), "eos-header", line.strip())


def _nxos(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(None, ctime(m.group("when")), "nxos-header", line.strip())


def _routeros(m: re.Match[str], line: str) -> ChangeMetadata:
    return ChangeMetadata(m.group("user"), iso_time(m.group("when")), "routeros-history", line.strip())


def _c(regex: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(regex, flags)


RULES: tuple[VolatileRule, ...] = (
    # Cisco IOS / IOS-XE
    VolatileRule("ios-building", _c(r"^Building configuration\.\.\.\s*$"), need="Building configuration..."),
    VolatileRule("ios-current-size", _c(r"^Current configuration\s*:\s*\d+ bytes\s*$"), need="Current configuration"),
    VolatileRule(
        "ios-last-change",
        _c(r"^!\s*Last configuration change at (?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
        meta=_ios_change,
        rank=1,
        need="Last configuration change at ",
    ),
    VolatileRule(
        "ios-nvram",
        _c(r"^!\s*NVRAM config last updated at (?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
        meta=_ios_nvram,
        rank=3,
        need="NVRAM config last updated at ",
    ),
    VolatileRule(
        "ios-no-change",
        _c(r"^!\s*No configuration change since last restart\s*$"),
        need="No configuration change since last restart",
    ),
    VolatileRule("ntp-clock-period", _c(r"^\s*ntp clock-period\s+\d+\s*$"), need="ntp clock-period"),
    VolatileRule("uptime", _c(r"^[!#;]+.*\buptime is\b.*$", re.IGNORECASE)),
    VolatileRule("restarted-at", _c(r"^[!#]\s*System (?:restarted|returned to ROM)\b.*$", re.IGNORECASE)),
    # Cisco ASA
    VolatileRule("asa-cryptochecksum", _c(r"^Cryptochecksum:\s*\S*\s*$"), need="Cryptochecksum:"),
    VolatileRule(
        "asa-written-by",
        _c(r"^:\s*Written by (?P<user>\S+) at (?P<when>.+?)\s*$"),
        meta=_asa,
        rank=1,
        need="Written by ",
    ),
    # NX-OS
    VolatileRule("nxos-time", _c(r"^!\s*Time:\s.*$"), need="Time:"),
    VolatileRule(
        "nxos-last-done",
        _c(r"^!\s*Running configuration last done at:?\s*(?P<when>.+?)\s*$"),
        meta=_nxos,
        rank=4,
        need="Running configuration last done at",
    ),
    # Arista EOS
    VolatileRule(
        "eos-startup-modified",
        _c(r"^!\s*Startup-config last modified at\s+(?P<when>.+?)(?:\s+by\s+(?P<user>\S+))?\s*$"),
        meta=_eos,
        rank=2,
        need="Startup-config last modified at",
    ),
    # Junos
    VolatileRule(
        "junos-last-commit",
        _c(
            r"^#+\s*Last commit:\s*(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*(?P<zone>[A-Z]{1,5}|[+-]\d\d:?\d\d)?"
            r"(?:\s+by\s+(?P<user>\S+))?.*$"
        ),
        meta=_junos,
        rank=1,
        need="Last commit:",
    ),
    VolatileRule(
        "junos-last-changed",
        _c(r"^#+\s*Last changed:\s*(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*(?P<zone>[A-Z]{1,5}|[+-]\d\d:?\d\d)?.*$"),
        meta=_junos,
        rank=5,
        need="Last changed:",
    ),
    # FortiOS
    VolatileRule("fortios-conf-file-ver", _c(r"^#conf_file_ver=\S*\s*$"), need="#conf_file_ver="),
    # RouterOS: export timestamp and the (volatile, reboot-cleared) undo history that Oxidized adds
    VolatileRule(
        "routeros-export-time",
        _c(r"^#\s*(?:\S+\s+\d\d:\d\d:\d\d\s+)?by RouterOS\s+(?P<ver>\S+).*$"),
        replace=r"# by RouterOS \g<ver>",
        need="by RouterOS",
    ),
    VolatileRule("routeros-history-flags", _c(r"^#\s*Flags:\s*U - UNDOABLE.*$"), need="U - UNDOABLE"),
    VolatileRule("routeros-history-columns", _c(r"^#\s*Columns:\s*ACTION, BY, POLICY, TIME\s*$"), need="Columns:"),
    VolatileRule("routeros-history-head", _c(r"^#\s+ACTION\s+BY\s+POLICY\s+TIME\s*$"), need="ACTION"),
    VolatileRule(
        "routeros-history-row",
        _c(
            r"^#\s(?:U|\s)\s.*?(?:\s(?P<user>[\w.@-]+))?\s+(?:write|read|policy|sensitive|reboot|\S+)?\s*"
            r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*$"
        ),
        meta=_routeros,
        rank=6,
        need="#",
    ),
    VolatileRule("routeros-history-wrap", _c(r"^#\s{20,}(?:write|read|policy|sensitive|reboot)\s*$"), need="#"),
    # Linux iptables-save / nftables
    VolatileRule(
        "iptables-generated",
        _c(r"^# Generated by (?P<tool>ip6?tables-save(?: v\S+)?)(?: on .*)?$"),
        replace=r"# Generated by \g<tool>",
        need="# Generated by ",
    ),
    VolatileRule("iptables-completed", _c(r"^# Completed(?: on .*)?$"), replace="# Completed", need="# Completed"),
    VolatileRule(
        "iptables-chain-counters", _c(r"^(?P<chain>:\S+ \S+) \[\d+:\d+\]"), replace=r"\g<chain> [0:0]", need=" ["
    ),
    VolatileRule("iptables-rule-counters", _c(r"^\[\d+:\d+\] "), replace="[0:0] ", need="["),
    VolatileRule(
        "nft-counter",
        _c(r"\bcounter packets \d+ bytes \d+"),
        replace="counter packets 0 bytes 0",
        need="counter packets ",
    ),
    VolatileRule("nft-expires", _c(r" expires [\dhmsd.]+(?=[\s,}])"), replace="", need=" expires "),
    # PAN-OS XML per-node commit bookkeeping
    VolatileRule("panos-dirty-id", _c(r' dirtyId="\d+"'), replace="", need=' dirtyId="'),
)

# A cheap test before running the rules: a line that cannot start any rule above is left alone.
# Anchored alternatives (the start of a line) and unanchored ones are kept apart so the sanitizer
# can also look for them over a whole text at once (see line_start_hints / HINT_WORDS).
_HINT_START = (
    r"Building config|Current configuration|!\s*(?:Last configuration|NVRAM|No configuration|Time:|Running conf"
    r"|Startup-config)|#+\s*Last (?:commit|changed)|#conf_file_ver|#.*by RouterOS|#\s*(?:Flags:|Columns:|\s+ACTION|"
    r"U\s|\s{20,})|# Generated by|# Completed|:\S+ \S+ \[|\[\d+:\d+\]|Cryptochecksum|:\s*Written by"
)
_HINT_ANYWHERE = r"ntp clock-period|uptime is|System (?:restarted|returned)|counter packets|\sexpires\s|dirtyId="
HINT = re.compile(r"^(?:" + _HINT_START + r")|" + _HINT_ANYWHERE)

# Whole-text prefilters, together a superset of the lines HINT matches: the anchored alternatives
# after a newline (search "\n" + text, so a match at i means the line that starts at offset i), and
# plain words that every unanchored alternative contains (str.find is far cheaper than a regex scan).
HINT_LINE_START = re.compile(r"\n(?:" + _HINT_START + r")")
HINT_WORDS: tuple[str, ...] = (
    "ntp clock-period",
    "uptime is",
    "System re",
    "counter packets",
    "expires",
    "dirtyId=",
)
