"""`cfgwatch export`: the evidence bundle is complete, reproducible byte for byte, and tampering is caught."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _report_fixtures import CONFIG_SECRET, RUN2, RUN3, build_project, open_store
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from cfgwatch.cli import app
from cfgwatch.config import CfgwatchConfig
from cfgwatch.errors import InputError
from cfgwatch.report.evidence import (
    MANIFEST,
    bundle_files,
    gather,
    read_bundle,
    redact,
    verify_bundle,
    write_bundle,
)
from cfgwatch.store import RunJournal, journal_path

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
# fw1's partner rule is approved: one change in the period is a decision "approved", not a finding
APPROVED = (
    "approvals:\n"
    "  - id: partner-sftp\n"
    "    match: {devices: [fw1], family: filter, dst: ['198.51.100.20/32'], ports: '22'}\n"
    "    ticket: CHG0042\n    owner: netops\n"
)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> CfgwatchConfig:
    config = build_project(tmp_path_factory.mktemp("project"), secret_in_config=True)
    (config.inventory_path / "approved.yaml").write_text(APPROVED)
    return config


def _files(config: CfgwatchConfig, key: Ed25519PrivateKey | None = None) -> dict[str, bytes]:
    journal = RunJournal(journal_path(config.state_path)).entries()
    evidence = gather(open_store(config), config, None, START, END, journal=journal,
                      config_file=config.base_dir / "cfgwatch.yaml")  # fmt: skip
    return bundle_files(evidence, key)


def test_bundle_contents(config: CfgwatchConfig) -> None:
    files = _files(config)
    expected = {
        "findings.json", "findings.csv", "changes.json", "approvals.json", "attribution.json", "coverage.json",
        "commits.json", "tool.json", "config/cfgwatch.yaml", "summary.md", "summary.html", MANIFEST,
        "approval-history.json",
    }  # fmt: skip
    assert set(files) == expected
    findings = json.loads(files["findings.json"])
    assert [f["device"] for f in findings["findings"]] == ["edge1", "edge1"] and "generated" not in findings
    assert len(list(csv.DictReader(io.StringIO(files["findings.csv"].decode())))) == 2

    changes = json.loads(files["changes.json"])["changes"]
    decisions = {(c["device"], c["decision"]) for c in changes}
    assert decisions == {("edge1", "finding"), ("fw1", "approved")}
    approved = next(c for c in changes if c["decision"] == "approved")
    assert {key: approved["approval"][key] for key in ("id", "ticket", "expired")} == {
        "id": "partner-sftp",
        "ticket": "CHG0042",
        "expired": False,
    }
    # a hand-written entry outside any approval history: who and when are unknown, never guessed
    assert approved["approval"]["approved_by"] is None and approved["approval"]["retroactive"] is None
    assert approved["ticket"]["matched"] == "CHG0042" and approved["ticket"]["approved"] is True
    assert approved["change"]["lines_after"]["lines"][0].startswith("access-list OUT extended permit tcp")
    assert approved["attribution"]["user"] == "netops"
    approvals = json.loads(files["approvals.json"])
    assert [a["id"] for a in approvals["approvals"]] == ["partner-sftp"]
    assert [t["id"] for t in approvals["tickets"]] == ["CHG0042"]

    coverage = json.loads(files["coverage.json"])
    assert coverage["source"] == "run-journal" and len(coverage["runs"]) == 3
    assert coverage["runs"][1]["failed"] == [{"device": "fw1", "reason": "timeout", "detail": "no answer in 30 s"}]
    assert coverage["devices"] == {"edge1": {"ok": 3, "failed": 0}, "fw1": {"ok": 2, "failed": 1}}
    commits = json.loads(files["commits.json"])
    assert [c["commit"] for c in commits["commits"]] == [run.commit for run in reversed(open_store(config).runs())]

    config_text = files["config/cfgwatch.yaml"].decode()
    assert CONFIG_SECRET not in config_text and "password_env: CH_PASSWORD" in config_text
    assert all(CONFIG_SECRET.encode() not in data for data in files.values())
    assert json.loads(files["tool.json"])["version"]
    summary = files["summary.md"].decode()
    for control in ("1.2.2", "1.2.7", "SOX", "A.8.32", "CM-3"):
        assert control in summary and control in files["summary.html"].decode()

    manifest = json.loads(files[MANIFEST])
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert set(listed) == set(files) - {MANIFEST}
    assert all(hashlib.sha256(files[path]).hexdigest() == digest for path, digest in listed.items())


def test_range_selects_runs(config: CfgwatchConfig) -> None:
    store = open_store(config)
    only_third = gather(store, config, None, RUN3, END)
    assert {d["device"] for d in only_third.decisions} == {"fw1"} and only_third.audit.findings == ()
    only_second = gather(store, config, None, RUN2, RUN2)
    assert {d["device"] for d in only_second.decisions} == {"edge1"} and len(only_second.runs) == 1
    with pytest.raises(InputError):
        gather(store, config, None, END, START)


def test_export_twice_is_byte_identical_zip_and_folder(config: CfgwatchConfig, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    first = write_bundle(_files(config, key), tmp_path / "a.zip")
    second = write_bundle(_files(config, key), tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    assert names == sorted(names)
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zipfile.ZipFile(first).infolist())
    folder = write_bundle(_files(config, key), tmp_path / "dir")
    assert read_bundle(folder) == read_bundle(first)
    with pytest.raises(InputError):
        write_bundle(_files(config), folder)  # not empty


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_verify_names_every_kind_of_tampering(config: CfgwatchConfig, tmp_path: Path, kind: str) -> None:
    files = _files(config)
    assert verify_bundle(write_bundle(files, tmp_path / "clean.zip")).ok
    for name in sorted(files):
        if name == MANIFEST:
            continue
        tampered = dict(files)
        tampered[name] = files[name].replace(b"e", b"E", 1) + b" "
        target = tmp_path / f"{name.replace('/', '_')}{'.zip' if kind == 'zip' else ''}"
        result = verify_bundle(write_bundle(tampered, target))
        assert not result.ok and result.altered == (name,), name
    missing = dict(files)
    del missing["coverage.json"]
    assert verify_bundle(write_bundle(missing, tmp_path / f"missing-{kind}.zip")).missing == ("coverage.json",)
    extra = {**files, "notes/extra.txt": b"planted"}
    assert verify_bundle(write_bundle(extra, tmp_path / f"extra-{kind}.zip")).extra == ("notes/extra.txt",)


def test_signature_good_bad_and_stripped(config: CfgwatchConfig, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    other = Ed25519PrivateKey.generate()
    files = _files(config, key)
    good = verify_bundle(write_bundle(files, tmp_path / "good.zip"), key.public_key())
    assert good.ok and good.signature == "valid" and good.key_source == "given"
    # the manifest rewritten to match an altered file: hashes agree, the signature does not
    manifest = json.loads(files[MANIFEST])
    altered = files["findings.csv"] + b"x"
    for entry in manifest["files"]:
        if entry["path"] == "findings.csv":
            entry["sha256"] = hashlib.sha256(altered).hexdigest()
            entry["bytes"] = len(altered)
    forged = {**files, "findings.csv": altered, MANIFEST: json.dumps(manifest).encode()}
    result = verify_bundle(write_bundle(forged, tmp_path / "forged.zip"), key.public_key())
    assert not result.ok and result.signature == "invalid" and result.altered == ()
    # signed by someone else
    assert verify_bundle(write_bundle(files, tmp_path / "other.zip"), other.public_key()).signature == "invalid"
    # a re-signed bundle with the forger's embedded key passes only when no key is pinned
    forger_pem = other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    resigned = {**forged, "manifest.sig": base64.b64encode(other.sign(forged[MANIFEST])) + b"\n",
                "manifest.pub": forger_pem}  # fmt: skip
    path = write_bundle(resigned, tmp_path / "resigned.zip")
    assert verify_bundle(path).signature == "valid"
    assert verify_bundle(path, key.public_key()).signature == "invalid"
    # signature stripped while a key is required
    stripped = {k: v for k, v in files.items() if k not in ("manifest.sig", "manifest.pub")}
    assert verify_bundle(write_bundle(stripped, tmp_path / "stripped.zip"), key.public_key()).signature == "missing"


def test_redact() -> None:
    data = {
        "notify": {"webhook": {"url": "https://hooks.example/T000/B000/XXXX"}, "smtp": {"password": "pw"}},
        "flows": {"clickhouse": {"password_env": "CH_PASSWORD", "host": "db"}},
        "remote": "https://user:tok@git.example/snap.git",
        "token_value": ["x"],
        "opaque": "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQ1",
        "windows": ["sat 22:00-sun 04:00"],
    }
    clean = redact(data)
    assert clean["notify"]["webhook"]["url"] == "<redacted>" and clean["notify"]["smtp"]["password"] == "<redacted>"
    assert clean["flows"]["clickhouse"] == {"password_env": "CH_PASSWORD", "host": "db"}
    assert clean["remote"] == "https://<redacted>@git.example/snap.git"
    assert clean["token_value"] == ["<redacted>"] and clean["opaque"] == "<redacted>"
    assert clean["windows"] == ["sat 22:00-sun 04:00"]


def test_cli_export_and_verify(config: CfgwatchConfig, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--config", str(config.base_dir / "cfgwatch.yaml")]
    key = tmp_path / "sign.pem"
    assert runner.invoke(app, [*base, "export", "keygen", str(key)]).exit_code == 0
    arguments = [*base, "export", "--from", "2026-11-01", "--to", "2026-11-30", "--no-flows", "--sign-key", str(key)]
    for name in ("one.zip", "two.zip"):
        done = runner.invoke(app, [*arguments, "--out", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    public = str(tmp_path / "sign.pem.pub")
    ok = runner.invoke(app, [*base, "export", "verify", str(tmp_path / "one.zip"), "--public-key", public])
    assert ok.exit_code == 0 and ok.output.startswith("OK"), ok.output

    folder = tmp_path / "bundle"
    assert runner.invoke(app, [*arguments, "--out", str(folder)]).exit_code == 0
    (folder / "changes.json").write_text("{}")
    bad = runner.invoke(app, [*base, "export", "verify", str(folder), "--public-key", public])
    assert bad.exit_code == 1 and "ALTERED  changes.json" in bad.output and "TAMPERED" in bad.output

    # bad input is exit code 2 through the real entry point, with one line saying what is wrong
    for extra, message in (
        (["verify", str(tmp_path / "nothing-here")], "evidence bundle not found"),
        (["verify", str(tmp_path)], "no manifest.json"),
        (["--out", str(tmp_path / "x.zip")], "missing --from, --to"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "cfgwatch", *base, "export", *extra], capture_output=True, text=True, check=False
        )
        assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr


def _zip_with(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """A zip written entry by entry, duplicates allowed (as a forger's tool would write it)."""
    duplicates = len({name for name, _ in entries}) < len(entries)
    warned = pytest.warns(UserWarning) if duplicates else contextlib.nullcontext()
    with warned, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def test_verify_refuses_duplicate_and_colliding_names(config: CfgwatchConfig, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    files = _files(config, key)
    forged = b'{"findings": []}\n'
    # a tampered findings.json first, the signed one after it: readers disagree on which one is "the" file
    duplicate = _zip_with(tmp_path / "dup.zip", [("findings.json", forged), *files.items()])
    result = verify_bundle(duplicate, key.public_key())
    assert not result.ok and any("findings.json appears twice" in p for p in result.problems), result
    for alias in ("./findings.json", "FINDINGS.json", "x/../findings.json", "sub\\..\\findings.json"):
        colliding = _zip_with(tmp_path / "alias.zip", [*files.items(), (alias, forged)])
        result = verify_bundle(colliding, key.public_key())
        assert not result.ok and any("name the same file" in p for p in result.problems), alias
    runner = CliRunner()
    done = runner.invoke(app, ["export", "verify", str(duplicate), "--public-key", str(_public_pem(tmp_path, key))])
    assert done.exit_code == 1 and "TAMPERED" in done.output and "appears twice" in done.output, done.output


def _public_pem(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "signer.pub"
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


def test_verify_streams_entries_and_refuses_oversized_ones_unread(config: CfgwatchConfig, tmp_path: Path) -> None:
    files = _files(config)
    bomb = b"\0" * (48 << 20)  # compresses to ~50 KB; must not be inflated into memory
    path = _zip_with(tmp_path / "bomb.zip", [(n, bomb if n == "findings.json" else d) for n, d in files.items()])
    assert path.stat().st_size < 2 << 20
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: str | zipfile.ZipInfo, *args: object, **kwargs: object) -> object:
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)  # type: ignore[arg-type]

    tracemalloc.start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(zipfile.ZipFile, "open", spy)
            result = verify_bundle(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.altered == ("findings.json",) and not result.ok
    assert "findings.json" not in opened and peak < 8 << 20, (opened, peak)
    # an extra entry is named, never read
    extra = _zip_with(tmp_path / "extra.zip", [*files.items(), ("big.bin", bomb)])
    assert verify_bundle(extra).extra == ("big.bin",)
    # a manifest declaring an absurd size is refused, not streamed
    manifest = json.loads(files[MANIFEST])
    manifest["files"][0]["bytes"] = 1 << 40
    huge = {**files, MANIFEST: json.dumps(manifest).encode()}
    result = verify_bundle(write_bundle(huge, tmp_path / "huge.zip"))
    assert not result.ok and any("declares" in p for p in result.problems)


def test_verify_refuses_symlinks_in_a_folder_bundle(config: CfgwatchConfig, tmp_path: Path) -> None:
    files = {**_files(config), "notes/readme.txt": b"hello\n"}
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "readme.txt").write_bytes(b"hello\n")
    folder = write_bundle(files, tmp_path / "linked")
    assert verify_bundle(folder).ok is False  # notes/ is not in the manifest: extra
    clean = write_bundle(_files(config), tmp_path / "clean")
    assert verify_bundle(clean).ok
    (clean / "notes").symlink_to(outside, target_is_directory=True)
    result = verify_bundle(clean)
    assert not result.ok and result.extra == () and any("notes is a symlink" in p for p in result.problems)
    (clean / "notes").unlink()
    target = clean / "findings.json"
    (outside / "findings.json").write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(outside / "findings.json")
    result = verify_bundle(clean)
    assert not result.ok and any("findings.json is a symlink" in p for p in result.problems)


def test_verify_output_shows_control_characters_in_entry_names(config: CfgwatchConfig, tmp_path: Path) -> None:
    path = _zip_with(tmp_path / "esc.zip", [*_files(config).items(), ("x\x9b2J\x1b]0;t\x07.txt", b"planted")])
    done = CliRunner().invoke(app, ["export", "verify", str(path)])
    assert done.exit_code == 1 and "EXTRA    x\\x9b2J\\x1b]0;t\\x07.txt" in done.output, done.output
    assert "\x1b" not in done.output and "\x9b" not in done.output
