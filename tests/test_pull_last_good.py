"""A pull compares each config's size with the device's last good snapshot (sizes from one `git ls-tree`,
issue 19 goals 5 and 8): a shrunken config fails and keeps its snapshot, the others are stored as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cfgwatch.collect.runner import pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.inventory import load_inventory
from cfgwatch.lab import LabState, running_lab
from cfgwatch.store import SnapshotStore

KEY = b"lab-test-key-0123456789abcdef012"
FAST = PullOptions(workers=16, timeout=5.0, retries=1, backoff=0.05)


def test_shrunken_config_fails_against_the_last_good_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = LabState.create(tmp_path / "lab")
    for key, value in state.credentials().env().items():
        monkeypatch.setenv(key, value)
    with running_lab(state):
        state.write_known_hosts()
        devices = list(load_inventory(state.write_inventory(tmp_path / "inventory")).hosts.values())
        store = SnapshotStore.init(tmp_path / "snapshots")
        first = pull(store, devices, key=KEY, options=FAST)
        assert first.run.failed == () and first.run.commit is not None
        before = store.read("dc-eos-01")

        text = state.read_config("dc-eos-01")
        state.apply("dc-eos-01", text.replace("   description uplink-isp\n", ""), user="eve")
        strict = replace(FAST, min_size_ratio=0.999)  # one line fewer is "far smaller" at this ratio
        second = pull(store, devices, key=KEY, options=strict)
        failed = {f.name: f for f in second.run.failed}
        assert list(failed) == ["dc-eos-01"]
        assert failed["dc-eos-01"].reason == "incomplete" and "last good snapshot" in failed["dc-eos-01"].detail
        assert store.read("dc-eos-01") == before  # the failed pull kept the last good snapshot

        third = pull(store, devices, key=KEY, options=FAST)  # the default ratio accepts one line fewer
        assert third.run.failed == () and third.run.changed == ("dc-eos-01",)
        assert "uplink-isp" not in store.read("dc-eos-01")
