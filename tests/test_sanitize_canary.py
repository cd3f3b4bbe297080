"""Canary: real corpus configs of every platform, seeded with unique secrets, sanitize to text without them."""

from __future__ import annotations

import itertools
import re
import secrets
from pathlib import Path

import pytest
from netutils.password import encrypt_cisco_type7, encrypt_juniper_type9

from cfgwatch.sanitize import sanitize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sanitize"
CANARY = FIXTURES / "canary"
CONFIGS = FIXTURES / "configs"
KEY = b"canary-test-key-0123456789abcdef"
PLATFORMS = sorted(p.stem for p in CANARY.glob("*.txt"))

_counter = itertools.count()


def fill(template: str) -> tuple[str, list[str]]:
    """Replace each placeholder with a fresh secret; return the text and every form that must not leak."""
    leaks: list[str] = []

    def one(m: re.Match[str]) -> str:
        plain = f"Cn{next(_counter)}x{secrets.token_hex(5)}"
        kind = m.group(1)
        if kind == "c":
            leaks.append(plain)
            return plain
        if kind == "c7":
            encoded = encrypt_cisco_type7(plain)
            leaks.extend([plain, encoded])
            return encoded
        if kind == "c9":
            encoded = encrypt_juniper_type9(plain)
            leaks.extend([plain, encoded])
            return encoded
        value = secrets.token_hex(16)
        leaks.append(value)
        return value

    return re.sub(r"\{(c7|c9|c|hex)\}", one, template), leaks


def corpus(platform: str) -> list[Path]:
    return sorted(p for p in (CONFIGS / platform).iterdir() if p.is_file())


def test_every_platform_has_canaries_and_corpus() -> None:
    assert set(PLATFORMS) == {
        "cisco_ios",
        "cisco_asa",
        "cisco_nxos",
        "arista_eos",
        "juniper_junos",
        "fortinet",
        "paloalto_panos",
        "linux",
        "mikrotik_routeros",
        "vyos",
    }
    for platform in PLATFORMS:
        assert corpus(platform), platform


def _leaked(text: str, leaks: list[str]) -> list[str]:
    return [f"{value!r} in line: {line!r}" for value in leaks for line in text.splitlines() if value in line]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_canary_survives(platform: str) -> None:
    snippet = (CANARY / f"{platform}.txt").read_text()
    for config in corpus(platform):
        seeded, leaks = fill(snippet)
        raw = config.read_text(encoding="utf-8", errors="replace") + "\n" + seeded
        for given in (platform, None):
            result = sanitize(raw, given, KEY)
            assert not _leaked(result.text, leaks), (config.name, given, _leaked(result.text, leaks))
            assert result.redactions >= len(re.findall(r"\{(?:c7|c9|c|hex)\}", snippet)) // 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_canary_alone_with_crlf_and_bytes(platform: str) -> None:
    """Device output arrives as bytes with CRLF line ends; that must not change what is caught."""
    seeded, leaks = fill((CANARY / f"{platform}.txt").read_text())
    result = sanitize(seeded.replace("\n", "\r\n").encode(), platform, KEY)
    assert not _leaked(result.text, leaks)
    assert "\r" not in result.text


# One case per secret syntax of each vendor's command reference (tests/_secret_syntaxes.py).
from _secret_syntaxes import SYNTAXES, Syntax  # noqa: E402

from cfgwatch.sanitize.audit import scan_text  # noqa: E402


@pytest.mark.parametrize("syntax", SYNTAXES, ids=[s.id for s in SYNTAXES])
def test_syntax_canary(syntax: Syntax) -> None:
    """The secret is gone on its platform and with no platform; the command's other words stay."""
    seeded, leaks = fill(syntax.text)
    for given in (syntax.platform, None):
        for raw in (seeded, seeded.replace("\n", "\r\n").encode()):
            result = sanitize(raw, given, KEY)
            assert not _leaked(result.text, leaks), (given, result.text)
            assert result.redactions >= 1
    own = sanitize(seeded, syntax.platform, KEY).text
    for word in syntax.keep:
        assert word in own, (word, own)


@pytest.mark.parametrize("syntax", SYNTAXES, ids=[s.id for s in SYNTAXES])
def test_audit_secrets_uses_the_sanitizer_rules(syntax: Syntax) -> None:
    """audit-secrets reports the raw config (without naming the secret) and nothing once it is sanitized."""
    seeded, leaks = fill(syntax.text)
    for given in (syntax.platform, None):
        found = list(scan_text(seeded, given))
        assert found, given
        assert not any(value in excerpt for value in leaks for _, _, excerpt in found)
        assert not list(scan_text(sanitize(seeded, given, KEY).text, given))


def test_syntax_table_covers_every_secret_platform() -> None:
    assert {s.platform for s in SYNTAXES} == set(PLATFORMS)
    assert len({s.id for s in SYNTAXES}) == len(SYNTAXES)
