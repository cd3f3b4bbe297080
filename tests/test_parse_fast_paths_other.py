"""Fast paths of the non-Cisco parsers (issue 19 goal 3) read exactly what the slow paths they skip read.

Each fast path answers the common spelling cheaply and hands everything else to the general code; these
tests pin the hand-over on the spellings where the two could differ.
"""

from __future__ import annotations

import random

import pytest

from cfgwatch.vendors._junos_tree import flatten
from cfgwatch.vendors._misc_common import _v4_interval_text, split_quoted_words, v4_interval
from cfgwatch.vendors.paloalto_panos.parser import parse as parse_panos
from cfgwatch.vendors.vyos.parser import parse as parse_vyos

EDGE_V4 = [
    "1.2.3.4",
    "1.2.3.4/24",
    "1.2.3.4/08",  # two-digit length with a leading zero: the pattern reads 8
    "01.2.3.4",  # leading zero in an octet: inet_pton refuses, the pattern reads 1
    "1.2.3.4/",
    "1.2.3.4/33",
    "1.2.3.4/008",
    "256.1.1.1",
    "1.2.3",
    "1.2.3.4.5",
    "\u0661.2.3.4",  # Arabic-Indic digit: a \\d to the pattern, not to inet_pton
    "1.2.3.4/\u0663",
    " 1.2.3.4",
    "1.2.3.4\n",
    "0x1.2.3.4",
    "1_0.2.3.4",
    "",
    "host-name",
    "0.0.0.0/0",
]


@pytest.mark.parametrize("text", EDGE_V4)
def test_v4_fast_path_reads_what_the_pattern_reads(text: str) -> None:
    assert v4_interval(text) == _v4_interval_text(text)


def test_v4_fast_path_on_random_text() -> None:
    rng = random.Random(19)
    alphabet = "0123456789./ x\u0661"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert v4_interval(text) == _v4_interval_text(text), text
    assert v4_interval("10.1.2.3/24") == (0x0A010200, 0x0A0102FF)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set a 'b'", ["set", "a", "b"]),
        ("set a 'b c'", None),  # a quoted value with a space: the regex tokenizer reads it
        ("set 'a' b", ["set", "a", "b"]),
        ("set a b'c'", ["set", "a", "b'c'"]),
        ("set a '", None),
        ("set a ''", ["set", "a", ""]),
    ],
)
def test_split_quoted_words(text: str, expected: list[str] | None) -> None:
    assert split_quoted_words(text, "'") == expected


def test_flatten_plain_set_prefix_hands_over_at_the_first_other_line() -> None:
    """An unterminated non-set line ends the tight set-line loop; the general loop reports it as a command
    not applied and reads the set lines after it (a script's `configure` must not swallow the script)."""
    flat, _ = flatten("set a b\n\n  set c d\nversion 1\nset e f\n")
    assert [stmt.path for stmt in flat.statements] == [("a", "b"), ("c", "d"), ("e", "f")]
    assert [stmt.line for stmt in flat.statements] == [1, 3, 5]
    assert flat.unsupported == [(4, "version")]
    assert flat.set_form


def test_vyos_reads_quoted_and_spaced_heads_but_skips_unread_hierarchies() -> None:
    text = (
        "set 'firewall' ipv4 name WAN rule 10 action 'accept'\n"
        "set  firewall ipv4 name WAN rule 20 action 'drop'\n"
        "set system host-name 'fw'\n"
        "set service ssh port '22'\n"
    )
    rules = parse_vyos(text).filters
    assert [(rule.list_name, rule.action.value, rule.sequence) for rule in rules] == [
        ("ipv4/WAN", "permit", 10),
        ("ipv4/WAN", "deny", 20),
    ]


def test_panos_xml_deeply_nested_is_read_without_recursion() -> None:
    depth = 1_500
    text = (
        "<config><devices><entry name='d'><vsys><entry name='vsys1'>"
        + "<x>" * depth
        + "v"
        + "</x>" * depth
        + "<address><entry name='A'><ip-netmask>10.0.0.1</ip-netmask></entry></address>"
        + "</entry></vsys></entry></devices></config>"
    )
    objects = parse_panos(text).objects
    assert [(obj.name, obj.addresses.ranges() if obj.addresses else None) for obj in objects] == [("A", ["10.0.0.1"])]
