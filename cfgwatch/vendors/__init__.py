"""Platforms: one package per platform (`<name>/__init__.py` holds its `SPEC`), found through `registry`."""
