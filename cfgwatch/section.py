"""Base of every cfgwatch.yaml settings section, in its own module so stage packages can define their
sections without importing cfgwatch.config (which imports them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")
