#!/usr/bin/env python3
"""Parser benchmark, Cisco family (issue 19 goal 3): CPU seconds to parse a synthetic 50,000-line config per
platform (4% NAT rules, 20% ACL entries, the rest filler the parser must skip), with every functools cache
emptied before each run, alternating with a plain line scan of the same text (the floor any parser pays) and,
unless --quick / --no-ccp, a bare ciscoconfparse2 parse.

Prints per platform the CPU/wall medians, the ratio to the line scan and a GOAL line (<= 0.5 s CPU per 50k
lines); then the growth of one platform's parse over 5k / 50k / 200k lines (GOAL: the per-line cost at
200k within 1.3x of the per-line cost at 5k, i.e. linear); then `cfgwatch parse --format json`: encoding
vs parsing in one process (GOAL: encoding no slower than the parse) and end to end in fresh processes
beside a regex script that extracts and prints the same kind of lines (informational ratio).

    .venv/bin/python bench/bench_parse.py --quick                 # < 60 s: 3 runs, no ciscoconfparse2
    .venv/bin/python bench/bench_parse.py --platform cisco_xr --runs 7
    .venv/bin/python bench/bench_parse.py --profile cisco_ios     # cProfile of one 50k-line parse
    .venv/bin/python bench/bench_parse.py --against 55b718c       # before/after: that revision vs this tree

Other platforms plug in with bench/parse_gen_<platform>.py exposing `generate(lines: int) -> str`.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import (
    REPO,
    Recorder,
    Sample,
    add_common_args,
    clear_caches,
    fresh_process,
    interleave,
    median_cpu,
    package_at,
)

from cfgwatch.model import dumps
from cfgwatch.vendors.registry import get_parser, platform_names

LINES = 50_000
NAT_SHARE = 2_000 / 50_000
ACL_SHARE = 10_000 / 50_000
GOAL_SECONDS = 0.5
GROWTH_SIZES = (5_000, 50_000, 200_000)
GOAL_GROWTH = 1.3  # per-line cost at the largest size / at the smallest
GOAL_ENCODE_RATIO = 1.0  # `parse --format json`: encoding CPU / parse CPU


def _ip(index: int, base: int = 10) -> str:
    return f"{base}.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def _counts(lines: int) -> tuple[int, int]:
    """NAT rules and ACL entries for a config of `lines` lines (2,000 and 10,000 at 50k)."""
    return int(lines * NAT_SHARE), int(lines * ACL_SHARE)


def _filler_ios(count: int) -> list[str]:
    """Interfaces, routes and a banner: text a parser must skip quickly."""
    out: list[str] = ["banner motd ^C", "ip nat inside source static 1.1.1.1 2.2.2.2", "^C"]
    index = 0
    while len(out) < count:
        out += [f"interface GigabitEthernet0/{index}", f" description filler {index}",
                f" ip address {_ip(index, 172)} 255.255.255.0", " no shutdown", "!",
                f"ip route {_ip(index, 192)} 255.255.255.255 {_ip(index, 172)}"]  # fmt: skip
        index += 1
    return out[: max(count, 0)]


def gen_cisco_ios(lines: int) -> str:
    nats, aces = _counts(lines)
    out = ["version 17.3", "hostname bench-ios", "interface Gi1", " ip nat inside", "interface Gi2", " ip nat outside"]
    for i in range(nats):
        if i % 2:
            out.append(f"ip nat inside source static tcp {_ip(i)} 80 {_ip(i, 203)} {1024 + i % 60000}")
        else:
            out.append(f"ip nat inside source static {_ip(i)} {_ip(i, 198)}")
    per_acl = 100
    for acl in range(aces // per_acl):
        out.append(f"ip access-list extended ACL-{acl}")
        for j in range(per_acl):
            k = acl * per_acl + j
            out.append(f" {10 * (j + 1)} permit tcp {_ip(k)} 0.0.0.255 host {_ip(k, 100)} eq {1 + k % 65000}")
    out += _filler_ios(lines - len(out))
    return "\n".join(out) + "\n"


def gen_cisco_asa(lines: int) -> str:
    nats, aces = _counts(lines)
    out = ["ASA Version 9.16(2)", "hostname bench-asa", "interface Gi0/0", " nameif inside", " security-level 100"]
    for i in range(nats):
        out += [f"object network H{i}", f" host {_ip(i)}", f" nat (inside,outside) static {_ip(i, 203)}"]
    for k in range(aces):
        out.append(f"access-list OUT extended permit tcp {_ip(k)} 255.255.255.0 host {_ip(k, 100)} eq {1 + k % 65000}")
    out += [f"name {_ip(i, 172)} filler-{i}" for i in range(lines - len(out))]
    return "\n".join(out) + "\n"


def gen_cisco_nxos(lines: int) -> str:
    nats, aces = _counts(lines)
    out = ["version 9.3(8)", "feature nat", "hostname bench-nxos"]
    for i in range(nats):
        out.append(f"ip nat inside source static {_ip(i)} {_ip(i, 198)}")
    per_acl = 100
    for acl in range(aces // per_acl):
        out.append(f"ip access-list ACL-{acl}")
        for j in range(per_acl):
            k = acl * per_acl + j
            out.append(f"  {10 * (j + 1)} permit tcp {_ip(k)}/24 {_ip(k, 100)}/32 eq {1 + k % 65000}")
    out += _filler_ios(lines - len(out))
    return "\n".join(out) + "\n"


def gen_arista_eos(lines: int) -> str:
    nats, aces = _counts(lines)
    out = ["! device: bench (DCS-7280SR, EOS-4.28.3M)", "hostname bench-eos"]
    for acl in range(aces // 100):
        out.append(f"ip access-list ACL-{acl}")
        for j in range(100):
            k = acl * 100 + j
            out.append(f"   {10 * (j + 1)} permit tcp {_ip(k)}/24 host {_ip(k, 100)} eq {1 + k % 65000}")
    for i in range(nats // 10):
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
CCP_SYNTAX = {"cisco_ios": "ios", "cisco_asa": "asa", "cisco_nxos": "nxos", "arista_eos": "ios", "cisco_xr": "iosxr"}


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


def line_scan(text: str) -> int:
    """The floor: look at every line once, as any parser must."""
    hits = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("ip nat", "access-list", "permit", "nat ")):
            hits += 1
    return hits


def bare_ccp(text: str, syntax: str) -> object:
    from ciscoconfparse2 import CiscoConfParse

    return CiscoConfParse(text.splitlines(), syntax=syntax)


def peak_mb(action: Callable[[], object]) -> float:
    clear_caches()
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def bench_platform(recorder: Recorder, platform: str, lines: int, runs: int, *, ccp: bool, memory: bool) -> None:
    text = GENERATORS[platform](lines)
    parse = get_parser(platform).parse
    result = parse(text)
    cases: dict[str, Callable[[], object]] = {"line scan": lambda: line_scan(text), "cfgwatch": lambda: parse(text)}
    if ccp and platform in CCP_SYNTAX:
        cases["ciscoconfparse2 (bare)"] = lambda: bare_ccp(text, CCP_SYNTAX[platform])
    size = f"{round(lines / 1000)}k lines"
    title = f"parse {platform} {size}"
    samples = interleave(cases, runs)
    ratio = recorder.compare(
        f"{title} ({len(result.nats)} NAT, {len(result.filters)} ACL entries)", samples, baseline="line scan",
        subject="cfgwatch",
    )  # fmt: skip
    if "ciscoconfparse2 (bare)" in samples:
        ccp_ratio = median_cpu(samples["ciscoconfparse2 (bare)"]) / median_cpu(samples["cfgwatch"])
        print(f"  ciscoconfparse2 (bare) / cfgwatch (CPU): {ccp_ratio:.1f}")
    if memory:
        print(f"  peak memory of one parse (tracemalloc): {peak_mb(lambda: parse(text)):.1f} MB")
    limit = GOAL_SECONDS * lines / LINES
    recorder.goal(title, round(median_cpu(samples["cfgwatch"]), 4), limit, "s CPU", baseline="line scan", ratio=ratio)


def bench_growth(recorder: Recorder, platform: str, runs: int) -> None:
    """Per-line parse cost at 5k, 50k and 200k lines: a parse must grow linearly with the config."""
    parse = get_parser(platform).parse
    per_line: dict[int, float] = {}
    for lines in GROWTH_SIZES:
        text = GENERATORS[platform](lines)
        cases: dict[str, Callable[[], object]] = {
            "line scan": lambda text=text: line_scan(text),  # type: ignore[misc]
            "cfgwatch": lambda text=text: parse(text),  # type: ignore[misc]
        }
        samples = interleave(cases, runs)
        cpu = median_cpu(samples["cfgwatch"])
        per_line[lines] = cpu / lines
        print(f"  {platform} {lines:>7,} lines: CPU {cpu:8.4f} s  ({per_line[lines] * 1e6:.2f} us/line; "
              f"line scan {median_cpu(samples['line scan']):.4f} s)")  # fmt: skip
    small, large = GROWTH_SIZES[0], GROWTH_SIZES[-1]
    growth = per_line[large] / per_line[small]
    recorder.goal(f"parse {platform} growth 5k/50k/200k lines: per-line cost 200k / 5k", round(growth, 3),
                  GOAL_GROWTH, "x")  # fmt: skip


REGEX_SCRIPT = """
import json, re, sys
pattern = re.compile(r"^\\s*(?:\\d+\\s+)?(permit|deny)\\s+(\\S+)\\s+(.*)$|^ip nat (.*)$")
rows = [m.groups() for m in map(pattern.match, open(sys.argv[1], encoding="utf-8")) if m]
print(json.dumps(rows, indent=1))
"""


def bench_json(recorder: Recorder, platform: str, lines: int, runs: int) -> None:
    """`parse --format json`: encoding vs the parse in one process, then end to end in fresh processes."""
    text = GENERATORS[platform](lines)
    parse = get_parser(platform).parse
    parsed: list[object] = []
    samples = interleave({"parse": lambda: parsed.append(parse(text)), "encode (json)": lambda: dumps(parsed[-1])},
                         runs)  # fmt: skip
    ratio = recorder.compare(f"parse --format json, {platform} {lines:,} lines: encode vs parse", samples,
                             baseline="parse", subject="encode (json)")  # fmt: skip
    recorder.goal(f"parse --format json {platform} {round(lines / 1000)}k lines: encode / parse CPU", round(ratio, 3),
                  GOAL_ENCODE_RATIO, "x", baseline="parse", ratio=ratio)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-parse-") as tmp:
        config = Path(tmp) / "bench.cfg"
        config.write_text(text, encoding="utf-8")
        cli = (f"import sys; sys.argv = ['cfgwatch', 'parse', {str(config)!r}, '--platform', {platform!r}, "
               "'--format', 'json']; from cfgwatch.cli import main; main()")  # fmt: skip
        regex = f"import sys; sys.argv = ['x', {str(config)!r}]\n{REGEX_SCRIPT}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        end_to_end: dict[str, list[Sample]] = {"regex script": [], "cfgwatch parse --format json": []}
        for _ in range(runs):
            end_to_end["regex script"].append(fresh_process(regex, env=env, cwd=tmp))
            end_to_end["cfgwatch parse --format json"].append(fresh_process(cli, env=env, cwd=tmp))
        recorder.compare(f"cfgwatch parse --format json end to end, {platform} {lines:,} lines (fresh processes)",
                         end_to_end, baseline="regex script")  # fmt: skip


CHILD = """
import json, resource, sys
sys.path.insert(1, {bench!r})
from _harness import clear_caches
from cfgwatch.vendors.registry import get_parser
text = open({config!r}, encoding="utf-8").read()
parse = get_parser({platform!r}).parse
parse(text)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
samples = []
for _ in range({runs}):
    clear_caches()
    before = cpu()
    parse(text)
    samples.append(cpu() - before)
print(json.dumps(samples))
"""


def parse_in_tree(tree: Path, platform: str, config: Path, runs: int) -> list[float]:
    """CPU seconds of `runs` parses (caches cleared before each) by the cfgwatch in `tree`, in a new process."""
    code = CHILD.format(bench=str(REPO / "bench"), config=str(config), platform=platform, runs=runs)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, capture_output=True, text=True, check=True)
    return [float(value) for value in json.loads(done.stdout.splitlines()[-1])]


def against(revision: str, platforms: list[str], lines: int, runs: int) -> None:
    """Before/after: each platform's parse by `revision` and by this tree, alternating fresh processes."""
    with tempfile.TemporaryDirectory(prefix="cfgwatch-bench-parse-") as tmp:
        base = package_at(revision, Path(tmp) / "base")
        print(f"parse CPU per {lines:,} lines, {revision} vs this tree ({runs} rounds of 5 parses, alternating "
              "fresh processes, caches cleared before each parse; median of all parses)")  # fmt: skip
        for platform in platforms:
            config = Path(tmp) / f"{platform}.cfg"
            config.write_text(GENERATORS[platform](lines), encoding="utf-8")
            before: list[float] = []
            after: list[float] = []
            for _ in range(runs):
                before += parse_in_tree(base, platform, config, 5)
                after += parse_in_tree(REPO, platform, config, 5)
            old, new = statistics.median(before), statistics.median(after)
            print(f"  {platform:<12} {revision}: {old:.3f} s   this tree: {new:.3f} s   ({old / new:.2f}x faster)")


def profile(platform: str, lines: int, top: int = 25) -> None:
    """cProfile of one parse with caches cleared (generated dataclass __init__s show as `<string>`)."""
    text = GENERATORS[platform](lines)
    parse = get_parser(platform).parse
    parse(text)
    clear_caches()
    profiler = cProfile.Profile()
    profiler.enable()
    parse(text)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", action="append", help="platform(s) to run (default: all with a generator)")
    parser.add_argument("--lines", type=int, default=LINES, help=f"config size per platform (default {LINES:,})")
    parser.add_argument("--quick", action="store_true", help="3 runs, no ciscoconfparse2, no memory: < 60 s")
    parser.add_argument("--no-ccp", action="store_true", help="skip the (slow, ~3 s a run) ciscoconfparse2 baseline")
    parser.add_argument("--growth-platform", default="cisco_ios", help="platform of the 5k/50k/200k growth line")
    parser.add_argument("--json-platform", default="cisco_ios", help="platform of the `parse --format json` lines")
    parser.add_argument("--profile", metavar="PLATFORM", help="only print a cProfile of one parse of PLATFORM")
    parser.add_argument("--against", metavar="REV", help="only compare each platform's parse with git revision REV")
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    _plugins()
    if args.profile:
        profile(args.profile, args.lines)
        return 0
    if args.against:
        against(args.against, args.platform or list(GENERATORS), args.lines, 3 if args.quick else args.runs)
        return 0
    runs = 3 if args.quick else args.runs
    recorder = Recorder("parse", args.json)
    unknown = sorted(set(args.platform or ()) - GENERATORS.keys())
    if unknown:
        parser.error(f"no generator for {', '.join(unknown)} (known: {', '.join(sorted(GENERATORS))})")
    for platform in args.platform or list(GENERATORS):
        bench_platform(recorder, platform, args.lines, runs, ccp=not (args.quick or args.no_ccp), memory=not args.quick)
    print(f"parse growth ({runs} runs each, alternating with a line scan; medians)")
    bench_growth(recorder, args.growth_platform, runs)
    bench_json(recorder, args.json_platform, args.lines, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
