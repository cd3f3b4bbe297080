"""The approval history: every approve/revoke is a git commit with the approver as author.

approved.yaml lives in the inventory, where anyone can edit it. A small git repository (by default
`approvals-history/` beside the snapshot repository, `policy.approvals_history`) keeps a copy of it: before
cfgwatch writes the file, a copy that differs from the last commit is committed as a hand edit, so an edit
made outside cfgwatch is never folded silently into the next approval. The evidence bundle carries the raw
commit, tree and blob objects, so `export verify` can recompute every commit id of the chain.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfgwatch.errors import StoreError

FILE_NAME = "approved.yaml"
HAND_EDIT_NAME = "unrecorded hand edit"
HAND_EDIT_EMAIL = "hand-edit@cfgwatch.invalid"
_COMMITTER = ("cfgwatch", "cfgwatch@cfgwatch.invalid")


@dataclass(frozen=True, slots=True)
class Ident:
    """A git identity: the approver (author) of a history commit."""

    name: str
    email: str

    @classmethod
    def named(cls, name: str) -> Ident:
        """An identity for `--by NAME` (an address in .invalid: the name is what is recorded)."""
        local = re.sub(r"[^A-Za-z0-9._-]+", ".", name).strip(".") or "unknown"
        return cls(name, f"{local}@cfgwatch.invalid")


def default_approver(cwd: Path | None = None) -> Ident:
    """The git user (user.name/user.email as git sees them here), else the login name."""

    def git_config(key: str) -> str:
        try:
            proc = subprocess.run(
                ["git", "config", "--get", key], capture_output=True, text=True, cwd=cwd, check=False, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return proc.stdout.strip() if proc.returncode == 0 else ""

    name = git_config("user.name")
    if name:
        email = git_config("user.email")
        return Ident(name, email) if email else Ident.named(name)
    try:
        login = os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        login = ""
    return Ident.named(login or "unknown")


@dataclass(frozen=True, slots=True)
class HistoryCommit:
    """One commit of the approval history with the raw objects that prove its id."""

    id: str
    parents: tuple[str, ...]
    author: str
    email: str
    time: datetime
    message: str
    raw: bytes  # the commit object
    tree: bytes  # the tree object (one entry: approved.yaml)
    content: bytes  # approved.yaml at this commit

    @property
    def hand_edit(self) -> bool:
        return self.email == HAND_EDIT_EMAIL

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "author": self.author,
            "email": self.email,
            "time": self.time.isoformat(),
            "message": self.message,
            "hand_edit": self.hand_edit,
            "commit_object": self.raw.decode("utf-8", "replace"),
            "tree_object_hex": self.tree.hex(),
            "content": self.content.decode("utf-8", "replace"),
        }


def _object_id(kind: str, body: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body, usedforsecurity=False).hexdigest()


def check_history(commits: list[dict[str, Any]]) -> list[str]:
    """Problems in a history as the evidence bundle records it (oldest first): every commit id recomputed
    from its object, each tree from its object, approved.yaml's blob from the content, and the parent chain."""
    problems: list[str] = []
    previous: str | None = None
    for index, entry in enumerate(commits):
        try:
            raw = str(entry["commit_object"]).encode("utf-8")
            tree = bytes.fromhex(str(entry["tree_object_hex"]))
            content = str(entry["content"]).encode("utf-8")
            claimed = str(entry["id"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"approval history entry {index + 1}: malformed ({exc})")
            continue
        short = claimed[:12]
        if _object_id("commit", raw) != claimed:
            problems.append(f"approval history commit {short}: its object does not hash to its id")
        header = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace").splitlines()
        tree_ids = [line.split(" ", 1)[1] for line in header if line.startswith("tree ")]
        parents = [line.split(" ", 1)[1] for line in header if line.startswith("parent ")]
        if tree_ids != [_object_id("tree", tree)]:
            problems.append(f"approval history commit {short}: tree object does not match the commit")
        blob = _object_id("blob", content)
        if f" {FILE_NAME}\0".encode() + bytes.fromhex(blob) not in tree:
            problems.append(f"approval history commit {short}: {FILE_NAME} content does not match the tree")
        if parents != ([previous] if previous else []):
            problems.append(f"approval history commit {short}: parent is not the previous commit (history rewritten)")
        previous = claimed
    return problems


class ApprovalHistory:
    """The git repository that records every version of approved.yaml."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def exists(self) -> bool:
        return (self.path / ".git").exists()

    def _git(self, *args: str, env: dict[str, str] | None = None, text: bool = True) -> Any:
        try:
            proc = subprocess.run(
                ["git", "-c", "commit.gpgsign=false", "-C", str(self.path), *args],
                capture_output=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreError(f"cannot run git for the approval history: {exc}", path=self.path) from exc
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise StoreError(f"git {args[0]} failed: {message[-1] if message else proc.returncode}", path=self.path)
        return proc.stdout.decode("utf-8") if text else proc.stdout

    def _init(self) -> None:
        if self.exists:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._git("init", "-q", "-b", "main")

    def _head(self) -> str | None:
        if not self.exists:
            return None
        try:
            return str(self._git("rev-parse", "--verify", "-q", "HEAD")).strip() or None
        except StoreError:
            return None

    def _committed(self) -> bytes | None:
        if self._head() is None:
            return None
        data: bytes = self._git("show", f"HEAD:{FILE_NAME}", text=False)
        return data

    def pending(self, source: Path) -> bool:
        """Does approved.yaml differ from the last recorded version (an edit cfgwatch did not record)?"""
        current = source.read_bytes() if source.exists() else None
        committed = self._committed()
        if committed is None:
            return current is not None
        return current != committed

    def commit(self, source: Path, author: Ident, when: datetime, message: str) -> str | None:
        """Record approved.yaml as it is now, authored by `author` at `when`; None when nothing changed."""
        self._init()
        target = self.path / FILE_NAME
        if source.exists():
            shutil.copyfile(source, target)
        elif target.exists():
            target.unlink()
        else:
            return None
        self._git("add", "-A", FILE_NAME)
        if not str(self._git("status", "--porcelain")).strip():
            return None
        stamp = when.astimezone(UTC).isoformat()
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": _COMMITTER[0],
            "GIT_COMMITTER_EMAIL": _COMMITTER[1],
            "GIT_COMMITTER_DATE": stamp,
        }
        self._git("commit", "-q", "--no-verify", "-m", message, env=env)
        return self._head()

    def record_hand_edits(self, source: Path, when: datetime | None = None) -> str | None:
        """Commit an approved.yaml changed outside cfgwatch as a hand edit (before cfgwatch writes it)."""
        if not self.pending(source):
            return None
        first = self._head() is None
        message = "approved.yaml as found (first record)" if first else "approved.yaml changed outside cfgwatch"
        return self.commit(source, Ident(HAND_EDIT_NAME, HAND_EDIT_EMAIL), when or datetime.now(UTC), message)

    def commits(self) -> list[HistoryCommit]:
        """Every commit, oldest first, with its raw objects."""
        if self._head() is None:
            return []
        out: list[HistoryCommit] = []
        log = str(self._git("log", "--reverse", "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%s"))
        for line in log.splitlines():
            commit, parents, name, email, when, subject = line.split("\0")
            raw: bytes = self._git("cat-file", "commit", commit, text=False)
            tree_id = raw.split(b"\n", 1)[0].split(b" ", 1)[1].decode()
            tree: bytes = self._git("cat-file", "tree", tree_id, text=False)
            try:
                content: bytes = self._git("show", f"{commit}:{FILE_NAME}", text=False)
            except StoreError:
                content = b""
            out.append(
                HistoryCommit(
                    commit,
                    tuple(parents.split()),
                    name,
                    email,
                    datetime.fromisoformat(when),
                    subject,
                    raw,
                    tree,
                    content,
                )
            )
        return out


def first_seen(commits: list[HistoryCommit], approval_id: str) -> HistoryCommit | None:
    """The first commit whose approved.yaml holds this approval id."""
    pattern = re.compile(rf"(?m)^\s*-?\s*id:\s*['\"]?{re.escape(approval_id)}['\"]?\s*$")
    return next((commit for commit in commits if pattern.search(commit.content.decode("utf-8", "replace"))), None)


def touching(commits: list[HistoryCommit], approval_id: str) -> list[HistoryCommit]:
    """The commits that changed the lines of this approval (its whole entry as text)."""
    touched: list[HistoryCommit] = []
    previous = ""
    for commit in commits:
        current = _entry_text(commit.content.decode("utf-8", "replace"), approval_id)
        if current != previous:
            touched.append(commit)
        previous = current
    return touched


def _entry_text(text: str, approval_id: str) -> str:
    """The text of one `- id: X` list entry of approved.yaml (empty when absent)."""
    lines = text.splitlines()
    start = re.compile(rf"^(\s*)-\s*id:\s*['\"]?{re.escape(approval_id)}['\"]?\s*$")
    for index, line in enumerate(lines):
        found = start.match(line)
        if found:
            indent = len(found.group(1))
            body = [line]
            for following in lines[index + 1 :]:
                stripped = following.lstrip()
                depth = len(following) - len(stripped)
                if stripped and (depth < indent or (depth == indent and stripped.startswith("-"))):
                    break
                body.append(following)
            return "\n".join(body)
    return ""


def missing_from(history: ApprovalHistory, commit_ids: list[str]) -> list[str]:
    """The ids (of a bundle's approval history) that this repository does not hold as commits on its branch:
    the live history was rewritten since the export, or the bundle came from elsewhere."""
    if not history.exists:
        raise StoreError("no approval history repository here", path=history.path)
    reachable = set(str(history._git("rev-list", "HEAD")).split()) if history._head() else set()
    return [commit for commit in commit_ids if commit not in reachable]
