"""Issue 20 item 3: a kill -9 during flow ingest leaves nothing that breaks a reader or counts twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cfgwatch.flows.backends.duckdb import DuckDBBackend
from cfgwatch.flows.settings import FlowSettings
from cfgwatch.flows.synth import EXPORTER, SPIKE_HOST, planted_scenario, write_nfdump_csv
from cfgwatch.flows.verify import hunt
from cfgwatch.model import AddressSet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
RFC1918 = AddressSet.parse("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
CHANGE = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)

PLANTED_RECORDS = 456

# The child ingests, and at the named point announces itself and waits to be killed by the parent.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from cfgwatch.flows.backends import duckdb_ingest
    from cfgwatch.flows.backends.duckdb import DuckDBBackend

    point = sys.argv[3]
    def stop():
        print("ready", flush=True)
        time.sleep(120)

    if point == "staged":
        def land(self, staging):
            stop()
        duckdb_ingest.ParquetIngest._land = land
    else:
        real_replace = os.replace
        def replace(src, dst):
            real_replace(src, dst)
            stop()
        duckdb_ingest.os.replace = replace
    DuckDBBackend(sys.argv[1]).ingest(sys.argv[2], "nfdump-csv", exporter="fw1")
    """
)


def _hunted(backend: DuckDBBackend) -> list[str]:
    result = hunt(backend, RFC1918, FlowSettings(baseline_hours=72), since=timedelta(hours=24), has_asn_db=False)
    return [item.internal for item in result.findings]


@pytest.mark.parametrize("point", ["staged", "landed"])
def test_kill_9_mid_ingest_then_readers_and_ingest_are_right(tmp_path: Path, point: str) -> None:
    csv_path = write_nfdump_csv(tmp_path / "planted.csv", planted_scenario(CHANGE))
    store = tmp_path / "flows"
    DuckDBBackend(store).ingest(FIXTURES / "nfdump_replayed.csv", "nfdump-csv", exporter="asa1")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store), str(csv_path), point],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    leftovers = list((store / "data").glob(".staging-*/day=*/*.parquet"))
    assert leftovers  # the kill did leave a batch behind, half landed or not at all
    reader = DuckDBBackend(store)
    assert reader.record_count() == 117  # the killed batch is not committed: readers do not see it
    assert reader.time_range(["fw1"]) is None
    reader.close()
    backend = DuckDBBackend(store)
    report = backend.ingest(csv_path, "nfdump-csv", exporter="fw1")
    assert (report.records, report.skipped) == (PLANTED_RECORDS, False)
    assert backend.record_count() == 117 + PLANTED_RECORDS
    assert not list((store / "data").glob(".staging-*"))
    assert _hunted(backend) == [SPIKE_HOST]
    assert backend.ingest(csv_path, "nfdump-csv", exporter="fw1").skipped
    backend.close()


def test_leftover_temp_and_truncated_files_are_ignored_then_cleaned(tmp_path: Path) -> None:
    csv_path = write_nfdump_csv(tmp_path / "planted.csv", planted_scenario(CHANGE))
    store = tmp_path / "flows"
    backend = DuckDBBackend(store)
    backend.ingest(csv_path, "nfdump-csv", exporter=EXPORTER)
    backend.close()
    data = store / "data"
    whole = sorted(data.glob("day=*/*.parquet"))[0]
    day = whole.parent.name
    staging = data / ".staging-0123456789ab" / day
    staging.mkdir(parents=True)
    (staging / "part-0123456789ab-0.parquet").write_bytes(b"")
    (staging / "part-0123456789ab-1.parquet").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    # What an ingest killed before the atomic write left: a 0-byte and a truncated file in a day directory.
    (data / day / "part-fedcba987654-0.parquet").write_bytes(b"")
    (data / day / "part-fedcba987654-1.parquet").write_bytes(whole.read_bytes()[:100])
    # And a half-written ledger line.
    with (store / "ledger.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"sha256": "ab')
    reader = DuckDBBackend(store)
    assert reader.record_count() == PLANTED_RECORDS
    assert _hunted(reader) == [SPIKE_HOST]
    selector_range = reader.time_range([EXPORTER])
    assert selector_range is not None
    report = reader.ingest(FIXTURES / "nfdump_replayed.csv", "nfdump-csv", exporter="asa1")
    assert report.records == 117
    assert reader.record_count() == PLANTED_RECORDS + 117
    assert not list(data.glob(".staging-*"))
    assert not list(data.glob("day=*/part-fedcba987654-*"))
    assert reader.ingest(csv_path, "nfdump-csv", exporter=EXPORTER).skipped
    lines = (store / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["records"] == 117  # appended on a fresh line after the cut one
    reader.close()
