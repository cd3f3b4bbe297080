"""One cfgwatch project, opened once: the session every command, the nightly, the demo and the export use.

`Project.open()` reads cfgwatch.yaml once; the snapshot store, the inventory, the address plan
(inventory/networks.yaml) and the policy inputs (approvals, tickets, syslog) are loaded the first time
something needs them and then reused, so a nightly that pulls, audits and exports reads each file once.
The flow store is the one resource with a lifetime: `Project.flows()` opens the configured backend with
the project's enricher and a flow checker over them, and closes it on exit. Nothing here renders or
prints; progress goes to a `cfgwatch.events.Events` receiver (the CLI draws it with rich).

Heavy modules (git, the diff engine, DuckDB, NAPALM) load only when a method needs them, so importing
this module stays cheap for `cfgwatch --version`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgwatch.config import DEFAULT_CONFIG_NAME, CfgwatchConfig, config_path, load_config
from cfgwatch.errors import StoreError
from cfgwatch.events import NO_EVENTS, Events

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cfgwatch.approvals import ApprovalRecord
    from cfgwatch.audit import AuditResult, FlowChecker, PolicyInputs, RunPair
    from cfgwatch.classify.networks import Networks
    from cfgwatch.collect.importdir import ImportResult
    from cfgwatch.collect.replay import ReplayResult
    from cfgwatch.collect.runner import PullResult
    from cfgwatch.coverage import Coverage, SilentExporter
    from cfgwatch.flows.backends.base import FlowBackend, IngestReport
    from cfgwatch.flows.enrich import Enricher
    from cfgwatch.flows.verify import HuntResult
    from cfgwatch.inventory import Inventory
    from cfgwatch.model import AddressSet
    from cfgwatch.policy.approved import Approval
    from cfgwatch.policy.history import HistoryCommit
    from cfgwatch.report.evidence import Evidence
    from cfgwatch.revisions import DiffResult
    from cfgwatch.sanitize import ChangeMetadata
    from cfgwatch.store import DeviceRevision, JournalEntry, RunInfo, SnapshotStore
    from cfgwatch.store.remote import PushResult

CONFIG_TEMPLATE = """\
# cfgwatch settings. Relative paths are relative to the folder holding this file.
snapshots: snapshots   # git repository of sanitized device configs, one commit per collection run
inventory: inventory   # hosts.yaml, groups.yaml, defaults.yaml (Nornir SimpleInventory format)
state_dir: .cfgwatch   # secret-fingerprint key, run journal, caches (never inside snapshots/)

# How changes are judged (README "Change review"); every value shown is the default.
policy:
  fail_on: high        # audit/nightly exit 1 at or above this severity: info, low, medium, high, critical
  syslog: []           # device syslog files naming who changed what, e.g. [/var/log/network/config.log]
  tickets: []          # ticket exports besides inventory/tickets.yaml (yaml, csv, ServiceNow json)
  groups: {}           # per inventory group ("default": every device), for example:
  #   default: {change_windows: ["sat 22:00-sun 04:00"], admins: [netops]}
  #   dmz: {nat_changes_allowed: false}

# pull:
#   timeout: 60          # seconds one attempt on one device may take
#   deadline: 900        # seconds the whole pull may take; devices still busy then fail as `timeout`
#   known_hosts: ~/.ssh/known_hosts
#   ssh_config: ~/.ssh/config   # Host blocks: HostName, User, Port, IdentityFile, ProxyJump

# store:
#   remote:              # push the snapshot repo after every run (never forced)
#     url: git@git.example.net:netops/cfgwatch-snapshots.git
#     ssh_key: ~/.ssh/cfgwatch_push
"""


# --- init ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitResult:
    directory: Path
    created: tuple[Path, ...]  # files and folders made now
    kept: tuple[Path, ...]  # already there, left untouched


def init_project(directory: str | Path = ".") -> InitResult:
    """Scaffold a project: cfgwatch.yaml, inventory/, snapshots/ (a git repo), state dir. Never overwrites.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> folder = Path(scratch.name)
    >>> sorted(path.name for path in init_project(folder).created)  # doctest: +NORMALIZE_WHITESPACE
    ['.cfgwatch', 'cfgwatch.yaml', 'defaults.yaml', 'groups.yaml', 'hosts.yaml', 'snapshots']
    >>> init_project(folder).created  # a second run keeps everything
    ()
    >>> scratch.cleanup()
    """
    from cfgwatch.inventory.templates import FILES as INVENTORY_TEMPLATES
    from cfgwatch.store import SnapshotStore

    base = Path(directory).resolve()
    created: list[Path] = []
    kept: list[Path] = []
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the project folder: {exc.strerror}", path=base) from exc
    config_file = base / DEFAULT_CONFIG_NAME
    if config_file.exists():
        kept.append(config_file)
    else:
        config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        created.append(config_file)
    cfg = load_config(config_file)  # an existing file may move the paths below

    inventory = cfg.inventory_path
    inventory.mkdir(parents=True, exist_ok=True)
    for name, text in INVENTORY_TEMPLATES.items():
        target = inventory / name
        if target.exists():
            kept.append(target)
        else:
            target.write_text(text, encoding="utf-8")
            created.append(target)

    state = cfg.state_path
    if state.exists():
        kept.append(state)
    else:
        state.mkdir(parents=True, mode=0o700)
        created.append(state)

    snapshots = cfg.snapshots_path
    existed = (snapshots / "HEAD").exists() or (snapshots / ".git").exists()
    SnapshotStore.init(snapshots)
    (kept if existed else created).append(snapshots)
    return InitResult(base, tuple(created), tuple(kept))


# --- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceView:
    name: str
    rev: str
    commit: str
    platform: str | None
    metadata: ChangeMetadata | None
    text: str


@dataclass(frozen=True, slots=True)
class ExportResult:
    """A written evidence bundle: what it records, its files (with manifest) and where it went."""

    evidence: Evidence
    files: Mapping[str, bytes]
    path: Path


@dataclass(frozen=True, slots=True)
class FlowSession:
    """An open flow store and the enricher it looks destinations up with: the Project's, passed in, never
    read back off the backend."""

    backend: FlowBackend
    enricher: Enricher
    project: Project = field(repr=False)

    @property
    def checker(self) -> FlowChecker:
        """Per finding: did the new outbound path carry traffic? The enricher's notes go on every verdict.

        The address plan is read here, not when the store opens, so `flows ingest` never needs networks.yaml.
        """
        from cfgwatch.audit import make_flow_checker

        config = self.project.config
        networks = self.project.networks
        return make_flow_checker(
            config, self.backend, internal=networks.internal, notes=self.enricher.notes(), networks=networks
        )


# --- the session ---------------------------------------------------------------------------------------


class Project:
    """A cfgwatch project: its config and, loaded on first use and then kept, store, inventory, address
    plan and policy inputs.

    >>> import tempfile
    >>> scratch = tempfile.TemporaryDirectory()
    >>> folder = Path(scratch.name)
    >>> _ = init_project(folder)
    >>> project = Project.open(folder / "cfgwatch.yaml")
    >>> project.store is project.store  # opened once
    True
    >>> project.runs(), project.inventory.hosts
    ([], {})
    >>> scratch.cleanup()
    """

    def __init__(self, config: CfgwatchConfig, *, config_file: Path | None = None) -> None:
        self.config = config
        # the file the config came from (recorded, redacted, in evidence bundles); None: built-in defaults
        self.config_file = config_file
        self._flow_session: FlowSession | None = None  # the open flow store, while `flows()` holds it

    @classmethod
    def open(cls, config: CfgwatchConfig | str | Path | None = None) -> Project:
        """The project of a cfgwatch.yaml path, of an already loaded config, or (None) of --config's
        default: $CFGWATCH_CONFIG, else ./cfgwatch.yaml (a missing default file gives the built-in settings).

        >>> Project.open(CfgwatchConfig(base_dir=Path("/srv/cfgwatch"))).config.snapshots_path
        PosixPath('/srv/cfgwatch/snapshots')
        """
        if isinstance(config, CfgwatchConfig):
            default_file = config.base_dir / DEFAULT_CONFIG_NAME
            return cls(config, config_file=default_file if default_file.exists() else None)
        return cls(load_config(config), config_file=config_path(config))

    # --- what the project is made of (each loaded once) -------------------------------------------

    @cached_property
    def store(self) -> SnapshotStore:
        """The snapshot store, with its run journal in the state directory (StoreError before `init`)."""
        from cfgwatch.store import SnapshotStore, journal_path

        return SnapshotStore(self.config.snapshots_path, journal=journal_path(self.config.state_path))

    @cached_property
    def inventory(self) -> Inventory | None:
        """The inventory (from inventory_plugin when configured), or None when the inventory folder has no
        hosts.yaml yet (an import needs none)."""
        from cfgwatch.inventory import HOSTS_FILE, load_inventory

        if self.config.inventory_plugin is not None:
            from cfgwatch.inventory.plugins import load_plugin_inventory

            return load_plugin_inventory(self.config.inventory_plugin, self.config.inventory_path, self.config.base_dir)
        if not (self.config.inventory_path / HOSTS_FILE).exists():
            return None
        return load_inventory(self.config.inventory_path)

    def required_inventory(self) -> Inventory:
        """The inventory for a pull: without hosts.yaml this is the inventory loader's error."""
        from cfgwatch.inventory import load_inventory

        inventory = self.inventory
        return inventory if inventory is not None else load_inventory(self.config.inventory_path)

    @cached_property
    def networks(self) -> Networks:
        """The address plan (private ranges plus inventory/networks.yaml) every change is classed with."""
        from cfgwatch.audit import load_networks_for

        return load_networks_for(self.config)

    @cached_property
    def policy_inputs(self) -> PolicyInputs:
        """Approvals, tickets and syslog events (unreadable records are problems, not aborts)."""
        from cfgwatch.audit import load_policy_inputs

        return load_policy_inputs(self.config)

    def journal_entries(self) -> list[JournalEntry]:
        """Every collection run in the run journal, oldest first (read afresh: a pull appends to it).

        Committed runs whose line was lost (kill -9 after `update-ref`, full disk) are rebuilt from their
        commit trailers first (store.journal.sync_journal)."""
        from cfgwatch.store import RunJournal, journal_path
        from cfgwatch.store.journal import sync_journal

        journal = RunJournal(journal_path(self.config.state_path))
        try:
            store = self.store
        except StoreError:  # no snapshot repository yet: nothing committed to rebuild from
            return journal.entries()
        pending = [] if store.journal is None else sync_journal(store)
        entries = journal.entries()
        known = {e.run_id for e in entries}
        entries.extend(e for e in pending if e.run_id not in known)  # lock busy: returned, not yet written
        entries.sort(key=lambda e: e.started)
        return entries

    # --- snapshots ------------------------------------------------------------------------------------

    def import_dir(
        self, directory: str | Path, *, platform: str | None = None, events: Events = NO_EVENTS
    ) -> ImportResult:
        """Snapshot every config file in `directory` as one run (see cfgwatch.collect.importdir).

        >>> import tempfile
        >>> scratch = tempfile.TemporaryDirectory()
        >>> folder = Path(scratch.name)
        >>> _ = init_project(folder)
        >>> configs = folder / "saved"
        >>> configs.mkdir()
        >>> _ = (configs / "edge1.cfg").write_text("hostname edge1\\nip nat inside source static 10.0.0.5 192.0.2.5\\n")
        >>> project = Project.open(folder / "cfgwatch.yaml")
        >>> project.import_dir(configs, platform="cisco_ios").run.added
        ('edge1',)
        >>> [run.added for run in project.runs()]
        [('edge1',)]
        >>> view = project.show("edge1")
        >>> view.platform, view.text.splitlines()[0]
        ('cisco_ios', 'hostname edge1')
        >>> scratch.cleanup()
        """
        from cfgwatch.collect.importdir import import_dir as run_import
        from cfgwatch.collect.importdir import open_cache

        with self._import_session() as (store, key):
            result = run_import(
                store,
                Path(directory),
                key=key,
                platform=platform,
                inventory=self.inventory,
                events=events,
                max_bytes=self.config.sanitize.max_config_bytes,
                cache=open_cache(self.config.state_path, key),  # unchanged files are not read again
            )
            return replace(result, push=self.push(events=events))

    @contextmanager
    def _import_session(self) -> Iterator[tuple[SnapshotStore, bytes]]:
        """The store, locked for the whole import, and the secret-fingerprint key (created on first use).

        The store and inventory are opened first: a missing / non-git snapshot path or a bad inventory fails
        before anything is read.
        """
        from cfgwatch.sanitize import load_or_create_key

        store = self.store
        _ = self.inventory
        with store.lock():
            yield store, load_or_create_key(self.config.state_path, snapshots=self.config.snapshots_path)

    def import_git(
        self,
        repo: str | Path,
        *,
        since: datetime | None = None,
        platform: str | None = None,
        events: Events = NO_EVENTS,
    ) -> ReplayResult:
        """Replay an Oxidized/RANCID git history: one run per source commit (see cfgwatch.collect.replay)."""
        from cfgwatch.collect.replay import replay_history

        with self._import_session() as (store, key):
            result = replay_history(
                store,
                Path(repo),
                key=key,
                since=since,
                platform=platform,
                inventory=self.inventory,
                events=events,
                max_bytes=self.config.sanitize.max_config_bytes,
            )
            result.push = self.push(events=events)  # once for the whole history, not per replayed run
            return result

    def pull(
        self,
        *,
        devices: Sequence[str] = (),
        groups: Sequence[str] = (),
        workers: int | None = None,
        processes: int | None = None,
        timeout: float | None = None,
        deadline: float | None = None,
        retries: int | None = None,
        known_hosts: Path | None = None,
        trust_on_first_use: bool | None = None,
        allow_shrink: bool = False,
        events: Events = NO_EVENTS,
        started: datetime | None = None,
    ) -> PullResult:
        """Pull the running config of the selected inventory devices (all by default) and commit one run.

        `started` stamps the run (default now); the demo uses it to replay a night on a simulated clock.
        Options left None come from the `pull:` section of cfgwatch.yaml. The store lock is held for the
        whole pull, so an overlapping cron run fails fast with LockedError instead of racing.
        """
        from cfgwatch.collect.runner import pull as run_pull
        from cfgwatch.sanitize import load_or_create_key
        from cfgwatch.store.copies import COPIES_NAME

        cfg = self.config
        store = self.store
        selected = self.required_inventory().select(devices, groups)
        options = cfg.pull.options(
            cfg.base_dir,
            workers=workers,
            processes=processes,
            timeout=timeout,
            deadline=deadline,
            retries=retries,
            known_hosts=cfg.resolve(known_hosts) if known_hosts is not None else None,
            trust_on_first_use=trust_on_first_use,
            max_config_bytes=cfg.sanitize.max_config_bytes,
        )
        with store.lock():
            key = load_or_create_key(cfg.state_path, snapshots=cfg.snapshots_path)
            result = run_pull(
                store,
                selected,
                key=key,
                options=options,
                allow_shrink=allow_shrink,
                events=events,
                started=started,
                copies=cfg.state_path / COPIES_NAME if cfg.store.pull_copies else None,
            )
            return replace(result, push=self.push(events=events))

    def push(self, *, events: Events = NO_EVENTS) -> PushResult | None:
        """Push the snapshot repo to store.remote (None when none is configured); never forced.

        Runs after every pull and import, whether or not the run committed, so a push that failed or was
        rejected before is retried by the next run. A rejected push keeps the local commit.
        """
        from cfgwatch.store.remote import push

        remote = self.config.store.remote
        if remote is None:
            return None
        store = self.store
        events.message("push", f"pushing snapshots to {remote.branch}")
        with store.lock():
            return push(store.git_dir, store._branch_ref(), remote, self.config.base_dir)

    def runs(self, limit: int | None = None) -> list[RunInfo]:
        """Runs that committed a change, newest first."""
        return self.store.runs(limit)

    def history(self, device: str, limit: int | None = None) -> list[DeviceRevision]:
        """The runs that changed one device, newest first (InputError naming it if it was never snapshotted)."""
        return self.store.history(device, limit)

    def journal(self, limit: int | None = None) -> list[JournalEntry]:
        """Every run, including those that changed nothing, newest first (from the run journal)."""
        entries = self.journal_entries()
        entries.reverse()
        return entries[:limit] if limit is not None else entries

    def show(self, device: str, rev: str = "HEAD") -> DeviceView:
        """A device's sanitized config, platform and last-change metadata at a revision."""
        store = self.store
        text = store.read(device, rev)
        commit = store.resolve(rev)
        return DeviceView(device, rev, commit, store.platform(device, rev), store.metadata(device, rev), text)

    # --- review ----------------------------------------------------------------------------------------

    def diff(
        self,
        rev_a: str | None = None,
        rev_b: str | None = None,
        *,
        devices: Sequence[str] | None = None,
        events: Events = NO_EVENTS,
    ) -> DiffResult:
        """Classified rule changes between two revisions; by default the last run against the one before it.

        >>> import tempfile
        >>> scratch = tempfile.TemporaryDirectory()
        >>> folder = Path(scratch.name)
        >>> _ = init_project(folder)
        >>> Project.open(folder / "cfgwatch.yaml").diff()
        Traceback (most recent call last):
        ...
        cfgwatch.errors.InputError: the snapshot repository has fewer than two runs: nothing to compare yet
        >>> scratch.cleanup()
        """
        from cfgwatch.audit import diff_range

        return diff_range(self.store, self.config, rev_a, rev_b, devices=devices, events=events, networks=self.networks)

    def audit(
        self,
        *,
        since: str | None = None,
        pairs: Sequence[RunPair] | None = None,
        today: date | None = None,
        flow_checker: FlowChecker | None = None,
        events: Events = NO_EVENTS,
    ) -> AuditResult:
        """Findings for the last run (or every run since REV/DURATION, or exactly `pairs`), with flow
        verdicts from `flow_checker` (see `flow_checker()`).

        >>> import tempfile
        >>> scratch = tempfile.TemporaryDirectory()
        >>> folder = Path(scratch.name)
        >>> _ = init_project(folder)
        >>> project = Project.open(folder / "cfgwatch.yaml")
        >>> project.audit().findings  # fewer than two runs: nothing to audit
        ()
        >>> saved = folder / "saved"
        >>> saved.mkdir()
        >>> config = saved / "edge1.cfg"
        >>> _ = config.write_text("hostname edge1\\n")
        >>> _ = project.import_dir(saved, platform="cisco_ios")
        >>> proxy_nat = "ip nat outside source static tcp 45.77.10.5 3128 10.10.0.200 8080"
        >>> _ = config.write_text(f"hostname edge1\\n{proxy_nat}\\n")
        >>> _ = project.import_dir(saved, platform="cisco_ios")
        >>> [(f.severity, f.device, f.categories, f.flags) for f in project.audit().findings]
        [('critical', 'edge1', ('egress-forward', 'nat-added'), ('unapproved', 'unticketed'))]
        >>> scratch.cleanup()
        """
        from cfgwatch.audit import run_audit

        result = run_audit(
            self.store,
            self.config,
            self.inventory,
            since=since,
            today=today,
            flow_checker=flow_checker,
            events=events,
            pairs=pairs,
            inputs=self.policy_inputs,
            networks=self.networks,
        )
        return replace(result, coverage=self.coverage(uncompared=result.uncompared))

    def coverage(self, *, uncompared: Sequence[str] = (), until: datetime | None = None) -> Coverage:
        """What an audit up to `until` (default: the last run) could see: the last collection run's pulled,
        failed and stale devices (run journal), and, while a flow store is open (`flows()`), silent exporters."""
        from cfgwatch.coverage import build_coverage, device_coverage, exporter_coverage
        from cfgwatch.errors import CfgwatchError

        policy = self.config.policy
        notes: list[str] = []
        try:
            inventory = self.inventory
            hosts = list(inventory.hosts) if inventory is not None and inventory.hosts else None
        except CfgwatchError as exc:
            hosts = None
            notes.append(f"inventory unreadable: {exc}")
        entries, runs = self.journal_entries(), self.store.runs()
        stale_after = timedelta(hours=policy.stale_after_hours)
        exporters: tuple[tuple[str, ...], tuple[SilentExporter, ...]] | None = None
        if self._flow_session is not None:  # else the coverage says "flow exporters not checked"
            at = device_coverage(entries, runs, devices=hosts, at=until, stale_after=stale_after)[1]
            end = at or until or datetime.now(UTC)
            try:
                silent_after = timedelta(hours=policy.exporter_silent_hours)
                exporters = exporter_coverage(self._flow_session.backend, end, silent_after=silent_after)
            except CfgwatchError as exc:
                notes.append(f"flow exporters not checked: {exc}")
        return build_coverage(
            entries,
            runs,
            devices=hosts,
            until=until,
            stale_after=stale_after,
            uncompared=uncompared,
            exporters=exporters,
            notes=notes,
        )

    def approve(self, finding_id: str | None, *, ticket: str, now: datetime | None = None, **options: Any) -> Approval:
        """Approve a finding the audit shows (or, `force=True`, pre-approve by match) under an existing,
        approved ticket; recorded with approver and time and committed to the approval history. `options`
        are the fields of `cfgwatch.approvals.ApprovalRequest` (by, owner, reason, expires, since, ...)."""
        from cfgwatch.approvals import ApprovalRequest, approve

        request = ApprovalRequest(finding_id=finding_id, ticket=ticket, **options)
        self.__dict__.pop("policy_inputs", None)  # judge against the ticket sources as they are now
        try:
            return approve(self, request, now=now)
        finally:
            self.__dict__.pop("policy_inputs", None)  # approvals may have changed on disk

    def revoke(
        self, approval_id: str, *, by: str | None = None, reason: str = "", now: datetime | None = None
    ) -> Approval:
        """Withdraw an approval (kept in approved.yaml as revoked, committed to the approval history)."""
        from cfgwatch.approvals import revoke

        try:
            return revoke(self, approval_id, by=by, reason=reason, now=now)
        finally:
            self.__dict__.pop("policy_inputs", None)

    def approvals(self) -> list[ApprovalRecord]:
        """Every approval with approver, time, retroactive mark, ticket status and history commits."""
        from cfgwatch.approvals import list_approvals

        return list_approvals(self)

    # --- flows -----------------------------------------------------------------------------------------

    def has_flow_data(self) -> bool:
        """False when the embedded store was never filled (an audit then says `not-checked`, opening nothing)."""
        from cfgwatch.flows.backends import FLOW_BACKENDS

        if not FLOW_BACKENDS.get(self.config.flows.backend).embedded_store:
            return True
        return self.flow_store_path().exists()

    def flow_store_path(self) -> Path:
        """Where an embedded flow backend (DuckDB) keeps its files: flows.store, else `flows/` beside snapshots/."""
        return self.config.resolve(self.config.flows.store_path(self.config.snapshots))

    @contextmanager
    def flows(self, backend: str | None = None) -> Iterator[FlowSession]:
        """The flow backend named (default flows.backend) with the project's enricher; closed on exit.

        >>> import tempfile
        >>> scratch = tempfile.TemporaryDirectory()
        >>> folder = Path(scratch.name)
        >>> project = Project.open(CfgwatchConfig(base_dir=folder))
        >>> with project.flows() as flows:
        ...     flows.backend.name, flows.enricher.has_asn_db
        ('duckdb', False)
        >>> scratch.cleanup()
        """
        from cfgwatch.flows.open import make_enricher, open_backend

        enricher = make_enricher(self.config)
        try:
            opened = open_backend(self.config, backend, enricher=enricher)
        except BaseException:
            enricher.close()
            raise
        session = FlowSession(opened, enricher, self)
        outer, self._flow_session = self._flow_session, session
        try:
            yield session
        finally:
            self._flow_session = outer
            opened.close()
            enricher.close()  # the project's; a backend that closed it already makes this a no-op

    @contextmanager
    def flow_checker(self, enabled: bool = True) -> Iterator[FlowChecker | None]:
        """A flow checker over the configured store for the duration of the block; None when disabled or
        when the embedded store was never filled (verdicts are then `not-checked`)."""
        if not enabled or not self.has_flow_data():
            yield None
            return
        with self.flows() as session:
            yield session.checker

    def ingest_flows(
        self,
        files: Iterable[Path],
        format_name: str,
        *,
        exporter: str | None = None,
        aws_fields: Sequence[str] | None = None,
        backend: str | None = None,
        events: Events = NO_EVENTS,
    ) -> list[IngestReport]:
        """Store flow export files in the flow store (the same file twice adds nothing)."""
        from cfgwatch.errors import InputError
        from cfgwatch.flows.backends.base import IngestingBackend
        from cfgwatch.flows.formats import FLOW_FORMATS

        if format_name not in FLOW_FORMATS:  # before a store is opened (or created) for nothing
            raise InputError(FLOW_FORMATS.unknown_message(format_name))
        reports: list[IngestReport] = []
        paths = list(files)
        with self.flows(backend) as session:
            store = session.backend
            if not isinstance(store, IngestingBackend):
                raise InputError(f"flow backend {store.name!r} is read-only (it queries flows where they are)")
            events.stage_started("ingest", len(paths))
            for done, file in enumerate(paths, start=1):
                report = store.ingest(file, format_name, exporter=exporter, aws_fields=aws_fields)
                reports.append(report)
                events.item_done("ingest", report, done, len(paths))
            events.stage_finished("ingest")
        return reports

    def hunt(
        self,
        *,
        since: timedelta | None = None,
        internal: AddressSet | None = None,
        exporters: Sequence[str] = (),
        backend: str | None = None,
        until: datetime | None = None,
        latest: bool = False,
    ) -> HuntResult:
        """Internal sources whose outbound traffic to CDN/VPS/anomalous ASNs spiked with few returns
        (`internal` defaults to the private ranges plus inventory/networks.yaml). The window ends at `until`,
        default now: a hunt answers "what is happening now"; `latest` ends it at the newest stored flow
        instead (replaying an old export)."""
        from cfgwatch.flows.verify import hunt

        networks = internal if internal is not None else self.networks.internal
        with self.flows(backend) as session:
            return hunt(
                session.backend,
                networks,
                self.config.flows,
                end=None if latest else (until if until is not None else datetime.now(UTC)),
                since=since,
                exporters=tuple(exporters),
                has_asn_db=session.enricher.has_asn_db,
                notes=session.enricher.notes(),
            )

    # --- evidence ---------------------------------------------------------------------------------------

    def evidence(self, start: datetime, end: datetime, *, flow_checker: FlowChecker | None = None) -> Evidence:
        """Audit the runs whose time lies in [start, end] and collect what an evidence bundle records."""
        from cfgwatch.report.evidence import gather

        evidence = gather(
            self.store,
            self.config,
            self.inventory,
            start,
            end,
            journal=self.journal_entries(),
            flow_checker=flow_checker,
            config_file=self.config_file,
            inputs=self.policy_inputs,
            networks=self.networks,
            history=self.approval_history_commits(),
        )
        coverage = self.coverage(uncompared=evidence.audit.uncompared, until=end)
        return replace(evidence, audit=replace(evidence.audit, coverage=coverage))

    def approval_history_commits(self) -> list[HistoryCommit]:
        """Every commit of the approval history, oldest first (the evidence bundle records them)."""
        from cfgwatch.approvals import approval_history

        return approval_history(self.config).commits()

    def export(
        self,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        flow_checker: FlowChecker | None = None,
    ) -> ExportResult:
        """Write the evidence bundle for [start, end] to the folder or .zip `out` (signed when a key is given).

        >>> import tempfile
        >>> from datetime import UTC
        >>> scratch = tempfile.TemporaryDirectory()
        >>> folder = Path(scratch.name)
        >>> _ = init_project(folder)
        >>> project = Project.open(folder / "cfgwatch.yaml")
        >>> day = datetime(2026, 11, 1, tzinfo=UTC)
        >>> written = project.export(day, day + timedelta(days=1), folder / "evidence.zip")
        >>> written.path.name, len(written.evidence.decisions), "manifest.json" in written.files
        ('evidence.zip', 0, True)
        >>> scratch.cleanup()
        """
        from cfgwatch.report.evidence import bundle_files, write_bundle

        gathered = self.evidence(start, end, flow_checker=flow_checker)
        files = bundle_files(gathered, signing_key)
        return ExportResult(gathered, files, write_bundle(files, out))
