"""Extension points as registries: a third-party package installed with pip is picked up by its entry
points (a new report format, and a report format and flow backend that replace built-ins), and unknown
names in cfgwatch.yaml or on the command line are errors that list what is registered."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from _flow_fixtures import free_port
from _report_fixtures import build_project
from pydantic import ValidationError

from cfgwatch.cli import main
from cfgwatch.config import load_config
from cfgwatch.flows.backends import FLOW_BACKENDS
from cfgwatch.flows.backends.base import TimeWindow
from cfgwatch.flows.formats import FLOW_FORMATS
from cfgwatch.flows.open import open_backend
from cfgwatch.notify import NOTIFIERS, AlertItem, Notice, Notifier, NotifyOutcome, NotifySettings, Sender, notify
from cfgwatch.notify.settings import Target
from cfgwatch.plugins import PluginError
from cfgwatch.report.formats import REPORT_FORMATS, ReportFormat
from cfgwatch.vendors.registry import PLATFORMS

PLUGIN_SOURCE = Path(__file__).resolve().parent / "plugin_pkg"
PLUGIN_DIST = "cfgwatch-site-plugin"
PLUGIN_MODULE = "cfgwatch_site_plugin"
# Every registry the plugin package feeds.
REGISTRIES = (FLOW_BACKENDS, FLOW_FORMATS, REPORT_FORMATS, NOTIFIERS, PLATFORMS)
FLOWS_CSV = Path(__file__).resolve().parent.parent / "fixtures" / "flows" / "nfdump_replayed.csv"
Cli = Callable[..., tuple[int, str, str]]


def _reset() -> None:
    for registry in REGISTRIES:
        registry.reset()


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin package installed by pip into a directory of its own (a copy is built: setuptools
    writes build/ and *.egg-info next to the sources)."""
    source = tmp_path_factory.mktemp("plugin-src") / "pkg"
    shutil.copytree(PLUGIN_SOURCE, source)
    site = tmp_path_factory.mktemp("plugin-site")
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index"]
    done = subprocess.run(
        [*command, "--disable-pip-version-check", "--target", str(site), str(source)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(site.glob("cfgwatch_site_plugin-*.dist-info/entry_points.txt"))
    return site


@pytest.fixture
def installed(plugin_site: Path) -> Iterator[Path]:
    """The plugin's directory on sys.path and the registries read afresh; all undone afterwards."""
    sys.path.insert(0, str(plugin_site))
    _reset()
    try:
        yield plugin_site
    finally:
        sys.path.remove(str(plugin_site))
        sys.modules.pop(PLUGIN_MODULE, None)
        _reset()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The real console entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.delenv("CFGWATCH_CONFIG", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["cfgwatch", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _first_run(config_file: Path) -> str:
    config = load_config(config_file)
    done = subprocess.run(
        ["git", "--git-dir", str(config.snapshots_path), "rev-list", "--max-parents=0", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_project(tmp_path)
    return tmp_path / "cfgwatch.yaml"


def test_a_plugin_report_format_is_used_by_audit(installed: Path, project: Path, cli: Cli) -> None:
    since = _first_run(project)
    code, out, err = cli("-c", str(project), "audit", "--since", since, "--no-flows", "--format", "plugin-demo")
    assert code == 1, err  # the project has findings at or above policy.fail_on
    assert REPORT_FORMATS.origin("plugin-demo") == PLUGIN_DIST
    lines = out.splitlines()
    assert lines[0] == "plugin-demo report"
    code, document, _ = cli("-c", str(project), "audit", "--since", since, "--no-flows", "--format", "json")
    findings = yaml.safe_load(document)["findings"]
    assert findings and lines[1:] == [f"{item['id']}\t{item['severity']}\t{item['device']}" for item in findings]


def test_a_plugin_replaces_a_builtin_report_format_of_the_same_name(project: Path, cli: Cli, plugin_site: Path) -> None:
    since = _first_run(project)
    args = ("-c", str(project), "audit", "--since", since, "--no-flows", "--format", "csv")
    _reset()
    _, builtin, _ = cli(*args)
    assert REPORT_FORMATS.origin("csv") == "cfgwatch"
    sys.path.insert(0, str(plugin_site))
    _reset()
    try:
        _, site, _ = cli(*args)
        assert REPORT_FORMATS.origin("csv") == PLUGIN_DIST
    finally:
        sys.path.remove(str(plugin_site))
        sys.modules.pop(PLUGIN_MODULE, None)
        _reset()
    assert builtin.startswith("id,") and site.startswith("id;")
    assert len(site.splitlines()) == len(builtin.splitlines()) > 1
    assert site.splitlines()[0] == builtin.splitlines()[0].replace(",", ";")


def test_a_plugin_replaces_the_builtin_flow_backend_and_adds_a_flow_format(
    installed: Path, tmp_path: Path, cli: Cli
) -> None:
    config_file = tmp_path / "cfgwatch.yaml"
    config_file.write_text(yaml.safe_dump({"flows": {"store": "flows"}}), encoding="utf-8")
    code, out, err = cli("-c", str(config_file), "flows", "ingest", "--format", "nfdump-csv", str(FLOWS_CSV))
    assert code == 0, err
    assert "117 records, 0 bad" in out
    assert FLOW_BACKENDS.origin("duckdb") == PLUGIN_DIST
    proxy_log = tmp_path / "proxy.log"
    proxy_log.write_text(
        "2026-11-25T04:00:00|10.0.0.5|45.77.1.2|3128|50|40000\n"
        "2026-11-25T04:10:00|10.0.0.5|45.77.1.2|3128|60|48000\n"
        "garbage\n",
        encoding="utf-8",
    )
    code, out, err = cli(
        "-c", str(config_file), "flows", "ingest", "-f", "site-proxy-log", "-e", "proxy1", str(proxy_log)
    )
    assert code == 0, err
    assert "2 records, 1 bad, days 2026-11-25" in out and f"{proxy_log}:3:" in err
    backend = open_backend(load_config(config_file))
    try:
        assert type(backend).__name__ == "DuckDBBackend" and backend.enricher is not None
        query = "SELECT current_setting('threads'), current_setting('memory_limit')"
        settings = backend.con.execute(query).fetchone()
        assert settings[0] == 1 and settings[1].startswith("244")  # 256 MB, shown in MiB
        coverage = backend.coverage(
            ("proxy1",), TimeWindow(datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))
        )
        assert [(row.exporter, row.records) for row in coverage] == [("proxy1", 2)]  # both ingests went here
        assert backend.time_range() is not None
    finally:
        backend.close()


def test_a_plugin_platform_is_parsed_detected_sanitized_and_collected(
    installed: Path, tmp_path: Path, cli: Cli
) -> None:
    from cfgwatch.collect.netmiko import config_command
    from cfgwatch.collect.validate import check_output
    from cfgwatch.sanitize import sanitize
    from cfgwatch.vendors.registry import canonical_platform, get_spec

    text = (
        "site-os 2.1\n# saved 2026-11-25 04:00:00 by alice\nadmin-secret hunter2\nrule 10 permit 10.0.0.0/8 any\nend\n"
    )
    config = tmp_path / "fw1.cfg"
    config.write_text(text, encoding="utf-8")
    code, out, err = cli("parse", str(config), "--platform", "auto", "--format", "json")
    assert code == 0, err
    parsed = yaml.safe_load(out)
    assert parsed["platform"] == "site_os" and len(parsed["filters"]) == 1
    assert PLATFORMS.origin("site_os") == PLUGIN_DIST and canonical_platform("SiteOS") == "site_os"
    clean = sanitize(text, "site_os", b"k" * 32)
    assert "hunter2" not in clean.text and "# saved" not in clean.text
    assert clean.metadata is not None and clean.metadata.user == "alice"
    assert config_command("site_os") == "show config" and get_spec("site_os").lab.reason  # type: ignore[union-attr]
    assert check_output(text.replace("end\n", ""), "site_os").reason == "incomplete"


def test_without_the_plugin_the_builtins_answer(plugin_site: Path) -> None:
    _reset()
    assert PLUGIN_DIST not in {REPORT_FORMATS.origin(name) for name in REPORT_FORMATS.names()}
    assert "plugin-demo" not in REPORT_FORMATS
    assert REPORT_FORMATS.origin("csv") == FLOW_BACKENDS.origin("duckdb") == "cfgwatch"
    assert set(REPORT_FORMATS.names()) == {"text", "json", "jsonl", "csv", "markdown", "html", "sarif"}
    assert set(FLOW_BACKENDS.names()) == {"duckdb", "nfdump", "clickhouse"}
    assert set(NOTIFIERS.names()) == {"webhooks", "email", "syslog"}
    assert "site_os" not in PLATFORMS
    assert "nfdump-csv" in FLOW_FORMATS and "aws-vpc" in FLOW_FORMATS
    assert all(isinstance(fmt, ReportFormat) for _, fmt in REPORT_FORMATS.items())


def test_a_registered_object_of_the_wrong_kind_is_refused() -> None:
    try:
        with pytest.raises(PluginError, match="not a ReportFormat"):
            REPORT_FORMATS.register("broken", "not a format")  # type: ignore[arg-type]
        assert "broken" not in REPORT_FORMATS
    finally:
        _reset()


# -- unknown names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        ({"flows": {"backend": "duckbd"}}, "flows.backend", "unknown flow backend 'duckbd' (known: "),
        ({"notify": {"webhook": [{"url": "http://127.0.0.1:9/"}]}}, "notify.webhook", "unknown notifier 'webhook'"),
        ({"notify": {"teams": []}}, "notify.teams", "unknown notifier 'teams' (known: email, syslog, webhooks)"),
    ],
)
def test_unknown_names_in_cfgwatch_yaml_name_the_key_and_the_registered_ones(
    tmp_path: Path, cli: Cli, section: dict[str, object], key: str, message: str
) -> None:
    config_file = tmp_path / "cfgwatch.yaml"
    config_file.write_text(yaml.safe_dump(section), encoding="utf-8")
    code, out, err = cli("-c", str(config_file), "flows", "hunt")
    assert code == 2 and out == ""
    assert f"key '{key}'" in err and message in err and len(err.strip().splitlines()) == 1
    if key != "notify.teams":
        assert "did you mean" in err  # duckdb, webhooks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("audit", "--format", "jsn"),
            "unknown report format 'jsn' (known: csv, html, json, jsonl, markdown, sarif, text)",
        ),
        (("flows", "ingest", "x.csv", "--format", "nfdump"), "unknown flow format 'nfdump'"),
        (("flows", "hunt", "--backend", "clickhose"), "did you mean 'clickhouse'?"),
    ],
)
def test_unknown_names_on_the_command_line_are_usage_errors(
    tmp_path: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli("-c", str(tmp_path / "none.yaml"), *args)
    assert code == 2 and out == ""
    assert "Invalid value for" in err and message in " ".join(err.split())


def test_diff_refuses_a_format_that_renders_audits_only(project: Path, cli: Cli) -> None:
    code, out, err = cli("-c", str(project), "diff", "--format", "csv")
    assert code == 2 and out == ""
    assert "renders audits only (use one of: json, markdown, text)" in " ".join(err.split())
    code, out, _ = cli("-c", str(project), "diff", "--format", "markdown")
    assert code == 0 and out.strip()


# -- a notifier is a key under notify: -------------------------------------------------------------------


class PagerTarget(Target):
    """A site's pager gateway: one number per target."""

    number: str


def test_a_registered_notifier_gets_its_own_key_under_notify(tmp_path: Path) -> None:
    paged: list[tuple[str, int]] = []

    def page(target: PagerTarget, notice: Notice) -> NotifyOutcome:
        paged.append((target.number, len(notice.items)))
        return NotifyOutcome("pager", target.number, True, sent=len(notice.items))

    def sender(target: PagerTarget, base_dir: Path) -> Sender:
        return Sender("pager", target.number, lambda notice: page(target, notice))

    NOTIFIERS.register("pager", Notifier(PagerTarget, sender, order=5))
    try:
        with pytest.raises(ValidationError) as refused:
            NotifySettings.model_validate({"pager": [{"numbr": "+100"}]})
        assert {error["loc"] for error in refused.value.errors()} == {("pager", 0, "number"), ("pager", 0, "numbr")}
        port = free_port(socket.SOCK_DGRAM)
        settings = NotifySettings.model_validate(
            {
                "syslog": [{"host": "127.0.0.1", "port": port}],
                "pager": [{"number": "+100"}, {"number": "+200", "min_severity": "critical"}],
            }
        )
        assert list(settings.targets) == ["pager", "syslog"]  # order 5 goes before syslog's 30
        assert settings.model_dump()["pager"][1] == {
            "name": None,
            "min_severity": "critical",
            "timeout": 10.0,
            "number": "+200",
        }
        item = AlertItem("CW-aaaaaaaaaaaa", "high", "edge1", ("egress-forward",), (), "[HIGH] CW-aaaaaaaaaaaa edge1")
        outcomes = notify(Notice("t", "s", items=(item,)), settings, tmp_path)
        assert [(o.channel, o.target, o.ok, o.skipped) for o in outcomes] == [
            ("pager", "+100", True, False),
            ("pager", "+200", True, True),  # nothing at or above critical
            ("syslog", f"syslog+udp://127.0.0.1:{port}", True, False),
        ]
        assert paged == [("+100", 1)]
    finally:
        _reset()


# -- nothing loads before it is used ---------------------------------------------------------------------

HEAVY = (
    "duckdb",
    "clickhouse_driver",
    "cfgwatch.flows.backends.duckdb",
    "cfgwatch.flows.backends.nfdump",
    "cfgwatch.flows.backends.clickhouse",
    "cfgwatch.flows.formats.readers",
    "cfgwatch.notify.email",
    "cfgwatch.notify.webhook",
    "cfgwatch.notify.syslog",
    "cfgwatch.report.console",
    "cfgwatch.report.siem",
)
PROBE = """
import sys
sys.argv = ["cfgwatch", *sys.argv[1:]]
from cfgwatch.cli import main
try:
    main()
except SystemExit:
    pass
print(" ".join(name for name in {heavy!r} if name in sys.modules))
"""


@pytest.mark.parametrize("args", [("--help",), ("audit", "--help"), ("flows", "ingest", "--help")])
def test_help_imports_no_plugin_module(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True, check=True
    )
    assert "Usage" in done.stdout
    assert done.stdout.splitlines()[-1] == ""  # none of HEAVY was imported


def test_a_replaced_nfdump_csv_format_is_read_by_its_own_reader_in_duckdb(tmp_path: Path) -> None:
    """DuckDB's direct CSV fast path is only for cfgwatch's own nfdump-csv: a site's format of that name
    is read through its reader (here every line of the file is rejected, so nothing may be stored)."""
    from cfgwatch.flows.backends.duckdb import DuckDBBackend
    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.formats.base import FlowFormat, ReadStats, Row

    calls: list[Path] = []

    def refuse_everything(path: Path, stats: ReadStats, exporter: str | None) -> Iterator[Row]:
        calls.append(Path(path))
        with Path(path).open(encoding="utf-8") as handle:
            for number, _line in enumerate(handle, start=1):
                stats.reject(number, "the site's reader wants another layout")
        yield from ()

    _reset()
    FLOW_FORMATS.register("nfdump-csv", FlowFormat(refuse_everything), replace=True)
    backend = DuckDBBackend(tmp_path / "flows", enricher=Enricher(None, [], None))
    try:
        report = backend.ingest(FLOWS_CSV, "nfdump-csv")
        assert calls == [FLOWS_CSV]
        assert report.records == 0 and report.bad > 100
    finally:
        backend.close()
        _reset()
    assert FLOW_FORMATS.origin("nfdump-csv") == "cfgwatch"
