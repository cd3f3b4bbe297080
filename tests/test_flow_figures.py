"""The typed flow figures: their JSON form is the reports' contract, key order included, and reads back."""

from __future__ import annotations

import doctest
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _report_fixtures import audit_all, build_project

import cfgwatch.flows.figures as figures_module
from cfgwatch.flows.backends.base import TimeWindow
from cfgwatch.flows.figures import Destination, FlowFigures, FlowFlags, SeriesPoint
from cfgwatch.policy.findings import FlowResult

CHANGE = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
PROXY = Destination("45.77.0.0/24", "45.77.0.9", 20473, "AS-CHOOPA", "hosting", 900, 1_170_000, 12, 30, True)
UNKNOWN = Destination("198.51.100.0/24", "198.51.100.7", 0, "", "", 5, 400, 1, 5, False)
FIGURES = FlowFigures(
    post_window=TimeWindow.starting(CHANGE, timedelta(hours=24)),
    baseline_window=TimeWindow.ending(CHANGE, timedelta(days=7)),
    exporter_records=310,
    packets=905,
    bytes=1_170_400,
    flows=13,
    baseline_packets=72,
    baseline_bytes=6480,
    baseline_flows=6,
    spike_ratio=87.986111111,
    return_packets=35,
    return_ratio=35 / 905,
    distinct_sources=2,
    distinct_destinations=2,
    new_destinations=1,
    top_destinations=(PROXY, UNKNOWN),
    flags=FlowFlags(spike=True, few_returns=True, suspicious=True),
    series=(SeriesPoint(CHANGE - timedelta(hours=1), 12, 0), SeriesPoint(CHANGE, 900, 30)),
)


def test_the_module_examples_run() -> None:
    result = doctest.testmod(figures_module)
    assert result.attempted > 0 and result.failed == 0


def test_figures_json_has_the_contract_keys_in_order() -> None:
    data = FIGURES.to_json()
    assert list(data) == [
        "post_window",
        "baseline_window",
        "exporter_records",
        "packets",
        "bytes",
        "flows",
        "baseline_packets",
        "baseline_bytes",
        "baseline_flows",
        "spike_ratio",
        "return_packets",
        "return_ratio",
        "distinct_sources",
        "distinct_destinations",
        "new_destinations",
        "top_destinations",
        "spike",
        "few_returns",
        "suspicious",
        "series",
    ]
    assert data["post_window"] == ["2026-11-25T03:00:00+00:00", "2026-11-26T03:00:00+00:00"]
    assert data["spike_ratio"] == 87.9861 and data["return_ratio"] == 0.0387  # 4 decimals
    assert data["top_destinations"][1] == {
        "prefix": "198.51.100.0/24",
        "sample_address": "198.51.100.7",
        "asn": None,  # unknown enrichment is null, not 0 / ""
        "org": None,
        "provider_class": None,
        "packets": 5,
        "bytes": 400,
        "flows": 1,
        "return_packets": 5,
        "new": False,
    }
    assert data["series"][1] == {"t": "2026-11-25T03:00:00+00:00", "outbound_packets": 900, "return_packets": 30}
    assert "series" not in replace(FIGURES, series=None).to_json()  # no chart: no key at all
    infinite = replace(FIGURES, spike_ratio=float("inf"), return_ratio=None).to_json()
    assert infinite["spike_ratio"] is None and infinite["return_ratio"] is None


def test_figures_round_trip_through_json_text() -> None:
    for figures in (FIGURES, replace(FIGURES, series=None, top_destinations=(), spike_ratio=None)):
        text = json.dumps(figures.to_json())
        back = FlowFigures.from_json(json.loads(text))
        assert json.dumps(back.to_json()) == text
        assert back.top_destinations == figures.top_destinations and back.series == figures.series
        assert back.post_window == figures.post_window and back.flags == figures.flags
    exact = FlowFigures.from_json(FIGURES.to_json())
    assert FlowFigures.from_json(exact.to_json()) == exact  # rounded once, then stable


@pytest.mark.parametrize(
    ("result", "figures_json"),
    [
        (FlowResult("not-checked", notes=("change time unknown",)), {}),
        (
            FlowResult("not-checked", FlowFlags(), ("change affects no internal addresses",)),
            {"spike": False, "few_returns": False, "suspicious": False},
        ),
        (FlowResult("traffic-confirmed", FIGURES, ("no ASN database",)), FIGURES.to_json()),
    ],
)
def test_flow_result_keeps_each_shape_of_figures(result: FlowResult, figures_json: dict[str, object]) -> None:
    data = result.to_json()
    assert list(data) == ["verdict", "figures", "notes"] and data["figures"] == figures_json
    back = FlowResult.from_json(json.loads(json.dumps(data)))
    assert back.to_json() == data and type(back.figures) is type(result.figures)


def test_every_finding_flow_of_an_audit_round_trips(tmp_path: Path) -> None:
    result = audit_all(build_project(tmp_path))
    verdicts = {finding.flow.verdict for finding in result.findings}
    assert verdicts == {"traffic-confirmed", "no-traffic"}
    for finding in result.findings:
        data = json.loads(json.dumps(finding.to_json()))
        assert FlowResult.from_json(data["flow"]).to_json() == data["flow"]
