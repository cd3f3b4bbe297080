"""The audit: runs in range -> rule diff -> classification -> policy -> findings (-> flow verdicts).

This is the orchestration the CLI's `diff`, `audit` and `approve` commands, the nightly job and the
evidence export share. It returns data; rendering lives in cfgwatch.report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from cfgwatch.classify.categories import egress_flow_targets, nat_views
from cfgwatch.classify.networks import Networks, load_networks
from cfgwatch.config import CfgwatchConfig
from cfgwatch.coverage import Coverage, build_coverage
from cfgwatch.errors import CfgwatchError, InputError
from cfgwatch.events import NO_EVENTS, Events
from cfgwatch.flows.backends.base import FlowBackend, TimeWindow
from cfgwatch.flows.figures import FlowFigures, FlowFlags, SeriesPoint
from cfgwatch.flows.open import parse_duration
from cfgwatch.flows.verify import FlowCheck, selector_for, verify
from cfgwatch.inventory import Inventory
from cfgwatch.model import AddressSet, NatRule
from cfgwatch.model.changes import RuleChange
from cfgwatch.names import require_known
from cfgwatch.policy.approved import Approval, load_approved
from cfgwatch.policy.attribution import Attribution, ConfigEvent, attribute, read_syslog, received_syslog_path
from cfgwatch.policy.findings import (
    DeviceContext,
    Finding,
    FlowResult,
    confirm_destinations,
    destination_probe,
    evaluate,
    finding_id,
    with_flow,
)
from cfgwatch.policy.history import ApprovalHistory
from cfgwatch.policy.settings import SEVERITIES, GroupPolicy
from cfgwatch.policy.tickets import Ticket, load_tickets
from cfgwatch.report.rollback import Rollback, rollback_for
from cfgwatch.revisions import DiffResult, diff_revisions
from cfgwatch.sanitize import ChangeMetadata
from cfgwatch.store import RunInfo, SnapshotStore

APPROVED_FILE = "approved.yaml"
TICKETS_FILE = "tickets.yaml"
NETWORKS_FILE = "networks.yaml"

FlowChecker = Callable[[Finding], FlowResult]


@dataclass(frozen=True, slots=True)
class RunPair:
    """Two consecutive runs; a run paired with itself is the posture audit of the very first run."""

    before: RunInfo
    after: RunInfo

    @property
    def posture(self) -> bool:
        """The first run compared with nothing: its rules existed before cfgwatch saw the devices."""
        return self.before.commit == self.after.commit


@dataclass(frozen=True, slots=True)
class ChangeReview:
    """One change as the audit saw it: its run pair and attribution (kept for approved changes too)."""

    change: RuleChange
    pair: RunPair
    attribution: Attribution
    change_time: datetime | None  # attributed time; None when unknown (the pair's times bound it)
    finding_id: str | None  # the finding it produced, None when approved or enabling nothing


@dataclass(frozen=True, slots=True)
class AuditResult:
    findings: tuple[Finding, ...]
    changes: tuple[RuleChange, ...]
    pairs: tuple[RunPair, ...]
    problems: tuple[str, ...] = ()  # unreadable ticket records, syslog lines, devices not compared
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    reviews: tuple[ChangeReview, ...] = ()  # every change with its attribution (the evidence export needs them)
    uncompared: tuple[str, ...] = ()  # devices whose change could not be compared (also in problems): never "clean"
    coverage: Coverage | None = None  # what the audit could see (Project.audit fills it in)
    rollbacks: dict[str, Rollback] = field(default_factory=dict)  # by finding id: how to undo it (never applied)

    def worst(self) -> str | None:
        if not self.findings:
            return None
        return max(self.findings, key=lambda finding: finding.severity_rank).severity

    def fails(self, threshold: str) -> bool:
        rank = SEVERITIES.index(threshold)
        return any(finding.severity_rank >= rank for finding in self.findings)


def run_pairs(store: SnapshotStore, since: str | None, *, posture: bool = False) -> list[RunPair]:
    """Consecutive (older, newer) run pairs to audit: the last run by default, or every run since REV/DURATION.

    With `posture`, a range that starts at the very first run (or a store holding one run) also gets that
    run paired with itself: the posture audit of what existed before cfgwatch was installed.
    """
    runs = list(reversed(store.runs()))  # oldest first
    first = [RunPair(runs[0], runs[0])] if posture and runs else []
    if not runs:
        return []
    if len(runs) < 2:
        return first if since is None or _since_covers(store, since, runs[0]) else []
    pairs = [RunPair(runs[index - 1], runs[index]) for index in range(1, len(runs))]
    if since is None:
        return pairs[-1:]
    try:  # --since is a duration (7d, 24h) or else a revision
        duration = parse_duration(since)
    except InputError:
        duration = None
    if duration is not None:
        cutoff = datetime.now(UTC) - duration
        chosen = [pair for pair in pairs if pair.after.time >= cutoff]
        return (first if runs[0].time >= cutoff else []) + chosen
    commit = _since_commit(store, since)
    index = next((i for i, run in enumerate(runs) if run.commit == commit), None)
    if index is None:
        raise InputError(f"--since {since!r} is not a run commit in the snapshot repository")
    return (first if index == 0 else []) + pairs[index:]


def _since_commit(store: SnapshotStore, since: str) -> str:
    try:
        return store.resolve(since)
    except CfgwatchError as exc:
        hint = exc.message.rsplit(" (", 1)[1].rstrip(")") if " (" in exc.message else ""
        raise InputError(
            f"--since {since!r} is neither a duration (7d, 24h) nor a known revision" + (f" ({hint})" if hint else "")
        ) from exc


def _since_covers(store: SnapshotStore, since: str, run: RunInfo) -> bool:
    """Whether `--since` reaches back to this run (a duration covering its time, or its own commit)."""
    try:
        duration = parse_duration(since)
    except InputError:
        return _since_commit(store, since) == run.commit
    return run.time >= datetime.now(UTC) - duration


def run_pairs_between(store: SnapshotStore, start: datetime, end: datetime) -> list[RunPair]:
    """Run pairs whose newer run's time lies within [start, end] (the evidence export's range)."""
    runs = list(reversed(store.runs()))  # oldest first
    pairs = [RunPair(runs[index - 1], runs[index]) for index in range(1, len(runs))]
    return [pair for pair in pairs if start <= pair.after.time <= end]


def load_networks_for(config: CfgwatchConfig) -> Networks:
    return load_networks(config.inventory_path / NETWORKS_FILE)


def diff_range(
    store: SnapshotStore,
    config: CfgwatchConfig,
    rev_a: str | None = None,
    rev_b: str | None = None,
    *,
    devices: Sequence[str] | None = None,
    events: Events = NO_EVENTS,
    networks: Networks | None = None,
) -> DiffResult:
    """Classified changes between two revisions; by default the last run against the one before it."""
    if rev_a is None and rev_b is None:
        pairs = run_pairs(store, None)
        if not pairs:
            raise InputError("the snapshot repository has fewer than two runs: nothing to compare yet")
        rev_a, rev_b = pairs[0].before.commit, pairs[0].after.commit
    elif rev_b is None:
        rev_b = "HEAD"
    assert rev_a is not None and rev_b is not None
    commit_a, commit_b = store.resolve(rev_a), store.resolve(rev_b)
    if devices:  # a mistyped name must not look like "no change"
        require_known(
            "device", devices, {*store.devices(commit_a), *store.devices(commit_b)}, where=" in either revision"
        )
    return diff_revisions(
        store,
        commit_a,
        commit_b,
        networks if networks is not None else load_networks_for(config),
        devices=devices,
        events=events,
        budget=config.diff.budget(),
    )


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    approvals: list[Approval]
    tickets: list[Ticket]
    events: tuple[ConfigEvent, ...]
    problems: tuple[str, ...]


def load_policy_inputs(config: CfgwatchConfig) -> PolicyInputs:
    """Approvals, tickets and syslog events; unreadable records become problems, not aborts."""
    approvals = load_approved(config.inventory_path / APPROVED_FILE)
    problems: list[str] = []
    tickets: list[Ticket] = []
    sources = [config.inventory_path / TICKETS_FILE] + [config.resolve(path) for path in config.policy.tickets]
    for path in sources:
        if not path.exists():
            if path.name != TICKETS_FILE:
                problems.append(f"{path}: ticket file not found")
            continue
        found, issues = load_tickets(path)
        tickets.extend(found)
        problems.extend(str(issue) for issue in issues)
    syslog_files = [config.resolve(path) for path in config.policy.syslog]
    received = received_syslog_path(config.state_path)
    if received.exists():
        syslog_files.append(received)
    scan = read_syslog(syslog_files)
    problems.extend(scan.skipped)
    history = ApprovalHistory(config.resolve(config.policy.approvals_history))
    if history.exists and history.pending(config.inventory_path / APPROVED_FILE):
        problems.append(
            f"{config.inventory_path / APPROVED_FILE}: edited outside cfgwatch (not in the approval history)"
        )
    return PolicyInputs(approvals, tickets, scan.events, tuple(problems))


def device_context(device: str, inventory: Inventory | None, policies: dict[str, GroupPolicy]) -> DeviceContext:
    groups: tuple[str, ...] = ()
    if inventory is not None and device in inventory.hosts:
        groups = tuple(inventory.hosts[device].groups)
    applicable = [policies[name] for name in ("default", *groups) if name in policies]
    return DeviceContext(groups=groups, policies=tuple(applicable))


def run_audit(
    store: SnapshotStore,
    config: CfgwatchConfig,
    inventory: Inventory | None,
    *,
    since: str | None = None,
    today: date | None = None,
    flow_checker: FlowChecker | None = None,
    events: Events = NO_EVENTS,
    pairs: Sequence[RunPair] | None = None,
    inputs: PolicyInputs | None = None,
    networks: Networks | None = None,
) -> AuditResult:
    """Findings for every run pair in range (last run by default, or exactly `pairs` when given).

    `inputs` and `networks` let a caller that already loaded them (the Project) reuse them.
    """
    inputs = inputs if inputs is not None else load_policy_inputs(config)
    networks = networks if networks is not None else load_networks_for(config)
    today = today or datetime.now(UTC).date()
    findings: dict[str, Finding] = {}
    changes: list[RuleChange] = []
    problems = list(inputs.problems)
    reviews: list[ChangeReview] = []
    uncompared: list[str] = []
    probes: list[tuple[Finding, Approval]] = []
    pairs = list(pairs) if pairs is not None else run_pairs(store, since, posture=True)
    for pair in pairs:
        rev_a = None if pair.posture else pair.before.commit
        result = diff_revisions(store, rev_a, pair.after.commit, networks, events=events, budget=config.diff.budget())
        first_snapshot = {d.device for d in result.devices if d.first_snapshot}
        problems.extend(f"{d.device}: not compared: {d.error}" for d in result.devices if d.error)
        problems.extend(f"{d.device}: {note}" for d in result.devices for note in d.notes)
        uncompared.extend(d.device for d in result.devices if d.error)
        metadata_of: dict[str, ChangeMetadata | None] = {}  # one read per device, not per change
        for change in result.changes:
            changes.append(change)
            if change.device not in metadata_of:
                metadata_of[change.device] = store.metadata(change.device, pair.after.commit)
            metadata = metadata_of[change.device]
            attribution = attribute(
                change.device,
                inputs.events,
                pair.before.time,
                pair.after.time,
                metadata.user if metadata else None,
                _header_time(metadata, config),
            )
            change_time = attribution.time
            context = device_context(change.device, inventory, config.policy.groups)
            finding = evaluate(
                change,
                context,
                attribution,
                change_time,
                inputs.approvals,
                inputs.tickets,
                config.policy.ticket_pattern,
                today,
                observed_between=(None if pair.posture else pair.before.time, pair.after.time),
                pre_existing=change.device in first_snapshot,
            )
            if finding is not None:
                findings[finding.id] = finding
            else:
                probe = destination_probe(
                    change,
                    context,
                    attribution,
                    change_time,
                    inputs.approvals,
                    today,
                    observed_between=(None if pair.posture else pair.before.time, pair.after.time),
                )
                if probe is not None:
                    probes.append(probe)
            reviews.append(
                ChangeReview(change, pair, attribution, change_time, finding.id if finding is not None else None)
            )
    ordered = sorted(findings.values(), key=lambda f: (-f.severity_rank, f.device, f.id))
    if flow_checker is not None:
        ordered = [with_flow(finding, flow_checker(finding)) for finding in ordered]
        # approved paths whose approval expects ASNs / provider classes: findings only if traffic went elsewhere
        for candidate, approval in probes:
            confirmed = confirm_destinations(candidate, approval, flow_checker(candidate))
            if confirmed is not None and confirmed.id not in findings:
                ordered.append(confirmed)
                findings[confirmed.id] = confirmed
        reviews = [
            replace(review, finding_id=finding_id(review.change))
            if review.finding_id is None and finding_id(review.change) in findings
            else review
            for review in reviews
        ]
        ordered.sort(key=lambda f: (-f.severity_rank, f.device, f.id))
    not_compared = tuple(dict.fromkeys(uncompared))
    coverage = build_coverage(
        store.journal.entries() if store.journal is not None else (),
        store.runs(),
        devices=list(inventory.hosts) if inventory is not None and inventory.hosts else None,
        until=None,
        stale_after=timedelta(hours=config.policy.stale_after_hours),
        uncompared=not_compared,
    )
    return AuditResult(
        tuple(ordered),
        tuple(changes),
        tuple(pairs),
        tuple(problems),
        reviews=tuple(reviews),
        uncompared=not_compared,
        coverage=coverage,
        rollbacks=finding_rollbacks(store, ordered),
    )


def finding_rollbacks(store: SnapshotStore, findings: Sequence[Finding]) -> dict[str, Rollback]:
    """Rollback commands per finding from both configs of its change (one read per device and revision)."""
    texts: dict[tuple[str, str], str | None] = {}

    def text(device: str, rev: str | None) -> str | None:
        if not rev:
            return None
        if (device, rev) not in texts:
            try:
                found = store.read_many([device], rev)
            except CfgwatchError:  # an unreadable revision costs the rollback (the report says so), not the audit
                found = {}
            texts[device, rev] = found[device][0] if device in found else None
        return texts[device, rev]

    return {
        f.id: rollback_for(f.change, text(f.device, f.change.rev_before), text(f.device, f.change.rev_after))
        for f in findings
    }


def _header_time(metadata: ChangeMetadata | None, config: CfgwatchConfig) -> datetime | None:
    """The config header's change time; one the device's clock could not place (no zone, none declared: a
    device without `clock timezone` runs UTC) is UTC when policy.timezone_naive_as_utc, else unknown."""
    if metadata is None or metadata.time is None:
        return None
    if metadata.time.tzinfo is not None:
        return metadata.time
    return metadata.time.replace(tzinfo=UTC) if config.policy.timezone_naive_as_utc else None


FLOW_CATEGORIES = frozenset({"egress-forward", "inbound-exposure"})


def flow_series(backend: FlowBackend, check: FlowCheck, post_hours: float, buckets: int = 6) -> tuple[SeriesPoint, ...]:
    """Outbound vs return packets in equal buckets before and after the change: the report's chart."""
    length = timedelta(hours=post_hours / buckets)
    selector = selector_for(check)
    series: list[SeriesPoint] = []
    for index in range(-buckets, buckets):
        window = TimeWindow.starting(check.change_time + index * length, length)
        summary = backend.outbound_summary(selector, window)
        series.append(SeriesPoint(window.start, summary.out.packets, summary.ret.packets))
    return tuple(series)


def egress_check(finding: Finding, start: datetime, internal: AddressSet, networks: Networks) -> FlowCheck:
    """Internal sources toward the new destination: for a NAT redirect both the address and port inside
    clients connect to (inside-global) and the real destination after translation."""
    affected = finding.change.affected
    # an unbounded destination (a proxy port toward all of the Internet) is "any non-internal" to the store
    bounded = not networks.bounded_public(affected.public).is_empty or affected.public.fqdns
    external = affected.public if bounded else None
    ports = None if affected.ports.is_empty or affected.ports.is_any else affected.ports
    targets = egress_flow_targets(finding.change, networks)
    if targets is not None:
        destinations, target_ports = targets
        external = destinations if not destinations.is_empty else external
        ports = target_ports if ports is not None else None
    return FlowCheck(
        device=finding.device,
        internal=affected.internal,
        external=external,
        ports=ports,
        change_time=start,
        internal_networks=internal,
        translated=None if affected.translated.is_empty else affected.translated,
    )


def inbound_check(finding: Finding, start: datetime, internal: AddressSet, networks: Networks) -> FlowCheck:
    """Public sources toward what an inbound exposure opens, seen as "outbound" from the Internet's side.

    Sources: the specific public sources the rule names, else all of the public space. Destinations: the
    exposed inside hosts, the addresses they are translated to and from, and our public addresses that
    forward to them. Ports: the exposed ports on both sides of a port translation. A return record is then
    the inside host answering.
    """
    change = finding.change
    affected = change.affected
    nat = change.after if isinstance(change.after, NatRule) else None
    inside = affected.internal | affected.translated | networks.org_part(affected.public)
    if nat is not None:  # a port forward's `public` is the address outsiders connect to, not a source
        inside = inside | affected.public
    sources = networks.public_part(affected.public) - inside
    ports = None if affected.ports.is_empty or affected.ports.is_any else affected.ports
    if nat is not None:
        for view in nat_views(nat):
            if view.translated_dst is None or not view.translated_dst.overlaps(inside):
                continue
            if not view.dst.is_any:
                inside = inside | view.dst
            if ports is not None:
                ports = None if view.dst_ports.is_any else ports | view.dst_ports
    return FlowCheck(
        device=finding.device,
        internal=sources if not sources.is_empty else networks.public,
        external=inside,
        ports=ports,
        change_time=start,
        internal_networks=internal,
    )


def _inbound_note(figures: FlowFigures | None, check: FlowCheck) -> str:
    ports = check.ports.text() if check.ports is not None else "any port"
    target = ", ".join(check.external.ranges()) if check.external is not None else "the exposed hosts"
    if figures is None or figures.packets == 0:
        return f"inbound: no public source reached {target} on {ports} after the change"
    answered = (
        f"the inside host answered ({figures.return_packets} return packets)"
        if figures.return_packets
        else "the inside host did not answer"
    )
    return (
        f"inbound: {figures.distinct_sources} distinct external source(s) reached {target} on {ports} "
        f"({figures.packets} packets); {answered}"
    )


def make_flow_checker(
    config: CfgwatchConfig,
    backend: FlowBackend,
    *,
    internal: AddressSet,
    notes: tuple[str, ...] = (),
    networks: Networks | None = None,
) -> FlowChecker:
    """Per finding: did the new path carry traffic? Egress paths by outbound flows from the internal sources;
    inbound exposures by flows from public sources to the exposed address and port, with whether the inside
    host answered.

    `internal` is the address plan's internal space; `networks` the whole plan (org-public space, proxy
    ports; built-in ranges when None); `notes` (the enricher's, e.g. "no ASN database") go on every verdict.
    `Project.flows()` builds it with the project's enricher and address plan.
    """
    plan = networks if networks is not None else Networks.default()

    def check(finding: Finding) -> FlowResult:
        if not FLOW_CATEGORIES & set(finding.categories):
            return FlowResult("not-checked", notes=("the change opens no path to check",))
        start = finding.window_start
        if start is None:
            return FlowResult("not-checked", notes=("change time unknown",))
        inbound = "egress-forward" not in finding.categories
        flow_check = (
            inbound_check(finding, start, internal, plan) if inbound else egress_check(finding, start, internal, plan)
        )
        verdict = verify(backend, flow_check, config.flows, notes=notes)
        figures: FlowFigures | FlowFlags = verdict.figures if verdict.figures is not None else verdict.flags
        if isinstance(figures, FlowFigures) and verdict.verdict in ("traffic-confirmed", "no-traffic"):
            figures = replace(figures, series=flow_series(backend, flow_check, config.flows.post_window_hours))
        extra = (_inbound_note(verdict.figures, flow_check),) if inbound and verdict.verdict != "no-coverage" else ()
        return FlowResult(verdict.verdict, figures=figures, notes=(*verdict.notes, *extra))

    return check
