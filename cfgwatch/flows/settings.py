"""The `flows:` section of cfgwatch.yaml: where the flow store lives, enrichment inputs, thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cfgwatch.section import Section


class FlowSettings(Section):
    backend: Literal["duckdb", "nfdump", "clickhouse"] = "duckdb"
    store: Path | None = None  # Parquet store directory; default: "flows" next to the snapshot repo
    asn_db: Path | None = None  # MaxMind-format .mmdb (GeoLite2-ASN, IPinfo ASN, DB-IP ASN)
    provider_ranges: list[Path] = Field(default_factory=list)  # ip-ranges.json, cloud.json, CIDR lists
    tor_exits: Path | None = None  # one address per line, or the Tor project's exit-addresses file
    post_window_hours: float = Field(default=24.0, gt=0)  # window after the change time
    baseline_hours: float = Field(default=168.0, gt=0)  # window before the change time
    min_packets: int = Field(default=10, ge=1)  # outbound packets after the change that confirm traffic
    spike_ratio: float = Field(default=3.0, gt=0)  # post rate / baseline rate (per hour) that counts as a spike
    low_return_ratio: float = Field(default=0.2, ge=0)  # return packets / outbound packets below this = few returns
    top_destinations: int = Field(default=5, ge=1)
    hunt_min_packets: int = Field(default=100, ge=1)  # a hunt pair needs this many outbound packets
    hunt_since_hours: float = Field(default=24.0, gt=0)

    def store_path(self, snapshots: Path) -> Path:
        """The store directory: configured, else `<parent of snapshots>/flows`."""
        return self.store if self.store is not None else snapshots.parent / "flows"
