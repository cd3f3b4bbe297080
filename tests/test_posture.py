"""Issue 15 "Also": the posture audit of first snapshots, enforced expected_destinations, inbound flow verdicts.

On a real snapshot repository (git) and the real DuckDB flow store, with planted flows of known answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from test_audit import ASA_BASE, IOS_BASE, POLICY, _project, _run

from cfgwatch.audit import make_flow_checker, run_audit
from cfgwatch.classify.networks import Networks
from cfgwatch.config import load_config
from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.synth import SynthFlow, write_nfdump_csv
from cfgwatch.policy.findings import Finding
from cfgwatch.store import SnapshotStore

# present before cfgwatch was installed: a redirect of inside clients to an Internet proxy, and an HTTPS
# server published on the outside ACL; the LAN's own HTTPS permit opens no specific path
IOS_PROXY = IOS_BASE.replace("end\n", "ip nat outside source static tcp 45.77.10.5 3128 10.10.0.200 8080\nend\n")
PUBLISH_WEB = (
    "access-list OUTSIDE-IN extended permit tcp any host 10.1.0.10 eq https\n"
    "access-group OUTSIDE-IN in interface outside\n"
)
ASA_PUBLISHED = ASA_BASE + PUBLISH_WEB
TUESDAY = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path, POLICY)


def _paths(result_findings: tuple[Finding, ...]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(f.device, f.change.family, f.flags) for f in result_findings}


def test_first_snapshot_is_audited_for_paths_no_approval_covers(project: Path) -> None:
    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    _run(store, {"edge1": ("cisco_ios", IOS_PROXY), "fw1": ("cisco_asa", ASA_PUBLISHED)}, TUESDAY)
    result = run_audit(store, config, None, today=date(2026, 11, 28))
    assert _paths(result.findings) == {
        ("edge1", "nat", ("unapproved", "pre-existing")),
        ("fw1", "filter", ("unapproved", "pre-existing")),
    }
    nat = next(f for f in result.findings if f.device == "edge1")
    assert "egress-forward" in nat.categories and nat.observed_between == (None, TUESDAY)
    assert nat.window_start == TUESDAY  # the flow check asks whether the path carries traffic since then
    exposure = next(f for f in result.findings if f.device == "fw1")
    assert exposure.categories == ("inbound-exposure", "acl-widened")
    assert result.pairs[0].posture and result.fails("high")  # `cfgwatch audit` exits 1 on day one

    # an approval covering the forward removes it from the posture audit
    (config.inventory_path / "approved.yaml").write_text(
        "approvals:\n  - match: {devices: [edge1], family: nat, translated: ['45.77.10.0/24']}\n"
        "    ticket: CHG0001\n    owner: netops\n"
    )
    again = run_audit(store, config, None, today=date(2026, 11, 28))
    assert _paths(again.findings) == {("fw1", "filter", ("unapproved", "pre-existing"))}


def test_a_device_that_appears_later_gets_its_posture_audit(project: Path) -> None:
    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    _run(store, {"fw1": ("cisco_asa", ASA_BASE)}, TUESDAY)
    _run(store, {"fw1": ("cisco_asa", ASA_BASE), "edge1": ("cisco_ios", IOS_PROXY)}, TUESDAY + timedelta(days=1))
    result = run_audit(store, config, None, today=date(2026, 11, 28))
    assert _paths(result.findings) == {("edge1", "nat", ("unapproved", "pre-existing"))}
    # --since reaching back to the first run includes its posture; a later revision does not
    first = store.runs()[-1].commit
    assert run_audit(store, config, None, since=first, today=date(2026, 11, 28)).pairs[0].posture
    second = store.runs()[0].commit
    assert not any(p.posture for p in run_audit(store, config, None, since=second, today=date(2026, 11, 28)).pairs)


def test_expected_destinations_of_an_approval_are_enforced(project: Path) -> None:
    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    sftp = ASA_BASE.replace(
        "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
        "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 198.51.100.16 255.255.255.240 eq 22\n"
        "access-list OUT extended permit tcp 10.1.0.0 255.255.255.0 any eq https\n",
    )
    _run(store, {"fw1": ("cisco_asa", ASA_BASE)}, TUESDAY)
    _run(store, {"fw1": ("cisco_asa", sftp)}, TUESDAY + timedelta(hours=3), user="netops")
    approval = (
        "approvals:\n  - id: partner-sftp\n    match: {devices: [fw1], family: filter, ports: '22'}\n"
        "    ticket: CHG0042\n    owner: netops\n    expected_destinations: {prefixes: [%s]}\n"
    )
    approved = config.inventory_path / "approved.yaml"
    approved.write_text(approval % "'198.51.100.0/24'")
    assert run_audit(store, config, None, today=date(2026, 11, 28)).findings == ()
    approved.write_text(approval % "'198.51.100.20/32'")
    (finding,) = run_audit(store, config, None, today=date(2026, 11, 28)).findings
    assert finding.flags == ("unexpected-destination",) and finding.approval == "partner-sftp"
    assert any("also reaches 198.51.100.16/30, 198.51.100.21-198.51.100.31" in r for r in finding.change.reasons)


# -- inbound exposures get a flow verdict ----------------------------------------------------------------

ASA_FORWARD = (
    ASA_BASE
    + "object network WEB\n host 10.1.0.10\n nat (inside,outside) static 192.0.2.10 service tcp 443 8443\n"
    + PUBLISH_WEB
)


def _inbound_flows(change: datetime, answered: bool) -> list[SynthFlow]:
    flows: list[SynthFlow] = []
    for index in range(5):  # five scanners from the Internet, after the change only
        source = f"198.51.100.{index + 1}"
        moment = change + timedelta(hours=1, minutes=index)
        flows.append(SynthFlow(moment, source, "10.1.0.10", 40000 + index, 443, 6, 20, 1200, exporter="fw1"))
        if answered:
            flows.append(SynthFlow(moment, "10.1.0.10", source, 443, 40000 + index, 6, 18, 9000, exporter="fw1"))
    # the exporter was reporting before the change too (coverage), with unrelated LAN traffic
    for hour in range(1, 48):
        moment = change - timedelta(hours=hour)
        flows.append(SynthFlow(moment, "10.1.0.5", "104.16.1.10", 50000, 443, 6, 5, 500, exporter="fw1"))
        flows.append(
            SynthFlow(moment + timedelta(hours=48), "10.1.0.5", "104.16.1.10", 50001, 443, 6, 5, 500, exporter="fw1")
        )
    return flows


@pytest.mark.parametrize("answered", [True, False])
def test_inbound_exposure_flow_verdict_counts_sources_and_whether_the_host_answered(
    project: Path, tmp_path: Path, answered: bool
) -> None:
    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    change_time = TUESDAY + timedelta(hours=3)
    _run(store, {"fw1": ("cisco_asa", ASA_BASE)}, TUESDAY)
    _run(store, {"fw1": ("cisco_asa", ASA_FORWARD)}, change_time, user="netops")
    backend = DuckDBBackend(tmp_path / "flows")
    report = backend.ingest(write_nfdump_csv(tmp_path / "in.csv", _inbound_flows(change_time, answered)), "nfdump-csv")
    assert report.bad == 0
    networks = Networks.default()
    checker = make_flow_checker(config, backend, internal=networks.internal, networks=networks)
    result = run_audit(store, config, None, today=date(2026, 11, 28), flow_checker=checker)
    inbound = [f for f in result.findings if "inbound-exposure" in f.categories]
    assert inbound
    for finding in inbound:
        assert finding.flow.verdict == "traffic-confirmed", finding.flow
        figures = finding.flow.measured
        assert figures is not None and figures.distinct_sources == 5
        assert (figures.return_packets > 0) is answered
        note = next(note for note in finding.flow.notes if note.startswith("inbound:"))
        assert "5 distinct external source(s)" in note
        assert ("the inside host answered" in note) is answered


# -- expected ASNs / provider classes are judged on observed traffic ----------------------------------------


@pytest.mark.parametrize(("asns", "expect_finding"), [("[13335]", True), ("[20473]", False)])
def test_expected_asns_of_an_approval_are_enforced_on_observed_traffic(
    project: Path, tmp_path: Path, asns: str, expect_finding: bool
) -> None:
    from dataclasses import replace

    from test_flows import build_mmdb

    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.synth import VPS_ADDR, planted_scenario

    config = load_config(project)
    store = SnapshotStore(config.snapshots_path)
    change_time = TUESDAY + timedelta(hours=3)
    to_vps = IOS_BASE.replace(
        " 20 deny ip any any\n", f" 15 permit tcp 10.1.1.0 0.0.0.255 host {VPS_ADDR} eq 8080\n 20 deny ip any any\n"
    )
    _run(store, {"edge1": ("cisco_ios", IOS_BASE)}, TUESDAY)
    _run(store, {"edge1": ("cisco_ios", to_vps)}, change_time, user="netops")
    (config.inventory_path / "approved.yaml").write_text(
        "approvals:\n  - id: cdn-only\n    match: {devices: [edge1], family: filter, ports: '8080'}\n"
        f"    ticket: CHG0042\n    owner: netops\n    expected_destinations: {{asns: {asns}}}\n"
    )
    assert run_audit(store, config, None, today=date(2026, 11, 28)).findings == ()  # no flows: cannot tell
    backend = DuckDBBackend(tmp_path / "flows", enricher=Enricher(build_mmdb(tmp_path / "asn.mmdb")))
    flows = [replace(flow, exporter="edge1") for flow in planted_scenario(change_time)]
    assert backend.ingest(write_nfdump_csv(tmp_path / "f.csv", flows), "nfdump-csv").bad == 0
    networks = Networks.default()
    checker = make_flow_checker(config, backend, internal=networks.internal, networks=networks)
    result = run_audit(store, config, None, today=date(2026, 11, 28), flow_checker=checker)
    if not expect_finding:
        assert result.findings == ()
        return
    (finding,) = result.findings
    assert finding.flags == ("unexpected-destination",) and finding.flow.verdict == "traffic-confirmed"
    assert any("45.77.10.0/24 (AS20473" in reason for reason in finding.change.reasons)
    assert [review.finding_id for review in result.reviews if review.change.family == "filter"] == [finding.id]
