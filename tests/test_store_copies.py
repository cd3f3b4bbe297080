"""Stored copies (store.copies): an unchanged pulled text is proven unchanged by its bytes, never at the cost
of a missed change. A changed text of the same length and ends, a tampered or stale copy, a forged index
and a tree that moved on are each still detected and committed."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgwatch.store import DeviceSnapshot, SnapshotStore, filecache
from cfgwatch.store.copies import INDEX_NAME, StoredCopies

T0 = datetime(2026, 11, 1, tzinfo=UTC)
KEY = b"copies-test-key-0123456789abcdef"
NAMES = ("r1", "r2", "r3")


def text_of(name: str, edit: str = "") -> str:
    body = "".join(f" permit ip host 10.0.{i // 250}.{i % 250} any\n" for i in range(400))
    mid = len(body) // 2
    return f"hostname {name}\n" + body[:mid] + (edit or body[mid]) + body[mid + 1 :] + "end\n"


class Runs:
    """A store and a copies folder, run after run as a pull would (a new StoredCopies per run)."""

    def __init__(self, tmp_path: Path) -> None:
        self.store = SnapshotStore.init(tmp_path / "snapshots")
        self.folder = tmp_path / "state" / "store-copies"
        self.day = 0

    def run(self, texts: dict[str, str], *, copies: bool = True) -> tuple[tuple[str, ...], tuple[str, ...], int]:
        """(changed, unchanged, copies hits) of one run of `texts`."""
        stored = StoredCopies(self.folder, KEY) if copies else None
        self.day += 1
        result = self.store.write_run(
            [DeviceSnapshot(name, "cisco_ios", text) for name, text in texts.items()],
            collector="netmiko",
            started=T0 + timedelta(days=self.day),
            copies=stored,
        )
        return result.changed, result.unchanged, stored.hits if stored is not None else 0


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies count as settled as soon as they were written (the racy window itself is tested below)."""
    monkeypatch.setattr(filecache, "RACY_NS", 0)


@pytest.fixture
def runs(tmp_path: Path, settled_at_once: None) -> Runs:
    runs = Runs(tmp_path)
    runs.run({n: text_of(n) for n in NAMES})  # added: not hashed, no copies yet
    assert runs.run({n: text_of(n) for n in NAMES}) == ((), NAMES, 0)  # hashed; copies written
    assert runs.run({n: text_of(n) for n in NAMES}) == ((), NAMES, 0)  # hashed; copies compared and recorded
    return runs


def test_unchanged_texts_are_proven_by_their_copies(runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[int] = []
    original = SnapshotStore._blob_id

    def counting(self: SnapshotStore, data: bytes) -> str:
        hashed.append(len(data))
        return original(self, data)

    monkeypatch.setattr(SnapshotStore, "_blob_id", counting)
    assert runs.run({n: text_of(n) for n in NAMES}) == ((), NAMES, 3)
    config_size = len(text_of("r1").encode())
    assert config_size not in hashed  # only the small meta files were hashed
    assert (runs.folder / "r1.cfg").read_bytes() == text_of("r1").encode()
    assert oct((runs.folder / "r1.cfg").stat().st_mode & 0o777) == "0o600"


def test_same_length_edit_in_the_middle_is_committed(runs: Runs) -> None:
    edited = text_of("r2", edit="X")
    assert (
        len(edited) == len(text_of("r2")) and edited[:20] == text_of("r2")[:20] and edited[-20:] == text_of("r2")[-20:]
    )
    assert runs.run({"r1": text_of("r1"), "r2": edited, "r3": text_of("r3")}) == (("r2",), ("r1", "r3"), 2)
    assert runs.store.read("r2") == edited
    # the copy still holds the old text, for the old blob: never trusted for the new tree
    assert runs.run({"r2": edited}) == ((), ("r2",), 0)
    assert runs.run({"r2": text_of("r2")}) == (("r2",), (), 0)  # and the old text back is a change again


def test_tampered_copy_is_not_trusted(runs: Runs) -> None:
    """Someone rewrites r1's copy with the new text (same size) and sets its mtime back: its ctime moved."""
    copy = runs.folder / "r1.cfg"
    edited = text_of("r1", edit="X")
    st = copy.stat()
    copy.write_bytes(edited.encode())
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert runs.run({"r1": edited}) == (("r1",), (), 0)
    assert runs.store.read("r1") == edited


def test_forged_index_is_ignored(runs: Runs) -> None:
    """The tampered copy's new stamp written into the index without the key: the MAC fails, every text is hashed."""
    copy = runs.folder / "r1.cfg"
    edited = text_of("r1", edit="X")
    copy.write_bytes(edited.encode())
    index = runs.folder / INDEX_NAME
    header, _, body = index.read_bytes().partition(b"\n")
    doc = json.loads(body)
    st = copy.stat()
    doc["files"]["r1"][0] = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    index.write_bytes(header + b"\n" + json.dumps(doc, separators=(",", ":")).encode())
    assert StoredCopies(runs.folder, KEY).index.rejected
    assert runs.run({"r1": edited, "r2": text_of("r2")}) == (("r1",), ("r2",), 0)
    assert runs.store.read("r1") == edited


def test_copy_of_a_blob_the_tree_no_longer_holds_is_stale(runs: Runs) -> None:
    """Another run (without copies) changed r3; the device then goes back to the text its copy holds."""
    assert runs.run({"r3": text_of("r3", edit="X")}, copies=False) == (("r3",), (), 0)
    assert runs.run({"r3": text_of("r3")}) == (("r3",), (), 0)
    assert runs.store.read("r3") == text_of("r3")


def test_longer_or_shorter_copy_is_not_equal(runs: Runs) -> None:
    """A copy grown by a byte (the index then has a stale stamp too) and a text one byte longer than the copy."""
    assert runs.run({"r1": text_of("r1") + "\n"}) == (("r1",), (), 0)
    with (runs.folder / "r2.cfg").open("ab") as handle:
        handle.write(b"!")
    assert runs.run({"r2": text_of("r2")}) == ((), ("r2",), 0)  # hashed: still unchanged, and the copy rewritten


def test_a_copy_is_trusted_only_once_it_has_settled(tmp_path: Path) -> None:
    """Within the racy window (2 s) after being written a copy is compared but not recorded, so not used."""
    runs = Runs(tmp_path)
    texts = {n: text_of(n) for n in NAMES}
    runs.run(texts)
    assert runs.run(texts) == ((), NAMES, 0)  # copies written
    assert runs.run(texts) == ((), NAMES, 0)  # just written: not recorded
    assert StoredCopies(runs.folder, KEY).index.entries == {}


def test_missing_or_unwritable_copies_only_cost_hashing(runs: Runs) -> None:
    (runs.folder / "r1.cfg").unlink()
    assert runs.run({n: text_of(n) for n in NAMES}) == ((), NAMES, 2)
    (runs.folder / INDEX_NAME).unlink()
    assert runs.run({n: text_of(n) for n in NAMES}) == ((), NAMES, 0)


def test_pulls_hand_their_texts_to_the_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled_at_once: None
) -> None:
    """Through the real SSH lab: the third unchanged pull proves every device by its copy; an edit on one
    device is still committed and its snapshot read back."""
    from cfgwatch.collect.runner import pull
    from cfgwatch.collect.settings import PullOptions
    from cfgwatch.inventory import load_inventory
    from cfgwatch.lab import LabState, running_lab

    fast = PullOptions(workers=16, timeout=5.0, retries=1, backoff=0.05)
    state = LabState.create(tmp_path / "lab")
    for key, value in state.credentials().env().items():
        monkeypatch.setenv(key, value)
    folder = tmp_path / "state" / "store-copies"
    with running_lab(state):
        state.write_known_hosts()
        devices = list(load_inventory(state.write_inventory(tmp_path / "inventory")).hosts.values())
        store = SnapshotStore.init(tmp_path / "snapshots")
        for _ in range(3):
            last = pull(store, devices, key=KEY, options=fast, copies=folder)
        assert last.run.commit is None and len(last.run.unchanged) == len(devices)
        index = StoredCopies(folder, KEY).index
        assert sorted(index.entries) == sorted(last.run.unchanged)
        text = state.read_config("dc-eos-01")
        state.apply("dc-eos-01", text.replace("description uplink-isp", "description uplink-ixp"), user="eve")
        edited = pull(store, devices, key=KEY, options=fast, copies=folder)
        assert edited.run.changed == ("dc-eos-01",) and "uplink-ixp" in store.read("dc-eos-01")
