"""The platform registry: entry points, detection order, aliases, and a site's own platform package."""

from __future__ import annotations

import dataclasses
import re
import sys
import types

import pytest
from _platform_fixtures import extra_platforms
from netutils.lib_mapper import NETMIKO_LIB_MAPPER

from cfgwatch.errors import UnknownPlatformError
from cfgwatch.model import RuleSet
from cfgwatch.plugins import PluginError
from cfgwatch.sanitize import sanitize
from cfgwatch.sanitize.rules import rules_for, secret_rule
from cfgwatch.sanitize.volatile import LineRules, VolatileRule
from cfgwatch.vendors.base import ParserInfo
from cfgwatch.vendors.registry import (
    PLATFORMS,
    aliases,
    all_specs,
    canonical_platform,
    detect_platform,
    get_parser,
    get_spec,
    parse_config,
    platform_names,
)
from cfgwatch.vendors.spec import NotApplicable, SecretRules

# Every alias the hand-written table resolved before platforms became specs: each must resolve the same.
ALIASES_BEFORE_SPECS = {
    "ios": "cisco_ios",
    "cisco_xe": "cisco_ios",
    "cisco_ios_xe": "cisco_ios",
    "iosxe": "cisco_ios",
    "asa": "cisco_asa",
    "nxos": "cisco_nxos",
    "nxos_ssh": "cisco_nxos",
    "cisco_nxos_ssh": "cisco_nxos",
    "eos": "arista_eos",
    "arista": "arista_eos",
    "junos": "juniper_junos",
    "juniper": "juniper_junos",
    "fortios": "fortinet",
    "fortinet_fortios": "fortinet",
    "panos": "paloalto_panos",
    "paloalto": "paloalto_panos",
    "iptables": "linux",
    "nftables": "linux",
    "linux_iptables": "linux",
    "linux_nftables": "linux",
    "routeros": "mikrotik_routeros",
    "mikrotik": "mikrotik_routeros",
}
# The detection order the platform table had (most distinctive syntaxes first, generic Cisco IOS last).
DETECTION_ORDER = [
    "paloalto_panos",
    "fortinet",
    "juniper_junos",
    "mikrotik_routeros",
    "vyos",
    "linux",
    "cisco_asa",
    "cisco_xr",
    "cisco_nxos",
    "arista_eos",
    "cisco_ios",
]


def test_builtins_come_from_cfgwatchs_own_entry_points() -> None:
    assert sorted(platform_names()) == sorted(DETECTION_ORDER)
    assert {PLATFORMS.origin(name) for name in platform_names()} == {"cfgwatch"}


def test_detection_order_is_unchanged() -> None:
    assert [spec.name for spec in all_specs()] == DETECTION_ORDER


@pytest.mark.parametrize(("alias", "platform"), sorted(ALIASES_BEFORE_SPECS.items()))
def test_every_old_alias_resolves_as_before(alias: str, platform: str) -> None:
    assert canonical_platform(alias) == platform
    assert canonical_platform(f"  {alias.upper()} ") == platform
    assert get_parser(alias).platform == platform


def test_aliases_come_from_netutils_where_it_has_them() -> None:
    table = aliases()
    assert table["ios"] == "cisco_ios" and table["ros"] == "mikrotik_routeros"  # NAPALM_LIB_MAPPER
    own = {alias for spec in all_specs() for alias in spec.aliases}
    # the hand-written ones are only those netutils lacks (or maps to a netmiko platform of its own)
    assert own == {
        "cisco_xe",
        "cisco_ios_xe",
        "cisco_nxos_ssh",
        "juniper",
        "iptables",
        "nftables",
        "linux_iptables",
        "linux_nftables",
        "routeros",
        "mikrotik",
    }
    for alias, platform in table.items():
        if alias not in own:  # netutils never folds a netmiko platform of its own onto a registered one
            assert NETMIKO_LIB_MAPPER.get(alias, platform) == platform, alias


def test_unknown_names_stay_themselves_and_fail_by_name() -> None:
    assert canonical_platform("cisco_xr") == "cisco_xr"  # a platform of its own (netutils: iosxr -> cisco_xr)
    assert canonical_platform("iosxr") == "cisco_xr"
    with pytest.raises(UnknownPlatformError, match="no parser for platform 'bogus' \\(known: arista_eos, "):
        get_spec("bogus")


def test_a_registered_object_must_be_a_spec_of_that_name() -> None:
    with pytest.raises(PluginError, match="is not a PlatformSpec"):
        PLATFORMS.register("not_a_spec", object())  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="registered with a spec named 'vyos'"):
        PLATFORMS.register("other_name", get_spec("vyos"))
    assert "not_a_spec" not in PLATFORMS and "other_name" not in PLATFORMS


# -- a site's own platform package, by entry point ---------------------------------------------------------------

_ACME_TEXT = "acme-os 1.0\nrule 1 allow any\nsecret-word hunter2\nstamp 2025-01-01\n"


def _acme_spec() -> object:
    vyos = get_spec("vyos")
    return dataclasses.replace(
        vyos,
        name="acme_os",
        parser=ParserInfo(
            platform="acme_os",
            description="Acme OS (a site's own parser)",
            forms=("cli",),
            features=frozenset({"filter.acl"}),
            parse=lambda text: RuleSet(platform="acme_os"),
            detect=lambda text: text.startswith("acme-os "),
        ),
        detection_priority=5,
        aliases=("acme",),
        secrets=SecretRules(
            rules=(secret_rule("acme-secret", r"\bsecret-word\s+(?P<v>\S+)", need=("secret-word",)),),
            order=99,
            also_for=(),
        ),
        volatile=LineRules(
            rules=(VolatileRule("acme-stamp", re.compile(r"^stamp \S+$"), need="stamp "),),
            order=99,
            line_start=(r"stamp ",),
            anywhere=(),
        ),
        lab=NotApplicable("the lab does not emulate Acme OS"),
    )


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("acme_cfgwatch_platform")
    module.SPEC = _acme_spec()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module


def test_a_site_platform_is_used_by_every_engine(monkeypatch: pytest.MonkeyPatch, acme: types.ModuleType) -> None:
    with extra_platforms(monkeypatch, acme_os=f"{acme.__name__}:SPEC"):
        assert PLATFORMS.origin("acme_os") == ""  # not cfgwatch's own
        assert detect_platform(_ACME_TEXT) == "acme_os"  # priority 5: asked before PAN-OS
        assert parse_config(_ACME_TEXT, "acme").platform == "acme_os"
        clean = sanitize(_ACME_TEXT, "acme_os", b"k" * 32)
        assert "hunter2" not in clean.text and "stamp" not in clean.text
        # an unknown platform gets every platform's secret rules, the site's included
        assert "acme-secret" in {rule.name for rule in rules_for(None)}
    assert "acme_os" not in PLATFORMS and detect_platform(_ACME_TEXT) is None


def test_a_site_spec_of_the_same_name_overrides_the_builtin(
    monkeypatch: pytest.MonkeyPatch, acme: types.ModuleType
) -> None:
    acme.OWN_VYOS = dataclasses.replace(  # type: ignore[attr-defined]
        get_spec("vyos"), collect=dataclasses.replace(get_spec("vyos").collect, command="show configuration commands")
    )
    with extra_platforms(monkeypatch, vyos=f"{acme.__name__}:OWN_VYOS"):
        assert get_spec("vyos").collect.command == "show configuration commands"
        assert PLATFORMS.origin("vyos") == ""
    assert get_spec("vyos").collect.command == "show configuration"


def test_a_broken_platform_package_leaves_the_others_working(monkeypatch: pytest.MonkeyPatch) -> None:
    with extra_platforms(monkeypatch, half_done="acme_not_written_yet:SPEC"):
        assert "half_done" in platform_names()
        assert [spec.name for spec in all_specs()] == DETECTION_ORDER
        with pytest.raises(UnknownPlatformError, match="'half_done' is not available"):
            get_spec("half_done")
        assert sanitize("password hunter2\n", "cisco_ios", b"k" * 32).redactions == 1


# -- the orders the engines derive from the specs (output depends on them) ----------------------------------------


def test_volatile_rules_are_tried_in_the_documented_order() -> None:
    from cfgwatch.sanitize.volatile import tables

    assert [rule.name for rule in tables().rules] == [
        *("ios-building", "ios-current-size", "ios-no-change", "ntp-clock-period"),  # cisco_ios volatile (10)
        *("ios-last-change", "ios-nvram"),  # cisco_ios change_header (11)
        *("uptime", "restarted-at"),  # generic (15)
        *("asa-cryptochecksum", "asa-written-by", "nxos-time", "nxos-last-done", "xr-show-time", "xr-last-change"),
        "eos-startup-modified",
        *("junos-last-commit", "junos-last-changed", "fortios-conf-file-ver"),
        *("routeros-export-time", "routeros-history-flags", "routeros-history-columns", "routeros-history-head"),
        *("routeros-history-wrap", "routeros-history-row"),
        *("iptables-generated", "iptables-completed", "iptables-chain-counters", "iptables-rule-counters"),
        *("nft-counter", "nft-expires", "panos-dirty-id"),
    ]


def test_an_unknown_platform_gets_the_tight_value_forms_first() -> None:
    from cfgwatch.sanitize.rules import tables

    generic = tables().generic  # catalog.GENERIC_EXTRA then GENERIC: every platform's last pass
    names = [rule.name for rule in rules_for(None)]
    groups = [name.split("-")[0] for name in names[: -len(generic)]]
    assert list(dict.fromkeys(groups)) == ["junos", "panos", "vyos", "routeros", "fortios", "cisco", "asa"]
    assert len(names) == len(set(names)) == len(tables().everything) + len(generic)  # the Cisco family once


def test_syslog_patterns_are_tried_in_the_documented_order() -> None:
    from cfgwatch.policy.attribution import syslog_tables

    assert [pattern.kind for pattern in syslog_tables().patterns] == [
        "panos-config",
        "ios-config",
        "ios-archive",
        "asa-111008",
        "asa-111010",
        "junos-commit",
        "junos-audit-set",
        "fortios-config",
        "nxos-config",
        "xr-commit",
        "xr-login",
        "xr-config",
        "routeros-config",
        "routeros-item",
        "routeros-login",
    ]


def test_first_use_from_several_threads_sees_every_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector's worker threads may each be first to ask a fresh registry (in a worker process)."""
    import threading
    import time
    from importlib.metadata import EntryPoint, EntryPoints

    from cfgwatch import plugins

    registry: plugins.Registry[object] = plugins.Registry("cfgwatch.test_threads", "thing")
    entered = threading.Event()
    seen: list[tuple[str, ...]] = []

    def other_thread() -> None:
        entered.set()
        seen.append(registry.names())

    def slow_entry_points(group: str) -> EntryPoints:
        worker = threading.Thread(target=other_thread)
        worker.start()
        entered.wait(5)
        time.sleep(0.05)  # the other thread is now inside names() while this one is still listing
        slow_entry_points.worker = worker  # type: ignore[attr-defined]
        return EntryPoints([EntryPoint("a", "x:A", group), EntryPoint("b", "x:B", group)])

    monkeypatch.setattr(plugins, "_entry_points_of", slow_entry_points)
    assert registry.names() == ("a", "b")
    slow_entry_points.worker.join(5)  # type: ignore[attr-defined]
    assert seen == [("a", "b")]
