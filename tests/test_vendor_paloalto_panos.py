"""PAN-OS parser: set, brace and XML forms agree; NAT/security fields are right; bad input never crashes."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from _held_out import changes, egress
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgwatch.model import (
    ANY_ADDRESS,
    ANY_SERVICE,
    Action,
    AddressSet,
    BindingKind,
    NatKind,
    PortSet,
    RuleSet,
    Service,
    tcp,
)
from cfgwatch.vendors.paloalto_panos import PARSER
from cfgwatch.vendors.paloalto_panos.parser import detect, parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "paloalto_panos"


def _load(name: str) -> RuleSet:
    return parse((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fw() -> RuleSet:
    return _load("forms_fw.xml")


def test_set_brace_and_xml_forms_give_identical_rulesets() -> None:
    as_set, as_brace, as_xml = _load("forms_fw.set"), _load("forms_fw.conf"), _load("forms_fw.xml")
    assert as_set == as_brace == as_xml
    for rules in (as_set, as_brace, as_xml):
        assert [n.comment for n in rules.nats if n.name == "OUT-PAT"] == ["CHG-4004 outbound PAT"]
        assert not rules.diagnostics


def test_nat_kinds_and_translations(fw: RuleSet) -> None:
    nats = {n.name: n for n in fw.nats}
    assert [n.name for n in fw.nats] == ["OUT-PAT", "WEB-STATIC", "PORT-FWD", "TO-PROXY"]
    pat = nats["OUT-PAT"]
    assert pat.kind is NatKind.PAT and pat.translate_to_interface == "ethernet1/1"
    assert pat.ingress == ("trust",) and pat.egress == ("untrust",) and pat.context == "vsys1"
    static = nats["WEB-STATIC"]
    assert static.kind is NatKind.STATIC and static.bidirectional
    assert static.match.src == AddressSet.parse("10.1.1.10") and static.translated_src == AddressSet.parse(
        "203.0.113.10"
    )
    fwd = nats["PORT-FWD"]
    assert fwd.kind is NatKind.DESTINATION and fwd.is_port_forward
    assert fwd.match.dst == AddressSet.parse("203.0.113.10") and fwd.match.services == (tcp(8080),)
    assert fwd.translated_dst == AddressSet.parse("10.1.1.11") and fwd.translated_dst_ports == PortSet.of(80)
    twice = nats["TO-PROXY"]
    assert twice.kind is NatKind.TWICE and twice.enabled is False and twice.sequence == 4
    assert twice.translated_src == AddressSet.parse("203.0.113.50-203.0.113.60")
    assert twice.translated_dst == AddressSet.parse("198.51.100.10-198.51.100.20")
    assert twice.translated_dst_ports == PortSet.of(3128)
    assert set(twice.match.services) == {tcp(8080), tcp(80, 443)}


def test_security_rules(fw: RuleSet) -> None:
    rules = {f.name: f for f in fw.filters}
    assert all(f.list_name == "security" for f in fw.filters)
    web = rules["allow-web"]
    assert web.action is Action.PERMIT and web.comment == "CHG-5005 web egress"
    assert web.match.src == AddressSet.parse("10.1.1.10/31") and web.match.src.names == ("WEB-SERVERS",)
    assert "updates.example.com" in web.match.dst.fqdns
    # web-browsing and ssl are TCP applications: the service group's udp/53 member matches neither
    assert set(web.match.services) == {tcp(80, 443)}
    assert web.options == frozenset({"application:web-browsing", "application:ssl"})
    assert rules["inbound-web"].match.services == (Service(6, dst_ports=PortSet.of(80, 8080)),)
    negated = rules["not-internal"]
    assert negated.enabled is False and negated.action is Action.DENY
    assert negated.match.dst == ANY_ADDRESS.difference(AddressSet.parse("10.1.1.10/31"))
    assert negated.match.services == (ANY_SERVICE,) and "application-default" in negated.options
    assert rules["deny-all"].action is Action.REJECT and rules["deny-all"].from_zones == ("any",)
    zones = {(b.name, b.interface) for b in fw.bindings if b.kind is BindingKind.ZONE}
    assert zones == {("untrust", "ethernet1/1"), ("trust", "ethernet1/2.10")}
    sub = next(i for i in fw.interfaces if i.name == "ethernet1/2.10")
    assert sub.zone == "trust" and sub.vrf == "default" and sub.addresses == AddressSet.parse("10.1.1.1")


def test_panorama_scopes_and_shared_objects() -> None:
    rules = _load("forms_panorama.set")
    assert [(f.list_name, f.name) for f in rules.filters] == [
        ("BRANCH/pre-security", "pre-allow-dns"),
        ("BRANCH/pre-security", "pre-ssh"),
        ("BRANCH/post-security", "post-deny"),
    ]
    ssh = rules.filters[1]
    assert ssh.match.src == AddressSet.parse("10.20.0.0/16", "192.0.2.53")  # group mixes DG and shared members
    assert ssh.match.services == (tcp(22),) and "source-user:corp\\admins" in ssh.options
    dyn = next(n for n in rules.nats if n.name == "BR-DYN")
    assert dyn.kind is NatKind.DYNAMIC and dyn.context == "BRANCH" and dyn.section == "pre"
    assert {(o.context, o.name) for o in rules.objects} >= {("shared", "SHARED-DNS"), ("BRANCH", "BRANCH-LAN")}


def test_corpus_files() -> None:
    nat_service = _load("nat-service.set")
    group = next(n for n in nat_service.nats if n.name == "RULE_GROUP")
    assert set(group.match.services) == {tcp(1234), tcp(2345)}  # later `service` replaces SERVICE3
    assert [d.code for d in nat_service.diagnostics] == ["PANOS-UNKNOWN-SERVICE"]
    rulebase = _load("rulebase-nat.set")
    assert [n.name for n in rulebase.nats] == ["RULE1", "2nd_RULE"]  # first-appearance order
    first = rulebase.nats[0]
    assert first.enabled is False and first.translated_src == AddressSet.parse(
        "1.1.1.1", "2.2.2.0/24", "3.3.3.3-4.4.4.4"
    )
    second = rulebase.nats[1]
    assert second.kind is NatKind.TWICE and second.translated_dst_ports == PortSet.of(1234)
    assert second.translated_dst is not None and second.translated_dst.names == ("DST_2",)
    dest = _load("destination-nat.conf")
    assert [n.translated_dst_ports for n in dest.nats] == [None, None, PortSet.of(1234)]
    skillet = _load("iron-skillet_panos_full.set")
    block = next(f for f in skillet.filters if f.name == "Outbound Block Rule")
    assert block.action is Action.DENY and "edl:panw-known-ip-list" in block.match.dst.fqdns
    assert not skillet.diagnostics and not _load("iron-skillet_panos_full.xml").diagnostics
    aerleon = _load("aerleon_sample_paloalto.xml")
    assert len(aerleon.filters) == 7 and not aerleon.diagnostics


def test_detect_and_bad_xml() -> None:
    assert PARSER.forms == ("set", "brace", "xml")
    for name in ("forms_fw.set", "forms_fw.conf", "forms_fw.xml"):
        assert detect((FIXTURES / name).read_text())
    assert not detect("set security nat source rule-set RS from zone trust\n")
    broken = parse("<config><devices><entry name='x'><vsys>")
    assert [d.code for d in broken.diagnostics] == ["PANOS-XML-UNREADABLE"]
    entity = parse('<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><config>&e;</config>')
    assert isinstance(entity, RuleSet) and not entity.filters


# -- property tests -------------------------------------------------------------------------------

_v4 = st.builds(
    lambda value, length: ipaddress.ip_network((value, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
_port = st.integers(1, 65535)


@settings(max_examples=60, deadline=None)
@given(src=_v4, dst=_v4, port=_port, mapped=_port, xml=st.booleans())
def test_port_forward_round_trips(
    src: ipaddress.IPv4Network, dst: ipaddress.IPv4Network, port: int, mapped: int, xml: bool
) -> None:
    target = dst.network_address
    if xml:
        text = (
            "<config><devices><entry name='d'><vsys><entry name='vsys1'>"
            f"<service><entry name='S'><protocol><tcp><port>{port}</port></tcp></protocol></entry></service>"
            "<rulebase><nat><rules><entry name='R'><from><member>untrust</member></from>"
            f"<source><member>{src}</member></source><destination><member>{dst}</member></destination>"
            f"<service>S</service><destination-translation><translated-address>{target}</translated-address>"
            f"<translated-port>{mapped}</translated-port></destination-translation></entry></rules></nat>"
            "</rulebase></entry></vsys></entry></devices></config>"
        )
    else:
        text = (
            f"set service S protocol tcp port {port}\n"
            "set rulebase nat rules R from untrust\n"
            f"set rulebase nat rules R source {src}\n"
            f"set rulebase nat rules R destination {dst}\n"
            "set rulebase nat rules R service S\n"
            f"set rulebase nat rules R destination-translation translated-address {target}\n"
            f"set rulebase nat rules R destination-translation translated-port {mapped}\n"
        )
    (rule,) = parse(text).nats
    assert rule.match.src == AddressSet.parse(str(src)) and rule.match.dst == AddressSet.parse(str(dst))
    assert rule.match.services == (tcp(port),)
    assert rule.translated_dst == AddressSet.parse(str(target)) and rule.translated_dst_ports == PortSet.of(mapped)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "set",
                "rulebase",
                "nat",
                "rules",
                "R",
                "{",
                "}",
                ";",
                "[",
                "]",
                "<entry",
                "name='x'>",
                "</entry>",
                "<config>",
                "source",
                "destination-translation",
                "translated-port",
                "99999",
                "\n",
                "1.2.3.4/40",
            ]
        ),
        max_size=60,
    )
)
def test_random_token_soup_never_crashes(tokens: list[str]) -> None:
    assert isinstance(parse(" ".join(tokens)), RuleSet)


_PAN_BEFORE = """set zone trust network layer3 ethernet1/2
set zone untrust network layer3 ethernet1/1
set address LAN ip-netmask 10.1.0.0/16
set service svc-proxy protocol tcp port 3128
set rulebase security rules web from trust
set rulebase security rules web to untrust
set rulebase security rules web source LAN
set rulebase security rules web destination any
set rulebase security rules web application web-browsing
set rulebase security rules web service application-default
set rulebase security rules web action allow
"""


def test_several_settings_on_one_set_line() -> None:
    """The PAN-OS CLI takes sibling settings in one `set` command; each one is modelled, none dropped
    (a NAT line's translation after `from ZONE` was lost, leaving a rule that translated nothing)."""
    after = _PAN_BEFORE + (
        "set rulebase security rules px from trust to untrust source LAN destination [ 198.51.100.7 198.51.100.8 ]"
        ' application any service svc-proxy action allow description "to proxy"\n'
        "set rulebase nat rules redir from trust to untrust source LAN destination 10.1.0.250 service svc-proxy"
        " destination-translation translated-address 198.51.100.80 translated-port 1080\n"
        "set rulebase nat rules snat from trust to untrust source LAN destination any service any"
        " source-translation dynamic-ip-and-port interface-address interface ethernet1/1 ip 203.0.113.2/24\n"
    )
    rules = parse(after)
    assert not rules.diagnostics
    policy = next(rule for rule in rules.filters if rule.name == "px")
    assert policy.action is Action.PERMIT and policy.from_zones == ("trust",) and policy.to_zones == ("untrust",)
    assert policy.match.dst == AddressSet.parse("198.51.100.7-198.51.100.8")
    assert policy.match.services == (tcp(3128),) and policy.comment == "to proxy"
    redir, snat = rules.nats
    assert redir.kind is NatKind.DESTINATION and redir.translated_dst == AddressSet.parse("198.51.100.80")
    assert redir.translated_dst_ports == PortSet.of(1080) and redir.match.src == AddressSet.parse("10.1.0.0/16")
    assert snat.kind is NatKind.PAT and snat.translate_to_interface == "ethernet1/1"
    assert snat.translated_src == AddressSet.parse("203.0.113.2")
    egress("paloalto_panos", _PAN_BEFORE, after, "rules redir")
    egress("paloalto_panos", _PAN_BEFORE, after, "rules px")


def test_dynamic_address_group_resolves_tagged_objects() -> None:
    """A dynamic address group matches address objects whose tags satisfy its filter (`and`/`or`,
    parentheses); tagging a public object widens every rule using the group (run-time registered
    addresses stay an opaque member, with a diagnostic)."""
    before = _PAN_BEFORE + (
        "set address VPS ip-netmask 198.51.100.7\n"
        "set address IN ip-netmask 10.2.2.2\n"
        "set address IN tag relay\n"
        "set address-group RELAYS dynamic filter \"'relay' and ('ext' or 'dmz')\"\n"
        "set rulebase security rules px from trust to untrust source LAN destination RELAYS"
        " application any service svc-proxy action allow\n"
    )
    assert parse(before).filters[-1].match.dst.ranges() == []  # no object matches yet
    tagged = "set address IN tag relay\nset address VPS tag [ relay ext ]\n"
    after = before.replace("set address IN tag relay\n", tagged)
    policy = parse(after).filters[-1]
    assert policy.match.dst.contains_ip("198.51.100.7")
    assert not policy.match.dst.contains_ip("10.2.2.2")
    change = egress("paloalto_panos", before, after, "rules px", frozenset({"PANOS-DYNAMIC-GROUP"}))
    assert tuple(change.affected.public.ranges()) == ("198.51.100.7",)


def test_command_script_lines_and_move() -> None:
    """A set-command script (`configure` ... `commit`) is read whole: the session lines are not
    statements that swallow the next lines (the whole rulebase was silently lost). `move ... top|bottom|
    before|after` reorders the rulebase (first match wins); a move naming no rule is a diagnostic."""
    script = (
        "configure\n"
        + _PAN_BEFORE
        + (
            "set rulebase security rules px from trust to untrust source LAN destination 198.51.100.7"
            " application any service svc-proxy action allow\n"
            "move rulebase security rules px top\n"
            "commit\n"
        )
    )
    rules = parse(script)
    assert not rules.diagnostics
    assert [rule.name for rule in rules.filters] == ["px", "web"]
    bottom = parse(script.replace("rules px top", "rules px after web"))
    assert [rule.name for rule in bottom.filters] == ["web", "px"]
    missing = parse(script.replace("rules px top", "rules px before nope"))
    assert [d.code for d in missing.diagnostics] == ["PANOS-SET-VERB-UNSUPPORTED"]
    egress("paloalto_panos", "configure\n" + _PAN_BEFORE + "commit\n", script, "rules px")


def test_dynamic_destination_translation_to_an_fqdn_is_an_egress_forward() -> None:
    """`dynamic-destination-translation translated-address relay` with `relay` an fqdn object: clients from
    the trust zone are sent to whatever the name resolves to (an Internet host) on 9050. From untrust the
    same rule publishes a server (no egress)."""
    before = _PAN_BEFORE + "set address relay fqdn relay.example.net\nset address vip ip-netmask 10.1.0.250\n"
    rule = (
        "set rulebase nat rules redir from trust to untrust source LAN destination vip service service-http"
        " dynamic-destination-translation translated-address relay translated-port 9050\n"
    )
    change = egress("paloalto_panos", before, before + rule, "rules redir")
    assert change.affected.public.fqdns == frozenset({"relay.example.net"})
    inbound = rule.replace("from trust", "from untrust").replace("source LAN", "source any")
    published = [c for c in changes("paloalto_panos", before, before + inbound) if c.family == "nat"]
    assert published and all("egress-forward" not in c.categories for c in published)
