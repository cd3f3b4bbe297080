"""What a rollback costs per finding on a big config: one added entry in a 50k-line IOS config.

    .venv/bin/python bench/bench_rollback.py [--acls 5000] [--runs 5] [--quick]

cfgwatch cuts both configs to the touched stanza and runs ciscoconfparse2's Diff (hier_config) on that;
the baseline is the same Diff over the whole two configs, which is what a tool without the cut would do.
Both alternate in one run (A B A B, caches cleared, the first call's one-time imports paid in a warm-up);
prints CPU/wall medians, the ratio and the load average.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Recorder, add_common_args, interleave, median_cpu
from ciscoconfparse2 import Diff

from cfgwatch.model.changes import ChangeType, RuleChange, SourceLines
from cfgwatch.report.rollback import rollback_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--acls", type=int, default=5000, help="named ACLs of 9 entries each (default 5000)")
    parser.add_argument("--quick", action="store_true", help="1,000 ACLs, 3 runs")
    add_common_args(parser, runs=5)
    args = parser.parse_args()
    if args.quick:
        args.acls, args.runs = 1000, 3
    recorder = Recorder("rollback", args.json)
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

    def whole_config_diff() -> object:
        return Diff(after_text, before_text, syntax="ios").get_diff()

    def cfgwatch_rollback() -> object:
        return rollback_for(change, before_text, after_text)

    samples = interleave(
        {"ciscoconfparse2 Diff, whole config": whole_config_diff, "cfgwatch rollback_for": cfgwatch_rollback},
        args.runs,
    )
    print(f"{len(after):,} lines, one added entry")
    ratio = recorder.compare(
        "rollback of one finding",
        samples,
        baseline="ciscoconfparse2 Diff, whole config",
        subject="cfgwatch rollback_for",
    )
    per_finding = median_cpu(samples["cfgwatch rollback_for"])
    print(f"per finding {per_finding * 1000:.1f} ms CPU ({ratio:.3f}x the whole-config Diff)")
    print("commands:", rollback_for(change, before_text, after_text).commands)


if __name__ == "__main__":
    main()
