"""Replay an Oxidized or RANCID git history into the snapshot repo, so `audit --since 365d` works on day one.

Each source commit that touches a device config becomes one cfgwatch run with the commit's own author
and author time; the texts are sanitized exactly like a pull (secrets never reach the snapshot repo,
even though the source history holds them). Why it is built this way:
- git is read through two long-lived processes (one `git log --raw` stream for every commit's changed
  paths, one `git cat-file --batch` for the texts), not a process per commit.
- Runs are written through `write_runs` in batches: one fast-import, one branch update and one upkeep
  per batch instead of per commit, and a crash loses at most the batch in flight.
- Idempotent: a replayed run's id is derived from the source commit (time + commit hash), so a second
  replay skips every commit whose run is already in the snapshot history or the run journal. Commits
  older than the store's newest run are skipped too: replaying them on top would make an old config
  look current.
- Paths are classified with the same Oxidized/RANCID layout rules as the folder import; deleted files
  leave the device's last snapshot in place, as a device missing from a pull does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cfgwatch.collect.backups import DevicePath, Skipped, classify_paths, router_db_types
from cfgwatch.collect.importdir import PlatformResolver, forced_platform
from cfgwatch.errors import InputError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.inventory import Inventory
from cfgwatch.sanitize import sanitize
from cfgwatch.sanitize.settings import DEFAULT_MAX_CONFIG_BYTES
from cfgwatch.store import DeviceSnapshot, SnapshotStore, check_device_name
from cfgwatch.store.writer import PlannedRun

if TYPE_CHECKING:
    from cfgwatch.store.remote import PushResult

COLLECTOR = "import-git"
TRAILER_SOURCE = "Cfgwatch-Source-Commit"
BATCH_COMMITS = 500
_NULL_BLOB = "0" * 40


@dataclass(frozen=True, slots=True)
class SourceCommit:
    """One commit of the backup tool's history: who, when, and which files it added or modified."""

    sha: str
    author_name: str
    author_email: str
    time: datetime
    written: tuple[tuple[str, str], ...]  # (path, blob id) of added/modified files


@dataclass(slots=True)
class ReplayResult:
    """What a replay did: runs written, runs committed, and what it skipped and why."""

    runs: int = 0
    committed: int = 0
    devices: set[str] = field(default_factory=set)
    already_imported: int = 0
    older_than_store: int = 0
    without_configs: int = 0
    skipped_paths: list[Skipped] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    push: PushResult | None = None  # one push to store.remote after the whole replay, when configured


def replay_run_id(commit: SourceCommit) -> str:
    """Deterministic run id: the same source commit always becomes the same run (idempotent replay)."""
    return commit.time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + commit.sha[:8]


def _git(repo: Path, *args: str) -> list[str]:
    return ["git", "-C", str(repo), "-c", "core.quotePath=false", *args]


def check_source_repo(repo: Path) -> None:
    """Bad input before anything is read: the path must be a git repository with at least one commit."""
    if not repo.exists():
        raise InputError("git repository not found", path=repo)
    probe = subprocess.run(
        _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"), capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        raise InputError("not a git repository with commits (Oxidized/RANCID git output expected)", path=repo)


def source_commits(repo: Path, since: datetime | None = None) -> Iterator[SourceCommit]:
    """Every first-parent commit of the source HEAD, oldest first, with its added/modified files."""
    args = [
        "log",
        "--reverse",
        "--first-parent",
        "--no-renames",
        "--raw",
        "--no-abbrev",
        "-z",
        "--format=%x01%H%x00%an%x00%ae%x00%at",
    ]
    if since is not None:
        args.append(f"--since={int(since.timestamp())}")
    proc = subprocess.Popen(_git(repo, *args, "HEAD"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        yield from _parse_log(proc.stdout)
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise InputError(f"git log failed: {' '.join(err.split())[:300]}", path=repo)


def _parse_log(stream: IO[bytes]) -> Iterator[SourceCommit]:
    """Records of `git log -z --raw --format=%x01...`: header fields, then `:modes ids status` + path pairs."""
    data = stream.read()
    for record in data.split(b"\x01")[1:]:
        fields = record.split(b"\0")
        sha, name, email, stamp = (f.decode("utf-8", "replace") for f in fields[:4])
        stamp = stamp.split("\n", 1)[0]
        written: list[tuple[str, str]] = []
        rest = fields[4:]
        index = 0
        while index + 1 < len(rest):
            info = rest[index].decode("utf-8", "replace").strip()
            if not info.startswith(":"):
                index += 1
                continue
            path = rest[index + 1].decode("utf-8", "replace")
            parts = info.split()
            blob, status = parts[3], parts[4]
            if status[0] in "AMT" and blob != _NULL_BLOB and parts[1].startswith("100"):
                written.append((path, blob))
            index += 2
        yield SourceCommit(sha, name, email, datetime.fromtimestamp(int(stamp), UTC), tuple(written))


class _BlobReader:
    """One `git cat-file --batch` process for every text of the replay."""

    def __init__(self, repo: Path, limit: int = DEFAULT_MAX_CONFIG_BYTES) -> None:
        self.proc = subprocess.Popen(_git(repo, "cat-file", "--batch"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.limit = limit

    def read(self, blob: str, where: str = "") -> bytes:
        self.stdin.write(blob.encode() + b"\n")
        self.stdin.flush()
        header = self.stdout.readline().split()
        if len(header) != 3:
            raise InputError(f"git cat-file cannot read blob {blob}")
        size = int(header[2])
        if size > self.limit:  # never held in memory: refused with the commit and path named
            self.proc.kill()  # it would block writing the rest of the blob into the pipe
            raise InputError(
                f"config is {size:,} bytes, over the limit of {self.limit:,} (sanitize.max_config_bytes in "
                f"cfgwatch.yaml){where}"
            )
        data = self.stdout.read(size)
        self.stdout.read(1)
        return data

    def close(self) -> None:
        with suppress(BrokenPipeError):  # killed after an oversize blob
            self.stdin.close()
        self.proc.wait()


def _ident(name: str, email: str) -> str:
    """A git author line from the source commit's author (angle brackets and newlines cannot appear)."""
    clean_name = " ".join(name.replace("<", "").replace(">", "").split()) or "unknown"
    clean_email = "".join(email.replace("<", "").replace(">", "").split())
    return f"{clean_name} <{clean_email}>"


def replay_history(
    store: SnapshotStore,
    repo: Path,
    *,
    key: bytes,
    since: datetime | None = None,
    platform: str | None = None,
    inventory: Inventory | None = None,
    events: Events = NO_EVENTS,
    max_bytes: int = DEFAULT_MAX_CONFIG_BYTES,
) -> ReplayResult:
    """Write one run per source commit that adds or modifies a device config (see the module docstring)."""
    repo = Path(repo)
    forced = forced_platform(platform)
    check_source_repo(repo)
    commits = list(source_commits(repo, since))
    every_path = {path for commit in commits for path, _ in commit.written}
    devices, skipped = classify_paths(every_path, unique=False)
    for device in devices:
        check_device_name(device.name)
    by_path: dict[str, DevicePath] = {d.path: d for d in devices}
    result = ReplayResult(skipped_paths=skipped)

    stored = store.runs()  # newest first
    done_ids = {run.run_id for run in stored}
    if store.journal is not None:
        done_ids.update(entry.run_id for entry in store.journal)
    newest = stored[0].time if stored else None

    reader = _BlobReader(repo, max_bytes)
    try:
        resolver = PlatformResolver(forced=forced, inventory=inventory, tool_types=_head_router_dbs(repo, reader))
        platforms: dict[str, str | None] = {}
        todo: list[SourceCommit] = []
        for commit in commits:
            if not any(path in by_path for path, _ in commit.written):
                result.without_configs += 1
            elif replay_run_id(commit) in done_ids:
                result.already_imported += 1
            elif newest is not None and commit.time <= newest:
                result.older_than_store += 1
            else:
                todo.append(commit)
        events.stage_started("replay", len(todo))
        for start in range(0, len(todo), BATCH_COMMITS):
            batch = todo[start : start + BATCH_COMMITS]
            planned = [_plan(commit, by_path, reader, resolver, platforms, key) for commit in batch]
            runs = store.write_runs(planned)
            for commit, run in zip(batch, runs, strict=True):
                result.runs += 1
                result.committed += run.commit is not None
                result.devices.update(run.added)
                result.first = result.first or commit.time
                result.last = commit.time
                events.item_done("replay", commit.sha[:12], result.runs, len(todo))
        events.stage_finished("replay")
    finally:
        reader.close()
    return result


def _plan(
    commit: SourceCommit,
    by_path: dict[str, DevicePath],
    reader: _BlobReader,
    resolver: PlatformResolver,
    platforms: dict[str, str | None],
    key: bytes,
) -> PlannedRun:
    """The run one source commit becomes: its device texts sanitized, its author and time kept."""
    texts: dict[str, bytes] = {}
    for path, blob in commit.written:
        device = by_path.get(path)
        if device is not None:
            # a device moved between groups: the last path wins
            texts[device.name] = reader.read(blob, f": {path} in commit {commit.sha[:12]}")
    snapshots = []
    for name, raw in sorted(texts.items()):
        if not raw.strip() or b"\0" in raw[:8192]:
            continue  # an empty or binary file is no config: the device keeps its last snapshot
        if platforms.get(name) is None:
            platforms[name] = resolver.resolve(name, raw.decode("utf-8-sig", "replace"))[0]
        clean = sanitize(raw, platforms[name], key)
        snapshots.append(DeviceSnapshot(name=name, platform=platforms[name], text=clean.text, metadata=clean.metadata))
    return PlannedRun(
        snapshots=snapshots,
        collector=COLLECTOR,
        started=commit.time,
        run_id=replay_run_id(commit),
        author=_ident(commit.author_name, commit.author_email),
        trailers=((TRAILER_SOURCE, commit.sha),),
    )


def _head_router_dbs(repo: Path, reader: _BlobReader) -> dict[str, str]:
    """Device -> backup-tool type from every router.db in the source HEAD tree."""
    listing = subprocess.run(_git(repo, "ls-tree", "-r", "-z", "HEAD"), capture_output=True, check=True).stdout.decode(
        "utf-8", "replace"
    )
    types: dict[str, str] = {}
    for record in listing.split("\0"):
        info, _, path = record.partition("\t")
        if path and Path(path).name == "router.db" and info.split()[1] == "blob":
            types.update(router_db_types(reader.read(info.split()[2]).decode("utf-8", "replace")))
    return types
