"""inventory/approved.yaml: rules the organisation expects, with ticket, owner, reason and expiry.

`cfgwatch approve` appends entries with ruamel.yaml so the file keeps its comments and order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from cfgwatch.errors import ConfigError
from cfgwatch.model import AddressSet, FilterRule, NatRule, PortSet
from cfgwatch.model.changes import RuleChange
from cfgwatch.yamlio import load_yaml_document, parse_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApprovalMatch(_Strict):
    """What an approval covers. Every given key must hold; absent keys match anything."""

    finding: str | None = None  # an exact finding id (what `cfgwatch approve` writes)
    devices: list[str] = []
    groups: list[str] = []
    family: str | None = None  # nat | filter | binding | object
    kind: str | None = None  # NAT kind (static, destination, ...) or filter action (permit, deny)
    src: list[str] = []  # the rule's sources must lie within these prefixes
    dst: list[str] = []
    translated: list[str] = []  # translated addresses must lie within these
    ports: str | None = None  # destination ports must lie within, e.g. "80,443" or "8000-8100"

    @field_validator("src", "dst", "translated")
    @classmethod
    def _prefixes(cls, values: list[str]) -> list[str]:
        for value in values:
            AddressSet.parse(value)
        return values

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: str | None) -> str | None:
        if value is not None:
            PortSet.parse(value)
        return value


class ExpectedDestinations(_Strict):
    prefixes: list[str] = []
    asns: list[int] = []
    provider_classes: list[str] = []


class Revocation(_Strict):
    """Who withdrew an approval, when and why (`cfgwatch approvals revoke`); the entry stays as a record."""

    by: str
    at: datetime
    reason: str = ""


PRE_APPROVAL = "pre-approval"  # `approve --force`: by match, before (or without) a finding
FINDING_APPROVAL = "finding"  # `approve ID`: one finding that the audit showed


class Approval(_Strict):
    id: str | None = None
    match: ApprovalMatch
    ticket: str
    owner: str
    reason: str = ""
    expires: date | None = None
    expected_destinations: ExpectedDestinations = ExpectedDestinations()
    # recorded by `cfgwatch approve` (absent in hand-written entries: the approval history dates those)
    mode: Literal["finding", "pre-approval"] | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    change_time: datetime | None = None  # when the approved change was made (or, unknown, last seen unmade)
    ticket_status: str | None = None  # the ticket's state when approved, e.g. "scheduled/approved"
    unapproved_ticket: bool = False  # recorded with --allow-unapproved-ticket: the ticket was not approved
    revoked: Revocation | None = None

    @field_validator("approved_at", "change_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @property
    def label(self) -> str:
        """The id, or ticket:owner for a hand-written entry without one."""
        return self.id or f"{self.ticket}:{self.owner}"


def is_retroactive(approved_at: datetime | None, change_time: datetime | None) -> bool | None:
    """Was the approval given after the change it covers? None when either time is unknown."""
    if approved_at is None or change_time is None:
        return None
    return approved_at > change_time


class ApprovedFile(_Strict):
    approvals: list[Approval] = []


@dataclass(frozen=True, slots=True)
class ApprovalHit:
    approval: Approval
    expired: bool


def load_approved(path: Path) -> list[Approval]:
    if not path.exists():
        return []
    document = load_yaml_document(path, what="approvals file")
    try:
        return ApprovedFile(**(document.data or {})).approvals
    except (ValidationError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            raise document.error_at(first["msg"], first["loc"]) from exc
        raise ConfigError("expected a mapping with an 'approvals' list", path=path) from exc


def _within(addresses: AddressSet | None, prefixes: list[str]) -> bool:
    if not prefixes:
        return True
    if addresses is None:
        return False
    return AddressSet.parse(*prefixes).contains(addresses)


def covers(approval: Approval, change: RuleChange, finding_id: str, groups: tuple[str, ...]) -> bool:
    match = approval.match
    if match.finding is not None:
        return match.finding == finding_id
    if match.devices and change.device not in match.devices:
        return False
    if match.groups and not set(match.groups) & set(groups):
        return False
    if match.family and match.family != change.family:
        return False
    rule = change.rule
    if match.kind:
        kind = (
            rule.kind.value
            if isinstance(rule, NatRule)
            else rule.action.value
            if isinstance(rule, FilterRule)
            else None
        )
        if kind != match.kind:
            return False
    if isinstance(rule, FilterRule | NatRule):
        if not _within(rule.match.src, match.src) or not _within(rule.match.dst, match.dst):
            return False
        if match.ports is not None and not PortSet.parse(match.ports).contains(rule.match.dst_ports()):
            return False
    if match.translated:
        # the translation as written or as it acts (an outside static NAT translates toward its real address)
        candidates: list[AddressSet | None] = [change.affected.translated, change.affected.public]
        if isinstance(rule, NatRule):
            candidates += [rule.translated_src, rule.translated_dst]
        if not any(item is not None and not item.is_empty and _within(item, match.translated) for item in candidates):
            return False
    return bool(match.finding or match.devices or match.groups or match.family or match.src or match.dst)


def find_approval(
    approvals: list[Approval], change: RuleChange, finding_id: str, groups: tuple[str, ...], today: date
) -> ApprovalHit | None:
    """The first approval covering the change; a valid one wins over an expired one."""
    expired_hit: ApprovalHit | None = None
    for approval in approvals:
        if approval.revoked is None and covers(approval, change, finding_id, groups):
            if approval.expires is not None and approval.expires < today:
                expired_hit = expired_hit or ApprovalHit(approval, expired=True)
                continue
            return ApprovalHit(approval, expired=False)
    return expired_hit


def _round_trip(path: Path) -> tuple[YAML, CommentedMap]:
    """The file as ruamel's round-trip document (comments and order kept) and a dumper in its indentation."""
    handler = YAML()
    handler.preserve_quotes = True
    document = CommentedMap()
    if path.exists():
        text = path.read_text(encoding="utf-8")
        # Checked by the one input loader first (file:line errors, duplicate keys); ruamel's round-trip
        # load is kept only because it carries the comments and order that the rewrite must keep.
        parse_yaml(text, path)
        # keep the file's own indentation style (`  - item` or `- item`): the diff is just the new entry
        _, sequence_indent, offset = load_yaml_guess_indent(text)
        sequence_indent, offset = sequence_indent or 2, offset or 0
        handler.indent(mapping=max(sequence_indent - offset, 2), sequence=sequence_indent, offset=offset)
        document = handler.load(text) or CommentedMap()
    if not isinstance(document, dict):
        raise ConfigError("expected a mapping with an 'approvals' list", path=path)
    return handler, document


def _write(path: Path, handler: YAML, document: CommentedMap) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handler.dump(document, handle)
    temporary.replace(path)


def append_approval(path: Path, entry: dict[str, Any]) -> None:
    """Add one approval, keeping the file's comments, order and formatting (ruamel round-trip)."""
    Approval(**entry)  # validate before touching the file
    handler, document = _round_trip(path)
    approvals = document.get("approvals")
    if approvals is None:
        approvals = CommentedSeq()
        document["approvals"] = approvals
    approvals.append(entry)
    _write(path, handler, document)


def update_approval(path: Path, approval_id: str, changes: dict[str, Any]) -> None:
    """Set keys of the entry with this id (e.g. `revoked`), keeping everything else as written."""
    handler, document = _round_trip(path)
    for entry in document.get("approvals") or []:
        if isinstance(entry, dict) and entry.get("id") == approval_id:
            merged = {**entry, **changes}
            Approval(**merged)  # validate before touching the file
            entry.update(changes)
            _write(path, handler, document)
            return
    raise ConfigError(f"no approval with id {approval_id!r}", path=path)
