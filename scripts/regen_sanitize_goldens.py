#!/usr/bin/env python3
"""Regenerate fixtures/sanitize/golden/ from fixtures/sanitize/configs/ with cfgwatch.sanitize.

Usage: python scripts/regen_sanitize_goldens.py
Review the git diff of fixtures/sanitize/golden/ before committing: goldens are never hand-edited.
"""

from __future__ import annotations

import sys

from cfgwatch.sanitize.golden import fixture_configs, golden_paths, render


def main() -> int:
    written = 0
    for platform, config in fixture_configs():
        text_path, meta_path = golden_paths(platform, config)
        text_path.parent.mkdir(parents=True, exist_ok=True)
        text, meta = render(platform, config)
        text_path.write_text(text, encoding="utf-8")
        meta_path.write_text(meta, encoding="utf-8")
        written += 1
    print(f"wrote {written} sanitize goldens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
