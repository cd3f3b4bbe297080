"""`cfgwatch audit --format ...`: every format renders the real findings of a real snapshot repo."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _report_fixtures import HOSTILE_REMARK, RUN2, audit_all, build_project
from rich.console import Console
from typer.testing import CliRunner

from cfgwatch.audit import AuditResult
from cfgwatch.cli import app
from cfgwatch.flows.figures import FlowFlags, SeriesPoint
from cfgwatch.model.changes import SourceLines
from cfgwatch.report.console import audit_renderable
from cfgwatch.report.html import CSP, audit_html, flow_chart_svg, series_points
from cfgwatch.report.siem import audit_jsonl
from cfgwatch.report.tabular import audit_csv, audit_markdown
from cfgwatch.report.view import CSV_COLUMNS, FindingView, finding_views

HOSTILE_LINE = 'set description "<img src=x onerror=alert(1)>" & </pre><script>bad()</script>'


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    return audit_all(build_project(tmp_path_factory.mktemp("project")))


def test_fixture_has_the_expected_findings(result: AuditResult) -> None:
    by_device = {finding.device: finding for finding in result.findings}
    assert len(result.findings) == 3 and set(by_device) == {"edge1", "fw1"}
    assert result.findings[0].severity == "critical" and result.findings[0].flow.verdict == "traffic-confirmed"
    assert by_device["fw1"].ticket.matched == "CHG0042" and by_device["fw1"].flow.verdict == "no-traffic"


def test_csv_parses_back_one_row_per_finding(result: AuditResult) -> None:
    text = audit_csv(result)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [row["id"] for row in rows] == [finding.id for finding in result.findings]
    for row, finding in zip(rows, result.findings, strict=True):
        assert row["severity"] == finding.severity and row["device"] == finding.device
        assert row["flags"].split() == list(finding.flags)
        assert row["flow_verdict"] == finding.flow.verdict
        after = finding.change.lines_after
        assert after is not None and after.lines[0] in row["lines_after"]
    edge = next(row for row in rows if row["comment"])
    # the remark starts with '<', not a formula character: kept verbatim
    assert edge["comment"] == HOSTILE_REMARK.split("remark ", 1)[1].strip()
    assert next(row for row in rows if row["device"] == "fw1")["ticket"] == "CHG0042"


def test_one_view_per_finding_carries_what_the_formats_show(result: AuditResult) -> None:
    for finding, view in zip(result.findings, finding_views(result.findings), strict=True):
        assert tuple(view.row()) == CSV_COLUMNS
        assert view.to_json() == finding.to_json()  # the JSON contract stays the finding's own
        assert view.enables == finding.categories + finding.tags and view.flow is finding.flow
    edge = FindingView.of(result.findings[0])
    assert edge.series and edge.top_destinations[0].asn == 20473
    assert "series" in edge.figures_json and "series" not in edge.inline_figures_json


def test_csv_neutralises_formulas(result: AuditResult) -> None:
    finding = result.findings[0]
    evil = replace(finding, change=replace(finding.change, lines_after=SourceLines(1, 1, ("x",))))
    evil = replace(evil, attribution=replace(evil.attribution, user='=HYPERLINK("http://x")'))
    rows = list(csv.DictReader(io.StringIO(audit_csv(replace(result, findings=(evil,))))))
    assert rows[0]["user"] == '\'=HYPERLINK("http://x")'


def test_jsonl_is_one_ecs_event_per_finding(result: AuditResult) -> None:
    lines = audit_jsonl(result).splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == len(result.findings)
    first = events[0]
    assert first["event"]["kind"] == "alert" and "configuration" in first["event"]["category"]
    assert first["event"]["id"] == result.findings[0].id and first["event"]["severity"] == 4
    assert first["observer"]["name"] == "edge1"
    assert first["threat"]["framework"] == "MITRE ATT&CK"
    assert first["threat"]["technique"]["id"] == ["T1090.002"] and first["rule"]["id"] == "AN0926"
    assert first["user"]["name"] == "mallory"
    assert first["@timestamp"] == RUN2.isoformat()
    acl = next(e for e in events if e["event"]["action"] == "filter-added" and e["observer"]["name"] == "edge1")
    assert acl["destination"] == {"ip": "45.77.1.2", "port": 3128}
    assert "source" not in acl  # 10.0.0.0/24 is a range: kept in cfgwatch.affected, not in the ip field
    assert acl["cfgwatch"]["affected"]["internal"] == ["10.0.0.0/24"]
    assert acl["labels"]["flags"].split(",") == ["unapproved", "unticketed", "outside-window", "unexpected-admin"]
    fw1 = next(e for e in events if e["observer"]["name"] == "fw1")
    assert fw1["destination"] == {"ip": "198.51.100.20", "port": 22} and fw1["labels"]["ticket"] == "CHG0042"
    assert audit_jsonl(replace(result, findings=())) == ""


def test_markdown_has_table_sections_and_safe_fences(result: AuditResult) -> None:
    text = audit_markdown(result)
    assert text.startswith("### cfgwatch audit")
    for finding in result.findings:
        assert f"| {finding.id} | {finding.severity} |" in text
        assert f"#### {finding.severity.upper()} {finding.id}" in text
    assert "```diff\n+ 15:  15 permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128\n```" in text
    # the remark's pipes, backticks and tags cannot break the table or inject HTML
    assert "<script>" not in text and "\\<script\\>" in text and "\\|\\`pipe\\`\\|" in text
    # a config line with backticks gets a longer fence
    finding = result.findings[0]
    ticked = replace(finding, change=replace(finding.change, lines_after=SourceLines(3, 3, ("echo ```x```",))))
    assert "````diff\n+ 3: echo ```x```\n````" in audit_markdown(replace(result, findings=(ticked,)))


def test_html_is_self_contained_escaped_and_has_findings_and_chart(result: AuditResult) -> None:
    finding = result.findings[0]
    hostile = replace(finding, change=replace(finding.change, lines_after=SourceLines(7, 7, (HOSTILE_LINE,))))
    page = audit_html(replace(result, findings=(hostile, *result.findings[1:])))
    for item in result.findings:
        assert f'id="{item.id}"' in page
    # escaped everywhere: the hostile config line and the remark
    assert "<img src=x" not in page and "<script>bad()" not in page and '<script>alert("x")' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # only the report's own filter script
    # nothing fetched from anywhere: no src/href to other hosts, and a CSP that forbids it
    assert not re.search(r"""<[a-z]+[^>]*\ssrc=|<link|@import|url\(""", page)
    assert f'http-equiv="Content-Security-Policy" content="{html.escape(CSP)}"' in page and "default-src 'none'" in CSP
    external = re.findall(r"""href=["']([^"'#][^"']*)""", page)
    assert external == ["https://attack.mitre.org/techniques/T1090/002/"]  # a plain link, not a resource
    # one chart, for the finding with a series; fw1 (no series) gets none
    assert page.count('data-chart="flow"') == 2  # both edge1 findings carry the series
    fw1 = page[page.index('<section class="finding" id="' + result.findings[2].id) :]
    assert "<svg" not in fw1
    for select in ("filter-severity", "filter-device", "filter-category"):
        assert f'id="{select}"' in page


def test_chart_draws_the_series_in_time_order() -> None:
    late = SeriesPoint(datetime(2026, 11, 25, 4, tzinfo=UTC), outbound_packets=50, return_packets=1)
    early = SeriesPoint(datetime(2026, 11, 25, 2, 40, tzinfo=UTC), outbound_packets=5, return_packets=4)
    points = series_points((late, early))
    assert points == [early, late]
    svg = flow_chart_svg(points, early.t)
    assert svg.startswith("<svg") and 'class="series-outbound"' in svg and 'class="change-marker"' in svg
    assert series_points(()) == []
    assert flow_chart_svg(points[:1], None) == ""  # one point is no chart


def test_rich_text_shows_table_and_each_finding(result: AuditResult) -> None:
    console = Console(record=True, width=160, force_terminal=False)
    console.print(audit_renderable(result))
    text = console.export_text()
    for finding in result.findings:
        assert finding.id in text
    assert "+    15 |  15 permit tcp 10.0.0.0 0.0.0.255 host 45.77.1.2 eq 3128" in text
    assert "who: mallory at 2026-11-25T03:00:00+00:00" in text
    assert "ticket: CHG0042 (rule-comment, approved)" in text
    assert "flow: traffic-confirmed" in text and "returns: 236 packets (3.3 % of outbound)" in text
    assert "outbound: 7,140 packets, 9.3 MB, 178 flows" in text and "rate change: 75x the baseline rate" in text
    assert "{" not in text and "True" not in text and "None" not in text  # no raw JSON, no Python literals


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv", "markdown", "html"])
def test_cli_formats(tmp_path: Path, fmt: str) -> None:
    config = build_project(tmp_path)
    output = tmp_path / f"report.{fmt}"
    runner = CliRunner()
    arguments = ["--config", str(config.base_dir / "cfgwatch.yaml"), "audit", "--no-flows"]
    invoked = runner.invoke(app, [*arguments, "-f", fmt, "-o", str(output)])
    assert invoked.exit_code == 1, invoked.output  # the last run's finding is high: at the fail_on threshold
    text = output.read_text(encoding="utf-8")
    assert "CW-" in text
    if fmt == "json":
        assert json.loads(text)["summary"]["findings"] == 1
    elif fmt == "jsonl":
        assert [json.loads(line)["observer"]["name"] for line in text.splitlines()] == ["fw1"]
    elif fmt == "csv":
        assert len(list(csv.DictReader(io.StringIO(text)))) == 1
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>") and 'data-device="fw1"' in text


def test_empty_audit_renders_in_every_format(result: AuditResult) -> None:
    empty = replace(result, findings=())
    page = audit_html(empty)
    assert "No findings." in page and "<script>" not in page and "<select" not in page
    assert audit_csv(empty).splitlines() == [",".join(CSV_COLUMNS)]
    assert "0 finding(s)" in audit_markdown(empty) and "| id |" not in audit_markdown(empty)


CONTROL_LINE = "remark ok\x9b2J\x1b]0;owned\x07 \u2028 permit ip any any\x85\u202eevil\x00"


def test_terminal_outputs_show_control_characters_json_keeps_them(result: AuditResult) -> None:
    from cfgwatch.report.findings import audit_json, audit_text

    finding = result.findings[0]
    change = replace(finding.change, lines_after=SourceLines(7, 7, (CONTROL_LINE,)))
    hostile = replace(result, findings=(replace(finding, change=change), *result.findings[1:]), problems=("p\x1b[8m",))
    raw = ("\x9b", "\x1b", "\x07", "\u2028", "\x85", "\u202e", "\x00")
    text = audit_text(hostile)
    assert not any(char in text for char in raw) and "ok\\x9b2J\\x1b]0;owned\\x07 \\u2028" in text
    assert "p\\x1b[8m" in text
    screen = Console(file=io.StringIO(), width=400, color_system=None, force_terminal=False)
    screen.print(audit_renderable(hostile))
    shown = screen.file.getvalue()  # type: ignore[attr-defined]
    assert not any(char in shown for char in raw) and "\\x9b2J" in shown and "p\\x1b[8m" in shown

    # JSON is data: the exact text survives
    def strings(value: object) -> list[str]:
        if isinstance(value, dict):
            return [s for item in value.values() for s in strings(item)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return [value] if isinstance(value, str) else []

    assert CONTROL_LINE in strings(json.loads(audit_json(hostile)))


def test_cli_error_line_shows_control_characters(tmp_path: Path) -> None:
    import subprocess
    import sys

    hostile = tmp_path / "cfg\x9b2J\x1b[31m.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "--config", str(hostile), "audit"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "error:" in done.stderr, done.stderr
    assert "\x1b" not in done.stderr and "\x9b" not in done.stderr and "cfg\\x9b2J\\x1b[31m.yaml" in done.stderr


def test_readable_figures_say_undefined_values_in_words() -> None:
    from cfgwatch.report import readable

    assert readable.count(1234567) == "1,234,567" and readable.size(999) == "999 B"
    assert readable.size(7_722_000) == "7.7 MB" and readable.size(1_500_000_000) == "1.5 GB"
    assert readable.percent(0.0331) == "3.3 %" and readable.percent(0.004) == "0.40 %"
    assert readable.percent(0.05) == "5 %" and readable.percent(None) == "n/a"
    assert (
        readable.spike(None) == "new traffic (none in the baseline)"
        and readable.spike(1234.5) == "1,234.5x the baseline rate"
    )
    assert readable.duration(timedelta(hours=24)) == "24 h" and readable.duration(timedelta(days=7)) == "7 d"
    assert readable.duration(timedelta(minutes=90)) == "90 min"
    assert readable.flags(FlowFlags()) == "none"
    assert readable.figure_lines(None) == []
    assert readable.figure_lines(FlowFlags(spike=True)) == [
        "measured: nothing (the change affects no internal address); flags: spike"
    ]


def test_step_chart_rises_at_the_bucket_edge_not_before() -> None:
    change = datetime(2026, 11, 25, 3, 17, tzinfo=UTC)
    points = [SeriesPoint(change + timedelta(minutes=30 * k), 5 if k < 0 else 500, 1) for k in range(-4, 4)]
    svg = flow_chart_svg(points, change)
    marker = float(re.search(r'class="change-marker" x1="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    line = re.search(r'class="series-outbound"[^>]*points="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    vertices = [tuple(map(float, pair.split(","))) for pair in line.split()]
    rise = next(x for (x, y), (_, prev) in zip(vertices[1:], vertices, strict=False) if y < prev)
    assert abs(rise - marker) < 0.1
    assert 'data-unit="packets per 30 min"' in svg and ">change<" in svg and ">+1 h<" in svg


def test_a_bucket_straddling_the_change_is_marked() -> None:
    """Buckets not aligned to the change (a series from elsewhere): the one holding the change is shaded and
    says so; aligned buckets never are."""
    change = datetime(2026, 11, 25, 3, 17, tzinfo=UTC)
    hours = [SeriesPoint(datetime(2026, 11, 25, h, tzinfo=UTC), 5 if h < 3 else 500, 1) for h in range(6)]
    svg = flow_chart_svg(hours, change)
    assert svg.count("straddles-change") == 1 and "both before and after the change" in svg
    assert re.search(r'class="bucket straddles-change"[^>]*data-t="2026-11-25T03:00:00\+00:00"', svg)
    aligned = [SeriesPoint(change + timedelta(hours=k), 5, 1) for k in range(-2, 3)]
    assert "straddles-change" not in flow_chart_svg(aligned, change)
