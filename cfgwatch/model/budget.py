"""The diff budget, apart from the packet-space code so that reading cfgwatch.yaml does not import numpy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiffBudget:
    """How much packet-space work one changed rule may cost before it is judged conservatively.

    The defaults keep the worst case of a changed rule around a second on one core (two million cells
    decided by numpy: 1.4 M cells took 0.5 s, 3.2 M 1.1 s), a wall-clock cap per changed rule for lists
    long enough that even that takes too long, and one per device diff, below the 30 s a fuzz case may take.
    """

    max_cells: int = 2_000_000
    max_seconds: float = 5.0
    max_total_seconds: float = 20.0  # one device's whole diff: later changes are judged conservatively


DEFAULT_BUDGET = DiffBudget()
