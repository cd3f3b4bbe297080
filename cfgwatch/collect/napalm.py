"""NAPALM collector: get_config(retrieve="running") through nornir-napalm.

NAPALM's ios and nxos_ssh drivers talk SSH CLI; eos talks eAPI (HTTPS) and junos NETCONF. The lab
serves SSH CLI only, so the lab runs NAPALM for cisco_ios and netmiko elsewhere. NAPALM's ios driver
drops the `! Last configuration change ... by USER` header from get_config, so for IOS the header is
fetched with one extra `show running-config | include` and put back on top: it is the change
metadata (who, when) the audit attributes changes with.
"""

from __future__ import annotations

from typing import Any

from nornir.core.task import Result, Task
from nornir_napalm.plugins.tasks import napalm_cli, napalm_get

from cfgwatch.errors import UnknownPlatformError

COLLECTOR = "napalm"
# canonical platform -> NAPALM driver
DRIVERS: dict[str, str] = {
    "cisco_ios": "ios",
    "cisco_nxos": "nxos_ssh",
    "arista_eos": "eos",
    "juniper_junos": "junos",
}


def driver(platform: str | None) -> str:
    if platform is None or platform not in DRIVERS:
        raise UnknownPlatformError(
            f"no NAPALM driver for platform {platform!r} (use collector: netmiko)", key="collector"
        )
    return DRIVERS[platform]


def connection_extras(
    *,
    secret: str | None,
    sock: Any,
    timeout: float,
    known_hosts: str | None,
    strict: bool,
) -> dict[str, Any]:
    """napalm driver keyword arguments; the netmiko ones travel in optional_args (NAPALM passes them on)."""
    optional: dict[str, Any] = {
        "sock": sock,
        "conn_timeout": timeout,
        "auth_timeout": timeout,
        "banner_timeout": timeout,
        "read_timeout_override": timeout,
        "ssh_strict": strict,
        "system_host_keys": False,
        "alt_host_keys": known_hosts is not None,
        "alt_key_file": known_hosts or "",
        "allow_agent": False,
        "use_keys": False,
    }
    if secret:
        optional["secret"] = secret
    return {"timeout": timeout, "optional_args": optional}


# platform -> (command that shows the last-change header NAPALM strips, the header's first words)
HEADER_COMMANDS: dict[str, tuple[str, str]] = {
    "cisco_ios": ("show running-config | include Last configuration change", "! Last configuration change"),
}


def collect_running(task: Task, platform: str | None = None) -> Result:
    """Nornir task: NAPALM get_config(retrieve="running"); result is the raw running config text."""
    multi = task.run(
        task=napalm_get,
        getters=["config"],
        getters_options={"config": {"retrieve": "running"}},
        name="napalm get_config",
    )
    text = str(multi[0].result["config"]["running"])
    header = HEADER_COMMANDS.get(platform or "")
    if header is not None:
        command, prefix = header
        answer = task.run(task=napalm_cli, commands=[command], name="napalm last-change header")
        found = [
            line.strip()
            for line in str(answer[0].result.get(command, "")).splitlines()
            if line.strip().startswith(prefix)
        ]
        if found:
            text = f"{found[0]}\n{text}"
    return Result(host=task.host, result=text)
