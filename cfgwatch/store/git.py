"""The snapshot repository: a (bare) git repo with configs/<device> and meta/<device>.json, one commit per run.

SnapshotStore is one object for callers, built from parts that each keep to one job:
- store.repo: opening/creating the repo, the run lock (an OS file lock), git plumbing;
- store.writer: a run as at most one commit (blob-hash comparison with HEAD, `git fast-import` into a
  scratch ref, compare-and-swap branch update; a run that dies half-way leaves HEAD intact);
- store.history: texts at a revision, changed devices, runs and per-device history (`git cat-file
  --batch`, `git diff-tree`, `git log` served from the commit-graph's changed-path Bloom filters);
- store.upkeep: geometric repack, `git gc --auto` and incremental commit-graph layers after each run;
- store.message: the commit message both the writer and the readers rely on.
"""

from __future__ import annotations

from cfgwatch.store.history import HistoryReader
from cfgwatch.store.writer import RunWriter


class SnapshotStore(RunWriter, HistoryReader):
    """The snapshot git repository of one cfgwatch project (see the module docstring for the parts)."""
