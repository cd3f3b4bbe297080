"""Audit end to end on a real snapshot repo: approvals, tickets, windows, admins, attribution, approve."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from cfgwatch.audit import diff_range, run_audit
from cfgwatch.config import load_config
from cfgwatch.policy.attribution import read_syslog
from cfgwatch.project import Project
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import DeviceSnapshot, SnapshotStore

IOS_BASE = """\
hostname edge1
!
interface GigabitEthernet0/0
 ip address 10.0.0.1 255.255.255.0
 ip nat inside
 ip access-group LAN_OUT in
!
interface GigabitEthernet0/1
 ip address 192.0.2.1 255.255.255.0
 ip nat outside
!
ip access-list extended LAN_OUT
 10 permit tcp 10.0.0.0 0.0.0.255 any eq 443
 20 deny ip any any
!
ip nat inside source list 1 interface GigabitEthernet0/1 overload
access-list 1 permit 10.0.0.0 0.0.0.255
end
"""

# The malicious change: inside clients connecting to 10.0.2.1 are sent to an Internet proxy, and the ACL
# lets them out on 3128.
IOS_EVIL = IOS_BASE.replace(
    "ip nat inside source list 1 interface GigabitEthernet0/1 overload\n",
    "ip nat inside source list 1 interface GigabitEthernet0/1 overload\n"
    "ip nat outside source static 45.77.1.2 10.0.2.1\n",
).replace(" 20 deny ip any any\n", " 15 permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128\n 20 deny ip any any\n")

ASA_BASE = """\
hostname fw1
interface GigabitEthernet0/0
 nameif inside
 security-level 100
 ip address 10.1.0.1 255.255.255.0
interface GigabitEthernet0/1
 nameif outside
 security-level 0
 ip address 192.0.2.2 255.255.255.0
access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 any eq https
access-group OUT in interface inside
"""
ASA_TICKETED = ASA_BASE.replace(
    "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
    "access-list OUT remark CHG0042 partner sftp\n"
    "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 host 198.51.100.20 eq 22\n"
    "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
)


def _project(tmp_path: Path, policy: dict[str, object]) -> Path:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts.yaml").write_text(
        yaml.safe_dump(
            {
                "edge1": {"hostname": "127.0.0.1", "groups": ["branch"], "data": {"platform": "cisco_ios"}},
                "fw1": {"hostname": "127.0.0.1", "groups": ["dc"], "data": {"platform": "cisco_asa"}},
            }
        )
    )
    (tmp_path / "inventory" / "groups.yaml").write_text(yaml.safe_dump({"branch": {}, "dc": {}}))
    (tmp_path / "cfgwatch.yaml").write_text(yaml.safe_dump({"policy": policy}))
    SnapshotStore.init(tmp_path / "snapshots")
    return tmp_path / "cfgwatch.yaml"


def _run(store: SnapshotStore, texts: dict[str, tuple[str, str]], when: datetime, user: str | None = None) -> None:
    snapshots = [
        DeviceSnapshot(
            name,
            platform,
            text,
            ChangeMetadata(user=user, time=when, source="ios-header", raw="") if user else None,
        )
        for name, (platform, text) in texts.items()
    ]
    result = store.write_run(snapshots, collector="test", started=when)
    assert result.commit is not None


POLICY = {
    "groups": {
        "default": {"change_windows": ["sat 22:00-sun 04:00"], "admins": ["netops"]},
    },
    "fail_on": "high",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path, POLICY)


def test_unticketed_change_by_unexpected_admin_at_night_is_critical(project: Path) -> None:
    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    _run(store, {"edge1": ("cisco_ios", IOS_BASE)}, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    _run(store, {"edge1": ("cisco_ios", IOS_EVIL)}, datetime(2026, 11, 25, 3, 0, tzinfo=UTC), user="mallory")  # a Wed

    diff = diff_range(store, config)
    categories = {category for change in diff.changes for category in change.categories}
    assert {"egress-forward", "nat-added", "acl-widened"} <= categories

    result = run_audit(store, config, None, today=date(2026, 11, 28))
    assert result.findings, result
    worst = result.findings[0]
    assert worst.severity == "critical"
    assert set(worst.flags) == {"unapproved", "unticketed", "outside-window", "unexpected-admin"}
    assert worst.attribution.user == "mallory" and worst.attribution.how == "config-header"
    assert "45.77.1.2" in worst.change.affected.public.ranges()
    assert result.fails("high")
    # same change, same id on a second audit
    again = run_audit(store, config, None, today=date(2026, 11, 28))
    assert [f.id for f in again.findings] == [f.id for f in result.findings]

    # approving makes the finding disappear on the next run
    (config.inventory_path / "tickets.yaml").write_text(
        "tickets:\n  - {id: CHG0099, state: scheduled, approval: approved}\n", encoding="utf-8"
    )
    session = Project.open(project)
    for finding in result.findings:
        session.approve(finding.id, ticket="CHG0099", owner="netops", by="carol", expires=date(2027, 1, 1))
    after = run_audit(store, config, None, today=date(2026, 11, 28))
    assert after.findings == ()
    # the approval expires: the rule still exists, so it comes back flagged expired-approval
    expired = run_audit(store, config, None, today=date(2027, 2, 1))
    assert expired.findings and all("expired-approval" in f.flags for f in expired.findings)


def test_approved_change_in_window_is_no_finding(project: Path) -> None:
    config = load_config(project)
    (config.inventory_path / "approved.yaml").write_text(
        "# approved rules\napprovals:\n"
        "  - match: {devices: [edge1], family: nat, translated: ['45.77.1.0/24']}\n"
        "    ticket: CHG0100\n    owner: netops\n"
        "  - match: {devices: [edge1], family: filter, dst: ['45.77.1.2/32'], ports: '3128'}\n"
        "    ticket: CHG0100\n    owner: netops\n"
    )
    store = SnapshotStore(config.snapshots_path)
    _run(store, {"edge1": ("cisco_ios", IOS_BASE)}, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    _run(store, {"edge1": ("cisco_ios", IOS_EVIL)}, datetime(2026, 11, 28, 23, 0, tzinfo=UTC), user="netops")  # Sat
    result = run_audit(store, config, None, today=date(2026, 11, 28))
    assert result.findings == ()
    assert result.changes  # the changes were seen, just approved


def test_ticket_id_in_asa_remark_counts_as_ticketed(project: Path) -> None:
    config = load_config(project)
    (config.inventory_path / "tickets.yaml").write_text(
        yaml.safe_dump(
            {
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
        )
    )
    store = SnapshotStore(config.snapshots_path)
    _run(store, {"fw1": ("cisco_asa", ASA_BASE)}, datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    _run(store, {"fw1": ("cisco_asa", ASA_TICKETED)}, datetime(2026, 11, 28, 23, 0, tzinfo=UTC), user="netops")
    result = run_audit(store, config, None, today=date(2026, 11, 28))
    (finding,) = result.findings
    assert finding.ticket.matched == "CHG0042" and finding.ticket.how == "rule-comment" and finding.ticket.approved
    assert finding.flags == ("unapproved",)  # ticketed, in window, expected admin: only the approval is missing
    assert finding.severity in ("medium", "high")


def test_syslog_attribution_formats(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    log.write_text(
        "2026-11-25T03:00:05+00:00 edge1 %SYS-5-CONFIG_I: Configured from console by mallory on vty0 (203.0.113.9)\n"
        "Nov 25 03:01:00 fw1 %ASA-5-111010: User 'eve', running 'CLI' from IP 198.51.100.3, "
        "executed 'nat (inside,outside) static x'\n"
        "2026-11-25T03:02:00Z srx1 mgd[123]: UI_COMMIT: User 'bob' requested 'commit' operation "
        "(comment: CHG0007 proxy)\n"
        '2026-11-25T03:03:00Z fgt1 date=2026-11-25 logid="0100044547" devname="fgt1" user="admin" '
        'ui="ssh(10.9.9.9)" action=Add\n'
        "garbage line\n"
        "Nov 99 03:01:00 fw1 %ASA-5-111008: broken\n"
    )
    scan = read_syslog([log], year=2026)
    by_device = {event.device: event for event in scan.events}
    assert by_device["edge1"].user == "mallory" and by_device["edge1"].origin == "203.0.113.9"
    assert by_device["fw1"].user == "eve" and by_device["fw1"].origin == "198.51.100.3"
    assert by_device["srx1"].comment == "CHG0007 proxy"
    assert by_device["fgt1"].user == "admin" and by_device["fgt1"].origin == "10.9.9.9"
    assert any(":6:" in problem for problem in scan.skipped)
