"""Reaching devices as production does: key files, the SSH agent, ~/.ssh/config, jump hosts,
connection_options, and a run-wide deadline. All over real SSH against the lab on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cfgwatch.collect.runner import pull
from cfgwatch.collect.settings import PullOptions
from cfgwatch.errors import ConfigError
from cfgwatch.inventory import Device, load_inventory
from cfgwatch.lab import LabServer, LabState, running_lab
from cfgwatch.lab.state import PASSWORD_ENV
from cfgwatch.store import SnapshotStore

KEY = b"lab-test-key-0123456789abcdef012"
FAST = PullOptions(workers=8, timeout=5.0, retries=0, backoff=0.05)
# one NAPALM device, netmiko ones of different platforms
NAMES = ("core-rtr-01", "dc-nx-01", "branch-srx-01")


@dataclass
class Env:
    tmp: Path
    state: LabState
    server: LabServer
    store: SnapshotStore

    def inventory(self, **kwargs: bool) -> list[Device]:
        inv = load_inventory(self.state.write_inventory(self.tmp / "inventory", **kwargs))
        return [inv.hosts[n] for n in NAMES]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    state = LabState.create(tmp_path / "lab")
    for key, value in state.credentials().env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with running_lab(state) as server:
        state.write_known_hosts()
        yield Env(tmp_path, state, server, SnapshotStore.init(tmp_path / "snapshots"))


def _ok(run: object) -> None:
    failed = run.run.failed  # type: ignore[attr-defined]
    assert failed == (), failed


def test_pull_with_a_key_file_and_no_password(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    devices = env.inventory(key_auth=True)
    assert all(d.credentials.password_env is None and d.credentials.key_file for d in devices)
    monkeypatch.delenv(PASSWORD_ENV)  # the password is nowhere: only the key can log in
    run = pull(env.store, devices, key=KEY, options=FAST)
    _ok(run)
    assert sorted(run.run.added) == sorted(NAMES)
    # a key the devices do not accept fails as auth, never retried
    other = env.tmp / "other.key"
    import paramiko

    paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(other))
    defaults = env.tmp / "inventory" / "defaults.yaml"
    defaults.write_text(defaults.read_text().replace(str(env.state.client_key_path.resolve()), str(other)))
    inv = load_inventory(env.tmp / "inventory")
    run = pull(env.store, [inv.hosts["dc-nx-01"]], key=KEY, options=FAST)
    assert [(f.name, f.reason) for f in run.run.failed] == [("dc-nx-01", "auth")]


def test_pull_through_the_jump_host(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    devices = env.inventory(key_auth=True, via_jump=True)
    assert devices[0].jump_host is not None and devices[0].jump_host.port == env.server.jump_port
    monkeypatch.delenv(PASSWORD_ENV)
    run = pull(env.store, devices, key=KEY, options=FAST)
    _ok(run)
    assert sorted(run.run.added) == sorted(NAMES)
    ports = {env.state.device(n).port for n in NAMES}
    assert {port for _, port in env.server.relayed} == ports  # every session went through the bastion

    # the jump host's key is checked as strictly as a device's: unknown -> hostkey, naming the jump host
    known = env.state.known_hosts_path
    kept = [line for line in known.read_text().splitlines(True) if f":{env.server.jump_port} " not in line]
    known.write_text("".join(kept))
    run = pull(env.store, devices[:1], key=KEY, options=FAST)
    (failure,) = run.run.failed
    assert failure.reason == "hostkey" and f"jump host 127.0.0.1:{env.server.jump_port}" in failure.detail
    # with trust on first use it is recorded, as a device key would be
    run = pull(env.store, devices[:1], key=KEY, options=PullOptions(**{**_fields(FAST), "trust_on_first_use": True}))
    _ok(run)
    assert f"[127.0.0.1]:{env.server.jump_port} ecdsa-sha2-nistp256" in known.read_text()


def _fields(opts: PullOptions) -> dict[str, object]:
    return {name: getattr(opts, name) for name in PullOptions.__dataclass_fields__}


def test_the_jump_host_only_forwards_to_the_loopback(env: Env) -> None:
    import paramiko

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    creds = env.state.credentials()
    client.connect("127.0.0.1", env.server.jump_port, creds.username, key_filename=str(env.state.client_key_path),
                   look_for_keys=False, allow_agent=False)  # fmt: skip
    transport = client.get_transport()
    assert transport is not None
    with pytest.raises(paramiko.ChannelException):
        transport.open_channel("direct-tcpip", ("192.0.2.1", 22), ("127.0.0.1", 0), timeout=5)
    with pytest.raises(paramiko.ChannelException):  # a session (shell) is refused too
        transport.open_session(timeout=5)
    client.close()


def test_ssh_config_host_block_supplies_hostname_port_user_key_and_proxyjump(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inventory names only an alias; everything else comes from an OpenSSH config, as `ssh lab-nx` would."""
    monkeypatch.delenv(PASSWORD_ENV)
    dev = env.state.device("dc-nx-01")
    creds = env.state.credentials()
    config = env.tmp / "ssh_config"
    config.write_text(
        f"Host lab-nx\n  HostName 127.0.0.1\n  Port {dev.port}\n  ProxyJump bastion\n"
        f"Host bastion\n  HostName 127.0.0.1\n  Port {env.server.jump_port}\n"
        f"Host lab-nx bastion\n  User {creds.username}\n  IdentityFile {env.state.client_key_path}\n"
    )
    inv_dir = env.tmp / "inv-ssh"
    inv_dir.mkdir()
    (inv_dir / "hosts.yaml").write_text(
        yaml.safe_dump(
            {
                "dc-nx-01": {
                    "hostname": "lab-nx",
                    "platform": "cisco_nxos",
                    "data": {
                        "credentials": {"secret_env": "CFGWATCH_LAB_SECRET"},
                        "known_hosts": str(env.state.known_hosts_path),
                    },
                }
            }
        )
    )
    device = load_inventory(inv_dir).hosts["dc-nx-01"]
    assert device.port == 22 and device.credentials.username is None
    run = pull(env.store, [device], key=KEY, options=PullOptions(**{**_fields(FAST), "ssh_config": config}))
    _ok(run)
    assert env.server.relayed == [("127.0.0.1", dev.port)]
    # without the config the alias does not resolve: the same inventory fails, and nothing is committed
    run = pull(env.store, [device], key=KEY, options=FAST)
    assert [f.reason for f in run.run.failed] in (["error"], ["refused"], ["timeout"])


@pytest.mark.skipif(shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None, reason="no OpenSSH agent")
def test_pull_with_the_ssh_agent(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    sock = env.tmp / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        agent_env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(env.state.client_key_path)], env=agent_env, capture_output=True, check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        monkeypatch.delenv(PASSWORD_ENV)
        inv = env.tmp / "inventory"
        env.state.write_inventory(inv, key_auth=True)
        defaults = yaml.safe_load((inv / "defaults.yaml").read_text())
        del defaults["data"]["credentials"]["key_file"]
        defaults["data"]["credentials"]["use_agent"] = True
        (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
        hosts = load_inventory(inv).hosts
        run = pull(env.store, [hosts[n] for n in NAMES], key=KEY, options=FAST)
        _ok(run)
        # the same inventory without use_agent has no way in
        defaults["data"]["credentials"]["use_agent"] = False
        (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
        run = pull(env.store, [load_inventory(inv).hosts["dc-nx-01"]], key=KEY, options=FAST)
        assert [f.reason for f in run.run.failed] == ["auth"]
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)


def test_connection_options_reach_the_connection(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """connection_options.<collector>: its port overrides the host's and its extras (a key file) are used."""
    monkeypatch.delenv(PASSWORD_ENV)
    inv = env.tmp / "inventory"
    env.state.write_inventory(inv, key_auth=True)
    defaults = yaml.safe_load((inv / "defaults.yaml").read_text())
    del defaults["data"]["credentials"]["key_file"]  # the key comes only from connection_options
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    real_port = hosts["dc-nx-01"]["port"]
    hosts["dc-nx-01"]["port"] = 1  # nobody listens there
    hosts["dc-nx-01"]["connection_options"] = {
        "netmiko": {"port": real_port, "extras": {"key_file": str(env.state.client_key_path)}}
    }
    # the NAPALM device: its netmiko arguments travel in optional_args, merged with cfgwatch's
    napalm_port = hosts["core-rtr-01"]["port"]
    hosts["core-rtr-01"]["port"] = 1
    hosts["core-rtr-01"]["connection_options"] = {
        "napalm": {"port": napalm_port, "extras": {"optional_args": {"key_file": str(env.state.client_key_path)}}}
    }
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    loaded = load_inventory(inv).hosts
    assert loaded["core-rtr-01"].collector == "napalm"
    run = pull(env.store, [loaded["dc-nx-01"], loaded["core-rtr-01"]], key=KEY, options=FAST)
    _ok(run)

    # host-key checking cannot be switched off from the inventory
    hosts["dc-nx-01"]["connection_options"]["netmiko"]["extras"]["ssh_strict"] = False
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    with pytest.raises(ConfigError, match=r"ssh_strict: set by cfgwatch") as err:
        load_inventory(inv)
    assert "hosts.yaml" in str(err.value)


def test_run_deadline_cuts_a_hung_device_and_keeps_its_snapshot(env: Env) -> None:
    devices = env.inventory()
    _ok(pull(env.store, devices, key=KEY, options=FAST))
    before = env.store.read("dc-nx-01")
    env.state.apply("dc-nx-01", env.state.read_config("dc-nx-01") + "\n", user="eve")
    env.state.set_fault("dc-nx-01", "hang")
    slow = PullOptions(workers=8, timeout=60.0, retries=2, backoff=0.05, deadline=4.0)
    start = time.monotonic()
    run = pull(env.store, devices, key=KEY, options=slow)
    took = time.monotonic() - start
    assert took < 12, took  # pull.timeout 60 x 3 attempts would hold the run for three minutes
    (failure,) = run.run.failed
    assert failure.name == "dc-nx-01" and failure.reason == "timeout" and "pull.deadline 4s" in failure.detail
    assert env.store.read("dc-nx-01") == before
    assert set(run.run.unchanged) == {"core-rtr-01", "branch-srx-01"}

    # one session at a time: the devices queued behind the hung one fail fast once the deadline passed
    hung_first = [devices[1], devices[0], devices[2]]
    start = time.monotonic()
    run = pull(env.store, hung_first, key=KEY, options=PullOptions(**{**_fields(slow), "workers": 1, "deadline": 3.0}))
    assert time.monotonic() - start < 10
    reasons = {f.name: (f.reason, f.detail) for f in run.run.failed}
    assert set(reasons) == {"dc-nx-01", "core-rtr-01", "branch-srx-01"}
    assert all(reason == "timeout" for reason, _ in reasons.values())
    assert "before this device was reached" in reasons["branch-srx-01"][1]


def test_deadline_is_a_pull_setting() -> None:
    from cfgwatch.collect.settings import PullSettings

    assert PullSettings().options().deadline == 900.0
    assert PullSettings(deadline=None).options().deadline is None
    with pytest.raises(ValueError):
        PullSettings(deadline=0)


def test_passphrase_key_two_hops_and_worker_processes(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """An encrypted key (passphrase by env var), ProxyJump through two hops (the lab's jump host twice: it
    forwards to its own port, then to the device), and collection in two worker processes."""
    import paramiko

    monkeypatch.delenv(PASSWORD_ENV)
    key = paramiko.ECDSAKey.from_private_key_file(str(env.state.client_key_path))
    locked = env.tmp / "locked.key"
    key.write_private_key_file(str(locked), password="correct horse")
    monkeypatch.setenv("LAB_KEY_PASSPHRASE", "correct horse")
    jump = env.server.jump_port
    config = env.tmp / "ssh_config"
    config.write_text(f"Host 127.0.0.1\n  ProxyJump 127.0.0.1:{jump},127.0.0.1:{jump}\n")
    inv = env.tmp / "inventory"
    env.state.write_inventory(inv, key_auth=True)
    defaults = yaml.safe_load((inv / "defaults.yaml").read_text())
    defaults["data"]["credentials"]["key_file"] = str(locked)
    defaults["data"]["credentials"]["passphrase_env"] = "LAB_KEY_PASSPHRASE"
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    hosts = load_inventory(inv).hosts
    devices = [hosts[n] for n in NAMES]
    opts = PullOptions(**{**_fields(FAST), "ssh_config": config, "processes": 2})
    run = pull(env.store, devices, key=KEY, options=opts)
    _ok(run)
    relayed = [port for _, port in env.server.relayed]
    assert relayed.count(jump) == len(NAMES)  # first hop -> second hop, once per device
    assert {env.state.device(n).port for n in NAMES} <= set(relayed)

    # a wrong passphrase is an auth failure that says which key, never the passphrase
    monkeypatch.setenv("LAB_KEY_PASSPHRASE", "wrong horse")
    run = pull(env.store, devices[1:2], key=KEY, options=FAST)
    (failure,) = run.run.failed
    assert failure.reason == "auth" and str(locked) in failure.detail and "horse" not in failure.detail


def test_jump_host_with_its_own_credentials(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """data.jump_host as a mapping: the bastion takes the key, the device the password."""
    inv = env.tmp / "inventory"
    env.state.write_inventory(inv)
    defaults = yaml.safe_load((inv / "defaults.yaml").read_text())
    creds = env.state.credentials()
    defaults["data"]["jump_host"] = {
        "hostname": "127.0.0.1",
        "port": env.server.jump_port,
        "credentials": {"username": creds.username, "key_file": str(env.state.client_key_path)},
    }
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    device = load_inventory(inv).hosts["dc-nx-01"]
    assert device.jump_host is not None and device.jump_host.credentials is not None
    _ok(pull(env.store, [device], key=KEY, options=FAST))
    assert env.server.relayed == [("127.0.0.1", env.state.device("dc-nx-01").port)]
    # the device's password does not open the bastion: without the key, the jump host refuses
    defaults["data"]["jump_host"]["credentials"] = {"username": creds.username}
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    run = pull(env.store, [load_inventory(inv).hosts["dc-nx-01"]], key=KEY, options=FAST)
    (failure,) = run.run.failed
    assert failure.reason == "auth" and failure.detail.startswith(f"jump host 127.0.0.1:{env.server.jump_port}")


def test_an_ssh_config_identity_that_cannot_be_loaded_is_skipped(env: Env) -> None:
    """OpenSSH skips an encrypted IdentityFile it cannot unlock; so does cfgwatch, and the password logs in."""
    import paramiko

    locked = env.tmp / "id_locked"
    paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(locked), password="nobody knows")
    config = env.tmp / "ssh_config"
    config.write_text(f"Host *\n  IdentityFile {locked}\n")
    devices = env.inventory()
    _ok(pull(env.store, devices[1:2], key=KEY, options=PullOptions(**{**_fields(FAST), "ssh_config": config})))


def test_cli_pull_deadline_option(env: Env, cli) -> None:  # type: ignore[no-untyped-def]
    env.inventory()
    (env.tmp / "cfgwatch.yaml").write_text("snapshots: snapshots\ninventory: inventory\nstate_dir: state\n")
    env.state.set_fault("dc-nx-01", "hang")
    start = time.monotonic()
    code, _, err = cli("pull", "-d", "dc-nx-01", "-q", "--timeout", "60", "--deadline", "2", cwd=env.tmp)
    assert time.monotonic() - start < 10
    assert code == 1 and "failed dc-nx-01: timeout" in err and "pull.deadline 2s" in err
