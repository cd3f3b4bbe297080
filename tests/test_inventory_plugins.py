"""Inventories from Nornir inventory plugins: a registered test plugin shaped like NetBox's (pulled against
the lab), Nornir's own SimpleInventory, and the rules that hold whatever the source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister

from cfgwatch.errors import ConfigError
from cfgwatch.lab import LabState, running_lab
from cfgwatch.project import Project, init_project

PLUGIN = "CfgwatchTestCmdb"
SEEN: dict[str, Any] = {}


class LabCmdb:
    """A CMDB plugin the way NetBoxInventory2 shapes hosts: objects in data, platform slug on the host."""

    def __init__(self, lab_state: str, api_token: str, only: list[str] | None = None) -> None:
        self.state = LabState(Path(lab_state))
        SEEN["api_token"] = api_token
        self.only = only

    def load(self) -> Inventory:
        hosts = Hosts()
        for dev in self.state.devices():
            if self.only and dev.name not in self.only:
                continue
            data = {
                "site": {"id": 7, "name": "Lab Site", "slug": "lab-site"},
                "device_role": {"id": 3, "name": "Edge Router", "slug": "edge"},
                "platform": {"id": 1, "name": dev.platform, "slug": dev.platform},
                "serial": "FTX0000",
            }
            hosts[dev.name] = Host(name=dev.name, hostname="127.0.0.1", port=dev.port, platform=dev.platform, data=data)
        return Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())


@pytest.fixture
def registered() -> Iterator[None]:
    InventoryPluginRegister.register(PLUGIN, LabCmdb)
    try:
        yield
    finally:
        InventoryPluginRegister.deregister(PLUGIN)


def _project(folder: Path, plugin: dict[str, Any]) -> Path:
    init_project(folder)
    config = folder / "cfgwatch.yaml"
    config.write_text(config.read_text() + yaml.safe_dump({"inventory_plugin": plugin}))
    return config


@pytest.mark.usefixtures("registered")
def test_pull_through_a_registered_inventory_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = LabState.create(tmp_path / "lab")
    for key, value in state.credentials().env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CMDB_TOKEN", "tok-123")
    names = ["dc-nx-01", "branch-srx-01"]
    options = {"lab_state": str(state.root), "api_token": {"env": "CMDB_TOKEN"}, "only": names}
    config = _project(tmp_path / "project", {"plugin": PLUGIN, "options": options})
    # the folder's defaults.yaml supplies what a CMDB does not hold: credentials and known_hosts
    (tmp_path / "project" / "inventory" / "defaults.yaml").write_text(
        yaml.safe_dump(
            {
                "data": {
                    "credentials": {
                        "username_env": "CFGWATCH_LAB_USERNAME",
                        "password_env": "CFGWATCH_LAB_PASSWORD",
                        "secret_env": "CFGWATCH_LAB_SECRET",
                    },
                    "known_hosts": str(state.known_hosts_path),
                }
            }
        )
    )
    with running_lab(state):
        state.write_known_hosts()
        project = Project.open(config)
        inventory = project.inventory
        assert inventory is not None and sorted(inventory.hosts) == sorted(names)
        device = inventory.hosts["dc-nx-01"]
        assert (device.site, device.role, device.platform) == ("lab-site", "edge", "cisco_nxos")
        assert device.data["serial"] == "FTX0000"
        assert SEEN["api_token"] == "tok-123"  # read from the environment, never from cfgwatch.yaml
        result = project.pull(timeout=5, retries=0)
    assert result.run.failed == () and sorted(result.run.added) == sorted(names)


@pytest.mark.usefixtures("registered")
def test_plugin_secrets_must_be_references(tmp_path: Path) -> None:
    config = _project(tmp_path, {"plugin": PLUGIN, "options": {"lab_state": "lab", "api_token": "tok-123"}})
    with pytest.raises(ConfigError, match="plain-text secret") as err:
        _ = Project.open(config).inventory
    assert "tok-123" not in str(err.value)


def test_nornir_simple_inventory_plugin_keeps_the_no_plaintext_password_rule(tmp_path: Path) -> None:
    (tmp_path / "nr").mkdir()
    (tmp_path / "nr" / "hosts.yaml").write_text("r1:\n  hostname: 192.0.2.1\n  platform: ios\n  password: hunter2\n")
    config = _project(tmp_path, {"plugin": "SimpleInventory", "options": {"host_file": "nr/hosts.yaml"}})
    with pytest.raises(ConfigError, match="plain-text passwords are not allowed") as err:
        _ = Project.open(config).inventory
    assert "inventory plugin SimpleInventory" in str(err.value) and "r1.password" in str(err.value)
    assert "hunter2" not in str(err.value)

    (tmp_path / "nr" / "hosts.yaml").write_text("r1:\n  hostname: 192.0.2.1\n  platform: ios\n  groups: [edge]\n")
    (tmp_path / "nr" / "groups.yaml").write_text("edge:\n  data:\n    role: edge\n")
    text = config.read_text()
    both = "host_file: nr/hosts.yaml\n    group_file: nr/groups.yaml"
    config.write_text(text.replace("host_file: nr/hosts.yaml", both))
    device = Project.open(config).required_inventory().hosts["r1"]
    assert (device.platform, device.role, device.hostname) == ("cisco_ios", "edge", "192.0.2.1")


def test_unknown_plugin_names_the_registered_ones(tmp_path: Path) -> None:
    config = _project(tmp_path, {"plugin": "NetBoxInventory3"})
    with pytest.raises(ConfigError, match="SimpleInventory") as err:
        _ = Project.open(config).inventory
    assert "cfgwatch[netbox]" in str(err.value)
