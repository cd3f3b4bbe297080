"""Golden files: the parser output for every fixture config, generated (never hand-edited).

Layout (netutils-style discovery): fixtures/configs/<platform>/<name> is an input config,
fixtures/golden/<platform>/<name>.json is what the registered parser produced for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from cfgwatch.model import to_json
from cfgwatch.vendors.registry import get_parser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CONFIGS = FIXTURES / "configs"
GOLDEN = FIXTURES / "golden"


def fixture_configs(platform: str | None = None) -> Iterator[tuple[str, Path]]:
    """(platform, config path) for every fixture config, sorted for stable output."""
    if not CONFIGS.is_dir():
        return
    for platform_dir in sorted(CONFIGS.iterdir()):
        if not platform_dir.is_dir() or (platform and platform_dir.name != platform):
            continue
        for path in sorted(platform_dir.iterdir()):
            if path.is_file() and not path.name.startswith(".") and path.suffix != ".tsv":
                yield platform_dir.name, path


def golden_path(platform: str, config: Path) -> Path:
    return GOLDEN / platform / f"{config.name}.json"


def render_golden(platform: str, config: Path) -> str:
    """The golden text for one config: the RuleSet (with diagnostics) as sorted, indented JSON."""
    text = config.read_text(encoding="utf-8", errors="replace")
    rules = get_parser(platform).parse(text)
    return json.dumps(to_json(rules), indent=1, sort_keys=True) + "\n"
