"""The nightly job: pull -> audit (every run since the previous nightly) -> export -> notify, unattended.

One NightlyResult comes back as data: what was pulled, the audit, coverage gaps (devices that failed to pull
for N nights in a row, from the run journal), the export, the notification outcomes and stage errors.
A stage that fails is recorded and the later stages still run where they can, so a broken pull is still
audited against the last good snapshots and still notified. Two nightlies never overlap: an OS file lock in
the state directory (released by the kernel if the process dies) makes the second one fail fast.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgwatch.config import CfgwatchConfig
from cfgwatch.errors import CfgwatchError, LockedError, StoreError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.notify import Notice, NotifyOutcome, notify
from cfgwatch.notify.message import AlertItem
from cfgwatch.policy.settings import SEVERITIES
from cfgwatch.project import Project
from cfgwatch.store import DeviceFailure, JournalEntry

if TYPE_CHECKING:
    from cfgwatch.audit import AuditResult, FlowChecker
    from cfgwatch.collect.runner import PullResult
    from cfgwatch.coverage import SilentExporter
    from cfgwatch.policy.findings import Finding

LOCK_NAME = "nightly.lock"
STATE_NAME = "nightly.json"
COVERAGE_GAP = "coverage-gap"


# --- lock and state -------------------------------------------------------------------------------------


@contextmanager
def nightly_lock(state_dir: Path) -> Iterator[None]:
    """Hold the nightly lock or raise LockedError naming the holder (pid and start time)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open the nightly lock: {exc.strerror}", path=path) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown process"
        os.close(fd)
        raise LockedError(
            f"another cfgwatch nightly is running ({holder}); not starting a second one", path=path
        ) from None
    try:
        with suppress(OSError):  # naming the holder is a courtesy: a full disk must not stop the run
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}".encode(), 0)
        yield
    finally:
        with suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@dataclass(frozen=True, slots=True)
class NightlyState:
    """What the previous nightly audited up to (the snapshot commit) and the end of its export range."""

    last_commit: str | None = None
    finished: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"last_commit": self.last_commit, "finished": self.finished.isoformat() if self.finished else None}


def read_state(state_dir: Path) -> NightlyState:
    """The previous nightly's state; a missing file means this is the first nightly."""
    path = state_dir / STATE_NAME
    if not path.exists():
        return NightlyState()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        finished = doc.get("finished")
        return NightlyState(doc.get("last_commit"), datetime.fromisoformat(finished) if finished else None)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise StoreError(f"unreadable nightly state ({exc}); delete it to start over", path=path) from exc


def write_state(state_dir: Path, state: NightlyState) -> None:
    """Atomically replace the state file (a crash leaves the old one)."""
    path = state_dir / STATE_NAME
    try:
        _atomic_write(path, json.dumps(state.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise StoreError(f"cannot write the nightly state: {exc.strerror}", path=path) from exc


# --- coverage gaps ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """A device that failed to pull on `nights` distinct nights in a row: the audit is blind to it."""

    device: str
    severity: str
    nights: int  # distinct UTC dates with a failed run in the current streak
    runs: int  # failed runs in the streak
    since: datetime  # first failure of the streak
    last: datetime  # latest failure
    reason: str  # latest failure reason (auth, timeout, refused, hostkey, ...)
    detail: str  # latest failure detail (never holds credentials, see DeviceFailure)
    reasons: tuple[str, ...]  # every reason seen in the streak, sorted

    @property
    def id(self) -> str:
        """Stable for one streak (same device, same first failure) so repeated nights dedupe downstream."""
        return "GAP-" + sha256(f"{self.device}\0{self.since.isoformat()}".encode()).hexdigest()[:12]

    @property
    def categories(self) -> tuple[str, ...]:
        return (COVERAGE_GAP,)

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f"pull-failed:{reason}" for reason in self.reasons)

    @property
    def severity_rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def text(self) -> str:
        return (
            f"[{self.severity.upper()}] {self.id} {self.device}: {COVERAGE_GAP}: not collected for {self.nights} "
            f"night(s) ({self.runs} failed run(s) since {self.since.isoformat(timespec='minutes')}); "
            f"last failure {self.reason}: {self.detail}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device": self.device,
            "severity": self.severity,
            "categories": list(self.categories),
            "tags": [],
            "flags": list(self.flags),
            "coverage": {
                "nights": self.nights,
                "failed_runs": self.runs,
                "since": self.since.isoformat(),
                "last": self.last.isoformat(),
                "reason": self.reason,
                "detail": self.detail,
            },
        }


def coverage_gaps(
    entries: Sequence[JournalEntry],
    *,
    nights: int,
    severity: str,
    devices: set[str] | None = None,
) -> tuple[CoverageGap, ...]:
    """Devices whose trailing run of failures (runs that did not mention them are ignored) spans `nights`
    distinct UTC dates. `devices` restricts to the current inventory so removed devices stop alerting."""
    streaks: dict[str, list[tuple[datetime, DeviceFailure]]] = {}
    for entry in sorted(entries, key=lambda e: e.started):
        for name in entry.ok:
            streaks.pop(name, None)
        for failure in entry.failed:
            streaks.setdefault(failure.name, []).append((entry.started, failure))
    gaps: list[CoverageGap] = []
    for device, streak in sorted(streaks.items()):
        if devices is not None and device not in devices:
            continue
        dates = {when.astimezone(UTC).date() for when, _ in streak}
        if len(dates) < nights:
            continue
        last_time, last = streak[-1]
        gaps.append(
            CoverageGap(
                device=device,
                severity=severity,
                nights=len(dates),
                runs=len(streak),
                since=streak[0][0],
                last=last_time,
                reason=last.reason,
                detail=last.detail,
                reasons=tuple(sorted({failure.reason for _, failure in streak})),
            )
        )
    return tuple(gaps)


# --- the result --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageError:
    """A stage that could not do its job (bad config, unreachable store, export failure)."""

    stage: str  # pull | push | audit | export | coverage | compact
    message: str

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}"


@dataclass(frozen=True, slots=True)
class FailedPull:
    """A device the night's pull could not collect, named in the summary line and the monitoring files."""

    device: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"device": self.device, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class NightlyResult:
    pulled: int | None  # devices collected OK (None when the pull was skipped or failed as a whole)
    pull_failed: int | None
    audit: AuditResult | None  # None when the audit stage failed
    gaps: tuple[CoverageGap, ...]
    export: Path | None
    notifications: tuple[NotifyOutcome, ...]
    errors: tuple[StageError, ...]
    fail_on: str
    previous: NightlyState
    audited_to: str | None  # the snapshot commit this nightly audited up to
    started: datetime
    finished: datetime
    notes: tuple[str, ...] = ()  # e.g. "export step not available", "first nightly: last run only"
    pull: PullResult | None = field(default=None, repr=False)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.audit.findings if self.audit is not None else ()

    def severities(self) -> list[str]:
        """Severity of every finding and coverage gap."""
        return [f.severity for f in self.findings] + [g.severity for g in self.gaps]

    def fails(self) -> bool:
        rank = SEVERITIES.index(self.fail_on)
        return any(SEVERITIES.index(severity) >= rank for severity in self.severities())

    @property
    def uncompared(self) -> tuple[str, ...]:
        """Devices whose change the audit could not compare (a parser bug, an unknown platform)."""
        return self.audit.uncompared if self.audit is not None else ()

    @property
    def failed_devices(self) -> tuple[FailedPull, ...]:
        """Devices this night's pull could not collect (with --no-pull: those the last stored run failed)."""
        if self.pull is not None:
            return tuple(FailedPull(f.name, f.reason, f.detail) for f in self.pull.run.failed)
        coverage = self.audit.coverage if self.audit is not None else None
        return tuple(FailedPull(f.device, f.reason, f.detail) for f in coverage.failed) if coverage else ()

    @property
    def silent_exporters(self) -> tuple[SilentExporter, ...]:
        coverage = self.audit.coverage if self.audit is not None else None
        return coverage.silent if coverage is not None else ()

    @property
    def exit_code(self) -> int:
        """2 when a stage failed; 1 when a finding or gap is at or above policy.fail_on, a device failed to pull
        or could not be compared, or a flow exporter went silent (the job ran; someone must look); else 0.
        A crash is EXIT_INTERNAL (70), never one of these."""
        if self.errors:
            return 2
        return 1 if self.fails() or self.uncompared or self.failed_devices or self.silent_exporters else 0

    def summary(self) -> str:
        """The one line for the job log."""
        parts: list[str] = []
        named = ", ".join(f"{f.device} {f.reason}" for f in self.failed_devices)
        if self.pulled is None and self.pull_failed is None:
            parts.append("pull skipped" if not any(e.stage == "pull" for e in self.errors) else "pull FAILED")
            if named:
                parts.append(f"last run: {len(self.failed_devices)} FAILED ({named})")
        else:
            parts.append(f"{self.pulled} pulled, {self.pull_failed} failed" + (f" ({named})" if named else ""))
        severities = self.severities()
        total = len(severities)
        worst = [s for s in reversed(SEVERITIES) if s in severities][:1]
        counts = "".join(f" ({severities.count(s)} {s})" for s in worst)
        parts.append(f"{total} finding{'s' if total != 1 else ''}{counts}")
        if self.gaps:
            parts.append(f"{len(self.gaps)} coverage gap{'s' if len(self.gaps) != 1 else ''}")
        if self.uncompared:
            parts.append(f"{len(self.uncompared)} device{'s' if len(self.uncompared) != 1 else ''} NOT COMPARED")
        if self.silent_exporters:
            silent = ", ".join(e.exporter for e in self.silent_exporters)
            parts.append(f"{len(self.silent_exporters)} exporter(s) SILENT ({silent})")
        if self.export is not None:
            parts.append(f"export {self.export}")
        sent = [o for o in self.notifications if o.ok and not o.skipped]
        failed = [o for o in self.notifications if not o.ok]
        if sent:
            parts.append("notified " + ",".join(dict.fromkeys(o.channel for o in sent)))
        if failed:
            parts.append("notify FAILED " + ",".join(f"{o.channel}({o.target})" for o in failed))
        for error in self.errors:
            parts.append(f"error in {error}")
        return "cfgwatch nightly: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        from cfgwatch.report.findings import audit_document

        return {
            "summary": self.summary(),
            "exit_code": self.exit_code,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "pull": None if self.pulled is None else {"ok": self.pulled, "failed": self.pull_failed},
            "previous": self.previous.to_json(),
            "audited_to": self.audited_to,
            "audit": audit_document(self.audit) if self.audit is not None else None,
            "coverage_gaps": [gap.to_json() for gap in self.gaps],
            "failed_devices": [failure.to_json() for failure in self.failed_devices],
            "exporters_silent": [exporter.to_json() for exporter in self.silent_exporters],
            "export": str(self.export) if self.export is not None else None,
            "notifications": [outcome.to_json() for outcome in self.notifications],
            "errors": [{"stage": e.stage, "message": e.message} for e in self.errors],
            "notes": list(self.notes),
        }

    def text(self) -> str:
        """Summary line, then each finding and gap, then problems and notification failures."""
        from cfgwatch.report.coverage import coverage_lines
        from cfgwatch.report.findings import finding_text
        from cfgwatch.report.view import finding_views

        out = [self.summary()]
        for view in finding_views(self.findings, self.audit.rollbacks if self.audit is not None else None):
            out.append("")
            out.extend(finding_text(view))
        for gap in self.gaps:
            out.append("")
            out.append(gap.text())
        if self.audit is not None:
            out += ["", *coverage_lines(self.audit)]
        problems = list(self.audit.problems) if self.audit is not None else []
        extra = problems + [f"notify {o.channel} {o.target}: {o.error}" for o in self.notifications if not o.ok]
        extra += list(self.notes)
        if extra:
            out.append("")
            out.append("notes:")
            out.extend(f"  {line}" for line in extra)
        return "\n".join(out) + "\n"


# --- monitoring files ------------------------------------------------------------------------------------------

SUMMARY_NAME = "nightly-summary.json"
PROMETHEUS_NAME = "cfgwatch_nightly.prom"


def summary_document(result: NightlyResult) -> dict[str, Any]:
    """The small JSON a monitoring check reads: exit code, devices ok/failed by name, findings by severity."""
    severities = result.severities()
    coverage = result.audit.coverage if result.audit is not None else None
    return {
        "summary": result.summary(),
        "exit_code": result.exit_code,
        "started": result.started.isoformat(),
        "finished": result.finished.isoformat(),
        "duration_seconds": round((result.finished - result.started).total_seconds(), 3),
        "devices": {  # this night's pull; with --no-pull, the last stored run's (`from`)
            "from": "pull" if result.pull is not None else "last-run",
            "ok": result.pulled if result.pull is not None else len(coverage.pulled) if coverage else None,
            "failed": len(result.failed_devices),
            "failed_devices": [failure.to_json() for failure in result.failed_devices],
        },
        "findings": {severity: severities.count(severity) for severity in SEVERITIES},
        "coverage_gaps": len(result.gaps),
        "not_compared": list(result.uncompared),
        "exporters_silent": [exporter.to_json() for exporter in result.silent_exporters],
        "errors": [str(error) for error in result.errors],
    }


def _label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(result: NightlyResult) -> str:
    """The node_exporter textfile: run time and duration, devices ok/failed, findings by severity, silence."""
    doc = summary_document(result)
    metrics: list[tuple[str, str, str, list[tuple[str, float]]]] = [
        ("cfgwatch_nightly_last_run_timestamp_seconds", "gauge", "When the last nightly finished (Unix time).",
         [("", result.finished.timestamp())]),
        ("cfgwatch_nightly_duration_seconds", "gauge", "How long the last nightly ran.",
         [("", doc["duration_seconds"])]),
        ("cfgwatch_nightly_exit_code", "gauge", "Exit code of the last nightly (0 clean, 1 look, 2 error).",
         [("", result.exit_code)]),
        ("cfgwatch_nightly_devices", "gauge", "Devices collected by the last nightly, by state.",
         [('{state="ok"}', doc["devices"]["ok"] or 0), ('{state="failed"}', doc["devices"]["failed"] or 0)]),
        ("cfgwatch_nightly_device_pull_failed", "gauge", "1 for each device the last nightly could not collect.",
         [(f'{{device="{_label(f.device)}",reason="{_label(f.reason)}"}}', 1) for f in result.failed_devices]),
        ("cfgwatch_nightly_findings", "gauge", "Findings and coverage gaps of the last nightly, by severity.",
         [(f'{{severity="{severity}"}}', count) for severity, count in doc["findings"].items()]),
        ("cfgwatch_nightly_exporters_silent", "gauge", "Flow exporters with no records in the silence window.",
         [("", len(result.silent_exporters))]),
    ]  # fmt: skip
    lines: list[str] = []
    for name, kind, help_text, samples in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{labels} {value:g}" if isinstance(value, float) else f"{name}{labels} {value}"
                  for labels, value in samples]  # fmt: skip
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    """Replace path by text: fsync'd temp file renamed into place, the temp file removed if that fails
    (a full disk must not leave half files behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # the rename must not land before the data
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise


def write_monitoring(result: NightlyResult, cfg: CfgwatchConfig) -> tuple[Path, Path]:
    """Write the JSON summary and the Prometheus textfile (each replaced atomically); returns their paths."""
    summary = cfg.resolve(cfg.nightly.summary_file) if cfg.nightly.summary_file else cfg.state_path / SUMMARY_NAME
    prom = cfg.resolve(cfg.nightly.prometheus_file) if cfg.nightly.prometheus_file else cfg.state_path / PROMETHEUS_NAME
    _atomic_write(summary, json.dumps(summary_document(result), indent=2) + "\n")
    _atomic_write(prom, prometheus_text(result))
    return summary, prom


# --- notification content -------------------------------------------------------------------------------------


def finding_item(finding: Finding) -> AlertItem:
    """One finding as a notification line (shared by the nightly and `cfgwatch watch`)."""
    from cfgwatch.report.story import story

    who = finding.attribution.user or "unknown"
    told = story(finding)
    text = (
        f"[{finding.severity.upper()}] {finding.id} {finding.device}: {', '.join(finding.categories + finding.tags)}"
        f" by {who}; flags: {', '.join(finding.flags) or '-'}; flow: {finding.flow.verdict}. {told.sentence}"
    )
    document = {**finding.to_json(), "story": told.to_json()}
    return AlertItem(finding.id, finding.severity, finding.device, finding.categories, finding.flags, text, document)


def _gap_item(gap: CoverageGap) -> AlertItem:
    return AlertItem(gap.id, gap.severity, gap.device, gap.categories, gap.flags, gap.text(), gap.to_json())


def build_notice(result: NightlyResult) -> Notice:
    """The notice for this nightly: every finding and gap (channels filter by their severity)."""
    items = [finding_item(f) for f in result.findings] + [_gap_item(g) for g in result.gaps]
    items.sort(key=lambda item: (-item.rank, item.device, item.id))
    worst = max((item.rank for item in items), default=None)
    headline = f"{len(items)} finding(s)" + (f", worst {SEVERITIES[worst]}" if worst is not None else "")
    if result.errors:
        headline += f", {len(result.errors)} stage error(s)"
    if result.uncompared:
        headline += f", {len(result.uncompared)} device(s) not compared"
    if result.failed_devices:
        headline += f", {len(result.failed_devices)} device(s) failed to pull"
    if result.silent_exporters:
        headline += f", {len(result.silent_exporters)} flow exporter(s) silent"
    return Notice(
        title=f"cfgwatch nightly: {headline}",
        summary=result.summary(),
        items=tuple(items),
        errors=tuple(str(error) for error in result.errors),
        generated=result.finished,
    )


# --- the job ------------------------------------------------------------------------------------------------------


def _export(project: Project, start: datetime, end: datetime, out: Path, flow_checker: FlowChecker | None) -> Path:
    """Write the evidence bundle for [start, end] to `out` (a .zip), as `cfgwatch export` does."""
    from cfgwatch.report.evidence import load_private_key

    cfg = project.config
    key = load_private_key(cfg.resolve(cfg.nightly.sign_key)) if cfg.nightly.sign_key is not None else None
    return project.export(start, end, out, signing_key=key, flow_checker=flow_checker).path


def _pull_with_wait(project: Project, wait: float) -> PullResult:
    """Project.pull, waiting up to `wait` seconds for an ad-hoc / hourly pull that holds the store lock."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return project.pull()
        except LockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(min(5.0, max(deadline - time.monotonic(), 0.1)))


def _compact_flows(
    project: Project, say: Callable[[str, str], None], errors: list[StageError], notes: list[str]
) -> None:
    """Merge the day's unsorted ingest batches (DuckDB flow store only) once the audit has read them.

    Ingest appends batches without sorting so it keeps up with exporters; without a nightly compaction a
    day would stay hundreds of small files and every window query would open all of them.
    """
    if project.config.flows.backend != "duckdb" or not project.has_flow_data():
        return
    from cfgwatch.flows.backends.duckdb_ingest import compact_store

    say("compact", "compacting the flow store")
    try:
        report = compact_store(project.flow_store_path())
    except CfgwatchError as exc:  # a full disk included: the batches stay as they were, still readable
        errors.append(StageError("compact", str(exc)))
        return
    if report.files:
        notes.append(f"flow store compacted: {report.days} days, {report.files} files merged, {report.rows} rows")


def run_nightly(
    project: Project | CfgwatchConfig | None = None,
    *,
    pull: bool = True,
    export_dir: Path | None = None,
    send: bool = True,
    lock_wait: float = 600.0,
    events: Events = NO_EVENTS,
) -> NightlyResult:
    """Run the nightly once. Raises LockedError when another nightly runs; every other failure is data.

    pull: collect first (False audits what is already stored, e.g. after `cfgwatch import`).
    export_dir: evidence bundle root (default nightly.export_dir; none: no export).
    send: deliver notifications (False computes everything but contacts nobody).
    lock_wait: seconds to wait for a pull that holds the snapshot store lock.
    `project` is an open Project, a loaded config, or None for ./cfgwatch.yaml ($CFGWATCH_CONFIG).
    """
    project = project if isinstance(project, Project) else Project.open(project)
    cfg = project.config
    say = events.message
    state_dir = cfg.state_path
    with nightly_lock(state_dir):
        started = datetime.now(UTC)
        errors: list[StageError] = []
        notes: list[str] = []
        previous = read_state(state_dir)

        pull_result: PullResult | None = None
        if pull:
            say("pull", "pulling configs")
            try:
                pull_result = _pull_with_wait(project, lock_wait)
            except CfgwatchError as exc:
                errors.append(StageError("pull", str(exc)))
            if pull_result is not None and pull_result.push is not None and not pull_result.push.ok:
                errors.append(StageError("push", pull_result.push.text()))  # notified; retried next run

        audit: AuditResult | None = None
        audited_to: str | None = None
        say("audit", "auditing runs since the previous nightly")
        flows = ExitStack()  # one flow checker for the audit and the export, closed after both
        checker: FlowChecker | None = None
        try:
            checker = flows.enter_context(project.flow_checker(cfg.nightly.flows))
        except CfgwatchError as exc:
            notes.append(f"flow check skipped: {exc}")
        try:
            store = project.store
            project.inventory  # noqa: B018 -- an unreadable inventory fails the audit stage, as the audit needs it
            runs = store.runs()
            audited_to = runs[0].commit if runs else None
            since: str | None = None
            if previous.last_commit is None:
                notes.append("first nightly: audited the last run only")
            elif previous.last_commit not in {run.commit for run in runs}:
                notes.append(f"previous nightly commit {previous.last_commit[:12]} is gone: audited the last run")
            else:
                since = previous.last_commit
            audit = project.audit(since=since, flow_checker=checker)
        except CfgwatchError as exc:
            errors.append(StageError("audit", str(exc)))

        gaps: tuple[CoverageGap, ...] = ()
        try:
            inventory_hosts: set[str] | None = None
            try:
                inv = project.inventory
                inventory_hosts = set(inv.hosts) if inv is not None else None
            except CfgwatchError:
                inventory_hosts = None
            gaps = coverage_gaps(
                project.journal_entries(),
                nights=cfg.nightly.coverage_gap_nights,
                severity=cfg.nightly.coverage_gap_severity,
                devices=inventory_hosts,
            )
        except CfgwatchError as exc:
            errors.append(StageError("coverage", str(exc)))

        exported: Path | None = None
        cut = datetime.now(UTC)  # runs up to here are covered; the next nightly's export starts here
        root = export_dir if export_dir is not None else cfg.nightly.export_dir
        try:
            if root is not None:
                say("export", "writing the evidence bundle")
                frm = previous.finished or (started - timedelta(days=1))
                target = cfg.resolve(root) / f"cfgwatch-evidence-{cut.strftime('%Y%m%dT%H%M%SZ')}.zip"
                try:
                    exported = _export(project, frm, cut, target, checker)
                except CfgwatchError as exc:
                    errors.append(StageError("export", str(exc)))
                except OSError as exc:  # a full or read-only disk must not cost the night its notification
                    errors.append(StageError("export", f"{target}: {exc.strerror or exc}"))
        finally:
            flows.close()
        _compact_flows(project, say, errors, notes)

        result = NightlyResult(
            pulled=len(pull_result.run.ok) if pull_result is not None else None,
            pull_failed=len(pull_result.run.failed) if pull_result is not None else None,
            audit=audit,
            gaps=gaps,
            export=exported,
            notifications=(),
            errors=tuple(errors),
            fail_on=cfg.policy.fail_on,
            previous=previous,
            audited_to=audited_to,
            started=started,
            finished=datetime.now(UTC),
            notes=tuple(notes),
            pull=pull_result,
        )
        if send:
            say("notify", "sending notifications")
            outcomes = notify(build_notice(result), cfg.notify, cfg.base_dir)
            result = replace(result, notifications=outcomes)
        try:  # after notify, so the files say what was sent
            write_monitoring(result, cfg)
        except OSError as exc:
            result = replace(result, errors=(*result.errors, StageError("monitoring", f"{exc.strerror or exc}")))
        if audit is not None:
            write_state(state_dir, NightlyState(audited_to, cut))
        return result
