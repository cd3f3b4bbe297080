"""Redaction markers: ``<redacted:hmac:0123456789ab>`` (keyed fingerprint of the secret's meaning)
and ``<redacted:ctx:0123456789ab>`` (keyed fingerprint of *where* the secret sits, used for values the
device re-encrypts on every read, e.g. FortiOS ``ENC``: such a marker stays constant, so
re-encryption makes no diff, at the price that a rotation of that secret is not visible either).
"""

from __future__ import annotations

import hashlib
import hmac
import re

FINGERPRINT_HEX = 12

MARKER_RE = re.compile(rf"(?:<|&lt;)redacted:(?:hmac|ctx|oversize):[0-9a-f]{{{FINGERPRINT_HEX}}}(?:>|&gt;)")


_PUNCT = re.compile(r"[\"';,{}()\[\]\s]*")


def fingerprint(key: bytes, domain: str, value: str) -> str:
    """HMAC-SHA256 over (domain, value), truncated: equal inputs give equal prints, nothing is recoverable."""
    mac = hmac.new(key, domain.encode("utf-8") + b"\x00" + value.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return mac.hexdigest()[:FINGERPRINT_HEX]


class Fingerprinter:
    """``fingerprint(key, domain, value)`` for one key and domain, without rebuilding the HMAC each time.

    The keyed state after ``domain + NUL`` is built once and copied per value (a sanitize call prints
    thousands of values with the same key); the result is the same HMAC-SHA256, truncated.
    """

    __slots__ = ("_base",)

    def __init__(self, key: bytes, domain: str) -> None:
        self._base = hmac.new(key, domain.encode("utf-8") + b"\x00", hashlib.sha256)

    def __call__(self, value: str) -> str:
        mac = self._base.copy()
        mac.update(value.encode("utf-8", "surrogatepass"))
        return mac.hexdigest()[:FINGERPRINT_HEX]


def marker_may_contain(word: str, kinds: tuple[str, ...] = ("hmac", "ctx")) -> bool:
    """True when some marker of these kinds (either form, any fingerprint) contains ``word``."""
    hexdigits = set("0123456789abcdef")
    for kind in kinds:
        for xml in (False, True):
            template = marker(kind, "\x00" * FINGERPRINT_HEX, xml=xml)  # NUL: any hex digit
            for at in range(len(template) - len(word) + 1):
                if all(t == c or (t == "\x00" and c in hexdigits) for t, c in zip(template[at:], word, strict=False)):
                    return True
    return False


def marker(kind: str, print_: str, *, xml: bool = False) -> str:
    """The marker text; ``xml`` escapes the angle brackets so XML configs stay well-formed."""
    if xml:
        return f"&lt;redacted:{kind}:{print_}&gt;"
    return f"<redacted:{kind}:{print_}>"


def is_marker(value: str) -> bool:
    """True when value (optionally quoted) is already a marker: sanitizing twice changes nothing."""
    if value[:4].upper() == "ENC ":  # FortiOS keeps its 'ENC' tag in front of the marker
        value = value[4:]
    rest = MARKER_RE.sub("", value)
    return rest != value and _PUNCT.fullmatch(rest) is not None
