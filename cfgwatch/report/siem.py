"""JSON lines for SIEM ingestion: one event per finding with Elastic Common Schema (ECS) field names.

Field mapping (ECS 8.x):

* ``@timestamp``: when the change was made (attributed time, else the time of the run that saw it).
* ``event.kind`` ``alert``, ``event.category`` ``[configuration, network]``, ``event.type`` ``[change, ...]``,
  ``event.action`` ``<family>-<added|removed|modified>`` (e.g. ``nat-added``), ``event.severity`` 0-4 (info..critical)
  with the name in ``log.level``, ``event.id`` the finding id (stable across runs), ``event.risk_score`` 0-100.
* ``observer.name`` the device, ``observer.product`` its platform.
* ``source.ip`` / ``destination.ip``: single addresses among the affected internal / public addresses (ECS ip
  fields hold addresses, not ranges); every range is kept under ``cfgwatch.affected``. ``destination.port``
  when the change touches exactly one port.
* ``user.name`` the admin, ``client.address`` where they connected from.
* ``threat.framework`` ``MITRE ATT&CK``, ``threat.technique.id/name/reference``, ``threat.tactic.id/name``.
* ``rule.*`` is the detection that fired (ECS semantics): ``rule.id`` the ATT&CK analytic (AN0926),
  ``rule.ruleset`` the detection strategy (DET0325), ``rule.category`` the first category.
* ``labels`` (flat keyword pairs), ``tags`` (categories, tags and flags) and ``cfgwatch.*`` for the rest.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from cfgwatch import __version__
from cfgwatch.audit import AuditResult
from cfgwatch.model import AddressSet
from cfgwatch.policy.findings import ATTACK, Finding
from cfgwatch.policy.settings import SEVERITIES
from cfgwatch.report.changes import describe
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.rows import ATTACK_URL, TACTIC_NAME, numbered

ECS_VERSION = "8.11.0"
_RISK = {"info": 0, "low": 21, "medium": 47, "high": 73, "critical": 99}


def _hosts(addresses: AddressSet, limit: int = 16) -> list[str]:
    """Single addresses of a set (ranges that are one host), at most `limit` of them."""
    hosts: list[str] = []
    if addresses.is_any:
        return hosts
    for text in addresses.ranges():
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue  # a first-last range: not one host
        if network.num_addresses == 1:
            hosts.append(str(network.network_address))
    return hosts[:limit]


def _event_types(finding: Finding) -> list[str]:
    types = ["change"]
    if finding.change.change.value == "added":
        types.append("creation")
    elif finding.change.change.value == "removed":
        types.append("deletion")
    if "acl-widened" in finding.categories or "egress-forward" in finding.categories:
        types.append("allowed")
    return types


def finding_event(finding: Finding, *, run_time: str | None = None) -> dict[str, Any]:
    """The ECS document of one finding."""
    change = finding.change
    affected = change.affected
    who = finding.attribution
    seen = finding.observed_between[1].isoformat() if finding.observed_between else None
    timestamp = finding.change_time.isoformat() if finding.change_time else (seen or run_time)
    event: dict[str, Any] = {
        "@timestamp": timestamp,
        "ecs": {"version": ECS_VERSION},
        "message": (
            f"{finding.severity} {finding.id} {finding.device}: {change.change.value} {change.family} "
            f"{describe(change.rule)} ({', '.join(finding.categories + finding.tags)}; "
            f"{', '.join(finding.flags) or 'no flags'})"
        ),
        "event": {
            "kind": "alert",
            "category": ["configuration", "network"],
            "type": _event_types(finding),
            "action": f"{change.family}-{change.change.value}",
            "id": finding.id,
            "severity": SEVERITIES.index(finding.severity),
            "risk_score": _RISK.get(finding.severity, 0),
            "module": "cfgwatch",
            "dataset": "cfgwatch.audit",
            "provider": "cfgwatch",
            "reason": "; ".join(change.reasons) or None,
        },
        "log": {"level": finding.severity},
        "observer": {"name": finding.device, "product": change.platform, "type": "firewall"},
        "threat": {
            "framework": "MITRE ATT&CK",
            "technique": {
                "id": [ATTACK["technique"]],
                "name": [ATTACK["technique_name"]],
                "reference": [ATTACK_URL],
            },
            "tactic": {"id": [ATTACK["tactic"]], "name": [TACTIC_NAME]},
        },
        "rule": {
            "id": ATTACK["analytic"],
            "ruleset": ATTACK["detection_strategy"],
            "name": "NAT/firewall change enabling forwarding to external proxy",
            "category": finding.categories[0] if finding.categories else None,
            "description": describe(change.rule),
            "reference": ATTACK_URL,
            "version": __version__,
        },
        "labels": {
            "flags": ",".join(finding.flags),
            "categories": ",".join(finding.categories),
            "flow_verdict": finding.flow.verdict,
            "ticket": finding.ticket.matched or "",
        },
        "tags": [*finding.categories, *finding.tags, *finding.flags],
        "cfgwatch": {
            "finding_id": finding.id,
            "severity": finding.severity,
            "flags": list(finding.flags),
            "categories": list(finding.categories),
            "tags": list(finding.tags),
            "change": {
                "type": change.change.value,
                "family": change.family,
                "key": change.key,
                "comment": change.comment,
                "rev_before": change.rev_before,
                "rev_after": change.rev_after,
                "lines_before": numbered(change.lines_before),
                "lines_after": numbered(change.lines_after),
            },
            "affected": affected.to_json(),
            "attribution": {"how": who.how, "comment": who.comment},
            "ticket": finding.ticket.to_json(),
            "approval": finding.approval,
            "flow": finding.flow.to_json(),
            "attack": dict(ATTACK),
        },
    }
    sources = _hosts(affected.internal)
    destinations = _hosts(affected.public)
    if sources:
        event["source"] = {"ip": sources if len(sources) > 1 else sources[0]}
    destination: dict[str, Any] = {}
    if destinations:
        destination["ip"] = destinations if len(destinations) > 1 else destinations[0]
    port_ranges = affected.ports.ranges
    if len(port_ranges) == 1 and port_ranges[0][0] == port_ranges[0][1]:
        destination["port"] = port_ranges[0][0]
    if destination:
        event["destination"] = destination
    related = sorted(set(sources + destinations))
    if related:
        event["related"] = {"ip": related}
    if who.user:
        event["user"] = {"name": who.user}
        event["related"] = {**event.get("related", {}), "user": [who.user]}
    if who.origin:
        event["client"] = {"address": who.origin}
    return _drop_none(event)


def _drop_none(value: Any) -> Any:
    """ECS consumers prefer absent fields over nulls."""
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    return value


def audit_jsonl(result: AuditResult) -> str:
    """One compact JSON document per line, one line per finding (empty output when there are none)."""
    run_time = result.pairs[-1].after.time.isoformat() if result.pairs else result.generated.isoformat()
    lines = [
        json.dumps(finding_event(finding, run_time=run_time), sort_keys=True, separators=(",", ":"))
        for finding in result.findings
    ]
    return "".join(line + "\n" for line in lines)


# Registered as report format "jsonl" in pyproject.toml (audits only).
JSONL = ReportFormat(audit_jsonl)
