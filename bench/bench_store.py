"""Benchmark of the snapshot store at estate scale (issue 2). Not a test: prints medians, targets, ratios.

    .venv/bin/python bench/bench_store.py [--devices 5000] [--lines 3000] [--repeat 3] [--no-baseline]

Measures SnapshotStore.write_run on already-sanitized texts (the store's own cost; sanitizing is measured
by the sanitize area) for: the first import commit, a run with 50 devices changed, a run with none changed
(must make no commit), and listing the devices changed between two runs. The baseline, measured in the
same run on the same texts, is the obvious design: write every file into a git working tree, `git add -A`,
`git commit`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cfgwatch.store import DeviceSnapshot, SnapshotStore

TARGETS = {"first": 15.0, "changed50": 2.0, "unchanged": 1.0, "listing": 0.3}
BLOCK = 100  # lines per block; each block has 10 device-specific lines, the rest is shared boilerplate


def shared_blocks(lines: int) -> list[list[str]]:
    blocks = []
    for b in range(max(lines // BLOCK, 1)):
        shared = [f" permit tcp 10.{b}.{i}.0 0.0.0.255 any eq {1000 + i}" for i in range(BLOCK - 10)]
        blocks.append(shared)
    return blocks


def device_text(n: int, blocks: list[list[str]], version: int = 0) -> str:
    parts = [f"hostname dev{n:05d}", f"! config version {version}"]
    for b, block in enumerate(blocks):
        parts.append(f"ip access-list extended ACL-{b}")
        parts.extend(block)
        parts.extend(f" permit ip host 172.{n % 250}.{b % 250}.{k} any  ! dev{n} v{version}" for k in range(9))
    return "\n".join(parts) + "\n"


class Clock:
    """`with Clock() as c: ...` then c.seconds."""

    def __enter__(self) -> Clock:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def snaps(texts: dict[str, str]) -> list[DeviceSnapshot]:
    return [DeviceSnapshot(name, "cisco_ios", text) for name, text in texts.items()]


def naive_commit(worktree: Path, texts: dict[str, str]) -> None:
    """Baseline: every file written into a working tree, then git add -A and git commit."""
    configs = worktree / "configs"
    configs.mkdir(exist_ok=True)
    for name, text in texts.items():
        (configs / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "-C", str(worktree), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(worktree), "commit", "-q", "--allow-empty", "-m", "run"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true", help="skip the git-working-tree baseline")
    args = parser.parse_args()

    blocks = shared_blocks(args.lines)
    with Clock() as gen:
        base = {f"dev{n:05d}": device_text(n, blocks) for n in range(args.devices)}
    gen_time = gen.seconds
    size_mb = sum(len(t) for t in base.values()) / 1e6
    lines = base["dev00000"].count("\n")
    print(f"{args.devices} devices x {lines} lines = {size_mb:.0f} MB of config text (generated in {gen_time:.1f} s)")

    results: dict[str, list[float]] = {k: [] for k in TARGETS}
    baseline: dict[str, list[float]] = {"first": [], "changed50": [], "unchanged": []}
    work = Path(tempfile.mkdtemp(prefix="cfgwatch-bench-"))
    started = datetime.now(UTC)
    try:
        for rep in range(args.repeat):
            repo = work / f"store{rep}"
            store = SnapshotStore.init(repo)
            with Clock() as c:
                store.write_run(snaps(base), collector="bench", started=started)
            results["first"].append(c.seconds)
            texts = dict(base)
            for run in range(1, args.repeat + 1):
                for n in range((run - 1) * 50, run * 50):
                    texts[f"dev{n:05d}"] = device_text(n, blocks, version=run)
                with Clock() as c:
                    res = store.write_run(snaps(texts), collector="bench", started=started)
                assert res.commit is not None and len(res.changed) == 50
                if rep == 0:
                    results["changed50"].append(c.seconds)
            with Clock() as c:
                res = store.write_run(snaps(texts), collector="bench", started=started)
            assert res.commit is None, "an unchanged run must not commit"
            results["unchanged"].append(c.seconds)
            with Clock() as c:
                changed = store.changed_devices("HEAD~1", "HEAD")
            assert len(changed) == 50
            results["listing"].append(c.seconds)
            out = subprocess.run(["git", "--git-dir", str(repo), "rev-list", "--count", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout  # fmt: skip
            assert out.strip() == str(1 + args.repeat), f"expected {1 + args.repeat} commits, got {out.strip()}"
            shutil.rmtree(repo)

            if not args.no_baseline:
                tree = work / f"naive{rep}"
                tree.mkdir()
                subprocess.run(["git", "init", "-q", str(tree)], check=True)
                with Clock() as c:
                    naive_commit(tree, base)
                baseline["first"].append(c.seconds)
                texts = dict(base)
                for n in range(50):
                    texts[f"dev{n:05d}"] = device_text(n, blocks, version=1)
                with Clock() as c:
                    naive_commit(tree, texts)
                baseline["changed50"].append(c.seconds)
                with Clock() as c:
                    naive_commit(tree, texts)
                baseline["unchanged"].append(c.seconds)
                shutil.rmtree(tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    labels = {
        "first": "first import commit",
        "changed50": "run with 50 changed",
        "unchanged": "run with none changed",
        "listing": "changed-device listing",
    }
    print(f"\nmedian of {args.repeat}        cfgwatch   target  vs target   baseline  speed-up vs baseline")
    for key, label in labels.items():
        med = statistics.median(results[key])
        line = f"{label:<24} {med:8.3f} s {TARGETS[key]:6.1f} s  {med / TARGETS[key]:8.2f}x"
        if baseline.get(key):
            base_med = statistics.median(baseline[key])
            line += f"  {base_med:8.3f} s  {base_med / med:8.1f}x"
        print(line)
    print("\n(vs target < 1.00x means within target; baseline = git working tree + git add -A + git commit)")


if __name__ == "__main__":
    main()
