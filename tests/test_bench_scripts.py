"""Every benchmark script answers `--help` without running anything (issue 19 goal 1): how to reproduce a figure
starts with reading what the script measures and which options it takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(BENCH.glob("bench_*.py"))


def test_there_are_benchmarks() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_help_describes_the_benchmark(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: ") and len(done.stdout.splitlines()) > 3, done.stdout


def _bench_module(name: str):  # type: ignore[no-untyped-def]
    """Import a bench/ or scripts/ module by path (neither is a package)."""
    import importlib.util

    folder = BENCH.parent / "scripts" if name == "bench_table" else BENCH
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_clear_caches_empties_parser_token_caches() -> None:
    """A repeated parse must not measure cache look-ups: the harness empties every cfgwatch functools cache."""
    from cfgwatch.vendors import _cisco_common

    harness = _bench_module("_harness")
    _cisco_common.v4_value("192.0.2.1")
    assert _cisco_common.v4_value.cache_info().currsize > 0
    assert harness.clear_caches() > 0
    assert _cisco_common.v4_value.cache_info().currsize == 0


def test_interleave_alternates_cases_and_drops_warmup() -> None:
    harness = _bench_module("_harness")
    order: list[str] = []
    samples = harness.interleave({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, 3, warmup=1)
    assert order == ["a", "b"] * 4
    assert [len(samples["a"]), len(samples["b"])] == [3, 3]


def test_goal_records_reach_the_readme_table(tmp_path: Path) -> None:
    """Recorder JSON lines -> bench_table rows: a missed goal is shown as missed, the newest record wins."""
    harness = _bench_module("_harness")
    table = _bench_module("bench_table")
    records = tmp_path / "r.jsonl"
    recorder = harness.Recorder("demo", str(records))
    assert recorder.goal("parse x 50k lines", 0.7, 0.5, "s CPU", baseline="line scan", ratio=3.5) is False
    assert recorder.goal("ingest y", 1.2e6, 1e6, "rows/s", higher_is_better=True) is True
    assert recorder.goal("parse x 50k lines", 0.4, 0.5, "s CPU") is True
    block = table.render(table.read_records(records), "abc1234")
    rows = [line for line in block.splitlines() if line.startswith("| parse") or line.startswith("| ingest")]
    assert len(rows) == 2
    assert "| 0.4 s CPU | <= 0.5 |" in rows[0] and "| yes |" in rows[0]
    assert "1,200,000 rows/s | >= 1,000,000" in rows[1]
    assert block.startswith(table.BEGIN) and block.endswith(table.END)


def test_the_readme_has_a_generated_table() -> None:
    table = _bench_module("bench_table")
    text = (BENCH.parent / "README.md").read_text(encoding="utf-8")
    assert text.count(table.BEGIN) == 1 and text.count(table.END) == 1
