"""Netmiko collector: the platform's show command for its running config, through nornir-netmiko.

The command per platform comes from netutils' RUNNING_CONFIG_MAPPER, with overrides where cfgwatch
wants a different form: Junos in curly-brace form (it keeps the `## Last commit` header, which the
set form drops), ASA and PAN-OS which netutils does not list.
"""

from __future__ import annotations

import contextlib
from typing import Any

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER
from nornir.core.task import Result, Task
from nornir_netmiko.tasks import netmiko_send_command

from cfgwatch.errors import UnknownPlatformError

COLLECTOR = "netmiko"
CONFIG_COMMANDS: dict[str, str] = {
    **RUNNING_CONFIG_MAPPER,
    "cisco_asa": "show running-config",
    "juniper_junos": "show configuration",
    "paloalto_panos": "show config running",
    "linux": "cat /etc/iptables/rules.v4",
}
# Platforms whose netmiko disconnect() first probes for configuration mode by timing (PAN-OS waits 2 s for
# output to stop): a read-only session never entered it, so it just says the exit command and closes.
QUICK_EXIT: dict[str, str] = {"paloalto_panos": "exit"}
# Platforms whose CLI starts unprivileged and needs `enable` (with the inventory's secret) to show config.
NEEDS_ENABLE = frozenset({"cisco_ios", "cisco_asa", "arista_eos", "cisco_nxos"})


def config_command(platform: str | None) -> str:
    """The show command netmiko sends for `platform`'s running config."""
    if platform is None or platform not in CONFIG_COMMANDS:
        raise UnknownPlatformError(f"no netmiko config command known for platform {platform!r}", key="platform")
    return CONFIG_COMMANDS[platform]


def connection_extras(
    *,
    secret: str | None,
    sock: Any,
    timeout: float,
    known_hosts: str | None,
    strict: bool,
) -> dict[str, Any]:
    """ConnectHandler keyword arguments (beyond host/port/user/password, which Nornir passes)."""
    extras: dict[str, Any] = {
        "sock": sock,
        "conn_timeout": timeout,
        "auth_timeout": timeout,
        "banner_timeout": timeout,
        "blocking_timeout": timeout,
        "read_timeout_override": timeout,
        "fast_cli": True,
        "ssh_strict": strict,
        "system_host_keys": False,
        "alt_host_keys": known_hosts is not None,
        "alt_key_file": known_hosts or "",
        "allow_agent": False,
        "use_keys": False,
        "session_log": None,
    }
    if secret:
        extras["secret"] = secret
    return extras


def collect_running(task: Task, *, platform: str, enable: bool) -> Result:
    """Nornir task: send the config command over the host's netmiko connection; result is the raw text."""
    multi = task.run(
        task=netmiko_send_command,
        command_string=config_command(platform),
        enable=enable,
        name="netmiko config",
    )
    return Result(host=task.host, result=str(multi[0].result))


def quick_close(task: Task, conn_name: str, platform: str | None) -> None:
    """Close a read-only session of a QUICK_EXIT platform without netmiko's config-mode probe.

    Sends the platform's exit command, closes the SSH client and takes the connection off the Nornir
    host, so close_connections() does not run the slow disconnect() on it. Other platforms keep
    netmiko's own disconnect (it is fast for them, and FortiOS's restores the console output mode).
    """
    command = QUICK_EXIT.get(platform or "")
    conn = task.host.connections.get(conn_name)
    if command is None or conn is None:
        return
    session = conn.connection
    session = getattr(session, "device", session)  # a NAPALM driver keeps its netmiko session in .device
    with contextlib.suppress(Exception):
        session.write_channel(command + session.RETURN)
    with contextlib.suppress(Exception):
        session.paramiko_cleanup()
    task.host.connections.pop(conn_name, None)
