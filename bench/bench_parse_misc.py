#!/usr/bin/env python3
"""Parse CPU of the fortinet, linux (iptables-save, nftables), mikrotik_routeros and vyos parsers.

Each 50k-line config has about 2,000 NAT rules, as many filter entries as the platform's syntax fits
(10,000 where it does) and filler the parser must skip; rule counts scale with the size. Per form: a
plain line scan of the same text and the parse alternate, caches cleared before every run; printed are
CPU/wall medians, the ratio to the scan and the load, one GOAL line `parse FORM 50k lines` (<= 0.5 s
CPU, issue 19 goal 3) and a 5k/50k/200k growth line.

    .venv/bin/python bench/bench_parse_misc.py [--quick] [--form vyos] [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _parse_run import Form, add_args, run

NAT_RULES = 2_000
ACL_ENTRIES = 10_000
SIZE = 50_000


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def _scaled(count: int, lines: int) -> int:
    return max(2, round(count * lines / SIZE))


def gen_fortinet(lines: int) -> str:
    hosts, vips = _scaled(2_000, lines), _scaled(NAT_RULES // 2, lines)
    out = ["config system interface"]
    for index in range(8):
        out += [f'    edit "port{index}"', f"        set ip {_ip(index, 172)} 255.255.255.0", "    next"]
    out += ["end", "config firewall address"]
    for index in range(hosts):
        out += [f'    edit "h{index}"', f"        set subnet {_ip(index)} 255.255.255.255", "    next"]
    out += ["end", "config firewall vip"]
    for index in range(vips):
        out += [f'    edit "vip{index}"', f"        set extip {_ip(index, 203)}", '        set extintf "port1"',
                "        set portforward enable", f'        set mappedip "{_ip(index)}"',
                f"        set extport {1024 + index}", "        set mappedport 443", "    next"]  # fmt: skip
    out += ["end", "config firewall policy"]
    policy = 0
    while len(out) < lines * 0.9:
        nat = policy < vips
        out += [f"    edit {policy + 1}", f'        set name "p{policy}"', '        set srcintf "port2"',
                '        set dstintf "port1"', f'        set srcaddr "h{policy % hosts}"',
                f'        set dstaddr "{"all" if nat else f"vip{policy % vips}"}"', "        set action accept",
                '        set schedule "always"', '        set service "HTTPS"']  # fmt: skip
        if nat:
            out.append("        set nat enable")
        out.append("    next")
        policy += 1
    out.append("end")
    out += ["config system global", '    set hostname "bench"']
    index = 0
    while len(out) < lines - 1:
        out.append(f"    set admin-timeout {index % 480 + 1}")
        index += 1
    out.append("end")
    return "\n".join(out[:lines]) + "\n"


def gen_linux_iptables(lines: int) -> str:
    nats, entries = _scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines)
    out = ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for index in range(nats):
        if index % 2:
            out.append(f"-A POSTROUTING -s {_ip(index)}/32 -o eth0 -j SNAT --to-source {_ip(index, 203)}")
        else:
            out.append(
                f"-A PREROUTING -i eth0 -d {_ip(index, 203)}/32 -p tcp -m tcp --dport {1024 + index} "
                f"-j DNAT --to-destination {_ip(index)}:443"
            )
    out += ["COMMIT", "*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "-N CUSTOM"]
    for index in range(entries):
        chain = "CUSTOM" if index % 10 == 0 else "FORWARD"
        out.append(
            f"-A {chain} -s {_ip(index)}/32 -d {_ip(index, 172)}/24 -p tcp -m multiport --dports 80,443 "
            "-m conntrack --ctstate NEW -j ACCEPT"
        )
    out += ["-A FORWARD -j CUSTOM", "COMMIT", "*mangle", ":PREROUTING ACCEPT [0:0]"]
    index = 0
    while len(out) < lines - 1:
        out.append(
            f"# filler comment {index}" if index % 2 else f"-A PREROUTING -s {_ip(index)} -j MARK --set-xmark 0x1"
        )
        index += 1
    out.append("COMMIT")
    return "\n".join(out[:lines]) + "\n"


def gen_linux_nftables(lines: int) -> str:
    nats, entries = _scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines)
    out = ["table ip nat {", "\tchain prerouting {", "\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    for index in range(nats // 2):
        out.append(f'\t\tiifname "wan0" ip daddr {_ip(index, 203)} tcp dport {1024 + index} dnat to {_ip(index)}:443')
    out += ["\t}", "\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;"]
    for index in range(nats // 2):
        out.append(f'\t\toifname "wan0" ip saddr {_ip(index)} snat to {_ip(index, 203)}')
    out += ["\t}", "}", "table inet filter {", "\tchain forward {",
            "\t\ttype filter hook forward priority filter; policy drop;"]  # fmt: skip
    for index in range(entries):
        out.append(f"\t\tip saddr {_ip(index)} ip daddr {_ip(index, 172)}/24 tcp dport {{ 80, 443 }} accept")
    # filler as the issue specifies it (not more rules): a large blocklist set, one element per line as
    # `nft -f` files keep it, and comments
    out += ["\t}", "\tset filler_blocklist {", "\t\ttype ipv4_addr", "\t\telements = {"]
    index = 0
    while len(out) < lines - 4:
        out.append(f"\t\t\t{_ip(index, 100)}," if index % 2 else f"\t\t\t# filler comment {index}")
        index += 1
    out += [f"\t\t\t{_ip(index, 100)}", "\t\t}", "\t}", "}"]
    return "\n".join(out) + "\n"


def gen_mikrotik_routeros(lines: int) -> str:
    nats, entries = _scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines)
    out = ["# by RouterOS 7.14", "/ip firewall address-list"]
    for index in range(_scaled(1_000, lines)):
        out.append(f"add address={_ip(index)} list=list{index % 50}")
    out.append("/ip firewall nat")
    for index in range(nats):
        if index % 2:
            out.append(f"add action=src-nat chain=srcnat src-address={_ip(index)} to-addresses={_ip(index, 203)}")
        else:
            out += [f"add action=dst-nat chain=dstnat dst-address={_ip(index, 203)} dst-port={1024 + index} \\",
                    f"    protocol=tcp to-addresses={_ip(index)} to-ports=443"]  # fmt: skip
    out.append("/ip firewall filter")
    for index in range(entries):
        out.append(
            f"add action=accept chain=forward src-address-list=list{index % 50} dst-address={_ip(index, 172)}/24 "
            f'dst-port=80,443 protocol=tcp comment="rule {index}"'
        )
    out.append("/ip dns static")
    index = 0
    while len(out) < lines:
        out.append(f"add address={_ip(index, 192)} name=host{index}.lan type=A")
        index += 1
    return "\n".join(out[:lines]) + "\n"


def gen_vyos(lines: int) -> str:
    nats, entries = _scaled(NAT_RULES, lines), _scaled(ACL_ENTRIES, lines)
    out: list[str] = []
    for index in range(nats):
        number = index + 1
        if index % 2:
            out += [f"set nat source rule {number} outbound-interface name 'eth0'",
                    f"set nat source rule {number} source address '{_ip(index)}'",
                    f"set nat source rule {number} translation address '{_ip(index, 203)}'"]  # fmt: skip
        else:
            out += [f"set nat destination rule {number} destination port '{1024 + index}'",
                    f"set nat destination rule {number} inbound-interface name 'eth0'",
                    f"set nat destination rule {number} protocol 'tcp'",
                    f"set nat destination rule {number} translation address '{_ip(index)}'",
                    f"set nat destination rule {number} translation port '443'"]  # fmt: skip
    out.append("set firewall ipv4 name WAN-IN default-action 'drop'")
    index = 0
    while len(out) < lines * 0.9 and index < entries:
        number = index + 1
        out += [f"set firewall ipv4 name WAN-IN rule {number} action 'accept'",
                f"set firewall ipv4 name WAN-IN rule {number} source address '{_ip(index)}'",
                f"set firewall ipv4 name WAN-IN rule {number} destination port '80,443'",
                f"set firewall ipv4 name WAN-IN rule {number} protocol 'tcp'"]  # fmt: skip
        index += 1
    index = 0
    while len(out) < lines:
        out.append(f"set system static-host-mapping host-name host{index} inet '{_ip(index, 192)}'")
        index += 1
    return "\n".join(out[:lines]) + "\n"


GENERATORS: dict[str, tuple[str, Callable[[int], str]]] = {
    "fortinet": ("fortinet", gen_fortinet),
    "linux-iptables": ("linux", gen_linux_iptables),
    "linux-nftables": ("linux", gen_linux_nftables),
    "mikrotik_routeros": ("mikrotik_routeros", gen_mikrotik_routeros),
    "vyos": ("vyos", gen_vyos),
}


def forms() -> list[Form]:
    from cfgwatch.vendors.registry import get_parser

    return [Form(name, generate, get_parser(platform).parse) for name, (platform, generate) in GENERATORS.items()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_args(parser, list(GENERATORS))
    args = parser.parse_args(argv)
    return run("parse_misc", forms(), args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
