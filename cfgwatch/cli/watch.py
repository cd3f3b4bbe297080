"""`cfgwatch watch`: a long-running listener that pulls a device when its syslog reports a config change."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from typing import Annotated

import typer

from cfgwatch.cli.common import console, err_console, state
from cfgwatch.terminal import echo, printable


def watch_cmd(
    ctx: typer.Context,
    udp: Annotated[
        str | None,
        typer.Option("--udp", help="Listen for syslog on UDP HOST:PORT (devices send to it; 0.0.0.0:514 as root)."),
    ] = "127.0.0.1:5514",
    tcp: Annotated[str | None, typer.Option("--tcp", help="Also listen on TCP HOST:PORT (RFC 6587 framing).")] = None,
    debounce: Annotated[
        float,
        typer.Option(
            "--debounce", min=0, help="Seconds to wait after a device's last change message before pulling it."
        ),
    ] = 10.0,
) -> None:
    """Pull a device when its syslog reports a config change, audit that change and notify (until SIGTERM).

    Recognises the config-change messages of every platform (IOS/NX-OS/EOS CONFIG_I, ASA 111008/111010,
    Junos UI_COMMIT, FortiOS, PAN-OS, RouterOS, VyOS). Received lines are kept in STATE/watch/syslog.log
    and used by the audit to name who made the change. Runs beside the hourly pull (contrib/).
    """
    from cfgwatch.report.story import story
    from cfgwatch.watch import WatchCycle, Watcher, parse_listen, serve

    if udp is None and tcp is None:
        raise typer.BadParameter("give --udp and/or --tcp")
    project = state(ctx).project()
    udp_address = parse_listen(udp) if udp else None
    tcp_address = parse_listen(tcp) if tcp else None

    def say(line: str) -> None:
        echo(console, printable(line) + "\n")  # device-derived text: printable, folded at spaces on a terminal

    def report(cycle: WatchCycle) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not cycle.ok:
            err_console.print(f"{stamp} {cycle.device}: {printable(cycle.error or '')}", markup=False)
            return
        if cycle.commit is None:
            say(f"{stamp} {cycle.device}: pulled, no change committed")
            return
        say(
            f"{stamp} {cycle.device}: committed {cycle.commit[:12]}, {len(cycle.findings)} finding(s), "
            f"{cycle.seconds:.1f} s after the change message"
        )
        for finding in cycle.findings:
            categories = ", ".join(finding.categories)
            say(f"  [{finding.severity.upper()}] {finding.id} {categories}: {story(finding).sentence}")
        for outcome in cycle.notifications:
            if not outcome.ok:
                err_console.print(f"  notify {outcome.channel} {outcome.target}: {outcome.error}", markup=False)

    watcher = Watcher(
        project,
        debounce=debounce,
        on_cycle=report,
        on_ignored=lambda why: err_console.print(f"ignored: {printable(why)}", markup=False),
    )
    stop = threading.Event()

    def stop_on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    serve(
        watcher,
        udp=udp_address,
        tcp=tcp_address,
        stop=stop,
        on_listening=lambda where: say(f"listening on {where}"),
    )
    say(f"stopped: {watcher.received} message(s) received, {watcher.ignored} from unknown hosts")


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_cmd)
