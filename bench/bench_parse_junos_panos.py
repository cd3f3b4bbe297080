#!/usr/bin/env python3
"""Parse CPU of the Junos (set and curly) and PAN-OS (set and XML) parsers on generated configs.

Each 50k-line config has 2,000 NAT rules, 10,000 filter terms / security rules / address objects and
filler (curly Junos the same statements at a third of the count, as braces take ~3 lines per statement).
Per form: a plain line scan of the same text and the parse alternate, caches cleared before every run;
printed are CPU/wall medians, the ratio to the scan and the load, one GOAL line `parse FORM 50k lines`
(<= 0.5 s CPU, issue 19 goal 3) and a 5k/50k/200k growth line (rule counts scale with the size).

    .venv/bin/python bench/bench_parse_junos_panos.py [--quick] [--form "juniper_junos set"] [--runs N] [--json F]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _parse_run import Form, add_args, run

TARGET_LINES = 50_000
NAT_RULES = 2_000
ACL_ENTRIES = 10_000


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def junos_set(nat_rules: int = NAT_RULES, acl_entries: int = ACL_ENTRIES, target: int = TARGET_LINES) -> str:
    """Set form: source/destination NAT rules, filter terms, policies, address book, interface filler."""
    out: list[str] = []
    out.append("set security nat source pool P1 address 203.0.113.1/32 to 203.0.113.20/32")
    for n in range(nat_rules // 2):
        rs = f"set security nat source rule-set RS{n // 100}"
        out.append(f"{rs} rule R{n} match source-address {_ip(n)}/32")
        out.append(f"{rs} rule R{n} then source-nat pool P1")
    for n in range(nat_rules // 2):
        out.append(f"set security nat destination pool D{n} address {_ip(n, 172)}/32 port {1024 + n % 5000}")
        rs = f"set security nat destination rule-set DS{n // 100}"
        out.append(f"{rs} rule R{n} match destination-address {_ip(n, 198)}/32")
        out.append(f"{rs} rule R{n} match destination-port {80 + n % 1000}")
        out.append(f"{rs} rule R{n} then destination-nat pool D{n}")
    for n in range(acl_entries // 2):
        term = f"set firewall family inet filter F{n // 500} term t{n}"
        out.append(f"{term} from source-address {_ip(n)}/32")
        out.append(f"{term} from protocol tcp")
        out.append(f"{term} from destination-port {n % 65535}")
        out.append(f"{term} then accept")
    for n in range(acl_entries // 2):
        pol = f"set security policies from-zone trust to-zone untrust policy p{n}"
        out.append(f"set security address-book global address A{n} {_ip(n, 100)}/32")
        out.append(f"{pol} match source-address A{n}")
        out.append(f"{pol} match application junos-https")
        out.append(f"{pol} then permit")
    n = 0
    while len(out) < target:
        out.append(f"set interfaces ge-0/{n // 100}/{n % 100} unit 0 description filler-{n}")
        n += 1
    return "\n".join(out[:target]) + "\n"


def junos_curly(set_text: str) -> str:
    """The same statements as curly text (one leaf per line, blocks opened and closed as paths change)."""
    lines: list[str] = []
    stack: list[str] = []
    for raw in set_text.splitlines():
        tokens = raw.split()[1:]
        keep = _curly_split(tokens)
        common = 0
        while common < len(stack) and common < len(keep) and stack[common] == keep[common]:
            common += 1
        while len(stack) > common:
            stack.pop()
            lines.append("    " * len(stack) + "}")
        for token in keep[common:]:
            lines.append("    " * len(stack) + f"{token} {{")
            stack.append(token)
        lines.append("    " * len(stack) + " ".join(tokens[_curly_len(tokens) :]) + ";")
    while stack:
        stack.pop()
        lines.append("    " * len(stack) + "}")
    return "\n".join(lines) + "\n"


_CONTAINERS = {"rule-set": 2, "rule": 2, "filter": 2, "term": 2, "policy": 2, "from-zone": 4, "pool": 2}


def _curly_len(tokens: list[str]) -> int:
    """How many leading tokens are containers: everything but the last keyword/value pair."""
    index, blocks = 0, 0
    while index < len(tokens) - 2:
        step = _CONTAINERS.get(tokens[index], 1)
        if index + step >= len(tokens) - 1:
            break
        index += step
        blocks = index
    return blocks


def _curly_split(tokens: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    end = _curly_len(tokens)
    while index < end:
        step = _CONTAINERS.get(tokens[index], 1)
        out.append(" ".join(tokens[index : index + step]))
        index += step
    return out


def panos_set(nat_rules: int = NAT_RULES, acl_entries: int = ACL_ENTRIES, target: int = TARGET_LINES) -> str:
    """Set form: NAT rules (PAT + port forwards), security rules, address objects, filler."""
    out: list[str] = []
    for n in range(nat_rules):
        rule = f"set rulebase nat rules N{n}"
        out.append(f"{rule} from trust")
        out.append(f"{rule} source {_ip(n)}")
        out.append(f"{rule} destination {_ip(n, 198)}")
        out.append(f"{rule} destination-translation translated-address {_ip(n, 172)}")
        out.append(f"{rule} destination-translation translated-port {1024 + n % 5000}")
    for n in range(acl_entries):
        rule = f"set rulebase security rules S{n}"
        if n % 2 == 0:
            out.append(f"set address A{n} ip-netmask {_ip(n, 100)}/32")
            out.append(f"{rule} source A{n}")
        else:
            out.append(f"{rule} source {_ip(n)}")
            out.append(f"{rule} to untrust")
        out.append(f"{rule} action allow")
        out.append(f"{rule} service service-https")
    n = 0
    while len(out) < target:
        out.append(f"set network interface ethernet ethernet1/{n} comment filler-{n}")
        n += 1
    return "\n".join(out[:target]) + "\n"


def panos_xml(nat_rules: int = NAT_RULES, acl_entries: int = ACL_ENTRIES, target: int = TARGET_LINES) -> str:
    """XML form of a comparable config, about 50k lines."""
    out = ["<config><devices><entry name='localhost.localdomain'><vsys><entry name='vsys1'>", "<rulebase><nat><rules>"]
    for n in range(nat_rules):
        out.extend(
            [
                f"<entry name='N{n}'>",
                "<from><member>trust</member></from>",
                f"<source><member>{_ip(n)}</member></source>",
                f"<destination><member>{_ip(n, 198)}</member></destination>",
                "<destination-translation>",
                f"<translated-address>{_ip(n, 172)}</translated-address>",
                f"<translated-port>{1024 + n % 5000}</translated-port>",
                "</destination-translation>",
                "</entry>",
            ]
        )
    out.append("</rules></nat><security><rules>")
    for n in range(acl_entries // 2):
        out.extend(
            [
                f"<entry name='S{n}'>",
                f"<source><member>{_ip(n)}</member></source>",
                "<service><member>service-https</member></service>",
                "<action>allow</action>",
                "</entry>",
            ]
        )
    out.append("</rules></security></rulebase>")
    filler = target - len(out) - 2
    out.extend(f"<tag><entry name='filler-{n}'/></tag>" for n in range(max(0, filler)))
    out.append("</entry></vsys></entry></devices></config>")
    return "\n".join(out) + "\n"


def _scaled(count: int, lines: int) -> int:
    return max(2, round(count * lines / TARGET_LINES))


def junos_set_lines(lines: int) -> str:
    return junos_set(_scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines), lines)


def junos_curly_lines(lines: int) -> str:
    # curly text spends ~3 lines per set statement on braces: same rule mix at a third of the size
    target = round(14_000 * lines / TARGET_LINES)
    return junos_curly(junos_set(_scaled(NAT_RULES // 3, lines), _scaled(ACL_ENTRIES // 3, lines), target))


def panos_set_lines(lines: int) -> str:
    return panos_set(_scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines), lines)


def panos_xml_lines(lines: int) -> str:
    return panos_xml(_scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines), lines)


def forms() -> list[Form]:
    from cfgwatch.vendors.juniper_junos.parser import parse as junos
    from cfgwatch.vendors.paloalto_panos.parser import parse as panos

    return [
        Form("juniper_junos set", junos_set_lines, junos),
        Form("juniper_junos curly", junos_curly_lines, junos),
        Form("paloalto_panos set", panos_set_lines, panos),
        Form("paloalto_panos xml", panos_xml_lines, panos),
    ]


NAMES = ("juniper_junos set", "juniper_junos curly", "paloalto_panos set", "paloalto_panos xml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_args(parser, NAMES)
    args = parser.parse_args()
    return run("parse_junos_panos", forms(), args)


if __name__ == "__main__":
    sys.exit(main())
