"""The device lab: real SSH on the loopback, prompts/echo that netmiko accepts, apply headers and syslog."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import paramiko
import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException

from cfgwatch.collect.netmiko import config_command
from cfgwatch.errors import InputError
from cfgwatch.lab import LabServer, LabState, running_lab, start_lab_process, stop_lab_process
from cfgwatch.lab.platforms import lab_platforms

AT = datetime(2025, 3, 4, 14, 2, 11, tzinfo=UTC)
# platform -> (header line the change leaves in the config, or None; syslog line pattern)
EXPECTED = {
    "cisco_ios": (
        "! Last configuration change at 14:02:11 UTC Tue Mar 4 2025 by mallory",
        r"%SYS-5-CONFIG_I: Configured from console by mallory on vty0",
    ),
    "cisco_asa": (
        ": Written by mallory at 14:02:11.000 UTC Tue Mar 4 2025",
        r"%ASA-5-111010: User 'mallory', running 'CLI' from IP 10\.99\.0\.250, executed 'write memory'",
    ),
    "cisco_nxos": (
        "!Running configuration last done at: Tue Mar  4 14:02:11 2025",
        r"%VSHD-5-VSHD_SYSLOG_CONFIG_I: Configured from vty by mallory on 10\.99\.0\.250@pts/0",
    ),
    "arista_eos": (
        "! Startup-config last modified at  Tue Mar  4 14:02:11 2025 by mallory",
        r"%SYS-5-CONFIG_I: Configured from console by mallory",
    ),
    "juniper_junos": (
        "## Last commit: 2025-03-04 14:02:11 UTC by mallory",
        r"mgd\[\d+\]: UI_COMMIT: User 'mallory' requested 'commit' operation",
    ),
    "fortinet": (
        "#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user=mallory",
        r'logid="0100044547" .* user="mallory" ui="ssh\(10\.99\.0\.250\)"',
    ),
    "paloalto_panos": (None, r",CONFIG,0,0,2025/03/04 14:02:11,10\.99\.0\.250,vsys1,commit,mallory,"),
    "mikrotik_routeros": ("# 2025-03-04 14:02:11 by RouterOS 7.18.2", r"system,info config changed by mallory"),
    "cisco_xr": (
        "!! Last configuration change at Tue Mar  4 14:02:11 2025 by mallory",
        r"%MGBL-CONFIG-6-DB_COMMIT : Configuration committed by user 'mallory'",
    ),
}


@pytest.fixture
def lab(tmp_path: Path) -> LabState:
    return LabState.create(tmp_path / "lab")


def test_fixture_set_covers_every_platform(lab: LabState) -> None:
    assert {d.platform for d in lab.devices()} == set(lab_platforms()) == set(EXPECTED)


def test_more_devices_than_fixtures_get_their_own_hostnames(tmp_path: Path) -> None:
    state = LabState.create(tmp_path / "big", devices=20)
    names = [d.name for d in state.devices()]
    assert len(set(names)) == 20
    assert "core-rtr-01-002" in names
    assert "hostname core-rtr-01-002" in state.read_config("core-rtr-01-002")


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_apply_moves_the_header_and_writes_syslog(lab: LabState, platform: str) -> None:
    dev = next(d for d in lab.devices() if d.platform == platform)
    before = lab.read_config(dev.name)
    new = before.replace("10.", "10.", 1) + ("\n" if not before.endswith("\n") else "")
    lines = lab.apply(dev.name, new, user="mallory", at=AT)
    after = lab.read_config(dev.name)
    header, pattern = EXPECTED[platform]
    if header is not None:
        assert header in after.splitlines()
    assert re.search(pattern, "\n".join(lines))
    logged = lab.syslog_path.read_text()
    assert all(line in logged for line in lines)
    assert all(line.startswith("2025-03-04T14:02:11+00:00 " + dev.name) for line in lines)
    # applying twice keeps exactly one change header
    lab.apply(dev.name, after, user="bob", at=AT)
    again = lab.read_config(dev.name)
    header_re = lab_platforms()[platform].header_re
    if header is not None and header_re is not None:
        heads = [ln for ln in again.splitlines() if header_re.match(ln)]
        assert len(heads) == 1


def test_lab_listens_on_loopback_only(lab: LabState) -> None:
    with pytest.raises(InputError):
        LabServer(lab, host="0.0.0.0")


def test_netmiko_reads_each_platform_and_the_shell_echoes(lab: LabState) -> None:
    creds = lab.credentials()
    with running_lab(lab):
        for dev in lab.devices():
            if dev.platform == "paloalto_panos":
                continue  # covered by the pull tests (its netmiko driver sleeps ~2.5 s)
            conn = ConnectHandler(
                device_type=dev.platform, host="127.0.0.1", port=dev.port, username=creds.username,
                password=creds.password, secret=creds.secret, conn_timeout=5, read_timeout_override=5,
            )  # fmt: skip
            if dev.platform in ("cisco_ios", "arista_eos"):  # (netmiko's ASA driver enables on login)
                assert conn.check_enable_mode() is False
                conn.enable()
            if dev.platform in ("cisco_ios", "cisco_asa", "arista_eos"):
                assert conn.check_enable_mode() is True
            out = conn.send_command(config_command(dev.platform))
            conn.disconnect()
            served = lab.read_config(dev.name).strip().splitlines()
            lines = str(out).strip().splitlines()
            assert served[-1].strip() in lines[-1], dev.name
            assert len(lines) >= len(served) - 3, dev.name
        # raw channel: typed characters come back before the command's output
        dev = lab.device("core-rtr-01")
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", dev.port, creds.username, creds.password, look_for_keys=False, allow_agent=False)
        chan = client.invoke_shell()
        chan.send(b"show privilege\n")
        buf = b""
        deadline = time.monotonic() + 5
        while b"level is" not in buf and time.monotonic() < deadline:
            if chan.recv_ready():
                buf += chan.recv(4096)
            else:
                time.sleep(0.01)
        client.close()
        text = buf.decode()
        assert text.index("core-rtr-01>show privilege\r\n") < text.index("Current privilege level is 1")


def test_wrong_password_and_auth_fault_are_rejected(lab: LabState) -> None:
    creds = lab.credentials()
    with running_lab(lab):
        dev = lab.device("dc-nx-01")
        args = {"device_type": "cisco_nxos", "host": "127.0.0.1", "port": dev.port, "username": creds.username,
                "conn_timeout": 5}  # fmt: skip
        with pytest.raises(NetmikoAuthenticationException):
            ConnectHandler(password=creds.password + "x", **args)
        lab.set_fault("dc-nx-01", "auth")
        with pytest.raises(NetmikoAuthenticationException):
            ConnectHandler(password=creds.password, **args)
        lab.set_fault("dc-nx-01", None)
        ConnectHandler(password=creds.password, **args).disconnect()


def test_hostkey_fault_presents_another_key(lab: LabState) -> None:
    creds = lab.credentials()
    with running_lab(lab):
        dev = lab.device("site-rb-01")
        keys = []
        for fault in (None, "hostkey"):
            lab.set_fault(dev.name, fault)
            t = paramiko.Transport(("127.0.0.1", dev.port))
            t.connect()
            keys.append(t.get_remote_server_key().get_base64())
            t.close()
        assert keys[0] == lab.hostkey(dev.name).get_base64()
        assert keys[0] != keys[1]
        assert creds.username


def test_unknown_fault_is_an_input_error(lab: LabState) -> None:
    with pytest.raises(InputError):
        lab.set_fault("core-rtr-01", "explode")
    with pytest.raises(InputError):
        lab.set_fault("no-such-device", "hang")


def test_lab_as_a_child_process(lab: LabState) -> None:
    proc = start_lab_process(lab.root)
    try:
        assert set(proc.ports) == {d.name for d in lab.devices()}
        dev = lab.device("branch-srx-01")
        assert proc.ports[dev.name] == dev.port
        t = paramiko.Transport(("127.0.0.1", dev.port))
        t.connect()
        assert t.get_remote_server_key().get_base64() == lab.hostkey(dev.name).get_base64()
        t.close()
    finally:
        stop_lab_process(proc)
    assert proc.process.returncode is not None
