"""Fuzz: every flow reader on mutated real flow files, and every YAML input on mutated real files.
0 tracebacks, 0 hangs: a bad record is counted as bad, a bad file is one CfgwatchError naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _fuzz import FUZZ, mutated_bytes, mutated_text, timed
from hypothesis import given
from hypothesis import strategies as st

from cfgwatch.audit import load_policy_inputs
from cfgwatch.classify.networks import load_networks
from cfgwatch.config import load_config
from cfgwatch.errors import CfgwatchError
from cfgwatch.flows.formats import FLOW_FORMATS, ROW_FIELDS, get_reader
from cfgwatch.flows.formats.base import ReadStats
from cfgwatch.inventory.loader import load_inventory
from cfgwatch.project import init_project

ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for p in (ROOT / "fixtures" / "flows").iterdir() if p.suffix != ".tsv" and p.name != "README.md")
TEXT_FLOWS = [p for p in FLOWS if p.name != "nfcapd.replayed"]  # the binary nfcapd file is read by nfdump


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("format_name", FLOW_FORMATS.names())
def test_flow_reader_never_raises_on_mutated_files(format_name: str, tmp_path: Path) -> None:
    reader = get_reader(format_name)

    @FUZZ
    @given(st.sampled_from(TEXT_FLOWS).flatmap(lambda p: mutated_bytes(p.read_bytes())))
    def check(data: bytes) -> None:
        path = tmp_path / "flows.input"
        path.write_bytes(data)
        stats = ReadStats(str(path))
        try:
            rows = timed(lambda: list(reader(path, stats, "fw1")), f"read {format_name}")
        except CfgwatchError as exc:  # a whole-file problem: one clear error naming the file
            assert str(path) in str(exc) or exc.path == path, exc
            return
        assert all(len(row) == len(ROW_FIELDS) for row in rows)  # every row is whole; the rest was counted bad

    check()


# Every YAML file cfgwatch reads, with the loader that reads it.
YAML_FILES = (
    "cfgwatch.yaml",
    "hosts.yaml",
    "groups.yaml",
    "defaults.yaml",
    "approved.yaml",
    "tickets.yaml",
    "networks.yaml",
)


def _load_all(project: Path) -> None:
    config = load_config(project / "cfgwatch.yaml")
    load_inventory(config.inventory_path)
    load_networks(config.inventory_path / "networks.yaml")
    load_policy_inputs(config)


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("name", YAML_FILES)
def test_yaml_inputs_never_raise_on_mutated_files(name: str, tmp_path: Path) -> None:
    init_project(tmp_path / "proj")
    project = tmp_path / "proj"
    for source in (ROOT / "inventory").glob("*.yaml"):
        shutil.copy(source, project / "inventory" / source.name)
    _load_all(project)  # the unmutated project loads
    target = project / name if name == "cfgwatch.yaml" else project / "inventory" / name
    original = target.read_text(encoding="utf-8")

    @FUZZ
    @given(mutated_text(original))
    def check(text: str) -> None:
        target.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            timed(lambda: _load_all(project), f"load {name}")
        except CfgwatchError as exc:
            assert str(exc).strip()

    check()
