#!/usr/bin/env python3
"""Regenerate fixtures/golden/ from fixtures/configs/ with the registered parsers.

Usage: python scripts/regen_goldens.py [PLATFORM ...]
Review the git diff of fixtures/golden/ before committing: goldens are never hand-edited.
"""

from __future__ import annotations

import sys

from cfgwatch.vendors.golden import fixture_configs, golden_path, render_golden


def main(platforms: list[str]) -> int:
    written = 0
    for platform, config in fixture_configs():
        if platforms and platform not in platforms:
            continue
        target = golden_path(platform, config)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_golden(platform, config), encoding="utf-8")
        written += 1
    print(f"wrote {written} golden files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
