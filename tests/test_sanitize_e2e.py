"""End to end: canary configs of every platform go through `cfgwatch import` into git; the whole history
(`git log -p --all`), the CLI output, the run journal and `cfgwatch show` hold none of the canaries;
re-imports that differ only in volatile lines or re-encrypted secrets commit nothing; a rotation commits;
`cfgwatch audit-secrets` passes on the result and fails (exit 1) on a repo with a leaked secret.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from netutils.password import encrypt_cisco_type7
from test_sanitize_canary import CANARY, CONFIGS, PLATFORMS, fill
from typer.testing import CliRunner

from cfgwatch.cli import app
from cfgwatch.errors import StoreError

runner = CliRunner()


def cli(project: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--config", str(project / "cfgwatch.yaml"), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def everything_written(project: Path, outputs: list[str]) -> str:
    """All text cfgwatch left behind: full git history, state dir files, and CLI output."""
    parts = [git(project / "snapshots", "log", "-p", "--all", "--format=%H%n%B")]
    parts += [p.read_text(errors="replace") for p in (project / ".cfgwatch").rglob("*") if p.is_file()]
    parts += outputs
    return "\n".join(parts)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    code, out = cli(tmp_path / "proj", "init", str(tmp_path / "proj"))
    assert code == 0, out
    return tmp_path / "proj"


def test_canaries_never_reach_git_logs_or_reports(project: Path, tmp_path: Path) -> None:
    leaks: list[str] = []
    outputs: list[str] = []
    for platform in PLATFORMS:
        folder = tmp_path / "in" / platform
        folder.mkdir(parents=True)
        snippet = (CANARY / f"{platform}.txt").read_text()
        base = sorted((CONFIGS / platform).iterdir())[0].read_text(errors="replace")
        seeded, seeded_leaks = fill(snippet)
        leaks += seeded_leaks
        (folder / f"dev-{platform}.cfg").write_text(base + "\n" + seeded)
        code, out = cli(project, "import", str(folder), "--platform", platform)
        assert code == 0, out
        outputs.append(out)
        code, out = cli(project, "show", f"dev-{platform}")
        assert code == 0, out
        outputs.append(out)
    written = everything_written(project, outputs)
    assert "<redacted:hmac:" in written
    assert [leak for leak in leaks if leak in written] == []

    code, out = cli(project, "audit-secrets", "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    assert report["clean"] and report["commits"] >= len(PLATFORMS) and report["blobs"] >= len(PLATFORMS)


IOS = """Building configuration...
Current configuration : {size} bytes
!
! Last configuration change at {time} UTC Thu Aug 29 2024 by admin
!
hostname r1
tacacs-server host 192.0.2.20 key 7 {tacacs}
ntp clock-period {period}
ip access-list extended OUT
 permit tcp any any eq 443
end
"""
FORTI = """#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0:vdom=0:user=admin
#conf_file_ver={ver}
config vpn ipsec phase1-interface
    edit "to-hq"
        set psksecret ENC {enc}
    next
end
"""


def test_repeated_import_commits_only_real_changes(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    seven_a, seven_b = encrypt_cisco_type7("Tkey-1", salt=2), encrypt_cisco_type7("Tkey-1", salt=11)

    def write(size: int, time: str, tacacs: str, period: int, ver: int, enc: str) -> None:
        (folder / "r1.cfg").write_text(IOS.format(size=size, time=time, tacacs=tacacs, period=period))
        (folder / "fw1.conf").write_text(FORTI.format(ver=ver, enc=enc))

    def run(platform_files: dict[str, str]) -> list[str]:
        outs = []
        for name, platform in platform_files.items():
            sub = tmp_path / f"one-{name}"
            sub.mkdir(exist_ok=True)
            (sub / name).write_text((folder / name).read_text())
            code, out = cli(project, "import", str(sub), "--platform", platform)
            assert code == 0, out
            outs.append(out)
        return outs

    files = {"r1.cfg": "cisco_ios", "fw1.conf": "fortinet"}
    write(100, "11:54:34", seven_a, 17179869, 1111, "QUJDREVGRw==")
    run(files)
    head = git(project / "snapshots", "rev-parse", "HEAD")

    # Same meaning, new volatile lines, type 7 re-salted, FortiOS ENC re-encrypted: no commit.
    write(104, "12:00:00", seven_b, 17179000, 2222, "WllYV1ZVVA==")
    outs = run(files)
    assert git(project / "snapshots", "rev-parse", "HEAD") == head
    assert all("nothing committed" in out for out in outs), outs

    # The tacacs key is rotated: one commit that changes r1's marker.
    write(104, "12:00:00", encrypt_cisco_type7("Tkey-2", salt=2), 17179000, 2222, "WllYV1ZVVA==")
    run({"r1.cfg": "cisco_ios"})
    assert git(project / "snapshots", "rev-parse", "HEAD") != head
    diff = git(project / "snapshots", "log", "-p", "-1")
    assert "tacacs-server host 192.0.2.20 key 7 <redacted:hmac:" in diff
    assert "Tkey" not in diff


def test_audit_secrets_finds_leak_in_old_commit_without_repeating_it(tmp_path: Path) -> None:
    repo = tmp_path / "leaky"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")
    (repo / "r1.cfg").write_text("hostname r1\nsnmp-server community Leaky-Community-9 RO\n")
    git(repo, "add", "r1.cfg")
    git(repo, "commit", "-q", "-m", "first")
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "r1.cfg").write_text("hostname r1\nsnmp-server community <redacted:hmac:0123456789ab> RO\n")
    git(repo, "commit", "-q", "-am", "clean it up\n\nenable secret 0 InMessage-7")
    project = tmp_path / "p"
    project.mkdir()
    code, out = cli(project, "audit-secrets", "--repo", str(repo))
    assert code == 1
    assert f"{first[:12]} r1.cfg:2" in out
    assert "<commit message>" in out
    assert "Leaky-Community-9" not in out and "InMessage-7" not in out

    with pytest.raises(StoreError, match="not found"):  # main() turns it into exit code 2
        cli(project, "audit-secrets", "--repo", str(tmp_path / "nope"))
