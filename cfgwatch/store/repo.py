"""The snapshot git repository itself: opening and creating it, the run lock, and running git on it.

The run writer, history reading and upkeep (store.writer, store.history, store.upkeep) build on this
class; store.git puts them together as SnapshotStore. Layout: configs/<device> and meta/<device>.json.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import git

from cfgwatch.errors import InputError, LockedError, StoreError
from cfgwatch.names import unknown_message
from cfgwatch.store.journal import RunJournal
from cfgwatch.store.message import one_line

CONFIG_DIR = "configs"
META_DIR = "meta"
LOCK_NAME = "cfgwatch.lock"
DEFAULT_BRANCH = "main"

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


class GitRepo:
    """An open snapshot repository: the git handle, the run lock and the git plumbing every part shares."""

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
        # The lock's descriptor while held. git children that write (fast-import, repack, gc) inherit it:
        # a flock belongs to the open file, so a child still running after cfgwatch was killed (-9)
        # keeps the lock, and the next run cannot start a second writer next to it.
        self.lock_fd: int | None = None
        self._hash_name = "sha1"
        try:
            fmt = self.repo.config_reader("repository").get_value("extensions", "objectformat", "sha1")
            self._hash_name = str(fmt)
        except Exception:  # no [extensions] section: classic sha1 repository
            self._hash_name = "sha1"

    # --- creation and locking -------------------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path, *, journal: Path | None = None) -> Self:
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
            with suppress(OSError):  # naming the holder is a courtesy: a full disk must not stop the run
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}".encode(), 0)
            self._locked = True
            self.lock_fd = fd
            yield
        finally:
            self._locked = False
            self.lock_fd = None
            with suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # --- helpers ------------------------------------------------------------------------------------

    def _git(self, *args: str) -> str:
        try:
            out: str = self.repo.git.execute(["git", *args], strip_newline_in_stdout=False)
            return out
        except git.GitCommandError as exc:
            raise StoreError(f"git {args[0]} failed: {one_line(str(exc.stderr), 300)}", path=self.path) from exc

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
            raise InputError(
                unknown_message("revision", rev, self._known_revisions(), where=" in the snapshot repository")
            ) from None

    def _known_revisions(self) -> list[str]:
        """Branch and tag names and the short ids of the newest commits: what a mistyped revision is compared with."""
        try:
            refs = self.repo.git.for_each_ref("--format=%(refname:short)", "refs/heads", "refs/tags").split()
            commits = self.repo.git.rev_list("--max-count=200", "--abbrev-commit", "--abbrev=12", "HEAD").split()
        except git.GitCommandError:
            return []
        return ["HEAD", *refs, *commits]

    def resolve(self, rev: str) -> str:
        """Full commit id of a revision (InputError naming it when unknown)."""
        return self._resolve(rev)

    def _run_git(self, args: list[str], stdin: bytes | None = None) -> bytes:
        """Run git on the snapshot repo directly (thread-safe, bytes out); StoreError on failure."""
        try:
            proc = subprocess.run(
                ["git", "--git-dir", str(self.git_dir), *args],
                input=stdin,
                capture_output=True,
                pass_fds=() if self.lock_fd is None else (self.lock_fd,),
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                check=False,
            )
        except OSError as exc:
            raise StoreError(f"cannot run git: {exc.strerror}", path=self.path) from exc
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            raise StoreError(f"git {args[0]} failed: {one_line(err, 300)}", path=self.path)
        return proc.stdout
