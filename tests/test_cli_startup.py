"""Start-up of the CLI (issue 19 goal 2): `--help`, `--version` and completion load no command module, the lazy
command table matches what the area modules register, and the short aliases and completion work."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import cfgwatch.cli
from cfgwatch.cli.lazy import COMMANDS, area_commands

HEAVY = ("numpy", "duckdb", "netmiko", "napalm", "nornir", "pydantic", "paramiko", "git", "pyarrow")

PROBE = """
import json, sys
from cfgwatch.entry import main
sys.argv = ["cfgwatch", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})), file=sys.stderr)
"""


def _loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], ["-V"]])
def test_help_and_version_import_no_heavy_module(args: list[str]) -> None:
    loaded = _loaded_by(*args)
    assert not loaded.intersection(HEAVY), sorted(loaded.intersection(HEAVY))


def test_version_and_completion_load_no_rich() -> None:
    """rich.console costs about what typer does: only help screens, errors and commands that print load it."""
    assert "rich" not in _loaded_by("-V")
    completion = {"_CFGWATCH_COMPLETE": "complete_bash", "COMP_WORDS": "cfgwatch au", "COMP_CWORD": "1"}
    assert "rich" not in _loaded_by(env=completion)
    assert "rich" in _loaded_by("-h")


def test_a_command_still_loads_what_it_needs() -> None:
    assert "pydantic" in _loaded_by("log", "--help")


def _areas() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(cfgwatch.cli.__path__)
        if hasattr(__import__(f"cfgwatch.cli.{info.name}", fromlist=["register"]), "register")
    )


def test_lazy_table_matches_the_registered_commands() -> None:
    """Every command an area registers is in COMMANDS with its area and its help's first paragraph."""
    wanted: dict[str, tuple[str, str]] = {}
    for area in _areas():
        for name, command in area_commands(area).items():
            first = " ".join((command.help or "").split("\n\n")[0].split())
            wanted[name] = (area, first)
    missing = {name: entry for name, entry in wanted.items() if COMMANDS.get(name) != entry}
    assert not missing, "put these in cfgwatch/cli/lazy.py COMMANDS: " + repr(missing)
    assert set(COMMANDS) == set(wanted), set(COMMANDS) ^ set(wanted)


def test_short_aliases_and_shell_completion() -> None:
    run = [sys.executable, "-m", "cfgwatch"]
    version = subprocess.run([*run, "-V"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("cfgwatch ")
    helped = subprocess.run([*run, "log", "-h"], capture_output=True, text=True, check=True).stdout
    assert "--device" in helped
    # completion is keyed to the program name: the console script, as a shell runs it
    script = [str(Path(sys.executable).parent / "cfgwatch")]
    env = {**os.environ, "_CFGWATCH_COMPLETE": "complete_bash", "COMP_WORDS": "cfgwatch au", "COMP_CWORD": "1"}
    completed = subprocess.run(script, capture_output=True, text=True, env=env, check=True).stdout.split()
    assert completed == ["audit", "audit-secrets"]
    env |= {"COMP_WORDS": "cfgwatch flows h", "COMP_CWORD": "2"}
    assert subprocess.run(script, capture_output=True, text=True, env=env, check=True).stdout.split() == ["hunt"]


def test_unknown_command_suggests_the_closest() -> None:
    done = subprocess.run([sys.executable, "-m", "cfgwatch", "audti"], capture_output=True, text=True)
    assert done.returncode == 2 and "audit" in done.stderr
