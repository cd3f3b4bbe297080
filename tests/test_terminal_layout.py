"""Plain output on narrow terminals, pipes and NO_COLOR: ids, addresses and names are never folded or cut.

Every command that prints tables runs on a real pseudo-terminal at 80 columns (COLUMNS=80, the window
size set with TIOCSWINSZ) against the demo project, and every id, address, commit and run id that the
200-column run shows must appear whole on one line of the 80-column run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _tty import colours, plain, run_on_tty

from cfgwatch.cli.store import named
from cfgwatch.terminal import TABLE_MIN_COLUMNS, Listing, fold

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
# what must never be broken: finding ids, IPv4 addresses and prefixes, commits, run ids, device names
TOKEN = re.compile(
    r"CW-[0-9a-f]{12}|\b\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?\b|\b[0-9a-f]{12}\b|\b\d{8}T\d{6}Z-[0-9a-f]{6}\b"
    r"|\b(?:core|edge|branch|dc|fw|rtr)[a-z0-9-]*-\d\d\b"
)


def test_named_devices() -> None:
    assert named(("edge1", "core2")) == "core2, edge1"
    assert named(("edge1", "core2", "a", "b", "c")) == "a, b +3 more"
    assert named(()) == "" and named(("x", "x")) == "x"


def test_fold_breaks_at_spaces_only() -> None:
    line = "    affected: internal 10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16; public 45.77.10.5; egress-forward"
    folded = fold(line, 40).split("\n")
    assert folded == [
        "    affected: internal 10.0.0.0/8,",
        "        100.64.0.0/10, 169.254.0.0/16;",
        "        public 45.77.10.5;",
        "        egress-forward",
    ]
    assert fold("short\n" + "x" * 90, 80) == "short\n" + "x" * 90  # one word longer than the line stays whole


def test_listing_list_layout_and_fit() -> None:
    listing = Listing(
        "t", ("id", "address", "note"), (("CW-0123456789ab", "203.0.113.0/24", ""), ("CW-2", "10.0.0.1", "n"))
    )
    assert listing.lines() == [
        "t",
        "* CW-0123456789ab",
        "    address: 203.0.113.0/24",
        "* CW-2",
        "    address: 10.0.0.1",
        "    note: n",
    ]
    assert listing.fits(100) and not listing.fits(30)
    hostile = Listing("", ("id",), (("a\x1b[31mb",),))
    assert hostile.lines() == ["* a\\x1b[31mb"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project (real lab pull, git store, DuckDB flows), built once by the CLI."""
    directory = tmp_path_factory.mktemp("layout") / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "demo", "--dir", str(directory)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return directory


COMMANDS = [
    ["audit"],
    ["audit", "--no-flows"],
    ["diff"],
    ["log"],
    ["log", "--all"],
    ["log", "--device", "core-rtr-01"],
    ["vendors"],
    ["parse", str(FIXTURES / "cisco_asa" / "asa-nat-mixed.cfg")],
    ["parse", str(FIXTURES / "arista_eos" / "ip-nat-source-static.cfg")],
    ["flows", "hunt", "--since", "8d"],
    ["audit-secrets"],
    ["approvals", "list"],
]


@pytest.mark.slow
@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args)[:40])
def test_80_columns_never_break_an_id_or_address(demo: Path, args: list[str]) -> None:
    wide_code, wide = run_on_tty(args, columns=200, cwd=demo)
    narrow_code, narrow = run_on_tty(args, columns=80, cwd=demo)
    _assert_nothing_broken(wide_code, wide, narrow_code, narrow)


@pytest.mark.slow
def test_nightly_at_80_columns_never_breaks_an_id(demo: Path, tmp_path: Path) -> None:
    """The nightly remembers what it audited, so each width runs on its own copy of the demo project."""
    outputs = []
    for columns in (200, 80):
        project = tmp_path / f"demo-{columns}"
        shutil.copytree(demo, project, symlinks=True)
        outputs.append(run_on_tty(["nightly", "--no-pull", "--no-notify"], columns=columns, cwd=project))
    (wide_code, wide), (narrow_code, narrow) = outputs
    assert TOKEN.search(plain(wide)), wide  # the check can fail: the nightly lists findings with their ids
    _assert_nothing_broken(wide_code, wide, narrow_code, narrow)


def _assert_nothing_broken(wide_code: int, wide: str, narrow_code: int, narrow: str) -> None:
    assert wide_code == narrow_code and wide_code in (0, 1), wide
    wide_tokens = set(TOKEN.findall(plain(wide)))
    narrow_text = plain(narrow)
    missing = sorted(token for token in wide_tokens if token not in narrow_text)
    assert not missing, (missing, narrow_text[-3000:])
    assert "\\x1b" not in narrow_text  # nothing escaped twice
    # no line the terminal itself would have to wrap (it would cut at column 80, inside a word), unless it is
    # one word that no line could hold
    for line in narrow_text.splitlines():
        assert len(line) <= 80 or " " not in line.strip(), line
    # below TABLE_MIN_COLUMNS there are no tables at all (box drawing) on stdout
    assert TABLE_MIN_COLUMNS > 80 and not re.search("[┏┃━│┡]", narrow_text), narrow_text[:2000]


@pytest.mark.slow
def test_wide_terminal_gets_tables_and_names_the_devices_a_run_changed(demo: Path) -> None:
    code, shown = run_on_tty(["log"], columns=200, cwd=demo)
    assert code == 0 and "┃" in shown  # a table on a wide terminal
    assert "core-rtr-01, edge-fw-01" in plain(shown)  # the second pull changed both
    # the first pull added every lab device: two named, the rest counted
    first = re.search(r"│\s+(\d+) │\s+0 │ (branch-\S+), (branch-\S+) \+(\d+) more", plain(shown))
    assert first is not None and int(first.group(1)) == int(first.group(4)) + 2 and first.group(2) < first.group(3)
    code, shown = run_on_tty(["audit"], columns=200, cwd=demo)
    assert code == 1 and "┃" in shown and re.search(r"CW-[0-9a-f]{12} │ core-rtr-01", plain(shown))


@pytest.mark.slow
def test_no_color_is_respected(demo: Path) -> None:
    """https://no-color.org: NO_COLOR set and not empty means no colour, whatever the terminal."""
    _, coloured = run_on_tty(["audit"], columns=160, cwd=demo)
    assert colours(coloured)  # the check can fail: severities are coloured on a terminal
    _, monochrome = run_on_tty(["audit"], columns=160, cwd=demo, env={"NO_COLOR": "1"})
    assert colours(monochrome) == [] and "CRITICAL" in monochrome
    _, vendors = run_on_tty(["vendors"], columns=160, cwd=demo, env={"NO_COLOR": "1"})
    assert colours(vendors) == [] and "cisco_ios" in vendors
    _, empty = run_on_tty(["audit"], columns=160, cwd=demo, env={"NO_COLOR": ""})
    assert colours(empty)  # an empty NO_COLOR does not count
    _, helped = run_on_tty(["--help"], columns=100, cwd=demo)
    _, plain_help = run_on_tty(["--help"], columns=100, cwd=demo, env={"NO_COLOR": "1"})
    assert colours(helped) and colours(plain_help) == [] and "audit" in plain_help


def test_pipes_get_the_list_layout(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cfgwatch", "vendors"], capture_output=True, text=True, check=True,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout.startswith("cfgwatch parsers\n* ") and "│" not in done.stdout
    assert "\n    forms: " in done.stdout
