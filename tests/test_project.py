"""The Project session: each part of a project is loaded once, the flow enricher is the Project's on every
backend, the docstring examples run, and importing it stays light."""

from __future__ import annotations

import doctest
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_events import Recorder

import cfgwatch.project
from cfgwatch.flows.enrich import NO_ASN_DB_NOTE
from cfgwatch.project import Project, init_project


def test_docstring_examples_run() -> None:
    results = doctest.testmod(cfgwatch.project, optionflags=doctest.ELLIPSIS)
    assert results.attempted >= 10
    assert results.failed == 0


def test_import_stays_light() -> None:
    """`cfgwatch --version` imports the CLI, and the CLI imports the Project: no flow engine, no NAPALM."""
    code = (
        "import sys, cfgwatch.project\n"
        "heavy = sorted(m for m in ('duckdb', 'numpy', 'napalm', 'git', 'cryptography') if m in sys.modules)\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    init_project(tmp_path)
    (tmp_path / "inventory" / "networks.yaml").write_text("internal: ['198.18.0.0/15']\n", encoding="utf-8")
    return tmp_path


def test_parts_are_loaded_once(project_dir: Path) -> None:
    project = Project.open(project_dir / "cfgwatch.yaml")
    assert project.config_file == project_dir / "cfgwatch.yaml"
    assert project.store is project.store
    assert project.inventory is project.inventory
    assert project.networks is project.networks
    assert "198.18.0.0/15" in str(project.networks.internal)
    assert project.policy_inputs is project.policy_inputs


def test_approve_refreshes_the_policy_inputs(project_dir: Path) -> None:
    project = Project.open(project_dir / "cfgwatch.yaml")
    assert project.policy_inputs.approvals == []
    (project_dir / "inventory" / "tickets.yaml").write_text("tickets: [{id: CHG1, state: scheduled}]\n")
    project.approve("CW-0123456789ab", ticket="CHG1", owner="netops", by="carol", force=True)
    assert [approval.ticket for approval in project.policy_inputs.approvals] == ["CHG1"]


def test_no_flow_store_means_no_checker_and_nothing_created(project_dir: Path) -> None:
    project = Project.open(project_dir / "cfgwatch.yaml")
    assert not project.has_flow_data()
    with project.flow_checker() as checker:
        assert checker is None
    with project.flow_checker(enabled=False) as checker:
        assert checker is None
    assert not project.has_flow_data()  # looking did not create the embedded store


def test_the_backend_looks_up_with_the_projects_enricher(project_dir: Path) -> None:
    project = Project.open(project_dir / "cfgwatch.yaml")
    with project.flows() as flows:
        assert flows.backend.enricher is flows.enricher
        assert flows.enricher.notes() == (NO_ASN_DB_NOTE,)
        assert callable(flows.checker)
    assert project.has_flow_data()


@pytest.mark.skipif(shutil.which("nfdump") is None, reason="nfdump is not installed")
def test_nfdump_hunt_knows_there_is_no_asn_database(project_dir: Path) -> None:
    """The Project hands its enricher to every backend, nfdump included (which once built its own)."""
    (project_dir / "nfcapd").mkdir()
    config = project_dir / "cfgwatch.yaml"
    config.write_text(
        config.read_text(encoding="utf-8") + "flows:\n  backend: nfdump\n  nfdump: {directory: nfcapd}\n",
        encoding="utf-8",
    )
    project = Project.open(config)
    with project.flows() as flows:
        assert flows.backend.name == "nfdump"
        assert flows.backend.enricher is flows.enricher
    result = project.hunt()
    assert NO_ASN_DB_NOTE in result.notes


def test_ingest_needs_no_address_plan_but_the_checker_does(project_dir: Path) -> None:
    """Storing flows never reads networks.yaml; judging a finding does (and names the broken file)."""
    from datetime import UTC, datetime

    from cfgwatch.errors import ConfigError
    from cfgwatch.flows.synth import SynthFlow, write_nfdump_csv

    (project_dir / "inventory" / "networks.yaml").write_text("internal: [not-a-network]\n", encoding="utf-8")
    flow = SynthFlow(datetime(2026, 11, 3, 4, 0, tzinfo=UTC), "10.0.0.5", "45.77.10.5", 40000, 3128, 6, 10, 900)
    file = write_nfdump_csv(project_dir / "flows.csv", [flow])
    project = Project.open(project_dir / "cfgwatch.yaml")
    recorder = Recorder()
    reports = project.ingest_flows([file], "nfdump-csv", events=recorder)
    assert [report.records for report in reports] == [1]
    assert recorder.events == [
        ("stage_started", "ingest", 1),
        ("item_done", "ingest", reports[0], 1, 1),
        ("stage_finished", "ingest"),
    ]
    with project.flows() as flows, pytest.raises(ConfigError, match=r"networks\.yaml"):
        _ = flows.checker
