"""Memory bounds on hostile input sizes (issue 20 item 10). Not a test: prints peak RSS per case.

    .venv/bin/python bench/bench_memory.py [--import-mb 48] [--depth 20000] [--line-kb 10 20 40]
    .venv/bin/python bench/bench_memory.py --quick      # 16 MB, depth 5000, lines of 5/10/20 KB (< 60 s)

Each case runs in a fresh interpreter and reports its own peak RSS (ru_maxrss), so the cases do not
share a heap; CPU seconds (user + system of the child) and wall seconds are printed with it, next to
the baseline measured in the same run (`cfgwatch --help`), and the load average (bench/_harness.py).
GOAL lines: every case peaks under 500 MB (the memory bound of issue 19); the refused 2 GB import stays
within 50 MB of the baseline (refused before it is read); the JSON of the long iptables line grows
linearly (JSON bytes per input byte at the longest line within 1.5x of the shortest's). Cases:
- import of one config of --import-mb MB (under the 64 MiB default limit of sanitize.max_config_bytes);
- import of a 2 GB (sparse) config: refused before it is read, nothing committed;
- `cfgwatch parse` of --depth nested braces, Junos and PAN-OS (blocks past 128 levels are skipped
  with a diagnostic; before: 1.64 GB at 20,000);
- `cfgwatch parse -f json` of one iptables line of --line-kb KB with an unknown option every 17 bytes:
  the JSON size must grow linearly with the line (before: 107 MB for 42 KB, the square of the length).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Recorder, Sample, add_common_args

GOAL_PEAK_MB = 500.0
GOAL_REFUSED_ABOVE_BASE_MB = 50.0
GOAL_JSON_GROWTH = 1.5

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from cfgwatch.cli import main; main()"]

_RSS = "import resource, sys; print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"


class Cases:
    """Runs cases in fresh interpreters and prints each one's peak RSS, CPU and wall against the baseline."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.base: Sample | None = None
        self.peaks: dict[str, float] = {}  # title -> MB

    def peak(self, title: str, code: str, cwd: Path, note: str = "") -> tuple[float, str, str]:
        """(peak RSS in MB, stdout, stderr) of `code` run in a fresh interpreter; prints the case."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code + "\n" + _RSS], cwd=cwd, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sample = Sample(cpu=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall=wall)
        rss = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("RSS_KB")) / 1024
        if self.base is None:
            self.base = sample
        self.peaks[title] = rss
        print(f"{title:<44} peak RSS {rss:8.1f} MB  CPU {sample.cpu:6.2f} s  wall {sample.wall:6.2f} s  {note}")
        return rss, proc.stdout, proc.stderr


def _cli(args: list[str], cwd: Path) -> str:
    return textwrap.dedent(
        f"""
        import sys
        sys.argv = ["cfgwatch", *{args!r}]
        from cfgwatch.cli import main
        try:
            main()
        except SystemExit as exc:
            print("EXIT", exc.code, file=sys.stderr)
        """
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--import-mb", type=int, default=48, help="size of the imported config (default 48)")
    parser.add_argument("--depth", type=int, default=20000, help="nested brace levels (default 20000)")
    parser.add_argument("--line-kb", type=int, nargs="+", default=[10, 20, 40], help="iptables line sizes")
    parser.add_argument("--quick", action="store_true", help="16 MB, depth 5000, lines of 5 10 20 KB")
    add_common_args(parser, runs=1)
    args = parser.parse_args()
    if args.quick:
        args.import_mb, args.depth, args.line_kb = 16, 5000, [5, 10, 20]
    recorder = Recorder("memory", args.json)
    cases = Cases(recorder)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base, _, _ = cases.peak("baseline (cfgwatch --help)", _cli(["--help"], root), root)
        subprocess.run([*CLI, "init", "proj"], cwd=root, check=True, capture_output=True)
        project = root / "proj"
        big = root / "big"
        big.mkdir()
        block = "".join(f"access-list 101 permit tcp host 10.0.{i % 250}.1 any eq {i % 60000}\n" for i in range(1000))
        with (big / "r1.cfg").open("w") as handle:
            for _ in range(args.import_mb * 1024 * 1024 // len(block)):
                handle.write(block)
        size = (big / "r1.cfg").stat().st_size / 1e6
        title = f"import one {size:.0f} MB config"
        rss, _, err = cases.peak(title, _cli(["import", str(big), "--platform", "cisco_ios"], project), project)
        print(f"  ({rss * 1024 * 1024 / 1e6 / size:.1f}x the config's size)")
        huge = root / "huge"
        huge.mkdir()
        with (huge / "r2.cfg").open("wb") as handle:
            handle.truncate(2 * 1024**3)
        refused, _, err = cases.peak("import one 2 GB config (refused)", _cli(["import", str(huge)], project), project)
        first = next((line for line in err.splitlines() if line.startswith("error")), "?")
        print(f"  {first[:110]}")
        deep = root / "deep.conf"
        deep.write_text("firewall {\n" + "".join(f"a{i} {{\n" for i in range(args.depth)) + "}\n" * args.depth + "}\n")
        for platform in ("juniper_junos", "paloalto_panos"):
            cases.peak(f"parse {args.depth} nested braces {platform}", _cli(["parse", "-p", platform, "-f", "json",
                       str(deep)], root), root)  # fmt: skip
        growth: list[float] = []
        for kb in args.line_kb:
            line = "-A INPUT " + " ".join(f"--bogus{i} v{i}" for i in range(kb * 1024 // 17)) + " -j ACCEPT"
            rules = root / f"long{kb}.rules"
            rules.write_text("*filter\n:INPUT DROP [0:0]\n" + line + "\nCOMMIT\n")
            title = f"parse -f json, one {len(line) / 1024:.0f} KB iptables line"
            _, out, _ = cases.peak(title, _cli(["parse", "-p", "linux", "-f", "json", str(rules)], root), root)
            growth.append(len(out) / len(line))
            print(f"  JSON {len(out) / 1e6:7.2f} MB ({growth[-1]:.1f} bytes per input byte)")
    worst = max((rss, title) for title, rss in cases.peaks.items())
    recorder.goal(f"memory: largest peak ({worst[1]})", round(worst[0], 1), GOAL_PEAK_MB, "MB")
    recorder.goal("memory: 2 GB import refused, above cfgwatch --help", round(refused - base, 1),
                  GOAL_REFUSED_ABOVE_BASE_MB, "MB", baseline="cfgwatch --help")  # fmt: skip
    recorder.goal("memory: JSON growth of a long iptables line, longest/shortest", round(growth[-1] / growth[0], 2),
                  GOAL_JSON_GROWTH, "x", baseline="shortest line", ratio=growth[-1] / growth[0])  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
