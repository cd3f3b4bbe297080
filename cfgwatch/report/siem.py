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
from cfgwatch.policy.findings import ATTACK
from cfgwatch.policy.settings import SEVERITIES
from cfgwatch.report.coverage import coverage_events
from cfgwatch.report.formats import ReportFormat
from cfgwatch.report.view import ATTACK_URL, TACTIC_NAME, FindingView, finding_views, numbered

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


def _event_types(view: FindingView) -> list[str]:
    types = ["change"]
    if view.change == "added":
        types.append("creation")
    elif view.change == "removed":
        types.append("deletion")
    if "acl-widened" in view.categories or "egress-forward" in view.categories:
        types.append("allowed")
    return types


def finding_event(view: FindingView, *, run_time: str | None = None) -> dict[str, Any]:
    """The ECS document of one finding."""
    affected = view.affected
    seen = view.seen.isoformat() if view.seen else None
    timestamp = view.when or seen or run_time
    event: dict[str, Any] = {
        "@timestamp": timestamp,
        "ecs": {"version": ECS_VERSION},
        "message": (
            f"{view.severity} {view.id} {view.device}: {view.change} {view.family} "
            f"{view.rule} ({', '.join(view.enables)}; "
            f"{', '.join(view.flags) or 'no flags'})"
        ),
        "event": {
            "kind": "alert",
            "category": ["configuration", "network"],
            "type": _event_types(view),
            "action": f"{view.family}-{view.change}",
            "id": view.id,
            "severity": SEVERITIES.index(view.severity),
            "risk_score": _RISK.get(view.severity, 0),
            "module": "cfgwatch",
            "dataset": "cfgwatch.audit",
            "provider": "cfgwatch",
            "reason": "; ".join(view.reasons) or None,
        },
        "log": {"level": view.severity},
        "observer": {"name": view.device, "product": view.platform, "type": "firewall"},
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
            "category": view.categories[0] if view.categories else None,
            "description": view.rule,
            "reference": ATTACK_URL,
            "version": __version__,
        },
        "labels": {
            "flags": ",".join(view.flags),
            "categories": ",".join(view.categories),
            "flow_verdict": view.flow.verdict,
            "ticket": view.ticket.matched or "",
        },
        "tags": [*view.categories, *view.tags, *view.flags],
        "cfgwatch": {
            "finding_id": view.id,
            "severity": view.severity,
            "flags": list(view.flags),
            "categories": list(view.categories),
            "tags": list(view.tags),
            "change": {
                "type": view.change,
                "family": view.family,
                "key": view.key,
                "comment": view.comment,
                "rev_before": view.rev_before,
                "rev_after": view.rev_after,
                "lines_before": numbered(view.lines_before),
                "lines_after": numbered(view.lines_after),
            },
            "affected": affected.to_json(),
            "attribution": {"how": view.how, "comment": view.commit_comment},
            "ticket": view.ticket.to_json(),
            "approval": view.approval,
            "flow": view.flow.to_json(),
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
    if view.user:
        event["user"] = {"name": view.user}
        event["related"] = {**event.get("related", {}), "user": [view.user]}
    if view.origin:
        event["client"] = {"address": view.origin}
    return _drop_none(event)


def _drop_none(value: Any) -> Any:
    """ECS consumers prefer absent fields over nulls."""
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    return value


def audit_jsonl(result: AuditResult) -> str:
    """One compact JSON document per line: one alert per finding, then one event per coverage gap (a failed
    or stale device, a silent exporter); empty output when there is neither."""
    run_time = result.pairs[-1].after.time.isoformat() if result.pairs else result.generated.isoformat()
    lines = [
        json.dumps(finding_event(view, run_time=run_time), sort_keys=True, separators=(",", ":"))
        for view in finding_views(result.findings)
    ]
    lines += [json.dumps(event, sort_keys=True, separators=(",", ":")) for event in coverage_events(result, run_time)]
    return "".join(line + "\n" for line in lines)


# Registered as report format "jsonl" in pyproject.toml (audits only).
JSONL = ReportFormat(audit_jsonl)
