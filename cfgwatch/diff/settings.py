"""The `diff:` section of cfgwatch.yaml: how much packet-space work one changed rule may cost."""

from __future__ import annotations

from pydantic import Field

from cfgwatch.model.budget import DEFAULT_BUDGET, DiffBudget
from cfgwatch.section import Section


class DiffSettings(Section):
    """Past either limit a change is judged as widening everything it matches (and says so), so a hostile
    or huge ACL costs bounded time instead of blinding the audit."""

    max_cells: int = Field(default=DEFAULT_BUDGET.max_cells, ge=1_000, le=100_000_000)
    max_seconds: float = Field(default=DEFAULT_BUDGET.max_seconds, gt=0, le=3_600)  # per changed rule
    max_total_seconds: float = Field(default=DEFAULT_BUDGET.max_total_seconds, gt=0, le=86_400)  # per device

    def budget(self) -> DiffBudget:
        return DiffBudget(
            max_cells=self.max_cells, max_seconds=self.max_seconds, max_total_seconds=self.max_total_seconds
        )
