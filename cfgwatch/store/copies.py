"""Plain copies of stored config texts, so an unchanged pull is proven unchanged by comparing bytes, not hashing.

A pulled text is held in memory; write_run compares it with HEAD by its git blob id, i.e. it hashes it
(SHA-1 of 5,000 x 3,000 lines, 668 MB: 0.47 s CPU). Reading a plain copy of what HEAD holds from the page
cache and comparing bytes costs about half that (0.23 s with the encoding, same run), and byte equality
is exact: no hash collision can make different bytes equal. A copy stands for a blob only when all hold:

- its index entry (a store.filecache.FileCache, in the state directory) has the copy's stamp: device,
  inode, size, mtime_ns and ctime_ns. Writing the file moves its ctime, which no user can set back.
- the entry was recorded only once the copy had settled (not changed within RACY_NS of being read, git's
  "racily clean" rule) and after its bytes were compared with a text whose blob id was computed by hashing.
- the index file's HMAC (keyed from the installation's secret sanitize key) verifies.
- the entry's blob id is the id HEAD's tree holds for the device, checked by write_run under the run lock,
  and the copy did not change while it was read (the same stamp before and after).

Otherwise the text is hashed as before, so a stale, tampered or missing copy costs a hash, never a missed
change. Copies are only ever written for texts proven by hashing to equal the tree's blob; losing them
(or the whole folder) costs hashed runs to rebuild: a new copy is written by one unchanged run, recorded
by the next (once it has settled) and used from the run after that.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

from cfgwatch.store.filecache import CachedFile, FileCache, now_ns, settled, stamp_of

COPIES_NAME = "store-copies"  # in the state directory
INDEX_NAME = "index"
SUFFIX = ".cfg"
CONTEXT = "stored-copies 1"


class StoredCopies:
    """device -> a plain copy of its stored config text (one file per device) and an HMAC'd index of them."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = Path(folder)
        self.index = FileCache(self.folder / INDEX_NAME, key, CONTEXT)
        self._buffer = bytearray()
        self._dir_fd: int | None = None  # the folder, opened once: each copy is opened by its bare name
        self.hits = 0  # texts proven unchanged by a copy in this run (for the bench and the tests)

    def _path(self, name: str) -> Path:
        return self.folder / (name + SUFFIX)  # device names are checked (no "/"); the index has no suffix

    def same(self, name: str, data: bytes, blob: str) -> bool:
        """True only if the trusted copy of blob `blob` for `name` holds exactly `data`."""
        entry = self.index.entries.get(name)
        if entry is None or entry.config_blob != blob or entry.stamp[2] != len(data):
            return False
        try:
            if self._dir_fd is None:
                self._dir_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
            fd = os.open(name + SUFFIX, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self._dir_fd)
        except OSError:
            return False
        try:
            before = os.fstat(fd)
            if self.index.get(name, before, "") is None:
                return False
            if len(self._buffer) < len(data) + 1:
                self._buffer = bytearray(len(data) + 1)
            view = memoryview(self._buffer)[: len(data) + 1]  # one byte more: a longer file reads more
            got = os.preadv(fd, [view], 0)
            # bytes.startswith compares with memcmp against the buffer, without another copy
            if got != len(data) or not data.startswith(view[:got]):
                return False
            if stamp_of(os.fstat(fd)) != stamp_of(before):  # written to while it was read
                return False
        except OSError:
            return False
        finally:
            os.close(fd)
        self.hits += 1
        return True

    def learn(self, name: str, data: bytes, blob: str) -> None:
        """`data` was hashed to `blob`, the tree's id for `name`: trust a settled copy holding it, else write one.

        A new copy is not trusted yet (it was just written: racy); the next unchanged run compares it
        with that run's hashed text and records it. Best effort: a copy that cannot be written costs a hash.
        """
        path = self._path(name)
        started = now_ns()
        with suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                before = os.fstat(fd)
                if before.st_size == len(data):
                    with os.fdopen(os.dup(fd), "rb") as handle:
                        same = handle.read(len(data) + 1) == data
                    stamp = settled(before, os.fstat(fd), started)
                    if same:
                        if stamp is not None:
                            self.index.put(name, CachedFile(stamp, "", blob, ""))
                        return  # the copy holds the text: recorded, or trusted once it has settled
            finally:
                os.close(fd)
        self.index.drop(name)
        tmp = self.folder / f".{name}.{secrets.token_hex(4)}"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError:
            with suppress(OSError):
                tmp.unlink()

    def save(self) -> bool:
        """Write the index if it changed (atomically, HMAC'd); False if it could not be written."""
        if self._dir_fd is not None:
            os.close(self._dir_fd)
            self._dir_fd = None
        return self.index.save()
