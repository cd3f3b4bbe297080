"""The run writer: one collection run becomes at most one commit, written under the run lock.

Why it is built this way:
- A run is compared against HEAD by blob hash: each text is hashed in-process and compared with the HEAD
  tree listing (one `git ls-tree`), so an unchanged run reads no stored file and writes nothing. A text
  for a path HEAD does not have is not hashed at all (nothing to compare with; fast-import hashes it).
  A KnownSnapshot (blob ids from a collector's verified file cache) is unchanged when HEAD's tree holds
  exactly its ids, without any text; otherwise its text is loaded and compared as usual.
- A pulled text (held in memory) is proven unchanged without hashing when it is byte-equal to a trusted
  plain copy of the tree's blob (store.copies: half the CPU of SHA-1); any doubt about the copy means
  the text is hashed as before.
- Changed blobs and the commit are streamed into one `git fast-import` process (one pack per run, no
  loose-object storm, no working tree); a big run (a first import) shares its blobs with helper
  processes on the other cores, and the commit follows once their packs are written. fast-import
  writes to a scratch ref; the branch is then moved with a compare-and-swap `update-ref`. A run that
  dies half-way never moves the branch: HEAD stays intact.
- One commit per run (not per device, as Oxidized does) keeps history short at thousands of devices.
- Every committed run is followed by upkeep (store.upkeep) while the lock is still held.
"""

from __future__ import annotations

import hashlib
import os
import queue
import secrets
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import IO

import git

from cfgwatch.errors import InputError, StoreError
from cfgwatch.store.copies import StoredCopies
from cfgwatch.store.journal import JournalEntry, missing_runs
from cfgwatch.store.message import format_message, one_line
from cfgwatch.store.meta import decode_meta, encode_meta
from cfgwatch.store.repo import CONFIG_DIR, META_DIR
from cfgwatch.store.types import DeviceFailure, DeviceSnapshot, KnownSnapshot, RunResult, check_device_name
from cfgwatch.store.upkeep import RepoUpkeep

PENDING_REF = "refs/cfgwatch/pending"


def new_run_id(started: datetime) -> str:
    """Sortable and unique: UTC start time plus a random suffix."""
    return started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


CHUNK_BYTES = 16 << 20  # blob bytes per turn of one fast-import process in a big run
HELPER_QUEUE = 256  # blobs queued per helper process (about 2 chunks of 130 kB texts)


def _spawn_fast_import(git_dir: str, lock_fd: int | None, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["git", "--git-dir", git_dir, "fast-import", "--quiet", "--done", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        pass_fds=() if lock_fd is None else (lock_fd,),  # holds the run lock as long as it runs
    )


class _BlobHelper:
    """A second `git fast-import` that only packs blobs, fed from a queue by its own thread.

    It lets a big run (a first import: 600 MB) use a second core: git's delta search and zlib run in
    both processes at once. Its blob ids come back through --export-marks once it has finished, before
    the main process writes the commit that names them.
    """

    def __init__(self, git_dir: str, lock_fd: int | None) -> None:
        fd, marks = tempfile.mkstemp(prefix="tmp_cfgwatch_marks_", dir=os.path.join(git_dir, "objects", "pack"))
        os.close(fd)
        self.marks_path = marks
        self.proc = _spawn_fast_import(git_dir, lock_fd, f"--export-marks={marks}")
        self.queue: queue.Queue[bytes | None] = queue.Queue(HELPER_QUEUE)
        self.error: OSError | None = None
        self.thread = threading.Thread(target=self._feed, name="cfgwatch-fast-import", daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    stdin.write(item)
                except OSError as exc:  # the process died (out of space, killed): keep draining the queue
                    self.error = exc
        with suppress(OSError):
            stdin.close()

    def finish(self) -> dict[int, str]:
        """Wait for the process; blob mark -> id of everything it wrote."""
        self.queue.put(b"done\n")
        self.queue.put(None)
        self.thread.join()
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode("utf-8", "replace")
        if self.proc.wait() != 0 or self.error is not None:
            raise StoreError(f"git fast-import failed: {one_line(err or str(self.error), 300)}")
        with open(self.marks_path, encoding="ascii") as handle:
            ids = {int(mark[1:]): oid for mark, oid in (line.split() for line in handle if line.strip())}
        self.drop()
        return ids

    def kill(self) -> None:
        with suppress(OSError):
            self.proc.kill()
        while True:  # unblock the feeding thread, then stop it
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.queue.put(None)
        self.thread.join()
        self.proc.wait()
        if self.proc.stderr is not None:
            with suppress(OSError):
                self.proc.stderr.close()
        self.drop()

    def drop(self) -> None:
        with suppress(OSError):
            os.unlink(self.marks_path)


class _FastImport:
    """The run's `git fast-import` process, fed blob by blob; killed (never committed) if the run fails.

    A run that writes more than CHUNK_BYTES of blobs hands every other chunk to helper processes (one
    per further core, at most 3) that pack blobs in parallel; the commits are written last, by this
    process, once the helpers have finished and their blobs can be named by id. Only this process
    moves a ref (the scratch ref), so a run that dies anywhere leaves the branch as it was.
    """

    def __init__(self, repo: git.Repo, lock_fd: int | None = None) -> None:
        self.git_dir = str(repo.git_dir)
        self.lock_fd = lock_fd
        self.proc = _spawn_fast_import(self.git_dir, lock_fd, "--force")
        assert self.proc.stdin is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.marks = 0
        self.helpers: list[_BlobHelper] = []
        self.max_helpers = max(0, min(os.cpu_count() or 1, 4) - 1)
        self.chunk = 0  # which chunk of CHUNK_BYTES the next blob belongs to
        self.chunk_bytes = 0
        self.commits: list[tuple[bytes, str | None, list[tuple[str, int]]]] = []

    def blob(self, data: bytes) -> int:
        self.marks += 1
        record = b"blob\nmark :%d\ndata %d\n" % (self.marks, len(data))
        turn = self.chunk % (1 + self.max_helpers)
        if turn == 0:
            self.stdin.write(record)
            self.stdin.write(data)
            self.stdin.write(b"\n")
        else:
            if turn > len(self.helpers):
                self.helpers.append(_BlobHelper(self.git_dir, self.lock_fd))
            self.helpers[turn - 1].queue.put(record + data + b"\n")
        self.chunk_bytes += len(data)
        if self.chunk_bytes >= CHUNK_BYTES:
            self.chunk, self.chunk_bytes = self.chunk + 1, 0
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
        author: str | None = None,
    ) -> int:
        """Queue one commit (written by finish); returns its mark, which a later commit can name as parent."""
        msg = message.encode("utf-8")
        now = int(datetime.now(UTC).timestamp())
        self.marks += 1
        head = b"".join(
            [
                b"commit %s\n" % ref.encode(),
                b"mark :%d\n" % self.marks,
                b"author %s %d +0000\n" % ((author or ident).encode(), int(author_time.timestamp())),
                b"committer %s %d +0000\n" % (ident.encode(), now),
                b"data %d\n" % len(msg),
                msg,
                b"\n",
            ]
        )
        self.commits.append((head, parent, list(files)))
        return self.marks

    def finish(self) -> None:
        ids: dict[int, str] = {}
        for helper in self.helpers:  # their packs exist before this process names their blobs
            ids.update(helper.finish())
        self.helpers = []
        for head, parent, files in self.commits:
            out = [head]
            if parent is not None:
                out.append(b"from %s\n" % parent.encode())
            for path, mark in files:
                blob = ids[mark].encode() if mark in ids else b":%d" % mark
                out.append(b"M 100644 %s %s\n" % (blob, path.encode()))
            out.append(b"\n")
            self.stdin.write(b"".join(out))
        self.stdin.write(b"done\n")
        self.stdin.close()
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode("utf-8", "replace")
        if self.proc.wait() != 0:
            raise StoreError(f"git fast-import failed: {one_line(err, 300)}")

    def kill(self) -> None:
        for helper in self.helpers:
            helper.kill()
        self.helpers = []
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()


class RunWriter(RepoUpkeep):
    """write_run and what it needs: the HEAD tree listing, blob hashing, fast-import and the branch update."""

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

    def write_run(
        self,
        snapshots: Iterable[DeviceSnapshot | KnownSnapshot],
        failures: Iterable[DeviceFailure] = (),
        *,
        collector: str,
        started: datetime,
        run_id: str | None = None,
        copies: StoredCopies | None = None,
    ) -> RunResult:
        """Commit one run: every added/changed device in one commit, no commit if nothing changed.

        `snapshots` may be a generator (texts are streamed, not held in memory). If it raises, nothing
        is committed and HEAD is untouched. Devices not mentioned keep their last snapshot. The result's
        `blobs` holds every device's blob ids as the branch now has them. `copies` (a pull's) proves
        texts equal to the tree's blobs by comparing bytes instead of hashing, and learns from the run.
        """
        if started.tzinfo is None:
            raise ValueError("started must be timezone-aware")
        run_id = run_id or new_run_id(started)
        failed = tuple(sorted(failures, key=lambda f: f.name))
        for failure in failed:
            check_device_name(failure.name)
        with self.lock():
            result = self._write_locked(
                snapshots, failed, collector=collector, started=started, run_id=run_id, copies=copies
            )
            if copies is not None:
                copies.save()  # best effort: an index not written costs hashes next time
            if self.journal is not None:
                entry = JournalEntry.from_result(
                    result, collector=collector, started=started, finished=datetime.now(UTC)
                )
                try:
                    lost = [e for e in missing_runs(self, self.journal) if e.run_id != run_id]
                    self.journal.append(*lost, entry)
                except StoreError as exc:
                    if result.commit is None:
                        raise  # nothing in git tells of this run: the journal line is its only record
                    # The run is committed; its trailers hold what the line would: rebuilt on the next read.
                    note = f"run committed ({result.commit[:12]}), but the run journal was not written: {exc}"
                    result = replace(result, warnings=(*result.warnings, note + " (rebuilt from git on next read)"))
        return result

    def _write_locked(
        self,
        snapshots: Iterable[DeviceSnapshot | KnownSnapshot],
        failed: tuple[DeviceFailure, ...],
        *,
        collector: str,
        started: datetime,
        run_id: str,
        copies: StoredCopies | None,
    ) -> RunResult:
        self._drop_temp_objects()  # what a killed or out-of-space git left behind in an earlier run
        head = self._head()
        branch = self._branch_ref()
        staging = _Staging(self, self._tree_entries(head), copies=copies)
        try:
            staged = staging.stage(snapshots, failed)
            if staging.importer is None:
                return staged.result(run_id, None, staging.existing)
            message = format_message(
                collector=collector,
                run_id=run_id,
                started=started,
                changed=staged.changed,
                added=staged.added,
                unchanged_count=len(staged.unchanged),
                failed=failed,
            )
            staging.importer.commit(
                ref=PENDING_REF,
                ident=self._ident(),
                author_time=started,
                message=message,
                parent=head,
                files=staged.files,
            )
            staging.importer.finish()
            staging.importer = None
        except BaseException:
            staging.abort()
            raise
        commit = self._git("rev-parse", "--verify", PENDING_REF).strip()
        self._move_branch(branch, commit, head, run_id)
        # added devices were not hashed here: their ids come from the commit itself (one ls-tree)
        return staged.result(run_id, commit, self._tree_entries(commit) if staged.added else staging.existing)

    def write_runs(self, runs: Iterable[PlannedRun]) -> list[RunResult]:
        """Commit many runs in order through one fast-import, one branch update and one upkeep.

        For replaying another tool's history: each run keeps its own time, author and trailers, and is
        journaled like a collection run. Either every run of the call is committed or none is.
        """
        with self.lock():
            self._drop_temp_objects()
            head = self._head()
            branch = self._branch_ref()
            staging = _Staging(self, self._tree_entries(head), hash_new=True)  # later runs compare with earlier
            planned: list[tuple[PlannedRun, _Staged]] = []
            parent: str | None = head
            ident = self._ident()
            try:
                for run in runs:
                    staged = staging.stage(run.snapshots, ())
                    planned.append((run, staged))
                    if staging.importer is None or not staged.files:
                        continue
                    message = format_message(
                        collector=run.collector,
                        run_id=run.run_id,
                        started=run.started,
                        changed=staged.changed,
                        added=staged.added,
                        unchanged_count=len(staged.unchanged),
                        failed=(),
                        trailers=run.trailers,
                    )
                    mark = staging.importer.commit(
                        ref=PENDING_REF,
                        ident=ident,
                        author=run.author,
                        author_time=run.started,
                        message=message,
                        parent=parent,
                        files=staged.files,
                    )
                    parent = f":{mark}"
                if staging.importer is not None:
                    staging.importer.finish()
                    staging.importer = None
            except BaseException:
                staging.abort()
                raise
            commits: list[str] = []
            if parent != head:
                tip = self._git("rev-parse", "--verify", PENDING_REF).strip()
                span = [tip] if head is None else [tip, f"^{head}"]
                commits = self._git("rev-list", "--reverse", "--first-parent", *span).split()
                self._move_branch(branch, tip, head, f"{len(commits)} replayed runs")
            results: list[RunResult] = []
            pending = iter(commits)
            for run, staged in planned:
                results.append(staged.result(run.run_id, next(pending) if staged.files else None, {}))
            if self.journal is not None:
                finished = datetime.now(UTC)
                entries = [
                    JournalEntry.from_result(result, collector=run.collector, started=run.started, finished=finished)
                    for (run, _), result in zip(planned, results, strict=True)
                ]
                ours = {entry.run_id for entry in entries}
                try:
                    lost = [e for e in missing_runs(self, self.journal) if e.run_id not in ours]
                    self.journal.append_many([*lost, *entries])
                except StoreError as exc:
                    if not commits or not results:
                        raise
                    note = f"{len(commits)} runs committed, but the run journal was not written: {exc}"
                    results[-1] = replace(results[-1], warnings=(note + " (rebuilt from git on next read)",))
        return results

    def _move_branch(self, branch: str, commit: str, head: str | None, why: str) -> None:
        """Compare-and-swap: the branch moves only if it still points where the run started from."""
        self._git("update-ref", "-m", f"cfgwatch run {why}", branch, commit, head or "")
        self._drop_pending()
        with suppress(StoreError):  # housekeeping only: the run is already committed
            self.upkeep()

    def _drop_temp_objects(self) -> None:
        """Remove git's temporary object files (tmp_pack_*, tmp_idx_*, tmp_obj_*, a repack's .tmp-*): a git that ran
        out of space or was killed leaves them, and they would fill the disk further. Called under the run
        lock, where no other git process of cfgwatch writes objects."""
        objects = self.git_dir / "objects"
        for pattern in ("pack/tmp_*", "pack/.tmp-*", "??/tmp_obj_*", "tmp_obj_*"):
            for leftover in objects.glob(pattern):
                with suppress(OSError):
                    leftover.unlink()

    def _drop_pending(self) -> None:
        with suppress(git.GitCommandError):
            self.repo.git.update_ref("-d", PENDING_REF)


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One run for write_runs: a replayed backup-tool commit with its own time, author and trailers."""

    snapshots: Sequence[DeviceSnapshot]
    collector: str
    started: datetime
    run_id: str
    author: str | None = None  # "Name <email>"; None: the store's own identity
    trailers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class _Staged:
    """What one run changes against the tree it is staged on."""

    files: list[tuple[str, int]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: tuple[DeviceFailure, ...] = ()

    def result(self, run_id: str, commit: str | None, tree: dict[str, str]) -> RunResult:
        """The run's result; `tree` (path -> blob id, as the branch holds it after the run) gives `blobs`."""
        blobs: dict[str, tuple[str, str]] = {}
        for name in (*self.changed, *self.added, *self.unchanged):
            cfg, meta = tree.get(f"{CONFIG_DIR}/{name}"), tree.get(f"{META_DIR}/{name}.json")
            if cfg is not None and meta is not None:
                blobs[name] = (cfg, meta)
        return RunResult(
            run_id,
            commit,
            tuple(sorted(self.changed)),
            tuple(sorted(self.added)),
            tuple(sorted(self.unchanged)),
            self.failed,
            blobs=blobs,
        )


class _Staging:
    """Compares snapshots with a tree listing by blob hash and streams only what changed into fast-import.

    The listing is updated as runs are staged, so consecutive runs of one stream see each other.
    """

    def __init__(
        self,
        writer: RunWriter,
        existing: dict[str, str],
        *,
        hash_new: bool = False,
        copies: StoredCopies | None = None,
    ) -> None:
        self.writer = writer
        self.copies = copies
        self.existing = existing
        # hash texts of paths the tree does not have yet: only a stream of several runs compares with them
        self.hash_new = hash_new
        self.importer: _FastImport | None = None
        # meta blobs written earlier in this stream: not in the object database until fast-import ends
        self.meta_blobs: dict[str, bytes] = {}
        # meta bytes -> blob id within this staging: most devices of a run share platform and no metadata
        self.meta_ids: dict[bytes, str] = {}

    def _meta(self, blob_id: str) -> bytes:
        return self.meta_blobs.get(blob_id) or self.writer._read_blob(blob_id)

    def stage(self, snapshots: Iterable[DeviceSnapshot | KnownSnapshot], failed: tuple[DeviceFailure, ...]) -> _Staged:
        writer, existing = self.writer, self.existing
        failed_names = {f.name for f in failed}
        staged = _Staged(failed=failed)
        seen: set[str] = set()
        for item in snapshots:
            name = check_device_name(item.name)
            if name in seen:
                raise InputError(f"device '{name}' appears twice in one run")
            if name in failed_names:
                raise InputError(f"device '{name}' is listed both as collected and as failed")
            seen.add(name)
            cfg_path, meta_path = f"{CONFIG_DIR}/{name}", f"{META_DIR}/{name}.json"
            old_cfg = existing.get(cfg_path)
            if isinstance(item, KnownSnapshot):
                if old_cfg == item.config_blob and existing.get(meta_path) == item.meta_blob:
                    staged.unchanged.append(name)
                    continue
                snap = item.load()  # the tree moved on, or the ids were wrong: compare the real text
                if snap.name != name:
                    raise InputError(f"device '{name}' loaded as '{snap.name}'")
            else:
                snap = item
            data = snap.text.encode("utf-8")
            meta = encode_meta(snap.platform, snap.metadata)
            new = old_cfg is None and not self.hash_new
            if self.copies is not None and old_cfg is not None and self.copies.same(name, data, old_cfg):
                cfg_id = old_cfg  # byte-equal to the trusted copy of the tree's own blob: no hash needed
            else:
                cfg_id = "" if new else writer._blob_id(data)
                if self.copies is not None and cfg_id == old_cfg:
                    self.copies.learn(name, data, cfg_id)  # hashed equal to the tree: the copy can stand for it
            write_cfg = old_cfg != cfg_id
            write_meta = write_cfg
            meta_id = "" if new else self.meta_ids.get(meta) or self.meta_ids.setdefault(meta, writer._blob_id(meta))
            if not write_cfg:
                old_meta = existing.get(meta_path)
                if old_meta != meta_id:
                    # Same text: only a platform change counts; newer header metadata of an
                    # unchanged text is not a change (it describes the stored text's last edit).
                    old_platform = decode_meta(self._meta(old_meta))[0] if old_meta else None
                    write_meta = old_platform != snap.platform
            if not write_cfg and not write_meta:
                staged.unchanged.append(name)
                continue
            if self.importer is None:
                writer._drop_pending()
                self.importer = _FastImport(writer.repo, writer.lock_fd)
            if write_cfg:
                staged.files.append((cfg_path, self.importer.blob(data)))
                if not new:
                    existing[cfg_path] = cfg_id
            staged.files.append((meta_path, self.importer.blob(meta)))
            if not new:
                existing[meta_path] = meta_id
                self.meta_blobs[meta_id] = meta
            (staged.added if old_cfg is None else staged.changed).append(name)
        return staged

    def abort(self) -> None:
        if self.importer is not None:
            self.importer.kill()
            self.importer = None
        self.writer._drop_pending()
        self.writer._drop_temp_objects()
