"""One pass over a config: decode, normalise volatile lines, redact secrets, keep change metadata.

Speed: every regex is compiled once at import; a line is only offered to the secret rules when a
single trigger regex finds a keyword in it, and to the volatile rules when its first character or a
few substrings can start one. A 50k-line config is one Python loop over its lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cfgwatch.sanitize import rules as R
from cfgwatch.sanitize import volatile as V
from cfgwatch.sanitize.marker import fingerprint, is_marker, marker
from cfgwatch.sanitize.metadata import ChangeMetadata

MAX_LINE = 1 << 20  # characters; a longer line is replaced by a fingerprint marker as a whole
_DOMAIN = "secret"  # one domain for every rule: the same secret gives the same print wherever it sits

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_TYPE7 = re.compile(r"\d\d(?:[0-9A-Fa-f]{2})+")
_ROS_CONTINUATION = re.compile(r"\\\r?\n\s*")


@dataclass(frozen=True, slots=True)
class Sanitized:
    """Sanitized text plus what happened on the way (for the run journal and the operator)."""

    text: str  # secrets replaced by stable keyed-fingerprint markers, volatile lines normalised
    metadata: ChangeMetadata | None
    redactions: int
    notes: tuple[str, ...]  # e.g. "non-UTF-8 bytes replaced", "platform unknown: generic pass only"


@dataclass(slots=True)
class _Ctx:
    """Block-context trackers the rule guards look at (cheap string bookkeeping per line)."""

    top: str = ""
    stack: list[str] = field(default_factory=list)
    forti: list[str] = field(default_factory=list)
    ros: str = ""
    line: str = ""

    def update(self, line: str) -> None:
        self.line = line
        stripped = line.strip()
        if not stripped:
            return
        if not line[0].isspace() and stripped[0] not in "!#":
            self.top = stripped
        if stripped.endswith("{"):
            self.stack.append(stripped[:-1].strip())
        elif stripped.startswith("}") and self.stack:
            self.stack.pop()
        if stripped.startswith("config "):
            self.forti.append(stripped[7:])
        elif stripped.startswith("edit "):
            self.forti.append(stripped[5:])
        elif stripped in ("next", "end") and self.forti:
            self.forti.pop()
        if stripped.startswith("/"):
            self.ros = stripped

    def get(self, tracker: str) -> str:
        if tracker == "top":
            return self.top
        if tracker == "path":
            return " ".join(self.stack)
        if tracker == "forti":
            return " ".join(self.forti)
        if tracker == "ros":
            return self.ros
        return " ".join(self.stack) + " " + self.line  # "pathline"


def _decode(raw: str | bytes, notes: list[str]) -> str:
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            notes.append(f"non-UTF-8 bytes replaced by U+FFFD ({text.count(chr(0xFFFD))} characters)")
    else:
        text = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _has_surrogates(raw) else raw
    controls = len(_CONTROL.findall(text))
    if controls:
        if text.count("\x00") * 20 > max(len(text), 1):
            notes.append("input looks binary (many NUL bytes): sanitized as text with the generic pass")
        text = _CONTROL.sub("", text)
        notes.append(f"{controls} control characters removed")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _meaning(rule: R.Rule, m: re.Match[str], inner: str, ctx: _Ctx) -> tuple[str, str]:
    """(marker kind, fingerprint material): what a secret *means*, so only real changes change it."""
    if rule.name.startswith("fortios") and inner[:4].upper() == "ENC " and not inner[4:].startswith(("SH2", "AK1")):
        # FortiOS re-encrypts ENC values with a fresh IV on every read: the ciphertext says nothing
        # stable, so fingerprint where the secret sits. Trade-off: a rotation is not visible here.
        key_name = m.groupdict().get("k") or rule.name
        return "ctx", f"fortios\x00{ctx.get('forti')}\x00{key_name}"
    kind_t = m.groupdict().get("t")
    if kind_t == "7" and _TYPE7.fullmatch(inner):
        decoded = _try_type7(inner)
        if decoded is not None:
            return "hmac", "plain\x00" + decoded
    if inner.startswith("$9$") and not inner.startswith("$9$$"):
        decoded = _try_junos9(inner)
        if decoded is not None:
            return "hmac", "plain\x00" + decoded
    if kind_t in (None, "0") and not inner.startswith("$"):
        return "hmac", "plain\x00" + inner
    return "hmac", "form\x00" + inner  # salted hash / opaque ciphertext: stable as stored


def _try_type7(value: str) -> str | None:
    from netutils.password import decrypt_cisco_type7

    try:
        decoded = decrypt_cisco_type7(value)
    except (ValueError, IndexError):
        return None
    return decoded if decoded.isprintable() else None


def _try_junos9(value: str) -> str | None:
    from netutils.password import decrypt_juniper_type9

    try:
        decoded = decrypt_juniper_type9(value)
    except (ValueError, IndexError, KeyError):
        return None
    return decoded if decoded and decoded.isprintable() else None


class _Redactor:
    """Applies one platform's rules to lines, counting redactions."""

    def __init__(self, rules: tuple[R.Rule, ...], key: bytes) -> None:
        self.rules = rules
        self.key = key
        self.count = 0
        self.hits: list[str] = []  # rule names, in order (the audit reports them)

    def line(self, line: str, ctx: _Ctx) -> str:
        for rule in self.rules:
            if rule.guard is not None and not rule.guard[1].search(ctx.get(rule.guard[0])):
                continue
            if rule.pattern.search(line) is None:
                continue
            line = rule.pattern.sub(lambda m, rule=rule: self._replace(rule, m, ctx), line)  # type: ignore[misc]
        return line

    def _replace(self, rule: R.Rule, m: re.Match[str], ctx: _Ctx) -> str:
        value = m.group("v")
        whole = m.group(0)
        if not value or is_marker(value):
            return whole
        start, end = m.span("v")
        if rule.reject is not None and rule.reject.search(m.string[m.start() : start]):
            return whole
        quote = value[0] if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0] else ""
        inner = value[1:-1] if quote else value
        if not inner.strip():
            return whole  # an empty password is not a secret to hide
        prefix = ""
        if inner[:4].upper() == "ENC " and rule.name.startswith("fortios"):
            prefix = inner[:4]
        kind, material = _meaning(rule, m, inner, ctx)
        mark = marker(kind, fingerprint(self.key, _DOMAIN, material), xml=rule.xml)
        self.count += 1
        self.hits.append(rule.name)
        return m.string[m.start() : start] + quote + prefix + mark + quote + m.string[end : m.end()]

    def pem(self, body: str, xml: bool) -> str:
        self.count += 1
        self.hits.append("pem-private-key")
        return marker("hmac", fingerprint(self.key, _DOMAIN, "pem\x00" + body), xml=xml)


def _volatile(line: str, found: list[tuple[int, ChangeMetadata]]) -> str | None:
    """The line with volatile parts normalised, or None when the whole line is volatile."""
    if V.HINT.search(line) is None:
        return line
    for rule in V.RULES:
        m = rule.pattern.search(line)
        if m is None:
            continue
        if rule.meta is not None:
            found.append((rule.rank, rule.meta(m, line)))
        if rule.replace is None:
            return None
        line = rule.pattern.sub(rule.replace, line)
    return line


def sanitize(raw: str | bytes, platform: str | None, key: bytes) -> Sanitized:
    """Redact secrets with keyed-fingerprint markers and normalise volatile lines; never raises on content.

    The same device config read twice gives the same text unless something meaningful changed:
    a rotated secret changes its marker, a re-encrypted or re-read one does not.
    """
    if not key:
        raise ValueError("sanitize needs a non-empty HMAC key (see load_or_create_key)")
    notes: list[str] = []
    text = _decode(raw, notes)
    canonical = R.canonical_platform(platform)
    if canonical is None:
        if platform:
            notes.append(f"platform unknown ({platform!r}): every platform's rules and the generic pass applied")
        else:
            notes.append("no platform given: every platform's rules and the generic pass applied")
    if canonical == "mikrotik_routeros" or (canonical is None and "\\\n" in text):
        joined = _ROS_CONTINUATION.sub("", text)
        if joined != text:
            notes.append("RouterOS line continuations joined")
            text = joined

    redactor = _Redactor(R.rules_for(canonical), key)
    ctx = _Ctx()
    out: list[str] = []
    found: list[tuple[int, ChangeMetadata]] = []
    pem_at: int | None = None  # index in out of the line waiting for a private key's marker
    pem_body: list[str] = []
    pem_xml = False
    trigger = R.TRIGGER.search

    for number, line in enumerate(text.split("\n"), start=1):
        if pem_at is not None:
            end = _PEM_END.search(line)
            if end is None:
                pem_body.append(line.strip())
                continue
            pem_body.append(line[: end.start()].strip())
            out[pem_at] += redactor.pem("".join(pem_body), pem_xml) + line[end.end() :].rstrip()
            pem_at = None
            pem_body = []
            continue
        if len(line) > MAX_LINE:
            notes.append(f"line {number}: {len(line)} characters (over {MAX_LINE}) replaced by a fingerprint marker")
            redactor.count += 1
            out.append(marker("oversize", fingerprint(key, "oversize", line)))
            continue
        kept = _volatile(line, found)
        if kept is None:
            continue
        line = kept
        begin = _PEM_BEGIN.search(line)
        if begin is not None:
            end = _PEM_END.search(line, begin.end())
            prefix = line[: begin.start()]
            xml = prefix.rstrip().endswith(">")
            if end is not None:
                line = prefix + redactor.pem(line[begin.end() : end.start()], xml) + line[end.end() :]
            else:
                ctx.update(prefix)
                out.append(prefix)
                pem_at, pem_body, pem_xml = len(out) - 1, [line[begin.end() :].strip()], xml
                continue
        ctx.update(line)
        if trigger(line):
            line = redactor.line(line, ctx)
        out.append(line.rstrip())
    if pem_at is not None:
        out[pem_at] += redactor.pem("".join(pem_body), pem_xml)
        notes.append("unterminated private key block: redacted to the end of the input")

    while out and not out[-1]:
        out.pop()
    result = "\n".join(out) + ("\n" if out else "")
    metadata = min(found, key=lambda item: item[0])[1] if found else None
    return Sanitized(result, metadata, redactor.count, tuple(notes))
