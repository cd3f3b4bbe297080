"""Which git blobs a collector's input files became, so an unchanged import reads, sanitizes and hashes nothing.

An import of 5,000 unchanged files otherwise reads, sanitizes and hashes 600 MB to learn that nothing
changed. Like git's own index, this cache maps a file's stat stamp to what the file became (here: the
config and meta blob ids of its sanitized snapshot). A hit is only a claim; it is trusted when all hold:

- the stamp is equal: device, inode, size, mtime_ns and ctime_ns. Any write to a file moves its ctime,
  which no user can set back (touch -d sets mtime only), so a same-size edit with a restored mtime misses.
- the entry was not racy when recorded: a file whose mtime or ctime was within RACY_NS of the moment it was
  read could change again within the same timestamp tick (coarse file systems: 2 s on FAT/SMB), so it is
  not recorded at all and is read again next time (git's "racily clean" rule).
- the scope matches: everything besides the file's bytes that the snapshot depends on (the caller's,
  e.g. the platform option, inventory and router.db entry) and the cfgwatch code that made it.
- the cache file's HMAC (keyed from the installation's secret sanitize key) verifies: an edited or
  forged cache is ignored as a whole, so it cannot map a changed file to the old snapshot.
- the run finds exactly the cached blob ids in the tree it commits onto (store.types.KnownSnapshot):
  otherwise the file is read as usual.

The cache lives in the state directory (never in the snapshot repo); losing it only costs one full read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "cfgwatch-file-cache 1"
RACY_NS = 2_000_000_000  # the coarsest common file-time granularity (FAT, SMB): 2 s

Stamp = tuple[int, int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def settled(before: os.stat_result, after: os.stat_result, read_started_ns: int) -> Stamp | None:
    """The stamp of a file read between two fstat calls, or None when it must not be cached.

    None when the file changed while being read, or was changed within RACY_NS before the read started
    (a later edit in the same timestamp tick would leave the stamp as it is).
    """
    stamp = stamp_of(before)
    if stamp_of(after) != stamp:
        return None
    if max(before.st_mtime_ns, before.st_ctime_ns) + RACY_NS > read_started_ns:
        return None
    return stamp


def code_fingerprint() -> str:
    """Which cfgwatch code made the cached snapshots: version plus every source file's name, size and mtime."""
    import cfgwatch

    root = Path(cfgwatch.__file__).parent
    digest = hashlib.sha256(getattr(cfgwatch, "__version__", "").encode())
    for source in sorted(root.rglob("*.py")):
        with suppress(OSError):
            st = source.stat()
            digest.update(b"%s %d %d\n" % (source.relative_to(root).as_posix().encode(), st.st_size, st.st_mtime_ns))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CachedFile:
    """What one file became: its snapshot's blob ids, plus the caller's details (JSON) shown for a hit."""

    stamp: Stamp
    scope: str
    config_blob: str
    meta_blob: str
    details: Any = None


class FileCache:
    """file path -> CachedFile, loaded from and saved to one HMAC-protected file in the state directory."""

    def __init__(self, path: Path, key: bytes, context: str) -> None:
        self.path = Path(path)
        self.context = context
        self._mac_key = hmac.new(key, b"cfgwatch file cache", hashlib.sha256).digest()
        self.entries: dict[str, CachedFile] = {}
        self.changed = False
        self.rejected = False  # the file existed but was not trusted (bad MAC, other format or context)
        self._load()

    def _mac(self, body: bytes) -> str:
        return hmac.new(self._mac_key, body, hashlib.sha256).hexdigest()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return
        header, _, body = raw.partition(b"\n")
        fmt, _, mac = header.decode("ascii", "replace").rpartition(" ")
        if fmt != FORMAT or not hmac.compare_digest(mac, self._mac(body)):
            self.rejected = True
            return
        try:
            doc = json.loads(body)
            if doc["context"] != self.context:
                return  # other cfgwatch code or scope: every entry is stale, none is wrong
            for file, (stamp, scope, config_blob, meta_blob, details) in doc["files"].items():
                self.entries[file] = CachedFile(tuple(stamp), scope, config_blob, meta_blob, details)
        except (ValueError, KeyError, TypeError):
            self.entries.clear()
            self.rejected = True

    def get(self, file: str, st: os.stat_result, scope: str) -> CachedFile | None:
        entry = self.entries.get(file)
        if entry is None or entry.stamp != stamp_of(st) or entry.scope != scope:
            return None
        return entry

    def put(self, file: str, entry: CachedFile) -> None:
        if self.entries.get(file) != entry:
            self.entries[file] = entry
            self.changed = True

    def drop(self, file: str) -> None:
        if self.entries.pop(file, None) is not None:
            self.changed = True

    def keep_only(self, files: Iterable[str]) -> None:
        """Forget files not in `files` (gone from the folder): the cache stays as big as the folder."""
        keep = set(files)
        for file in [f for f in self.entries if f not in keep]:
            self.drop(file)

    def save(self) -> bool:
        """Write the cache atomically (mode 0600) if it changed; False if it could not be written.

        Best effort: a cache that cannot be written only makes the next run read every file again.
        """
        if not self.changed and not self.rejected:
            return True
        files = {
            file: [list(e.stamp), e.scope, e.config_blob, e.meta_blob, e.details] for file, e in self.entries.items()
        }
        body = json.dumps({"context": self.context, "files": files}, separators=(",", ":")).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:  # a torn file fails its MAC and is ignored
                handle.write(f"{FORMAT} {self._mac(body)}\n".encode("ascii") + body)
            os.replace(tmp, self.path)
        except OSError:
            with suppress(OSError):
                tmp.unlink()
            return False
        self.changed = self.rejected = False
        return True


def now_ns() -> int:
    """Wall-clock time in ns, the clock file times are set from (the reference for the racy rule)."""
    return time.time_ns()
