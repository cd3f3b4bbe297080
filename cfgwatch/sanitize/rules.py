"""Secret redaction rules per platform, plus a generic pass applied to every platform.

A rule is a precompiled regex whose group ``v`` is the secret (group ``t``, when present, is the
Cisco-style encryption type digit). An optional guard restricts the rule to a block context
(the enclosing top-level line for Cisco-style configs, the brace path for Junos/PAN-OS/VyOS,
the ``config``/``edit`` path for FortiOS, the ``/section`` for RouterOS). Keyword lists follow the
idea of netutils' ``sanitize_config`` filters (regex + replacement) but capture the value so it
can be fingerprinted instead of dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cfgwatch.vendors.registry import canonical_platform as registry_canonical

_I = re.IGNORECASE

# A value: quoted (either quote), or a bare token that stops at ; , and brackets.
# An existing marker is offered first, so a second rule leaves it alone instead of grabbing a nearby token.
MARK = r"(?:<|&lt;)redacted:[a-z]+:[0-9a-f]+(?:>|&gt;)"
VAL = r"""(?P<v>""" + MARK + r"""|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s;,"'<>{}]+)"""
# A token right before an existing marker is a keyword, not the secret (the secret is the marker).
_BEFORE_MARK = r"(?!\S+\s+(?:<|&lt;)redacted:)"
TOK = _BEFORE_MARK + r"(?P<v>\S+)"
QTOK = _BEFORE_MARK + r"""(?P<v>"[^"]*"|[^\s"]+)"""
TYPE = r"(?:(?P<t>[0-9])\s+)"
# Words that follow "password"/"secret" as settings, not values.
NOT_VALUE = (
    r"(?![\w-]*(?:length|count|changes|format|type|policy|complexity|lifetime|encryption|encrypt|check|history|"
    r"reuse|aging|mode|required|prompt|expiry|expiration|expire|strength|recovery|controls|hash-algorithm)\b)"
    r"(?!(?:none|yes|no|enable|disable|enabled|disabled)\s*$)"
    r"(?!ENC\s)(?!\S+\s+(?:<|&lt;)redacted:)"  # FortiOS 'ENC <value>'; a token just before a marker
)
# A bare small number after "key" is a key id (Cisco "key chain" entries), not a key.
_NOT_ID = r"(?!\d{1,4}\s*(?:;|$))"


@dataclass(frozen=True, slots=True)
class Rule:
    """One redaction pattern; ``guard`` = (tracker, regex) that the block context must match."""

    name: str
    pattern: re.Pattern[str]
    guard: tuple[str, re.Pattern[str]] | None = None
    reject: re.Pattern[str] | None = None  # a match whose text matches this is not a secret
    xml: bool = False  # the value sits in XML text: escape the marker
    # Lower-case words of which every match contains at least one (checked on the lower-cased line
    # before the regex runs, and over the whole text to find the lines worth looking at). Empty means
    # "no such word": the rule then runs on every triggered line.
    need: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # a second such list: when given, a match also holds one of these


def _r(
    name: str,
    regex: str,
    flags: int = _I,
    guard: tuple[str, str] | None = None,
    reject: str | None = None,
    xml: bool = False,
    need: tuple[str, ...] = (),
    also: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        name,
        re.compile(regex, flags),
        (guard[0], re.compile(guard[1], _I)) if guard else None,
        re.compile(reject, _I) if reject else None,
        xml,
        tuple(word.lower() for word in need),
        tuple(word.lower() for word in also),
    )


_PUBLIC = r"public"

CISCO: tuple[Rule, ...] = (
    _r(
        "cisco-ntp-key",
        r"\bntp\s+authentication-key\s+\d+\s+\S+\s+" + TYPE + "?" + TOK,
        need=("authentication-key",),
        also=("ntp",),
    ),
    _r(
        "cisco-password",
        r"(?<![\w-])(?:password|secret)\s+" + NOT_VALUE + r"(?:(?:level|privilege)\s+\d+\s+)?"
        r"(?:(?P<t>[0-9]|sha512|sha256|md5|pbkdf2|scrypt)\s+)?" + QTOK,
        need=("password", "secret"),
    ),
    _r("cisco-typed-key", r"(?<![\w-])key\s+(?P<t>[0-9])\s+" + QTOK, need=("key",)),
    _r("cisco-key-string", r"(?<![\w-])key-string\s+" + TYPE + "?" + TOK, need=("key-string",)),
    _r(
        "cisco-aaa-key",
        r"^\s*(?:tacacs-server|radius-server|tacacs|radius|server-private|aaa-server|ip\s+(?:tacacs|radius))\b"
        r"[^\n]*?(?<![\w-])key\s+" + TYPE + "?" + QTOK,
        need=("key",),
        also=("tacacs", "radius", "server-private", "aaa-server"),
    ),
    _r(
        "cisco-aaa-block-key",
        r"^\s+key\s+" + TYPE + "?" + QTOK,
        guard=("top", r"^(?:tacacs|radius|aaa-server|aaa\s+group|crypto\s+(?:keyring|isakmp|ikev2))"),
        need=("key",),
    ),
    _r("cisco-isakmp-key", r"\bisakmp\s+key\s+" + TYPE + "?" + TOK, need=("key",), also=("isakmp",)),
    _r(
        "cisco-psk",
        r"\bpre-shared-key\s+(?:(?:address|hostname)\s+\S+(?:\s+\S+)?\s+key\s+|(?:local|remote)\s+)?"
        + TYPE
        + "?"
        + TOK,
        need=("pre-shared-key",),
    ),
    _r("cisco-ospf-md5", r"\bmessage-digest-key\s+\d+\s+md5\s+" + TYPE + "?" + TOK, need=("message-digest-key",)),
    _r("cisco-auth-key", r"(?<!ntp )(?<![\w-])authentication-key\s+" + TYPE + "?" + TOK, need=("authentication-key",)),
    _r(
        "cisco-snmp-community",
        r"\bsnmp-server\s+community\s+" + TYPE + "?" + TOK,
        need=("community",),
        also=("snmp-server",),
    ),
    _r(
        "cisco-snmp-host",
        r"\bsnmp-server\s+host\s+\S+\s+(?:\S+\s+)*?(?:community\s+|version\s+(?:1|2c)\s+)(?P<v>[^\s]+)",
        need=("snmp-server",),
        also=("host",),
    ),
    _r(
        "cisco-snmp-host-v1",
        r"\bsnmp-server\s+host\s+[\d.:a-f]+\s+(?:(?:traps|informs|vrf\s+\S+)\s+)*"
        r"(?!version\b|community\b|traps\b|informs\b|vrf\b|\d+\.\d+\.\d+\.\d+\b)(?P<v>[^\s]+)",
        need=("snmp-server",),
        also=("host",),
    ),
    _r(
        "cisco-snmp-auth",
        r"\bsnmp-server\s+user\b.*?\bauth\s+(?:md5|sha\S*)\s+(?P<v>\S+)",
        need=("snmp-server",),
        also=("auth",),
    ),
    _r(
        "cisco-snmp-priv",
        r"\bsnmp-server\s+user\b.*?\bpriv\s+(?:(?:des56|3des|des|aes(?:-?\d+)?(?:\s+\d+)?)\s+)?(?P<v>\S+)",
        need=("snmp-server",),
        also=("priv",),
    ),
    _r(
        "cisco-isis-password",
        r"\b(?:area|domain|hello|lsp|isis)-password\s+(?:(?:hmac-md5|text)\s+)?(?:(?:encrypted|clear)\s+)?" + TOK,
        need=("-password",),
    ),
    _r("cisco-fhrp-text", r"\bauthentication\s+text\s+" + TYPE + "?" + TOK, need=("authentication",), also=("text",)),
    _r(
        "cisco-eigrp-hmac",
        r"\bauthentication\s+mode\s+hmac-sha-256\s+" + TYPE + "?" + TOK,
        need=("authentication",),
        also=("hmac-sha-256",),
    ),
    _r("cisco-config-key", r"\bpassword-encrypt\s+" + TOK, need=("password-encrypt",)),
    _r("cisco-wpa-psk", r"\bwpa-psk\s+(?:ascii|hex)\s+" + TYPE + "?" + TOK, need=("wpa-psk",)),
    _r("cisco-nhrp", r"\bnhrp\s+authentication\s+" + TOK, need=("authentication",), also=("nhrp",)),
    _r("asa-failover-key", r"^\s*failover\s+key\s+(?:hex\s+)?" + TOK, need=("key",), also=("failover",)),
    _r("asa-ldap-password", r"\bldap-login-password\s+" + TOK, need=("ldap-login-password",)),
)

_JUNOS_KEYWORDS = (
    r"encrypted-password|authentication-key|secret|ascii-text|hexadecimal|simple-password|authentication-password|"
    r"privacy-password|pre-shared-key|key|password|hello-authentication-key|md5-key|plain-text-password-value"
)
JUNOS: tuple[Rule, ...] = (
    _r("junos-secret-data", r'(?<=\s)(?P<v>"[^"]*"|[^\s;"]+)\s*;\s*##\s*SECRET-DATA', need=("secret-data",)),
    _r(
        "junos-keyword",
        r"(?<![\w-])(?:"
        + _JUNOS_KEYWORDS
        + r")\s+"
        + NOT_VALUE
        + _NOT_ID
        + r'(?P<v>"[^"]*"|[^\s;"{}]+)(?=\s*(?:;|$|##))',
        need=("key", "password", "secret", "ascii-text", "hexadecimal"),
    ),
    _r(
        "junos-ntp-key",
        r'\bauthentication-key\s+\d+\b.*?\bvalue\s+(?P<v>"[^"]*"|[^\s;"{}]+)',
        need=("authentication-key",),
        also=("value",),
    ),
    _r("junos-snmp-community-set", r"^\s*set\s+snmp\s+community\s+" + QTOK, need=("community",), also=("snmp",)),
    _r(
        "junos-snmp-community", r"^\s*community\s+" + QTOK + r"\s*[{;]", guard=("path", r"^snmp\b"), need=("community",)
    ),
)

_FORTI_DENY = (
    r"public|type|life|size|length|policy|expire|strength|usage|mode|(?:^|-)id$|name|file|format|algorithm|"
    r"index|status|check|chain|interval|inclusion|rollover|timeout|min|max|reset|change|history|ip$"
)
FORTINET: tuple[Rule, ...] = (
    _r(
        "fortios-set-secret",
        r"^\s*set\s+(?P<k>[\w-]*?(?:password|passwd|psksecret|secret|passphrase|pwd|key|md5-key|private-key)"
        r"[\w-]*)\s+(?P<v>.+?)\s*$",
        need=("pass", "secret", "pwd", "key"),
    ),
    _r(
        "fortios-snmp-community",
        r"^\s*set\s+name\s+(?P<v>.+?)\s*$",
        guard=("forti", r"system snmp community"),
        need=("name",),
        also=("set",),
    ),
)

_PANOS_TAGS = (
    r"password|phash|secret|key|passwd|pwd|authpwd|privpwd|community|community-string|passphrase|psk|private-key|"
    r"api-key|password-hash"
)
PANOS: tuple[Rule, ...] = (
    _r(
        "panos-xml-secret",
        r"<(?P<tag>(?:[\w-]*-)?(?:" + _PANOS_TAGS + r"))>(?P<v>[^<]+)</(?P=tag)>",
        reject=r"^<[\w-]*public",
        xml=True,
        need=("pass", "phash", "secret", "key", "pwd", "community", "psk"),
    ),
    _r(
        "panos-keyword",
        r"(?<![\w-])(?:phash|password|secret|authpwd|privpwd|auth-password|priv-password|bind-password|passphrase|"
        r"snmp-community-string|community-string)\s+" + NOT_VALUE + r'(?P<v>"[^"]*"|[^\s;"{}]+)(?=\s*(?:;|$))',
        need=("phash", "pass", "secret", "pwd", "community-string"),
    ),
    _r("panos-psk", r'\bpre-shared-key\s+key\s+(?P<v>"[^"]*"|[^\s;"{}]+)', need=("pre-shared-key",)),
    _r(
        "panos-psk-block", r'^\s*key\s+(?P<v>"[^"]*"|[^\s;"{}]+)\s*;', guard=("path", r"pre-shared-key$"), need=("key",)
    ),
)

ROUTEROS: tuple[Rule, ...] = (
    _r(
        "routeros-secret",
        r"(?<![\w-])(?P<k>[\w-]*?(?:password|secret|passphrase|pre-shared-key|psk|private-key|auth-key|"
        r"authentication-key|community|key))=" + r'(?P<v>"(?:[^"\\]|\\.)*"|\S+)',
        reject=r"public",
        need=("pass", "secret", "psk", "key", "community"),
        also=("=",),
    ),
    _r(
        "routeros-snmp-community",
        r'(?<![\w-])name=(?P<v>"(?:[^"\\]|\\.)*"|\S+)',
        guard=("ros", r"^/snmp community"),
        need=("name=",),
    ),
)

VYOS: tuple[Rule, ...] = (
    _r(
        "vyos-secret",
        r"(?<![\w-])(?:password|secret|preshared-key|private-key|private\s+key|pre-shared-secret|shared-secret|"
        r"plaintext-password|encrypted-password|authentication-key|md5-key|auth-key|key|passphrase)\s+"
        + NOT_VALUE
        + _NOT_ID
        + r"""(?P<v>'[^']*'|"[^"]*"|[^\s'"{};]+)(?=\s*(?:;|$))""",
        reject=r"public-keys",
        need=("pass", "secret", "key"),
    ),
    _r(
        "vyos-snmp-community",
        r"(?<![\w-])community\s+(?!(?:add|set|remove|print|export|edit)\b)(?P<v>'[^']*'|\"[^\"]*\"|[^\s'\"{}]+)",
        guard=("pathline", r"\bsnmp\b"),
        need=("community",),
    ),
)

_GENERIC_WORDS = (
    r"password|passwd|passphrase|secret|pre-?shared-?key|pre-?shared-?secret|private-?key|key-string|"
    r"authentication-key|auth-?key|password-hash|passwordhash"
)
GENERIC: tuple[Rule, ...] = (
    _r(
        "crypt-hash",
        r"(?<![\w$])(?P<v>\$(?:1|2[abxy]?|5|6|7|8|9|sha1|sha256|sha512|pbkdf2(?:-sha\d+)?|y|gy|md5|"
        r"argon2(?:id|i|d)?|scrypt)\$[^\s\"';<>,]+)",
        need=("$",),
    ),
    _r("url-credentials", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<v>[^@\s/]+)@", need=("://",), also=("@",)),
    _r(
        "keyword-value",
        r"(?<![\w-])(?:[\w-]*[-_])?(?:" + _GENERIC_WORDS + r")[\"']?(?:\s*[=:]\s*|\s+)"
        r"(?:(?P<t>[0-9]|sha512|sha256|md5)\s+)?" + NOT_VALUE + r"(?![a-z][a-z0-9+.-]*://)" + VAL,
        reject=_PUBLIC,
        need=("pass", "secret", "key"),
    ),
    _r(
        "keyword-assign",
        r"(?<![\w-])(?:[\w-]*[-_])?(?:psk|token|api-?key|apikey|key|pass|pwd|community)[\"']?\s*[=:]\s*" + VAL,
        reject=_PUBLIC,
        need=("psk", "token", "key", "pass", "pwd", "community"),
        also=("=", ":"),
    ),
    _r(
        "snmp-community",
        r"snmp\S*\s.*?(?<![\w-])community(?:-string|-name)?\s+(?!(?:add|set|remove|print|export|edit)\b)" + VAL,
        need=("community",),
        also=("snmp",),
    ),
    _r("license-activation-key", r"Activation Key:\s*(?P<v>\S.*?)\s*$", need=("activation key:",)),
    _r("typed-key", r"(?<![\w-])key\s+(?P<t>[0-7])\s+" + TOK, need=("key",)),
)

PLATFORM_RULES: dict[str, tuple[Rule, ...]] = {
    "cisco_ios": CISCO,
    "cisco_asa": CISCO,
    "cisco_nxos": CISCO,
    "arista_eos": CISCO,
    "juniper_junos": JUNOS,
    "fortinet": FORTINET,
    "paloalto_panos": PANOS,
    "linux": (),
    "mikrotik_routeros": ROUTEROS,
    "vyos": VYOS,
}

# Names only the sanitizer folds together (same secret syntax, different parser); every other alias comes
# from the parser registry's table.
SANITIZE_ALIASES: dict[str, str] = {"cisco_xr": "cisco_ios"}

# Tight value forms first: a later loose rule sees their marker and leaves it alone.
ALL_PLATFORM_RULES: tuple[Rule, ...] = JUNOS + PANOS + VYOS + ROUTEROS + FORTINET + CISCO


def canonical_platform(platform: str | None) -> str | None:
    """The canonical name for platform (netutils names plus common aliases), or None if unknown."""
    if not platform:
        return None
    name = platform.strip().lower()
    name = SANITIZE_ALIASES.get(name) or registry_canonical(name)
    return name if name in PLATFORM_RULES else None


def rules_for(platform: str | None) -> tuple[Rule, ...]:
    """Platform rules then the generic pass; an unknown platform gets every platform's rules (safety first)."""
    canonical = canonical_platform(platform)
    if canonical is None:
        return ALL_PLATFORM_RULES + GENERIC
    return PLATFORM_RULES[canonical] + GENERIC


# A line that contains none of these cannot match any rule: skip it without running the rules.
TRIGGER = re.compile(
    r"pass|secret|key|community|snmp|psk|\$|phash|pwd|token|://|auth|priv|SECRET-DATA|set\s+name|name=",
    _I,
)

# TRIGGER on an ASCII line, without the regex: the same words, searched in the lower-cased line
# (for ASCII text IGNORECASE is exactly lower-casing; "secret-data" is covered by "secret").
TRIGGER_WORDS: tuple[str, ...] = (
    "pass",
    "secret",
    "key",
    "community",
    "snmp",
    "psk",
    "$",
    "phash",
    "pwd",
    "token",
    "://",
    "auth",
    "priv",
    "name=",
)
_SET_NAME = re.compile(r"set\s+name")


def triggered(low: str) -> bool:
    """``TRIGGER.search(line)`` for an ASCII line, given ``low = line.lower()`` (a few ``in`` tests)."""
    for word in TRIGGER_WORDS:
        if word in low:
            return True
    return "name" in low and _SET_NAME.search(low) is not None


def gate_words(rules: tuple[Rule, ...]) -> tuple[str, ...] | None:
    """The fewest lower-case words such that a line holding none of them matches none of ``rules``.

    None when some rule has no ``need`` (then no line can be skipped on words alone). A word that
    contains another word of the set is dropped: finding the shorter one finds its lines too.
    """
    words: set[str] = set()
    for rule in rules:
        if not rule.need:
            return None
        words.update(rule.need)
    return tuple(sorted(w for w in words if not any(o != w and o in w for o in words)))
