"""Every fixture config parses to exactly its generated golden (scripts/regen_goldens.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgwatch.vendors.golden import fixture_configs, golden_path, render_golden

CASES = list(fixture_configs())


@pytest.mark.parametrize(("platform", "config"), CASES, ids=[f"{p}/{c.name}" for p, c in CASES])
def test_parser_output_matches_golden(platform: str, config: Path) -> None:
    golden = golden_path(platform, config)
    assert golden.exists(), f"no golden for {config}; run scripts/regen_goldens.py {platform}"
    assert render_golden(platform, config) == golden.read_text(encoding="utf-8")
