"""The `flows:` section of cfgwatch.yaml: where the flow store lives, enrichment inputs, thresholds."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from cfgwatch.section import Section


class NfdumpExporterSettings(Section):
    """How nfcapd knows one exporter: the IP it sends from, and its `-n ident,IP,dir` subdirectory if any."""

    address: str
    subdir: str | None = None


class NfdumpSettings(Section):
    """`flows.nfdump`: an nfcapd tree that cfgwatch reads in place with `nfdump`."""

    directory: Path  # nfcapd -w / -M directory (relative to cfgwatch.yaml)
    binary: str = "nfdump"
    exporters: dict[str, NfdumpExporterSettings] = Field(default_factory=dict)  # device name -> source
    max_flow_seconds: int = Field(default=86_400, gt=0)  # longest flow a window end must still catch
    file_slack_seconds: int = Field(default=900, ge=0)  # exporter clock ahead of the collector, at most


class ClickHouseSettings(Section):
    """`flows.clickhouse`: a ClickHouse server (or cluster via a Distributed table), native protocol."""

    host: str = "127.0.0.1"
    port: int = Field(default=9000, gt=0, lt=65536)
    database: str = "default"
    user: str = "default"
    password_env: str | None = None  # name of the environment variable holding the password (never in YAML)
    secure: bool = False
    table: str = "flows"  # the Distributed table on a cluster; Akvorado's `flows` with `columns`
    # remote_servers cluster name: cfgwatch creates `<table>_local` (MergeTree) on every shard it lists and
    # `<table>` as the Distributed table over them; inserts wait until every shard has its rows
    cluster: str | None = None
    create: bool = True  # CREATE TABLE IF NOT EXISTS on first use (off for tables managed elsewhere)
    columns: dict[str, str] = Field(default_factory=dict)  # cfgwatch column -> SQL expression (foreign tables)


class FlowSettings(Section):
    backend: str = "duckdb"  # a registered flow backend: duckdb, nfdump, clickhouse or a plugin's
    nfdump: NfdumpSettings | None = None  # required when backend is nfdump
    clickhouse: ClickHouseSettings = Field(default_factory=ClickHouseSettings)
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

    @field_validator("backend")
    @classmethod
    def _registered_backend(cls, value: str) -> str:
        from cfgwatch.flows.backends import FLOW_BACKENDS  # here: that package imports this module

        if value not in FLOW_BACKENDS:
            raise ValueError(FLOW_BACKENDS.unknown_message(value))
        return value

    def store_path(self, snapshots: Path) -> Path:
        """The store directory: configured, else `<parent of snapshots>/flows`."""
        return self.store if self.store is not None else snapshots.parent / "flows"
