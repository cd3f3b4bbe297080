"""VyOS: parser, collection and sanitizing in one spec (the lab does not emulate VyOS)."""

from __future__ import annotations

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER

from cfgwatch.sanitize.rules import NOT_ID, NOT_VALUE, Rule, secret_rule
from cfgwatch.vendors.base import Deferred, ParserInfo
from cfgwatch.vendors.spec import Collect, NotApplicable, PlatformSpec, SecretRules

_SECRET_RULES: tuple[Rule, ...] = (
    secret_rule(
        "vyos-secret",
        r"(?<![\w-])(?:password|secret|preshared-key|private-key|private\s+key|pre-shared-secret|shared-secret|"
        r"plaintext-password|encrypted-password|authentication-key|md5-key|auth-key|key|passphrase)\s+"
        + NOT_VALUE
        + NOT_ID
        + r"""(?P<v>'[^']*'|"[^"]*"|[^\s'"{};]+)(?=\s*(?:;|$))""",
        reject=r"public-keys",
        need=("pass", "secret", "key"),
    ),
    secret_rule(
        "vyos-snmp-community",
        r"(?<![\w-])community\s+(?!(?:add|set|remove|print|export|edit)\b)(?P<v>'[^']*'|\"[^\"]*\"|[^\s'\"{}]+)",
        guard=("pathline", r"\bsnmp\b"),
        need=("community",),
    ),
)


# The parser module is imported on the first parse or detect (see Deferred).
PARSER = ParserInfo(
    platform="vyos",
    description="VyOS 1.3/1.4: nat destination/source rules, firewall rulesets, bindings, groups (set or curly)",
    forms=("set", "curly"),
    features=frozenset(
        {
            "nat.destination",
            "nat.pat",
            "nat.ports",
            "filter.acl",
            "binding.interface",
            "objects.network",
            "objects.service",
        }
    ),
    parse=Deferred("cfgwatch.vendors.vyos.parser", "parse"),
    detect=Deferred("cfgwatch.vendors.vyos.parser", "detect"),
)


SPEC = PlatformSpec(
    name="vyos",
    parser=PARSER,
    detection_priority=50,
    aliases=(),
    collect=Collect(
        command=RUNNING_CONFIG_MAPPER["vyos"],
        napalm_driver=NotApplicable("NAPALM has no VyOS driver in cfgwatch's dependencies"),
        needs_enable=False,
        quick_exit=NotApplicable("netmiko's own disconnect is fast on VyOS"),
        header_command=NotApplicable("no NAPALM driver"),
    ),
    completeness=NotApplicable("neither VyOS form has a closing line"),
    secrets=SecretRules(rules=_SECRET_RULES, order=30, also_for=()),
    continuation=NotApplicable("VyOS prints whole statements on one line"),
    volatile=NotApplicable("VyOS prints no volatile lines"),
    change_header=NotApplicable("a VyOS config holds no change header"),
    syslog=NotApplicable("cfgwatch reads no VyOS commit messages yet"),
    lab=NotApplicable("the lab does not emulate VyOS"),
)
