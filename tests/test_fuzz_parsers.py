"""Fuzz: every registered parser on mutated real configs, and the diff of mutated pairs. 0 tracebacks,
0 hangs: any input parses (problems are diagnostics) and any two parses diff (budget or not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fuzz import FUZZ, mutated_text, timed
from hypothesis import given
from hypothesis import strategies as st

from cfgwatch.diff.engine import diff_rulesets
from cfgwatch.vendors.registry import parse_config, platform_names

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"


def _corpus(platform: str) -> list[str]:
    """The platform's real configs; a platform without fixtures gets every other platform's (still hostile)."""
    folder = CONFIGS / platform
    files = sorted(folder.iterdir()) if folder.is_dir() else sorted(CONFIGS.glob("*/*"))
    return [f.read_text(encoding="utf-8", errors="replace") for f in files if f.is_file() and f.suffix != ".tsv"]


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("platform", platform_names())
def test_parser_never_raises_on_mutated_configs(platform: str) -> None:
    corpus = _corpus(platform)

    @FUZZ
    @given(st.sampled_from(corpus).flatmap(mutated_text))
    def check(text: str) -> None:
        rules = timed(lambda: parse_config(text, platform), f"parse {platform}")
        assert rules.platform == platform

    check()


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("platform", platform_names())
def test_diff_of_mutated_pairs_never_raises(platform: str) -> None:
    corpus = _corpus(platform)

    @FUZZ
    @given(st.sampled_from(corpus).flatmap(lambda text: st.tuples(st.just(text), mutated_text(text))))
    def check(pair: tuple[str, str]) -> None:
        before_text, after_text = pair
        before = parse_config(before_text, platform)
        after = parse_config(after_text, platform)
        timed(
            lambda: diff_rulesets(before, after, device="fuzz", text_before=before_text, text_after=after_text),
            f"diff {platform}",
        )

    check()
