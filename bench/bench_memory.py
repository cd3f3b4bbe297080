"""Memory bounds on hostile input sizes (issue 20 item 10). Not a test: prints peak RSS per case.

    .venv/bin/python bench/bench_memory.py [--import-mb 48] [--depth 20000] [--line-kb 10 20 40]

Each case runs in a fresh interpreter and reports its own peak RSS (ru_maxrss), so the cases do not
share a heap. Cases:
- import of one config of --import-mb MB (under the 64 MiB default limit of sanitize.max_config_bytes);
- import of a 2 GB (sparse) config: refused before it is read, nothing committed;
- `cfgwatch parse` of --depth nested braces, Junos and PAN-OS (blocks past 128 levels are skipped
  with a diagnostic; before: 1.64 GB at 20,000);
- `cfgwatch parse -f json` of one iptables line of --line-kb KB with an unknown option every 17 bytes:
  the JSON size must grow linearly with the line (before: 107 MB for 42 KB, the square of the length).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from cfgwatch.cli import main; main()"]

_RSS = "import resource, sys; print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"


def _peak(code: str, cwd: Path) -> tuple[int, str, str]:
    """(peak RSS in KB, stdout, stderr) of `code` run in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", code + "\n" + _RSS], cwd=cwd, capture_output=True, text=True, check=False
    )
    rss = next(int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("RSS_KB"))
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--import-mb", type=int, default=48)
    parser.add_argument("--depth", type=int, default=20000)
    parser.add_argument("--line-kb", type=int, nargs="+", default=[10, 20, 40])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base, _, _ = _peak(_cli(["--help"], root), root)
        print(f"baseline (cfgwatch --help)            peak RSS {base / 1024:8.1f} MB")
        subprocess.run([*CLI, "init", "proj"], cwd=root, check=True, capture_output=True)
        project = root / "proj"
        big = root / "big"
        big.mkdir()
        block = "".join(f"access-list 101 permit tcp host 10.0.{i % 250}.1 any eq {i % 60000}\n" for i in range(1000))
        with (big / "r1.cfg").open("w") as handle:
            for _ in range(args.import_mb * 1024 * 1024 // len(block)):
                handle.write(block)
        rss, _, err = _peak(_cli(["import", str(big), "--platform", "cisco_ios"], project), project)
        size = (big / "r1.cfg").stat().st_size / 1e6
        print(
            f"import one {size:5.1f} MB config            peak RSS {rss / 1024:8.1f} MB"
            f"  ({rss * 1024 / 1e6 / size:.1f}x)"
        )
        huge = root / "huge"
        huge.mkdir()
        with (huge / "r2.cfg").open("wb") as handle:
            handle.truncate(2 * 1024**3)
        rss, _, err = _peak(_cli(["import", str(huge)], project), project)
        first = next((line for line in err.splitlines() if line.startswith("error")), "?")
        print(f"import one 2 GB config (refused)       peak RSS {rss / 1024:8.1f} MB  {first[:90]}")
        deep = root / "deep.conf"
        deep.write_text("firewall {\n" + "".join(f"a{i} {{\n" for i in range(args.depth)) + "}\n" * args.depth + "}\n")
        for platform in ("juniper_junos", "paloalto_panos"):
            rss, out, _ = _peak(_cli(["parse", "-p", platform, "-f", "json", str(deep)], root), root)
            print(f"parse {args.depth} nested braces {platform:15s} peak RSS {rss / 1024:8.1f} MB")
        for kb in args.line_kb:
            line = "-A INPUT " + " ".join(f"--bogus{i} v{i}" for i in range(kb * 1024 // 17)) + " -j ACCEPT"
            rules = root / f"long{kb}.rules"
            rules.write_text("*filter\n:INPUT DROP [0:0]\n" + line + "\nCOMMIT\n")
            rss, out, _ = _peak(_cli(["parse", "-p", "linux", "-f", "json", str(rules)], root), root)
            print(
                f"parse -f json, one {len(line) / 1024:4.0f} KB iptables line   peak RSS {rss / 1024:8.1f} MB  "
                f"JSON {len(out) / 1e6:7.2f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
