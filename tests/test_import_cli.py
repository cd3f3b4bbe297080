"""`cfgwatch init/import/log/show` end to end on real git repos in tmp dirs, plus every bad-input case."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from _platform_fixtures import extra_platforms

from cfgwatch.store import RunJournal, SnapshotStore
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.registry import get_spec

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def project(tmp_path: Path, cli: Cli) -> Path:
    code, out, _ = cli("init", "proj", cwd=tmp_path)
    assert code == 0 and "created" in out
    return tmp_path / "proj"


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(project / "snapshots"), *args], check=True, capture_output=True, text=True
    ).stdout


def head(project: Path) -> str:
    return git(project, "rev-parse", "HEAD").strip()


def test_two_imports_make_two_commits_and_show_reads_either(project: Path, cli: Cli) -> None:
    code, out, _ = cli("import", str(FIXTURES / "run1"), cwd=project)
    assert code == 0 and "3 added" in out
    first = head(project)
    code, out, _ = cli("import", str(FIXTURES / "run2"), cwd=project)
    assert code == 0 and "1 added, 1 changed, 1 unchanged" in out
    code, out, _ = cli("import", str(FIXTURES / "run2"), cwd=project)
    assert code == 0 and "no change, nothing committed" in out
    assert git(project, "rev-list", "--count", "HEAD").strip() == "2"

    code, out, _ = cli("log", cwd=project)
    assert code == 0 and first[:12] in out and head(project)[:12] in out
    code, out, _ = cli("log", "--limit", "1", cwd=project)
    assert first[:12] not in out and head(project)[:12] in out
    code, out, _ = cli("log", "--all", cwd=project)
    assert out.count("no-change") == 1

    binding = "ip access-group RESTRICT_HOST_TRAFFIC_IN out"
    code, new, err = cli("show", "as2dept1", cwd=project)
    assert code == 0 and binding in new and "platform" in err
    code, old, _ = cli("show", "as2dept1", "--rev", first, cwd=project)
    assert code == 0 and binding not in old and "version 15.2" in old
    # absent from run2: keeps its run1 snapshot
    code, out, _ = cli("show", "eos-border1", cwd=project)
    assert code == 0 and out == git(project, "show", f"{first}:configs/eos-border1") and "ip nat" in out
    assert SnapshotStore(project / "snapshots").devices() == ["as2dept1", "asa-fw1", "eos-border1", "junos-nat1"]


def test_secrets_never_reach_git(project: Path, cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "cfgs"
    folder.mkdir()
    (folder / "r1.cfg").write_text(
        "hostname r1\nenable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0\n"
        "username admin privilege 15 password 7 0822455D0A16\n",
        encoding="utf-8",
    )
    code, out, _ = cli("import", str(folder), "--platform", "ios", cwd=project)
    assert code == 0 and "cisco_ios (option)" in out and "2 secret(s) hidden" in out
    stored = git(project, "show", "HEAD:configs/r1")
    assert "hx5rVt7rPNoS4wqbXKX7m0" not in stored and "0822455D0A16" not in stored
    assert "hostname r1" in stored


def test_platform_from_inventory_then_detection(
    project: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "inventory" / "hosts.yaml").write_text("r1:\n  data: {platform: junos}\n", encoding="utf-8")
    fake = types.ModuleType("cfgwatch_test_fake_parser")
    fake.SPEC = dataclasses.replace(  # type: ignore[attr-defined]
        get_spec("vyos"),
        parser=ParserInfo(
            platform="vyos",
            description="test detector",
            forms=("cli",),
            features=frozenset(),
            parse=lambda text: None,  # type: ignore[arg-type,return-value]
            detect=lambda text: text.startswith("FAKE-VYOS"),
        ),
    )
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    # One platform package that cannot be imported yet (still being written) must not break detection.
    with extra_platforms(monkeypatch, cisco_asa="cfgwatch.vendors.not_written_yet:SPEC", vyos=f"{fake.__name__}:SPEC"):
        _import_and_check(project, cli, tmp_path)


def _import_and_check(project: Path, cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "cfgs"
    folder.mkdir()
    (folder / "r1.cfg").write_text("FAKE-VYOS but inventory says junos\n", encoding="utf-8")
    (folder / "r2.conf").write_text("FAKE-VYOS config\n", encoding="utf-8")
    (folder / "r3.example.net").write_text("nothing recognisable\n", encoding="utf-8")
    code, out, err = cli("import", str(folder), cwd=project)
    assert code == 0, err
    # not a terminal: the list layout, one item per device
    items = {item.split("\n", 1)[0]: item for item in out.split("* ")[1:]}
    assert all("status: added\n" in items[name] for name in ("r1", "r2", "r3.example.net"))
    assert "platform: juniper_junos (inventory)\n" in items["r1"]
    assert "platform: vyos (detected)\n" in items["r2"]
    assert "platform: unknown (unknown)\n" in items["r3.example.net"]  # dots kept: not a config extension
    store = SnapshotStore(project / "snapshots")
    assert (store.platform("r1"), store.platform("r2"), store.platform("r3.example.net")) == (
        "juniper_junos",
        "vyos",
        None,
    )


def test_empty_file_is_a_failed_device_not_an_error(project: Path, cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "cfgs"
    folder.mkdir()
    (folder / "ok.cfg").write_text("hostname ok\n", encoding="utf-8")
    (folder / "empty.cfg").write_text("", encoding="utf-8")
    code, out, err = cli("import", str(folder), "--platform", "cisco_ios", cwd=project)
    assert code == 0 and "1 failed" in out and "empty: incomplete" in err
    entry = RunJournal(project / ".cfgwatch" / "runs.jsonl").entries()[-1]
    assert entry.ok == ("ok",) and [f.name for f in entry.failed] == ["empty"]
    assert "empty [incomplete]" in git(project, "log", "-1", "--format=%B")


def _bad_folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("missing-dir", "folder not found"),
        ("binary-file", "not a text config file"),
        ("duplicate-device", "two files for device 'r1'"),
        ("bad-name", "not a usable device name"),
        ("unknown-platform", "--platform: unknown platform 'cisco_foo'"),
        ("malformed-config", "malformed YAML"),
        ("unknown-config-key", "key 'snapshot'"),
        ("malformed-inventory", "hosts.yaml"),
        ("not-a-repo", "not a git repository"),
        ("locked", "another cfgwatch run holds the lock"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_changed(
    project: Path, cli: Cli, tmp_path: Path, case: str, expect: str
) -> None:
    assert cli("import", str(FIXTURES / "run1"), cwd=project)[0] == 0
    before = head(project)
    journal = project / ".cfgwatch" / "runs.jsonl"
    journal_before = journal.read_bytes()
    folder = _bad_folder(tmp_path, {"r1.cfg": b"hostname r1 changed\n"})
    args = ["import", str(folder)]
    holder = None
    if case == "missing-dir":
        args = ["import", str(tmp_path / "nope")]
    elif case == "binary-file":
        (folder / "r2.cfg").write_bytes(b"\x1f\x8b\x08\x00\x00binary")
    elif case == "duplicate-device":
        (folder / "r1.txt").write_bytes(b"hostname r1\n")
    elif case == "bad-name":
        (folder / "core sw#1.cfg").write_bytes(b"hostname x\n")
    elif case == "unknown-platform":
        args += ["--platform", "cisco_foo"]
    elif case == "malformed-config":
        (project / "cfgwatch.yaml").write_text("snapshots: [unclosed\n", encoding="utf-8")
    elif case == "unknown-config-key":
        (project / "cfgwatch.yaml").write_text("snapshot: elsewhere\n", encoding="utf-8")
    elif case == "malformed-inventory":
        (project / "inventory" / "hosts.yaml").write_text("r1:\n  data: {collector: telnet}\n", encoding="utf-8")
    elif case == "not-a-repo":
        (project / "cfgwatch.yaml").write_text("snapshots: plain-folder\n", encoding="utf-8")
        (project / "plain-folder").mkdir()
    elif case == "locked":
        holder = SnapshotStore(project / "snapshots").lock()
        holder.__enter__()
    try:
        code, _, err = cli(*args, cwd=project)
    finally:
        if holder is not None:
            holder.__exit__(None, None, None)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and expect in err
    assert head(project) == before
    assert journal.read_bytes() == journal_before


def test_show_and_log_errors(project: Path, cli: Cli) -> None:
    code, out, _ = cli("log", cwd=project)
    assert code == 0 and "no runs yet" in out
    code, _, err = cli("show", "r1", cwd=project)
    assert code == 2 and "no runs yet" in err
    cli("import", str(FIXTURES / "run1"), cwd=project)
    code, _, err = cli("show", "nope", cwd=project)
    assert code == 2 and "device 'nope' is not in the snapshot at HEAD" in err
    code, _, err = cli("show", "as2dept1", "--rev", "deadbeef", cwd=project)
    assert code == 2 and "unknown revision 'deadbeef'" in err
    code, _, err = cli("log", cwd=project.parent)  # no cfgwatch.yaml here: default paths, no repo
    assert code == 2 and "snapshot repository not found" in err


def test_init_twice_keeps_files(project: Path, cli: Cli) -> None:
    (project / "inventory" / "hosts.yaml").write_text("r1: {}\n", encoding="utf-8")
    code, out, _ = cli("init", ".", cwd=project)
    assert code == 0 and "created" not in out and "kept" in out
    assert (project / "inventory" / "hosts.yaml").read_text(encoding="utf-8") == "r1: {}\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_exit_2(project: Path, cli: Cli, tmp_path: Path) -> None:
    folder = _bad_folder(tmp_path, {"r1.cfg": b"hostname r1\n"})
    (folder / "r1.cfg").chmod(0)
    code, _, err = cli("import", str(folder), cwd=project)
    assert code == 2 and "cannot read config file" in err and "r1.cfg" in err


def test_console_script_help_and_import(tmp_path: Path) -> None:
    exe = shutil.which("cfgwatch", path=str(Path(sys.executable).parent))
    assert exe is not None
    for command in ("init", "import", "log", "show"):
        done = subprocess.run([exe, command, "--help"], capture_output=True, text=True, check=True)
        assert "Usage:" in done.stdout
    subprocess.run([exe, "init", str(tmp_path / "p")], capture_output=True, check=True)
    done = subprocess.run(
        [exe, "--config", str(tmp_path / "p" / "cfgwatch.yaml"), "import", str(FIXTURES / "run1")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "3 added" in done.stdout
