"""Snapshot store: one commit per run, none when nothing changed, lock, atomicity, reads, journal."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgwatch.errors import InputError, LockedError, StoreError
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceFailure, DeviceSnapshot, RunJournal, SnapshotStore

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD").strip())


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore.init(tmp_path / "snapshots", journal=tmp_path / "state" / "runs.jsonl")


def snap(
    name: str, text: str, platform: str | None = "cisco_ios", meta: ChangeMetadata | None = None
) -> DeviceSnapshot:
    return DeviceSnapshot(name=name, platform=platform, text=text, metadata=meta)


def test_runs_commit_only_changes_and_history_reads_back(store: SnapshotStore) -> None:
    meta = ChangeMetadata(user="alice", time=T0 - timedelta(hours=3), source="ios-header", raw="! Last change by alice")
    first = store.write_run(
        [snap("r1", "hostname r1\n", meta=meta), snap("fw1", "hostname fw1\n", "cisco_asa")],
        [DeviceFailure("sw9", "timeout", "no answer after 30 s")],
        collector="import",
        started=T0,
    )
    assert first.commit is not None
    assert (first.added, first.changed, first.unchanged) == (("fw1", "r1"), (), ())
    assert [f.name for f in first.failed] == ["sw9"]

    same = store.write_run([snap("r1", "hostname r1\n", meta=meta)], collector="import", started=T0 + timedelta(1))
    assert same.commit is None and same.unchanged == ("r1",)
    assert commit_count(store.path) == 1

    second = store.write_run(
        [snap("r1", "hostname r1\nip nat inside\n"), snap("fw1", "hostname fw1\n", "cisco_asa"), snap("new", "x\n")],
        collector="netmiko",
        started=T0 + timedelta(2),
    )
    assert second.commit is not None and second.commit != first.commit
    assert (second.changed, second.added, second.unchanged) == (("r1",), ("new",), ("fw1",))
    assert commit_count(store.path) == 2

    assert store.read("r1", first.commit) == "hostname r1\n"
    assert store.read("r1") == "hostname r1\nip nat inside\n"
    assert store.last_good("r1") == "hostname r1\nip nat inside\n"
    assert store.last_good("never-seen") is None
    assert store.platform("fw1") == "cisco_asa"
    assert store.metadata("r1", first.commit) == meta
    assert store.devices(first.commit) == ["fw1", "r1"]
    assert store.devices() == ["fw1", "new", "r1"]
    assert store.changed_devices(first.commit, "HEAD") == ["new", "r1"]
    assert store.changed_devices(None, first.commit) == ["fw1", "r1"]

    runs = store.runs()
    assert [r.commit for r in runs] == [second.commit, first.commit]
    assert runs[0].run_id == second.run_id and runs[0].collector == "netmiko"
    assert runs[0].changed == ("r1",) and runs[0].added == ("new",) and runs[0].unchanged_count == 1
    assert runs[1].failed == (DeviceFailure("sw9", "timeout", "no answer after 30 s"),)
    assert runs[1].time == T0
    assert len(store.runs(limit=1)) == 1

    message = git(store.path, "log", "-1", "--format=%B", first.commit)
    assert f"Cfgwatch-Run: {first.run_id}" in message and "Cfgwatch-Failed: 1" in message
    assert "  sw9 [timeout]" in message


def test_platform_change_counts_but_newer_header_metadata_alone_does_not(store: SnapshotStore) -> None:
    store.write_run([snap("r1", "a\n", platform=None)], collector="import", started=T0)
    meta = ChangeMetadata(user="bob", time=None, source="ios-header", raw="! by bob")
    unchanged = store.write_run([snap("r1", "a\n", platform=None, meta=meta)], collector="import", started=T0)
    assert unchanged.commit is None
    fixed = store.write_run([snap("r1", "a\n", platform="cisco_ios")], collector="import", started=T0)
    assert fixed.changed == ("r1",) and fixed.commit is not None
    assert store.platform("r1") == "cisco_ios" and store.platform("r1", "HEAD~1") is None


def test_journal_records_every_run_including_no_change(store: SnapshotStore, tmp_path: Path) -> None:
    store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    store.write_run([snap("r1", "a\n")], [DeviceFailure("r2", "auth", "login refused")], collector="x", started=T0)
    entries = RunJournal(tmp_path / "state" / "runs.jsonl").entries()
    assert [e.commit is None for e in entries] == [False, True]
    assert entries[1].ok == ("r1",) and entries[1].failed[0].reason == "auth"
    assert RunJournal(tmp_path / "state" / "runs.jsonl").entries(since=T0 + timedelta(1)) == []


def test_interrupted_run_leaves_head_intact(store: SnapshotStore) -> None:
    good = store.write_run([snap("r1", "v1\n")], collector="import", started=T0)

    def dying() -> Iterator[DeviceSnapshot]:
        yield snap("r1", "v2\n")
        yield snap("r2", "new\n")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.write_run(dying(), collector="import", started=T0)
    assert git(store.path, "rev-parse", "HEAD").strip() == good.commit
    assert store.read("r1") == "v1\n" and store.devices() == ["r1"]
    assert "cfgwatch/pending" not in git(store.path, "for-each-ref")
    # The lock was released: the next run works and commits on top of the good one.
    after = store.write_run([snap("r1", "v2\n")], collector="import", started=T0)
    assert git(store.path, "rev-parse", "HEAD~1").strip() == good.commit
    assert after.changed == ("r1",)


def test_bad_device_input_commits_nothing(store: SnapshotStore) -> None:
    with pytest.raises(InputError, match="twice"):
        store.write_run([snap("r1", "a"), snap("r1", "b")], collector="import", started=T0)
    with pytest.raises(InputError, match="not a usable device name"):
        store.write_run([snap("../etc/passwd", "a")], collector="import", started=T0)
    assert store.runs() == [] and store.devices() == []


def test_lock_excludes_a_second_run(store: SnapshotStore) -> None:
    other = SnapshotStore(store.path)
    with store.lock():
        with pytest.raises(LockedError, match="another cfgwatch run holds the lock"):
            other.write_run([snap("r1", "a")], collector="import", started=T0)
        # the holder itself can write while holding the lock
        assert store.write_run([snap("r1", "a")], collector="import", started=T0).commit is not None
    assert other.write_run([snap("r1", "b")], collector="import", started=T0).changed == ("r1",)


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not found"):
        SnapshotStore(tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not a git repository"):
        SnapshotStore(tmp_path / "plain")
    (tmp_path / "plain" / "junk.txt").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        SnapshotStore.init(tmp_path / "plain")


def test_read_errors_and_empty_repo(store: SnapshotStore) -> None:
    assert store.runs() == [] and store.devices() == [] and store.last_good("r1") is None
    with pytest.raises(InputError, match="no runs yet"):
        store.read("r1")
    store.write_run([snap("r1", "a")], collector="import", started=T0)
    with pytest.raises(InputError, match="unknown revision 'nope'"):
        store.read("r1", "nope")
    with pytest.raises(InputError, match="not in the snapshot"):
        store.read("r2")
    with pytest.raises(InputError, match="unknown revision"):
        store.changed_devices("--output=/tmp/x", "HEAD")


def test_init_is_idempotent(tmp_path: Path) -> None:
    first = SnapshotStore.init(tmp_path / "s")
    first.write_run([snap("r1", "a")], collector="import", started=T0)
    again = SnapshotStore.init(tmp_path / "s")
    assert again.devices() == ["r1"]


def test_read_many_matches_single_reads(tmp_path: Path) -> None:
    """The batched reader the diff uses returns exactly what read() and platform() return, one by one."""
    from datetime import UTC, datetime

    from cfgwatch.store import DeviceSnapshot, SnapshotStore

    store = SnapshotStore.init(tmp_path / "snapshots")
    started = datetime(2026, 11, 1, tzinfo=UTC)
    store.write_run(
        [DeviceSnapshot(f"r{i}", "cisco_ios" if i % 2 else None, f"hostname r{i}\nend\n") for i in range(5)],
        collector="test",
        started=started,
    )
    batch = store.read_many(["r0", "r3", "missing"], "HEAD")
    assert set(batch) == {"r0", "r3"}
    for name in ("r0", "r3"):
        assert batch[name] == (store.read(name), store.platform(name))


def test_sizes_are_stored_utf8_bytes_at_the_revision(store: SnapshotStore) -> None:
    """What a pull's size check reads instead of every last good text: the blob sizes from one ls-tree."""
    first = store.write_run(
        [snap("r1", "hostname r1\n"), snap("r2", "description caf\u00e9 \u2013 edge\n"), snap("r1.old", "x\n")],
        collector="test",
        started=T0,
    )
    store.write_run([snap("r1", "hostname r1\nip nat inside\n")], collector="test", started=T0 + timedelta(1))
    sizes = store.sizes(["r1", "r2", "missing"])
    cafe = "description caf\u00e9 \u2013 edge\n".encode()
    assert sizes == {"r1": len(b"hostname r1\nip nat inside\n"), "r2": len(cafe)}
    assert first.commit is not None
    assert store.sizes(["r1"], first.commit) == {"r1": len(b"hostname r1\n")}  # "r1" does not match "r1.old"
    assert store.sizes([]) == {}
    with pytest.raises(InputError):
        store.sizes(["../etc"])


def _middle_byte_edited(text: str) -> str:
    mid = len(text) // 2
    return text[:mid] + ("y" if text[mid] != "y" else "z") + text[mid + 1 :]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_middle_byte_edited, id="one-byte-in-the-middle"),
        pytest.param(lambda t: t[:-2] + "Z\n", id="one-byte-before-the-end"),
        pytest.param(lambda t: "H" + t[1:], id="first-byte"),
    ],
)
def test_pulled_text_with_a_same_length_edit_is_committed(store: SnapshotStore, edit: object) -> None:
    """A pulled text held in memory is compared by its blob id: a same-length edit that keeps the first and
    last bytes is still a change (nothing may skip the text on its size or ends)."""
    assert callable(edit)
    text = "hostname r1\n" + "".join(f" permit ip host 10.0.{i // 250}.{i % 250} any\n" for i in range(2000))
    store.write_run([snap("r1", text), snap("r2", "hostname r2\n")], collector="netmiko", started=T0)
    changed = edit(text)
    assert len(changed) == len(text) and changed != text
    run = store.write_run(
        [snap("r1", changed), snap("r2", "hostname r2\n")], collector="netmiko", started=T0 + timedelta(1)
    )
    assert run.commit is not None and run.changed == ("r1",) and run.unchanged == ("r2",)
    assert store.read("r1") == changed
    assert store.write_run([snap("r1", changed)], collector="netmiko", started=T0 + timedelta(2)).commit is None
