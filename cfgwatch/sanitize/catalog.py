"""Secret syntaxes from the vendors' command references that the platform specs' own rules miss.

Walked for key, password, secret, community, pre-share, psk, token, passcode and auth-key. Each
platform's entries here run *before* its spec rules (tight forms first: a later loose rule then sees
the marker instead of picking a keyword as the value). ``BY_PLATFORM`` is merged into the tables in
:func:`cfgwatch.sanitize.rules.tables`, so ``sanitize`` and ``audit-secrets`` read one set of rules.
``BLOCKS`` are whole-text rules for values that span lines (XML text and CDATA).
"""

from __future__ import annotations

import re

from cfgwatch.sanitize.rules import MARK, NOT_ID, NOT_VALUE, QTOK, TOK, TYPE, Rule, secret_rule

_XVAL = r"""(?P<v>'[^']*'|"[^"]*"|[^\s'"{};]+)(?=\s*(?:;|$))"""  # a brace-config value closing its statement

# Cisco IOS / IOS-XE / IOS-XR, ASA, NX-OS and EOS share one syntax family.
CISCO: tuple[Rule, ...] = (
    # IOS-XR: `ntp` / ` authentication-key 1 md5 encrypted S` (no `ntp` on the key's own line).
    secret_rule(
        "cisco-ntp-block-key",
        r"^\s+authentication-key\s+\d+\s+md5\s+" + TYPE + "?" + TOK,
        guard=("top", r"^ntp\b"),
        need=("authentication-key",),
    ),
    # IOS-XR `router hsrp` / `router vrrp` blocks: ` authentication S`, ` text-authentication S`.
    secret_rule(
        "cisco-xr-fhrp-auth",
        r"^\s+(?:text-)?authentication\s+(?!(?:md5|text|key-chain|mode|ipsec|message-digest|null|sha\S*|hmac\S*)\b)"
        + TOK,
        guard=("top", r"^router\s+(?:hsrp|vrrp)\b"),
        need=("authentication",),
    ),
    secret_rule(
        "cisco-ikev2-auth-psk",
        r"\bauthentication\s+(?:local|remote)\s+pre-share\s+key\s+" + TYPE + "?" + TOK,
        need=("pre-share",),
    ),
    secret_rule("cisco-server-key", r"(?<![\w-])server-key\s+" + TYPE + "?" + QTOK, need=("server-key",)),
    secret_rule("cisco-radius-pac-key", r"^\s*pac\s+key\s+" + TYPE + "?" + QTOK, need=("key",), also=("pac",)),
    secret_rule(
        "cisco-hsrp-plain",
        r"\b(?:standby|glbp|vrrp)\s+(?:\d+\s+)?(?:peer\s+)?authentication\s+(?!(?:md5|text|ietf-md5|key-chain)\b)"
        + TOK,
        need=("authentication",),
        also=("standby", "glbp", "vrrp"),
    ),
    secret_rule(
        "cisco-msdp-password",
        r"\bmsdp\s+(?:vrf\s+\S+\s+)?password\s+peer\s+\S+\s+" + TYPE + "?" + TOK,
        need=("msdp",),
    ),
    secret_rule(
        "cisco-ldp-password",
        r"\bldp\s+(?:vrf\s+\S+\s+)?password\s+(?:fallback|option\s+\d+\s+for\s+\S+)\s+" + TYPE + "?" + TOK,
        need=("ldp",),
    ),
    secret_rule("cisco-snmp-community-map", r"\bsnmp\s+mib\s+community-map\s+" + TOK, need=("community-map",)),
    secret_rule(
        "cisco-ipsec-manual-key",
        r"\bsession-key\s+(?:in|out)bound\s+(?:esp|ah)\s+\d+\s+(?:cipher\s+)?(?P<v>[0-9a-f]{8,})",
        need=("session-key",),
    ),
    secret_rule("cisco-ipsec-manual-auth", r"(?<![\w-])authenticator\s+(?P<v>[0-9a-f]{8,})", need=("authenticator",)),
    secret_rule(
        "cisco-ospf-ipsec-encryption",
        r"\bipsec\s+spi\s+\d+\s+esp\s+(?!null\b)(?:3des|des|aes-cbc)\s+(?:(?:128|192|256)\s+)?" + TYPE + "?" + TOK,
        need=("spi",),
    ),
    secret_rule(
        "cisco-ospf-ipsec-auth",
        r"\bipsec\s+spi\s+\d+\s+(?:esp\s+\S+\s+(?:\d+\s+)?(?:[0-9]\s+)?(?:[0-9a-f]{8,}|"
        + MARK
        + r")\s+|esp\s+null\s+)?(?:md5|sha1)\s+"
        + TYPE
        + "?"
        + TOK,
        need=("spi",),
    ),
    secret_rule("asa-radius-common-pw", r"\bradius-common-pw\s+" + TOK, need=("radius-common-pw",)),
    secret_rule(
        "asa-routing-auth-key",
        r"\b(?:authentication\s+key\s+eigrp\s+\d+|rip\s+authentication\s+key)\s+" + TYPE + "?" + TOK,
        need=("authentication",),
        also=("eigrp", "rip"),
    ),
    secret_rule(
        "cisco-nxos-pim-hello-auth",
        r"\bhello-authentication\s+ah-md5\s+" + TYPE + "?" + TOK,
        need=("hello-authentication",),
    ),
    secret_rule(
        "cisco-nxos-bfd-auth-key",
        r"\bbfd\s+authentication\s+\S+\s+key-?id\s+\d+\s+key\s+" + TOK,
        need=("bfd",),
        also=("key",),
    ),
    secret_rule("cisco-nxos-key-octet-string", r"\bkey-octet-string\s+" + TYPE + "?" + TOK, need=("key-octet-string",)),
    secret_rule("cisco-eos-cvauth-key", r"-cvauth[= ]key,(?P<v>[^\s,]+)", need=("-cvauth",)),
    secret_rule(
        "cisco-eos-macsec-cak",
        r"^\s*key\s+[0-9a-f]+\s+(?P<t>[0-9])\s+" + TOK,
        guard=("top", r"^mac\s+security\b"),
        need=("key",),
    ),
    secret_rule("cisco-eos-ssl-key", r"(?<![\w-])ssl\s+key\s+" + TYPE + "?" + TOK, need=("ssl",), also=("key",)),
    secret_rule(
        "cisco-eos-shared-secret",
        r"^\s*secret\s+\d+\s+(?P<t>[0-9])\s+" + TOK,
        guard=("top", r"^management\s+security\b"),
        need=("secret",),
    ),
)

JUNOS: tuple[Rule, ...] = (
    secret_rule("junos-trap-group-set", r"^\s*set\s+snmp\s+trap-group\s+" + QTOK, need=("trap-group",)),
    secret_rule(
        "junos-trap-group", r"^\s*trap-group\s+" + QTOK + r"\s*[{;]", guard=("path", r"^snmp\b"), need=("trap-group",)
    ),
    secret_rule("junos-macsec-cak", r"(?<![\w-])cak\s+" + QTOK, need=("cak",)),
)

FORTIOS: tuple[Rule, ...] = (
    secret_rule("fortios-auth-string", r"^\s*set\s+(?P<k>auth-string)\s+(?P<v>.+?)\s*$", need=("auth-string",)),
    secret_rule(
        "fortios-header-value",
        r"^\s*set\s+(?P<k>value)\s+(?P<v>.+?)\s*$",
        guard=("forti", r"\bhttp-headers\b"),
        need=("value",),
    ),
)

PANOS: tuple[Rule, ...] = (
    secret_rule(
        "panos-xml-attr-secret",
        r"<(?P<tag>(?:[\w-]*-)?(?:password|phash|secret|key|passwd|pwd|passcode|passphrase|psk|community))"
        r"(?:\s[^<>]*?)?>(?:<!\[CDATA\[)?(?P<v>[^<\]]+)(?:\]\]>)?</(?P=tag)>",
        reject=r"^<[\w-]*public",
        xml=True,
        need=("pass", "phash", "secret", "key", "pwd", "community", "psk"),
    ),
    secret_rule(
        "panos-set-key",
        r"^\s*set\s.*?(?<![\w-])(?:passcode|(?!public-)[\w-]+-key|key)\s+"
        + NOT_VALUE
        + NOT_ID
        + r'(?P<v>"[^"]*"|[^\s;"{}]+)\s*$',
        reject=r"public",
        need=("passcode", "key"),
        also=("set",),
    ),
    secret_rule(
        "panos-brace-key",
        r"^\s*(?:passcode|[\w-]+-key|key)\s+" + NOT_VALUE + NOT_ID + r'(?P<v>"[^"]*"|[^\s;"{}]+)\s*;',
        guard=("path", r"\b(?:manual-key|agent-ui)\b"),
        reject=r"public",
        need=("passcode", "key"),
    ),
    secret_rule(
        "panos-header-value",
        r'<entry\s+name="(?:[\w-]*(?:authorization|token|key|secret|password))"\s*>\s*<value>(?P<v>[^<]+)</value>',
        xml=True,
        need=("<value>",),
    ),
    secret_rule(
        "panos-header-value-set",
        r"\bheaders\s+(?:[\w-]*(?:authorization|token|key|secret|password))\s+value\s+"
        r'(?P<v>"[^"]*"|[^\s;"{}]+)',
        need=("headers",),
        also=("value",),
    ),
)

VYOS: tuple[Rule, ...] = (
    secret_rule(
        "vyos-token-cak",
        r"(?<![\w-])(?:token|cak|client-secret)\s+" + NOT_VALUE + _XVAL,
        need=("token", "cak", "client-secret"),
    ),
)

ROUTEROS: tuple[Rule, ...] = (
    secret_rule("routeros-macsec-cak", r'(?<![\w-])cak=(?P<v>"(?:[^"\\]|\\.)*"|\S+)', need=("cak=",)),
)

# Platform -> its extra rules (the Cisco family, IOS-XR included, shares CISCO: the rules run once).
BY_PLATFORM: dict[str, tuple[Rule, ...]] = {
    **dict.fromkeys(("cisco_ios", "cisco_asa", "cisco_nxos", "arista_eos", "cisco_xr"), CISCO),
    "juniper_junos": JUNOS,
    "fortinet": FORTIOS,
    "paloalto_panos": PANOS,
    "vyos": VYOS,
    "mikrotik_routeros": ROUTEROS,
}

# Values anywhere, any platform: web tokens in URLs and headers, JSON secrets in webhook bodies.
GENERIC_EXTRA: tuple[Rule, ...] = (
    secret_rule("telegram-bot-token", r"api\.telegram\.org/bot(?P<v>[^/\s\"'\\<>?&]+)", need=("telegram",)),
    secret_rule(
        "webhook-url-token",
        r"(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/|"
        r"webhook\.office\.com/webhookb2/|outlook\.office\.com/webhook/)(?P<v>[^\s\"'\\<>?&]+)",
        need=("slack", "discord", "office"),
    ),
    secret_rule(
        "http-authorization",
        r"(?<![\w-])(?:proxy-)?authorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?:(?:bearer|basic|token|digest|sso-key|apikey)\s+)?"
        r"(?!(?:bearer|basic|token|digest|sso-key|apikey)\s)(?P<v>[^\s\"'\\,;<>]+)",
        need=("authorization",),
    ),
    secret_rule("bearer-token", r"(?<![\w-])bearer\s+(?P<v>[A-Za-z0-9._~+/=-]{8,})", need=("bearer",)),
    secret_rule(
        "json-secret",
        r"(?<![\w-])(?:[\w-]*[-_])?(?:token|api-?key|apikey|secret|password|passwd|passcode)\\?[\"']\s*:\s*\\?[\"']"
        r"(?P<v>[^\"'\\]+)",
        need=("token", "key", "secret", "pass"),
    ),
)

# XML values that span lines or sit in CDATA: found in the whole text, before the line pass.
_BLOCK_TAGS = r"(?:[\w-]*-)?(?:password|phash|secret|key|passwd|pwd|passcode|passphrase|psk|community(?:-string)?)"
BLOCK = re.compile(
    r"<(?P<tag>"
    + _BLOCK_TAGS
    + r")(?P<attrs>\s[^<>]*)?>(?P<v>\s*<!\[CDATA\[.{0,8192}?\]\]>\s*|(?=[^<]*\n)[^<]*+)</(?P=tag)>",
    re.IGNORECASE | re.DOTALL,
)
