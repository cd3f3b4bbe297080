"""The run writer: one collection run becomes at most one commit, written under the run lock.

Why it is built this way:
- A run is compared against HEAD by blob hash: each text is hashed in-process and compared with the HEAD
  tree listing (one `git ls-tree`), so an unchanged run reads no stored file and writes nothing.
- Changed blobs and the commit are streamed into one `git fast-import` process (one pack per run, no
  loose-object storm, no working tree). fast-import writes to a scratch ref; the branch is then moved with
  a compare-and-swap `update-ref`. A run that dies half-way never moves the branch: HEAD stays intact.
- One commit per run (not per device, as Oxidized does) keeps history short at thousands of devices.
- Every committed run is followed by upkeep (store.upkeep) while the lock is still held.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import IO

import git

from cfgwatch.errors import InputError, StoreError
from cfgwatch.store.journal import JournalEntry, missing_runs
from cfgwatch.store.message import format_message, one_line
from cfgwatch.store.meta import decode_meta, encode_meta
from cfgwatch.store.repo import CONFIG_DIR, META_DIR
from cfgwatch.store.types import DeviceFailure, DeviceSnapshot, RunResult, check_device_name
from cfgwatch.store.upkeep import RepoUpkeep

PENDING_REF = "refs/cfgwatch/pending"


def new_run_id(started: datetime) -> str:
    """Sortable and unique: UTC start time plus a random suffix."""
    return started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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
            raise StoreError(f"git fast-import failed: {one_line(err, 300)}")

    def kill(self) -> None:
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
        snapshots: Iterable[DeviceSnapshot],
        failures: Iterable[DeviceFailure] = (),
        *,
        collector: str,
        started: datetime,
        run_id: str | None = None,
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
            result = self._write_locked(snapshots, failed, collector=collector, started=started, run_id=run_id)
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
        snapshots: Iterable[DeviceSnapshot],
        failed: tuple[DeviceFailure, ...],
        *,
        collector: str,
        started: datetime,
        run_id: str,
    ) -> RunResult:
        self._drop_temp_objects()  # what a killed or out-of-space git left behind in an earlier run
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
                    continue
                if importer is None:
                    self._drop_pending()
                    importer = _FastImport(self.repo)
                if write_cfg:
                    files.append((cfg_path, importer.blob(data)))
                files.append((meta_path, importer.blob(meta)))
                (added if old_cfg is None else changed).append(name)
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
            self._drop_temp_objects()
            raise
        commit = self._git("rev-parse", "--verify", PENDING_REF).strip()
        # Compare-and-swap: the branch moves only if it still points where this run started from.
        self._git("update-ref", "-m", f"cfgwatch run {run_id}", branch, commit, head or "")
        self._drop_pending()
        with suppress(StoreError):  # housekeeping only: the run is already committed
            self.upkeep()
        return RunResult(run_id, commit, tuple(changed), tuple(added), tuple(sorted(unchanged)), failed)

    def _drop_temp_objects(self) -> None:
        """Remove git's temporary object files (tmp_pack_*, tmp_idx_*, tmp_obj_*): a fast-import that ran
        out of space or was killed leaves them, and they would fill the disk further. Called under the run
        lock, where no other git process of cfgwatch writes objects."""
        objects = self.git_dir / "objects"
        for pattern in ("pack/tmp_*", "??/tmp_obj_*", "tmp_obj_*"):
            for leftover in objects.glob(pattern):
                with suppress(OSError):
                    leftover.unlink()

    def _drop_pending(self) -> None:
        with suppress(git.GitCommandError):
            self.repo.git.update_ref("-d", PENDING_REF)
