"""The import's file cache (store.filecache): an unchanged folder is not read again, and nothing hides a change;
and a big run's parallel blob writers (store.writer._BlobHelper): all or nothing, like a small run.

A hit needs an equal stat stamp (ctime included), a non-racy record, a valid HMAC and the cached blob ids in
the tree the run commits onto; each test breaks one of these and checks that the change is still found.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cfgwatch.collect import importdir
from cfgwatch.collect.importdir import CACHE_NAME
from cfgwatch.errors import InputError, StoreError
from cfgwatch.project import Project, init_project
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceSnapshot, KnownSnapshot, SnapshotStore, filecache
from cfgwatch.store.meta import encode_meta

EDGE = "hostname edge1\nip access-list extended OUT\n 10 permit ip any any\n"
CORE = "hostname core1\nsnmp-server community s3cret RO\nip access-list extended IN\n 10 deny ip any any\n"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text sanitize() is called on during an import: a cache hit must not read or sanitize."""
    seen: list[str] = []
    real = importdir.sanitize

    def counting(raw: bytes | str, platform: str | None, key: bytes):  # type: ignore[no-untyped-def]
        text = raw.decode() if isinstance(raw, bytes) else raw
        seen.append(text.splitlines()[0])
        return real(raw, platform, key)

    monkeypatch.setattr(importdir, "sanitize", counting)
    return seen


@pytest.fixture
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test itself are seconds old at most: let them be cached at once."""
    monkeypatch.setattr(filecache, "RACY_NS", 0)


def _project(tmp_path: Path) -> tuple[Project, Path]:
    init_project(tmp_path / "project")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "edge1.cfg").write_text(EDGE)
    (saved / "core1.cfg").write_text(CORE)
    return Project.open(tmp_path / "project" / "cfgwatch.yaml"), saved


def _rewrite_same_size_and_mtime(file: Path, text: str) -> None:
    """Change a file's text but keep its size and (restored) mtime: only ctime tells."""
    before = file.stat()
    assert len(text.encode()) == before.st_size
    file.write_text(text)
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = file.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_unchanged_folder_is_not_read_again(tmp_path: Path, reads: list[str], no_racy_window: None) -> None:
    project, saved = _project(tmp_path)
    first = project.import_dir(saved, platform="cisco_ios")
    assert sorted(reads) == ["hostname core1", "hostname edge1"] and first.run.added == ("core1", "edge1")
    reads.clear()
    second = project.import_dir(saved, platform="cisco_ios")
    assert reads == [] and second.run.commit is None and second.run.unchanged == ("core1", "edge1")
    # what a hit reports is what the read reported (platform, its source, redactions, notes)
    strip = [(d.name, d.platform, d.platform_source, d.redactions, d.notes) for d in first.devices]
    assert [(d.name, d.platform, d.platform_source, d.redactions, d.notes) for d in second.devices] == strip
    assert {d.status for d in second.devices} == {"unchanged"}
    assert (project.config.state_path / CACHE_NAME).stat().st_mode & 0o077 == 0


def test_racy_file_is_not_cached_and_a_same_size_same_mtime_edit_is_found(tmp_path: Path, reads: list[str]) -> None:
    """With the real 2 s window: a file changed just before it was read is never vouched for."""
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    cache_file = project.config.state_path / CACHE_NAME
    # both files were written moments before the read: racy, so nothing is recorded
    assert not cache_file.exists() or json.loads(cache_file.read_bytes().partition(b"\n")[2])["files"] == {}
    _rewrite_same_size_and_mtime(saved / "edge1.cfg", EDGE.replace("permit", "denyit"))
    reads.clear()
    result = project.import_dir(saved, platform="cisco_ios")
    assert result.run.changed == ("edge1",) and "hostname edge1" in reads
    assert "10 denyit ip any any" in project.store.read("edge1")


def test_cached_file_changed_with_same_size_and_mtime_is_found(
    tmp_path: Path, reads: list[str], no_racy_window: None
) -> None:
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    project.import_dir(saved, platform="cisco_ios")
    reads.clear()
    _rewrite_same_size_and_mtime(saved / "edge1.cfg", EDGE.replace("permit", "denyit"))
    result = project.import_dir(saved, platform="cisco_ios")
    assert reads == ["hostname edge1"]  # core1 still a hit
    assert result.run.changed == ("edge1",) and "10 denyit ip any any" in project.store.read("edge1")


def _forge(cache_file: Path, file: Path, *, key: bytes | None) -> None:
    """Point the cache entry of `file` at its current stat (keeping the old blob ids), as an attacker would."""
    header, _, body = cache_file.read_bytes().partition(b"\n")
    doc = json.loads(body)
    entry = doc["files"][os.path.abspath(file)]
    entry[0] = list(filecache.stamp_of(file.stat()))
    new_body = json.dumps(doc, separators=(",", ":")).encode()
    if key is None:  # keep the old MAC
        cache_file.write_bytes(header + b"\n" + new_body)
    else:  # a valid-looking MAC made with a key that is not the installation's
        forged = filecache.FileCache(cache_file, key, doc["context"])
        forged.entries = {}
        cache_file.write_bytes(f"{filecache.FORMAT} {forged._mac(new_body)}\n".encode() + new_body)


@pytest.mark.parametrize("key", [None, b"not the installation key"], ids=["old-mac", "other-key"])
def test_tampered_cache_cannot_hide_a_change(
    tmp_path: Path, reads: list[str], no_racy_window: None, key: bytes | None
) -> None:
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    cache_file = project.config.state_path / CACHE_NAME
    (saved / "edge1.cfg").write_text(EDGE + " 20 deny ip any any\n")
    _forge(cache_file, saved / "edge1.cfg", key=key)
    reads.clear()
    result = project.import_dir(saved, platform="cisco_ios")
    assert result.run.changed == ("edge1",) and "20 deny ip any any" in project.store.read("edge1")
    assert sorted(reads) == ["hostname core1", "hostname edge1"]  # the whole forged cache was ignored
    # and it was replaced by a good one
    reads.clear()
    assert project.import_dir(saved, platform="cisco_ios").run.commit is None and reads == []


def test_entry_whose_blob_left_the_branch_is_read(tmp_path: Path, reads: list[str], no_racy_window: None) -> None:
    """Another collector stored a different text: the cached ids are not in the tree, so the file is read."""
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    project.store.write_run(
        [DeviceSnapshot("edge1", "cisco_ios", "hostname edge1\n! pulled\n")],
        collector="pull",
        started=datetime.now(UTC),
    )
    reads.clear()
    result = project.import_dir(saved, platform="cisco_ios")
    assert reads == ["hostname edge1"] and result.run.changed == ("edge1",)
    assert project.store.read("edge1") == EDGE


def test_platform_option_change_reads_again(tmp_path: Path, reads: list[str], no_racy_window: None) -> None:
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    reads.clear()
    result = project.import_dir(saved, platform="cisco_asa")
    assert sorted(reads) == ["hostname core1", "hostname edge1"]
    assert {d.platform for d in result.devices} == {"cisco_asa"} and result.run.commit is not None


def test_failed_run_moves_nothing_and_keeps_the_cache(tmp_path: Path, reads: list[str], no_racy_window: None) -> None:
    project, saved = _project(tmp_path)
    project.import_dir(saved, platform="cisco_ios")
    head = project.store.resolve("HEAD")
    cache_file = project.config.state_path / CACHE_NAME
    cached = cache_file.read_bytes()
    (saved / "core1.cfg").write_text(CORE + " 20 permit ip any any\n")
    (saved / "edge1.cfg").write_bytes(b"hostname edge1\n\0binary")
    with pytest.raises(InputError, match="binary"):
        project.import_dir(saved, platform="cisco_ios")
    assert project.store.resolve("HEAD") == head and cache_file.read_bytes() == cached
    (saved / "edge1.cfg").write_text(EDGE)
    result = project.import_dir(saved, platform="cisco_ios")
    assert result.run.changed == ("core1",)


def test_write_run_trusts_known_ids_only_when_the_tree_holds_them(tmp_path: Path) -> None:
    store = SnapshotStore.init(tmp_path / "repo")
    now = datetime.now(UTC)
    first = store.write_run([DeviceSnapshot("r1", "cisco_ios", "hostname r1\n")], collector="t", started=now)
    cfg, meta = first.blobs["r1"]

    def never() -> DeviceSnapshot:
        raise AssertionError("an entry the tree confirms must not be loaded")

    same = store.write_run([KnownSnapshot("r1", cfg, meta, never)], collector="t", started=now)
    assert same.commit is None and same.unchanged == ("r1",) and same.blobs == first.blobs
    loaded: list[str] = []

    def load() -> DeviceSnapshot:
        loaded.append("r1")
        return DeviceSnapshot("r1", "cisco_ios", "hostname r1\n! edited\n")

    wrong = store.write_run([KnownSnapshot("r1", meta, cfg, load)], collector="t", started=now)
    assert loaded == ["r1"] and wrong.changed == ("r1",) and store.read("r1").endswith("! edited\n")
    listing = store._tree_entries(wrong.commit)
    assert wrong.blobs["r1"] == (listing["configs/r1"], listing["meta/r1.json"])


def _old_encode_meta(platform: str | None, metadata: ChangeMetadata | None) -> bytes:
    doc: dict[str, object] = {"platform": platform, "metadata": None}
    if metadata is not None:
        when = metadata.time.isoformat() if metadata.time is not None else None
        doc["metadata"] = {"user": metadata.user, "time": when, "source": metadata.source, "raw": metadata.raw}
    return (json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _metas() -> Iterator[tuple[str | None, ChangeMetadata | None]]:
    odd = 'a"b\\c\n\t\x01é€😀\u2028'
    for platform in (None, "", "cisco_ios", odd):
        yield platform, None
        for user in (None, "", odd):
            for when in (None, datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)):
                yield platform, ChangeMetadata(user=user, time=when, source=odd, raw="! Last change: x")


def test_meta_bytes_are_those_of_json_dumps() -> None:
    """The spelled-out meta encoder must give the same blobs as before, or every device would 'change'."""
    for platform, metadata in _metas():
        assert encode_meta(platform, metadata) == _old_encode_meta(platform, metadata)


def test_settled_refuses_racy_and_moving_files(tmp_path: Path) -> None:
    """git's racily-clean rule: a file changed within RACY_NS of its read, or while read, is never cached."""
    file = tmp_path / "r1.cfg"
    file.write_text("hostname r1\n")
    st = file.stat()
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    assert filecache.settled(st, st, changed + filecache.RACY_NS - 1) is None  # within the window
    assert filecache.settled(st, st, changed + filecache.RACY_NS) == filecache.stamp_of(st)
    file.write_text("hostname r2\n")
    assert filecache.settled(st, file.stat(), changed + 10 * filecache.RACY_NS) is None  # changed while read


def _texts(count: int) -> list[DeviceSnapshot]:
    return [
        DeviceSnapshot(f"r{n}", "cisco_ios", f"hostname r{n}\n" + " permit ip any any\n" * 400) for n in range(count)
    ]


def test_big_run_packs_blobs_in_helper_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run over CHUNK_BYTES shares its blobs with helper fast-imports; the commit names their blobs by id."""
    from cfgwatch.store import writer

    monkeypatch.setattr(writer, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # three helpers, whatever this machine has
    started: list[object] = []
    real_helper = writer._BlobHelper.__init__

    def counting(self: writer._BlobHelper, *args: object) -> None:
        started.append(self)
        real_helper(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writer._BlobHelper, "__init__", counting)
    store = SnapshotStore.init(tmp_path / "repo")
    snaps = _texts(60)
    result = store.write_run(snaps, collector="t", started=datetime.now(UTC))
    assert len(started) == 3 and len(result.added) == 60
    assert all(store.read(s.name) == s.text for s in snaps)
    assert subprocess.run(["git", "--git-dir", str(store.git_dir), "fsck", "--strict"], check=False).returncode == 0
    assert list((store.git_dir / "objects").rglob("tmp_*")) == []


@pytest.mark.parametrize("how", ["collector-fails", "helper-killed"])
def test_big_run_that_fails_moves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    from cfgwatch.store import writer

    monkeypatch.setattr(writer, "CHUNK_BYTES", 20_000)
    store = SnapshotStore.init(tmp_path / "repo")
    first = store.write_run(_texts(3), collector="t", started=datetime.now(UTC))
    real_finish = writer._BlobHelper.finish

    def killed_first(self: writer._BlobHelper) -> dict[int, str]:
        self.proc.kill()
        return real_finish(self)

    if how == "helper-killed":
        monkeypatch.setattr(writer._BlobHelper, "finish", killed_first)

    def snapshots() -> Iterator[DeviceSnapshot]:
        for snap in _texts(60):
            yield DeviceSnapshot(snap.name, snap.platform, snap.text + "! v2\n")
        if how == "collector-fails":
            raise InputError("collector failed after the helpers started")

    with pytest.raises((InputError, StoreError)):
        store.write_run(snapshots(), collector="t", started=datetime.now(UTC))
    assert store.resolve("HEAD") == first.commit and store.read("r1") == _texts(3)[1].text
    assert list((store.git_dir / "objects").rglob("tmp_*")) == []
    assert [t.name for t in threading.enumerate() if t.name == "cfgwatch-fast-import"] == []
