"""The snapshot repository: a (bare) git repo with configs/<device> and meta/<device>.json, one commit per run.

Why it is built this way:
- A run is compared against HEAD by blob hash: each text is hashed in-process and compared with the HEAD
  tree listing (one `git ls-tree`), so an unchanged run reads no stored file and writes nothing.
- Changed blobs and the commit are streamed into one `git fast-import` process (one pack per run, no
  loose-object storm, no working tree). fast-import writes to a scratch ref; the branch is then moved with
  a compare-and-swap `update-ref`. A run that dies half-way never moves the branch: HEAD stays intact.
- "Which devices changed between two runs" is `git diff-tree` over two trees, never a file read.
- One commit per run (not per device, as Oxidized does) keeps history short at thousands of devices.
- Per-device history is `git log -- configs/<device>`, answered from git's commit-graph with changed-path
  Bloom filters: at tens of thousands of commits git skips almost every commit without opening a tree
  (Oxidized-style repos without them take tens of seconds per history lookup). After each run, upkeep()
  adds an incremental (--split) commit-graph layer, rolls the small per-run packs into geometrically
  growing ones and lets `git gc --auto` deal with anything else, so a run never waits for a full repack.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import git

from cfgwatch.errors import InputError, LockedError, StoreError
from cfgwatch.store.journal import JournalEntry, RunJournal
from cfgwatch.store.meta import decode_meta, encode_meta
from cfgwatch.store.types import (
    DeviceFailure,
    DeviceRevision,
    DeviceSnapshot,
    RunInfo,
    RunResult,
    UpkeepReport,
    check_device_name,
)

if TYPE_CHECKING:
    from cfgwatch.sanitize import ChangeMetadata

CONFIG_DIR = "configs"
META_DIR = "meta"
LOCK_NAME = "cfgwatch.lock"
PENDING_REF = "refs/cfgwatch/pending"
DEFAULT_BRANCH = "main"

TRAILER_RUN = "Cfgwatch-Run"
TRAILER_COLLECTOR = "Cfgwatch-Collector"
TRAILER_STARTED = "Cfgwatch-Started"
_COUNT_TRAILERS = ("Changed", "Added", "Unchanged", "Failed")

# Repository settings that keep history lookups fast and housekeeping in the foreground (set by init,
# and added to older repos by the first upkeep). gc.writeCommitGraph keeps Bloom filters: git rewrites
# them whenever the existing graph has them.
REPO_SETTINGS: dict[tuple[str, str], str] = {
    ("core", "logAllRefUpdates"): "always",  # reflog even though the repo is bare
    ("gc", "autoDetach"): "false",  # housekeeping finishes before the run returns (and the lock is freed)
    ("core", "commitGraph"): "true",
    ("commitGraph", "readChangedPaths"): "true",
    ("gc", "writeCommitGraph"): "true",
}

# Progress callback: (device name, status) with status one of "added", "changed", "unchanged".
WriteProgress = Callable[[str, str], None]


def new_run_id(started: datetime) -> str:
    """Sortable and unique: UTC start time plus a random suffix."""
    return started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def format_message(
    *,
    collector: str,
    run_id: str,
    started: datetime,
    changed: Iterable[str],
    added: Iterable[str],
    unchanged_count: int,
    failed: Iterable[DeviceFailure],
) -> str:
    """Commit message: summary line, device lists, trailers, so that `git log` alone tells the story."""
    changed, added, failed = list(changed), list(added), list(failed)
    lines = [
        f"{collector}: {len(changed)} changed, {len(added)} added, {len(failed)} failed, {unchanged_count} unchanged",
        "",
    ]
    for title, names in (("changed", changed), ("added", added)):
        if names:
            lines.append(f"{title}:")
            lines.extend(f"  {name}" for name in names)
            lines.append("")
    if failed:
        lines.append("failed:")
        lines.extend(f"  {f.name} [{f.reason}] {_one_line(f.detail)}".rstrip() for f in failed)
        lines.append("")
    lines.append(f"{TRAILER_RUN}: {run_id}")
    lines.append(f"{TRAILER_COLLECTOR}: {collector}")
    lines.append(f"{TRAILER_STARTED}: {started.astimezone(UTC).isoformat()}")
    counts = (len(changed), len(added), unchanged_count, len(failed))
    lines.extend(f"Cfgwatch-{name}: {count}" for name, count in zip(_COUNT_TRAILERS, counts, strict=True))
    return "\n".join(lines) + "\n"


def parse_message(commit: str, author_time: datetime, message: str) -> RunInfo | None:
    """RunInfo from a commit message written by format_message; None for commits cfgwatch did not make."""
    trailers: dict[str, str] = {}
    sections: dict[str, list[str]] = {"changed": [], "added": [], "failed": []}
    current: str | None = None
    for line in message.splitlines()[1:]:
        if line.endswith(":") and line[:-1] in sections:
            current = line[:-1]
        elif line.startswith("  ") and current is not None:
            sections[current].append(line.strip())
        else:
            current = None
            key, sep, value = line.partition(": ")
            if sep and key.startswith("Cfgwatch-"):
                trailers[key] = value.strip()
    if TRAILER_RUN not in trailers:
        return None
    failed = []
    for entry in sections["failed"]:
        name, _, rest = entry.partition(" ")
        reason, _, detail = rest.partition("] ")
        reason = reason.strip("[]")
        failed.append(DeviceFailure(name, reason if reason else "error", detail))
    try:
        unchanged = int(trailers.get("Cfgwatch-Unchanged", "0"))
    except ValueError:
        unchanged = 0
    return RunInfo(
        commit=commit,
        run_id=trailers[TRAILER_RUN],
        time=author_time,
        collector=trailers.get(TRAILER_COLLECTOR, ""),
        changed=tuple(sections["changed"]),
        added=tuple(sections["added"]),
        failed=tuple(failed),
        unchanged_count=unchanged,
    )


class _FastImport:
    """One `git fast-import` process fed blob by blob; killed (never committed) if the run fails."""

    def __init__(self, repo: git.Repo) -> None:
        self.proc = subprocess.Popen(
            ["git", "--git-dir", repo.git_dir, "fast-import", "--quiet", "--force", "--done"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        assert self.proc.stdin is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.marks = 0

    def blob(self, data: bytes) -> int:
        self.marks += 1
        self.stdin.write(b"blob\nmark :%d\ndata %d\n" % (self.marks, len(data)))
        self.stdin.write(data)
        self.stdin.write(b"\n")
        return self.marks

    def commit(
        self,
        *,
        ref: str,
        ident: str,
        author_time: datetime,
        message: str,
        parent: str | None,
        files: Iterable[tuple[str, int]],
    ) -> None:
        msg = message.encode("utf-8")
        now = int(datetime.now(UTC).timestamp())
        out = [
            b"commit %s\n" % ref.encode(),
            b"author %s %d +0000\n" % (ident.encode(), int(author_time.timestamp())),
            b"committer %s %d +0000\n" % (ident.encode(), now),
            b"data %d\n" % len(msg),
            msg,
            b"\n",
        ]
        if parent is not None:
            out.append(b"from %s\n" % parent.encode())
        out.extend(b"M 100644 :%d %s\n" % (mark, path.encode()) for path, mark in files)
        out.append(b"\ndone\n")
        self.stdin.write(b"".join(out))

    def finish(self) -> None:
        self.stdin.close()
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode("utf-8", "replace")
        if self.proc.wait() != 0:
            raise StoreError(f"git fast-import failed: {_one_line(err, 300)}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()


class SnapshotStore:
    """The snapshot git repository of one cfgwatch project (see the module docstring for the layout)."""

    def __init__(self, path: str | Path, *, journal: Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError("snapshot repository not found (run `cfgwatch init` first)", path=self.path)
        try:
            self.repo = git.Repo(self.path, search_parent_directories=False)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise StoreError(
                "not a git repository (the snapshot path must be a repo made by `cfgwatch init`)", path=self.path
            ) from exc
        self.git_dir = Path(self.repo.git_dir)
        self.journal = RunJournal(journal) if journal is not None else None
        self._locked = False
        self._settings_checked = False
        self.last_upkeep: UpkeepReport | None = None  # set by upkeep(), also when a run triggered it
        self._hash_name = "sha1"
        try:
            fmt = self.repo.config_reader("repository").get_value("extensions", "objectformat", "sha1")
            self._hash_name = str(fmt)
        except Exception:  # no [extensions] section: classic sha1 repository
            self._hash_name = "sha1"

    # --- creation and locking -------------------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path, *, journal: Path | None = None) -> SnapshotStore:
        """Create a bare snapshot repo at path (idempotent: an existing repo is opened as it is)."""
        target = Path(path)
        if target.exists():
            try:
                git.Repo(target, search_parent_directories=False)
                return cls(target, journal=journal)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                pass
            if not target.is_dir():
                raise StoreError("exists and is not a directory", path=target)
            extra = [p.name for p in target.iterdir() if p.name != "README.md"]
            if extra:
                raise StoreError(
                    f"directory is not empty and not a git repository ({', '.join(sorted(extra)[:3])} ...)",
                    path=target,
                )
        try:
            repo = git.Repo.init(target, bare=True, mkdir=True, initial_branch=DEFAULT_BRANCH)
            with repo.config_writer() as cfg:
                for (section, option), value in REPO_SETTINGS.items():
                    cfg.set_value(section, option, value)
            (Path(repo.git_dir) / "description").write_text("cfgwatch device config snapshots\n", encoding="utf-8")
        except (git.GitCommandError, OSError) as exc:
            raise StoreError(f"cannot create the snapshot repository: {exc}", path=target) from exc
        return cls(target, journal=journal)

    @property
    def lock_path(self) -> Path:
        return self.git_dir / LOCK_NAME

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock (an OS file lock: released by the kernel even if the process is killed)."""
        if self._locked:
            yield
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the lock file: {exc.strerror}", path=self.lock_path) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            raise LockedError(
                f"another cfgwatch run holds the lock ({holder}); try again later", path=self.lock_path
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}".encode(), 0)
            self._locked = True
            yield
        finally:
            self._locked = False
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- helpers ------------------------------------------------------------------------------------

    def _git(self, *args: str) -> str:
        try:
            out: str = self.repo.git.execute(["git", *args], strip_newline_in_stdout=False)
            return out
        except git.GitCommandError as exc:
            raise StoreError(f"git {args[0]} failed: {_one_line(str(exc.stderr), 300)}", path=self.path) from exc

    def _branch_ref(self) -> str:
        try:
            return self.repo.git.symbolic_ref("HEAD")
        except git.GitCommandError:  # detached HEAD: cfgwatch only writes to its default branch
            return f"refs/heads/{DEFAULT_BRANCH}"

    def _head(self) -> str | None:
        """The commit HEAD points to, or None in a repo without any run yet."""
        try:
            return self.repo.git.rev_parse("--verify", "-q", "HEAD^{commit}")
        except git.GitCommandError:
            return None

    def _resolve(self, rev: str) -> str:
        if rev.startswith("-"):
            raise InputError(f"unknown revision '{rev}'")
        try:
            return self.repo.git.rev_parse("--verify", "-q", f"{rev}^{{commit}}")
        except git.GitCommandError:
            if rev == "HEAD" and self._head() is None:
                raise InputError("the snapshot repository has no runs yet (run `cfgwatch import` first)") from None
            raise InputError(f"unknown revision '{rev}' in the snapshot repository") from None

    def resolve(self, rev: str) -> str:
        """Full commit id of a revision (InputError naming it when unknown)."""
        return self._resolve(rev)

    def _blob_id(self, data: bytes) -> str:
        digest = hashlib.new(self._hash_name)
        digest.update(b"blob %d\0" % len(data))
        digest.update(data)
        return digest.hexdigest()

    def _tree_entries(self, commit: str | None) -> dict[str, str]:
        """path -> blob id for configs/ and meta/ at a commit (one `git ls-tree` call)."""
        if commit is None:
            return {}
        out = self._git("ls-tree", "-r", "-z", "--full-tree", commit, "--", CONFIG_DIR, META_DIR)
        entries: dict[str, str] = {}
        for record in out.split("\0"):
            if not record:
                continue
            info, _, path = record.partition("\t")
            entries[path] = info.split()[2]
        return entries

    def _read_blob(self, blob_id: str) -> bytes:
        data: bytes = self.repo.odb.stream(bytes.fromhex(blob_id)).read()
        return data

    def _ident(self) -> str:
        """Committer identity: the snapshot repo's own user.name/email if set, else "cfgwatch"."""
        reader = self.repo.config_reader("repository")
        name = reader.get_value("user", "name", "cfgwatch")
        email = reader.get_value("user", "email", "cfgwatch@localhost")
        return f"{name} <{email}>"

    # --- writing a run ------------------------------------------------------------------------------

    def write_run(
        self,
        snapshots: Iterable[DeviceSnapshot],
        failures: Iterable[DeviceFailure] = (),
        *,
        collector: str,
        started: datetime,
        run_id: str | None = None,
        progress: WriteProgress | None = None,
    ) -> RunResult:
        """Commit one run: every added/changed device in one commit, no commit if nothing changed.

        `snapshots` may be a generator (texts are streamed, not held in memory). If it raises, nothing
        is committed and HEAD is untouched. Devices not mentioned keep their last snapshot.
        """
        if started.tzinfo is None:
            raise ValueError("started must be timezone-aware")
        run_id = run_id or new_run_id(started)
        failed = tuple(sorted(failures, key=lambda f: f.name))
        for failure in failed:
            check_device_name(failure.name)
        with self.lock():
            result = self._write_locked(snapshots, failed, collector=collector, started=started, run_id=run_id,
                                        progress=progress)  # fmt: skip
            if self.journal is not None:
                self.journal.append(
                    JournalEntry.from_result(result, collector=collector, started=started, finished=datetime.now(UTC))
                )
        return result

    def _write_locked(
        self,
        snapshots: Iterable[DeviceSnapshot],
        failed: tuple[DeviceFailure, ...],
        *,
        collector: str,
        started: datetime,
        run_id: str,
        progress: WriteProgress | None,
    ) -> RunResult:
        head = self._head()
        branch = self._branch_ref()
        existing = self._tree_entries(head)
        failed_names = {f.name for f in failed}
        seen: set[str] = set()
        changed: list[str] = []
        added: list[str] = []
        unchanged: list[str] = []
        files: list[tuple[str, int]] = []
        importer: _FastImport | None = None
        try:
            for snap in snapshots:
                name = check_device_name(snap.name)
                if name in seen:
                    raise InputError(f"device '{name}' appears twice in one run")
                if name in failed_names:
                    raise InputError(f"device '{name}' is listed both as collected and as failed")
                seen.add(name)
                data = snap.text.encode("utf-8")
                meta = encode_meta(snap.platform, snap.metadata)
                cfg_path, meta_path = f"{CONFIG_DIR}/{name}", f"{META_DIR}/{name}.json"
                old_cfg = existing.get(cfg_path)
                write_cfg = old_cfg != self._blob_id(data)
                write_meta = write_cfg
                if not write_cfg:
                    old_meta = existing.get(meta_path)
                    if old_meta != self._blob_id(meta):
                        # Same text: only a platform change counts; newer header metadata of an
                        # unchanged text is not a change (it describes the stored text's last edit).
                        old_platform = decode_meta(self._read_blob(old_meta))[0] if old_meta else None
                        write_meta = old_platform != snap.platform
                if not write_cfg and not write_meta:
                    unchanged.append(name)
                    if progress:
                        progress(name, "unchanged")
                    continue
                if importer is None:
                    self._drop_pending()
                    importer = _FastImport(self.repo)
                if write_cfg:
                    files.append((cfg_path, importer.blob(data)))
                files.append((meta_path, importer.blob(meta)))
                status = "added" if old_cfg is None else "changed"
                (added if old_cfg is None else changed).append(name)
                if progress:
                    progress(name, status)
            if importer is None:
                return RunResult(run_id, None, (), (), tuple(sorted(unchanged)), failed)
            changed.sort()
            added.sort()
            message = format_message(
                collector=collector,
                run_id=run_id,
                started=started,
                changed=changed,
                added=added,
                unchanged_count=len(unchanged),
                failed=failed,
            )
            importer.commit(
                ref=PENDING_REF, ident=self._ident(), author_time=started, message=message, parent=head, files=files
            )
            importer.finish()
            importer = None
        except BaseException:
            if importer is not None:
                importer.kill()
            self._drop_pending()
            raise
        commit = self._git("rev-parse", "--verify", PENDING_REF).strip()
        # Compare-and-swap: the branch moves only if it still points where this run started from.
        self._git("update-ref", "-m", f"cfgwatch run {run_id}", branch, commit, head or "")
        self._drop_pending()
        with suppress(StoreError):  # housekeeping only: the run is already committed
            self.upkeep()
        return RunResult(run_id, commit, tuple(changed), tuple(added), tuple(sorted(unchanged)), failed)

    def _drop_pending(self) -> None:
        with suppress(git.GitCommandError):
            self.repo.git.update_ref("-d", PENDING_REF)

    # --- reading --------------------------------------------------------------------------------------

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
            result[name] = (text.decode("utf-8", "replace"), platform)
        return result

    def read(self, name: str, rev: str = "HEAD") -> str:
        """A device's sanitized config at a revision; InputError if the device is not in that snapshot."""
        check_device_name(name)
        data = self._blob_at(rev, f"{CONFIG_DIR}/{name}")
        if data is None:
            raise InputError(f"device '{name}' is not in the snapshot at {rev}")
        return data.decode("utf-8", "replace")

    def last_good(self, name: str) -> str | None:
        """The text at HEAD, or None if the device was never collected (or the repo has no run yet)."""
        if self._head() is None:
            return None
        data = self._blob_at("HEAD", f"{CONFIG_DIR}/{check_device_name(name)}")
        return data.decode("utf-8", "replace") if data is not None else None

    def _meta(self, name: str, rev: str) -> tuple[str | None, ChangeMetadata | None]:
        check_device_name(name)
        data = self._blob_at(rev, f"{META_DIR}/{name}.json")
        if data is None:
            if self._blob_at(rev, f"{CONFIG_DIR}/{name}") is None:
                raise InputError(f"device '{name}' is not in the snapshot at {rev}")
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
            raise InputError(f"device '{name}' has never been snapshotted (see `cfgwatch log` for devices)")
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

    def _run_git(self, args: list[str], stdin: bytes | None = None) -> bytes:
        """Run git on the snapshot repo directly (thread-safe, bytes out); StoreError on failure."""
        try:
            proc = subprocess.run(
                ["git", "--git-dir", str(self.git_dir), *args],
                input=stdin,
                capture_output=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                check=False,
            )
        except OSError as exc:
            raise StoreError(f"cannot run git: {exc.strerror}", path=self.path) from exc
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            raise StoreError(f"git {args[0]} failed: {_one_line(err, 300)}", path=self.path)
        return proc.stdout

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

    # --- upkeep -----------------------------------------------------------------------------------------

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
