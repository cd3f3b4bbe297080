"""Inventory: Nornir SimpleInventory files, inheritance, credential references, errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgwatch.errors import ConfigError, InputError
from cfgwatch.inventory import Credentials, load_inventory, resolve_credentials

REPO_INVENTORY = Path(__file__).resolve().parent.parent / "inventory"


def write(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def test_example_inventory_loads() -> None:
    inv = load_inventory(REPO_INVENTORY)
    assert inv.hosts
    for device in inv.hosts.values():
        assert device.platform is not None
        assert device.credentials.password_env or device.credentials.password_file


def test_inheritance_host_then_groups_then_defaults(tmp_path: Path) -> None:
    inv = load_inventory(
        write(
            tmp_path,
            defaults="port: 2222\ndata: {collector: napalm, site: hq, credentials: {password_env: PW}}\n",
            groups=(
                "base:\n  data: {role: router, site: dc1}\n  platform: ios\n"
                "fw:\n  groups: [base]\n  data: {role: firewall, platform: asa}\n"
            ),
            hosts=(
                "r1:\n  hostname: 10.0.0.1\n  groups: [base]\n"
                "f1:\n  groups: [fw]\n  port: 22\n  data: {site: branch, asn: 65001}\n"
            ),
        )
    )
    r1, f1 = inv.hosts["r1"], inv.hosts["f1"]
    assert (r1.hostname, r1.port, r1.platform, r1.role, r1.site, r1.collector) == (
        "10.0.0.1",
        2222,
        "cisco_ios",  # top-level Nornir `platform: ios` of the group, canonicalised
        "router",
        "dc1",
        "napalm",
    )
    # f1: own port and site win; fw's role and platform win over base's; name is the default hostname.
    assert (f1.hostname, f1.port, f1.platform, f1.role, f1.site) == ("f1", 22, "cisco_asa", "firewall", "branch")
    assert f1.data == {"asn": 65001}  # the user's own data keys are kept for their Nornir tasks
    assert f1.credentials.password_env == "PW"
    assert [d.name for d in inv.select(groups=["base"])] == ["r1", "f1"]  # f1 is in base through fw
    assert [d.name for d in inv.select(groups=["fw"])] == ["f1"]


def test_credentials_resolved_from_env_and_file_at_use_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret.txt").write_text("en4ble\n", encoding="utf-8")
    inv = load_inventory(
        write(
            tmp_path,
            hosts=(
                "r1:\n  username: netops\n  data:\n    credentials: {password_env: R1_PW, secret_file: secret.txt}\n"
            ),
        )
    )
    device = inv.hosts["r1"]
    monkeypatch.delenv("R1_PW", raising=False)
    with pytest.raises(ConfigError, match="R1_PW"):
        resolve_credentials(device)
    monkeypatch.setenv("R1_PW", "s3cret-pw")
    creds = resolve_credentials(device)
    assert creds == Credentials(username="netops", password="s3cret-pw", secret="en4ble")
    assert "s3cret-pw" not in repr(creds) and "en4ble" not in repr(creds)


@pytest.mark.parametrize(
    ("files", "file", "key", "text"),
    [
        ({"hosts": "r1:\n  hostnme: 10.0.0.1\n"}, "hosts.yaml", "r1.hostnme", "Extra inputs"),
        ({"hosts": "r1:\n  data: {collector: telnet}\n"}, "hosts.yaml", "r1.data.collector", "napalm"),
        ({"hosts": "r1:\n  data: {platfrom: cisco_ios}\n"}, "hosts.yaml", "r1.data", "did you mean 'platform'"),
        ({"hosts": "r1:\n  password: hunter2\n"}, "hosts.yaml", "r1.password", "plain-text passwords"),
        (
            {"hosts": "r1:\n  connection_options:\n    netmiko:\n      extras: {secret: en}\n"},
            "hosts.yaml",
            "r1.connection_options.netmiko",
            "plain-text passwords",
        ),
        ({"hosts": "r1: {}\n", "defaults": "port: 70000\n"}, "defaults.yaml", "port", "65535"),
        ({"hosts": "r1:\n  groups: [nope]\n"}, "hosts.yaml", "r1.groups", "unknown group 'nope'"),
        ({"hosts": "r1:\n  data: {platform: cisco_foo}\n"}, "hosts.yaml", "r1.data.platform", "unknown platform"),
        (
            {"hosts": "r1: {}\n", "groups": "a: {groups: [b]}\nb: {groups: [a]}\n"},
            "groups.yaml",
            "a.groups",
            "loop",
        ),
    ],
)
def test_invalid_inventory_names_file_and_key(
    tmp_path: Path, files: dict[str, str], file: str, key: str, text: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_inventory(write(tmp_path, **files))
    assert info.value.path == str(tmp_path / file)
    assert info.value.key == key
    assert text in str(info.value)


def test_malformed_yaml_and_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_inventory(write(tmp_path, hosts="r1:\n  hostname: [unclosed\n"))
    assert info.value.path == str(tmp_path / "hosts.yaml") and info.value.line is not None
    with pytest.raises(ConfigError, match="duplicate key 'r1'") as info:
        load_inventory(write(tmp_path, hosts="r1: {}\nr2: {}\nr1: {port: 23}\n"))
    assert info.value.line == 3


@pytest.mark.parametrize("second", ["r1", "\uff32\uff11"])  # fullwidth R1 folds to r1 too
def test_device_names_differing_only_in_case_are_refused_with_file_and_line(tmp_path: Path, second: str) -> None:
    hosts = f"R1: {{}}\nr2: {{}}\n'{second}': {{port: 23}}\n"
    with pytest.raises(ConfigError, match="clashes with 'R1' \\(line 1\\)") as info:
        load_inventory(write(tmp_path, hosts=hosts))
    assert info.value.path == str(tmp_path / "hosts.yaml") and info.value.line == 3
    assert str(info.value).startswith(f"{tmp_path / 'hosts.yaml'}:3: ")


def test_missing_inventory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="inventory directory not found"):
        load_inventory(tmp_path / "absent")
    with pytest.raises(ConfigError, match="inventory file not found") as info:
        load_inventory(tmp_path)
    assert info.value.path == str(tmp_path / "hosts.yaml")
    assert isinstance(info.value, InputError)


def test_empty_hosts_file_is_an_empty_inventory(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, hosts="# no devices yet\n"))
    assert inv.hosts == {} and inv.groups == {}
    with pytest.raises(ConfigError, match=r"not in the inventory: device .ghost."):
        inv.select(names=["ghost"])


def test_example_inventory_is_the_lab_served_on_port_base_2201() -> None:
    """inventory/ is what `cfgwatch lab serve --port-base 2201` serves: same devices, platforms, ports."""
    from cfgwatch.lab.state import load_fixture_devices

    lab = load_fixture_devices()
    inv = load_inventory(REPO_INVENTORY)
    assert list(inv.hosts) == list(lab)
    for offset, (name, platform) in enumerate(lab.items()):
        device = inv.hosts[name]
        assert (device.hostname, device.port, device.platform) == ("127.0.0.1", 2201 + offset, platform)
    from cfgwatch.classify.networks import load_networks
    from cfgwatch.policy.approved import load_approved
    from cfgwatch.policy.tickets import load_tickets

    assert load_networks(REPO_INVENTORY / "networks.yaml").org_public.ranges()
    assert load_approved(REPO_INVENTORY / "approved.yaml")
    tickets, problems = load_tickets(REPO_INVENTORY / "tickets.yaml")
    assert tickets and problems == []
