"""What a rollback costs per finding on a big config: one added entry in a 50k-line IOS config.

    .venv/bin/python bench/bench_rollback.py [--acls 5000] [--repeat 20]

The first call pays the one-time ciscoconfparse2 import; the median of the next `--repeat` calls is the
per-finding cost (splitting both configs, cutting them to the touched stanza, Diff on that stanza).
Prints the load average: the figure is only comparable on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cfgwatch.model.changes import ChangeType, RuleChange, SourceLines
from cfgwatch.report.rollback import rollback_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acls", type=int, default=5000, help="named ACLs of 9 entries each")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    lines = ["hostname big"]
    for index in range(args.acls):
        lines.append(f"ip access-list extended ACL{index}")
        lines += [f" {10 * (j + 1)} permit tcp 10.{index % 250}.{j}.0 0.0.0.255 any eq {1000 + j}" for j in range(9)]
    added = " 15 permit tcp 10.0.0.0 0.0.0.255 host 198.51.100.7 eq 3128"
    after = [*lines[:3], added, *lines[3:]]
    before_text, after_text = "\n".join(lines) + "\n", "\n".join(after) + "\n"
    change = RuleChange(
        "big", "cisco_ios", ChangeType.ADDED, "filter", "k", None, None, lines_after=SourceLines(4, 4, (added,))
    )
    start = time.perf_counter()
    first = rollback_for(change, before_text, after_text)
    cold = time.perf_counter() - start
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        rollback_for(change, before_text, after_text)
        times.append(time.perf_counter() - start)
    print(
        f"{len(after):,} lines; first call (with imports) {cold:.2f} s; per finding median "
        f"{statistics.median(times) * 1000:.1f} ms over {args.repeat}; load {os.getloadavg()[0]:.1f}"
    )
    print("commands:", first.commands)


if __name__ == "__main__":
    main()
