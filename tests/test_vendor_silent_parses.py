"""Issue 15 items 10-11: hierarchies that held rules but parsed to nothing are diagnostics (Junos [services]);
FortiOS multi-line quoted comments are read whole; RouterOS item-change syslog lines attribute the change."""

from __future__ import annotations

from pathlib import Path

from cfgwatch.policy.attribution import attribute, parse_syslog_line, read_syslog
from cfgwatch.policy.tickets import ticket_ids_in
from cfgwatch.vendors.fortinet.parser import parse as parse_forti
from cfgwatch.vendors.juniper_junos.parser import parse as parse_junos

SFW = """services {
    stateful-firewall {
        rule allow-web {
            match-direction input;
            term t1 {
                from {
                    source-address {
                        10.0.0.0/8;
                    }
                    applications junos-http;
                }
                then {
                    accept;
                }
            }
        }
    }
    nat {
        rule nat-out {
            match-direction input;
            term t1 {
                then {
                    translated {
                        source-pool p1;
                    }
                }
            }
        }
    }
}
"""


def test_junos_services_stateful_firewall_rules_are_diagnostics() -> None:
    rules = parse_junos(SFW)
    codes = [d.code for d in rules.diagnostics]
    assert codes == ["JUNOS-SERVICES-STATEFUL-FIREWALL-UNSUPPORTED", "JUNOS-SERVICES-NAT-UNSUPPORTED"]
    assert "allow-web" in rules.diagnostics[0].message and "not modelled" in rules.diagnostics[0].message


def test_junos_services_set_form_one_diagnostic_per_rule() -> None:
    text = "\n".join(
        [
            "set services stateful-firewall rule r1 match-direction input",
            "set services stateful-firewall rule r1 term t from source-address 10.0.0.0/8",
            "set services stateful-firewall rule r1 term t then accept",
            "set services stateful-firewall rule r2 term t then discard",
            "set services service-set ss1 stateful-firewall-rules r1",
        ]
    )
    diags = parse_junos(text + "\n").diagnostics
    assert [(d.code, d.line) for d in diags] == [
        ("JUNOS-SERVICES-STATEFUL-FIREWALL-UNSUPPORTED", 1),
        ("JUNOS-SERVICES-STATEFUL-FIREWALL-UNSUPPORTED", 4),
    ]


FORTI = """config firewall policy
    edit 7
        set name "vendor-access"
        set srcintf "port2"
        set dstintf "port1"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set schedule "always"
        set service "HTTPS"
        set comments "opened for the vendor
CHG-4521 approved by bob
next: remove on friday"
        set logtraffic all
    next
    edit 8
        set name "after"
        set srcintf "port2"
        set dstintf "port1"
        set srcaddr "all"
        set dstaddr "all"
        set action deny
        set schedule "always"
        set service "ALL"
    next
end
"""


def test_fortios_multiline_comment_is_read_whole() -> None:
    rules = parse_forti(FORTI)
    assert not rules.diagnostics
    first, second = rules.filters
    assert first.comment == "opened for the vendor\nCHG-4521 approved by bob\nnext: remove on friday"
    assert ticket_ids_in(first.comment, r"CHG-\d+", set()) == ["CHG-4521"]
    assert first.source is not None and first.source.end_line == 15
    assert second.name == "after" and second.comment is None  # `next:` inside the quotes closed nothing


def test_fortios_unclosed_quote_changes_nothing() -> None:
    text = FORTI.replace('next: remove on friday"', "next: remove on friday")
    rules = parse_forti(text)
    assert rules.filters  # an unterminated value is left as it was, line by line


ROS_LINES = [
    "Mar  4 14:02:11 rtr1 system,info nat rule added by admin",
    "2025-03-04T14:03:11Z rtr1 system,info filter rule changed by winbox-3.40/tcp-msg(winbox):alice@10.0.0.5/"
    "action:133 (/ip firewall filter set *5 disabled=no)",
    "Mar  4 14:04:11 rtr1 system,info address list entry removed by ssh:bob@2001:db8::5/action:7",
]


def test_routeros_item_changes_attribute_the_change(tmp_path: Path) -> None:
    events = [parse_syslog_line(line, "log", number, 2025) for number, line in enumerate(ROS_LINES, 1)]
    assert [(e.kind, e.user, e.origin, e.device) for e in events if e is not None] == [
        ("routeros-item", "admin", None, "rtr1"),
        ("routeros-item", "alice", "10.0.0.5", "rtr1"),
        ("routeros-item", "bob", "2001:db8::5", "rtr1"),
    ]
    log = tmp_path / "syslog"
    log.write_text("\n".join(ROS_LINES[:1]) + "\n")
    scan = read_syslog([log])
    start = scan.events[0].time.replace(minute=0)
    who = attribute("rtr1", scan.events, start, scan.events[0].time, None, None)
    assert (who.user, who.how) == ("admin", "syslog:routeros-item")
