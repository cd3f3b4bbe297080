"""Memory bounds (issue 20 item 10): a config-size limit with a clear error, nesting depth limits with a
diagnostic, parse output linear in the line length. Figures: bench/bench_memory.py."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from cfgwatch.model.rules import DIAGNOSTIC_TEXT
from cfgwatch.sanitize import engine as E
from cfgwatch.vendors._junos_tree import MAX_DEPTH
from cfgwatch.vendors.registry import parse_config

Cli = Callable[..., tuple[int, str, str]]


def _git_count(project: Path) -> str:
    import subprocess

    return subprocess.run(
        ["git", "--git-dir", str(project / "snapshots"), "rev-list", "--all", "--count"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def test_config_over_the_limit_is_refused_before_reading(tmp_path: Path, cli: Cli) -> None:
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r1.cfg").write_text("hostname r1\n")
    with (folder / "r2.cfg").open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: 2 GB by stat, nothing on disk
    before = _git_count(project)
    tracemalloc.start()
    code, _, err = cli("import", str(folder), cwd=project)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2
    assert err.startswith("error: ") and "r2.cfg" in err and "sanitize.max_config_bytes" in err
    assert "2,147,483,648 bytes" in err
    assert peak < 50 * 1024**2
    assert _git_count(project) == before


def test_config_limit_is_configurable(tmp_path: Path, cli: Cli) -> None:
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    with (project / "cfgwatch.yaml").open("a") as handle:
        handle.write("\nsanitize:\n  max_config_bytes: 2048\n")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "r1.cfg").write_text("hostname r1\n" + "interface Gi0/1\n description x\n" * 100)
    code, _, err = cli("import", str(folder), cwd=project)
    assert code == 2 and "over the limit of 2,048" in err and "r1.cfg" in err
    (folder / "r1.cfg").write_text("hostname r1\n")
    assert cli("import", str(folder), cwd=project)[0] == 0
    (project / "cfgwatch.yaml").write_text((project / "cfgwatch.yaml").read_text() + "  max_config_byte: 1\n")
    code, _, err = cli("import", str(folder), cwd=project)
    assert code == 2 and "max_config_byte" in err


_POLICY = {
    "juniper_junos": (
        "security {{\n policies {{\n  from-zone trust to-zone untrust {{\n   policy P1 {{\n"
        "    match {{ source-address any; destination-address any; application any; }}\n"
        "    then {{ permit; }}\n   }}\n  }}\n }}\n}}\n{deep}"
    ),
    "paloalto_panos": (
        "rulebase {{\n security {{\n  rules {{\n   R1 {{\n    from trust;\n    to untrust;\n    source any;\n"
        "    destination any;\n    application any;\n    service any;\n    action allow;\n   }}\n  }}\n }}\n}}\n{deep}"
    ),
}


@pytest.mark.parametrize("platform", sorted(_POLICY))
def test_deep_braces_are_a_diagnostic_and_bounded(platform: str) -> None:
    depth = 20000
    deep = "firewall {\n" + "".join(f"a{i} {{\n" for i in range(depth)) + "}\n" * depth + "}\n"
    text = _POLICY[platform].format(deep=deep)
    tracemalloc.start()
    rules = parse_config(text, platform)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 150 * 1024**2  # was ~1.6 GB: every statement held its whole 20,000-word path
    assert any(d.code.endswith("TOO-DEEP") for d in rules.diagnostics), rules.diagnostics
    assert [r.action for r in rules.filters if r.name in ("P1", "R1")] == ["permit"]


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1
    text = "".join(f"a{i} {{\n" for i in range(depth)) + "leaf x;\n" + "}\n" * depth
    assert not parse_config(text, "juniper_junos").diagnostics


def _json_size(kb: int) -> int:
    from cfgwatch.model import to_json  # what `cfgwatch parse -f json` prints

    line = "-A INPUT " + " ".join(f"--bogus{i} v{i}" for i in range(kb * 1024 // 17)) + " -j ACCEPT"
    rules = parse_config("*filter\n:INPUT DROP [0:0]\n" + line + "\nCOMMIT\n", "linux")
    assert all(len(d.text) <= DIAGNOSTIC_TEXT + 40 for d in rules.diagnostics)
    return len(json.dumps(to_json(rules), indent=1, sort_keys=True))


def test_parse_json_grows_linearly_with_the_line() -> None:
    small, big = _json_size(5), _json_size(20)
    assert big < 5 * small  # 4x the line: ~4x the output (it was 16x)
    assert big < 2_000_000


def test_sanitize_word_search_across_chunk_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule-word search lowers the text a chunk at a time: a word cut by a chunk edge is still found."""
    from cfgwatch.sanitize import sanitize

    text = (
        "".join(f"line {i} filler\n" for i in range(40)) + " password Secr3tValue\n" + "snmp-server community AB RO\n"
    )
    expected = sanitize(text, "cisco_ios", b"k" * 16).text
    for chunk in (7, 13, 64):
        monkeypatch.setattr(E, "_CHUNK", chunk)
        for shift in range(0, 20, 3):
            out = sanitize("y" * shift + "\n" + text, "cisco_ios", b"k" * 16).text
            assert out.split("\n", 1)[1] == expected, (chunk, shift)


def test_replayed_history_blob_over_the_limit_is_refused(tmp_path: Path, cli: Cli) -> None:
    import subprocess

    source = tmp_path / "oxidized"
    source.mkdir()
    run = {"cwd": source, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "master"], **run)  # type: ignore[call-overload]
    (source / "r1").write_text("hostname r1\n" + "interface Gi0/1\n description x\n" * 300)
    subprocess.run(["git", "add", "r1"], **run)  # type: ignore[call-overload]
    subprocess.run(  # type: ignore[call-overload]
        ["git", "-c", "user.name=ox", "-c", "user.email=ox@example.net", "commit", "-qm", "r1"], **run
    )
    assert cli("init", "proj", cwd=tmp_path)[0] == 0
    project = tmp_path / "proj"
    with (project / "cfgwatch.yaml").open("a") as handle:
        handle.write("\nsanitize:\n  max_config_bytes: 2048\n")
    code, _, err = cli("import", "--git", str(source), "--platform", "cisco_ios", cwd=project)
    assert code == 2, err
    assert "over the limit of 2,048" in err and "r1 in commit" in err
