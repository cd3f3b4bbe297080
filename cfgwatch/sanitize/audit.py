"""Prove the snapshot repository is clean: scan every blob and commit message in the whole git history
(all refs, notes included) for anything that still looks like a secret.

Every blob is read once (deduplicated by object id) and attributed to the oldest commit that
introduced it. A finding names commit, path and line, and shows the line *as the sanitizer would
write it* — the report itself never repeats the secret.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cfgwatch.errors import StoreError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.sanitize import engine as E
from cfgwatch.sanitize import rules as R

_SCAN_KEY = b"cfgwatch-audit-secrets-scan-only"  # markers in the report only; never compared with stored ones
_EXCERPT = 160
_ZERO = "0" * 40


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """One line in history that still looks like a secret (``excerpt`` has the secret masked)."""

    commit: str
    path: str  # file path in the tree, or "<commit message>"
    line: int
    rules: tuple[str, ...]
    excerpt: str


@dataclass(frozen=True, slots=True)
class AuditResult:
    findings: tuple[SecretFinding, ...]
    commits: int
    blobs: int

    @property
    def clean(self) -> bool:
        return not self.findings


def scan_text(text: str, platform: str | None = None) -> Iterator[tuple[int, tuple[str, ...], str]]:
    """(line number, rule names, masked line) for each line of text that looks like it holds a secret.

    Uses the sanitizer's own rules (every platform's when platform is None), so anything sanitize()
    would still redact is reported; markers already in the text are not.
    """
    redactor = E._Redactor(R.rules_for(platform), _SCAN_KEY)
    text = text.replace("\r\n", "\n")
    text, starts = redactor.blocks(text, pad=True)  # the sanitizer's multi-line XML pass, line count kept
    for start in starts:
        number = text.count("\n", 0, start) + 1
        yield number, ("xml-block-secret",), text[start : text.find("\n", start) % (len(text) + 1)][:_EXCERPT]
    ctx = E._Ctx()
    in_pem = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if in_pem:
            if E._PEM_END.search(line):
                in_pem = 0
            continue
        if len(line) > E.MAX_LINE:
            yield number, ("oversize-line",), f"<{len(line)} characters>"
            continue
        begin = E._PEM_BEGIN.search(line)
        if begin is not None:
            if E._PEM_END.search(line, begin.end()) is None:
                in_pem = number
            yield number, ("pem-private-key",), line[: begin.end()][:_EXCERPT]
            continue
        ctx.update(line)
        if not R.TRIGGER.search(line):
            continue
        redactor.hits = []
        masked = redactor.line(line, ctx)
        if redactor.hits:
            yield number, tuple(dict.fromkeys(redactor.hits)), masked.strip()[:_EXCERPT]


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)
    except OSError as exc:
        raise StoreError(f"cannot run git: {exc.strerror}", path=repo) from exc
    if done.returncode != 0:
        raise StoreError(f"git {args[0]} failed: {done.stderr.decode('utf-8', 'replace').strip()}", path=repo)
    return done.stdout


def _introduced_blobs(repo: Path) -> tuple[dict[str, tuple[str, str]], int]:
    """blob id -> (oldest commit that introduced it, path), and the number of commits."""
    out = _git(repo, "log", "--all", "--root", "-m", "--raw", "--no-abbrev", "--no-renames", "--format=%x00%H")
    blobs: dict[str, tuple[str, str]] = {}
    commits = 0
    for record in out.decode("utf-8", "replace").split("\x00")[1:]:
        lines = record.split("\n")
        commit = lines[0].strip()
        commits += 1
        for raw in lines[1:]:
            if not raw.startswith(":") or "\t" not in raw:
                continue
            meta, path = raw.split("\t", 1)
            fields = meta.split()
            if len(fields) >= 4 and fields[3] != _ZERO and fields[1] != "160000":
                blobs[fields[3]] = (commit, path)  # log is newest first: the last write is the oldest commit
    return blobs, len(set(_git(repo, "rev-list", "--all").split())) if commits else 0


def _read_blobs(repo: Path, ids: list[str]) -> Iterator[tuple[str, bytes]]:
    if not ids:
        return
    out = _git(repo, "cat-file", "--batch", stdin=("\n".join(ids) + "\n").encode())
    pos = 0
    while pos < len(out):
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].decode().split()
        pos = header_end + 1
        if len(header) < 3 or header[1] == "missing":
            continue
        size = int(header[2])
        yield header[0], out[pos : pos + size]
        pos += size + 1


def audit_history(repo: Path, events: Events = NO_EVENTS) -> AuditResult:
    """Scan the whole history of the git repository at repo; StoreError if it is not one."""
    repo = Path(repo)
    if not repo.is_dir():
        raise StoreError("snapshot repository not found", path=repo)
    _git(repo, "rev-parse", "--git-dir")
    has_refs = bool(_git(repo, "for-each-ref", "--count=1").strip())
    if not has_refs:
        return AuditResult((), 0, 0)
    blobs, commits = _introduced_blobs(repo)
    findings: list[SecretFinding] = []
    ids = sorted(blobs)
    events.stage_started("secrets", len(ids))
    for done, (blob_id, data) in enumerate(_read_blobs(repo, ids), start=1):
        commit, path = blobs[blob_id]
        text = data.decode("utf-8", "replace")
        for number, names, excerpt in scan_text(text):
            findings.append(SecretFinding(commit, path, number, names, excerpt))
        events.item_done("secrets", blob_id, done, len(ids))
    events.stage_finished("secrets")
    messages = _git(repo, "log", "--all", "--format=%x00%H%x01%B").decode("utf-8", "replace")
    for record in messages.split("\x00")[1:]:
        commit, _, body = record.partition("\x01")
        for number, names, excerpt in scan_text(body):
            findings.append(SecretFinding(commit.strip(), "<commit message>", number, names, excerpt))
    findings.sort(key=lambda f: (f.path, f.line, f.commit))
    return AuditResult(tuple(findings), commits, len(ids))
