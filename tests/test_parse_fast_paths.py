"""The parse fast paths (issue 19) give exactly what the slow paths gave: same constructors, same values."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from cfgwatch.model import (
    AddressSet,
    Binding,
    Diagnostic,
    FilterRule,
    Interface,
    Match,
    NatRule,
    ObjectDef,
    PortSet,
    Service,
    SourceRef,
)
from cfgwatch.model._fastinit import fast_init
from cfgwatch.model.rules import DIAGNOSTIC_TEXT
from cfgwatch.vendors import _cisco_common as cc

MODEL = (SourceRef, Match, FilterRule, NatRule, Binding, Interface, ObjectDef, Diagnostic, AddressSet, PortSet, Service)


def _reference(cls: type) -> type:
    """The same dataclass with the `__init__` dataclasses itself generates."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    namespace = {"__post_init__": cls.__post_init__} if hasattr(cls, "__post_init__") else {}
    return dataclasses.make_dataclass(f"Ref{cls.__name__}", fields, namespace=namespace, frozen=True, slots=True)


@pytest.mark.parametrize("cls", MODEL, ids=lambda cls: cls.__name__)
def test_fast_init_keeps_the_signature(cls: type) -> None:
    assert str(inspect.signature(cls.__init__)) == str(inspect.signature(_reference(cls).__init__))


def test_fast_init_defaults_factories_post_init_and_frozenness() -> None:
    rule = FilterRule("acl", "permit")  # type: ignore[arg-type]
    assert rule.source is None and rule.match == Match() and rule.options == frozenset()
    interface = Interface("Gi1")
    assert interface.addresses == AddressSet()
    long = Diagnostic("X", "m", 1, "t" * (DIAGNOSTIC_TEXT + 5))
    assert long.text.endswith("[5 more characters]")  # __post_init__ still runs
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.list_name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SourceRef(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        SourceRef(1, 2, nope=3)  # type: ignore[call-arg]
    assert dataclasses.replace(rule, list_name="b").list_name == "b"
    assert SourceRef(end_line=2, start_line=1) == SourceRef(1, 2)


def test_fast_init_leaves_unusual_classes_alone() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class KwOnly:
        a: int = dataclasses.field(kw_only=True, default=1)

    before = KwOnly.__init__
    assert fast_init(KwOnly).__init__ is before


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("10.1.2.3", (10 << 24) | (1 << 16) | (2 << 8) | 3),
        ("0.0.0.0", 0),
        ("255.255.255.255", (1 << 32) - 1),
        ("010.0.0.1", (10 << 24) | 1),  # leading zeros: decimal, as the devices read them
        ("1.2.3.04", (1 << 24) | (2 << 16) | (3 << 8) | 4),
        ("1.2.3.256", None),
        ("1.2.3", None),
        ("1.2.3.4.5", None),
        ("1..2.3", None),
        ("1.2.3.4 ", None),
        ("1.2.3.4\x00", None),
        ("host", None),
        ("1.2.3.0x4", None),
    ],
)
def test_v4_value_fast_and_slow_paths_agree(token: str, value: int | None) -> None:
    cc.v4_value.cache_clear()
    assert cc.v4_value(token) == value
    assert cc._v4_value_slow(token) == value


@pytest.mark.parametrize(
    "text",
    ["eq 80", "eq www", "eq 80 443 22", "neq 22", "lt 1024", "lt 0", "gt 1023", "gt 65535", "range 10 20", "eq 00080"],
)
def test_port_operator_fast_path_matches_from_operator(text: str) -> None:
    op, *values = text.split()
    ports, index = cc.parse_port_op(text.split(), 0)
    assert index == len(values) + 1
    expected = PortSet.from_operator(op, [str(cc.port(value)) for value in values])
    assert ports == expected and ports.ranges == expected.ranges


def test_scan_skips_banners_and_keeps_line_numbers() -> None:
    text = "hostname r\nbanner motd ^C\nip nat inside source static 1.1.1.1 2.2.2.2\n^C\n"
    text += "interface Gi1\n ip nat inside\n"
    stanzas = cc.scan(text)
    assert [s.head.text for s in stanzas] == ["hostname r", "interface Gi1"]
    assert stanzas[1].head.number == 5 and stanzas[1].children[0] == cc.Line(6, "ip nat inside", 1, False)
    eos = "banner login\nip nat x\nEOF\nhostname r\n"
    assert [(s.head.number, s.head.text) for s in cc.scan(eos)] == [(4, "hostname r")]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),
        (0, (1 << 32) - 1),
        (167772160, 167772415),  # 10.0.0.0/24
        (167772160, 167772416),  # not one block
        (167772161, 167772416),  # one block of 256 that is not aligned
        (3232235777, 3232235777),
        ((1 << 32) - 2, (1 << 32) - 1),
        (5, 12),
    ],
)
def test_range_text_without_ipaddress_matches_summarize(start: int, end: int) -> None:
    from ipaddress import IPv4Address, IPv6Address

    from cfgwatch.model import addresses

    assert addresses._v4_range_text(start, end) == addresses._range_text(IPv4Address(start), IPv4Address(end))
    big_start, big_end = start << 96, (end << 96) | ((1 << 96) - 1)
    assert addresses._v6_range_text(big_start, big_end) == addresses._range_text(
        IPv6Address(big_start), IPv6Address(big_end)
    )
    assert addresses._v6_range_text(start, end) == addresses._range_text(IPv6Address(start), IPv6Address(end))


def test_dumps_writes_every_golden_byte_for_byte() -> None:
    """`dumps` is the fast writer of `parse --format json`: it must equal the reference rendering."""
    from cfgwatch.model import dumps
    from cfgwatch.vendors.golden import fixture_configs, golden_path
    from cfgwatch.vendors.registry import get_parser

    checked = 0
    for platform, config in fixture_configs():
        rules = get_parser(platform).parse(config.read_text(encoding="utf-8", errors="replace"))
        assert dumps(rules) + "\n" == golden_path(platform, config).read_text(encoding="utf-8"), config
        checked += 1
    assert checked >= 50


def test_dumps_equals_json_dumps_of_to_json_on_odd_values() -> None:
    import enum
    import json

    from cfgwatch.model import ANY_ADDRESS, ANY_PORTS, dumps, to_json

    class Level(enum.IntEnum):
        LOW = 1

    shared = AddressSet.parse("10.0.0.0/24", "2001:db8::/127", "10.0.1.1-10.0.1.9").named("NET", 'x\u00e9"')
    values: list[object] = [
        None,
        True,
        0,
        -3,
        1.5,
        float("nan"),
        float("inf"),
        -float("inf"),
        'é\n"',
        Level.LOW,
        [],
        {},
        (),
        frozenset(),
        {"b": 1, 2: [1, {"a": None}], "a": ()},
        frozenset({"z", "a"}),
        [shared, shared, [shared], ANY_ADDRESS, AddressSet.fqdn("Example.COM"), AddressSet()],
        [ANY_PORTS, PortSet.of(80, (1000, 2000), names=("web",)), PortSet(ranges=())],
        [Service(6, dst_ports=PortSet.of(443)).named("https"), Service(1, icmp_type=8, icmp_code=0), Service()],
        SourceRef(1, 2, "dev", None),
        Diagnostic("X-Y", "m\u2028", 3, "t"),
        FilterRule("acl", "permit", Match(shared, ANY_ADDRESS), options=frozenset({"log", "established"})),  # type: ignore[arg-type]
    ]
    deep: list[object] = []
    for _ in range(80):  # deeper than the writer's ready-made indentation strings
        deep = [deep, {"k": (SourceRef(1, 1),)}]
    values.append(deep)
    for value in values:
        assert dumps(value) == json.dumps(to_json(value), indent=1, sort_keys=True), value


def test_cli_parse_json_prints_the_golden_text() -> None:
    from typer.testing import CliRunner

    from cfgwatch.cli import app
    from cfgwatch.vendors.golden import fixture_configs, golden_path

    for platform, config in list(fixture_configs("cisco_asa"))[:3]:
        result = CliRunner().invoke(app, ["parse", str(config), "--platform", platform, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert result.stdout == golden_path(platform, config).read_text(encoding="utf-8")
