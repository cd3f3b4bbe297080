#!/usr/bin/env python3
"""Parser benchmark: a 50,000-line synthetic config per platform (2,000 NAT rules, 10,000 ACL entries,
filler), median parse time and peak memory, beside ciscoconfparse2's bare parse and a plain line scan
of the same text, measured in the same run. Target: <= 0.5 s and < 300 MB per 50k-line file.

Usage: .venv/bin/python bench/bench_parse.py [--platform P ...] [--repeat N] [--lines N] [--no-ccp]

Other platforms plug in with bench/parse_gen_<platform>.py exposing `generate(lines: int) -> str`.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cfgwatch.vendors.registry import get_parser, platform_names

NAT_RULES = 2_000
ACL_ENTRIES = 10_000
TARGET_SECONDS = 0.5
TARGET_MB = 300.0


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def _filler_ios(count: int) -> list[str]:
    """Interfaces, routes and a banner: text a parser must skip quickly."""
    out: list[str] = ["banner motd ^C", "ip nat inside source static 1.1.1.1 2.2.2.2", "^C"]
    index = 0
    while len(out) < count:
        out += [f"interface GigabitEthernet0/{index}", f" description filler {index}",
                f" ip address {_ip(index, 172)} 255.255.255.0", " no shutdown", "!",
                f"ip route {_ip(index, 192)} 255.255.255.255 {_ip(index, 172)}"]  # fmt: skip
        index += 1
    return out[:count]


def gen_cisco_ios(lines: int) -> str:
    out = ["version 17.3", "hostname bench-ios", "interface Gi1", " ip nat inside", "interface Gi2", " ip nat outside"]
    for i in range(NAT_RULES):
        if i % 2:
            out.append(f"ip nat inside source static tcp {_ip(i)} 80 {_ip(i, 203)} {1024 + i % 60000}")
        else:
            out.append(f"ip nat inside source static {_ip(i)} {_ip(i, 198)}")
    per_acl = 100
    for acl in range(ACL_ENTRIES // per_acl):
        out.append(f"ip access-list extended ACL-{acl}")
        for j in range(per_acl):
            k = acl * per_acl + j
            out.append(f" {10 * (j + 1)} permit tcp {_ip(k)} 0.0.0.255 host {_ip(k, 100)} eq {1 + k % 65000}")
    out += _filler_ios(lines - len(out))
    return "\n".join(out) + "\n"


def gen_cisco_asa(lines: int) -> str:
    out = ["ASA Version 9.16(2)", "hostname bench-asa", "interface Gi0/0", " nameif inside", " security-level 100"]
    for i in range(NAT_RULES):
        out += [f"object network H{i}", f" host {_ip(i)}", f" nat (inside,outside) static {_ip(i, 203)}"]
    for k in range(ACL_ENTRIES):
        out.append(f"access-list OUT extended permit tcp {_ip(k)} 255.255.255.0 host {_ip(k, 100)} eq {1 + k % 65000}")
    out += [f"name {_ip(i, 172)} filler-{i}" for i in range(lines - len(out))]
    return "\n".join(out) + "\n"


def gen_cisco_nxos(lines: int) -> str:
    out = ["version 9.3(8)", "feature nat", "hostname bench-nxos"]
    for i in range(NAT_RULES):
        out.append(f"ip nat inside source static {_ip(i)} {_ip(i, 198)}")
    per_acl = 100
    for acl in range(ACL_ENTRIES // per_acl):
        out.append(f"ip access-list ACL-{acl}")
        for j in range(per_acl):
            k = acl * per_acl + j
            out.append(f"  {10 * (j + 1)} permit tcp {_ip(k)}/24 {_ip(k, 100)}/32 eq {1 + k % 65000}")
    out += _filler_ios(lines - len(out))
    return "\n".join(out) + "\n"


def gen_arista_eos(lines: int) -> str:
    out = ["! device: bench (DCS-7280SR, EOS-4.28.3M)", "hostname bench-eos"]
    for acl in range(ACL_ENTRIES // 100):
        out.append(f"ip access-list ACL-{acl}")
        for j in range(100):
            k = acl * 100 + j
            out.append(f"   {10 * (j + 1)} permit tcp {_ip(k)}/24 host {_ip(k, 100)} eq {1 + k % 65000}")
    for i in range(NAT_RULES // 10):
        out += [f"interface Ethernet{i}", f"   ip address {_ip(i, 172)}/24"]
        out += [f"   ip nat source static {_ip(i * 10 + j)} {_ip(i * 10 + j, 198)}" for j in range(10)]
    out += _filler_ios(lines - len(out))
    return "\n".join(out) + "\n"


GENERATORS: dict[str, Callable[[int], str]] = {
    "cisco_ios": gen_cisco_ios,
    "cisco_asa": gen_cisco_asa,
    "cisco_nxos": gen_cisco_nxos,
    "arista_eos": gen_arista_eos,
}
CCP_SYNTAX = {"cisco_ios": "ios", "cisco_asa": "asa", "cisco_nxos": "nxos", "arista_eos": "ios"}


def _plugins() -> None:
    """Generators other engineers add as bench/parse_gen_<platform>.py."""
    for path in sorted(Path(__file__).parent.glob("parse_gen_*.py")):
        platform = path.stem.removeprefix("parse_gen_")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None or platform not in platform_names():
            continue
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        GENERATORS.setdefault(platform, module.generate)


def _median(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_mb(func: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _line_scan(text: str) -> int:
    """The floor: look at every line once, as any parser must."""
    hits = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("ip nat", "access-list", "permit", "nat ")):
            hits += 1
    return hits


def _ccp(text: str, syntax: str) -> object:
    from ciscoconfparse2 import CiscoConfParse

    return CiscoConfParse(text.splitlines(), syntax=syntax)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", action="append", help="platform(s) to run (default: all with a generator)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median reported)")
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--no-ccp", action="store_true", help="skip the (slow) ciscoconfparse2 baseline")
    args = parser.parse_args()
    _plugins()
    platforms = args.platform or list(GENERATORS)
    failed = False
    header = f"{'platform':<18} {'lines':>6} {'nats':>5} {'acl':>6} {'parse s':>8} {'peak MB':>8} " \
             f"{'scan s':>7} {'x scan':>7} {'ccp2 s':>7} {'ccp2/us':>8}  target"  # fmt: skip
    print(header)
    for platform in platforms:
        text = GENERATORS[platform](args.lines)
        info = get_parser(platform)
        result = info.parse(text)
        parse_s = _median(lambda info=info, text=text: info.parse(text), args.repeat)
        peak = _peak_mb(lambda info=info, text=text: info.parse(text))
        scan_s = _median(lambda text=text: _line_scan(text), args.repeat)
        ccp_text = "-"
        ratio_text = "-"
        if not args.no_ccp and platform in CCP_SYNTAX:
            ccp_s = _median(lambda text=text, p=platform: _ccp(text, CCP_SYNTAX[p]), max(1, min(args.repeat, 3)))
            ccp_text = f"{ccp_s:7.3f}"
            ratio_text = f"{ccp_s / parse_s:7.1f}x"
        ok = parse_s <= TARGET_SECONDS and peak < TARGET_MB
        failed = failed or not ok
        line_count = text.count("\n")
        print(
            f"{platform:<18} {line_count:>6} {len(result.nats):>5} {len(result.filters):>6} {parse_s:8.3f} "
            f"{peak:8.1f} {scan_s:7.3f} {parse_s / scan_s:6.1f}x {ccp_text:>7} {ratio_text:>8}  "
            f"{'ok' if ok else 'MISSED'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
