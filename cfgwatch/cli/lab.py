"""`cfgwatch lab serve|apply|fault`: the built-in emulated devices on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cfgwatch.cli.common import console, state
from cfgwatch.errors import InputError
from cfgwatch.terminal import Listing, show

lab_app = typer.Typer(help="Emulated routers and firewalls over real SSH on 127.0.0.1, for tests and the demo.")


def _state_dir(ctx: typer.Context, given: Path | None) -> Path:
    return given if given is not None else state(ctx).config().state_path / "lab"


@lab_app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    devices: Annotated[
        int | None,
        typer.Option(
            "--devices", "-n", min=1, help="Devices to emulate when creating a lab (default: one per platform)."
        ),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state", help="Lab state directory (default: <state_dir>/lab). Reused if it exists."),
    ] = None,
    inventory_out: Annotated[
        Path | None,
        typer.Option("--inventory-out", help="Write a Nornir inventory (hosts/groups/defaults.yaml) for the lab here."),
    ] = None,
    port_base: Annotated[
        int | None,
        typer.Option(
            "--port-base",
            min=1,
            max=65000,
            help="Listen on consecutive ports from here, the jump host last (default: ephemeral).",
        ),
    ] = None,
    syslog_to: Annotated[
        str | None,
        typer.Option(
            "--syslog-to", help="Also send each change's syslog lines over UDP to HOST:PORT (loopback; for `watch`)."
        ),
    ] = None,
) -> None:
    """Serve the lab's devices over SSH on 127.0.0.1 until interrupted (Ctrl-C / SIGTERM)."""
    from cfgwatch.lab import LabServer, LabState

    root = _state_dir(ctx, state_dir)
    if (root / "lab.json").exists():
        lab = LabState(root)
        if devices is not None and devices != len(lab.devices()):
            raise InputError(f"lab already exists with {len(lab.devices())} devices", path=root, key="--devices")
    else:
        lab = LabState.create(root, devices=devices)
    if port_base is not None:  # the devices, then the jump host on the next port
        devs = lab.devices()
        lab.set_ports({d.name: port_base + i for i, d in enumerate(devs)}, jump_port=port_base + len(devs))
    if syslog_to is not None:
        from cfgwatch.watch import parse_listen

        lab.set_syslog_forward(parse_listen(syslog_to))
    server = LabServer(lab)
    server.start()
    try:
        known = lab.write_known_hosts()
        rows = tuple((dev.name, dev.platform, str(dev.port)) for dev in lab.devices())
        title = f"cfgwatch lab: {len(rows)} devices on 127.0.0.1"
        show(console, Listing(title, ("device", "platform", "port"), rows, keep=frozenset({"device", "platform"})))
        console.print(f"known_hosts: {known}", markup=False)
        console.print(f"jump host:   127.0.0.1:{server.jump_port} (direct-tcpip to 127.0.0.1 only)", markup=False)
        console.print(f"client key:  {lab.client_key_path}", markup=False)
        console.print(f"credentials: set -a; . {lab.root / 'credentials.env'}; set +a", markup=False)
        if inventory_out is not None:
            lab.write_inventory(inventory_out)
            console.print(f"inventory:   {inventory_out}", markup=False)
        console.print(f"syslog:      {lab.syslog_path}", markup=False)
        ready = lab.root / "ready.json"  # `cfgwatch lab wait` returns once this exists and the ports answer
        ready.write_text(json.dumps(server.ports), encoding="utf-8")
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        (lab.root / "ready.json").unlink(missing_ok=True)
        server.stop()


@lab_app.command("wait")
def wait_cmd(
    ctx: typer.Context,
    timeout: Annotated[float, typer.Option("--timeout", min=0, help="Seconds to wait at most.")] = 30.0,
    state_dir: Annotated[Path | None, typer.Option("--state", help="Lab state directory.")] = None,
) -> None:
    """Wait until `cfgwatch lab serve` (started in the background) answers on every device port.

    Exit 0 when ready; 2 after --timeout seconds without a ready lab (scripts: `cfgwatch lab serve & cfgwatch lab
    wait`)."""
    from cfgwatch.lab.process import wait_for_lab

    ports = wait_for_lab(_state_dir(ctx, state_dir), timeout=timeout)
    typer.echo(f"lab ready: {len(ports)} devices")


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"not an ISO time: {value!r}", key="--at") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@lab_app.command("apply")
def apply_cmd(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Lab device to change.")],
    file: Annotated[Path, typer.Argument(help="The device's new full config.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Admin who makes the change.")] = "admin",
    at: Annotated[str | None, typer.Option("--at", help="Change time, ISO 8601 (default now, UTC).")] = None,
    source: Annotated[str, typer.Option("--from", help="Address the admin logs in from (syslog).")] = "10.99.0.250",
    state_dir: Annotated[Path | None, typer.Option("--state", help="Lab state directory.")] = None,
) -> None:
    """Replace a device's config as an admin would: its last-change header moves and a syslog line is written."""
    from cfgwatch.lab import LabState

    lab = LabState(_state_dir(ctx, state_dir))
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read config: {exc.strerror}", path=file) from exc
    for line in lab.apply(device, text, user=user, at=_parse_at(at), source=source):
        typer.echo(line)


@lab_app.command("fault")
def fault_cmd(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Lab device.")],
    mode: Annotated[str, typer.Argument(help="auth | hang | truncated | hostkey | none")],
    state_dir: Annotated[Path | None, typer.Option("--state", help="Lab state directory.")] = None,
) -> None:
    """Make a lab device fail in one way on its next connections (none clears it)."""
    from cfgwatch.lab import LabState

    LabState(_state_dir(ctx, state_dir)).set_fault(device, None if mode == "none" else mode)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
