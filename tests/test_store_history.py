"""Per-device history (SnapshotStore.history, `cfgwatch log --device`) and repository upkeep.

History must agree with what git's trees say (checked against a brute-force walk), must come from the
commit-graph's Bloom filters when they exist, and upkeep must never lose an object or move a ref.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgwatch.errors import InputError, LockedError
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceSnapshot, SnapshotStore

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
Cli = Callable[..., tuple[int, str, str]]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True).stdout


def snap(
    name: str, text: str, platform: str | None = "cisco_ios", meta: ChangeMetadata | None = None
) -> DeviceSnapshot:
    return DeviceSnapshot(name=name, platform=platform, text=text, metadata=meta)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore.init(tmp_path / "snapshots")


def test_history_statuses_platforms_metadata_and_limit(store: SnapshotStore) -> None:
    alice = ChangeMetadata(user="alice", time=T0 - timedelta(hours=1), source="ios-header", raw="! by alice")
    # All runs start in the same second: ordering cannot come from timestamps alone.
    added = store.write_run([snap("r1", "v1\n", meta=alice), snap("r2", "x\n")], collector="import", started=T0)
    plat = store.write_run([snap("r1", "v1\n", platform="cisco_asa")], collector="pull", started=T0)  # meta only
    text = store.write_run([snap("r1", "v2\n", platform="cisco_asa")], collector="pull", started=T0)  # text only
    store.write_run([snap("r2", "y\n")], collector="import", started=T0)  # another device: not in r1's history
    plat2 = store.write_run([snap("r1", "v2\n", platform="cisco_ios")], collector="import", started=T0)
    text2 = store.write_run([snap("r1", "v3\n", platform="cisco_ios")], collector="import", started=T0)

    history = store.history("r1")
    assert [h.commit for h in history] == [text2.commit, plat2.commit, text.commit, plat.commit, added.commit]
    assert [h.status for h in history] == ["changed", "platform", "changed", "platform", "added"]
    assert [h.platform for h in history] == ["cisco_ios", "cisco_ios", "cisco_asa", "cisco_asa", "cisco_ios"]
    assert [h.run_id for h in history] == [r.run_id for r in (text2, plat2, text, plat, added)]
    assert [h.collector for h in history] == ["import", "import", "pull", "pull", "import"]
    assert history[-1].metadata == alice and history[0].metadata is None
    assert all(h.time == T0 for h in history)

    # A window that starts on a text-only revision still knows the platform stored with it.
    window = store.history("r1", limit=3)
    assert window == history[:3]
    assert store.history("r1", limit=1)[0].platform == "cisco_ios"
    assert [h.status for h in store.history("r2")] == ["changed", "added"]


def test_history_errors_name_the_device(store: SnapshotStore) -> None:
    with pytest.raises(InputError, match=r"'r1'.*no runs yet"):
        store.history("r1")
    store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    with pytest.raises(InputError, match="device 'ghost' has never been snapshotted"):
        store.history("ghost")
    with pytest.raises(InputError, match="not a usable device name"):
        store.history("../configs")
    with pytest.raises(InputError, match="at least 1"):
        store.history("r1", limit=0)


def trees(repo: Path) -> dict[str, str]:
    """commit -> full `git ls-tree -r` listing, for every commit on HEAD (one git call per commit)."""
    return {c: git(repo, "ls-tree", "-r", c) for c in git(repo, "rev-list", "HEAD").split()}


def brute_force_history(repo: Path, listing: dict[str, str], name: str) -> list[str]:
    """Commits (newest first) whose tree entry for the device's config or meta differs from the parent's."""
    order = git(repo, "rev-list", "HEAD").split()

    def entries(commit: str | None) -> set[str]:
        if commit is None:
            return set()
        wanted = (f"\tconfigs/{name}", f"\tmeta/{name}.json")
        return {line for line in listing[commit].splitlines() if line.endswith(wanted)}

    parents = [*order[1:], None]
    return [c for c, p in zip(order, parents, strict=True) if entries(c) != entries(p)]


def random_runs(store: SnapshotStore, runs: int, seed: int) -> dict[str, dict[str, str]]:
    """Random runs over 6 devices (text and platform changes); returns commit -> device -> text."""
    rng = random.Random(seed)
    texts = {f"d{i}": f"hostname d{i}\n" for i in range(6)}
    platforms = dict.fromkeys(texts, "cisco_ios")
    seen: dict[str, dict[str, str]] = {}
    for run in range(runs):
        for name in rng.sample(sorted(texts), rng.randint(1, 3)):
            if rng.random() < 0.25:
                platforms[name] = rng.choice(["cisco_ios", "cisco_asa", "arista_eos"])
            else:
                texts[name] += f"! change {run}\n"
        result = store.write_run(
            [snap(n, texts[n], platforms[n]) for n in sorted(texts)],
            collector="import",
            started=T0 + timedelta(minutes=run),
        )
        if result.commit is not None:
            seen[result.commit] = dict(texts)
    return seen


def test_history_matches_a_brute_force_walk_with_and_without_commit_graph(store: SnapshotStore) -> None:
    random_runs(store, 18, seed=7)
    assert store.last_upkeep is not None and store.last_upkeep.bloom_filters
    with_graph = {name: store.history(name) for name in store.devices()}
    listing = trees(store.path)
    for name, revisions in with_graph.items():
        assert [r.commit for r in revisions] == brute_force_history(store.path, listing, name)
        for r in revisions:
            assert r.platform == store.platform(name, r.commit)
    store.remove_commit_graph()
    assert not (store.git_dir / "objects" / "info" / "commit-graphs").exists()
    assert {name: store.history(name) for name in store.devices()} == with_graph


def test_history_is_answered_from_bloom_filters(
    store: SnapshotStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for run in range(12):
        store.write_run([snap(f"d{run}", "x\n"), snap("hot", f"v{run}\n")], collector="import", started=T0)
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    assert len(store.history("d3")) == 1
    stats = [
        json.loads(line)["value"]
        for line in trace.read_text().splitlines()
        if '"category":"bloom"' in line and '"key":"statistics"' in line
    ]
    assert stats and all(s["definitely_not"] > 0 for s in stats)


def test_upkeep_never_loses_data_or_moves_refs(store: SnapshotStore) -> None:
    random_runs(store, 20, seed=3)
    refs, reflog = git(store.path, "for-each-ref"), git(store.path, "reflog", "show", "main")
    before = trees(store.path)
    histories = {n: store.history(n) for n in store.devices()}

    incremental = store.upkeep()
    assert incremental.bloom_filters and incremental.loose_objects == 0
    assert incremental.packs < 8  # ~20 per-run packs / loose objects rolled up geometrically
    full = store.upkeep(full=True)
    assert full.packs == 1 and full.graph_layers == 1 and full.bloom_filters and full.loose_objects == 0

    assert git(store.path, "for-each-ref") == refs and git(store.path, "reflog", "show", "main") == reflog
    assert trees(store.path) == before  # same blobs at every commit; fsck reads them all
    assert {n: store.history(n) for n in store.devices()} == histories
    subprocess.run(["git", "--git-dir", str(store.path), "fsck", "--full", "--strict"], check=True, capture_output=True)

    # The next run adds a commit-graph layer on top of the full graph; filters stay on every layer.
    store.write_run([snap("d0", "after upkeep\n")], collector="import", started=T0)
    assert store.last_upkeep is not None and store.last_upkeep.bloom_filters
    assert store.last_upkeep.graph_layers == 2
    assert store.history("d0")[1:] == histories["d0"]


def test_upkeep_adds_settings_to_an_old_repo_and_respects_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "old"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    git(path, "config", "gc.writeCommitGraph", "false")  # a user's own choice is kept
    store = SnapshotStore(path)
    store.write_run([snap("r1", "a\n")], collector="import", started=T0)
    assert git(path, "config", "commitGraph.readChangedPaths").strip() == "true"
    assert git(path, "config", "gc.autoDetach").strip() == "false"
    assert git(path, "config", "gc.writeCommitGraph").strip() == "false"
    other = SnapshotStore(path)
    with store.lock(), pytest.raises(LockedError):
        other.upkeep()


# --- CLI ------------------------------------------------------------------------------------------------


def test_log_device_lists_its_runs_and_names_a_bad_device(tmp_path: Path, cli: Cli) -> None:
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    store = SnapshotStore(project / "snapshots")
    bob = ChangeMetadata(user="bob", time=T0 - timedelta(days=1), source="ios-header", raw="! by bob")
    first = store.write_run([snap("rtr1", "a\n"), snap("fw1", "b\n", "cisco_asa")], collector="import", started=T0)
    second = store.write_run([snap("rtr1", "a2\n", meta=bob)], collector="netmiko", started=T0 + timedelta(1))
    assert first.commit and second.commit

    code, out, err = cli("log", "--device", "rtr1", cwd=project)
    assert code == 0, err
    # not a terminal: the list layout, one item per run (newest first), one value per line
    items = out.split("* ")[1:]
    assert len(items) == 2 and out.startswith("* ")
    assert f"commit: {second.commit[:12]}\n" in items[0] and "status: changed\n" in items[0]
    assert "changed by (config header): bob at 2024-04-30 02:00\n" in items[0]
    assert "collector: netmiko\n" in items[0] and f"run: {second.run_id}\n" in items[0]
    assert f"commit: {first.commit[:12]}\n" in items[1] and "status: added\n" in items[1]
    assert f"run: {first.run_id}\n" in items[1]

    code, out, _ = cli("log", "-d", "rtr1", "--limit", "1", cwd=project)
    assert code == 0 and first.commit[:12] not in out and second.commit[:12] in out
    code, out, _ = cli("log", "--device", "fw1", cwd=project)
    assert code == 0 and "cisco_asa" in out and second.commit[:12] not in out

    code, out, err = cli("log", "--device", "nosuch", cwd=project)
    assert code == 2 and out == "" and "'nosuch'" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("log", "--device", "../x", cwd=project)
    assert code == 2 and "'../x'" in err
    code, _, err = cli("log", "--device", "rtr1", "--all", cwd=project)
    assert code == 2 and "--all" in err
