"""PAN-OS App-ID (issue 15 item 3): a rule that selects by application matches the application's protocols,
on its default ports with `service application-default`; unknown applications are diagnostics."""

from __future__ import annotations

from cfgwatch.classify.networks import Networks
from cfgwatch.model import ANY_SERVICE, PortSet, Service, tcp, udp
from cfgwatch.model.changes import RuleChange
from cfgwatch.revisions import diff_device
from cfgwatch.vendors.paloalto_panos.appid import APP_DEFAULTS, app_services
from cfgwatch.vendors.paloalto_panos.parser import parse


def _rule(name: str, app: str, service: str, action: str = "allow") -> str:
    head = f"set rulebase security rules {name}"
    return "\n".join(
        [
            f"{head} from trust",
            f"{head} to untrust",
            f"{head} source any",
            f"{head} destination any",
            f"{head} application {app}",
            f"{head} service {service}",
            f"{head} action {action}",
        ]
    )


ZONES = "set zone trust network layer3 ethernet1/2\nset zone untrust network layer3 ethernet1/1\n"


def _services(app: str, service: str, action: str = "allow", extra: str = "") -> tuple[Service, ...]:
    rules = parse(ZONES + extra + _rule("r", app, service, action) + "\n")
    (rule,) = rules.filters
    return rule.match.services


def test_application_default_means_the_default_ports() -> None:
    assert set(_services("[ ssh web-browsing ]", "application-default")) == {tcp(22), tcp(80)}
    assert set(_services("dns", "application-default")) == {tcp(53), udp(53)}


def test_protocol_applications_are_their_ip_protocol_not_any() -> None:
    assert _services("gre", "any") == (Service(47),)
    assert _services("icmp", "application-default") == (Service(1),)
    assert set(_services("ping", "any")) == {Service(1, icmp_type=8), Service(58, icmp_type=128)}


def test_service_any_allows_the_application_on_every_port_of_its_protocols() -> None:
    assert _services("ssh", "any") == (Service(6),)
    assert set(_services("dns", "any")) == {Service(6), Service(17)}


def test_explicit_services_are_limited_to_the_applications_protocols() -> None:
    extra = "set service s8022 protocol tcp port 8022\nset service u53 protocol udp port 53\n"
    extra += "set service-group mixed members [ s8022 u53 ]\n"
    assert _services("ssh", "mixed", extra=extra) == (tcp(8022),)
    assert _services("ssh", "u53", extra=extra) == ()  # ssh never runs over UDP: the rule matches nothing


def test_application_groups_and_custom_applications() -> None:
    extra = "set application-group grp members [ dns mine ]\nset application mine default port tcp/8443,9000-9010\n"
    found = set(_services("grp", "application-default", extra=extra))
    assert found == {tcp(53), udp(53), Service(6, dst_ports=PortSet.of(8443, (9000, 9010)))}


def test_unknown_application_is_a_diagnostic_judged_conservatively() -> None:
    up = _rule("up", "no-such-app", "application-default")
    rules = parse(ZONES + up + "\n" + _rule("down", "no-such-app", "any", "deny") + "\n")
    allow, deny = rules.filters
    assert allow.match.services == (ANY_SERVICE,)  # an allow rule: as broad as it could be
    assert deny.match.services == ()  # a deny rule: hides no later allow rule
    messages = [d.message for d in rules.diagnostics if d.code == "PANOS-UNKNOWN-APPLICATION"]
    assert len(messages) == 2
    assert "any protocol and port" in messages[0] and "matching nothing" in messages[1]


def test_any_application_keeps_the_services() -> None:
    assert _services("any", "any") == (ANY_SERVICE,)


def test_table_entries_are_well_formed() -> None:
    for name in APP_DEFAULTS:
        services = app_services(name)
        assert services, name
        for service in services:
            assert service.protocol is not None and 0 < service.protocol < 256
    assert app_services("not-an-app") is None


def _one_change(before: tuple[str, str], after: tuple[str, str]) -> RuleChange:
    texts = [ZONES + _rule("r", app, service) + "\n" for app, service in (before, after)]
    (change,) = diff_device("fw", "paloalto_panos", texts[0], texts[1], Networks.default()).changes
    return change


def test_ping_to_any_application_is_a_widening() -> None:
    assert "acl-widened" in _one_change(("ping", "any"), ("any", "any")).categories


def test_application_default_to_service_any_opens_other_ports() -> None:
    change = _one_change(("ssh", "application-default"), ("ssh", "any"))
    assert "acl-widened" in change.categories
    assert not change.affected.ports.contains_port(22) and change.affected.ports.contains_port(2222)


def test_custom_application_identified_by_icmp_type() -> None:
    """aerleon writes ICMP terms as custom applications `default ident-by-icmp-type type 8` (oracle finding)."""
    extra = "set application echo-req default ident-by-icmp-type type 8\n"
    extra += "set application v6-echo default ident-by-icmp6-type type 128\n"
    extra += "set application v6-echo default ident-by-icmp6-type code 0\n"
    assert _services("echo-req", "application-default", extra=extra) == (Service(1, icmp_type=8),)
    assert _services("v6-echo", "any", extra=extra) == (Service(58, icmp_type=128, icmp_code=0),)


def test_socks_application_default_is_a_proxy_port() -> None:
    """App-ID `socks` (Applipedia standard ports tcp/1080, udp/1080): a permit of it on its default
    ports to a public host is an egress forward on a proxy port, not an unknown application."""
    assert set(_services("socks", "application-default")) == {tcp(1080), udp(1080)}
