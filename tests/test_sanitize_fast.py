"""The fast sanitizer (whole-text prefilter, word prechecks, lazy block trackers) writes exactly what
the plain algorithm writes: every line through the volatile rules, the PEM state, eager block trackers,
TRIGGER and every rule of the platform. The plain algorithm lives here as the reference."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from cfgwatch.sanitize import engine as E
from cfgwatch.sanitize import rules as R
from cfgwatch.sanitize import volatile as V
from cfgwatch.sanitize.marker import Fingerprinter, fingerprint, marker, marker_may_contain
from cfgwatch.sanitize.metadata import ChangeMetadata, with_device_clock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sanitize"
KEY = b"fast-path-test-key-0123456789abc"
PLATFORMS: list[str | None] = [None, "no-such-os", *R.tables().by_platform]


def reference(raw: str | bytes, platform: str | None, key: bytes) -> E.Sanitized:
    """The per-line algorithm the fast path must match, byte for byte."""
    notes: list[str] = []
    text = E._decode(raw, notes)
    canonical = R.canonical_platform(platform)
    if canonical is None:
        if platform:
            notes.append(f"platform unknown ({platform!r}): every platform's rules and the generic pass applied")
        else:
            notes.append("no platform given: every platform's rules and the generic pass applied")
    for continuation in R.continuations(canonical):
        joined = continuation.pattern.sub("", text)
        if joined != text:
            notes.append(continuation.note)
            text = joined
    rules = R.rules_for(canonical)
    redactor = E._Redactor(rules, key)  # used for _replace / pem / blocks only, never for its prechecks
    text, _ = redactor.blocks(text)
    ctx = E._Ctx()
    out: list[str] = []
    found: list[tuple[int, ChangeMetadata]] = []
    pem_at: int | None = None
    pem_body: list[str] = []
    pem_xml = False
    for number, line in enumerate(text.split("\n"), start=1):
        if pem_at is not None:
            end = E._PEM_END.search(line)
            if end is None:
                pem_body.append(line.strip())
                continue
            pem_body.append(line[: end.start()].strip())
            out[pem_at] += redactor.pem("".join(pem_body), pem_xml) + line[end.end() :].rstrip()
            pem_at, pem_body = None, []
            continue
        if len(line) > E.MAX_LINE:
            notes.append(f"line {number}: {len(line)} characters (over {E.MAX_LINE}) replaced by a fingerprint marker")
            redactor.count += 1
            out.append(marker("oversize", fingerprint(key, "oversize", line)))
            continue
        kept: str | None = line
        if V.tables().hint.search(line) is not None:
            for vrule in V.tables().rules:
                m = vrule.pattern.search(kept or "")
                if m is None:
                    continue
                if vrule.meta is not None:
                    found.append((vrule.rank, vrule.meta(m, kept or "")))
                if vrule.replace is None:
                    kept = None
                    break
                kept = vrule.pattern.sub(vrule.replace, kept or "")
        if kept is None:
            continue
        line = kept
        begin = E._PEM_BEGIN.search(line)
        if begin is not None:
            end = E._PEM_END.search(line, begin.end())
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
        if R.TRIGGER.search(line):
            for rule in rules:
                if rule.guard is not None and not rule.guard[1].search(ctx.get(rule.guard[0])):
                    continue
                if rule.pattern.search(line) is None:
                    continue
                line = rule.pattern.sub(lambda m, rule=rule: redactor._replace(rule, m, ctx), line)  # type: ignore[misc]
        out.append(line.rstrip())
    if pem_at is not None:
        out[pem_at] += redactor.pem("".join(pem_body), pem_xml)
        notes.append("unterminated private key block: redacted to the end of the input")
    while out and not out[-1]:
        out.pop()
    result = "\n".join(out) + ("\n" if out else "")
    metadata = with_device_clock(min(found, key=lambda item: item[0])[1], text) if found else None
    return E.Sanitized(result, metadata, redactor.count, tuple(notes))


def _texts() -> list[tuple[str, str]]:
    paths = sorted(p for p in (FIXTURES / "configs").rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    paths += sorted((FIXTURES / "canary").glob("*.txt"))
    out = []
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        text = text.replace("{c7}", "0822455D0A16").replace("{c9}", "$9$Lm5X-dsYoZj").replace("{c}", "Secret1")
        out.append((f"{path.parent.name}/{path.name}", text.replace("{hex}", "ab12")))
    return out


TEXTS = _texts()
ALL_LINES = sorted({line for _, text in TEXTS for line in text.split("\n")})

# Lines that exercise the edges: case, Unicode case folding, PEM blocks, volatile headers, block context.
TRICKY = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEpAIBAAKCAQEAs3cr3t+b0dy",
    "-----END RSA PRIVATE KEY-----",
    "  <key>-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----</key>",
    " password \u212aelvin-1",  # KELVIN SIGN folds to "k" under IGNORECASE
    " \u212aey 7 0822455D0A16",
    "snmp-server community Caf\u00e9-ro RO",
    "PASSWORD  Upper1",
    "  Key 7 0822455D0A16",
    "set\tname Comm1",
    "set  name  Comm2",
    "config system snmp community",
    '    edit "1"',
    "        set name pub-lic",
    "        set password ENC AAAAbbbbCCCC==",
    "    next",
    "end",
    "/snmp community",
    "add name=comm-x addresses=0.0.0.0/0",
    "set name=foo",
    "snmp {",
    "    community s3cr3t-c {",
    "        authorization read-only;",
    "    }",
    "}",
    "tacacs-server host 10.0.0.1",
    " key 7 0822455D0A16",
    "aaa group server radius R1",
    " key Plain-Key-1",
    "! Last configuration change at 11:54:34 UTC Thu Aug 29 2024 by admin",
    "! NVRAM config last updated at 11:54:35 UTC Thu Aug 29 2024 by bob",
    "## Last commit: 2024-12-06 11:41:05 UTC by root",
    "ntp clock-period 17179874",
    "Building configuration...",
    "Current configuration : 1952 bytes",
    "# 2024-01-01 10:00:00 by RouterOS 7.18",
    "ip route 0.0.0.0 0.0.0.0 10.0.0.1   ",
    "description uptime is 3 weeks",
    "! uptime is 3 weeks",
    "counter packets 12 bytes 3400 accept",
    '  <entry name="x" dirtyId="42"><phash>$1$abc$def</phash></entry>',
    "url http://user:pa55w0rd@example.com/x",
    "api_key: abcdef123",
    "token=tok-123",
    "Activation Key: 1234-5678",
    "",
    "\t",
    "neighbor 10.0.0.2 password 7 0822455D0A16",
]


def _fuzz_documents(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = ALL_LINES + TRICKY * 20
    docs = []
    for _ in range(count):
        lines = [rng.choice(pool) for _ in range(rng.randint(1, 60))]
        for n, line in enumerate(lines):
            roll = rng.random()
            if roll < 0.05:
                lines[n] = line.swapcase()
            elif roll < 0.08:
                lines[n] = line + rng.choice([" ", "\t", "\u00a0", " \u3000"])
            elif roll < 0.10:
                lines[n] = line.replace("k", "\u212a")
            elif roll < 0.12:
                lines[n] = line + "\r"
        docs.append("\n".join(lines) + rng.choice(["", "\n", "\n\n"]))
    return docs


def _same(raw: str | bytes, platform: str | None) -> None:
    fast = E.sanitize(raw, platform, KEY)
    slow = reference(raw, platform, KEY)
    assert fast.text == slow.text
    assert fast.metadata == slow.metadata
    assert fast.redactions == slow.redactions
    assert fast.notes == slow.notes


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_fast_path_matches_reference_on_fixtures(name: str, text: str) -> None:
    own = name.split("/")[0]
    for platform in {own if own in R.tables().by_platform else None, None, "cisco_ios"}:
        _same(text, platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fast_path_matches_reference_on_fuzzed_mixes(platform: str | None) -> None:
    for n, doc in enumerate(_fuzz_documents(15, seed=PLATFORMS.index(platform))):
        _same(doc.encode("utf-8") if n % 4 == 0 else doc, platform)


def test_fast_path_matches_reference_on_edge_inputs() -> None:
    cases: list[str | bytes] = [
        "",
        "\n\n\n",
        "-----BEGIN PRIVATE KEY-----\nabc\n",  # unterminated
        "x\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n password inside-pem\n-----END EC PRIVATE KEY----- tail  \ny\n",
        "a \\\n  password=cont-1\n",  # RouterOS continuation
        b"\xff\xfe password bin-1\x00\x00\x00\n",
        "\x00" * 50 + "secret zz\n",
        "line " + "k" * (E.MAX_LINE + 1) + "\n password over-1\n",
        # a volatile rewrite that makes a block header: only the rewritten text opens the section
        ' dirtyId="7"/snmp community\nadd name=comm-rw addresses=0.0.0.0/0\n',
    ]
    for raw in cases:
        for platform in (None, "cisco_ios", "mikrotik_routeros"):
            _same(raw, platform)


def _test_lines() -> list[str]:
    return ALL_LINES + TRICKY + [line.swapcase() for line in TRICKY] + [line.upper() for line in ALL_LINES[:2000]]


def test_every_rule_match_holds_one_of_its_words() -> None:
    """The prechecks skip a rule when its words are absent: that is only right if every match has one."""
    for rule in R.tables().everything + R.GENERIC:
        assert rule.need, rule.name
        for line in _test_lines():
            if not line.isascii() or rule.pattern.search(line) is None:
                continue
            low = line.lower()
            assert any(word in low for word in rule.need), (rule.name, line)
            assert not rule.also or any(word in low for word in rule.also), (rule.name, line)


def test_every_volatile_match_holds_its_text() -> None:
    for rule in V.tables().rules:
        for line in _test_lines():
            if rule.pattern.search(line) is not None:
                assert rule.need in line, (rule.name, line)


def test_no_rule_matches_the_empty_string() -> None:
    """The redactor replaces finditer's matches by hand; that equals re.sub only without empty matches."""
    from re import _parser  # type: ignore[attr-defined]

    for rule in R.tables().everything + R.GENERIC:
        assert _parser.parse(rule.pattern.pattern, rule.pattern.flags).getwidth()[0] > 0, rule.name


def test_gate_words_cover_every_rule() -> None:
    for platform in PLATFORMS:
        rules = R.rules_for(R.canonical_platform(platform))
        gate = R.gate_words(rules)
        assert gate is not None
        for rule in rules:
            for word in rule.need:
                assert any(g in word for g in gate), (platform, rule.name, word)


def test_prefilter_finds_every_line_that_needs_work() -> None:
    text = "\n".join(_test_lines())
    lines = text.split("\n")
    for platform in (None, "cisco_ios", "juniper_junos"):
        rules = R.rules_for(platform)
        index = E._LineIndex(text, lines, V.tables())
        special = set(index.special(R.gate_words(rules)))
        for i, line in enumerate(lines):
            if V.tables().hint.search(line):
                assert i in index.volatile and i in special, line
            if E._PEM_BEGIN.search(line):
                assert i in special, line
            if any(rule.pattern.search(line) for rule in rules):
                assert i in special, (platform, line)


def test_triggered_equals_trigger_regex_on_ascii() -> None:
    for line in [*_test_lines(), "set \t name x", "SET NAME", "setname", "a$b", "x://y", "NAME=1"]:
        if line.isascii():
            assert R.triggered(line.lower()) == bool(R.TRIGGER.search(line)), line


def test_lazy_block_trackers_equal_the_eager_ones() -> None:
    lines = [
        "tacacs-server host 1",
        " key 1",
        "!",
        "interfaces {",
        "    ge-0/0/0 {",
        "        unit 0;",
        "    }",
        "} x {",
        "config system snmp community",
        '    edit "1"',
        "    next",
        "end",
        "/snmp community",
        "  /ip address",
        "#comment",
        "  indented",
        "top two",
    ]
    text = "\n".join(lines)
    index = E._LineIndex(text, lines, V.tables())
    lazy = E._LazyCtx(lines, {}, index)
    lazy.rewritten.extend([3, 9])  # as if rewritten to the same text: replayed once, like the rest
    eager = E._Ctx()
    for i, line in enumerate(lines):
        eager.update(line)
        lazy.at(i, line)
        for tracker in ("top", "path", "forti", "ros", "pathline"):
            assert lazy.get(tracker) == eager.get(tracker), (i, tracker)


def test_fingerprinter_equals_fingerprint() -> None:
    for key in (b"k", b"x" * 64, b"y" * 65):
        for value in ("", "plain\x00Secret1", "\u00e9" * 70, "\udcff"):
            assert Fingerprinter(key, "secret")(value) == fingerprint(key, "secret", value)


def test_marker_words() -> None:
    assert marker_may_contain(":") and marker_may_contain("redacted:") and marker_may_contain("ac:0f")
    assert not marker_may_contain("key") and not marker_may_contain("ac:0g")
    assert re.fullmatch(r"<redacted:hmac:0{12}>", marker("hmac", "0" * 12))
