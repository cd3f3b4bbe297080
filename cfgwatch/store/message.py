"""The commit message of a run: written by the run writer, read back by `runs()` and the history log.

The message alone tells the story in plain `git log` (summary line, device lists), and its trailers
(`Cfgwatch-Run`, `Cfgwatch-Collector`, ...) let cfgwatch recognise its own commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from cfgwatch.store.types import DeviceFailure, RunInfo

TRAILER_RUN = "Cfgwatch-Run"
TRAILER_COLLECTOR = "Cfgwatch-Collector"
TRAILER_STARTED = "Cfgwatch-Started"
_COUNT_TRAILERS = ("Changed", "Added", "Unchanged", "Failed")


def one_line(text: str, limit: int = 200) -> str:
    """Whitespace folded to single spaces and cut to limit characters (for messages and errors)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def format_message(
    *,
    collector: str,
    run_id: str,
    started: datetime,
    changed: Iterable[str],
    added: Iterable[str],
    unchanged_count: int,
    failed: Iterable[DeviceFailure],
    trailers: Iterable[tuple[str, str]] = (),
) -> str:
    """Commit message: summary line, device lists, trailers, so that `git log` alone tells the story."""
    changed, added, failed = list(changed), list(added), list(failed)
    lines = [
        f"{collector}: {len(changed)} changed, {len(added)} added, {len(failed)} failed, {unchanged_count} unchanged",
        "",
    ]
    for title, names in (("changed", changed), ("added", added)):
        if names:
            lines.append(f"{title}:")
            lines.extend(f"  {name}" for name in names)
            lines.append("")
    if failed:
        lines.append("failed:")
        lines.extend(f"  {f.name} [{f.reason}] {one_line(f.detail)}".rstrip() for f in failed)
        lines.append("")
    lines.append(f"{TRAILER_RUN}: {run_id}")
    lines.append(f"{TRAILER_COLLECTOR}: {collector}")
    lines.append(f"{TRAILER_STARTED}: {started.astimezone(UTC).isoformat()}")
    counts = (len(changed), len(added), unchanged_count, len(failed))
    lines.extend(f"Cfgwatch-{name}: {count}" for name, count in zip(_COUNT_TRAILERS, counts, strict=True))
    lines.extend(f"{key}: {one_line(value)}" for key, value in trailers)
    return "\n".join(lines) + "\n"


def parse_message(commit: str, author_time: datetime, message: str) -> RunInfo | None:
    """RunInfo from a commit message written by format_message; None for commits cfgwatch did not make."""
    trailers: dict[str, str] = {}
    sections: dict[str, list[str]] = {"changed": [], "added": [], "failed": []}
    current: str | None = None
    for line in message.splitlines()[1:]:
        if line.endswith(":") and line[:-1] in sections:
            current = line[:-1]
        elif line.startswith("  ") and current is not None:
            sections[current].append(line.strip())
        else:
            current = None
            key, sep, value = line.partition(": ")
            if sep and key.startswith("Cfgwatch-"):
                trailers[key] = value.strip()
    if TRAILER_RUN not in trailers:
        return None
    failed = []
    for entry in sections["failed"]:
        name, _, rest = entry.partition(" ")
        reason, _, detail = rest.partition("] ")
        reason = reason.strip("[]")
        failed.append(DeviceFailure(name, reason if reason else "error", detail))
    try:
        unchanged = int(trailers.get("Cfgwatch-Unchanged", "0"))
    except ValueError:
        unchanged = 0
    return RunInfo(
        commit=commit,
        run_id=trailers[TRAILER_RUN],
        time=author_time,
        collector=trailers.get(TRAILER_COLLECTOR, ""),
        changed=tuple(sections["changed"]),
        added=tuple(sections["added"]),
        failed=tuple(failed),
        unchanged_count=unchanged,
    )
