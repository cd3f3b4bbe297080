"""Reading the snapshot history: texts and platforms at a revision, changed devices, runs and per-device logs.

Why it is built this way:
- Many texts are read in one `git cat-file --batch` (the diff reads all its changed devices at once);
  `git cat-file` looks the path up in C instead of parsing the whole configs/ tree per read.
- "Which devices changed between two runs" is `git diff-tree` over two trees, never a file read.
- Per-device history is `git log -- configs/<device>`, answered from git's commit-graph with changed-path
  Bloom filters (kept by upkeep): at tens of thousands of commits git skips almost every commit without
  opening a tree (Oxidized-style repos without them take tens of seconds per history lookup).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cfgwatch.errors import CfgwatchError, InputError, StoreError
from cfgwatch.model.text import strip_bom
from cfgwatch.names import closest
from cfgwatch.store.message import TRAILER_COLLECTOR, TRAILER_RUN, parse_message
from cfgwatch.store.meta import decode_meta
from cfgwatch.store.repo import CONFIG_DIR, META_DIR, GitRepo
from cfgwatch.store.types import DeviceRevision, RunInfo, check_device_name

if TYPE_CHECKING:
    from cfgwatch.sanitize import ChangeMetadata


class HistoryReader(GitRepo):
    """Read-only queries on the snapshot repo; none of them takes the run lock."""

    def _blob_at(self, rev: str, path: str) -> bytes | None:
        # `git cat-file` looks the path up in C; GitPython parsed the whole 5,000-entry configs/ tree per read
        commit = self._resolve(rev)
        return self._cat_batch([f"{commit}:{path}"]).get(f"{commit}:{path}")

    def read_many(self, names: Sequence[str], rev: str = "HEAD") -> dict[str, tuple[str, str | None]]:
        """Text and platform of many devices at one revision from one `git cat-file --batch`.

        Devices absent at that revision are left out; the diff reads its changed devices this way.
        """
        commit = self._resolve(rev)
        for name in names:
            check_device_name(name)
        requests = [f"{commit}:{CONFIG_DIR}/{name}" for name in names]
        requests += [f"{commit}:{META_DIR}/{name}.json" for name in names]
        found = self._cat_batch(requests)
        result: dict[str, tuple[str, str | None]] = {}
        for name in names:
            text = found.get(f"{commit}:{CONFIG_DIR}/{name}")
            if text is None:
                continue
            meta = found.get(f"{commit}:{META_DIR}/{name}.json")
            try:
                platform = decode_meta(meta)[0] if meta is not None else None
            except ValueError as exc:
                raise StoreError(f"malformed meta file for '{name}' at {rev}: {exc}", path=self.path) from exc
            result[name] = (strip_bom(text.decode("utf-8", "replace")), platform)
        return result

    def sizes(self, names: Sequence[str], rev: str = "HEAD") -> dict[str, int]:
        """Byte size of many devices' stored configs at one revision, from one `git ls-tree -l`.

        All a pull's size check needs of the last good snapshots: reading the texts by rev:path made git
        look each path up in the whole configs/ tree (9 s of CPU for 5,000 devices), and decoding them
        cost more than the run they guard. Devices absent at that revision are left out.
        """
        commit = self._resolve(rev)
        wanted = {check_device_name(name) for name in names}
        if not wanted:
            return {}
        out = self._git("ls-tree", "-r", "-l", "-z", "--full-tree", commit, "--", f"{CONFIG_DIR}/")
        sizes: dict[str, int] = {}
        for record in out.split("\0"):
            info, _, path = record.partition("\t")
            name = path.removeprefix(f"{CONFIG_DIR}/")
            fields = info.split()
            if name in wanted and len(fields) == 4 and fields[1] == "blob":
                sizes[name] = int(fields[3])
        return sizes

    def read(self, name: str, rev: str = "HEAD") -> str:
        """A device's sanitized config at a revision; InputError if the device is not in that snapshot."""
        check_device_name(name)
        data = self._blob_at(rev, f"{CONFIG_DIR}/{name}")
        if data is None:
            raise InputError(f"device '{name}' is not in the snapshot at {rev}{self._closest_device(name, rev)}")
        return strip_bom(data.decode("utf-8", "replace"))

    def _closest_device(self, name: str, rev: str) -> str:
        """` (closest: 'edge1')` for an error about a mistyped device name, or nothing."""
        try:
            hint = closest(name, self.devices(rev))
        except CfgwatchError:
            return ""
        return f" (closest: {hint!r})" if hint else ""

    def last_good(self, name: str) -> str | None:
        """The text at HEAD, or None if the device was never collected (or the repo has no run yet)."""
        if self._head() is None:
            return None
        data = self._blob_at("HEAD", f"{CONFIG_DIR}/{check_device_name(name)}")
        return strip_bom(data.decode("utf-8", "replace")) if data is not None else None

    def _meta(self, name: str, rev: str) -> tuple[str | None, ChangeMetadata | None]:
        check_device_name(name)
        data = self._blob_at(rev, f"{META_DIR}/{name}.json")
        if data is None:
            if self._blob_at(rev, f"{CONFIG_DIR}/{name}") is None:
                raise InputError(f"device '{name}' is not in the snapshot at {rev}{self._closest_device(name, rev)}")
            return None, None
        try:
            return decode_meta(data)
        except ValueError as exc:
            raise StoreError(f"malformed meta file for '{name}' at {rev}: {exc}", path=self.path) from exc

    def platform(self, name: str, rev: str = "HEAD") -> str | None:
        return self._meta(name, rev)[0]

    def metadata(self, name: str, rev: str = "HEAD") -> ChangeMetadata | None:
        return self._meta(name, rev)[1]

    def devices(self, rev: str = "HEAD") -> list[str]:
        """Every device with a snapshot at rev (empty for a repo with no run yet)."""
        if rev == "HEAD" and self._head() is None:
            return []
        commit = self._resolve(rev)
        out = self._git("ls-tree", "-z", "--name-only", "--full-tree", commit, f"{CONFIG_DIR}/")
        return sorted(p.removeprefix(f"{CONFIG_DIR}/") for p in out.split("\0") if p)

    def changed_devices(self, rev_a: str | None, rev_b: str = "HEAD") -> list[str]:
        """Devices whose config or platform differs between two revisions, from git's tree diff.

        rev_a None means "before the first run" (every device at rev_b counts as changed).
        """
        b = self._resolve(rev_b)
        a = self._resolve(rev_a) if rev_a is not None else self._git("hash-object", "-t", "tree", "/dev/null").strip()
        out = self._git("diff-tree", "-r", "-z", "--name-only", "--no-renames", a, b, "--", CONFIG_DIR, META_DIR)
        names: set[str] = set()
        for path in out.split("\0"):
            if path.startswith(f"{CONFIG_DIR}/"):
                names.add(path.removeprefix(f"{CONFIG_DIR}/"))
            elif path.startswith(f"{META_DIR}/") and path.endswith(".json"):
                names.add(path.removeprefix(f"{META_DIR}/").removesuffix(".json"))
        return sorted(names)

    def runs(self, limit: int | None = None) -> list[RunInfo]:
        """Runs that committed something, newest first (read from commit messages, no tree walk)."""
        if self._head() is None:
            return []
        args = ["log", "--format=%H%x00%aI%x00%B%x01"]
        if limit is not None:
            args.append(f"-n{max(limit, 0)}")
        out = self._git(*args, "HEAD")
        result: list[RunInfo] = []
        for record in out.split("\x01"):
            record = record.lstrip("\n")
            if not record:
                continue
            commit, author_time, message = record.split("\0", 2)
            info = parse_message(commit, datetime.fromisoformat(author_time), message)
            if info is not None:
                result.append(info)
        return result

    # --- per-device history -----------------------------------------------------------------------------

    def history(self, name: str, limit: int | None = None) -> list[DeviceRevision]:
        """The runs that changed a device, newest first (at most `limit`), with platform and change metadata.

        Answered by `git log -- configs/<device>` (and the same for its meta file, in parallel), which git
        serves from the commit-graph's changed-path Bloom filters, so the cost barely grows with history
        length; meta files are then read in one `git cat-file --batch`. InputError names the device if it
        has never been snapshotted.
        """
        check_device_name(name)
        if limit is not None and limit < 1:
            raise InputError(f"history limit must be at least 1 (got {limit})")
        head = self._head()
        if head is None:
            raise InputError(f"device '{name}' has no snapshot: the snapshot repository has no runs yet")
        cfg_path, meta_path = f"{CONFIG_DIR}/{name}", f"{META_DIR}/{name}.json"
        with ThreadPoolExecutor(max_workers=2) as pool:
            cfg_job = pool.submit(self._touches, cfg_path, head, limit)
            meta_job = pool.submit(self._touches, meta_path, head, limit)
            cfg_touches, meta_touches = cfg_job.result(), meta_job.result()
        if not cfg_touches and not meta_touches:
            raise InputError(
                f"device '{name}' has never been snapshotted{self._closest_device(name, 'HEAD')} "
                "(see `cfgwatch log` for devices)"
            )
        merged = self._merge_touches(cfg_touches, meta_touches)
        if limit is not None:
            merged = merged[:limit]

        # The meta blob each revision carries: changed where the meta file was touched, else inherited
        # from the next older revision; only the oldest revision in the window may need a tree lookup.
        oldest_commit, _, oldest_meta = merged[-1]
        lookups: list[str] = [] if oldest_meta is not None else [f"{oldest_commit}:{meta_path}"]
        lookups.extend(t.blob for _, _, t in merged if t is not None and t.status != "D")
        contents = self._cat_batch(lookups)
        current: str | None = None if oldest_meta is not None else lookups[0]
        meta_at: list[str | None] = []
        for _, _, meta_touch in reversed(merged):
            if meta_touch is not None:
                current = None if meta_touch.status == "D" else meta_touch.blob
            meta_at.append(current)
        meta_at.reverse()

        decoded: dict[str, tuple[str | None, ChangeMetadata | None]] = {}
        revisions: list[DeviceRevision] = []
        for (commit, cfg_touch, meta_touch), meta_key in zip(merged, meta_at, strict=True):
            platform, metadata = None, None
            data = contents.get(meta_key) if meta_key is not None else None
            if meta_key is not None and data is not None:
                if meta_key not in decoded:
                    try:
                        decoded[meta_key] = decode_meta(data)
                    except ValueError as exc:
                        raise StoreError(
                            f"malformed meta file for '{name}' at {commit[:12]}: {exc}", path=self.path
                        ) from exc
                platform, metadata = decoded[meta_key]
            touch = cfg_touch if cfg_touch is not None else meta_touch
            assert touch is not None
            if cfg_touch is None:
                status = "platform"
            else:
                status = {"A": "added", "D": "removed"}.get(cfg_touch.status, "changed")
            revisions.append(
                DeviceRevision(
                    commit=commit,
                    run_id=touch.run_id,
                    time=datetime.fromisoformat(touch.author_time),
                    collector=touch.collector,
                    status=status,
                    platform=platform,
                    metadata=metadata,
                )
            )
        return revisions

    def _touches(self, path: str, head: str, limit: int | None) -> list[_Touch]:
        """Commits that changed one path, newest first: one `git log` that git answers from Bloom filters."""
        args = ["log", f"--format={_LOG_FORMAT}", "--raw", "--no-abbrev", "--no-renames"]
        if limit is not None:
            args.append(f"-n{limit}")
        out = self._run_git([*args, head, "--", path])
        touches: list[_Touch] = []
        for record in out.split(b"\x01")[1:]:
            header, _, rest = record.decode("utf-8", "replace").partition("\n")
            commit, commit_time, author_time, run_id, collector = header.split("\0")
            for line in rest.splitlines():
                info, _, changed_path = line.partition("\t")
                if line.startswith(":") and changed_path == path:
                    fields = info.split()
                    touches.append(
                        _Touch(commit, int(commit_time), author_time, run_id, collector, fields[4][0], fields[3])
                    )
                    break
        return touches

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return (
            subprocess.run(
                ["git", "--git-dir", str(self.git_dir), "merge-base", "--is-ancestor", older, newer],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )

    def _merge_touches(self, cfg: list[_Touch], meta: list[_Touch]) -> list[tuple[str, _Touch | None, _Touch | None]]:
        """Merge two newest-first lists of commits from the same line of history into one, newest first.

        Commits in both lists are anchors; two commits found in only one list each are ordered by commit
        time, and by ancestry when the times are equal (runs within one second).
        """
        in_cfg = {t.commit for t in cfg}
        in_meta = {t.commit for t in meta}
        merged: list[tuple[str, _Touch | None, _Touch | None]] = []
        i = j = 0
        while i < len(cfg) and j < len(meta):
            a, b = cfg[i], meta[j]
            if a.commit == b.commit:
                merged.append((a.commit, a, b))
                i, j = i + 1, j + 1
                continue
            if a.commit in in_meta:
                take_cfg = False  # a comes later in meta, so b is newer
            elif b.commit in in_cfg:
                take_cfg = True
            elif a.commit_time != b.commit_time:
                take_cfg = a.commit_time > b.commit_time
            else:
                take_cfg = self._is_ancestor(b.commit, a.commit)
            if take_cfg:
                merged.append((a.commit, a, None))
                i += 1
            else:
                merged.append((b.commit, None, b))
                j += 1
        merged.extend((t.commit, t, None) for t in cfg[i:])
        merged.extend((t.commit, None, t) for t in meta[j:])
        return merged

    def _cat_batch(self, names: list[str]) -> dict[str, bytes]:
        """Contents of many objects (ids or rev:path names) from one `git cat-file --batch`; missing ones left out."""
        unique = list(dict.fromkeys(names))
        if not unique:
            return {}
        out = self._run_git(["cat-file", "--batch"], stdin="".join(f"{n}\n" for n in unique).encode())
        result: dict[str, bytes] = {}
        pos = 0
        for request in unique:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3 and header[1] != b"missing":
                size = int(header[2])
                result[request] = out[pos : pos + size]
                pos += size + 1
        return result


_LOG_FORMAT = (
    "%x01%H%x00%ct%x00%aI%x00%(trailers:key=" + TRAILER_RUN + ",valueonly,separator=%x2C)"
    "%x00%(trailers:key=" + TRAILER_COLLECTOR + ",valueonly,separator=%x2C)"
)


@dataclass(frozen=True, slots=True)
class _Touch:
    """One commit that changed one path, from `git log --raw` (status A/M/D/T, new blob id)."""

    commit: str
    commit_time: int
    author_time: str
    run_id: str
    collector: str
    status: str
    blob: str
