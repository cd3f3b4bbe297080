"""Every sanitize fixture (real corpus configs) sanitizes to exactly its generated golden."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgwatch.sanitize.golden import fixture_configs, golden_paths, render

CASES = list(fixture_configs())


def test_fixtures_cover_every_platform() -> None:
    assert {p for p, _ in CASES} >= {
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


@pytest.mark.parametrize(("platform", "config"), CASES, ids=[f"{p}/{c.name}" for p, c in CASES])
def test_sanitized_output_matches_golden(platform: str, config: Path) -> None:
    text_path, meta_path = golden_paths(platform, config)
    assert text_path.exists(), f"no golden for {config}; run scripts/regen_sanitize_goldens.py"
    text, meta = render(platform, config)
    assert text == text_path.read_text(encoding="utf-8")
    assert meta == meta_path.read_text(encoding="utf-8")
