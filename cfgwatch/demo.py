"""`cfgwatch demo`: the whole pipeline on the built-in lab, end to end, on a simulated night.

Real parts only: the lab serves SSH on 127.0.0.1, pulls go through Nornir/NAPALM/netmiko, snapshots are
git commits, flows land in the DuckDB/Parquet store and are enriched from an ASN database the demo
builds. Only the clock is simulated (run times, change times and flow times are set to one night so
the change window and the "03:12 by an unexpected admin" story hold whenever the demo runs).

The story: an approved, ticketed partner-SFTP rule on the ASA at 21:30 inside the Tuesday window;
then at 03:12 `mallory` adds an IOS `ip nat outside source static` that sends inside clients who
connect to 10.10.0.200:8080 to a VPS proxy (45.77.10.5:3128, AS20473), and internal hosts start
pushing traffic there with almost no return packets.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from cfgwatch.approvals import approval_history, approved_path
from cfgwatch.audit import AuditResult, FlowChecker
from cfgwatch.errors import InputError
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.synth import SynthFlow, write_nfdump_csv
from cfgwatch.lab.process import start_lab_process, stop_lab_process
from cfgwatch.lab.state import LabState
from cfgwatch.policy.history import Ident
from cfgwatch.project import Project, init_project
from cfgwatch.report.html import audit_html

MARKER = ".cfgwatch-demo"
APPROVED_DEVICE = "edge-fw-01"
EVIL_DEVICE = "core-rtr-01"
VPS_PROXY = "45.77.10.5"
CDN_HOST = "104.16.1.10"
EVIL_LINE = f"ip nat outside source static tcp {VPS_PROXY} 3128 10.10.0.200 8080 extendable"
SFTP_LINES = (
    "access-list INSIDE-OUT remark CHG0042 partner SFTP upload (alice)\n"
    "access-list INSIDE-OUT extended permit tcp object INSIDE-NET host 198.51.100.20 eq ssh\n"
)

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    directory: Path
    audit: AuditResult
    report: Path
    evidence: Path
    seconds: float
    commits: tuple[str, ...]


def demo_clock(now: datetime) -> dict[str, datetime]:
    """The simulated night: last Tuesday before `now` (so the story always lies in the past)."""
    days_back = (now.weekday() - 1) % 7 or 7
    tuesday = (now - timedelta(days=days_back)).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "first_pull": tuesday + timedelta(hours=18),
        "approved_change": tuesday + timedelta(hours=21, minutes=30),
        "evil_change": tuesday + timedelta(days=1, hours=3, minutes=12),
        "second_pull": tuesday + timedelta(days=1, hours=7),
    }


def _prepare_directory(directory: Path, force: bool) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise InputError("directory exists and is not a cfgwatch demo folder; choose another --dir", path=directory)
        if not force:
            raise InputError("a previous demo is there; pass --force to replace it", path=directory)
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `cfgwatch demo`; safe to delete\n", encoding="utf-8")


def _write_project_files(directory: Path, clock: dict[str, datetime]) -> None:
    config = {
        "snapshots": "snapshots",
        "inventory": "inventory",
        "state_dir": ".cfgwatch",
        "policy": {
            "fail_on": "high",
            "syslog": [".cfgwatch/lab/syslog.log"],
            "groups": {
                "default": {
                    "change_windows": ["tue 21:00-23:00", "sat 22:00-sun 04:00"],
                    "admins": ["alice", "netops"],
                },
            },
        },
        "flows": {"asn_db": "data/demo-asn.mmdb", "store": "flows"},
    }
    (directory / "cfgwatch.yaml").write_text(
        "# Written by `cfgwatch demo`.\n" + yaml.safe_dump(config, sort_keys=False), encoding="utf-8"
    )
    inventory = directory / "inventory"
    window_start = clock["approved_change"] - timedelta(minutes=30)
    (inventory / "tickets.yaml").write_text(
        yaml.safe_dump(
            {
                "tickets": [
                    {
                        "id": "CHG0042",
                        "state": "scheduled",
                        "approval": "approved",
                        "start": window_start.isoformat(),
                        "end": (window_start + timedelta(hours=2)).isoformat(),
                        "devices": [APPROVED_DEVICE],
                        "short_description": "Partner SFTP upload from the inside network",
                    }
                ]
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    (inventory / "approved.yaml").write_text(
        "# Rules the network team expects. `cfgwatch approve` appends here and keeps these comments;\n"
        "# every change to this file is a commit in approvals-history/ (see `cfgwatch approvals list`).\n"
        "approvals:\n"
        "  - id: partner-sftp\n"
        f"    match: {{devices: [{APPROVED_DEVICE}], family: filter, dst: ['198.51.100.20/32'], ports: '22'}}\n"
        "    ticket: CHG0042\n"
        "    owner: alice\n"
        "    reason: partner SFTP upload\n"
        "    mode: pre-approval\n"
        "    approved_by: alice\n"
        f"    approved_at: '{(clock['approved_change'] - timedelta(hours=2)).isoformat()}'\n"
        f"    expires: {(clock['second_pull'] + timedelta(days=365)).date().isoformat()}\n"
        "    expected_destinations: {prefixes: ['198.51.100.20/32']}\n",
        encoding="utf-8",
    )


def build_demo_asn_db(path: Path) -> Path:
    """A small MaxMind-format ASN database for the demo (no database can be downloaded here)."""
    from mmdb_writer import MmdbU32, MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    for prefix, asn, org in (
        ("104.16.0.0/13", 13335, "CLOUDFLARENET"),
        ("45.77.0.0/16", 20473, "AS-CHOOPA"),
        ("198.51.100.0/24", 64500, "PARTNER-EXAMPLE"),
    ):
        writer.insert_network(
            IPSet([prefix]), {"autonomous_system_number": MmdbU32(asn), "autonomous_system_organization": org}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(path))
    return path


def demo_flows(change_time: datetime, *, exporter: str = EVIL_DEVICE) -> list[SynthFlow]:
    """Three days of steady CDN traffic, then after the change a spike to the VPS proxy with ~5% returns."""
    flows: list[SynthFlow] = []
    start = change_time - timedelta(hours=72)
    for hour in range(72 + 24):
        moment = start + timedelta(hours=hour, minutes=7)
        flows.append(SynthFlow(moment, "10.10.0.15", CDN_HOST, 40000 + hour, 443, 6, 120, 90_000, exporter))
        flows.append(SynthFlow(moment, CDN_HOST, "10.10.0.15", 443, 40000 + hour, 6, 110, 150_000, exporter))
        if moment > change_time:
            for index in range(3):
                sport = 52000 + hour * 4 + index
                flows.append(
                    SynthFlow(
                        moment + timedelta(minutes=index),
                        "10.10.0.23",
                        VPS_PROXY,
                        sport,
                        3128,
                        6,
                        400,
                        520_000,
                        exporter,
                    )
                )
            flows.append(SynthFlow(moment, VPS_PROXY, "10.10.0.23", 3128, 52000 + hour * 4, 6, 60, 6_000, exporter))
    return flows


def run_demo(directory: Path, *, force: bool = False, say: Say | None = None) -> DemoResult:
    """Run the whole pipeline; returns where the report and evidence are. The lab is always stopped."""
    began = time.monotonic()
    tell = say or (lambda _message: None)
    directory = directory.resolve()
    _prepare_directory(directory, force)
    clock = demo_clock(datetime.now(UTC))
    init_project(directory)
    _write_project_files(directory, clock)
    project = Project.open(directory / "cfgwatch.yaml")  # one session: store, inventory, flows, evidence
    config = project.config
    # alice approved the SFTP rule two hours before she made it: the approval history's first commit
    approval_history(config).commit(
        approved_path(config),
        Ident.named("alice"),
        clock["approved_change"] - timedelta(hours=2),
        "approve partner-sftp with CHG0042 (pre-approval): partner SFTP upload",
    )
    build_demo_asn_db(directory / "data" / "demo-asn.mmdb")

    lab_root = config.state_path / "lab"
    lab = LabState.create(lab_root)
    tell(f"lab: {len(lab.devices())} emulated devices over SSH on 127.0.0.1")
    process = start_lab_process(lab_root)
    saved_env = {name: os.environ.get(name) for name in lab.credentials().env()}
    try:
        lab = LabState(lab_root)
        lab.write_inventory(config.inventory_path)
        known_hosts = lab.write_known_hosts()
        os.environ.update(lab.credentials().env())

        first = project.pull(known_hosts=known_hosts, started=clock["first_pull"])
        tell(f"pull 1 ({clock['first_pull']:%a %H:%M} UTC): {len(first.run.added)} devices snapshotted")

        asa = lab.read_config(APPROVED_DEVICE)
        anchor = "access-list INSIDE-OUT extended deny ip any any log\n"
        lab.apply(APPROVED_DEVICE, asa.replace(anchor, SFTP_LINES + anchor), user="alice", at=clock["approved_change"])
        tell(f"alice adds a ticketed partner-SFTP rule on {APPROVED_DEVICE} at {clock['approved_change']:%a %H:%M}")
        ios = lab.read_config(EVIL_DEVICE)
        nat_anchor = "ip nat inside source static 10.20.0.30 203.0.113.11\n"
        lab.apply(
            EVIL_DEVICE,
            ios.replace(nat_anchor, nat_anchor + EVIL_LINE + "\n"),
            user="mallory",
            at=clock["evil_change"],
            source="185.220.101.4",
        )
        tell(f"mallory adds a NAT to a VPS proxy on {EVIL_DEVICE} at {clock['evil_change']:%a %H:%M}")

        second = project.pull(known_hosts=known_hosts, started=clock["second_pull"])
        tell(f"pull 2 ({clock['second_pull']:%a %H:%M} UTC): changed {', '.join(second.run.changed) or 'nothing'}")
    finally:
        stop_lab_process(process)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    tell("lab stopped")

    flow_file = write_nfdump_csv(directory / "data" / "demo-flows.csv", demo_flows(clock["evil_change"]))
    with project.flows() as flows:  # the demo's cfgwatch.yaml selects the embedded DuckDB store
        assert isinstance(flows.backend, DuckDBBackend)
        ingest = flows.backend.ingest(str(flow_file), "nfdump-csv")
        tell(f"flows: {ingest.records} records ingested into the DuckDB/Parquet store ({ingest.bad} bad)")
        checker = flows.checker
        result = project.audit(flow_checker=checker)
        evidence = _export_evidence(project, checker, directory, clock)

    report = directory / "report.html"
    report.write_text(audit_html(result, title="cfgwatch demo: audit report"), encoding="utf-8")
    commits = tuple(pair.after.commit for pair in result.pairs)
    return DemoResult(directory, result, report, evidence, time.monotonic() - began, commits)


def _export_evidence(project: Project, checker: FlowChecker, directory: Path, clock: dict[str, datetime]) -> Path:
    """The compliance evidence bundle for the demo night (verify it with `cfgwatch export verify`)."""
    start = clock["first_pull"] - timedelta(hours=1)
    end = clock["second_pull"] + timedelta(hours=1)
    return project.export(start, end, directory / "evidence.zip", flow_checker=checker).path
