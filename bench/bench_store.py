"""Snapshot store at estate scale (issue 19 goal 5): first import, unchanged runs, against plain git in the same run.

    .venv/bin/python bench/bench_store.py [--devices 5000] [--lines 3000] [--runs 3] [--quick]

Three measurements, each alternating cfgwatch with a baseline (A B A B, cfgwatch caches cleared, one
warm-up round dropped), printing CPU seconds (this process and its git children) and wall medians:

1. first import of DEVICES x LINES already-sanitized texts (5,000 x 3,000 lines = 600 MB) into an empty
   store: SnapshotStore.write_run vs plain `git fast-import` fed the same blobs and one commit (the floor
   of any one-pack design). GOAL `store: first import, 5,000 x 3,000 lines` <= 10 s CPU.
2. unchanged run of the same texts held in memory (what a pull hands over): write_run with the pull's
   stored copies (store.copies: each text compared byte for byte with a trusted plain copy of the tree's
   blob, no hashing) and without them (every text hashed), vs hashlib computing the same git blob ids
   in-process, on one thread and on two (hashlib releases the GIL: less wall, not less CPU). GOAL
   `store: unchanged run of pulled texts` <= 0.3 s CPU (scaled with the size). Also printed once: what the
   pull's size check paid to read every last good text (read_many) against the sizes it reads now.
3. unchanged import of a folder of DEVICES config files (Project.import_dir, the `cfgwatch import` path, with
   its file cache in the state dir) vs `git hash-object --stdin-paths` of the same files (reading and
   hashing every byte: what any design without a stat cache pays at the least; cfgwatch without the cache
   also sanitizes, shown once as "import without the cache"). GOAL `store: unchanged run, 5,000 devices`
   <= 0.3 s CPU.

--quick (for scripts/bench_table.py, about a minute on a loaded machine): the first import and the
in-memory run use 1,000 texts of 3,000 lines and the first-import goal scales with the count (2 s), and
the folder holds 5,000 files of 10 lines (an unchanged run reads no text: its cost is per file, not per byte).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import Recorder, Sample, add_common_args, interleave, measure, median_cpu, median_wall

from cfgwatch.collect.importdir import import_dir
from cfgwatch.project import Project, init_project
from cfgwatch.sanitize import load_or_create_key
from cfgwatch.store import DeviceSnapshot, SnapshotStore
from cfgwatch.store.copies import StoredCopies

BLOCK = 100  # lines per block; each block has 10 device-specific lines, the rest is shared boilerplate
FIRST_GOAL_S = 10.0  # for 5,000 x 3,000 lines
UNCHANGED_GOAL_S = 0.3


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


def small_text(n: int, lines: int) -> str:
    body = [f"hostname dev{n:05d}", "ip access-list extended EDGE-IN"]
    body.extend(f" permit tcp 10.{n % 250}.{i % 250}.0 0.0.0.255 any eq {1000 + i}" for i in range(lines - 2))
    return "\n".join(body) + "\n"


def alternate(
    cases: dict[str, tuple[Callable[[], object], Callable[[], object], Callable[[], object]]], runs: int
) -> dict[str, list[Sample]]:
    """(setup, action, teardown) per case, A B A B with one warm-up round; only the action is measured
    (the harness's interleave() for cases that need a fresh repository around each run)."""
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    for round_number in range(1 + runs):
        for name, (setup, action, teardown) in cases.items():
            setup()
            sample = measure(action)
            teardown()
            if round_number:
                samples[name].append(sample)
    return samples


def fast_import(git_dir: Path, texts: list[tuple[str, str]]) -> None:
    """Baseline: the same blobs and one commit through plain `git fast-import` (no hashing, no checks)."""
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE)  # fmt: skip
    assert proc.stdin is not None
    for mark, (_, text) in enumerate(texts, start=1):
        data = text.encode()
        proc.stdin.write(b"blob\nmark :%d\ndata %d\n" % (mark, len(data)))
        proc.stdin.write(data)
        proc.stdin.write(b"\n")
    files = b"".join(b"M 100644 :%d configs/%s\n" % (m, n.encode()) for m, (n, _) in enumerate(texts, start=1))
    proc.stdin.write(b"commit refs/heads/main\ncommitter b <b@b> 0 +0000\ndata 3\nrun\n" + files + b"\ndone\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")


def first_import(work: Path, texts: list[tuple[str, str]], runs: int) -> dict[str, list[Sample]]:
    repo = work / "first"
    started = datetime.now(UTC)

    def fresh_bare() -> None:
        shutil.rmtree(repo, ignore_errors=True)
        subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)

    def fresh_store() -> None:
        shutil.rmtree(repo, ignore_errors=True)
        SnapshotStore.init(repo)

    def write_all() -> None:
        result = SnapshotStore(repo).write_run(
            (DeviceSnapshot(n, "cisco_ios", t) for n, t in texts), collector="bench", started=started
        )
        assert len(result.added) == len(texts)

    def clean() -> None:
        shutil.rmtree(repo, ignore_errors=True)

    return alternate(
        {
            "git fast-import (same texts)": (fresh_bare, lambda: fast_import(repo, texts), clean),
            "cfgwatch write_run": (fresh_store, write_all, clean),
        },
        runs,
    )


def git_blob_id(text: str) -> str:
    data = text.encode()
    digest = hashlib.sha1(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def unchanged_in_memory(work: Path, texts: list[tuple[str, str]], runs: int) -> dict[str, list[Sample]]:
    store = SnapshotStore.init(work / "memory")
    folder = work / "state" / "store-copies"
    key = b"bench-store-copies-key-012345678"
    started = datetime.now(UTC)
    pool = ThreadPoolExecutor(2)

    def run(copies: StoredCopies | None) -> int:
        result = store.write_run(
            (DeviceSnapshot(n, "cisco_ios", t) for n, t in texts), collector="bench", started=started, copies=copies
        )
        assert result.commit is None or copies is None, "an unchanged run must not commit"
        return copies.hits if copies is not None else 0

    run(None)  # first import
    run(StoredCopies(folder, key))  # hashed; writes the copies
    time.sleep(2.1)  # copies written within 2 s of being read are not trusted (the racily-clean rule)
    run(StoredCopies(folder, key))  # hashed; compares and records the settled copies
    copies_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    repo_mb = sum(f.stat().st_size for f in (work / "memory" / "objects").rglob("*") if f.is_file()) / 1e6
    print(f"  stored copies: {copies_mb:,.0f} MB in the state dir (the repository's objects: {repo_mb:,.1f} MB)")

    def with_copies() -> None:
        assert run(StoredCopies(folder, key)) == len(texts), "every text proven by its copy"

    names = [n for n, _ in texts]
    reading = measure(lambda: store.read_many(names, "HEAD")).cpu
    sizes = measure(lambda: store.sizes(names, "HEAD")).cpu
    print(f"  pull size check, last good texts read (before): {reading:.2f} s CPU; sizes only (now): {sizes:.3f} s")
    samples = interleave(
        {
            "hashlib blob ids (same texts)": lambda: [git_blob_id(t) for _, t in texts],
            "hashlib blob ids, 2 threads": lambda: list(pool.map(git_blob_id, (t for _, t in texts), chunksize=64)),
            "cfgwatch write_run (hashing)": lambda: run(None),
            "cfgwatch write_run (stored copies)": with_copies,
        },
        runs,
    )
    pool.shutdown()
    shutil.rmtree(work / "memory")
    shutil.rmtree(folder)
    return samples


def unchanged_folder(work: Path, devices: int, lines: int, runs: int) -> tuple[dict[str, list[Sample]], float]:
    """Samples of the unchanged folder import, and the CPU seconds of one import that reads every file."""
    folder = work / "saved"
    folder.mkdir()
    for n in range(devices):
        (folder / f"dev{n:05d}.cfg").write_text(small_text(n, lines))
    init_project(work / "project")
    config = work / "project" / "cfgwatch.yaml"
    time.sleep(2.1)  # files changed within 2 s of being read are never cached (the racily-clean rule)
    Project.open(config).import_dir(folder, platform="cisco_ios")  # every device added; the cache filled
    project = Project.open(config)
    key = load_or_create_key(project.config.state_path)
    # the same unchanged import with no cache: what every unchanged run cost before (one run, not alternated)
    reading = measure(lambda: import_dir(project.store, folder, key=key, platform="cisco_ios", cache=None)).cpu
    paths = "".join(f"{folder / f'dev{n:05d}.cfg'}\n" for n in range(devices)).encode()

    def hash_object() -> None:
        subprocess.run(["git", "hash-object", "--stdin-paths"], input=paths, capture_output=True, check=True)

    def import_unchanged() -> None:
        result = Project.open(config).import_dir(folder, platform="cisco_ios")
        assert result.run.commit is None and len(result.run.unchanged) == devices, result.run

    samples = interleave(
        {"git hash-object --stdin-paths (same files)": hash_object, "cfgwatch import (file cache)": import_unchanged},
        runs,
    )
    return samples, reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=5000, help="devices (default 5000)")
    parser.add_argument("--lines", type=int, default=3000, help="lines per text of the first import (default 3000)")
    parser.add_argument("--folder-devices", type=int, help="files in the folder (default: --devices)")
    parser.add_argument("--folder-lines", type=int, default=3000, help="lines per file of the folder (default 3000)")
    parser.add_argument("--quick", action="store_true", help="1,000 texts; 5,000 files of 10 lines; 2 runs")
    add_common_args(parser, runs=3)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.lines, args.folder_devices, args.folder_lines, args.runs = 1000, 3000, 5000, 10, 2
    folder_devices = args.folder_devices or args.devices
    recorder = Recorder("store", args.json)

    blocks = shared_blocks(args.lines)
    texts = [(f"dev{n:05d}", device_text(n, blocks)) for n in range(args.devices)]
    size_mb = sum(len(t) for _, t in texts) / 1e6
    lines = texts[0][1].count("\n")
    print(f"{args.devices:,} devices x {lines:,} lines = {size_mb:,.0f} MB of config text")
    work = Path(tempfile.mkdtemp(prefix="cfgwatch-bench-store-"))
    try:
        samples = first_import(work, texts, args.runs)
        ratio = recorder.compare("first import into an empty store", samples, baseline="git fast-import (same texts)")
        goal = FIRST_GOAL_S * (args.devices * args.lines) / (5000 * 3000)  # 10 s for 5,000 x 3,000 lines
        recorder.goal(
            f"store: first import, {args.devices:,} x {args.lines:,} lines",
            round(median_cpu(samples["cfgwatch write_run"]), 3),
            round(goal, 3),
            "s CPU",
            baseline="git fast-import",
            ratio=ratio,
        )
        print(f"  (wall median {median_wall(samples['cfgwatch write_run']):.2f} s)")

        samples = unchanged_in_memory(work, texts, args.runs)
        ratio = recorder.compare(
            "unchanged run, texts in memory (a pull)",
            samples,
            baseline="hashlib blob ids (same texts)",
            subject="cfgwatch write_run (stored copies)",
        )
        recorder.goal(
            f"store: unchanged run of pulled texts (in memory), {args.devices:,} x {args.lines:,} lines",
            round(median_cpu(samples["cfgwatch write_run (stored copies)"]), 3),
            round(UNCHANGED_GOAL_S * (args.devices * args.lines) / (5000 * 3000), 3),
            "s CPU",
            baseline="hashlib blob ids",
            ratio=ratio,
        )
        del texts

        samples, reading = unchanged_folder(work, folder_devices, args.folder_lines, args.runs)
        ratio = recorder.compare(
            f"unchanged import of a folder of {folder_devices:,} files x {args.folder_lines:,} lines",
            samples,
            baseline="git hash-object --stdin-paths (same files)",
        )
        print(f"  import without the cache (reads, sanitizes and hashes every file): {reading:.2f} s CPU, one run")
        recorder.goal(
            f"store: unchanged import of a folder, {folder_devices:,} files x {args.folder_lines:,} lines",
            round(median_cpu(samples["cfgwatch import (file cache)"]), 3),
            UNCHANGED_GOAL_S,
            "s CPU",
            baseline="git hash-object",
            ratio=ratio,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
