"""What the Cisco-family platforms (IOS, ASA, NX-OS, EOS) share outside their parsers.

One secret syntax (`SECRET_RULES`, run once for all four), IOS's config-change syslog messages (EOS
sends the same `%SYS-5-CONFIG_I`), and the `end` line that closes a whole IOS/EOS config.
"""

from __future__ import annotations

import re

from cfgwatch.collect.validate import last_line_is
from cfgwatch.policy.attribution import SyslogPattern, SyslogPatterns, event_from_groups
from cfgwatch.sanitize.rules import NOT_VALUE, QTOK, TOK, TYPE, Rule, secret_rule
from cfgwatch.vendors.spec import SecretRules

SECRET_RULES: tuple[Rule, ...] = (
    secret_rule(
        "cisco-ntp-key",
        r"\bntp\s+authentication-key\s+\d+\s+\S+\s+" + TYPE + "?" + TOK,
        need=("authentication-key",),
        also=("ntp",),
    ),
    secret_rule(
        "cisco-password",
        r"(?<![\w-])(?:password|secret)\s+" + NOT_VALUE + r"(?:(?:level|privilege)\s+\d+\s+)?"
        # IOS XR: `secret 10 <sha512crypt>`, `password encrypted <type 7>` (BGP neighbours, LDP, MSDP ...)
        r"(?:(?P<t>1[0-9]|[0-9]|sha512|sha256|md5|pbkdf2|scrypt|encrypted|clear)\s+)?" + QTOK,
        need=("password", "secret"),
    ),
    secret_rule("cisco-typed-key", r"(?<![\w-])key\s+(?P<t>[0-9])\s+" + QTOK, need=("key",)),
    secret_rule("cisco-key-string", r"(?<![\w-])key-string\s+" + TYPE + "?" + TOK, need=("key-string",)),
    secret_rule(
        "cisco-aaa-key",
        r"^\s*(?:tacacs-server|radius-server|tacacs|radius|server-private|aaa-server|ip\s+(?:tacacs|radius))\b"
        r"[^\n]*?(?<![\w-])key\s+" + TYPE + "?" + QTOK,
        need=("key",),
        also=("tacacs", "radius", "server-private", "aaa-server"),
    ),
    secret_rule(
        "cisco-aaa-block-key",
        r"^\s+key\s+" + TYPE + "?" + QTOK,
        guard=("top", r"^(?:tacacs|radius|aaa-server|aaa\s+group|crypto\s+(?:keyring|isakmp|ikev2))"),
        need=("key",),
    ),
    secret_rule("cisco-isakmp-key", r"\bisakmp\s+key\s+" + TYPE + "?" + TOK, need=("key",), also=("isakmp",)),
    secret_rule(
        "cisco-psk",
        r"\bpre-shared-key\s+(?:(?:address|hostname)\s+\S+(?:\s+\S+)?\s+key\s+|(?:local|remote)\s+)?"
        + TYPE
        + "?"
        + TOK,
        need=("pre-shared-key",),
    ),
    secret_rule(
        "cisco-ospf-md5",
        r"\bmessage-digest-key\s+\d+\s+md5\s+(?:(?:encrypted|clear)\s+)?" + TYPE + "?" + TOK,  # XR: md5 encrypted K
        need=("message-digest-key",),
    ),
    secret_rule(
        "cisco-auth-key",
        r"(?<!ntp )(?<![\w-])authentication-key\s+(?!\d+\s+md5\s)" + TYPE + "?" + TOK,
        need=("authentication-key",),
    ),
    secret_rule(
        "cisco-snmp-community",
        r"\bsnmp-server\s+community\s+" + TYPE + "?" + TOK,
        need=("community",),
        also=("snmp-server",),
    ),
    secret_rule(
        "cisco-snmp-host",
        r"\bsnmp-server\s+host\s+\S+\s+(?:\S+\s+)*?(?:community\s+|version\s+(?:1|2c)\s+)(?P<v>[^\s]+)",
        need=("snmp-server",),
        also=("host",),
    ),
    secret_rule(
        "cisco-snmp-host-v1",
        r"\bsnmp-server\s+host\s+[\d.:a-f]+\s+(?:(?:traps|informs|vrf\s+\S+)\s+)*"
        r"(?!version\b|community\b|traps\b|informs\b|vrf\b|\d+\.\d+\.\d+\.\d+\b)(?P<v>[^\s]+)",
        need=("snmp-server",),
        also=("host",),
    ),
    secret_rule(
        "cisco-snmp-auth",
        r"\bsnmp-server\s+user\b.*?\bauth\s+(?:md5|sha\S*)\s+(?P<v>\S+)",
        need=("snmp-server",),
        also=("auth",),
    ),
    secret_rule(
        "cisco-snmp-priv",
        r"\bsnmp-server\s+user\b.*?\bpriv\s+(?:(?:des56|3des|des|aes(?:-?\d+)?(?:\s+\d+)?)\s+)?(?P<v>\S+)",
        need=("snmp-server",),
        also=("priv",),
    ),
    secret_rule(
        "cisco-isis-password",
        r"\b(?:area|domain|hello|lsp|isis)-password\s+(?:(?:hmac-md5|text)\s+)?(?:(?:encrypted|clear)\s+)?" + TOK,
        need=("-password",),
    ),
    secret_rule(
        "cisco-fhrp-text", r"\bauthentication\s+text\s+" + TYPE + "?" + TOK, need=("authentication",), also=("text",)
    ),
    secret_rule(
        "cisco-eigrp-hmac",
        r"\bauthentication\s+mode\s+hmac-sha-256\s+" + TYPE + "?" + TOK,
        need=("authentication",),
        also=("hmac-sha-256",),
    ),
    secret_rule("cisco-config-key", r"\bpassword-encrypt\s+" + TOK, need=("password-encrypt",)),
    secret_rule("cisco-wpa-psk", r"\bwpa-psk\s+(?:ascii|hex)\s+" + TYPE + "?" + TOK, need=("wpa-psk",)),
    secret_rule("cisco-nhrp", r"\bnhrp\s+authentication\s+" + TOK, need=("authentication",), also=("nhrp",)),
    secret_rule("asa-failover-key", r"^\s*failover\s+key\s+(?:hex\s+)?" + TOK, need=("key",), also=("failover",)),
    secret_rule("asa-ldap-password", r"\bldap-login-password\s+" + TOK, need=("ldap-login-password",)),
)

# Where the Cisco family's rules sit among every platform's (tightest value forms first): last.
SECRETS_ORDER = 60


def secrets(*, also_for: tuple[str, ...] = ()) -> SecretRules:
    """The family's secret rules as one platform's spec part (`also_for`: see SecretRules)."""
    return SecretRules(rules=SECRET_RULES, order=SECRETS_ORDER, also_for=also_for)


IOS_SYSLOG = SyslogPatterns(
    patterns=(
        SyslogPattern(
            "ios-config",
            re.compile(
                r"%SYS-5-CONFIG_I: Configured from (?P<origin>\S+(?: \S+)?) by (?P<user>[^\s(]+)"
                r"(?: on \S+)?(?: \((?P<addr>[^)]+)\))?"
            ),
            event_from_groups,
        ),
        SyslogPattern(
            "ios-archive",
            re.compile(r"%PARSER-5-CFGLOG_LOGGEDCMD: User:(?P<user>\S+)\s+logged command:(?P<cmd>.*)"),
            event_from_groups,
        ),
    ),
    order=10,
    markers=("CONFIG_I",),
    exports=(),
)

ends_with_end = last_line_is(("end",), "'end'")
