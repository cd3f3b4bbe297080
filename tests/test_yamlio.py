"""The one YAML loader: syntax errors and duplicate keys name file:line in every kind of input file.

A duplicate key is the error plain YAML loaders let through (the last value silently wins), so each
input file the CLI reads is checked end to end: exit code 2, one line on stderr, file, line and key.
"""

from __future__ import annotations

import doctest
from collections.abc import Callable
from pathlib import Path

import pytest

import cfgwatch.yamlio
from cfgwatch.classify.networks import load_networks
from cfgwatch.config import load_config
from cfgwatch.errors import ConfigError, InputError
from cfgwatch.flows.enrich import provider_asns
from cfgwatch.inventory import load_inventory
from cfgwatch.lab.state import load_fixture_devices
from cfgwatch.policy.approved import load_approved
from cfgwatch.policy.tickets import load_tickets
from cfgwatch.yamlio import load_yaml, parse_yaml, parse_yaml_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
Cli = Callable[..., tuple[int, str, str]]


# --- the loader ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "expect"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first at line 1)"),
        ("top:\n  x: 1\n  y: 2\n  x: 3\n", 4, "duplicate key 'x' (first at line 2)"),
        ("- {k: 1}\n- {k: 1, k: 2}\n", 2, "duplicate key 'k' (first at line 2, column 4)"),
        ("a: 1\n'a': 2\n", 2, "duplicate key 'a' (first at line 1)"),
        ("a: [1,\n", 2, "(while parsing a flow node, line 2)"),
        ("a: 1\n  b: 2\n", 2, "mapping values are not allowed here at column 4"),
    ],
)
def test_errors_name_line_and_key(text: str, line: int, expect: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, "in.yaml")
    assert info.value.path == "in.yaml" and info.value.line == line
    assert str(info.value).startswith(f"in.yaml:{line}: malformed YAML: ")
    assert expect in str(info.value) and "\n" not in str(info.value)


def test_what_is_not_a_duplicate() -> None:
    assert parse_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n", "in.yaml") == {
        "base": {"x": 1, "y": 2},
        "d": {"x": 3, "y": 2},  # an explicit key overrides a merged one: that is what merge keys are for
    }
    assert parse_yaml("1: a\n'1': b\nx: {a: 1}\ny: {a: 1}\n", "in.yaml") == {
        1: "a",
        "1": "b",
        "x": {"a": 1},
        "y": {"a": 1},
    }
    assert parse_yaml("", "in.yaml") is None
    with pytest.raises(ConfigError, match="could not determine a constructor"):
        parse_yaml("x: !!python/object/apply:os.system [true]\n", "in.yaml")  # still a safe loader


def test_key_lines_for_errors_found_after_parsing() -> None:
    doc = parse_yaml_document(
        "base: &b {port: 22}\nhosts:\n  r1:\n    <<: *b\n    groups:\n      - dc\n      - lab\nloop: &l [*l]\n",
        "f.yaml",
    )
    assert doc.line_of(["hosts", "r1"]) == 3
    assert doc.line_of(["hosts", "r1", "groups", 1]) == 7  # list items by index, as pydantic locates them
    assert doc.line_of(["hosts", "r1", "port"]) == 1  # a merged key: where its value is written
    assert doc.line_of(["hosts", "r1", "nope", "deeper"]) == 3  # the deepest part the file has
    assert doc.line_of(["elsewhere"]) is None and doc.line_of(["loop", 0]) == 8
    error = doc.error_at("bad", ["hosts", "r1", "groups", 0])
    assert str(error) == "f.yaml:6: key 'hosts.r1.groups.0': bad"


def test_validation_errors_name_file_line_and_key(tmp_path: Path) -> None:
    """Errors pydantic finds after parsing keep the file and key path, and gain the line."""
    (tmp_path / "cfgwatch.yaml").write_text("snapshots: s\npolicy:\n  fail_on: severe\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "cfgwatch.yaml")
    assert info.value.line == 3 and info.value.key == "policy.fail_on"

    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yaml").write_text("r1: {}\nr2:\n  data:\n    collector: telnet\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_inventory(inventory)
    assert (info.value.path, info.value.line, info.value.key) == (str(inventory / "hosts.yaml"), 4, "r2.data.collector")

    (inventory / "approved.yaml").write_text(
        "approvals:\n  - match: {devices: [r1]}\n    ticket: CHG1\n    owner: me\n    colour: red\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_approved(inventory / "approved.yaml")
    assert info.value.line == 5 and info.value.key == "approvals.0.colour"

    (inventory / "networks.yaml").write_text("internal:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_networks(inventory / "networks.yaml")
    assert info.value.line == 1 and info.value.key == "internal"  # the list is checked as a whole


def test_docstring_examples_run() -> None:
    assert doctest.testmod(cfgwatch.yamlio).failed == 0


def test_unreadable_file_names_what_it_is(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read lab device list") as info:
        load_yaml(tmp_path / "absent.yaml", what="lab device list", error=InputError)
    assert type(info.value) is InputError and info.value.path == str(tmp_path / "absent.yaml")
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match="cannot read config: not UTF-8 text"):
        load_yaml(tmp_path / "latin1.yaml", what="config")


# --- every input file, end to end ---------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, cli: Cli) -> Path:
    """A project with two runs, so that `cfgwatch audit` has a change to read policy inputs for."""
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    for run in ("run1", "run2"):
        assert cli("import", str(FIXTURES / run), cwd=project)[0] == 0
    return project


CFGWATCH_YAML = "snapshots: snapshots\nnotify:\n  min_severity: high\n"


@pytest.mark.parametrize(
    ("file", "text", "line", "key", "command"),
    [
        ("cfgwatch.yaml", CFGWATCH_YAML + "snapshots: elsewhere\n", 4, "snapshots", ("log",)),
        ("cfgwatch.yaml", CFGWATCH_YAML + "  min_severity: low\n", 4, "min_severity", ("log",)),  # notify:
        ("inventory/hosts.yaml", "r1: {}\nr2: {}\nr1: {port: 23}\n", 3, "r1", ("import", "run2")),
        ("inventory/groups.yaml", "dc:\n  data: {site: a}\n  data: {site: b}\n", 3, "data", ("import", "run2")),
        ("inventory/defaults.yaml", "port: 22\nport: 2222\n", 2, "port", ("import", "run2")),
        ("inventory/networks.yaml", "internal: [10.0.0.0/8]\ninternal: []\n", 2, "internal", ("audit", "--no-flows")),
        ("inventory/approved.yaml", "approvals: []\napprovals: []\n", 2, "approvals", ("audit", "--no-flows")),
        ("inventory/approved.yaml", "approvals: []\napprovals: []\n", 2, "approvals", ("approve", "CW-0123456789ab")),
    ],
)
def test_duplicate_key_in_each_input_file_exits_2(
    project: Path, cli: Cli, file: str, text: str, line: int, key: str, command: tuple[str, ...]
) -> None:
    target = project / file
    target.write_text(text, encoding="utf-8")
    args = [str(FIXTURES / "run2") if arg == "run2" else arg for arg in command]
    if command[0] == "approve":
        args += ["--ticket", "CHG1"]
    code, _, err = cli(*args, cwd=project)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert f"{target}:{line}: malformed YAML: duplicate key '{key}'" in err
    assert target.read_text(encoding="utf-8") == text  # `approve` did not write


@pytest.mark.parametrize("file", ["cfgwatch.yaml", "inventory/hosts.yaml", "inventory/networks.yaml"])
def test_syntax_error_in_input_file_names_file_and_line(project: Path, cli: Cli, file: str) -> None:
    target = project / file
    target.write_text("a: 1\nb: [unclosed\n", encoding="utf-8")
    code, _, err = cli("audit", "--no-flows", cwd=project)
    assert code == 2 and f"{target}:3: malformed YAML: " in err and "flow sequence" in err


def test_duplicate_key_in_tickets_is_a_problem_with_line(tmp_path: Path) -> None:
    """Ticket exports stay what they were: an unreadable ticket file is an audit problem, not an abort."""
    path = tmp_path / "tickets.yaml"
    path.write_text("tickets:\n  - id: CHG1\n    devices: [r1]\n    devices: [r2]\n", encoding="utf-8")
    tickets, problems = load_tickets(path)
    assert tickets == []
    assert [str(p) for p in problems] == [
        f"{path}:4: unreadable: malformed YAML: duplicate key 'devices' (first at line 3)"
    ]


def test_lab_device_list_and_shipped_asn_table(tmp_path: Path) -> None:
    (tmp_path / "devices.yaml").write_text("r1: cisco_ios\nr1: cisco_asa\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate key 'r1'") as info:
        load_fixture_devices(tmp_path)
    assert info.value.line == 2 and info.value.path == str(tmp_path / "devices.yaml")
    assert len(provider_asns()) > 10  # the shipped table itself passes the duplicate check
