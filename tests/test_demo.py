"""`cfgwatch demo` end to end: the story the README tells must hold (real lab, SSH, git, DuckDB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _wheel import build_wheel

from cfgwatch.demo import EVIL_DEVICE, run_demo
from cfgwatch.errors import InputError
from cfgwatch.report.evidence import verify_bundle


@pytest.mark.slow
def test_demo_tells_the_story(tmp_path: Path) -> None:
    said: list[str] = []
    result = run_demo(tmp_path / "demo", say=said.append)
    findings = result.audit.findings
    assert len(findings) == 1, [f.to_json() for f in findings]
    (evil,) = findings
    assert evil.device == EVIL_DEVICE and evil.severity == "critical"
    assert set(evil.categories) == {"egress-forward", "nat-added"} and evil.tags == ("proxy-port",)
    assert set(evil.flags) == {"unapproved", "unticketed", "outside-window", "unexpected-admin"}
    assert evil.attribution.user == "mallory" and evil.attribution.origin == "185.220.101.4"
    assert evil.flow.verdict == "traffic-confirmed"
    figures = evil.flow.measured
    assert figures is not None and figures.return_ratio is not None
    assert figures.return_ratio < 0.2 and figures.flags.suspicious is True
    assert figures.top_destinations[0].asn == 20473
    # the approved, ticketed ASA change was seen but produced no finding
    approved = [r for r in result.audit.reviews if r.change.device == "edge-fw-01"]
    assert approved and all(r.finding_id is None for r in approved)
    html = result.report.read_text(encoding="utf-8")
    assert evil.id in html and "<svg" in html
    assert verify_bundle(result.evidence, None).ok
    assert any("lab stopped" in line for line in said)


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError):
        run_demo(tmp_path)
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"
    completed = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "demo", "--dir", str(tmp_path)], capture_output=True, text=True
    )
    assert completed.returncode == 2 and "not a cfgwatch demo folder" in completed.stderr


@pytest.mark.slow
def test_demo_runs_from_a_built_wheel_without_the_repository(tmp_path: Path) -> None:
    """A non-editable install has no fixtures/ beside it: everything the demo and the lab serve must be
    package data in the wheel (the wheel is installed with --target; its dependencies come from this venv)."""
    wheel = build_wheel(tmp_path)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    site = tmp_path / "site"
    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    subprocess.run(install, capture_output=True, text=True, check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "demo", "--dir", str(elsewhere / "demo-out")],
        cwd=elsewhere,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[CRITICAL]" in done.stdout and EVIL_DEVICE in done.stdout
    import_check = [sys.executable, "-c", "import cfgwatch; print(cfgwatch.__file__)"]
    where = subprocess.run(import_check, cwd=elsewhere, env={"PYTHONPATH": str(site)}, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(site))
