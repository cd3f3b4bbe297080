"""approve / approvals: only real findings and approved tickets, approver and time recorded, every change a
git commit with the approver as author, hand edits visible, retroactive approvals marked (issue 16)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from cfgwatch.errors import InputError
from cfgwatch.policy.approved import load_approved
from cfgwatch.policy.history import HAND_EDIT_NAME, check_history
from cfgwatch.project import Project
from cfgwatch.store import SnapshotStore
from tests.conftest import Cli
from tests.test_audit import IOS_BASE, IOS_EVIL, POLICY, _project, _run

CHANGED = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TICKETS = (
    "tickets:\n"
    "  - {id: CHG0099, state: scheduled, approval: approved}\n"
    "  - {id: CHG0100, state: new, approval: requested}\n"
)


@pytest.fixture
def audited(tmp_path: Path) -> Project:
    """Two runs: the second adds a proxy NAT (findings), tickets CHG0099 (approved) and CHG0100 (not)."""
    config = _project(tmp_path, {**POLICY, "approvals_history": "approvals-history"})
    store = SnapshotStore(tmp_path / "snapshots")
    _run(store, {"edge1": ("cisco_ios", IOS_BASE)}, CHANGED - timedelta(days=2))
    _run(store, {"edge1": ("cisco_ios", IOS_EVIL)}, CHANGED, user="mallory")
    (tmp_path / "inventory" / "tickets.yaml").write_text(TICKETS, encoding="utf-8")
    return Project.open(config)


def _git_log(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%an|%aI|%s"], capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines()


def test_forged_finding_id_is_refused_with_the_closest_real_one(audited: Project) -> None:
    real = audited.audit().findings[0].id
    forged = real[:-1] + ("0" if real[-1] != "0" else "1")
    with pytest.raises(InputError) as info:
        audited.approve(forged, ticket="CHG0099", by="carol")
    assert f"unknown finding {forged!r}" in str(info.value) and f"closest: {real!r}" in str(info.value)
    assert not (audited.config.inventory_path / "approved.yaml").exists()


def test_unknown_and_unapproved_tickets_are_refused(audited: Project) -> None:
    real = audited.audit().findings[0].id
    with pytest.raises(InputError, match=r"unknown ticket 'CHG0098' in the ticket sources \(closest: 'CHG0099'\)"):
        audited.approve(real, ticket="CHG0098", by="carol")
    with pytest.raises(InputError, match="ticket CHG0100 is not approved"):
        audited.approve(real, ticket="CHG0100", by="carol")
    assert not (audited.config.inventory_path / "approved.yaml").exists()
    # recorded only on request, and then flagged everywhere
    approval = audited.approve(real, ticket="CHG0100", by="carol", allow_unapproved_ticket=True)
    assert approval.unapproved_ticket and approval.ticket_status == "new/requested"
    (record,) = audited.approvals()
    assert "ticket-not-approved" in record.flags


def test_approval_records_approver_time_and_change_time_and_is_a_commit(audited: Project) -> None:
    finding = audited.audit().findings[0]
    when = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    approval = audited.approve(finding.id, ticket="chg0099", by="Carol Approver", reason="proxy for QA", now=when)
    (stored,) = load_approved(audited.config.inventory_path / "approved.yaml")
    assert stored == approval
    assert stored.approved_by == "Carol Approver" and stored.approved_at == when
    assert stored.change_time == CHANGED and stored.ticket == "CHG0099" and stored.mode == "finding"
    assert stored.reason == "proxy for QA"
    # the change was made at 03:00 on the 25th, approved on the 26th: retroactive
    (record,) = audited.approvals()
    assert record.retroactive is True and "retroactive" in record.flags
    assert record.to_json()["retroactive"] is True
    history = audited.config.resolve(audited.config.policy.approvals_history)
    (line,) = _git_log(history)
    assert line.startswith("Carol Approver|2026-11-26T09:30:00") and f"approve {finding.id}" in line
    # the finding is gone; approving it again says who holds it
    assert finding.id not in {f.id for f in audited.audit().findings}
    with pytest.raises(InputError, match=f"already approved by approve-{finding.id}"):
        audited.approve(finding.id, ticket="CHG0099", by="carol")


def test_hand_edits_and_revoke_are_commits_in_the_history(audited: Project) -> None:
    finding = audited.audit().findings[0]
    audited.approve(finding.id, ticket="CHG0099", by="carol")
    path = audited.config.inventory_path / "approved.yaml"
    path.write_text(
        path.read_text()
        + "- id: sneaky\n  match: {devices: [edge1]}\n  ticket: CHG0099\n  owner: eve\n"
        + "  approved_by: carol\n  approved_at: '2020-01-01T00:00:00+00:00'\n"  # back-dated by hand
    )
    assert any(record.approval.id == "sneaky" for record in audited.approvals())
    audited.revoke(f"approve-{finding.id}", by="dave", reason="QA over")
    history = audited.config.resolve(audited.config.policy.approvals_history)
    authors = [line.split("|")[0] for line in _git_log(history)]
    assert authors == ["carol", HAND_EDIT_NAME, "dave"]
    records = {record.approval.label: record for record in audited.approvals()}
    assert records[f"approve-{finding.id}"].status == "revoked"
    # a time written by hand is not trusted: the hand-edit commit bounds it, so "in advance" cannot be claimed
    sneaky = records["sneaky"]
    assert sneaky.when_source == "hand-edit" and sneaky.approved_at is not None
    assert sneaky.approved_at.year > 2020 and "hand-edited" in sneaky.flags
    assert sneaky.retroactive_for(CHANGED) is None and sneaky.approved_by == "carol (claimed in a hand edit)"
    with pytest.raises(InputError, match="unknown approval 'nope'"):
        audited.revoke("nope", by="dave")


def test_history_chain_is_checked_from_raw_objects(audited: Project) -> None:
    finding = audited.audit().findings[0]
    audited.approve(finding.id, ticket="CHG0099", by="carol")
    audited.revoke(f"approve-{finding.id}", by="dave")
    from cfgwatch.approvals import approval_history

    commits = [commit.to_json() for commit in approval_history(audited.config).commits()]
    assert len(commits) == 2 and check_history(commits) == []
    forged = [dict(commits[0]), commits[1]]
    forged[0]["content"] = str(forged[0]["content"]).replace("carol", "alice")
    assert any("content does not match" in problem for problem in check_history(forged))
    assert any("parent" in problem for problem in check_history([commits[1]]))


def test_pre_approval_by_match_needs_force_and_is_recorded_as_such(audited: Project, cli: Cli) -> None:
    base = audited.config.base_dir
    code, _, err = cli("approve", "--ticket", "CHG0099", "--device", "edge1", "--family", "nat", cwd=base)
    assert code == 2 and "add --force" in err
    code, out, err = cli(
        "approve", "--force", "--ticket", "CHG0099", "--device", "edge1", "--family", "nat", "--by", "carol", cwd=base
    )
    assert code == 0, err
    assert "(pre-approval)" in out
    (approval,) = load_approved(base / "inventory" / "approved.yaml")
    assert approval.mode == "pre-approval" and approval.match.devices == ["edge1"] and approval.change_time is None
    code, out, _ = cli("approvals", "list", cwd=base)
    assert code == 0 and "pre-approval" in out and "by carol" in out
    code, out, _ = cli("approvals", "show", approval.id or "", "--format", "json", cwd=base)
    assert code == 0 and yaml.safe_load(out)["mode"] == "pre-approval"
    code, _, err = cli("approvals", "show", "pre-edge1-nta", cwd=base)
    assert code == 2 and "closest: 'pre-edge1-nat'" in err and len(err.strip().splitlines()) == 1


def test_cli_forged_id_exits_2_with_one_line(audited: Project, cli: Cli) -> None:
    code, _, err = cli("approve", "CW-0123456789ab", "--ticket", "CHG0099", cwd=audited.config.base_dir)
    assert code == 2 and "unknown finding 'CW-0123456789ab'" in err and len(err.strip().splitlines()) == 1


# --- evidence: approver, time, ticket status and retroactive in the bundle; coverage; history verify ------


@pytest.fixture
def evidence_project(tmp_path: Path) -> Project:
    """The shared report project (three runs, fw1 failed in run 2) plus a fourth run in which fw1 fails auth."""
    from _report_fixtures import RUN3, build_project, open_store

    from cfgwatch.store import DeviceFailure

    config = build_project(tmp_path)
    open_store(config).write_run(
        [], (DeviceFailure("fw1", "auth", "login refused"),), collector="test", started=RUN3 + timedelta(hours=2)
    )
    return Project.open(config.base_dir / "cfgwatch.yaml")


def test_bundle_lists_approver_time_ticket_and_retroactive(evidence_project: Project, tmp_path: Path) -> None:
    import json
    import zipfile

    from _report_fixtures import RUN1, RUN2, RUN3

    from cfgwatch.report.evidence import verify_bundle

    project = evidence_project
    findings = project.audit(since="3650d").findings
    evil = next(f for f in findings if f.device == "edge1")
    project.approve(evil.id, ticket="CHG0042", by="carol", since="3650d", now=RUN3 + timedelta(days=1))
    # fw1's partner rule approved by match before it was made (run 3): in advance
    project.approve(
        None, ticket="CHG0042", by="dave", force=True, now=RUN1, match={"devices": ["fw1"], "dst": ["198.51.100.20/32"]}
    )
    start, end = RUN1 - timedelta(hours=1), RUN3 + timedelta(hours=3)
    written = project.export(start, end, tmp_path / "bundle.zip")
    files = {name: zipfile.ZipFile(written.path).read(name) for name in zipfile.ZipFile(written.path).namelist()}
    changes = json.loads(files["changes.json"])["changes"]
    approved = {c["device"]: c["approval"] for c in changes if c["decision"] == "approved"}
    assert approved["edge1"]["approved_by"] == "carol" and approved["edge1"]["retroactive"] is True
    assert approved["edge1"]["approved_at"] == (RUN3 + timedelta(days=1)).isoformat()
    assert approved["edge1"]["ticket_status"] == "scheduled/approved" and "retroactive" in approved["edge1"]["flags"]
    assert approved["fw1"]["approved_by"] == "dave" and approved["fw1"]["retroactive"] is False
    assert approved["fw1"]["mode"] == "pre-approval"
    summary = files["summary.md"].decode()
    assert "- Approved in advance: 1" in summary and "- Approved after the fact (retroactive): 1" in summary
    assert "RETROACTIVE" in summary and "| carol |" in summary
    assert "NOT signed" in summary and "is signed" not in summary
    assert "Approved after the fact (retroactive): 1" in files["summary.html"].decode()
    # the failed device is in the bundle's coverage, with its reason and since when its snapshot is stale
    coverage = json.loads(files["coverage.json"])["last_run"]
    assert [(f["device"], f["reason"], f["stale_since"]) for f in coverage["failed"]] == [
        ("fw1", "auth", RUN3.isoformat())
    ]
    assert "fw1: auth" in summary
    assert RUN2 < RUN3  # (the fixture's order)
    # the approval history is in the bundle and verifies
    history = json.loads(files["approval-history.json"])["commits"]
    assert [c["author"] for c in history] == ["carol", "dave"]
    assert verify_bundle(written.path).ok


def test_verify_recomputes_the_approval_history_chain(evidence_project: Project, tmp_path: Path) -> None:
    """A rewritten approval history (manifest re-hashed, unsigned) still fails: commit ids are recomputed."""
    import hashlib
    import json

    from _report_fixtures import RUN1, RUN3

    from cfgwatch.report.evidence import MANIFEST, read_bundle, verify_bundle, write_bundle

    project = evidence_project
    evil = next(f for f in project.audit(since="3650d").findings if f.device == "edge1")
    project.approve(evil.id, ticket="CHG0042", by="carol", since="3650d", now=RUN3 + timedelta(days=1))
    written = project.export(RUN1, RUN3 + timedelta(hours=3), tmp_path / "bundle")
    files = read_bundle(written.path)
    doc = json.loads(files["approval-history.json"])
    doc["commits"][0]["content"] = doc["commits"][0]["content"].replace("carol", "alice")
    forged = json.dumps(doc).encode()
    manifest = json.loads(files[MANIFEST])
    for entry in manifest["files"]:
        if entry["path"] == "approval-history.json":
            entry["sha256"], entry["bytes"] = hashlib.sha256(forged).hexdigest(), len(forged)
    files = {**files, "approval-history.json": forged, MANIFEST: json.dumps(manifest).encode()}
    result = verify_bundle(write_bundle(files, tmp_path / "forged.zip"))
    assert not result.ok and any("content does not match" in problem for problem in result.problems)


def test_signed_bundle_summary_says_signed(evidence_project: Project, tmp_path: Path) -> None:
    from _report_fixtures import RUN1, RUN3
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    written = evidence_project.export(RUN1, RUN3, tmp_path / "signed", signing_key=Ed25519PrivateKey.generate())
    assert "The manifest is signed (Ed25519" in written.files["summary.md"].decode()


def test_verify_against_the_live_history_catches_a_rewrite(evidence_project: Project, tmp_path: Path, cli: Cli) -> None:
    from _report_fixtures import RUN1, RUN3

    project = evidence_project
    evil = next(f for f in project.audit(since="3650d").findings if f.device == "edge1")
    project.approve(evil.id, ticket="CHG0042", by="carol", since="3650d", now=RUN3 + timedelta(days=1))
    bundle = project.export(RUN1, RUN3 + timedelta(hours=3), tmp_path / "bundle.zip").path
    repo = project.config.resolve(project.config.policy.approvals_history)
    base = project.config.base_dir
    code, out, _ = cli("export", "verify", str(bundle), "--approvals-history", str(repo), cwd=base)
    assert code == 0 and out.startswith("OK"), out
    # someone rewrites the live history (a different author on the same approval)
    subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", "commit", "-q", "--amend", "--no-edit",
         "--author", "mallory <m@example.org>"],
        check=True, capture_output=True,
        env={**os.environ, "GIT_COMMITTER_NAME": "mallory", "GIT_COMMITTER_EMAIL": "m@example.org"},
    )  # fmt: skip
    code, out, _ = cli("export", "verify", str(bundle), "--approvals-history", str(repo), cwd=base)
    assert code == 1 and "is not in" in out and "TAMPERED" in out
