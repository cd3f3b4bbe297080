"""The contract every registered platform honours (napalm's BaseTestGetters pattern: one test class that
every platform runs through, parametrized over every registered spec; netutils' fixture discovery).

A platform is one `PlatformSpec`: every part is required, and a part that does not apply says so with
`NotApplicable(reason)`. These tests name the platform and the part that breaks the contract.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from netutils.lib_mapper import NAPALM_LIB_MAPPER

from cfgwatch.collect.validate import Verdict
from cfgwatch.lab.platforms import Platform, Session, lab_platforms
from cfgwatch.model import BindingKind, NatKind, RuleSet, to_json
from cfgwatch.policy.attribution import SyslogPatterns
from cfgwatch.sanitize import volatile as V
from cfgwatch.sanitize.golden import CONFIGS as SANITIZE_CONFIGS
from cfgwatch.sanitize.rules import Rule
from cfgwatch.vendors.base import FEATURES, ParserInfo
from cfgwatch.vendors.golden import fixture_configs
from cfgwatch.vendors.registry import all_specs, canonical_platform, get_parser, get_spec, platform_names
from cfgwatch.vendors.spec import (
    PART_TYPES,
    GenericOnly,
    LabProfile,
    NotApplicable,
    PlatformSpec,
    SecretRules,
    SpecError,
    spec_problems,
)

PLATFORMS = list(platform_names())
LAB_FIXTURES = Path(__file__).resolve().parents[1] / "cfgwatch" / "data" / "lab"


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


def _lab_fixtures(platform: str) -> list[str]:
    devices = yaml.safe_load((LAB_FIXTURES / "devices.yaml").read_text(encoding="utf-8"))
    return [(LAB_FIXTURES / f"{name}.cfg").read_text(encoding="utf-8") for name, p in devices.items() if p == platform]


def _sanitize_fixture_lines(platform: str) -> list[str]:
    folder = SANITIZE_CONFIGS / platform
    if not folder.is_dir():
        return []
    return [
        line
        for path in sorted(folder.iterdir())
        if path.is_file()
        for line in path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    ]


def _lab_lines(platform: str) -> list[str]:
    """The lab's fixture configs for the platform as its emulator serves them after a change."""
    emulator = lab_platforms().get(platform)
    if emulator is None:
        return []
    session = Session("lab-device", "netops", lambda: "", "secret")
    at = datetime(2025, 3, 4, 14, 2, 11, tzinfo=UTC)
    served = [emulator.frame_config(session, emulator.apply_header(text, "lab-device", "bob", at)) for text in
              _lab_fixtures(platform)]  # fmt: skip
    return [line for text in served for line in text.replace("\r\n", "\n").split("\n")]


@pytest.fixture(params=PLATFORMS)
def spec(request: pytest.FixtureRequest) -> PlatformSpec:
    return get_spec(str(request.param))


class TestPlatformContract:
    """Every registered platform runs through every test here."""

    # -- the spec as a whole ---------------------------------------------------------------------------
    def test_every_part_is_present(self, spec: PlatformSpec) -> None:
        assert spec_problems(spec) == []
        for part in dataclasses.fields(spec):
            assert isinstance(getattr(spec, part.name), PART_TYPES[part.name]), part.name

    def test_detection_priority_is_its_own(self, spec: PlatformSpec) -> None:
        others = [other.name for other in all_specs() if other.detection_priority == spec.detection_priority]
        assert others == [spec.name], f"{spec.name}: detection_priority shared with {others}"

    def test_own_aliases_resolve_to_the_platform(self, spec: PlatformSpec) -> None:
        for alias in spec.aliases:
            assert alias not in PLATFORMS, f"{spec.name}: alias {alias!r} is a platform of its own"
            assert canonical_platform(alias) == spec.name, f"{spec.name}: alias {alias!r}"

    # -- parser --------------------------------------------------------------------------------------
    def test_registered_parser_declares_itself(self, spec: PlatformSpec) -> None:
        info = get_parser(spec.name)
        assert isinstance(info, ParserInfo)
        assert info is spec.parser and info.platform == spec.name
        assert info.forms and info.features

    def test_parser_is_deterministic_with_valid_spans(self, spec: PlatformSpec) -> None:
        texts = _fixtures(spec.name)
        assert texts, f"{spec.name}: no fixture configs under fixtures/configs/{spec.name}"
        for text in texts:
            first, second = spec.parser.parse(text), spec.parser.parse(text)
            assert to_json(first) == to_json(second)
            line_count = max(1, len(text.splitlines()))
            for item in (*first.filters, *first.nats, *first.bindings, *first.interfaces, *first.objects):
                if item.source is not None:
                    assert 1 <= item.source.start_line <= item.source.end_line <= line_count, item
            for diagnostic in first.diagnostics:
                assert 1 <= diagnostic.line <= line_count, diagnostic
                assert diagnostic.code and diagnostic.message

    def test_declared_features_are_produced_by_some_fixture(self, spec: PlatformSpec) -> None:
        parsed = [spec.parser.parse(text) for text in _fixtures(spec.name)]
        for feature in sorted(spec.parser.features):
            assert any(FEATURE_CHECKS[feature](rules) for rules in parsed), f"{spec.name} declares {feature}"

    def test_detector_recognises_its_own_fixtures(self, spec: PlatformSpec) -> None:
        assert any(spec.parser.detect(text) for text in _fixtures(spec.name))

    def test_parser_survives_garbage(self, spec: PlatformSpec) -> None:
        for text in ("", "\n\n", "\x00\xff garbage {{{ ]]] ;;;", "ip nat inside source static\naccess-list"):
            assert isinstance(spec.parser.parse(text), RuleSet)

    # -- collect -------------------------------------------------------------------------------------
    def test_collect_settings(self, spec: PlatformSpec) -> None:
        assert spec.collect.command.strip(), f"{spec.name}: collect.command is empty"
        if isinstance(spec.collect.napalm_driver, str):
            assert NAPALM_LIB_MAPPER.get(spec.collect.napalm_driver) == spec.name, (
                f"{spec.name}: netutils does not know NAPALM driver {spec.collect.napalm_driver!r} for it"
            )
        if isinstance(spec.collect.quick_exit, str):
            assert spec.collect.quick_exit.strip(), f"{spec.name}: collect.quick_exit is empty"

    def test_completeness_accepts_whole_configs_and_rejects_cut_ones(self, spec: PlatformSpec) -> None:
        if isinstance(spec.completeness, NotApplicable):
            return
        texts = _lab_fixtures(spec.name)
        assert texts, f"{spec.name}: a completeness check needs a lab fixture (cfgwatch/data/lab) to be tested on"
        for text in texts:
            whole = spec.completeness(text)
            assert isinstance(whole, Verdict) and whole.ok, f"{spec.name}: whole config rejected: {whole}"
            lines = text.rstrip().split("\n")
            cut = spec.completeness("\n".join(lines[:-1]) + "\n")  # the session dropped before the last line
            assert not cut.ok and cut.reason == "incomplete", f"{spec.name}: a config cut short is accepted"

    # -- sanitize ------------------------------------------------------------------------------------
    def test_secret_rules(self, spec: PlatformSpec) -> None:
        if isinstance(spec.secrets, GenericOnly):
            return
        assert spec.secrets.rules, f"{spec.name}: SecretRules without rules (say GenericOnly instead)"
        for rule in spec.secrets.rules:
            assert isinstance(rule, Rule) and rule.need, f"{spec.name}: secret rule {rule.name!r} has no need words"
        for other in all_specs():
            if isinstance(other.secrets, SecretRules) and other.secrets.order == spec.secrets.order:
                assert other.secrets.rules is spec.secrets.rules, (
                    f"{spec.name}: secrets.order {spec.secrets.order} shared with {other.name}'s other rules"
                )

    def test_line_continuation_never_matches_nothing(self, spec: PlatformSpec) -> None:
        if isinstance(spec.continuation, NotApplicable):
            return
        assert spec.continuation.pattern.search("") is None and spec.continuation.note

    @pytest.mark.parametrize("part", ["volatile", "change_header"])
    def test_line_rules_hints_cover_every_match(self, spec: PlatformSpec, part: str) -> None:
        rules = getattr(spec, part)
        if isinstance(rules, NotApplicable):
            return
        orders = [
            other_part.order
            for other in all_specs()
            for other_part in (other.volatile, other.change_header)
            if isinstance(other_part, V.LineRules)
        ]
        assert orders.count(rules.order) == 1 and rules.order != V.GENERIC.order, f"{spec.name}: {part}.order"
        start = re.compile(r"^(?:" + ("|".join(rules.line_start) or "(?!)") + ")")
        lines = _sanitize_fixture_lines(spec.name) + _lab_lines(spec.name)
        for line in lines:
            for rule in rules.rules:
                if rule.pattern.search(line) is None:
                    continue
                assert rule.need in line, (spec.name, rule.name, line)
                hinted = start.search(line) is not None or any(
                    re.search(regex, line) is not None and word in line for regex, word in rules.anywhere
                )
                assert hinted, f"{spec.name}: {part} hints miss a line {rule.name} matches: {line!r}"

    # -- syslog --------------------------------------------------------------------------------------
    def test_syslog_patterns(self, spec: PlatformSpec) -> None:
        if isinstance(spec.syslog, NotApplicable):
            return
        assert isinstance(spec.syslog, SyslogPatterns) and spec.syslog.patterns
        kinds = {pattern.kind: pattern for other in all_specs() if isinstance(other.syslog, SyslogPatterns)
                 for pattern in other.syslog.patterns if other.name != spec.name}  # fmt: skip
        for pattern in spec.syslog.patterns:
            assert kinds.get(pattern.kind, pattern) is pattern, f"{spec.name}: syslog kind {pattern.kind!r} taken"

    # -- lab -----------------------------------------------------------------------------------------
    def test_lab_profile(self, spec: PlatformSpec) -> None:
        if isinstance(spec.lab, NotApplicable):
            assert spec.name not in lab_platforms()
            return
        assert isinstance(spec.lab, LabProfile)
        emulator = lab_platforms()[spec.name]
        assert isinstance(emulator, Platform) and emulator.name == spec.name
        assert spec.lab.collector in ("netmiko", "napalm"), f"{spec.name}: lab collector {spec.lab.collector!r}"
        if spec.lab.collector == "napalm":
            assert isinstance(spec.collect.napalm_driver, str), f"{spec.name}: lab collects with NAPALM, no driver"
        assert _lab_fixtures(spec.name), f"{spec.name}: no lab device in cfgwatch/data/lab/devices.yaml"
        command = spec.collect.command.lower()
        served = command in emulator.config_commands or emulator.is_config_alias(command)
        assert served, f"{spec.name}: the lab does not answer collect.command {spec.collect.command!r}"


# -- a spec with a part missing -----------------------------------------------------------------------------


def _parts(spec: PlatformSpec) -> dict[str, object]:
    return {part.name: getattr(spec, part.name) for part in dataclasses.fields(spec)}


@pytest.mark.parametrize("part", [field.name for field in dataclasses.fields(PlatformSpec)])
def test_a_spec_without_a_part_cannot_be_built(part: str) -> None:
    parts = _parts(get_spec("cisco_ios"))
    del parts[part]
    with pytest.raises(TypeError, match=part):
        PlatformSpec(**parts)  # type: ignore[arg-type]
    parts[part] = None
    with pytest.raises(SpecError, match=f"part '{part}'"):
        PlatformSpec(**parts)  # type: ignore[arg-type]


@pytest.mark.parametrize("part", [field.name for field in dataclasses.fields(PlatformSpec)])
def test_the_contract_names_a_part_that_went_missing(part: str) -> None:
    """A spec that bypassed its own checks (built by hand, mutated) is still caught, by part."""
    broken = copy.copy(get_spec("linux"))
    object.__setattr__(broken, part, None)
    problems = spec_problems(broken)
    assert problems and all(f"part '{part}'" in problem for problem in problems)


def test_not_applicable_needs_a_reason() -> None:
    with pytest.raises(SpecError, match="reason"):
        NotApplicable(" ")
    with pytest.raises(SpecError, match="reason"):
        GenericOnly("")


def test_header_rules_and_volatile_rules_stay_apart() -> None:
    ios = get_spec("cisco_ios")
    assert not isinstance(ios.change_header, NotApplicable) and not isinstance(ios.volatile, NotApplicable)
    with pytest.raises(SpecError, match="part 'volatile' holds header rules"):
        dataclasses.replace(ios, volatile=ios.change_header)
    with pytest.raises(SpecError, match="part 'change_header' holds a rule that reads no metadata"):
        dataclasses.replace(ios, change_header=ios.volatile)
