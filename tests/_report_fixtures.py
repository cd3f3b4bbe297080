"""A real snapshot project with findings, shared by the report, evidence and browser tests.

Three runs over two devices (the pattern of test_audit.py): edge1 gets the malicious internal-to-proxy
NAT + ACL change at night by an unexpected admin (with a remark full of HTML metacharacters), fw1 gets a
ticketed partner rule inside its window. A store with a journal, so coverage has every run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from test_audit import ASA_BASE, ASA_TICKETED, IOS_BASE, IOS_EVIL, POLICY, _project

from cfgwatch.audit import AuditResult, run_audit, run_pairs_between
from cfgwatch.config import CfgwatchConfig, load_config
from cfgwatch.flows.backends.base import TimeWindow
from cfgwatch.flows.figures import Destination, FlowFigures, FlowFlags, SeriesPoint
from cfgwatch.policy.findings import Finding, FlowResult
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceFailure, DeviceSnapshot, SnapshotStore, journal_path

# A remark with characters that must be escaped everywhere (HTML, markdown, CSV).
HOSTILE_REMARK = ' 14 remark <script>alert("x")</script> & <b>|`pipe`|</b> =cmd\n'
IOS_EVIL_HOSTILE = IOS_EVIL.replace(" 15 permit tcp", HOSTILE_REMARK + " 15 permit tcp")

CONFIG_SECRET = "hunter2-S3cr3t-canary"
RUN1 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RUN2 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # a Wednesday night: outside the Sat-Sun window
RUN3 = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # Saturday 23:00: inside the window
TODAY = date(2026, 11, 29)

TICKETS = {
    "tickets": [
        {
            "id": "CHG0042",
            "state": "scheduled",
            "approval": "approved",
            "start": "2026-11-28T22:00:00Z",
            "end": "2026-11-29T02:00:00Z",
            "devices": ["fw1"],
        }
    ]
}


def _write(
    store: SnapshotStore,
    texts: dict[str, tuple[str, str]],
    when: datetime,
    user: str | None = None,
    failures: tuple[DeviceFailure, ...] = (),
) -> None:
    snapshots = [
        DeviceSnapshot(
            name, platform, text, ChangeMetadata(user=user, time=when, source="ios-header", raw="") if user else None
        )
        for name, (platform, text) in texts.items()
    ]
    store.write_run(snapshots, failures, collector="test", started=when)


def build_project(tmp_path: Path, *, secret_in_config: bool = False) -> CfgwatchConfig:
    """The project on disk: config, inventory, tickets, three runs (one with a failed device)."""
    config_file = _project(tmp_path, POLICY)
    if secret_in_config:  # a secret in a comment, and the name of a password variable (kept: not a secret)
        raw = yaml.safe_load(config_file.read_text())
        raw["flows"] = {"clickhouse": {"host": "127.0.0.1", "password_env": "CH_PASSWORD"}}
        config_file.write_text(f"# clickhouse password is {CONFIG_SECRET}\n" + yaml.safe_dump(raw))
    config = load_config(config_file)
    (config.inventory_path / "tickets.yaml").write_text(yaml.safe_dump(TICKETS))
    store = open_store(config)
    _write(store, {"edge1": ("cisco_ios", IOS_BASE), "fw1": ("cisco_asa", ASA_BASE)}, RUN1)
    _write(
        store,
        {"edge1": ("cisco_ios", IOS_EVIL_HOSTILE)},
        RUN2,
        user="mallory",
        failures=(DeviceFailure("fw1", "timeout", "no answer in 30 s"),),
    )
    _write(store, {"fw1": ("cisco_asa", ASA_TICKETED), "edge1": ("cisco_ios", IOS_EVIL_HOSTILE)}, RUN3, user="netops")
    return config


def open_store(config: CfgwatchConfig) -> SnapshotStore:
    return SnapshotStore(config.snapshots_path, journal=journal_path(config.state_path))


def series_around(change: datetime, *, hours: int = 6) -> tuple[SeriesPoint, ...]:
    """Hourly outbound/return packet counts: quiet before the change, a spike with few returns after."""
    points: list[SeriesPoint] = []
    for offset in range(-hours, hours + 1):
        outbound = 12 if offset < 0 else 900 + 40 * offset
        points.append(SeriesPoint(change + timedelta(hours=offset), outbound, outbound // 30))
    return tuple(points)


def _figures(change: datetime, packets: int, returned: int, top: tuple[Destination, ...]) -> FlowFigures:
    """Figures shaped like the real checker's: 24 h after the change against a week before it."""
    return FlowFigures(
        post_window=TimeWindow.starting(change, timedelta(hours=24)),
        baseline_window=TimeWindow.ending(change, timedelta(days=7)),
        exporter_records=310,
        packets=packets,
        bytes=packets * 1300,
        flows=packets // 40,
        baseline_packets=72,
        baseline_bytes=72 * 90,
        baseline_flows=6,
        spike_ratio=75.0 if packets else 0.0,
        return_packets=returned,
        return_ratio=round(returned / packets, 4) if packets else None,
        distinct_sources=2 if packets else 0,
        distinct_destinations=len(top),
        new_destinations=sum(1 for item in top if item.new),
        top_destinations=top,
        flags=FlowFlags(spike=True, few_returns=True, suspicious=True) if packets else FlowFlags(),
    )


def flow_checker(finding: Finding) -> FlowResult:
    """edge1's egress findings carried proxy traffic (figures + chart series); fw1's partner rule none."""
    if "egress-forward" not in finding.categories or finding.change_time is None:
        return FlowResult("not-checked", notes=("the change opens no outbound path to check",))
    if finding.device != "edge1":
        return FlowResult("no-traffic", figures=_figures(finding.change_time, 0, 0, ()), notes=())
    series = series_around(finding.change_time)
    outbound = sum(point.outbound_packets for point in series[len(series) // 2 :])
    returned = sum(point.return_packets for point in series[len(series) // 2 :])
    proxy = Destination(
        "45.77.0.0/16", "45.77.1.2", 20473, "AS-CHOOPA", "hosting", outbound, outbound * 1300, 12, returned, True
    )
    figures = replace(_figures(finding.change_time, outbound, returned, (proxy,)), series=series)
    return FlowResult("traffic-confirmed", figures=figures, notes=("spike with few returns toward hosting",))


def audit_all(config: CfgwatchConfig, *, flows: bool = True) -> AuditResult:
    """Every run pair of the project, with flow figures for egress findings."""
    store = open_store(config)
    pairs = run_pairs_between(store, RUN1, RUN3)
    return run_audit(store, config, None, today=TODAY, flow_checker=flow_checker if flows else None, pairs=pairs)
