"""nfdump backend: answer the verification and hunt queries straight from nfcapd files.

Teams that already run nfcapd keep their files where they are; cfgwatch runs `nfdump` over them:

* `-M DIR/sub1:sub2 -R first:last` (or `-R DIR/first:last`) selects the exporter directories and the
  files that can hold records of the window. A file named for time F holds what nfcapd received from
  F until the next file began; a record cannot be received before it starts, so files whose successor
  began before the window (minus `file_slack`, for exporter clocks running ahead) are skipped.
* `-t START` keeps records with first >= START (nfdump 1.7.1's `-t A-B` keeps first >= A AND last <= B,
  in whole seconds, and never skips a file by its statistics; the filter language has no time
  condition). A flow straddling the end would be dropped, so the end bound is `END + max_flow_seconds`
  and the exact half-open [start, end) test on the flow start runs here, on the streamed lines.
* the nfdump filter, generated from the selector, keeps only records that touch the affected or
  translated addresses; every other rule (internal / remote, ports, NAT, REJECT) is applied in Python
  with exactly the semantics of `cfgwatch.flows.backends.base`, so verdicts match the SQL backends.
* record counts (coverage, `exporter_records`) are count(first >= start) - count(first >= end).
  When one flat directory holds exactly the records to count (every exporter, or one exporter's
  `-n` subdirectory), the files whose statistics (`nfdump -I`: flows, first seen) show that every
  record starts after the bound are counted without reading a record, and only the few files around
  the bound are read (`-t BOUND -s router/flows`; a sub-second bound also reads their start times).
  Otherwise one `-s router/flows` pass per bound counts inside nfdump. Either runs concurrently with
  the filtered stream, so on a rotated tree (nfcapd's 5-minute files) a summary costs about one
  nfdump pass over the window's files.

Known gaps: a flow lasting longer than `max_flow_seconds` is missing from the streamed records of a
window it starts in, while the counts keep it (tested); a record that reached nfcapd more than
`file_slack_seconds` before its own start time (an exporter clock running that far ahead) is missing
from windows starting after the file it sits in (by construction of the file selection).

nfdump >= 1.7 is required (`-o fmt` with `%tsr`, IPFIX NAT fields); `check_nfdump` says so clearly.
Exporters are named by their IP unless the configuration maps names to IPs (and optionally to the
nfcapd `-n ident,IP,dir` subdirectory that holds their files).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no fcntl: the pipe keeps its default size
    fcntl = None  # type: ignore[assignment]

from cfgwatch.errors import StoreError
from cfgwatch.flows.backends.base import (
    BaselineRemotes,
    Counters,
    CoverageRow,
    FlowSelector,
    OutboundSummary,
    PairRow,
    RemoteRow,
    ServiceRow,
    TimeWindow,
    top_services,
)
from cfgwatch.flows.enrich import Enricher
from cfgwatch.flows.schema import V4_PREFIX_LEN, V6_PREFIX_LEN
from cfgwatch.model import AddressSet, PortSet

MIN_VERSION = (1, 7, 0)
# One '|' separated line per record; order matters for `_parse_line`. Only the fields the record semantics
# use: every streamed field is split, stripped and converted in Python, which is the per-record cost.
RECORD_FORMAT = "fmt:%tsr|%ra|%sa|%da|%dp|%ipkt|%ibyt|%opkt|%obyt|%xsa|%xda|%xdp|%evt"
_FILE_RE = re.compile(r"^nfcapd\.(\d{12})(\d{2})?$")
_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_V4_UNPACK = struct.Struct(">I").unpack
_V4_PACK = struct.Struct(">I").pack
_PIPE_BYTES = 1 << 20


class NfdumpError(StoreError):
    """nfdump is missing, too old, or failed on the flow files."""


def check_nfdump(binary: str = "nfdump") -> tuple[int, int, int]:
    """The installed nfdump version; NfdumpError with what to install when missing or older than 1.7."""
    path = shutil.which(binary)
    if path is None:
        raise NfdumpError(
            f"`{binary}` not found: install nfdump >= {'.'.join(map(str, MIN_VERSION))} "
            "(Debian/Ubuntu: apt-get install nfdump) or set flows.nfdump.binary in cfgwatch.yaml"
        )
    try:
        result = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NfdumpError(f"cannot run {path} -V: {exc}") from exc
    match = _VERSION_RE.search(result.stdout + result.stderr)
    if match is None:
        raise NfdumpError(f"cannot tell the version of {path} from: {(result.stdout + result.stderr).strip()!r}")
    version = (int(match[1]), int(match[2]), int(match[3]))
    if version < MIN_VERSION:
        raise NfdumpError(
            f"{path} is nfdump {'.'.join(map(str, version))}; cfgwatch needs >= {'.'.join(map(str, MIN_VERSION))} "
            "(fmt output with %tsr and the IPFIX NAT fields)"
        )
    return version


@dataclass(frozen=True, slots=True)
class NfdumpExporter:
    """An exporter as nfcapd sees it: the IP it sends from, and its `-n ident,IP,dir` subdirectory if any."""

    name: str
    address: str
    subdir: str | None = None


# -- address sets as sorted interval lists ---------------------------------------------------------------


class _Ranges:
    """Membership in sorted, disjoint closed intervals by bisection."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Sequence[tuple[int, int]]) -> None:
        self.starts = [start for start, _ in intervals]
        self.ends = [end for _, end in intervals]

    def __contains__(self, value: int) -> bool:
        index = bisect_right(self.starts, value) - 1
        return index >= 0 and value <= self.ends[index]

    def __bool__(self) -> bool:
        return bool(self.starts)


class _Set:
    """An AddressSet split by family, for (version, value) lookups."""

    __slots__ = ("v4", "v6")

    def __init__(self, addresses: AddressSet | None) -> None:
        self.v4 = _Ranges(addresses.v4 if addresses else ())
        self.v6 = _Ranges(addresses.v6 if addresses else ())

    def has(self, version: int, value: int) -> bool:
        return value in (self.v4 if version == 4 else self.v6)


class _Ports:
    __slots__ = ("any", "ranges")

    def __init__(self, ports: PortSet | None) -> None:
        self.any = ports is None or ports.is_any
        self.ranges = _Ranges(ports.ranges if ports is not None else ())

    def has(self, port: int) -> bool:
        return self.any or port in self.ranges


# -- records ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Record:
    start_ms: int
    exporter_ip: str
    version: int
    src: int
    dst: int
    dst_port: int
    packets: int
    bytes: int
    rev_packets: int
    rev_bytes: int
    nat_src: int  # 0 = none reported
    nat_dst: int
    nat_dst_port: int
    rejected: bool


class _AddressCache(dict[str, tuple[int, int]]):
    """Address text -> (version, integer); nfdump prints the same few addresses over and over."""

    def __missing__(self, text: str) -> tuple[int, int]:
        try:  # IPv4, the common case: far cheaper than building an ipaddress object
            value = (4, _V4_UNPACK(socket.inet_pton(socket.AF_INET, text))[0])
        except OSError:
            value = self._v6(text)
        self[text] = value
        return value

    @staticmethod
    def _v6(text: str) -> tuple[int, int]:
        address = ipaddress.ip_address(text)
        value = (address.version, int(address))
        if address.version == 6:
            mapped = address.ipv4_mapped
            if mapped is not None:
                value = (4, int(mapped))
        return value


def _parse_line(line: str, addresses: _AddressCache) -> _Record | None:
    parts = line.split("|")
    if len(parts) != 13:
        return None
    try:
        version, src = addresses[parts[2].strip()]
        _, dst = addresses[parts[3].strip()]
        nat_src_text = parts[9].strip()
        nat_dst_text = parts[10].strip()
        nat_src = 0 if nat_src_text in ("0.0.0.0", "::", "") else addresses[nat_src_text][1]
        nat_dst = 0 if nat_dst_text in ("0.0.0.0", "::", "") else addresses[nat_dst_text][1]
        seconds, _, fraction = parts[0].strip().partition(".")
        start_ms = int(seconds) * 1000 + (int((fraction + "000")[:3]) if fraction else 0)
        return _Record(
            start_ms,
            parts[1].strip(),
            version,
            src,
            dst,
            int(parts[4]),
            int(parts[5]),
            int(parts[6]),
            int(parts[7]),
            int(parts[8]),
            nat_src,
            nat_dst,
            int(parts[11]),
            parts[12].strip().upper() in ("DENIED", "DENY"),
        )
    except ValueError:
        return None


def _epoch_ms(moment: datetime) -> int:
    """A window bound in epoch ms, rounded up: flow times are whole ms, so t >= bound <=> t_ms >= ceil(bound)."""
    moment = moment.astimezone(UTC)
    return int(moment.timestamp()) * 1000 + (moment.microsecond + 999) // 1000


def _nfdump_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y/%m/%d.%H:%M:%S")


def _prefix(version: int, value: int) -> tuple[int, int]:
    return (version, value >> (32 - V4_PREFIX_LEN) if version == 4 else value >> (128 - V6_PREFIX_LEN))


def _prefix_text(key: tuple[int, int]) -> str:
    version, value = key
    if version == 6:
        return str(ipaddress.IPv6Network((value << (128 - V6_PREFIX_LEN), V6_PREFIX_LEN)))
    return f"{socket.inet_ntoa(_V4_PACK(value << (32 - V4_PREFIX_LEN)))}/{V4_PREFIX_LEN}"


def _address_text(version: int, value: int) -> str:
    return socket.inet_ntoa(_V4_PACK(value)) if version == 4 else str(ipaddress.IPv6Address(value))


def _widen_pipe(fd: int) -> None:
    """Let nfdump run up to ~1 MB (thousands of records) ahead of the Python reader.

    With the default 64 KB pipe nfdump stalls whenever Python falls behind for a few hundred
    padded lines, so the two take turns instead of overlapping. Linux only; elsewhere a no-op.
    """
    setter = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setter is None:
        return
    for size in (_PIPE_BYTES, 1 << 18):  # unprivileged users are capped by /proc/sys/fs/pipe-max-size
        try:
            fcntl.fcntl(fd, setter, size)
            return
        except OSError:
            continue


@dataclass
class _Acc:
    packets: int = 0
    bytes: int = 0
    flows: int = 0

    def add(self, packets: int, bytes_: int, flows: int = 1) -> None:
        self.packets += packets
        self.bytes += bytes_
        self.flows += flows

    def counters(self) -> Counters:
        return Counters(self.packets, self.bytes, self.flows)


@dataclass
class _RemoteAcc:
    out: _Acc = field(default_factory=_Acc)
    ret: _Acc = field(default_factory=_Acc)
    destinations: set[int] = field(default_factory=set)  # remote addresses that received outbound traffic
    sample: tuple[int, int] = (-1, 0)  # (bytes, remote address) of the largest outbound record


@dataclass
class _PairAcc:
    out: _Acc = field(default_factory=_Acc)
    ret: _Acc = field(default_factory=_Acc)
    remotes: set[int] = field(default_factory=set)


class _Classifier:
    """The record semantics of `cfgwatch.flows.backends.base`, for one selector."""

    def __init__(self, selector: FlowSelector) -> None:
        self.sources = _Set(selector.sources)
        self.translated = _Set(selector.translated)
        self.internal = _Set(selector.internal)
        self.destinations = _Set(selector.destinations) if selector.destinations is not None else None
        self.ports = _Ports(selector.ports)

    def outbound(self, rec: _Record) -> tuple[int, int] | None:
        """(internal source, remote address) when `rec` is outbound for the selector, else None."""
        if rec.rejected:
            return None
        version = rec.version
        if not (
            self.sources.has(version, rec.src)
            or self.translated.has(version, rec.src)
            or (rec.nat_src and self.translated.has(version, rec.nat_src))
        ):
            return None
        remote = rec.nat_dst or rec.dst
        if self.destinations is not None:
            if not (
                self.destinations.has(version, rec.dst) or (rec.nat_dst and self.destinations.has(version, rec.nat_dst))
            ):
                return None
        elif self.internal.has(version, remote):
            return None
        if not self.ports.any and not (
            self.ports.has(rec.dst_port) or (rec.nat_dst_port and self.ports.has(rec.nat_dst_port))
        ):
            return None
        return rec.src, remote

    def inbound_return(self, rec: _Record) -> tuple[int, int] | None:
        """(internal destination, remote address) when `rec` is return traffic for the selector, else None."""
        if rec.rejected:
            return None
        version = rec.version
        if not (
            self.sources.has(version, rec.dst)
            or self.translated.has(version, rec.dst)
            or (rec.nat_dst and self.translated.has(version, rec.nat_dst))
        ):
            return None
        if self.destinations is not None:
            if not self.destinations.has(version, rec.src):
                return None
        elif self.internal.has(version, rec.src):
            return None
        return rec.dst, rec.src


def _nfdump_list(addresses: AddressSet) -> str:
    return " ".join(addresses.cidrs()) if not addresses.is_any else "0.0.0.0/0 ::/0"


class NfdumpBackend:
    """FlowBackend over a tree of nfcapd files (see the module doc for how queries run)."""

    name = "nfdump"

    def __init__(
        self,
        directory: str | Path,
        *,
        exporters: Sequence[NfdumpExporter] = (),
        binary: str = "nfdump",
        max_flow_seconds: int = 86_400,
        file_slack_seconds: int = 900,
        enricher: Enricher | None = None,
        check: bool = True,
    ) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise NfdumpError(f"nfcapd directory {self.directory} does not exist")
        self.binary = shutil.which(binary) or binary
        self.version = check_nfdump(binary) if check else MIN_VERSION
        self.exporters = {exporter.name: exporter for exporter in exporters}
        self.by_address = {exporter.address: exporter.name for exporter in exporters}
        self.max_flow = timedelta(seconds=max_flow_seconds)
        self.file_slack = timedelta(seconds=file_slack_seconds)
        self.enricher = enricher or Enricher()
        self._enriched: dict[tuple[int, int], tuple[int, str, str]] = {}

    # -- files and processes --------------------------------------------------------------------------

    def _exporter_name(self, address: str) -> str:
        return self.by_address.get(address, address)

    def _exporter_address(self, name: str) -> str:
        known = self.exporters.get(name)
        if known is not None:
            return known.address
        try:
            return str(ipaddress.ip_address(name))
        except ValueError as exc:
            raise NfdumpError(
                f"exporter {name!r} has no address: map it under flows.nfdump.exporters in cfgwatch.yaml"
            ) from exc

    def _directories(self, exporters: Sequence[str]) -> list[Path]:
        subdirs = [self.exporters[name].subdir for name in exporters if name in self.exporters]
        if exporters and all(subdirs) and len(subdirs) == len(exporters):
            return sorted({self.directory / str(sub) for sub in subdirs})
        return [self.directory]

    @staticmethod
    def _files(directory: Path) -> list[tuple[datetime, str]]:
        """(file time, path relative to `directory`) of every finished nfcapd file, oldest first."""
        found: list[tuple[datetime, str]] = []
        if not directory.is_dir():
            return found
        for root, _dirs, names in os.walk(directory):
            for name in names:
                match = _FILE_RE.match(name)
                if match is None:
                    continue
                stamp = datetime.strptime(match[1] + (match[2] or "00"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                found.append((stamp, str((Path(root) / name).relative_to(directory))))
        found.sort()
        return found

    def _selection(self, exporters: Sequence[str], window: TimeWindow) -> list[str] | None:
        """`-M`/`-R` arguments for the files that can hold records starting in `window` (None: no files)."""
        directories = self._directories(exporters)
        files = sorted({item for directory in directories for item in self._files(directory)})
        if not files:
            return None
        first = self._first_candidate(files, window.start)
        chosen = f"{files[first][1]}:{files[-1][1]}" if first < len(files) - 1 else files[first][1]
        if len(directories) == 1:
            return ["-R", f"{directories[0]}/{chosen}"]
        base = os.path.commonpath([str(d) for d in directories])
        relative = ":".join(os.path.relpath(d, base) for d in directories)
        return ["-M", f"{base}/{relative}", "-R", chosen]

    def _first_candidate(self, files: Sequence[tuple[datetime, str]], moment: datetime) -> int:
        """Index of the first file that can hold a record starting at or after `moment`.

        A file named for time F holds what nfcapd received until the next file began; a record cannot be
        received before it starts, so a file whose successor began before `moment - file_slack` (slack for
        exporter clocks running ahead) holds nothing from `moment` on.
        """
        earliest = moment - self.file_slack
        first = 0
        for index in range(len(files) - 1):
            if files[index + 1][0] <= earliest:
                first = index + 1
        return first

    def _command(self, selection: list[str], window: TimeWindow, extra: list[str], nf_filter: str) -> list[str]:
        end = window.end + self.max_flow
        span = f"{_nfdump_time(window.start)}-{_nfdump_time(end)}"
        return [self.binary, *selection, "-t", span, "-q", "-N", "-6", *extra, nf_filter or "any"]

    def _stream(self, command: list[str]) -> Iterator[str]:
        """Lines of nfdump's stdout as they come; NfdumpError with its stderr when it fails."""
        env = dict(os.environ, TZ="UTC")
        try:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, bufsize=1 << 20
            )
        except OSError as exc:
            raise NfdumpError(f"cannot run nfdump: {exc}") from exc
        assert proc.stdout is not None and proc.stderr is not None
        _widen_pipe(proc.stdout.fileno())
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else ""), daemon=True)
        reader.start()
        try:
            yield from proc.stdout
        finally:
            proc.stdout.close()
            code = proc.wait()
            reader.join()
        if code != 0:
            message = "".join(errors).strip().splitlines()
            raise NfdumpError(f"nfdump failed ({code}): {message[-1] if message else ' '.join(command)}")

    def _records(self, exporters: Sequence[str], window: TimeWindow, nf_filter: str) -> Iterator[_Record]:
        """Records of `exporters` starting in [window.start, window.end) that pass `nf_filter`."""
        selection = self._selection(exporters, window)
        if selection is None:
            return
        if exporters:
            routers = " or ".join(f"router ip {self._exporter_address(name)}" for name in exporters)
            nf_filter = f"({routers}) and ({nf_filter})" if nf_filter else f"({routers})"
        start_ms, end_ms = _epoch_ms(window.start), _epoch_ms(window.end)
        addresses = _AddressCache()
        for line in self._stream(self._command(selection, window, ["-o", RECORD_FORMAT], nf_filter)):
            rec = _parse_line(line, addresses)
            if rec is not None and start_ms <= rec.start_ms < end_ms:
                yield rec

    # -- enrichment -------------------------------------------------------------------------------------

    def _lookup(self, version: int, value: int) -> tuple[int, str, str]:
        if self.enricher.is_empty:
            return (0, "", "")
        key = (version, value)
        known = self._enriched.get(key)
        if known is None:
            found = self.enricher.lookup(_address_text(version, value))
            known = self._enriched[key] = (found.asn, found.org, found.provider_class)
        return known

    # -- FlowBackend --------------------------------------------------------------------------------------

    def coverage(self, exporters: Sequence[str], window: TimeWindow) -> tuple[CoverageRow, ...]:
        counts = self._coverage_counts(exporters, window)
        if exporters:
            return tuple(CoverageRow(name, counts.get(name, 0)) for name in exporters)
        return tuple(CoverageRow(name, count) for name, count in sorted(counts.items()) if count)

    def _coverage_counts(
        self, exporters: Sequence[str], window: TimeWindow, *, total_only: bool = False
    ) -> dict[str, int]:
        """Records per exporter name starting in the window, counted by nfdump (never streamed into Python).

        count(first >= start) - count(first >= end), each from `_counts_from`. With `total_only` only
        the sum of the values matters (keyed "*"), which lets file statistics answer for whole files.
        """
        after_end = self._may_hold_records_after(exporters, window.end)
        total = self._counts_from(exporters, window.start, total_only=total_only)
        later = self._counts_from(exporters, window.end, total_only=total_only) if after_end else {}
        if total is None or later is None:
            # `-t` takes whole seconds: a fractional bound, counted per exporter, needs every record's time.
            counts: dict[str, int] = {}
            for rec in self._records(exporters, window, ""):
                name = self._exporter_name(rec.exporter_ip)
                counts[name] = counts.get(name, 0) + 1
            return counts
        for name, count in later.items():
            total[name] = total.get(name, 0) - count
        return total

    def _counts_from(self, exporters: Sequence[str], moment: datetime, *, total_only: bool) -> dict[str, int] | None:
        """Records per exporter (or "*" with `total_only`) with first >= `moment`; None: cannot count here.

        When one directory holds exactly the records to count (every exporter, or one exporter's
        `-n ident,IP,dir` subdirectory), the files that can only hold such records are counted from
        their statistics (`nfdump -I`: flows and first-seen, no record read) and only the few files
        around `moment` are read, with `-t moment -s router/flows`. Otherwise one `-s router/flows`
        pass with the router filter counts every selected file.
        """
        plan: list[tuple[Path, str]] | None = None
        if not exporters and total_only:
            plan = [(self.directory, "*")]
        elif exporters:
            subdirs = [self.exporters[name].subdir if name in self.exporters else None for name in exporters]
            shared = [exporter.subdir for exporter in self.exporters.values()]
            if all(subdirs) and all(shared.count(sub) == 1 for sub in subdirs):  # nfcapd -n: one source per dir
                plan = [(self.directory / str(sub), name) for name, sub in zip(exporters, subdirs, strict=True)]
        counts: dict[str, int] = {}
        for directory, name in plan or ():
            found = self._directory_count_from(directory, moment)
            if found is None:
                plan = None
                break
            counts[name] = counts.get(name, 0) + found
        if plan is not None:
            return counts
        if moment.microsecond:
            return None
        counted = self._router_counts(exporters, moment)
        return {"*": sum(counted.values())} if total_only and not exporters else counted

    def _directory_count_from(self, directory: Path, moment: datetime) -> int | None:
        """Records with first >= `moment` in one flat directory of nfcapd files; None when not flat.

        Files before the name-based selection cannot hold such records (see `_selection`). From the
        first file named at or after `moment`, suffixes are tried (1, 2, 4 ... files further on) until
        the statistics of the suffix say every record in it starts at or after `moment` (first-seen
        is a floor to the second, so that test is exact for whole-second bounds); the suffix is
        counted from those statistics and the files before it are read with `-t moment`.
        """
        files = self._files(directory)
        if any(os.sep in relative for _stamp, relative in files):
            return None
        if not files:
            return 0
        first = self._first_candidate(files, moment)
        whole = moment.replace(microsecond=0) + (timedelta(seconds=1) if moment.microsecond else timedelta())
        stamps = [stamp for stamp, _relative in files]
        index = max(first, bisect_left(stamps, moment))
        step = 1
        suffix = 0
        while index < len(files):
            stat = self._stat_range(directory, files[index][1], files[-1][1])
            if stat.get("Flows", 0) == 0 or stat.get("First", -1) >= int(whole.timestamp()):
                suffix = stat.get("Flows", 0)
                break
            index = min(len(files), index + step)
            step *= 2
        if index <= first:
            return suffix
        span = f"{directory}/{files[first][1]}:{files[index - 1][1]}"  # `-R dir/file` alone reads on to the end
        boundary = sum(self._router_counts_in(["-R", span], whole, "").values())
        if moment != whole:  # and the records of the fraction of a second before `whole`, by their start times
            low, high = _epoch_ms(moment), _epoch_ms(whole)
            command = [self.binary, "-R", span, "-t", _nfdump_time(moment), "-q", "-N", "-o", "fmt:%tsr", "any"]
            for line in self._stream(command):
                seconds, _, fraction = line.strip().partition(".")
                if seconds.isdigit():
                    start_ms = int(seconds) * 1000 + (int((fraction + "000")[:3]) if fraction else 0)
                    boundary += low <= start_ms < high
        return suffix + boundary

    def _stat_range(self, directory: Path, first: str, last: str) -> dict[str, int]:
        """`nfdump -I` over directory/first:last: summed Flows, earliest First, latest Last (file statistics)."""
        span = f"{directory}/{first}:{last}"  # `-R dir/file` alone would read on to the directory's end
        values: dict[str, int] = {}
        for line in self._stream([self.binary, "-R", span, "-I"]):
            key, _, value = line.partition(":")
            if value.strip().isdigit():
                values[key.strip()] = int(value.strip())
        return values

    def _stat(self, exporters: Sequence[str], window: TimeWindow) -> dict[str, int]:
        """`nfdump -I` over the selected files: Flows, First, Last from the file statistics (no record scan)."""
        selection = self._selection(exporters, window)
        if selection is None:
            return {}
        values: dict[str, int] = {}
        for line in self._stream([self.binary, *selection, "-I"]):
            key, _, value = line.partition(":")
            if value.strip().isdigit():
                values[key.strip()] = int(value.strip())
        return values

    def _may_hold_records_after(self, exporters: Sequence[str], moment: datetime) -> bool:
        """False when the files' last-seen time is before `moment`: no record can start at or after it."""
        last = self._stat(exporters, TimeWindow(moment, moment)).get("Last")
        return last is None or last >= int(moment.timestamp())

    def _router_counts(self, exporters: Sequence[str], start: datetime) -> dict[str, int]:
        """Records per exporter name with first >= `start` in the selected files, counted inside nfdump."""
        selection = self._selection(exporters, TimeWindow(start, start))
        if selection is None:
            return {}
        nf_filter = " or ".join(f"router ip {self._exporter_address(name)}" for name in exporters)
        return self._router_counts_in(selection, start, nf_filter)

    def _router_counts_in(self, selection: list[str], start: datetime, nf_filter: str) -> dict[str, int]:
        command = [self.binary, *selection, "-t", _nfdump_time(start), "-q", "-N", "-s", "router/flows", "-n", "0"]
        command += ["-o", "csv", nf_filter or "any"]
        counts: dict[str, int] = {}
        header: list[str] | None = None
        for line in self._stream(command):
            fields = [part.strip() for part in line.strip().split(",")]
            if header is None:
                if "val" in fields and "fl" in fields:
                    header = fields
                continue
            if len(fields) != len(header):
                continue
            row = dict(zip(header, fields, strict=True))
            name = self._exporter_name(row["val"])
            counts[name] = counts.get(name, 0) + int(row["fl"])
        return counts

    def _selector_filter(self, selector: FlowSelector) -> str | None:
        """nfdump filter keeping records that touch the affected or translated addresses (None: nothing can).

        Outbound records have a selected source (or a translated source / post-NAT source); returns a
        selected destination (or a translated destination / post-NAT destination). Post-NAT fields are
        only tested for translated addresses, which keeps the common filter a single `ip in [...]`.
        """
        translated = selector.translated if selector.translated is not None else AddressSet()
        local = selector.sources.union(translated)
        if not local.v4 and not local.v6:
            return None
        parts = [f"ip in [{_nfdump_list(local)}]"]
        if translated.v4 or translated.v6:
            listed = _nfdump_list(translated)
            parts += [f"src xip in [{listed}]", f"dst xip in [{listed}]"]
        return "(" + " or ".join(parts) + ")"

    def _summary(
        self, selector: FlowSelector, window: TimeWindow, *, with_pairs: bool = True
    ) -> tuple[dict[tuple[int, int], _RemoteAcc], dict[tuple[int, tuple[int, int]], _PairAcc], set[int]]:
        """One pass: per-remote-prefix accumulators, per (internal, prefix) pairs, outbound sources.

        Every streamed record costs Python time (which, on a busy machine, nfdump waits for), so the
        loop updates plain fields, and skips the per-pair work when the caller only needs prefixes.
        """
        remotes: dict[tuple[int, int], _RemoteAcc] = {}
        pairs: dict[tuple[int, tuple[int, int]], _PairAcc] = {}
        returns: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        sources: set[int] = set()
        nf_filter = self._selector_filter(selector)
        if nf_filter is None:
            return remotes, pairs, sources
        classify = _Classifier(selector)
        for rec in self._records(selector.exporters, window, nf_filter):
            hit = classify.outbound(rec)
            if hit is not None:
                internal, remote = hit
                key = _prefix(rec.version, remote)
                acc = remotes.get(key)
                if acc is None:
                    acc = remotes[key] = _RemoteAcc()
                out, ret = acc.out, acc.ret
                out.packets += rec.packets
                out.bytes += rec.bytes
                out.flows += 1
                if rec.rev_packets or rec.rev_bytes:
                    ret.packets += rec.rev_packets
                    ret.bytes += rec.rev_bytes
                    ret.flows += 1 if rec.rev_packets > 0 else 0
                acc.destinations.add(remote)
                if rec.bytes > acc.sample[0]:
                    acc.sample = (rec.bytes, remote)
                sources.add(internal)
                if not with_pairs:
                    continue
                pair = pairs.get((internal, key))
                if pair is None:
                    pair = pairs[(internal, key)] = _PairAcc()
                pair.out.add(rec.packets, rec.bytes)
                pair.ret.add(rec.rev_packets, rec.rev_bytes, 0)
                pair.remotes.add(remote)
                continue
            back = classify.inbound_return(rec)
            if back is not None:
                local, remote = back
                returns.setdefault(_prefix(rec.version, remote), []).append((local, rec.packets, rec.bytes))
        # Pair returns with prefixes (and, per pair, internal hosts) that sent outbound traffic in the window.
        for key, items in returns.items():
            acc = remotes.get(key)
            if acc is None:
                continue
            for local, packets, bytes_ in items:
                acc.ret.add(packets, bytes_)
                pair = pairs.get((local, key))
                if pair is not None:
                    pair.ret.add(packets, bytes_)
        return remotes, pairs, sources

    def _classes(self, version: int, addresses: set[int]) -> tuple[int, str, str]:
        """Per-field maximum of the enrichment of `addresses` (the SQL backends take max() per group)."""
        if self.enricher.is_empty:
            return (0, "", "")
        found = [self._lookup(version, address) for address in addresses]
        if not found:
            return (0, "", "")
        return (max(item[0] for item in found), max(item[1] for item in found), max(item[2] for item in found))

    def outbound_summary(self, selector: FlowSelector, window: TimeWindow) -> OutboundSummary:
        coverage_result: dict[str, dict[str, int]] = {}
        counter = threading.Thread(
            target=lambda: coverage_result.setdefault(
                "counts", self._coverage_counts(selector.exporters, window, total_only=not selector.exporters)
            ),
            daemon=True,
        )
        counter.start()  # nfdump counts the exporters' records while we stream the selected ones
        try:
            remotes, _pairs, sources = self._summary(selector, window, with_pairs=False)
        finally:
            counter.join()
        counts = coverage_result.get("counts", {})
        exporter_records = (
            sum(counts.get(name, 0) for name in selector.exporters) if selector.exporters else sum(counts.values())
        )
        rows: list[RemoteRow] = []
        destinations = 0
        for key, acc in remotes.items():
            version = key[0]
            sample = acc.sample[1]
            asn, org, provider = self._classes(version, acc.destinations)
            rows.append(
                RemoteRow(
                    prefix=_prefix_text(key),
                    asn=asn,
                    org=org,
                    provider_class=provider,
                    out=acc.out.counters(),
                    ret=acc.ret.counters(),
                    destinations=len(acc.destinations),
                    sample_address=_address_text(version, sample),
                )
            )
            destinations += len(acc.destinations)
        accs = remotes.values()
        out_total = Counters(
            sum(a.out.packets for a in accs), sum(a.out.bytes for a in accs), sum(a.out.flows for a in accs)
        )
        ret_total = Counters(
            sum(a.ret.packets for a in accs), sum(a.ret.bytes for a in accs), sum(a.ret.flows for a in accs)
        )
        rows.sort(key=lambda row: (-row.out.bytes, row.prefix))
        return OutboundSummary(
            window=window,
            exporter_records=exporter_records,
            out=out_total,
            ret=ret_total,
            distinct_sources=len(sources),
            distinct_destinations=destinations,
            remotes=tuple(rows),
        )

    def pair_summary(
        self, selector: FlowSelector, window: TimeWindow, *, min_out_packets: int = 1
    ) -> tuple[PairRow, ...]:
        _remotes, pairs, _sources = self._summary(selector, window)
        rows: list[PairRow] = []
        for (internal, key), pair in pairs.items():
            out, ret = pair.out, pair.ret
            if out.packets < min_out_packets:
                continue
            asn, org, provider = self._classes(key[0], pair.remotes)
            rows.append(
                PairRow(
                    internal=_address_text(key[0], internal),
                    prefix=_prefix_text(key),
                    asn=asn,
                    org=org,
                    provider_class=provider,
                    out=out.counters(),
                    ret=ret.counters(),
                )
            )
        rows.sort(key=lambda row: (-row.out.bytes, row.internal, row.prefix))
        return tuple(rows)

    def baseline_remotes(self, selector: FlowSelector, window: TimeWindow) -> BaselineRemotes:
        remotes, _pairs, _sources = self._summary(selector, window, with_pairs=False)
        asns = set()
        for key, acc in remotes.items():
            for address in acc.destinations:
                asn = self._lookup(key[0], address)[0]
                if asn:
                    asns.add(asn)
        return BaselineRemotes(frozenset(_prefix_text(key) for key in remotes), frozenset(asns))

    def destination_services(
        self, selector: FlowSelector, window: TimeWindow, *, top: int = 5
    ) -> tuple[ServiceRow, ...]:
        nf_filter = self._selector_filter(selector)
        if nf_filter is None:
            return ()
        classify = _Classifier(selector)
        services: dict[tuple[int, int, int], _Acc] = {}
        for rec in self._records(selector.exporters, window, nf_filter):
            hit = classify.outbound(rec)
            if hit is None:
                continue
            port = rec.nat_dst_port if rec.nat_dst and rec.nat_dst_port else rec.dst_port
            key = (rec.version, hit[1], port)
            acc = services.get(key)
            if acc is None:
                acc = services[key] = _Acc()
            acc.add(rec.packets, rec.bytes)
        return top_services(
            (
                ServiceRow(_address_text(version, address), port, acc.counters())
                for (version, address, port), acc in services.items()
            ),
            top,
        )

    def time_range(self, exporters: Sequence[str] = ()) -> tuple[datetime, datetime] | None:
        earliest = datetime(1970, 1, 1, tzinfo=UTC)
        window = TimeWindow(earliest, datetime(2200, 1, 1, tzinfo=UTC))
        low: int | None = None
        high: int | None = None
        for rec in self._records(exporters, window, ""):
            low = rec.start_ms if low is None else min(low, rec.start_ms)
            high = rec.start_ms if high is None else max(high, rec.start_ms)
        if low is None or high is None:
            return None
        return (
            datetime.fromtimestamp(low / 1000, tz=UTC),
            datetime.fromtimestamp(high / 1000, tz=UTC),
        )

    def close(self) -> None:
        """Only the enricher's ASN database is held open: nfdump runs once per query."""
        self.enricher.close()


__all__ = [
    "MIN_VERSION",
    "NfdumpBackend",
    "NfdumpError",
    "NfdumpExporter",
    "check_nfdump",
]
