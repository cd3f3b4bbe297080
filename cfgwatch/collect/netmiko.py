"""Netmiko collector: the platform's show command for its running config, through nornir-netmiko.

A platform with a spec uses its spec's `collect` settings (command, enable, quick exit); any other
netmiko platform (backup only) uses netutils' RUNNING_CONFIG_MAPPER command.
"""

from __future__ import annotations

import contextlib
from typing import Any

from netutils.lib_mapper import RUNNING_CONFIG_MAPPER
from nornir.core.task import Result, Task
from nornir_netmiko.tasks import netmiko_send_command

from cfgwatch.errors import UnknownPlatformError
from cfgwatch.vendors.registry import registered_spec
from cfgwatch.vendors.spec import NotApplicable

COLLECTOR = "netmiko"


def config_command(platform: str | None) -> str:
    """The show command netmiko sends for `platform`'s running config."""
    spec = registered_spec(platform)
    if spec is not None:
        return spec.collect.command
    if platform is None or platform not in RUNNING_CONFIG_MAPPER:
        raise UnknownPlatformError(f"no netmiko config command known for platform {platform!r}", key="platform")
    return RUNNING_CONFIG_MAPPER[platform]


def needs_enable(platform: str | None) -> bool:
    """The platform's CLI starts unprivileged and needs `enable` (with the inventory's secret) to show config."""
    spec = registered_spec(platform)
    return spec is not None and spec.collect.needs_enable


def quick_exit(platform: str | None) -> str | None:
    """The exit command that closes a read-only session without netmiko's config-mode probe, if any.

    Some platforms' netmiko disconnect() first probes for configuration mode by timing (PAN-OS waits 2 s
    for output to stop): a read-only session never entered it, so it can just say exit and close.
    """
    spec = registered_spec(platform)
    if spec is None or isinstance(spec.collect.quick_exit, NotApplicable):
        return None
    return spec.collect.quick_exit


def connection_extras(
    *,
    secret: str | None,
    sock: Any,
    timeout: float,
    known_hosts: str | None,
    strict: bool,
    auth: dict[str, Any] | None = None,
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
        **(auth or {}),  # key files, passphrase, agent (cfgwatch.collect.ssh.netmiko_auth)
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
    """Close a read-only session of a quick-exit platform without netmiko's config-mode probe.

    Sends the platform's exit command, closes the SSH client and takes the connection off the Nornir
    host, so close_connections() does not run the slow disconnect() on it. Other platforms keep
    netmiko's own disconnect (it is fast for them, and FortiOS's restores the console output mode).
    """
    command = quick_exit(platform)
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
