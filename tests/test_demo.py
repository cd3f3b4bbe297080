"""`cfgwatch demo` end to end: the story the README tells must hold (real lab, SSH, git, DuckDB)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
