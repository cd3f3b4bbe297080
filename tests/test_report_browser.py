"""The HTML report in a real browser: Debian's headless chromium loads the file, runs its script, draws the chart.

Skipped (with a loud reason) only when no chromium binary exists; CI installs it (.ci/run).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from _report_fixtures import audit_all, build_project

from cfgwatch.audit import AuditResult
from cfgwatch.report.html import audit_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
_CONSOLE = re.compile(r':CONSOLE(?:\(\d+\))?(?::\d+)?\]\s+"(?P<message>.*)", source: (?P<source>\S*)')

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="LOUD SKIP: chromium is not installed; the HTML report was NOT checked in a browser"
)


@dataclass(frozen=True, slots=True)
class Page:
    dom: str
    console: list[str]  # every console message the page logged (errors, CSP violations, logs)


def load(url: str, profile: Path) -> Page:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [match.group("message") for match in _CONSOLE.finditer(done.stderr)]
    return Page(done.stdout, console)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    base = tmp_path_factory.mktemp("browser")
    (base / "project").mkdir()
    result = audit_all(build_project(base / "project"))
    path = base / "report.html"
    path.write_text(audit_html(result), encoding="utf-8")
    return result, path


def test_report_loads_with_findings_chart_and_no_script_errors(
    report: tuple[AuditResult, Path], tmp_path: Path
) -> None:
    result, path = report
    page = load(path.as_uri(), tmp_path / "profile")
    assert page.console == []  # no script error, no CSP violation, nothing logged
    assert 'data-ready="1"' in page.dom  # the inline script ran to its end
    for finding in result.findings:
        section = re.search(rf'<section class="finding" id="{finding.id}"[^>]*>', page.dom)
        assert section is not None and "hidden" not in section.group(0)
    assert page.dom.count('data-chart="flow"') == 2
    assert re.search(r'<polyline class="series-outbound"[^>]*points="[\d., ]+"', page.dom)
    assert re.search(r'<polyline class="series-return"[^>]*points="[\d., ]+"', page.dom)
    assert 'id="shown-count">3<' in page.dom
    # the hostile remark arrived as text, not as an element
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in page.dom


def test_filters_run_in_the_browser(report: tuple[AuditResult, Path], tmp_path: Path) -> None:
    result, path = report
    page = load(path.as_uri() + "#severity=high&device=fw1", tmp_path / "profile")
    assert page.console == []
    shown = {finding.id: finding for finding in result.findings if finding.severity == "high"}
    assert len(shown) == 1
    for finding in result.findings:
        section = re.search(rf'<section class="finding" id="{finding.id}"[^>]*>', page.dom)
        assert section is not None
        assert ("hidden" in section.group(0)) == (finding.id not in shown), section.group(0)
    assert 'id="shown-count">1<' in page.dom


def test_script_errors_are_caught(report: tuple[AuditResult, Path], tmp_path: Path) -> None:
    """The check above can fail: a broken script and an external fetch both show up as console errors."""
    _, path = report
    broken = path.read_text(encoding="utf-8").replace(
        "</body>", '<script>undefinedReportFunction();</script><img src="https://example.invalid/x.png"></body>'
    )
    target = tmp_path / "broken.html"
    target.write_text(broken, encoding="utf-8")
    page = load(target.as_uri(), tmp_path / "profile")
    assert any("undefinedReportFunction" in message for message in page.console), page.console
    assert any("Content Security Policy" in message for message in page.console), page.console
