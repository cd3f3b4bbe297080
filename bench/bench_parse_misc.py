#!/usr/bin/env python3
"""Parser benchmark for fortinet, linux (iptables-save and nftables), mikrotik_routeros and vyos.

For each platform a synthetic 50,000-line config (about 2,000 NAT rules, as many filter entries as
the platform's syntax fits, filler the parser must skip) is parsed `--repeat` times; the median
parse time and the tracemalloc peak of one parse are printed beside a plain line scan of the same
text (split every line), measured in the same run. Target: <= 0.5 s and < 300 MB per 50k lines.

Usage: .venv/bin/python bench/bench_parse_misc.py [--platform P ...] [--repeat N] [--lines N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cfgwatch.vendors import _misc_common
from cfgwatch.vendors.registry import get_parser

NAT_RULES = 2_000
ACL_ENTRIES = 10_000
TARGET_SECONDS = 0.5
TARGET_MB = 300.0


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def gen_fortinet(lines: int) -> str:
    out = ["config system interface"]
    for index in range(8):
        out += [f'    edit "port{index}"', f"        set ip {_ip(index, 172)} 255.255.255.0", "    next"]
    out += ["end", "config firewall address"]
    for index in range(2_000):
        out += [f'    edit "h{index}"', f"        set subnet {_ip(index)} 255.255.255.255", "    next"]
    out += ["end", "config firewall vip"]
    for index in range(NAT_RULES // 2):
        out += [f'    edit "vip{index}"', f"        set extip {_ip(index, 203)}", '        set extintf "port1"',
                "        set portforward enable", f'        set mappedip "{_ip(index)}"',
                f"        set extport {1024 + index}", "        set mappedport 443", "    next"]  # fmt: skip
    out += ["end", "config firewall policy"]
    policy = 0
    while len(out) < lines * 0.9:
        nat = policy < NAT_RULES // 2
        out += [f"    edit {policy + 1}", f'        set name "p{policy}"', '        set srcintf "port2"',
                '        set dstintf "port1"', f'        set srcaddr "h{policy % 2000}"',
                f'        set dstaddr "{"all" if nat else f"vip{policy % 1000}"}"', "        set action accept",
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
    out = ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for index in range(NAT_RULES):
        if index % 2:
            out.append(f"-A POSTROUTING -s {_ip(index)}/32 -o eth0 -j SNAT --to-source {_ip(index, 203)}")
        else:
            out.append(
                f"-A PREROUTING -i eth0 -d {_ip(index, 203)}/32 -p tcp -m tcp --dport {1024 + index} "
                f"-j DNAT --to-destination {_ip(index)}:443"
            )
    out += ["COMMIT", "*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "-N CUSTOM"]
    for index in range(ACL_ENTRIES):
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
    out = ["table ip nat {", "\tchain prerouting {", "\t\ttype nat hook prerouting priority dstnat; policy accept;"]
    for index in range(NAT_RULES // 2):
        out.append(f'\t\tiifname "wan0" ip daddr {_ip(index, 203)} tcp dport {1024 + index} dnat to {_ip(index)}:443')
    out += ["\t}", "\tchain postrouting {", "\t\ttype nat hook postrouting priority srcnat; policy accept;"]
    for index in range(NAT_RULES // 2):
        out.append(f'\t\toifname "wan0" ip saddr {_ip(index)} snat to {_ip(index, 203)}')
    out += ["\t}", "}", "table inet filter {", "\tchain forward {",
            "\t\ttype filter hook forward priority filter; policy drop;"]  # fmt: skip
    for index in range(ACL_ENTRIES):
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
    out = ["# by RouterOS 7.14", "/ip firewall address-list"]
    for index in range(1_000):
        out.append(f"add address={_ip(index)} list=list{index % 50}")
    out.append("/ip firewall nat")
    for index in range(NAT_RULES):
        if index % 2:
            out.append(f"add action=src-nat chain=srcnat src-address={_ip(index)} to-addresses={_ip(index, 203)}")
        else:
            out += [f"add action=dst-nat chain=dstnat dst-address={_ip(index, 203)} dst-port={1024 + index} \\",
                    f"    protocol=tcp to-addresses={_ip(index)} to-ports=443"]  # fmt: skip
    out.append("/ip firewall filter")
    for index in range(ACL_ENTRIES):
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
    out: list[str] = []
    for index in range(NAT_RULES):
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
    while len(out) < lines * 0.9 and index < ACL_ENTRIES:
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


def _line_scan(text: str) -> int:
    """Baseline: the cheapest pass any parser must make (split every line into words)."""
    return sum(len(line.split()) for line in text.splitlines())


def _cold() -> None:
    """Empty the parsers' address/port caches so every timed parse starts cold."""
    for value in vars(_misc_common).values():  # every lru_cache the shared helpers have
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def _median_seconds(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and median CPU (process) seconds; CPU time shows the cost on a machine busy with other work."""
    times, cpu = [], []
    for _ in range(repeat):
        _cold()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu)


def _peak_mb(func: Callable[[], object]) -> float:
    _cold()
    gc.collect()
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", action="append", choices=sorted(GENERATORS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args(argv)
    names = args.platform or list(GENERATORS)
    print(f"{'platform':<18} {'lines':>6} {'nats':>5} {'filters':>7} {'scan s':>7} {'parse s':>8} {'ratio':>6} "
          f"{'cpu s':>6} {'peak MB':>8}  verdict")  # fmt: skip
    failed = False
    for name in names:
        platform, generate = GENERATORS[name]
        text = generate(args.lines)
        info = get_parser(platform)
        result = info.parse(text)
        scan, _ = _median_seconds(partial(_line_scan, text), args.repeat)
        parse, parse_cpu = _median_seconds(partial(info.parse, text), args.repeat)
        peak = _peak_mb(partial(info.parse, text))
        ok = parse <= TARGET_SECONDS and peak < TARGET_MB
        failed = failed or not ok
        print(
            f"{name:<18} {len(text.splitlines()):>6} {len(result.nats):>5} {len(result.filters):>7} {scan:>7.3f} "
            f"{parse:>8.3f} {parse / scan:>6.1f} {parse_cpu:>6.3f} {peak:>8.1f}  {'ok' if ok else 'OVER TARGET'}"
        )
    print(
        f"target: <= {TARGET_SECONDS} s and < {TARGET_MB:.0f} MB per {args.lines} lines (wall); "
        "ratio = parse / line scan; cpu = process time of the parse (what it costs when the machine is shared)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
