"""The contract every registered parser honours (napalm's mocked_data idea, netutils' fixture discovery)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cfgwatch.model import BindingKind, NatKind, RuleSet, to_json
from cfgwatch.vendors.base import FEATURES, ParserInfo
from cfgwatch.vendors.golden import fixture_configs
from cfgwatch.vendors.registry import PLATFORM_MODULES, get_parser

PLATFORMS = list(PLATFORM_MODULES)


def _has_ports(rules: RuleSet) -> bool:
    return any(
        nat.translated_dst_ports is not None or nat.translated_src_ports is not None or not nat.match.dst_ports().is_any
        for nat in rules.nats
    )


FEATURE_CHECKS: dict[str, Callable[[RuleSet], bool]] = {
    "nat.static": lambda r: any(n.kind is NatKind.STATIC for n in r.nats),
    "nat.dynamic": lambda r: any(n.kind is NatKind.DYNAMIC for n in r.nats),
    "nat.pat": lambda r: any(n.kind is NatKind.PAT for n in r.nats),
    "nat.destination": lambda r: any(n.translated_dst is not None for n in r.nats),
    "nat.twice": lambda r: any(n.translated_src is not None and n.translated_dst is not None for n in r.nats),
    "nat.ports": _has_ports,
    "filter.acl": lambda r: any(not f.from_zones and not f.to_zones for f in r.filters),
    "filter.policy": lambda r: any(f.from_zones or f.to_zones for f in r.filters),
    "binding.interface": lambda r: any(b.kind in (BindingKind.FILTER, BindingKind.NAT_ROLE) for b in r.bindings),
    "binding.zone": lambda r: any(b.kind is BindingKind.ZONE for b in r.bindings),
    "objects.network": lambda r: any(o.addresses is not None for o in r.objects),
    "objects.service": lambda r: any(o.services for o in r.objects),
}


def test_every_feature_has_a_check() -> None:
    assert set(FEATURE_CHECKS) == set(FEATURES)


def _fixtures(platform: str) -> list[str]:
    return [path.read_text(encoding="utf-8", errors="replace") for _, path in fixture_configs(platform)]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_registered_parser_declares_itself(platform: str) -> None:
    info = get_parser(platform)
    assert isinstance(info, ParserInfo)
    assert info.platform == platform
    assert info.forms and info.features


@pytest.mark.parametrize("platform", PLATFORMS)
def test_parser_is_deterministic_with_valid_spans(platform: str) -> None:
    texts = _fixtures(platform)
    assert texts, f"{platform}: no fixture configs under fixtures/configs/{platform}"
    info = get_parser(platform)
    for text in texts:
        first, second = info.parse(text), info.parse(text)
        assert to_json(first) == to_json(second)
        line_count = max(1, len(text.splitlines()))
        for item in (*first.filters, *first.nats, *first.bindings, *first.interfaces, *first.objects):
            if item.source is not None:
                assert 1 <= item.source.start_line <= item.source.end_line <= line_count, item
        for diagnostic in first.diagnostics:
            assert 1 <= diagnostic.line <= line_count, diagnostic
            assert diagnostic.code and diagnostic.message


@pytest.mark.parametrize("platform", PLATFORMS)
def test_declared_features_are_produced_by_some_fixture(platform: str) -> None:
    info = get_parser(platform)
    parsed = [info.parse(text) for text in _fixtures(platform)]
    for feature in sorted(info.features):
        assert any(FEATURE_CHECKS[feature](rules) for rules in parsed), f"{platform} declares {feature}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_detector_recognises_its_own_fixtures(platform: str) -> None:
    info = get_parser(platform)
    assert any(info.detect(text) for text in _fixtures(platform))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_parser_survives_garbage(platform: str) -> None:
    info = get_parser(platform)
    for text in ("", "\n\n", "\x00\xff garbage {{{ ]]] ;;;", "ip nat inside source static\naccess-list"):
        result = info.parse(text)
        assert isinstance(result, RuleSet)
