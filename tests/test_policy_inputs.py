"""Policy inputs at the edge: tickets (yaml/csv/ServiceNow json), approvals, windows, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cfgwatch.errors import ConfigError
from cfgwatch.policy.approved import append_approval, load_approved
from cfgwatch.policy.settings import in_window, parse_window
from cfgwatch.policy.tickets import load_tickets, ticket_ids_in


def test_tickets_from_csv_and_servicenow_json_and_yaml(tmp_path: Path) -> None:
    csv_file = tmp_path / "changes.csv"
    csv_file.write_text(
        "Number,State,Approval,Start,End,Devices,Short_description\n"
        "CHG0001,Scheduled,Approved,2026-11-28T22:00:00Z,2026-11-29T02:00:00Z,edge1;edge2,Partner NAT\n"
        "CHG0002,New,Requested,2026-11-28 22:00:00,2026-11-29 02:00:00,fw1,Pending\n"
        ",,,,,,missing number\n",
        encoding="utf-8",
    )
    tickets, problems = load_tickets(csv_file)
    assert [t.id for t in tickets] == ["CHG0001", "CHG0002"]
    assert tickets[0].approved and tickets[0].devices == ("edge1", "edge2")
    assert not tickets[1].approved
    assert tickets[1].start == datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert len(problems) == 1 and problems[0].line == 4 and "no id" in problems[0].message

    snow = tmp_path / "change_request.json"
    snow.write_text(
        json.dumps(
            {
                "records": [
                    {
                        "number": "CHG0030001",
                        "state": "Implement",
                        "approval": "approved",
                        "start_date": "2026-11-28 21:00:00",
                        "end_date": "2026-11-28 23:00:00",
                        "cmdb_ci": {"display_value": "core-rtr-01", "value": "a1b2"},
                        "short_description": "Add port forward",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    (ticket,), problems = load_tickets(snow)
    assert problems == []
    assert ticket.id == "CHG0030001" and ticket.devices == ("core-rtr-01",) and ticket.approved
    assert ticket.window_contains(datetime(2026, 11, 28, 22, 30, tzinfo=UTC))
    assert not ticket.window_contains(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))


def test_malformed_ticket_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "tickets.json"
    broken.write_text('{"records": [ {"number": "CHG1", }', encoding="utf-8")
    tickets, problems = load_tickets(broken)
    assert tickets == [] and problems and str(problems[0]).startswith(str(broken))


def test_ticket_ids_in_comments() -> None:
    pattern = r"\b(?:CHG|CR|RFC|INC|RITM|CHANGE)[-_ ]?\d{3,}\b"
    assert ticket_ids_in("partner sftp per chg0042", pattern, set()) == ["CHG0042"]
    assert ticket_ids_in("per TKT-77 and CHG-1234", pattern, {"TKT-77"}) == ["TKT-77", "CHG-1234"]
    assert ticket_ids_in(None, pattern, set()) == []


def test_change_windows() -> None:
    assert parse_window("sat 22:00-sun 04:00") == (5 * 1440 + 22 * 60, 6 * 1440 + 4 * 60)
    windows = ["sat 22:00-sun 04:00", "tue 20:00-23:00"]
    assert in_window(datetime(2026, 11, 29, 3, 0, tzinfo=UTC), windows)  # Sunday 03:00
    assert in_window(datetime(2026, 11, 24, 21, 0, tzinfo=UTC), windows)  # Tuesday 21:00
    assert not in_window(datetime(2026, 11, 25, 3, 12, tzinfo=UTC), windows)  # Wednesday 03:12
    assert in_window(datetime(2026, 11, 30, 0, 30, tzinfo=UTC), ["sun 23:00-mon 01:00"])  # Monday 00:30, wraps the week
    with pytest.raises(ValueError, match="not like"):
        parse_window("weekends")


def test_approved_yaml_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "approved.yaml"
    path.write_text("approvals:\n  - match: {devices: [r1]}\n    ticket: CHG1\n    owner: me\n    colour: red\n")
    with pytest.raises(ConfigError) as caught:
        load_approved(path)
    assert str(path) in str(caught.value) and "approvals.0.colour" in str(caught.value)
    path.write_text("approvals:\n  - match: {src: [10.0.0.0/33]}\n    ticket: CHG1\n    owner: me\n")
    with pytest.raises(ConfigError, match=r"approvals\.0\.match\.src"):
        load_approved(path)
    path.write_text("approvals: [\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_approved(path)


def test_append_approval_keeps_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / "approved.yaml"
    original = (
        "# Approved NAT and ACL rules -- reviewed monthly\n"
        "approvals:\n"
        "  # partner access\n"
        "  - id: partner\n"
        "    match: {devices: [edge1], family: nat}\n"
        "    ticket: CHG0001\n"
        "    owner: alice\n"
    )
    path.write_text(original, encoding="utf-8")
    append_approval(
        path,
        {"id": "approve-CW-0123456789ab", "match": {"finding": "CW-0123456789ab"}, "ticket": "CHG9", "owner": "bob"},
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original)
    assert "# partner access" in text and "CW-0123456789ab" in text
    approvals = load_approved(path)
    assert [a.id for a in approvals] == ["partner", "approve-CW-0123456789ab"]
    with pytest.raises(Exception, match="ticket"):
        append_approval(path, {"match": {"finding": "CW-0123456789ab"}, "owner": "bob"})
    assert load_approved(path)[-1].id == "approve-CW-0123456789ab"  # a rejected entry changed nothing


def test_cli_bad_approved_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "cfgwatch.yaml").write_text("snapshots: snapshots\n")
    (tmp_path / "inventory" / "approved.yaml").write_text("approvals:\n  - match: {}\n    owner: x\n")
    subprocess.run([sys.executable, "-m", "cfgwatch", "init", str(tmp_path)], check=True, capture_output=True)
    completed = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "-c", str(tmp_path / "cfgwatch.yaml"), "audit"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "approved.yaml" in completed.stderr and "ticket" in completed.stderr


def test_cli_approve_rejects_bad_ids_and_dates(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "cfgwatch", "init", str(tmp_path)], check=True, capture_output=True)
    config = str(tmp_path / "cfgwatch.yaml")
    bad_id = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "-c", config, "approve", "nope", "--ticket", "CHG1"],
        capture_output=True,
        text=True,
    )
    assert bad_id.returncode == 2 and "not a finding id" in bad_id.stderr
    bad_date = subprocess.run(
        [
            sys.executable,
            "-m",
            "cfgwatch",
            "-c",
            config,
            "approve",
            "CW-0123456789ab",
            "--ticket",
            "CHG1",
            "--expires",
            "soon",
        ],
        capture_output=True,
        text=True,
    )
    assert bad_date.returncode == 2
    (tmp_path / "inventory" / "tickets.yaml").write_text("tickets: [{id: CHG1, state: scheduled}]\n")
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "cfgwatch",
            "-c",
            config,
            "approve",
            "CW-0123456789ab",
            "--force",
            "--by",
            "carol",
            "--ticket",
            "CHG1",
            "--expires",
            "2027-01-31",
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    (approval,) = load_approved(tmp_path / "inventory" / "approved.yaml")
    assert approval.expires == date(2027, 1, 31) and approval.match.finding == "CW-0123456789ab"


@pytest.mark.parametrize("platform", sorted(__import__("cfgwatch.lab.platforms", fromlist=["x"]).lab_platforms()))
def test_every_lab_platform_syslog_line_is_attributed(platform: str, tmp_path: Path) -> None:
    """The lab writes each platform's real change-log format; the audit must attribute every one."""
    from cfgwatch.lab.platforms import lab_platforms
    from cfgwatch.policy.attribution import attribute, read_syslog

    device = f"dev-{platform.replace('_', '-')}"
    at = datetime(2026, 11, 25, 3, 12, tzinfo=UTC)
    log = tmp_path / "syslog.log"
    log.write_text("\n".join(lab_platforms()[platform].syslog(device, "mallory", at, "185.220.101.4")) + "\n")
    scan = read_syslog([log], year=2026)
    assert scan.skipped == ()
    who = attribute(
        device, scan.events, datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC), None, None
    )
    assert who.user == "mallory" and who.time == at and who.how.startswith("syslog:")
    # Junos UI_COMMIT carries no address (UI_LOGIN_EVENT would); every other format names it
    assert who.origin == (None if platform == "juniper_junos" else "185.220.101.4") and who.comment is None


def test_panos_config_log_csv_export(tmp_path: Path) -> None:
    from cfgwatch.policy.attribution import read_syslog

    export = tmp_path / "dmz-pa-01.csv"
    export.write_text(
        "Domain,Receive Time,Serial #,Type,Threat/Content Type,Config Version,Generate Time,Host,Virtual System,"
        "Command,Admin,Client,Result,Configuration Path,Audit Comment\n"
        "1,2026/11/25 03:12:05,012801000001,CONFIG,0,0,2026/11/25 03:12:00,185.220.101.4,vsys1,set,mallory,Web,"
        "Succeeded,/config/devices/entry/vsys/entry/rulebase/nat/rules/entry[@name='x'],CHG0042\n"
        "1,not a time,012801000001,CONFIG,0,0,,1.2.3.4,vsys1,set,eve,Web,Succeeded,/config,\n",
        encoding="utf-8",
    )
    scan = read_syslog([export])
    (event,) = scan.events
    assert event.device == "dmz-pa-01" and event.user == "mallory" and event.origin == "185.220.101.4"
    assert event.kind == "panos-set" and event.comment == "CHG0042"
    assert event.time == datetime(2026, 11, 25, 3, 12, tzinfo=UTC)
    assert scan.skipped and ":3:" in scan.skipped[0]


def test_cron_change_windows() -> None:
    from cfgwatch.policy.settings import GroupPolicy

    saturday_night = ["cron 0 22 * * sat for 6h"]
    assert in_window(datetime(2026, 11, 28, 22, 0, tzinfo=UTC), saturday_night)
    assert in_window(datetime(2026, 11, 29, 3, 59, tzinfo=UTC), saturday_night)  # Sunday 03:59, still open
    assert not in_window(datetime(2026, 11, 29, 4, 0, tzinfo=UTC), saturday_night)
    assert not in_window(datetime(2026, 11, 25, 23, 0, tzinfo=UTC), saturday_night)
    first_of_month = ["cron 30 1 1 * * for 90m"]
    assert in_window(datetime(2026, 12, 1, 2, 59, tzinfo=UTC), first_of_month)
    assert not in_window(datetime(2026, 12, 2, 2, 0, tzinfo=UTC), first_of_month)
    weekdays_evening = ["cron 0 20 * * mon-fri for 2h"]
    assert in_window(datetime(2026, 11, 27, 21, 0, tzinfo=UTC), weekdays_evening)  # Friday
    assert not in_window(datetime(2026, 11, 28, 21, 0, tzinfo=UTC), weekdays_evening)  # Saturday
    with pytest.raises(ValueError, match="outside"):
        GroupPolicy(change_windows=["cron 0 25 * * * for 1h"])
    with pytest.raises(ValueError, match="not like"):
        GroupPolicy(change_windows=["cron every night"])
