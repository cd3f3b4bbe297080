"""Secret redaction: the rule type, its regex building blocks, the generic pass applied to every
platform, and the per-platform tables read from the platform specs (`SecretRules` in each
`cfgwatch/vendors/<platform>/` package).

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
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgwatch.vendors.spec import LineContinuation, PlatformSpec

_I = re.IGNORECASE

# A value: quoted (either quote), or a bare token that stops at ; , and brackets.
# An existing marker is offered first, so a second rule leaves it alone instead of grabbing a nearby token.
MARK = r"(?:<|&lt;)redacted:[a-z]+:[0-9a-f]+(?:>|&gt;)"
VAL = r"""(?P<v>""" + MARK + r"""|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s;,"'<>{}]+)"""
# A token right before an existing marker is a keyword, not the secret (the secret is the marker).
_BEFORE_MARK = r"(?!\S+\s+(?:<|&lt;)redacted:)"
TOK = _BEFORE_MARK + r"(?P<v>\S+)"
QTOK = _BEFORE_MARK + r"""(?P<v>"[^"]*"|[^\s"]+)"""
# A Cisco encryption type: a digit, or IOS-XR's words ("encrypted" is type 7, "clear" is type 0).
TYPE = r"(?:(?P<t>[0-9]|encrypted|clear)\s+)"
# Words that follow "password"/"secret" as settings, not values.
NOT_VALUE = (
    r"(?![\w-]*(?:length|count|changes|format|type|policy|complexity|lifetime|encryption|encrypt|check|history|"
    r"reuse|aging|mode|required|prompt|expiry|expiration|expire|strength|recovery|controls|hash-algorithm)\b)"
    r"(?!(?:none|yes|no|enable|disable|enabled|disabled)\s*$)"
    r"(?!ENC\s)(?!(?:\S+\s+){1,2}(?:<|&lt;)redacted:)"  # FortiOS 'ENC <value>'; a keyword before a marker
    # Words that introduce the value rather than being it: IOS `ip msdp password peer A S`, `mpls ldp
    # password fallback S`, EOS `shared-secret profile P`, Junos MACsec `pre-shared-key ckn N cak S`.
    r"(?!(?:peer|fallback|option|profile|ckn)\s)"
)
# A bare small number after "key" is a key id (Cisco "key chain" entries), not a key.
NOT_ID = r"(?!\d{1,4}\s*(?:;|$))"


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


def secret_rule(
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

_GENERIC_WORDS = (
    r"password|passwd|passphrase|secret|pre-?shared-?key|pre-?shared-?secret|private-?key|key-string|"
    r"authentication-key|auth-?key|password-hash|passwordhash"
)
GENERIC: tuple[Rule, ...] = (
    secret_rule(
        "crypt-hash",
        r"(?<![\w$])(?P<v>\$(?:1|2[abxy]?|5|6|7|8|9|sha1|sha256|sha512|pbkdf2(?:-sha\d+)?|y|gy|md5|"
        r"argon2(?:id|i|d)?|scrypt)\$[^\s\"';<>,]+)",
        need=("$",),
    ),
    secret_rule("url-credentials", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<v>[^@\s/]+)@", need=("://",), also=("@",)),
    secret_rule(
        "keyword-value",
        r"(?<![<\w-])(?:[\w-]*[-_])?(?:" + _GENERIC_WORDS + r")[\"']?(?:\s*[=:]\s*|\s+)"
        r"(?!\d+\s+(?:md5|sha\S*|hmac\S*)\s)"  # `authentication-key 1 md5 S`: a key id, then the algorithm
        r"(?:(?P<t>[0-9]|sha512|sha256|md5)\s+)?" + NOT_VALUE + r"(?![a-z][a-z0-9+.-]*://)" + VAL,
        reject=_PUBLIC,
        need=("pass", "secret", "key"),
    ),
    secret_rule(
        "keyword-assign",
        r"(?<![\w-])(?:[\w-]*[-_])?(?:psk|token|api-?key|apikey|key|pass|pwd|community)[\"']?\s*[=:]\s*" + VAL,
        reject=_PUBLIC,
        need=("psk", "token", "key", "pass", "pwd", "community"),
        also=("=", ":"),
    ),
    secret_rule(
        "snmp-community",
        r"snmp\S*\s.*?(?<![\w-])community(?:-string|-name)?\s+(?!(?:add|set|remove|print|export|edit)\b)" + VAL,
        need=("community",),
        also=("snmp",),
    ),
    secret_rule("license-activation-key", r"Activation Key:\s*(?P<v>\S.*?)\s*$", need=("activation key:",)),
    secret_rule("typed-key", r"(?<![\w-])key\s+(?P<t>[0-7])\s+" + TOK, need=("key",)),
)


@dataclass(frozen=True, slots=True)
class SecretTables:
    """The registered platforms' secret rules, read from their specs."""

    by_platform: dict[str, tuple[Rule, ...]]  # platform -> its own rules (() for generic-only platforms)
    aliases: dict[str, str]  # names folded onto a platform for its secret syntax only (SecretRules.also_for)
    everything: tuple[Rule, ...]  # what an unknown platform gets (before GENERIC): see SecretRules.order
    generic: tuple[Rule, ...]  # the pass every platform gets last: catalog.GENERIC_EXTRA then GENERIC
    continuations: dict[str, LineContinuation]  # platform -> the line continuation joined before redacting


def tables() -> SecretTables:
    """The tables for the registered platforms (built once per set of specs)."""
    from cfgwatch.vendors.registry import all_specs

    return _tables(all_specs())


@cache
def _tables(specs: tuple[PlatformSpec, ...]) -> SecretTables:
    from cfgwatch.sanitize import catalog
    from cfgwatch.vendors.spec import LineContinuation, SecretRules

    by_platform: dict[str, tuple[Rule, ...]] = {}
    aliases: dict[str, str] = {}
    ranked: list[tuple[int, str, tuple[Rule, ...]]] = []
    continuations: dict[str, LineContinuation] = {}
    for spec in specs:
        extra = catalog.BY_PLATFORM.get(spec.name, ())  # the catalog's tight forms run first
        if isinstance(spec.secrets, SecretRules):
            by_platform[spec.name] = extra + spec.secrets.rules
            aliases.update(dict.fromkeys(spec.secrets.also_for, spec.name))
            ranked.append((spec.secrets.order, spec.name, by_platform[spec.name]))
        else:
            by_platform[spec.name] = extra
        if isinstance(spec.continuation, LineContinuation):
            continuations[spec.name] = spec.continuation
    ranked.sort(key=lambda item: (item[0], item[1]))
    # Platforms sharing one tuple of rules (the Cisco family) contribute it once, at its first place.
    everything = tuple(dict.fromkeys(rule for _, _, rules in ranked for rule in rules))
    return SecretTables(by_platform, aliases, everything, catalog.GENERIC_EXTRA + GENERIC, continuations)


def canonical_platform(platform: str | None) -> str | None:
    """The canonical name for platform (netutils names plus common aliases), or None if unknown."""
    if not platform:
        return None
    from cfgwatch.vendors.registry import canonical_platform as registry_canonical

    name = platform.strip().lower()
    found = tables()
    name = found.aliases.get(name) or registry_canonical(name)
    return name if name in found.by_platform else None


def rules_for(platform: str | None) -> tuple[Rule, ...]:
    """Platform rules then the generic pass; an unknown platform gets every platform's rules (safety first)."""
    canonical = canonical_platform(platform)
    found = tables()
    if canonical is None:
        return found.everything + found.generic
    return found.by_platform[canonical] + found.generic


def continuations(canonical: str | None) -> tuple[LineContinuation, ...]:
    """Line continuations to join: the platform's own, or every platform's for an unknown platform."""
    found = tables().continuations
    if canonical is None:
        return tuple(found.values())
    own = found.get(canonical)
    return () if own is None else (own,)


# A line that contains none of these cannot match any rule: skip it without running the rules.
TRIGGER = re.compile(
    r"pass|secret|key|community|snmp|psk|\$|phash|pwd|token|://|auth|priv|SECRET-DATA|set\s+name|name=|"
    r"-pw|cak|trap-group|value|bearer|spi|telegram|slack|discord|office",
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
    "-pw",  # ASA radius-common-pw
    "cak",  # MACsec connectivity association key (Junos, VyOS, RouterOS)
    "trap-group",  # Junos: the trap group name is the v1/v2c community
    "value",  # FortiOS http-headers, PAN-OS HTTP server profile headers
    "bearer",
    "spi",  # OSPFv3 IPsec keys
    "telegram",  # webhook URLs with the token in the path
    "slack",
    "discord",
    "office",
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
