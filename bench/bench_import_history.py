"""`cfgwatch import --git`: replaying an Oxidized history into the snapshot repo (issue 18), against a read-only floor.

    .venv/bin/python bench/bench_import_history.py [--devices 5000] [--commits 10000] [--lines 120] [--runs 1] [--quick]

Builds an Oxidized-shaped source repository (single_repo with 10 groups, a router.db, a README) with
git fast-import: commit 1 adds every device, each later commit changes 1-3 devices (an ACL line and a
secret, like a real edit). Then, in fresh processes, alternating:
- baseline: read what a replay must read and nothing more: `git log --raw` over the whole history and
  every changed blob through `git cat-file --batch` (the floor any replay design pays);
- cfgwatch: `Project.import_git` into a new project (sanitize every text, one run per commit, commits,
  journal, upkeep).
Through bench/_harness.py: CPU seconds (children included) and wall medians per side, the ratio and the
load average. The goal (issue 18): the 5,000-device, 10,000-commit history in minutes; no issue-19 goal
is measured here. --quick: 500 devices, 1,000 commits, 2 runs (under a minute).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import REPO, Recorder, Sample, add_common_args, fresh_process, median_wall

ROOT = REPO
GROUPS = 10


def device_text(n: int, lines: int, version: int) -> bytes:
    out = [f"hostname dev{n:05d}", "!", f"snmp-server community s3cr3t-{n}-{version} RO", "!"]
    out.append("ip access-list extended EDGE-IN")
    out.extend(f" permit tcp 10.{n % 200}.{i % 250}.0 0.0.0.255 any eq {1000 + i}" for i in range(lines - 8))
    out.append(f" permit ip host 192.0.2.{version % 250} any")
    out.append("end")
    return ("\n".join(out) + "\n").encode()


def build_source(path: Path, devices: int, commits: int, lines: int) -> None:
    """An Oxidized single_repo history written with one git fast-import stream."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    rng = random.Random(18)
    proc = subprocess.Popen(["git", "--git-dir", str(path), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    when = 1_700_000_000
    versions = [0] * devices

    def blob(data: bytes) -> bytes:
        return b"data %d\n%s\n" % (len(data), data)

    def commit(author: str, files: list[tuple[str, bytes]]) -> None:
        nonlocal when
        when += 600
        msg = b"update"
        out.write(b"commit refs/heads/master\n")
        out.write(b"author %s <%s@example.net> %d +0000\n" % (author.encode(), author.encode(), when))
        out.write(b"committer oxidized <oxidized@example.net> %d +0000\n" % when)
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        for name, data in files:
            out.write(b"M 100644 inline %s\n" % name.encode())
            out.write(blob(data))
        out.write(b"\n")

    first = [(f"g{n % GROUPS}/dev{n:05d}", device_text(n, lines, 0)) for n in range(devices)]
    first.append(("README.md", b"backups\n"))
    first.append(("router.db", "".join(f"dev{n:05d}:ios\n" for n in range(devices)).encode()))
    commit("oxidized", first)
    for _ in range(commits - 1):
        files = []
        for n in rng.sample(range(devices), rng.randint(1, 3)):
            versions[n] += 1
            files.append((f"g{n % GROUPS}/dev{n:05d}", device_text(n, lines, versions[n])))
        commit(rng.choice(["oxidized", "alice", "bob"]), files)
    out.close()
    if proc.wait() != 0:
        raise SystemExit("fast-import failed")


BASELINE = r"""
import subprocess, sys
repo = REPO_PATH
log = subprocess.run(["git", "--git-dir", repo, "log", "--reverse", "--raw", "--no-abbrev", "-z", "--format=%x01%H"],
                     capture_output=True, check=True).stdout
blobs = [f.split()[3] for f in log.split(b"\0") if f.strip().startswith(b":")]
cat = subprocess.Popen(["git", "--git-dir", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
total = 0
for b in blobs:
    cat.stdin.write(b + b"\n"); cat.stdin.flush()
    size = int(cat.stdout.readline().split()[2]); total += len(cat.stdout.read(size + 1))
cat.stdin.close(); cat.wait()
print(len(blobs), total)
"""

CFGWATCH = r"""
import sys
from pathlib import Path
from cfgwatch.project import Project, init_project
folder = Path(PROJECT_PATH)
init_project(folder)
result = Project.open(folder / "cfgwatch.yaml").import_git(Path(REPO_PATH))
assert result.runs > 0
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--commits", type=int, default=10000)
    parser.add_argument("--lines", type=int, default=120, help="lines per device config")
    parser.add_argument("--quick", action="store_true", help="500 devices, 1,000 commits, 2 runs")
    add_common_args(parser, runs=1)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.commits, args.runs = 500, 1000, 2
    recorder = Recorder("import_history", args.json)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "oxidized.git"
        start = time.perf_counter()
        build_source(source, args.devices, args.commits, args.lines)
        print(f"source: {args.devices} devices, {args.commits} commits, {args.lines} lines each "
              f"(built in {time.perf_counter() - start:.1f} s)")  # fmt: skip
        samples: dict[str, list[Sample]] = {"read the history (git log + cat-file)": [], "cfgwatch import --git": []}
        for i in range(args.runs):  # alternating, each a fresh interpreter; no warm-up: every run is a new project
            base = BASELINE.replace("REPO_PATH", repr(str(source)))
            samples["read the history (git log + cat-file)"].append(fresh_process(base, cwd=ROOT))
            project = str(Path(scratch) / f"proj{i}")
            ours = CFGWATCH.replace("REPO_PATH", repr(str(source))).replace("PROJECT_PATH", repr(project))
            samples["cfgwatch import --git"].append(fresh_process(ours, cwd=ROOT))
            runs = subprocess.run(["git", "--git-dir", f"{project}/snapshots", "rev-list", "--count", "HEAD"],
                                  capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
            print(f"  run {i + 1}: {runs} commits in the snapshot repo")
        recorder.compare(
            f"replay of {args.commits:,} commits, {args.devices:,} devices",
            samples,
            baseline="read the history (git log + cat-file)",
        )
        wall = median_wall(samples["cfgwatch import --git"])
        print(f"  {args.commits / wall:,.0f} commits/s (wall)")


if __name__ == "__main__":
    main()
