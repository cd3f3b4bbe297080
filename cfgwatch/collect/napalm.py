"""NAPALM collector: get_config(retrieve="running") through nornir-napalm.

The driver is the platform spec's `collect.napalm_driver`. NAPALM's ios and nxos_ssh drivers talk SSH
CLI; eos talks eAPI (HTTPS) and junos NETCONF, which the lab does not serve. Where a driver drops the
change header from get_config (ios drops `! Last configuration change ... by USER`), the spec's
`collect.header_command` fetches it with one extra command and it is put back on top: it is the change
metadata (who, when) the audit attributes changes with.
"""

from __future__ import annotations

from typing import Any

from nornir.core.task import Result, Task
from nornir_napalm.plugins.tasks import napalm_cli, napalm_get

from cfgwatch.errors import UnknownPlatformError
from cfgwatch.vendors.registry import registered_spec
from cfgwatch.vendors.spec import HeaderCommand, NotApplicable

COLLECTOR = "napalm"


def driver(platform: str | None) -> str:
    """The NAPALM driver of the platform's spec."""
    spec = registered_spec(platform)
    if spec is None or isinstance(spec.collect.napalm_driver, NotApplicable):
        raise UnknownPlatformError(
            f"no NAPALM driver for platform {platform!r} (use collector: netmiko)", key="collector"
        )
    return spec.collect.napalm_driver


def header_command(platform: str | None) -> HeaderCommand | None:
    """The command that shows the last-change header NAPALM's get_config drops, if the platform has one."""
    spec = registered_spec(platform)
    if spec is None or isinstance(spec.collect.header_command, NotApplicable):
        return None
    return spec.collect.header_command


def connection_extras(
    *,
    secret: str | None,
    sock: Any,
    timeout: float,
    known_hosts: str | None,
    strict: bool,
    auth: dict[str, Any] | None = None,
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
        **(auth or {}),  # key files, passphrase, agent (cfgwatch.collect.ssh.netmiko_auth)
    }
    if secret:
        optional["secret"] = secret
    return {"timeout": timeout, "optional_args": optional}


def collect_running(task: Task, platform: str | None = None) -> Result:
    """Nornir task: NAPALM get_config(retrieve="running"); result is the raw running config text."""
    multi = task.run(
        task=napalm_get,
        getters=["config"],
        getters_options={"config": {"retrieve": "running"}},
        name="napalm get_config",
    )
    text = str(multi[0].result["config"]["running"])
    header = header_command(platform)
    if header is not None:
        command, prefix = header.command, header.prefix
        answer = task.run(task=napalm_cli, commands=[command], name="napalm last-change header")
        found = [
            line.strip()
            for line in str(answer[0].result.get(command, "")).splitlines()
            if line.strip().startswith(prefix)
        ]
        if found:
            text = f"{found[0]}\n{text}"
    return Result(host=task.host, result=text)
