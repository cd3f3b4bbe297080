"""Completeness checks: what must never replace a good snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cfgwatch.collect.validate import check_output, check_size
from cfgwatch.lab.platforms import truncate

LAB = Path(__file__).resolve().parents[1] / "cfgwatch" / "data" / "lab"
DEVICES = yaml.safe_load((LAB / "devices.yaml").read_text())


@pytest.mark.parametrize("name", sorted(DEVICES))
def test_every_lab_fixture_is_complete(name: str) -> None:
    assert check_output((LAB / f"{name}.cfg").read_text(), DEVICES[name]).ok


@pytest.mark.parametrize("name", sorted(DEVICES))
def test_truncated_output_is_caught_by_structure_or_size(name: str) -> None:
    full = (LAB / f"{name}.cfg").read_text()
    cut = truncate(full)
    structural = check_output(cut, DEVICES[name])
    assert not structural.ok or not check_size(cut, full).ok


@pytest.mark.parametrize(
    ("text", "platform", "reason"),
    [
        ("", "cisco_ios", "incomplete"),
        ("   \n\n", "fortinet", "incomplete"),
        ("show running-config\n         ^\n% Invalid input detected at '^' marker.\n", "cisco_ios", "cli-error"),
        ("% Authorization failed.\n", "cisco_ios", "cli-error"),
        ("error: syntax error, expecting <command>\n", "juniper_junos", "cli-error"),
        ("syntax error.\n", "juniper_junos", "cli-error"),
        ("Permission denied\n", "linux", "cli-error"),
        ("Command fail. Return code -61\n", "fortinet", "cli-error"),
        ("hostname r1\ninterface Gi0/0\n ip address 10.0.0.1 255.255.255.0\n", "cisco_ios", "incomplete"),
        ("system {\n    host-name r1;\n", "juniper_junos", "incomplete"),
        ("system {\n}\n}\n", "juniper_junos", "incomplete"),
        (
            "config system global\n    set hostname x\nend\nconfig firewall policy\n    edit 1\n",
            "fortinet",
            "incomplete",
        ),
        ("ASA Version 9.12\nhostname fw\n", "cisco_asa", "incomplete"),
    ],
)
def test_bad_output_is_rejected_with_reason(text: str, platform: str, reason: str) -> None:
    verdict = check_output(text, platform)
    assert not verdict.ok
    assert verdict.reason == reason
    assert verdict.detail


def test_junos_braces_inside_strings_and_comments_do_not_count() -> None:
    text = 'system {\n    host-name "a{b";\n    /* } */\n    ## { \n}\n'
    assert check_output(text, "juniper_junos").ok


def test_set_form_junos_has_no_brace_requirement() -> None:
    assert check_output("set system host-name r1\nset interfaces ge-0/0/0 unit 0\n", "juniper_junos").ok


def test_size_check_against_last_good() -> None:
    last = "x\n" * 500
    assert not check_size("x\n" * 100, last).ok
    assert check_size("x\n" * 400, last).ok
    assert check_size("x\n" * 100, last, min_ratio=0).ok  # --allow-shrink
    assert check_size("tiny", None).ok  # first snapshot: nothing to compare with


def test_size_check_counts_utf8_bytes_and_accepts_the_stored_size() -> None:
    """A pull passes only the stored blob's size; text and size give the same verdict, in UTF-8 bytes."""
    last = "description caf\u00e9 \u2013 edge\n" * 40  # 26 characters, 30 bytes per line
    size = len(last.encode())
    for text in ("x" * 400, "x" * 500, "\u00e9" * 300, "x" * 650):
        assert check_size(text, last).ok == check_size(text, size).ok
    assert not check_size("x" * 500, size).ok  # 500 characters but 1,200 stored bytes: under half
    assert check_size("\u00e9" * 300, size).ok  # 300 characters, 600 bytes: half of the stored size
    verdict = check_size("x" * 100, size)
    assert not verdict.ok and f"({size} bytes)" in verdict.detail
    assert check_size("", 199).ok  # below the smallest meaningful base
