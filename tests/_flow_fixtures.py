"""Real flow programs for the backend tests and the benchmark: clickhouse-server, nfcapd, softflowd.

Everything runs on 127.0.0.1 with ports the kernel hands out, in temp directories, and is stopped by the
PID this module started (never by name). When a binary is genuinely missing the test is skipped LOUDLY
(a warning plus the skip reason), because a silent skip would hide that a backend was never exercised.

Also here: an IPFIX encoder that sends schema-shaped records (the dicts the flow readers produce) to
nfcapd. softflowd turns packets into flows, which is right for "a pcap through a real probe", but a
synthetic flow set with known packet/byte counts (and 10 M of them for the benchmark) has to reach
nfcapd as flow records, exactly as a router would send them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC as _UTC
from pathlib import Path
from typing import Any

import pytest

_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])


# -- binaries and ports -----------------------------------------------------------------------------


def skip_loudly(reason: str) -> None:
    """Skip with a warning as well, so a missing real program shows up in the warnings summary."""
    warnings.warn(f"FLOW BACKEND NOT TESTED: {reason}", UserWarning, stacklevel=2)
    pytest.skip(f"FLOW BACKEND NOT TESTED: {reason}")


def find_binary(name: str) -> str | None:
    """Locate a program in PATH plus the sbin directories (softflowd and clickhouse-server live there)."""
    return shutil.which(name, path=_SBIN_PATH)


def require_binary(name: str, package: str) -> str:
    """The program's path, or a loud skip naming the Debian package that provides it."""
    path = find_binary(name)
    if path is None:
        skip_loudly(f"`{name}` is not installed (apt-get install {package}; .ci/run installs it)")
        raise AssertionError("unreachable")  # pytest.skip raises
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on 127.0.0.1 that was free a moment ago (TCP or UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_pid(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Stop one process we started, by its PID; escalate to SIGKILL only if it ignores `sig`."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# -- ClickHouse ---------------------------------------------------------------------------------------


@dataclass
class ClickHouseServer:
    """A private clickhouse-server: copied Debian config, loopback-only, free ports, temp data dir."""

    root: Path
    tcp_port: int = 0
    http_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(default_factory=Path)
    # A `remote_servers` cluster this server knows: name -> native ports of its shards (0: this server).
    clusters: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @staticmethod
    def command() -> list[str] | None:
        """clickhouse-server (Debian 18.16) or the single `clickhouse` binary of current releases."""
        server = find_binary("clickhouse-server")
        if server is not None:
            return [server]
        single = find_binary("clickhouse")
        return [single, "server"] if single is not None else None

    def _write_config(self, source_dir: Path) -> Path:
        tree = ET.parse(source_dir / "config.xml")
        root = tree.getroot()
        # Drop everything that listens, replicates or needs certificates: only native TCP + HTTP stay.
        for tag in (
            "listen_host",
            "https_port",
            "tcp_port_secure",
            "mysql_port",
            "postgresql_port",
            "interserver_https_port",
            "grpc_port",
            "prometheus",
            "openSSL",
            "remote_servers",
            "zookeeper",
            "distributed_ddl",
            "graphite_rollup_example",
            "query_log",
            "query_thread_log",
            "trace_log",
            "part_log",
            "metric_log",
            "asynchronous_metric_log",
            "text_log",
            "opentelemetry_span_log",
            "session_log",
            "crash_log",
            "user_directories",
        ):
            for element in root.findall(tag):
                root.remove(element)

        def put(tag: str, value: str) -> None:
            element = root.find(tag)
            if element is None:
                element = ET.SubElement(root, tag)
            element.text = value

        data = self.root / "data"
        for sub in ("tmp", "user_files", "format_schemas"):
            (data / sub).mkdir(parents=True, exist_ok=True)
        put("http_port", str(self.http_port))
        put("tcp_port", str(self.tcp_port))
        put("interserver_http_port", str(free_port()))
        ET.SubElement(root, "listen_host").text = "127.0.0.1"
        if self.clusters:
            servers = ET.SubElement(root, "remote_servers")
            for name, ports in self.clusters.items():
                cluster = ET.SubElement(servers, name)
                for port in ports:
                    replica = ET.SubElement(ET.SubElement(cluster, "shard"), "replica")
                    ET.SubElement(replica, "host").text = "127.0.0.1"
                    ET.SubElement(replica, "port").text = str(port or self.tcp_port)
        put("path", f"{data}/")
        put("tmp_path", f"{data}/tmp/")
        put("user_files_path", f"{data}/user_files/")
        put("format_schema_path", f"{data}/format_schemas/")
        put("timezone", "UTC")
        put("mark_cache_size", str(256 << 20))
        put("uncompressed_cache_size", str(256 << 20))
        put("users_config", str(self.root / "users.xml"))
        logger = root.find("logger")
        if logger is None:
            logger = ET.SubElement(root, "logger")
        for tag in ("log", "errorlog", "level", "console"):
            for element in logger.findall(tag):
                logger.remove(element)
        ET.SubElement(logger, "level").text = "warning"
        ET.SubElement(logger, "log").text = str(self.log_path)
        ET.SubElement(logger, "errorlog").text = str(self.root / "clickhouse-server.err.log")
        config = self.root / "config.xml"
        tree.write(config)
        shutil.copy(source_dir / "users.xml", self.root / "users.xml")
        return config

    def start(self, source_dir: Path = Path("/etc/clickhouse-server"), timeout: float = 90.0) -> None:
        command = self.command()
        if command is None:
            skip_loudly("clickhouse-server is not installed (apt-get install clickhouse-server; .ci/run installs it)")
            return
        if not (source_dir / "config.xml").exists() or not (source_dir / "users.xml").exists():
            skip_loudly(f"no ClickHouse config.xml/users.xml in {source_dir} to copy")
        self.tcp_port, self.http_port = free_port(), free_port()
        self.log_path = self.root / "clickhouse-server.log"
        config = self._write_config(source_dir)
        stdout = (self.root / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            [*command, f"--config-file={config}"],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.root,
        )
        stdout.close()
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"clickhouse-server exited with {self.proc.returncode}: {self._tail()}")
            try:
                self.client().execute("SELECT 1")
                return
            except Exception as exc:  # not listening yet
                last_error = str(exc)
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"clickhouse-server did not answer within {timeout}s: {last_error}; {self._tail()}")

    def _tail(self) -> str:
        texts = []
        for name in ("stdout.log", "clickhouse-server.err.log"):
            path = self.root / name
            if path.exists():
                texts.append(path.read_text(errors="replace")[-2000:])
        return " | ".join(texts)

    def client(self, database: str = "default") -> Any:
        from clickhouse_driver import Client

        return Client("127.0.0.1", port=self.tcp_port, database=database, connect_timeout=5)

    @property
    def url(self) -> str:
        return f"clickhouse://127.0.0.1:{self.tcp_port}/default"

    def stop(self) -> None:
        if self.proc is not None:
            _stop_pid(self.proc, signal.SIGTERM, timeout=60)
            self.proc = None


@contextlib.contextmanager
def clickhouse_server() -> Iterator[ClickHouseServer]:
    """Start a private server for the duration of the block; skips loudly when unavailable."""
    try:
        import clickhouse_driver  # noqa: F401
    except ImportError:
        skip_loudly("clickhouse-driver is not installed (pip install 'cfgwatch[clickhouse]')")
    with tempfile.TemporaryDirectory(prefix="cfgwatch-ch-") as tmp:
        server = ClickHouseServer(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


CLUSTER = "cfgwatch_shards"


@contextlib.contextmanager
def clickhouse_cluster() -> Iterator[tuple[ClickHouseServer, ClickHouseServer]]:
    """Two private servers as the two shards of cluster CLUSTER; the first is the query node (it alone
    needs the `remote_servers` entry). Both stop by the PIDs started here."""
    try:
        import clickhouse_driver  # noqa: F401
    except ImportError:
        skip_loudly("clickhouse-driver is not installed (pip install 'cfgwatch[clickhouse]')")
    with (
        tempfile.TemporaryDirectory(prefix="cfgwatch-ch-shard2-") as tmp2,
        tempfile.TemporaryDirectory(prefix="cfgwatch-ch-shard1-") as tmp1,
    ):
        second = ClickHouseServer(Path(tmp2))
        second.start()
        try:
            first = ClickHouseServer(Path(tmp1), clusters={CLUSTER: (0, second.tcp_port)})
            first.start()
            try:
                yield first, second
            finally:
                first.stop()
        finally:
            second.stop()


# -- nfcapd / softflowd ----------------------------------------------------------------------------


@dataclass
class Nfcapd:
    """One nfcapd on 127.0.0.1:port writing into `flowdir`; `stop()` (SIGTERM) flushes the open file."""

    flowdir: Path
    port: int = 0
    sources: Mapping[str, str] = field(default_factory=dict)  # ident -> exporter IP ("-n ident,IP,dir")
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Nfcapd:
        binary = require_binary("nfcapd", "nfdump")
        self.flowdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(socket.SOCK_DGRAM)
        command = [binary, "-b", "127.0.0.1", "-p", str(self.port), "-B", str(8 << 20)]
        if self.sources:
            for ident, ip in self.sources.items():
                (self.flowdir / ident).mkdir(exist_ok=True)
                command += ["-n", f"{ident},{ip},{self.flowdir / ident}"]
        else:
            command += ["-w", str(self.flowdir)]
        log = (self.flowdir.parent / f"nfcapd-{self.port}.log").open("wb")
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        # nfcapd binds within milliseconds; wait until the UDP port is taken so nothing sent is lost.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nfcapd exited with {self.proc.returncode}")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", self.port))
                except OSError:
                    return self
            time.sleep(0.05)
        raise RuntimeError("nfcapd did not bind its port")

    def stop(self) -> None:
        """SIGTERM by PID: nfcapd writes the current file and exits."""
        if self.proc is not None:
            time.sleep(0.3)  # let the last datagrams leave the socket buffer
            _stop_pid(self.proc, signal.SIGTERM, timeout=60)
            self.proc = None

    def __enter__(self) -> Nfcapd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_softflowd(pcap: Path, port: int, timeout: float = 60.0) -> str:
    """Replay `pcap` through softflowd as IPFIX with millisecond times to 127.0.0.1:port.

    `-v 10 -A milli` gives absolute times (v9 sends uptime-relative times that come out wrong);
    `-d` keeps it in the foreground so it exits at the end of the file; never `-c` with `-r` (it hangs).
    """
    binary = require_binary("softflowd", "softflowd")
    with tempfile.TemporaryDirectory(prefix="cfgwatch-sf-") as tmp:
        result = subprocess.run(
            [binary, "-r", str(pcap), "-n", f"127.0.0.1:{port}", "-v", "10", "-A", "milli", "-d", "-p", f"{tmp}/pid"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise RuntimeError(f"softflowd failed ({result.returncode}): {output}")
    return output


@dataclass(frozen=True, slots=True)
class PacketFlow:
    """Packets of one unidirectional conversation for a pcap: `packets` packets of `size` bytes each."""

    src: str
    dst: str
    sport: int
    dport: int
    proto: str  # "tcp" | "udp"
    start: float  # epoch seconds of the first packet
    packets: int = 1
    size: int = 60  # IP length of each packet
    gap: float = 0.01  # seconds between packets


def write_pcap(path: Path, flows: Iterable[PacketFlow]) -> int:
    """Write the packets of `flows` (time-ordered) with scapy; returns the packet count."""
    from scapy.all import IP, TCP, UDP, Ether, Raw, wrpcap  # type: ignore[attr-defined]

    packets = []
    for flow in flows:
        for index in range(flow.packets):
            l4 = (
                TCP(sport=flow.sport, dport=flow.dport, flags="PA" if index else "S")
                if flow.proto == "tcp"
                else UDP(sport=flow.sport, dport=flow.dport)
            )
            header = 20 + (20 if flow.proto == "tcp" else 8)
            packet = Ether() / IP(src=flow.src, dst=flow.dst) / l4 / Raw(b"\0" * max(0, flow.size - header))
            packet.time = flow.start + index * flow.gap
            packets.append(packet)
    packets.sort(key=lambda p: float(p.time))
    wrpcap(str(path), packets)
    return len(packets)


# -- IPFIX export of schema records ------------------------------------------------------------------

# (IANA element id, struct code): the template this exporter announces, in record order.
_IPFIX_V4_FIELDS: tuple[tuple[int, str], ...] = (
    (152, "Q"),  # flowStartMilliseconds
    (153, "Q"),  # flowEndMilliseconds
    (8, "I"),  # sourceIPv4Address
    (12, "I"),  # destinationIPv4Address
    (7, "H"),  # sourceTransportPort
    (11, "H"),  # destinationTransportPort
    (4, "B"),  # protocolIdentifier
    (6, "B"),  # tcpControlBits (reduced-size encoding)
    (2, "Q"),  # packetDeltaCount
    (1, "Q"),  # octetDeltaCount
    (10, "I"),  # ingressInterface
    (14, "I"),  # egressInterface
    (61, "B"),  # flowDirection: 0 ingress, 1 egress
    (225, "I"),  # postNATSourceIPv4Address
    (226, "I"),  # postNATDestinationIPv4Address
    (227, "H"),  # postNAPTSourceTransportPort
    (228, "H"),  # postNAPTDestinationTransportPort
)
IPFIX_V4_RECORD = struct.Struct(">" + "".join(code for _, code in _IPFIX_V4_FIELDS))
_TEMPLATE_ID = 256
_MAX_PAYLOAD = 1400


def _template_set() -> bytes:
    body = b"".join(struct.pack(">HH", ie, struct.calcsize(">" + code)) for ie, code in _IPFIX_V4_FIELDS)
    record = struct.pack(">HH", _TEMPLATE_ID, len(_IPFIX_V4_FIELDS)) + body
    return struct.pack(">HH", 2, 4 + len(record)) + record


_TEMPLATE_SET = _template_set()
RECORDS_PER_MESSAGE = (_MAX_PAYLOAD - 16 - 4 - len(_TEMPLATE_SET)) // IPFIX_V4_RECORD.size


def _epoch_ms(value: Any) -> int:
    if hasattr(value, "timestamp"):
        stamp = value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
        return round(stamp.timestamp() * 1000)
    return int(value)


def ipfix_v4_record(row: Mapping[str, Any]) -> bytes:
    """One schema-shaped IPv4 row (time_start/time_end datetimes or epoch ms, *_v4 ints ...) as IPFIX bytes."""
    if int(row.get("ip_version", 4)) != 4:
        raise ValueError("the IPFIX test exporter sends IPv4 records only")
    return IPFIX_V4_RECORD.pack(
        _epoch_ms(row["time_start"]),
        _epoch_ms(row["time_end"]),
        row["src_v4"],
        row["dst_v4"],
        row.get("src_port", 0),
        row.get("dst_port", 0),
        row.get("proto", 6),
        row.get("tcp_flags", 0),
        row.get("packets", 1),
        row.get("bytes", 0),
        row.get("in_if", 0),
        row.get("out_if", 0),
        1 if int(row.get("direction", 0)) == 2 else 0,
        row.get("nat_src_v4", 0),
        row.get("nat_dst_v4", 0),
        row.get("nat_src_port", 0),
        row.get("nat_dst_port", 0),
    )


class IpfixExporter:
    """Sends IPFIX (RFC 7011) messages over UDP from `source_ip` (any 127.x address) to a collector.

    The template is repeated every `template_every` messages, as real exporters do over UDP.
    `records_per_second` paces the stream so the collector's socket buffer never overflows.
    """

    def __init__(
        self,
        port: int,
        *,
        host: str = "127.0.0.1",
        source_ip: str = "127.0.0.1",
        domain: int = 1,
        records_per_second: float = 200_000.0,
        template_every: int = 500,
    ) -> None:
        self.address = (host, port)
        self.domain = domain
        self.sequence = 0
        self.messages = 0
        self.records = 0
        self.rate = records_per_second
        self.template_every = template_every
        self.started = time.monotonic()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source_ip, 0))

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> IpfixExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_message(self, records: Sequence[bytes], export_time: int | None = None) -> None:
        """One IPFIX message carrying up to RECORDS_PER_MESSAGE encoded records (template when due)."""
        data = b"".join(records)
        sets = _TEMPLATE_SET if self.messages % self.template_every == 0 else b""
        sets += struct.pack(">HH", _TEMPLATE_ID, 4 + len(data)) + data
        header = struct.pack(
            ">HHIII", 10, 16 + len(sets), export_time or int(time.time()), self.sequence & 0xFFFFFFFF, self.domain
        )
        self.sock.sendto(header + sets, self.address)
        self.messages += 1
        self.sequence += len(records)
        self.records += len(records)
        ahead = self.records / self.rate - (time.monotonic() - self.started)
        if ahead > 0.002:
            time.sleep(ahead)

    def send_rows(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Encode and send schema rows in full messages; returns the number of records sent."""
        batch: list[bytes] = []
        sent = 0
        for row in rows:
            batch.append(ipfix_v4_record(row))
            if len(batch) == RECORDS_PER_MESSAGE:
                self.send_message(batch)
                sent += len(batch)
                batch = []
        if batch:
            self.send_message(batch)
            sent += len(batch)
        return sent


def export_rows_to_nfcapd(
    rows: Sequence[Mapping[str, Any]],
    flowdir: Path,
    *,
    by_exporter: Mapping[str, str] | None = None,
    records_per_second: float = 200_000.0,
) -> Path:
    """Send schema rows through a real nfcapd into `flowdir`; returns the directory nfdump reads.

    `by_exporter` maps a row's `exporter` value to a 127.x source address so nfcapd records distinct
    exporter IPs (rows whose exporter is not mapped go out from 127.0.0.1).
    """
    mapping = dict(by_exporter or {})
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(mapping.get(str(row.get("exporter", "")), "127.0.0.1"), []).append(row)
    with Nfcapd(flowdir) as collector:
        for source_ip, group in groups.items():
            with IpfixExporter(collector.port, source_ip=source_ip, records_per_second=records_per_second) as out:
                out.send_rows(group)
    return flowdir


def damaged_copy(path: Path) -> Path:
    """The file with its 11th line cut short and its 21st given a letter for a number: two bad records."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = lines[10][: len(lines[10]) // 2] + "\n"
    lines[20] = lines[20].replace("6", "x", 1)
    target = path.with_name("damaged-" + path.name)
    target.write_text("".join(lines), encoding="utf-8")
    return target
