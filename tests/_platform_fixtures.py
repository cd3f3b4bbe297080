"""Put extra entry points into the platform registry's group, as another installed package would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint, EntryPoints

import pytest

from cfgwatch import plugins
from cfgwatch.vendors.registry import PLATFORMS


@contextmanager
def extra_platforms(monkeypatch: pytest.MonkeyPatch, **targets: str) -> Iterator[None]:
    """Entry points `name = "module:attr"` in the `cfgwatch.platforms` group from a package that is not
    cfgwatch (so they override built-ins of the same name); the registry is re-read on entry and exit."""
    real = plugins._entry_points_of
    extra = [EntryPoint(name, value, PLATFORMS.group) for name, value in targets.items()]

    def fake(group: str) -> EntryPoints:
        found = list(real(group))
        return EntryPoints(found + extra if group == PLATFORMS.group else found)

    monkeypatch.setattr(plugins, "_entry_points_of", fake)
    PLATFORMS.reset()
    try:
        yield
    finally:
        monkeypatch.setattr(plugins, "_entry_points_of", real)
        PLATFORMS.reset()
