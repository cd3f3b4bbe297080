"""Repository upkeep: keeps the snapshot repo small and per-device history lookups fast as runs pile up.

After each committed run the writer calls upkeep(): an incremental (--split) commit-graph layer with
changed-path Bloom filters, the small per-run packs rolled into geometrically growing ones, and
`git gc --auto` for anything else, so a run never waits for a full repack. A scheduled job can ask for
the full version (`git gc` and one rewritten commit-graph).
"""

from __future__ import annotations

import os
import time
from contextlib import suppress
from pathlib import Path

from cfgwatch.store.repo import REPO_SETTINGS, GitRepo
from cfgwatch.store.types import UpkeepReport


class RepoUpkeep(GitRepo):
    """gc, geometric repack and commit-graph upkeep of the snapshot repo, plus the numbers it reports."""

    last_upkeep: UpkeepReport | None = None  # set by upkeep(), also when a run triggered it
    _settings_checked = False  # REPO_SETTINGS looked at once per open store

    def upkeep(self, *, full: bool = False) -> UpkeepReport:
        """Keep the repo small and history lookups fast; runs after every committed run (under the lock).

        Incremental (default, a fraction of a second): roll the small per-run packs (and loose objects)
        into geometrically growing packs (`git repack -d --geometric=2`: each object is rewritten only
        O(log runs) times, so no run waits for a full repack), `git gc --auto` for anything else, then an
        incremental commit-graph layer with changed-path Bloom filters for the new commits.
        full=True: `git gc` (full repack, prune) and one rewritten commit-graph, for a scheduled job.
        Only objects and index files are rewritten: refs, HEAD and every reachable object stay.
        """
        started = time.perf_counter()
        with self.lock():
            self._ensure_settings()
            if full:
                self._run_git(["gc", "--quiet"])
            else:
                self._run_git(["repack", "-d", "-q", "--geometric=2"])
                self._run_git(["gc", "--auto", "--quiet"])
            repacked = time.perf_counter()
            if self._head() is not None:
                mode = [] if full else ["--split"]
                self._run_git(["commit-graph", "write", "--reachable", "--changed-paths", *mode, "--no-progress"])
            done = time.perf_counter()
        layers, bloom = self._graph_state()
        packs, loose, size = self._object_stats()
        report = UpkeepReport(
            seconds=done - started,
            graph_seconds=done - repacked,
            repack_seconds=repacked - started,
            packs=packs,
            loose_objects=loose,
            graph_layers=layers,
            bloom_filters=bloom,
            size_bytes=size,
        )
        self.last_upkeep = report
        return report

    def _ensure_settings(self) -> None:
        """Add REPO_SETTINGS missing from a repo made by an older cfgwatch (user choices are kept)."""
        if self._settings_checked:
            return
        reader = self.repo.config_reader("repository")
        missing = [(key, value) for key, value in REPO_SETTINGS.items() if not reader.has_option(*key)]
        if missing:
            with self.repo.config_writer() as cfg:
                for (section, option), value in missing:
                    cfg.set_value(section, option, value)
        self._settings_checked = True

    def _graph_files(self) -> list[Path]:
        info = self.git_dir / "objects" / "info"
        chain = info / "commit-graphs" / "commit-graph-chain"
        files: list[Path] = []
        if (info / "commit-graph").is_file():
            files.append(info / "commit-graph")
        elif chain.is_file():
            hashes = chain.read_text(encoding="ascii").split()
            files.extend(info / "commit-graphs" / f"graph-{h}.graph" for h in hashes)
        return files

    def _graph_state(self) -> tuple[int, bool]:
        """(commit-graph layers, whether every layer has changed-path Bloom filters) from the chunk tables."""
        files = self._graph_files()
        bloom = bool(files)
        for path in files:
            with path.open("rb") as handle:
                head = handle.read(8)
                chunks = head[6] if len(head) == 8 and head[:4] == b"CGPH" else 0
                table = handle.read(12 * chunks)
            ids = {table[k : k + 4] for k in range(0, len(table), 12)}
            bloom = bloom and b"BIDX" in ids and b"BDAT" in ids
        return len(files), bloom

    def _object_stats(self) -> tuple[int, int, int]:
        """(pack files, loose objects, bytes under objects/)."""
        packs = loose = size = 0
        for root, _dirs, names in os.walk(self.git_dir / "objects"):
            base = os.path.basename(root)
            for fname in names:
                with suppress(OSError):
                    size += os.stat(os.path.join(root, fname)).st_size
                if fname.endswith(".pack"):
                    packs += 1
                elif len(base) == 2 and len(fname) >= 38:
                    loose += 1
        return packs, loose, size

    def remove_commit_graph(self) -> None:
        """Delete the commit-graph files (benchmark baseline / recovery; upkeep writes them again)."""
        with self.lock():
            info = self.git_dir / "objects" / "info"
            with suppress(FileNotFoundError):
                (info / "commit-graph").unlink()
            graphs = info / "commit-graphs"
            if graphs.is_dir():
                for path in graphs.iterdir():
                    path.unlink()
                graphs.rmdir()
