"""One pass over a config: decode, normalise volatile lines, redact secrets, keep change metadata.

Speed: the Python loop runs only over the few lines that can need work. Whole-text searches
(``str.find`` of each word some rule needs, in the lower-cased text; the volatile hints; the PEM
header) pick them (:class:`_LineIndex`); every other line is only right-stripped. On a picked line a
rule's regex runs only if one of its ``need`` words is in the line, and the block trackers the guards
ask about are computed on demand (:class:`_LazyCtx`). The output is exactly that of the plain
per-line algorithm (tests/test_sanitize_fast.py keeps that algorithm as the reference).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Container
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import accumulate
from typing import Protocol, cast

from cfgwatch.model.text import strip_bom
from cfgwatch.sanitize import catalog as C
from cfgwatch.sanitize import rules as R
from cfgwatch.sanitize import volatile as V
from cfgwatch.sanitize.marker import Fingerprinter, fingerprint, is_marker, marker, marker_may_contain
from cfgwatch.sanitize.metadata import ChangeMetadata, with_device_clock

MAX_LINE = 1 << 20  # characters; a longer line is replaced by a fingerprint marker as a whole
_DOMAIN = "secret"  # one domain for every rule: the same secret gives the same print wherever it sits

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # the same set
_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_TYPE7 = re.compile(r"\d\d(?:[0-9A-Fa-f]{2})+")
_EDGE = frozenset("<>&;")  # a marker's first and last characters, in either form
_PEM_WORD = "-----BEGIN "  # every _PEM_BEGIN match contains it
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CHUNK = 1 << 22  # characters lowered at once when looking for rule words
# After a newline: a line that may change the brace, FortiOS or RouterOS trackers (besides braces).
_BLOCK_EVENT = re.compile(r"\n\s*(?:config |edit |next|end|/)")


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
        text = strip_bom(text)  # as utf-8-sig does for bytes: a BOM would hide the first line from a parser
    controls = len(_CONTROL.findall(text)) if _may_have_controls(text) else 0
    if controls:
        if text.count("\x00") * 20 > max(len(text), 1):
            notes.append("input looks binary (many NUL bytes): sanitized as text with the generic pass")
        text = _CONTROL.sub("", text)
        notes.append(f"{controls} control characters removed")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _may_have_controls(text: str) -> bool:
    """False when text surely has no _CONTROL character (bytes.translate beats the regex scan)."""
    return not text.isascii() or len(text.encode("ascii").translate(None, _CONTROL_BYTES)) != len(text)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _meaning(rule: R.Rule, m: re.Match[str], inner: str, ctx: _Context) -> tuple[str, str]:
    """(marker kind, fingerprint material): what a secret *means*, so only real changes change it."""
    if rule.name.startswith("fortios") and inner[:4].upper() == "ENC " and not inner[4:].startswith(("SH2", "AK1")):
        # FortiOS re-encrypts ENC values with a fresh IV on every read: the ciphertext says nothing
        # stable, so fingerprint where the secret sits. Trade-off: a rotation is not visible here.
        key_name = m.groupdict().get("k") or rule.name
        return "ctx", f"fortios\x00{ctx.get('forti')}\x00{key_name}"
    kind_t = {"encrypted": "7", "clear": "0"}.get(m.groupdict().get("t") or "", m.groupdict().get("t"))
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


class _Context(Protocol):
    """What the rule guards and the FortiOS fingerprint ask about the block a line sits in."""

    def get(self, tracker: str) -> str: ...


class _NoContext:
    def get(self, tracker: str) -> str:
        return ""


_NO_CONTEXT = _NoContext()
_BLOCK_RULE = R.Rule("xml-block-secret", C.BLOCK, xml=True)


@dataclass(slots=True)
class _WordTables:
    """What a rule tuple's need/also words derive to; built once per rule tuple, not once per device
    (deriving them costs more than sanitizing a small config)."""

    bits: dict[str, int]
    groups: tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...]
    marker_words: int
    by_mask: dict[int, tuple[int, ...]]


@lru_cache(maxsize=64)
def _word_tables(rules: tuple[R.Rule, ...]) -> _WordTables:
    # Words grouped under a shorter word they contain: a line without "key" skips the test for
    # "pre-shared-key" and the other words that contain "key". Each word is one bit of a mask.
    words = sorted({word for rule in rules for word in rule.need + rule.also})
    bits = {word: 1 << n for n, word in enumerate(words)}
    roots = [w for w in words if not any(o != w and o in w for o in words)]
    groups = tuple((root, bits[root], tuple((w, bits[w]) for w in words if root in w and w != root)) for root in roots)
    # Words a replacement can bring in: inside a marker (":" of "redacted:hmac:") or across its
    # edges (those hold "<", ">", "&" or ";"). Once a value is replaced, the later rules are chosen
    # again with these words counted as present.
    marker_words = sum(bit for word, bit in bits.items() if marker_may_contain(word) or not _EDGE.isdisjoint(word))
    # mask -> candidate rule positions; filled lazily and shared by every redactor of this rule tuple
    return _WordTables(bits, groups, marker_words, {})


class _Redactor:
    """Applies one platform's rules to lines, counting redactions."""

    def __init__(self, rules: tuple[R.Rule, ...], key: bytes, tables: _WordTables | None = None) -> None:
        self.rules = rules
        self.key = key
        self.count = 0
        self.hits: list[str] = []  # rule names, in order (the audit reports them)
        self._print = Fingerprinter(key, _DOMAIN)
        tables = tables or _word_tables(rules)
        self._bits = tables.bits
        self._groups = tables.groups
        self._marker_words = tables.marker_words
        self._by_mask = tables.by_mask
        self._everything = tuple(range(len(rules)))

    def _mask(self, low: str) -> int:
        """One bit per ``need``/``also`` word found in the lower-cased line."""
        mask = 0
        for root, bit, longer in self._groups:
            if root in low:
                mask |= bit
                for word, word_bit in longer:
                    if word in low:
                        mask |= word_bit
        return mask

    def _candidates(self, mask: int) -> tuple[int, ...]:
        """Positions (in self.rules) of the rules that can match a line with these words: one whose
        ``need`` (or ``also``) words are all absent cannot."""
        found = self._by_mask.get(mask)
        if found is None:
            found = tuple(n for n, rule in enumerate(self.rules) if self._possible(rule, mask))
            self._by_mask[mask] = found
        return found

    def _possible(self, rule: R.Rule, mask: int) -> bool:
        bits = self._bits
        return (not rule.need or any(mask & bits[w] for w in rule.need)) and (
            not rule.also or any(mask & bits[w] for w in rule.also)
        )

    def line(self, line: str, ctx: _Context, low: str | None = None) -> str:
        """line with every secret the rules find replaced; ``low``: line.lower(), if the caller has it."""
        # A replacement swaps a value for a marker: it can take words away (a surplus rule then just
        # finds nothing) and add only the marker's own words. Non-ASCII lines run every rule
        # (IGNORECASE also folds e.g. U+212A KELVIN SIGN to "k").
        if low is None and line.isascii():
            low = line.lower()
        mask = self._mask(low) if low is not None else -1
        order = self._candidates(mask) if low is not None else self._everything
        rules = self.rules
        k = 0
        while k < len(order):
            at = order[k]
            k += 1
            rule = rules[at]
            # re.sub by hand: the first match found is used instead of being searched for again (no
            # rule matches the empty string, so finditer's matches are exactly the ones sub replaces).
            matches = rule.pattern.finditer(line)
            first = next(matches, None)
            if first is None:
                continue
            if rule.guard is not None and not rule.guard[1].search(ctx.get(rule.guard[0])):
                continue
            parts = [line[: first.start()], self._replace(rule, first, ctx)]
            pos = first.end()
            for m in matches:
                parts.append(line[pos : m.start()])
                parts.append(self._replace(rule, m, ctx))
                pos = m.end()
            parts.append(line[pos:])
            new = "".join(parts)
            if new != line and mask | self._marker_words != mask:
                mask |= self._marker_words
                wider = self._candidates(mask)
                if wider != order:
                    order, k = tuple(n for n in wider if n > at), 0
            line = new
        return line

    def _replace(self, rule: R.Rule, m: re.Match[str], ctx: _Context) -> str:
        value = m.group("v")
        whole = m.group(0)
        if not value or ("redacted:" in value and is_marker(value)):  # every marker holds "redacted:"
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
        mark = marker(kind, self._print(material), xml=rule.xml)
        self.count += 1
        self.hits.append(rule.name)
        return m.string[m.start() : start] + quote + prefix + mark + quote + m.string[end : m.end()]

    def blocks(self, text: str, pad: bool = False) -> tuple[str, list[int]]:
        """text with the XML secrets that span lines or sit in CDATA (catalog.BLOCK) replaced by a marker;
        also the offsets where each replaced element starts. ``pad`` keeps the line count (audit)."""
        if "</" not in text:
            return text, []
        starts: list[int] = []

        def one(m: re.Match[str]) -> str:
            value = m.group("v")
            inner = value.strip()
            if inner[:9].upper() == "<![CDATA[":
                inner = inner[9:-3].strip()
            if not inner or ("redacted:" in inner and is_marker(inner)) or "-----BEGIN " in inner:
                return m.group(0)  # empty, already a marker, or a private key (the PEM pass takes it whole)
            _, material = _meaning(_BLOCK_RULE, m, inner, _NO_CONTEXT)
            self.count += 1
            self.hits.append(_BLOCK_RULE.name)
            starts.append(m.start())
            start, end = m.span("v")
            pad_lines = "\n" * value.count("\n") if pad else ""
            return (
                m.string[m.start() : start]
                + marker("hmac", self._print(material), xml=True)
                + pad_lines
                + m.string[end : m.end()]
            )

        return C.BLOCK.sub(one, text), starts

    def pem(self, body: str, xml: bool) -> str:
        self.count += 1
        self.hits.append("pem-private-key")
        return marker("hmac", self._print("pem\x00" + body), xml=xml)


# (rank, metadata reader, its match, the line): read only for the header that wins (lowest rank, first).
_Found = tuple[int, V.MetaFn, re.Match[str], str]


def _volatile(line: str, found: list[_Found], volatile: V.VolatileTables) -> str | None:
    """The line with volatile parts normalised, or None when the whole line is volatile."""
    if volatile.hint.search(line) is None:
        return line
    for rule in volatile.rules:
        if rule.need not in line:
            continue
        m = rule.pattern.search(line)
        if m is None:
            continue
        if rule.meta is not None:
            found.append((rule.rank, rule.meta, m, line))
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
    plan = _plan_for(platform)
    canonical = plan.canonical
    if canonical is None:
        if platform:
            notes.append(f"platform unknown ({platform!r}): every platform's rules and the generic pass applied")
        else:
            notes.append("no platform given: every platform's rules and the generic pass applied")
    for continuation in plan.continuations:  # the platform's own; every platform's when unknown
        joined = continuation.pattern.sub("", text)
        if joined != text:
            notes.append(continuation.note)
            text = joined

    redactor = _Redactor(plan.rules, key, plan.words)
    text, _ = redactor.blocks(text)  # values spanning lines (XML text, CDATA) before the line pass
    lines = text.split("\n")
    volatile_tables = plan.volatile
    index = _LineIndex(text, lines, volatile_tables)
    special = index.special(plan.gate)
    # Every other line can only lose trailing blanks: it holds no volatile hint, no private key,
    # and none of the words a secret rule needs.
    out: list[str | None] = list(map(str.rstrip, lines))
    eff: dict[int, str | None] = {}  # what the block trackers see for a special line (None: nothing)
    ctx = _LazyCtx(lines, eff, index)
    found: list[_Found] = []
    dropped = False  # some line was removed (out holds None for it)
    skip_to = -1  # last line of a private key block already consumed
    volatile = index.volatile

    for i in special:
        if i <= skip_to:
            continue
        line = lines[i]
        if len(line) > MAX_LINE:
            notes.append(f"line {i + 1}: {len(line)} characters (over {MAX_LINE}) replaced by a fingerprint marker")
            redactor.count += 1
            out[i] = marker("oversize", fingerprint(key, "oversize", line))
            eff[i] = None
            continue
        kept = _volatile(line, found, volatile_tables) if i in volatile else line
        if kept is None:
            out[i] = eff[i] = None
            dropped = True
            continue
        begin = _PEM_BEGIN.search(kept) if _PEM_WORD in kept else None
        if begin is not None:
            end = _PEM_END.search(kept, begin.end())
            prefix = kept[: begin.start()]
            xml = prefix.rstrip().endswith(">")
            if end is None:
                eff[i] = prefix
                if prefix != line:
                    ctx.rewritten.append(i)
                skip_to = _pem_block(i, prefix, kept[begin.end() :].strip(), xml, lines, out, eff, redactor, notes)
                dropped = True
                continue
            kept = prefix + redactor.pem(kept[begin.end() : end.start()], xml) + kept[end.end() :]
        eff[i] = kept
        if kept is not line and kept != line:
            ctx.rewritten.append(i)
        low = kept.lower() if kept.isascii() else None
        if R.triggered(low) if low is not None else R.TRIGGER.search(kept):
            ctx.at(i, kept)
            kept = redactor.line(kept, ctx, low)
        out[i] = kept.rstrip()

    final = [line for line in out if line is not None] if dropped else cast("list[str]", out)
    while final and not final[-1]:
        final.pop()
    result = "\n".join(final) + ("\n" if final else "")
    metadata = None
    if found:
        _, read, m, header = min(found, key=lambda item: item[0])
        metadata = with_device_clock(read(m, header), text)  # the header's time in the device's own zone
    return Sanitized(result, metadata, redactor.count, tuple(notes))


def _pem_block(
    at: int,
    prefix: str,
    first: str,
    xml: bool,
    lines: list[str],
    out: list[str | None],
    eff: dict[int, str | None],
    redactor: _Redactor,
    notes: list[str],
) -> int:
    """Swallow a private key that starts on line ``at`` into one marker; returns its last line."""
    body = [first]
    for j in range(at + 1, len(lines)):
        line = lines[j]
        out[j] = eff[j] = None
        end = _PEM_END.search(line)
        if end is None:
            body.append(line.strip())
            continue
        body.append(line[: end.start()].strip())
        out[at] = prefix + redactor.pem("".join(body), xml) + line[end.end() :].rstrip()
        return j
    out[at] = prefix + redactor.pem("".join(body), xml)
    notes.append("unterminated private key block: redacted to the end of the input")
    return len(lines)


@cache
def _gate_words(rules: tuple[R.Rule, ...]) -> tuple[str, ...] | None:
    return R.gate_words(rules)


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything sanitize() derives from a platform name alone, built once per platform (and set of
    registered specs): a pull of hundreds of devices of a dozen platforms derives each only once."""

    canonical: str | None
    continuations: tuple[R.LineContinuation, ...]
    rules: tuple[R.Rule, ...]
    gate: tuple[str, ...] | None
    words: _WordTables
    volatile: V.VolatileTables


def _plan_for(platform: str | None) -> _Plan:
    from cfgwatch.vendors.registry import all_specs

    return _plan(platform, all_specs())


@lru_cache(maxsize=128)
def _plan(platform: str | None, specs: tuple[object, ...]) -> _Plan:
    """The plan for `platform` under `specs` (the key: a newly registered platform gets new plans)."""
    del specs  # the tables below read the same registry; the argument only keys the cache
    canonical = R.canonical_platform(platform)
    rules = R.rules_for(canonical)
    return _Plan(canonical, R.continuations(canonical), rules, _gate_words(rules), _word_tables(rules), V.tables())


class _LineIndex:
    """Where things are in a text, found with whole-text searches instead of a Python loop per line.

    Each finder returns line numbers (0-based) of a *superset* of the lines that can need work: the
    per-line code then decides exactly, so a false hit costs time, never output.
    """

    def __init__(self, text: str, lines: list[str], volatile: V.VolatileTables) -> None:
        self.text = text
        self.lines = lines
        self.volatile_tables = volatile
        # Offset of each line; an array holds 8 bytes a line where a list of ints holds ~36.
        self.starts = array("q", accumulate(map((1).__add__, map(len, lines)), initial=0))
        self.nonascii: frozenset[int] = frozenset()
        self.volatile: Container[int] = ()  # lines that may be volatile (set by special())
        if not text.isascii():
            self.nonascii = frozenset(self.matching(_NON_ASCII, text))

    def containing(self, word: str, text: str, into: set[int], at: int = 0, span: int | None = None) -> None:
        """Add the lines of ``text`` that contain ``word``: ``text`` is self.text[at:] (same offsets once
        ``at`` is added); only hits starting in its first ``span`` characters count (all by default)."""
        find, starts, last = text.find, self.starts, len(self.lines) - 1
        limit = len(text) if span is None else span
        pos = find(word)
        while pos != -1 and pos < limit:
            i = bisect_right(starts, at + pos) - 1
            into.add(i)
            if i >= last:
                return
            pos = find(word, starts[i + 1] - at)

    def matching(self, pattern: re.Pattern[str], text: str) -> list[int]:
        """Lines where a match of ``pattern`` in ``text`` starts.

        ``text`` is self.text, or ``"\\n" + self.text`` for a pattern that begins with a newline: there
        the newline at offset ``starts[i]`` is the one in front of line i, so the offsets still fit.
        """
        found: list[int] = []
        search, starts, last = pattern.search, self.starts, len(self.lines) - 1
        m = search(text)
        while m is not None:
            i = bisect_right(starts, m.start()) - 1
            found.append(i)
            if i >= last:
                break
            m = search(text, starts[i + 1])
        return found

    def special(self, gate: tuple[str, ...] | None) -> list[int]:
        """Sorted lines that may be volatile, start a private key, be oversize or hold a secret."""
        text, lines = self.text, self.lines
        if gate is None:
            self.volatile = range(len(lines))
            return list(range(len(lines)))
        volatile = set(self.matching(self.volatile_tables.hint_line_start, "\n" + text))
        for word in self.volatile_tables.hint_words:
            self.containing(word, text, volatile)
        self.volatile = volatile
        hits = volatile | self.nonascii  # non-ASCII lines: no word shortcut, the full rules decide
        self.containing(_PEM_WORD, text, hits)
        if len(text) > MAX_LINE and max(map(len, lines)) > MAX_LINE:
            hits.update(i for i, line in enumerate(lines) if len(line) > MAX_LINE)
        # Rule words are lower case; lower() keeps offsets only for ASCII, so non-ASCII characters
        # (whose lines are already in hits) become "?" first. Lowered a chunk at a time (never a second
        # copy of a big config): chunks overlap by the longest word, a hit is counted where it starts.
        overlap = max(map(len, gate), default=1) - 1
        for at in range(0, len(text), _CHUNK):
            piece = text[at : at + _CHUNK + overlap]
            low = (piece if piece.isascii() else piece.encode("ascii", "replace").decode("ascii")).lower()
            for word in gate:
                self.containing(word, low, hits, at, min(_CHUNK, len(piece)))
        return sorted(hits)

    def brace_lines(self) -> set[int]:
        found: set[int] = set()
        self.containing("{", self.text, found)
        self.containing("}", self.text, found)
        return found


class _LazyCtx:
    """The block trackers of :class:`_Ctx`, computed only when a guard asks, at the line being redacted.

    ``top`` walks back to the last top-level line (remembering the last answer, so the walks add up to
    one pass); brace path, FortiOS path and RouterOS section replay only the lines that can change
    them (brace, ``config``/``edit``/``next``/``end`` and ``/`` lines, found in the original text) plus
    the lines the sanitizer rewrote before the trackers saw them (``rewritten``, in order; ``eff``
    holds what the trackers see for a processed line, None = nothing).
    """

    def __init__(self, lines: list[str], eff: dict[int, str | None], index: _LineIndex) -> None:
        self.lines = lines
        self.eff = eff
        self.index = index
        self.rewritten: list[int] = []  # appended in increasing order by the caller
        self._next_rewritten = 0
        self.i = 0
        self.line = ""
        self._top_at = -1
        self._top = ""
        self._events: list[int] | None = None
        self._next_event = 0
        self.stack: list[str] = []
        self.forti: list[str] = []
        self.ros = ""

    def at(self, i: int, line: str) -> None:
        self.i = i
        self.line = line

    def _line(self, k: int) -> str | None:
        return self.eff[k] if k in self.eff else self.lines[k]

    def _top_now(self) -> str:
        k = self.i
        while k > self._top_at:
            line = self._line(k)
            if line:
                stripped = line.strip()
                if stripped and not line[0].isspace() and stripped[0] not in "!#":
                    self._top_at, self._top = self.i, stripped
                    return stripped
            k -= 1
        self._top_at = self.i
        return self._top

    def _replay(self) -> None:
        if self._events is None:
            index = self.index
            found = index.brace_lines()
            found.update(index.matching(_BLOCK_EVENT, "\n" + index.text))
            self._events = sorted(found)
        events, extra, last = self._events, self.rewritten, len(self.lines)
        while True:  # the two sorted lists merged, each line once, up to the current line
            event = events[self._next_event] if self._next_event < len(events) else last
            rewritten = extra[self._next_rewritten] if self._next_rewritten < len(extra) else last
            k = min(event, rewritten)
            if k > self.i:
                break
            if event == k:
                self._next_event += 1
            if rewritten == k:
                self._next_rewritten += 1
            line = self._line(k)
            stripped = line.strip() if line else ""
            if not stripped:
                continue
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
            return self._top_now()
        self._replay()
        if tracker == "path":
            return " ".join(self.stack)
        if tracker == "forti":
            return " ".join(self.forti)
        if tracker == "ros":
            return self.ros
        return " ".join(self.stack) + " " + self.line  # "pathline"
