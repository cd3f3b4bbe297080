"""Taking over from Oxidized and RANCID: their folder layouts and their git history (issue 18 item 3)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cfgwatch.collect.backups import classify_paths, router_db_types, tool_platform
from cfgwatch.store import RunJournal, SnapshotStore
from cfgwatch.vendors.registry import platform_names

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
Cli = Callable[..., tuple[int, str, str]]
IOS = (FIXTURES / "run1" / "as2dept1.cfg").read_text()
ASA = (FIXTURES / "run1" / "asa-fw1.cfg").read_text()
EOS = (FIXTURES / "run1" / "eos-border1.cfg").read_text()
CANARY = "Zq8canaryW7x"


@pytest.fixture
def project(tmp_path: Path, cli: Cli) -> Path:
    code, _, err = cli("init", "proj", cwd=tmp_path)
    assert code == 0, err
    return tmp_path / "proj"


def snapshot_git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(project / "snapshots"), *args], check=True, capture_output=True, text=True
    ).stdout


def stored_devices(project: Path) -> set[str]:
    return set(snapshot_git(project, "ls-tree", "--name-only", "HEAD", "configs/").replace("configs/", "").split())


def stored_platform(project: Path, device: str) -> str:
    return str(json.loads(snapshot_git(project, "show", f"HEAD:meta/{device}.json"))["platform"])


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- layouts --------------------------------------------------------------------------------------------


def test_path_rules_for_oxidized_and_rancid_layouts() -> None:
    devices, skipped = classify_paths(
        [
            "core/r1",
            "edge/fw1.cfg",
            "README.md",
            "router.db",
            ".gitignore",
            "rancidgrp/router.db",
            "rancidgrp/routers.up",
            "rancidgrp/configs/sw1",
            "rancidgrp/configs/.cvsignore",
            "rancidgrp/configs/CVS/Entries",
            "rancidgrp/status",
            "a/b/c/too-deep",
            "lone",
        ]
    )
    assert {(d.name, d.group, d.layout) for d in devices} == {
        ("r1", "core", "oxidized"),
        ("fw1", "edge", "oxidized"),
        ("sw1", "rancidgrp", "rancid"),
        ("lone", None, "flat"),
    }
    reasons = {s.path: s.reason for s in skipped}
    assert set(reasons) == {
        "README.md",
        "router.db",
        ".gitignore",
        "rancidgrp/router.db",
        "rancidgrp/routers.up",
        "rancidgrp/configs/.cvsignore",
        "rancidgrp/configs/CVS/Entries",
        "rancidgrp/status",
        "a/b/c/too-deep",
    }
    assert "outside configs/" in reasons["rancidgrp/status"]


def test_router_db_formats_and_tool_types() -> None:
    # RANCID 3 (name;type;state), RANCID 2 (name:type:state), Oxidized's default CSV map (name:model).
    types = router_db_types("# comment\nR1.example.net;cisco-nx;up\nfw2:cisco:down\nedge3:junos\n\nbad\n")
    assert types == {"r1.example.net": "cisco-nx", "fw2": "cisco", "edge3": "junos"}
    known = frozenset(platform_names())
    assert tool_platform("cisco-nx", known) == "cisco_nxos"
    assert tool_platform("junos", known) == "juniper_junos"
    assert tool_platform("routeros", known) == "mikrotik_routeros"
    assert tool_platform("cisco", known) == "cisco"  # the Cisco family: detection decides IOS vs ASA
    assert tool_platform("no-such-model", known) is None


def test_oxidized_group_folders_import_with_router_db_platforms(project: Path, cli: Cli, tmp_path: Path) -> None:
    backup = tmp_path / "oxidized"
    write(backup, "core/as2dept1", IOS)
    write(backup, "dmz/asa-fw1", ASA)
    write(backup, "dmz/eos-border1", EOS)
    write(backup, "README.md", "# our backups\n")
    write(backup, "router.db", "as2dept1:ios\nasa-fw1:asa\neos-border1:eos\n")
    write(backup, ".git/HEAD", "ref: refs/heads/master\n")
    code, out, err = cli("import", str(backup), cwd=project)
    assert code == 0, err
    assert stored_devices(project) == {"as2dept1", "asa-fw1", "eos-border1"}
    assert stored_platform(project, "asa-fw1") == "cisco_asa"
    assert "cisco_asa (backup-tool)" in out
    assert "skipped 2 non-config file(s): README.md, router.db" in out


def test_rancid_groups_import_skip_bookkeeping_and_narrow_cisco_by_detection(
    project: Path, cli: Cli, tmp_path: Path
) -> None:
    rancid = tmp_path / "rancid"
    write(rancid, "networking/router.db", "as2dept1;cisco;up\nasa-fw1;cisco;up\n")
    write(rancid, "networking/routers.up", "as2dept1\n")
    write(rancid, "networking/configs/as2dept1", "!RANCID-CONTENT-TYPE: cisco\n!\n" + IOS)
    write(rancid, "networking/configs/asa-fw1", "!RANCID-CONTENT-TYPE: cisco\n!\n" + ASA)
    write(rancid, "networking/configs/.cvsignore", "")
    write(rancid, "networking/configs/CVS/Entries", "/as2dept1/1.1/\n")
    write(rancid, "firewalls/configs/eos-border1", "!RANCID-CONTENT-TYPE: arista\n!\n" + EOS)
    code, out, err = cli("import", str(rancid), cwd=project)
    assert code == 0, err
    assert stored_devices(project) == {"as2dept1", "asa-fw1", "eos-border1"}
    # RANCID's "cisco" type covers IOS and ASA alike: detection decides inside the family.
    assert stored_platform(project, "asa-fw1") == "cisco_asa"
    assert stored_platform(project, "as2dept1") == "cisco_ios"
    assert stored_platform(project, "eos-border1") == "arista_eos"
    for bookkeeping in ("router.db", "routers.up", ".cvsignore", "Entries"):
        assert bookkeeping in out


def test_same_device_in_two_groups_is_bad_input(project: Path, cli: Cli, tmp_path: Path) -> None:
    backup = tmp_path / "oxidized"
    write(backup, "core/r1", IOS)
    write(backup, "edge/r1.cfg", IOS)
    code, _, err = cli("import", str(backup), cwd=project)
    assert code == 2
    assert "two files for device 'r1'" in err and "core/r1" in err and "edge/r1.cfg" in err
    assert stored_devices_or_none(project) is None  # nothing committed


def stored_devices_or_none(project: Path) -> set[str] | None:
    probe = subprocess.run(
        ["git", "--git-dir", str(project / "snapshots"), "rev-parse", "--verify", "--quiet", "HEAD"],
        capture_output=True,
        check=False,
    )
    return None if probe.returncode else stored_devices(project)


# --- git history replay ---------------------------------------------------------------------------------


class SourceRepo:
    """An Oxidized-shaped git repository (single_repo with groups) whose commits have chosen authors/times."""

    def __init__(self, path: Path) -> None:
        self.path = path
        subprocess.run(["git", "init", "-q", "-b", "master", str(path)], check=True)

    def commit(self, files: dict[str, str | None], *, author: str, when: datetime, message: str = "update") -> str:
        for relative, text in files.items():
            target = self.path / relative
            if text is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": f"{author}@example.net",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": "oxidized",
            "GIT_COMMITTER_EMAIL": "oxidized@example.net",
            "GIT_COMMITTER_DATE": stamp,
        }
        subprocess.run(["git", "-C", str(self.path), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(self.path), "commit", "-q", "-m", message], check=True, env=env)
        return subprocess.run(
            ["git", "-C", str(self.path), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()


T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PROXY_NAT = "ip nat outside source static tcp 45.77.10.5 3128 10.10.0.200 8080\n"


@pytest.fixture
def oxidized_history(tmp_path: Path) -> SourceRepo:
    repo = SourceRepo(tmp_path / "oxidized.git")
    repo.commit(
        {
            "core/as2dept1": IOS + f"snmp-server community {CANARY} RO\n",
            "dmz/asa-fw1": ASA,
            "README.md": "backups\n",
        },
        author="oxidized",
        when=T0,
    )
    repo.commit({"README.md": "backups of the estate\n"}, author="alice", when=T0.replace(day=6))
    repo.commit(
        {"core/as2dept1": IOS + f"snmp-server community {CANARY} RO\n" + PROXY_NAT},
        author="mallory",
        when=T0.replace(day=7, hour=3, minute=12),
    )
    repo.commit({"dmz/asa-fw1": None}, author="oxidized", when=T0.replace(day=8))
    return repo


def test_history_replay_keeps_times_authors_and_device_set(
    project: Path, cli: Cli, oxidized_history: SourceRepo
) -> None:
    code, out, err = cli("import", "--git", str(oxidized_history.path), cwd=project)
    assert code == 0, err
    assert "replayed 2 commit(s)" in out and "2 without config changes" in out
    assert stored_devices(project) == {"as2dept1", "asa-fw1"}  # a deleted file keeps its last snapshot
    log = snapshot_git(project, "log", "--format=%an|%aI", "HEAD").split()
    assert log == ["mallory|2026-01-07T03:12:00+00:00", "oxidized|2026-01-05T08:00:00+00:00"]
    everything = snapshot_git(project, "log", "-p", "--all", "HEAD")
    assert CANARY not in everything  # sanitized like a pull, although the source history holds it
    runs = SnapshotStore(project / "snapshots").runs()
    assert [r.time for r in runs] == [T0.replace(day=7, hour=3, minute=12), T0]
    journal = list(RunJournal(project / ".cfgwatch" / "runs.jsonl"))
    assert [e.started for e in journal] == [T0, T0.replace(day=7, hour=3, minute=12)]
    assert [e.collector for e in journal] == ["import-git", "import-git"]


def test_history_replay_is_idempotent_and_picks_up_new_commits(
    project: Path, cli: Cli, oxidized_history: SourceRepo
) -> None:
    assert cli("import", "--git", str(oxidized_history.path), cwd=project)[0] == 0
    commits = snapshot_git(project, "rev-list", "--all").split()
    journal_lines = (project / ".cfgwatch" / "runs.jsonl").read_text()
    code, out, _ = cli("import", "--git", str(oxidized_history.path), cwd=project)
    assert code == 0 and "nothing to replay (2 already imported" in out
    assert snapshot_git(project, "rev-list", "--all").split() == commits
    assert (project / ".cfgwatch" / "runs.jsonl").read_text() == journal_lines
    oxidized_history.commit({"dmz/eos-border1": EOS}, author="bob", when=T0.replace(day=9))
    code, out, _ = cli("import", "--git", str(oxidized_history.path), cwd=project)
    assert code == 0 and "replayed 1 commit(s)" in out and "2 already imported" in out
    assert stored_devices(project) == {"as2dept1", "asa-fw1", "eos-border1"}


def test_history_replay_since_and_then_audit_finds_the_replayed_change(
    project: Path, cli: Cli, oxidized_history: SourceRepo
) -> None:
    code, out, err = cli("import", "--git", str(oxidized_history.path), "--since", "2026-01-06", cwd=project)
    assert code == 0, err
    assert "replayed 1 commit(s)" in out
    assert snapshot_git(project, "log", "--format=%an", "HEAD").split() == ["mallory"]

    full = project.parent / "full"
    assert cli("init", str(full), cwd=project.parent)[0] == 0
    assert cli("import", "--git", str(oxidized_history.path), cwd=full)[0] == 0
    code, out, err = cli("audit", "--since", "3650d", "--format", "json", cwd=full)
    findings = json.loads(out)["findings"]
    assert any("45.77.10.5" in json.dumps(f) and f["device"] == "as2dept1" for f in findings), out


def test_history_replay_bad_input_exit_2(project: Path, cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("import", "--git", str(tmp_path / "nowhere"), cwd=project)
    assert code == 2 and "git repository not found" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = cli("import", "--git", str(plain), cwd=project)
    assert code == 2 and "not a git repository" in err
    code, _, err = cli("import", str(plain), "--git", str(plain), cwd=project)
    assert code == 2 and "not both" in err
    code, _, err = cli("import", "--git", str(plain), "--since", "yesterday-ish", cwd=project)
    assert code == 2 and "--since" in err
