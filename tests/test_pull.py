"""Pulls over real SSH (netmiko and NAPALM through Nornir) against the lab: what is committed, what is not."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cfgwatch.collect.runner import pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.inventory import Device, Inventory, load_inventory
from cfgwatch.lab import LabServer, LabState, running_lab
from cfgwatch.store import SnapshotStore

KEY = b"lab-test-key-0123456789abcdef012"
# Small timeouts keep failure tests fast; the lab answers in well under a second.
FAST = PullOptions(workers=16, timeout=2.0, retries=1, backoff=0.05)


@dataclass
class Lab:
    state: LabState
    server: LabServer
    inventory: Inventory
    store: SnapshotStore
    known_hosts: Path

    def devices(self, *names: str) -> list[Device]:
        return [self.inventory.hosts[n] for n in names] if names else list(self.inventory.hosts.values())


@contextmanager
def lab_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lab]:
    state = LabState.create(tmp_path / "lab")
    for key, value in state.credentials().env().items():
        monkeypatch.setenv(key, value)
    with running_lab(state) as server:
        known = state.write_known_hosts()
        inventory = load_inventory(state.write_inventory(tmp_path / "inventory"))
        yield Lab(state, server, inventory, SnapshotStore.init(tmp_path / "snapshots"), known)


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with lab_env(tmp_path, monkeypatch) as env:
        yield env


def _git_everything(store_path: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(store_path), "log", "--all", "-p", "--format=%B"], capture_output=True, text=True, check=True
    ).stdout


def test_full_pull_then_nothing_then_exactly_the_changed_device(lab: Lab) -> None:
    collectors = {d.name: d.collector for d in lab.devices()}
    assert collectors["core-rtr-01"] == "napalm" and collectors["branch-srx-01"] == "netmiko"

    first = pull(lab.store, lab.devices(), key=KEY, options=FAST)
    assert [o.failure for o in first.outcomes if not o.ok] == []
    assert first.run.commit is not None
    assert sorted(first.run.added) == sorted(d.name for d in lab.devices())
    assert sorted(lab.store.devices()) == sorted(d.name for d in lab.devices())
    assert "ip nat inside source static tcp 10.20.0.10 443 203.0.113.2 443" in lab.store.read("core-rtr-01")

    second = pull(lab.store, lab.devices(), key=KEY, options=FAST)
    assert second.run.commit is None
    assert second.run.failed == ()
    assert len(second.run.unchanged) == len(lab.devices())

    srx = lab.state.read_config("branch-srx-01").replace("8443;", "9050;")
    lab.state.apply("branch-srx-01", srx, user="mallory")
    third = pull(lab.store, lab.devices(), key=KEY, options=FAST)
    assert third.run.commit is not None
    assert third.run.changed == ("branch-srx-01",)
    assert lab.store.changed_devices(first.run.commit, third.run.commit) == ["branch-srx-01"]
    assert "9050;" in lab.store.read("branch-srx-01")
    meta = lab.store.metadata("branch-srx-01")
    assert meta is not None and meta.user == "mallory"

    # the NAPALM-collected IOS router picks up a change too
    ios = lab.state.read_config("core-rtr-01").replace(" 20 permit 10.20.0.0", " 20 permit 10.30.0.0")
    lab.state.apply("core-rtr-01", ios, user="bob")
    fourth = pull(lab.store, lab.devices(), key=KEY, options=FAST)
    assert fourth.run.changed == ("core-rtr-01",)
    assert "20 permit 10.30.0.0 0.0.0.255" in lab.store.read("core-rtr-01")


def test_failures_are_listed_and_never_replace_a_snapshot(lab: Lab) -> None:
    names = ("core-rtr-01", "edge-fw-01", "dc-nx-01", "dc-eos-01", "branch-fgt-01", "site-rb-01")
    devices = lab.devices(*names)
    base = pull(lab.store, devices, key=KEY, options=FAST)
    assert base.run.failed == () and base.run.commit is not None
    before = {n: lab.store.read(n) for n in names}

    # every device gets a real change, then most of them fail in a different way
    for name in names:
        text = lab.state.read_config(name)
        lab.state.apply(name, text.replace("10.", "10.", 1) + "\n", user="eve")
    faults = {"core-rtr-01": "auth", "dc-eos-01": "hang", "edge-fw-01": "truncated", "site-rb-01": "hostkey"}
    for name, fault in faults.items():
        lab.state.set_fault(name, fault)
    # dc-nx-01 refuses: point the inventory at a port nobody listens on
    devices = [replace(d, port=1) if d.name == "dc-nx-01" else d for d in devices]

    run = pull(lab.store, devices, key=KEY, options=FAST)
    reasons = {f.name: f.reason for f in run.run.failed}
    assert reasons == {
        "core-rtr-01": "auth",
        "dc-eos-01": "timeout",
        "edge-fw-01": "incomplete",
        "site-rb-01": "hostkey",
        "dc-nx-01": "refused",
    }
    assert run.run.changed == ("branch-fgt-01",)  # the one healthy device with a change
    for name in reasons:
        assert lab.store.read(name) == before[name], name  # last good snapshot kept
    attempts = {o.name: o.attempts for o in run.outcomes}
    assert attempts["core-rtr-01"] == 1 and attempts["site-rb-01"] == 1  # auth / host key: never retried
    assert attempts["dc-eos-01"] == 2 and attempts["edge-fw-01"] == 2  # transient: retried once

    info = lab.store.runs(1)[0]
    assert {f.name for f in info.failed} == set(reasons)
    creds = lab.state.credentials()
    history = _git_everything(lab.store.path)
    for secret in (creds.password, creds.secret):
        assert secret not in history
        assert all(secret not in f.detail for f in run.run.failed)


def test_a_run_where_everything_fails_commits_nothing_and_keeps_history(lab: Lab) -> None:
    devices = lab.devices("dc-nx-01", "branch-srx-01")
    pull(lab.store, devices, key=KEY, options=FAST)
    head = lab.store.runs(1)[0].commit
    for name in ("dc-nx-01", "branch-srx-01"):
        lab.state.set_fault(name, "auth")
    run = pull(lab.store, devices, key=KEY, options=FAST)
    assert {f.reason for f in run.run.failed} == {"auth"}
    assert sorted(lab.store.devices()) == ["branch-srx-01", "dc-nx-01"]
    assert lab.store.runs(1)[0].commit in (head, run.run.commit)
    assert lab.store.read("dc-nx-01")


def test_unknown_host_keys_fail_unless_trust_on_first_use(lab: Lab, tmp_path: Path) -> None:
    devices = lab.devices("dc-nx-01", "branch-srx-01")
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    strict = replace(FAST, known_hosts=empty)
    run = pull(lab.store, devices, key=KEY, options=strict)
    assert {f.reason for f in run.run.failed} == {"hostkey"} and run.run.commit is None

    tofu = replace(strict, trust_on_first_use=True)
    run = pull(lab.store, devices, key=KEY, options=tofu)
    assert run.run.failed == () and len(run.run.added) == 2
    recorded = empty.read_text()
    for dev in devices:
        assert f"[127.0.0.1]:{dev.port} ecdsa-sha2-nistp256 {lab.state.hostkey(dev.name).get_base64()}" in recorded

    # now known: a strict pull works, and a changed key fails even with TOFU
    assert pull(lab.store, devices, key=KEY, options=strict).run.failed == ()
    lab.state.set_fault("dc-nx-01", "hostkey")
    run = pull(lab.store, devices, key=KEY, options=tofu)
    assert [(f.name, f.reason) for f in run.run.failed] == [("dc-nx-01", "hostkey")]


def test_missing_credentials_variable_is_a_config_error(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfgwatch.errors import ConfigError

    monkeypatch.delenv("CFGWATCH_LAB_PASSWORD")
    with pytest.raises(ConfigError, match="CFGWATCH_LAB_PASSWORD"):
        pull(lab.store, lab.devices("dc-nx-01"), key=KEY, options=FAST)
    assert lab.store.runs() == []


def test_cli_pull_against_the_lab(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cfgwatch.cli import app

    project = tmp_path
    (project / "cfgwatch.yaml").write_text(
        "snapshots: snapshots\ninventory: inventory\nstate_dir: state\n"
        "pull:\n  timeout: 3\n  retries: 0\n  workers: 8\n"
    )
    monkeypatch.chdir(project)
    runner = CliRunner()
    res = runner.invoke(app, ["pull", "--device", "dc-nx-01", "--device", "branch-srx-01", "--quiet"])
    assert res.exit_code == 0, res.output
    assert sorted(lab.store.devices()) == ["branch-srx-01", "dc-nx-01"]
    lab.state.set_fault("dc-nx-01", "auth")
    res = runner.invoke(app, ["pull", "-d", "dc-nx-01", "-q"])
    assert res.exit_code == 1
    assert "failed dc-nx-01: auth" in res.output
    res = runner.invoke(app, ["pull", "-d", "branch-srx-01"])
    assert res.exit_code == 0
    assert "branch-srx-01" in res.output and "1 unchanged, 0 failed" in res.output


def test_a_pulled_config_over_the_size_limit_fails_and_keeps_the_last_snapshot(lab: Lab) -> None:
    """sanitize.max_config_bytes holds for pulls too: refused before sanitize, the last good snapshot stays."""
    first = pull(lab.store, lab.devices(), key=KEY, options=FAST)
    assert first.run.commit is not None
    before = lab.store.read("core-rtr-01")
    config = lab.state.read_config("core-rtr-01")
    body, end, tail = config.rpartition("\nend")
    padding = "".join(f"\n! padding line {n:06d}" for n in range(20_000))
    grown = body + padding + end + tail  # still a complete IOS config: it ends with `end`
    lab.state.apply("core-rtr-01", grown, user="mallory")
    limit = len(before.encode()) * 3  # the old config fits, the grown one (~400 KB more) does not
    second = pull(lab.store, lab.devices(), key=KEY, options=replace(FAST, max_config_bytes=limit))
    failed = {f.name: f for f in second.run.failed}
    assert set(failed) == {"core-rtr-01"}
    assert failed["core-rtr-01"].reason == "incomplete"
    assert "sanitize.max_config_bytes" in failed["core-rtr-01"].detail
    assert lab.store.read("core-rtr-01") == before


@pytest.mark.parametrize("pull_copies", [True, False])
def test_store_pull_copies_setting_decides_whether_copies_are_kept(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pull_copies: bool
) -> None:
    """`store.pull_copies: false` hashes every text and writes nothing to state/store-copies."""
    from cfgwatch.cli import app

    (tmp_path / "cfgwatch.yaml").write_text(
        "snapshots: snapshots\ninventory: inventory\nstate_dir: state\n"
        f"store:\n  pull_copies: {'true' if pull_copies else 'false'}\n"
        "pull:\n  timeout: 3\n  retries: 0\n  workers: 8\n"
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for _ in range(2):  # copies are written by the first unchanged run after a device's text is stored
        res = runner.invoke(app, ["pull", "--device", "dc-nx-01", "--quiet"])
        assert res.exit_code == 0, res.output
    copies = tmp_path / "state" / "store-copies"
    assert (copies.is_dir() and any(copies.iterdir())) == pull_copies
