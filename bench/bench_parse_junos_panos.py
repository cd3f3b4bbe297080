#!/usr/bin/env python3
"""Parse speed and peak memory of the Junos and PAN-OS parsers on 50,000-line synthetic configs.

Each config has 2,000 NAT rules, 10,000 ACL entries / filter terms / security rules and filler.
Printed beside two baselines measured in the same run: a plain line scan (split + strip of every line,
the floor for any parser) and, for Junos, ciscoconfparse2's bare parse (syntax="junos").
Target: <= 0.5 s median and < 300 MB peak per 50k-line config.

`--against REV` also times the parsers of an older git revision (its cfgwatch/ tree unpacked to a
temporary directory) and this checkout, each in fresh child processes taking turns, and prints a
before/after table: both sides see the same machine load, which on a shared machine moves either
figure by a third from one minute to the next.

Usage: .venv/bin/python bench/bench_parse_junos_panos.py [--repeat N] [--skip-ccp] [--against REV [--rounds N]]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent

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


def panos_set() -> str:
    """Set form: NAT rules (PAT + port forwards), security rules, address objects, filler."""
    out: list[str] = []
    for n in range(NAT_RULES):
        rule = f"set rulebase nat rules N{n}"
        out.append(f"{rule} from trust")
        out.append(f"{rule} source {_ip(n)}")
        out.append(f"{rule} destination {_ip(n, 198)}")
        out.append(f"{rule} destination-translation translated-address {_ip(n, 172)}")
        out.append(f"{rule} destination-translation translated-port {1024 + n % 5000}")
    for n in range(ACL_ENTRIES):
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
    while len(out) < TARGET_LINES:
        out.append(f"set network interface ethernet ethernet1/{n} comment filler-{n}")
        n += 1
    return "\n".join(out[:TARGET_LINES]) + "\n"


def panos_xml() -> str:
    """XML form of a comparable config, about 50k lines."""
    out = ["<config><devices><entry name='localhost.localdomain'><vsys><entry name='vsys1'>", "<rulebase><nat><rules>"]
    for n in range(NAT_RULES):
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
    for n in range(ACL_ENTRIES // 2):
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
    filler = TARGET_LINES - len(out) - 2
    out.extend(f"<tag><entry name='filler-{n}'/></tag>" for n in range(max(0, filler)))
    out.append("</entry></vsys></entry></devices></config>")
    return "\n".join(out) + "\n"


def line_scan(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def ccp_junos(text: str) -> object:
    from ciscoconfparse2 import CiscoConfParse

    return CiscoConfParse(text.splitlines(), syntax="junos")


def _vendors() -> tuple[ModuleType, ModuleType, ModuleType]:
    """The parser modules, imported late so a child process can put another cfgwatch tree first."""
    from cfgwatch.vendors import _junos_tree

    try:
        from cfgwatch.vendors.juniper_junos import parser as juniper_junos
        from cfgwatch.vendors.paloalto_panos import parser as paloalto_panos
    except ImportError:  # a revision from before platforms were packages (--against)
        from cfgwatch.vendors import juniper_junos, paloalto_panos  # type: ignore[no-redef]

    return _junos_tree, juniper_junos, paloalto_panos


def _cold() -> None:
    """Empty the parsers' address/port caches so every timed parse starts cold."""
    for value in vars(_vendors()[0]).values():  # every lru_cache the shared helpers have
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def median_times(func: Callable[[str], object], text: str, repeat: int) -> tuple[float, float]:
    """Median wall and median CPU (process) seconds; CPU time shows the cost on a machine busy with other work."""
    times, cpu = [], []
    for _ in range(repeat):
        _cold()
        start, start_cpu = time.perf_counter(), time.process_time()
        func(text)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu)


def median_time(func: Callable[[str], object], text: str, repeat: int) -> float:
    return median_times(func, text, repeat)[0]


def peak_mb(func: Callable[[str], object], text: str) -> float:
    _cold()
    tracemalloc.start()
    func(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _cases() -> list[tuple[str, Callable[[str], object], str]]:
    _tree, juniper_junos, paloalto_panos = _vendors()
    return [
        ("juniper_junos set", juniper_junos.parse, junos_set()),
        # curly text spends ~3 lines per set statement on braces: same rule mix at a third of the size
        ("juniper_junos curly", juniper_junos.parse, junos_curly(junos_set(NAT_RULES // 3, ACL_ENTRIES // 3, 14_000))),
        ("paloalto_panos set", paloalto_panos.parse, panos_set()),
        ("paloalto_panos xml", paloalto_panos.parse, panos_xml()),
    ]


def _child(root: str, repeat: int) -> int:
    """Child process of --against: median wall/CPU per case with the cfgwatch tree at `root`, as JSON."""
    sys.path.insert(0, root)
    import cfgwatch

    if not str(Path(cfgwatch.__file__).resolve()).startswith(str(Path(root).resolve())):
        raise SystemExit(f"cfgwatch imported from {cfgwatch.__file__}, not from {root}")
    result = {label: median_times(func, text, repeat) for label, func, text in _cases()}
    print(json.dumps(result))
    return 0


def _against(revision: str, repeat: int, rounds: int) -> None:
    """Before (`revision`) / after (this checkout) table, child processes taking turns."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "cfgwatch"], capture_output=True, check=True
    ).stdout
    runs: dict[str, list[dict[str, list[float]]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as before_root:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(before_root, filter="data")
        for _ in range(rounds):
            for side, root in (("before", before_root), ("after", str(ROOT))):
                command = [sys.executable, __file__, "--child-root", root, "--repeat", str(repeat)]
                output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                runs[side].append(json.loads(output))
    print(f"\nbefore = {revision}, after = this checkout; medians of {rounds} alternating child runs x {repeat}")
    print(f"{'case':24} {'before s':>9} {'after s':>8} {'before cpu':>10} {'after cpu':>9} {'after/before':>12}")
    for label in runs["before"][0]:
        wall = [statistics.median(run[label][0] for run in runs[side]) for side in ("before", "after")]
        cpu = [statistics.median(run[label][1] for run in runs[side]) for side in ("before", "after")]
        print(f"{label:24} {wall[0]:9.3f} {wall[1]:8.3f} {cpu[0]:10.3f} {cpu[1]:9.3f} {wall[1] / wall[0]:12.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-ccp", action="store_true", help="skip the slow ciscoconfparse2 baseline")
    parser.add_argument("--against", metavar="REV", help="also print a before/after table against git revision REV")
    parser.add_argument("--rounds", type=int, default=3, help="alternating child runs per side for --against")
    parser.add_argument("--child-root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_root:
        return _child(args.child_root, args.repeat)
    cases = _cases()
    ok = True
    print(
        f"{'case':24} {'lines':>7} {'rules':>7} {'median s':>9} {'cpu s':>6} {'peak MB':>8} {'scan s':>7} {'x scan':>7}"
    )
    for label, func, text in cases:
        result = func(text)
        rules = len(result.filters) + len(result.nats)  # type: ignore[attr-defined]
        seconds, cpu = median_times(func, text, args.repeat)
        scan = median_time(line_scan, text, args.repeat)
        memory = peak_mb(func, text)
        lines = len(text.splitlines())
        print(f"{label:24} {lines:7d} {rules:7d} {seconds:9.3f} {cpu:6.3f} {memory:8.1f}", end=" ")
        print(f"{scan:7.3f} {seconds / scan:7.1f}")
        per_50k = seconds * TARGET_LINES / lines
        ok = ok and per_50k <= 0.5 and memory < 300
    if not args.skip_ccp:
        text = cases[1][2]
        ccp = median_time(ccp_junos, text, 1)
        ours = median_time(cases[1][1], text, args.repeat)
        print(f"ciscoconfparse2 junos bare parse (curly, 1 run): {ccp:.2f} s; cfgwatch is {ccp / ours:.1f}x faster")
    print("target <= 0.5 s (wall) and < 300 MB per 50k lines:", "met" if ok else "NOT met")
    print("cpu s = process time of the parse: what it costs when the machine is shared with other work")
    if args.against:
        _against(args.against, args.repeat, args.rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
