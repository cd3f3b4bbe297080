"""Destination enrichment: AS number and organisation (MaxMind-format .mmdb) and provider class.

Provider class comes from, in order: a Tor exit list (tor-exit), provider range files the user drops in
(AWS ip-ranges.json, GCP cloud.json, one-CIDR-per-line lists such as Cloudflare's and Fastly's), then
the shipped table of well-known ASNs (cfgwatch/data/provider_asns.yaml) applied to the AS number the
.mmdb gives. Without an .mmdb there is no AS number: verdicts say so and only range files classify.
"""

from __future__ import annotations

import bisect
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from cfgwatch.errors import InputError
from cfgwatch.yamlio import parse_yaml

NO_ASN_DB_NOTE = "no ASN database configured (flows.asn_db): AS numbers unknown, provider class from range files only"


@dataclass(frozen=True, slots=True)
class Enrichment:
    asn: int = 0
    org: str = ""
    provider_class: str = ""


@lru_cache(maxsize=1)
def provider_asns() -> dict[int, tuple[str, str]]:
    """The shipped ASN -> (org, class) table."""
    table = resources.files("cfgwatch.data").joinpath("provider_asns.yaml")
    raw: dict[Any, Any] = parse_yaml(table.read_text(encoding="utf-8"), str(table)) or {}
    return {int(asn): (str(entry["org"]), str(entry["class"])) for asn, entry in raw.items()}


class RangeTable:
    """Sorted address ranges -> (org, class), looked up with bisect (per family)."""

    def __init__(self) -> None:
        self._entries: dict[int, list[tuple[int, int, str, str]]] = {4: [], 6: []}
        self._starts: dict[int, list[int]] = {4: [], 6: []}
        self._sorted = True

    def __len__(self) -> int:
        return len(self._entries[4]) + len(self._entries[6])

    def add(self, cidr: str, org: str, provider_class: str) -> None:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        self._entries[network.version].append(
            (int(network.network_address), int(network.broadcast_address), org, provider_class)
        )
        self._sorted = False

    def _sort(self) -> None:
        for version in (4, 6):
            # Most specific last among equal starts so bisect lands on it.
            self._entries[version].sort(key=lambda entry: (entry[0], -entry[1]))
            self._starts[version] = [entry[0] for entry in self._entries[version]]
        self._sorted = True

    def lookup(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str] | None:
        if not self._sorted:
            self._sort()
        value = int(address)
        entries = self._entries[address.version]
        index = bisect.bisect_right(self._starts[address.version], value) - 1
        # Walk back over ranges that start earlier but may still contain the address (nested ranges).
        steps = 0
        while index >= 0 and steps < 64:
            start, end, org, provider_class = entries[index]
            if start <= value <= end:
                return org, provider_class
            index -= 1
            steps += 1
        return None

    def load_file(self, path: Path) -> int:
        """AWS ip-ranges.json, GCP cloud.json, or a text list (one CIDR per line, '#' comments)."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read provider range file: {exc.strerror}", path=path) from exc
        before = len(self)
        name = path.stem.lower()
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"malformed JSON: {exc.msg}", path=path, line=exc.lineno) from exc
            if "prefixes" in data and "syncToken" in data:  # AWS ip-ranges.json
                for entry in data.get("prefixes", []):
                    self.add(entry["ip_prefix"], f"Amazon {entry.get('service', 'AWS')}", "cloud")
                for entry in data.get("ipv6_prefixes", []):
                    self.add(entry["ipv6_prefix"], f"Amazon {entry.get('service', 'AWS')}", "cloud")
            elif "prefixes" in data:  # GCP cloud.json / goog.json
                for entry in data["prefixes"]:
                    cidr = entry.get("ipv4Prefix") or entry.get("ipv6Prefix")
                    if cidr:
                        self.add(cidr, f"Google Cloud {entry.get('scope', '')}".strip(), "cloud")
            elif "addresses" in data or "ipv6_addresses" in data:  # Fastly public-ip-list JSON
                for cidr in [*data.get("addresses", []), *data.get("ipv6_addresses", [])]:
                    self.add(cidr, "Fastly", "cdn")
            else:
                raise InputError("unknown provider range JSON (expected AWS, GCP or Fastly layout)", path=path)
        else:
            org, provider_class = _text_list_identity(name)
            if provider_class == "tor-exit":
                raise InputError("Tor exit lists go in flows.tor_exits, not provider_ranges", path=path)
            for number, line in enumerate(text.splitlines(), start=1):
                item = line.split("#", 1)[0].strip()
                if not item:
                    continue
                try:
                    self.add(item, org, provider_class)
                except ValueError as exc:
                    raise InputError(f"not a CIDR: {item!r}", path=path, line=number) from exc
        return len(self) - before


def _text_list_identity(stem: str) -> tuple[str, str]:
    """Org and class of a plain CIDR list from its file name (cloudflare-ips-v4.txt, fastly.txt ...)."""
    for key, org, provider_class in (
        ("cloudflare", "Cloudflare", "cdn"),
        ("fastly", "Fastly", "cdn"),
        ("akamai", "Akamai", "cdn"),
        ("tor", "Tor exit", "tor-exit"),
        ("digitalocean", "DigitalOcean", "hosting"),
        ("hetzner", "Hetzner", "hosting"),
        ("ovh", "OVH", "hosting"),
        ("aws", "Amazon AWS", "cloud"),
        ("azure", "Microsoft Azure", "cloud"),
        ("oracle", "Oracle Cloud", "cloud"),
    ):
        if key in stem:
            return org, provider_class
    if stem.startswith(("cdn", "hosting", "cloud")):
        provider_class = stem.split("-", 1)[0].split("_", 1)[0]
        return stem, provider_class
    return stem, "hosting"


class Enricher:
    """Looks up destination addresses. Cheap to call repeatedly: results are cached per address."""

    def __init__(
        self,
        asn_db: Path | None = None,
        provider_ranges: Iterable[Path] = (),
        tor_exits: Path | None = None,
    ) -> None:
        self._reader: Any = None
        if asn_db is not None:
            import maxminddb

            try:
                self._reader = maxminddb.open_database(str(asn_db))
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot open ASN database: {exc}", path=asn_db) from exc
        self.ranges = RangeTable()
        for path in provider_ranges:
            self.ranges.load_file(Path(path))
        self.tor: frozenset[int] = frozenset()
        if tor_exits is not None:
            self.tor = frozenset(_read_address_list(tor_exits))
        self._cache: dict[str, Enrichment] = {}

    @property
    def is_empty(self) -> bool:
        """Nothing to look up with: enrichment would only produce blanks."""
        return self._reader is None and not len(self.ranges) and not self.tor

    @property
    def has_asn_db(self) -> bool:
        return self._reader is not None

    def notes(self) -> tuple[str, ...]:
        return () if self.has_asn_db else (NO_ASN_DB_NOTE,)

    def lookup(self, address: str, *, tor: bool = True) -> Enrichment:
        """AS, org and class of one address; `tor=False` skips the per-address Tor exit check."""
        key = address if tor else f"{address}|notor"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._lookup(address, tor)
        if len(self._cache) < 1_000_000:
            self._cache[key] = result
        return result

    def _lookup(self, text: str, tor: bool = True) -> Enrichment:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return Enrichment()
        if not ip.is_global:
            return Enrichment()
        asn = 0
        org = ""
        if self._reader is not None:
            record = self._reader.get(text)
            if isinstance(record, dict):
                asn, org = _asn_from_record(record)
        provider_class = ""
        if tor and int(ip) in self.tor:
            provider_class = "tor-exit"
        ranged = self.ranges.lookup(ip) if len(self.ranges) else None
        if ranged is not None:
            org = org or ranged[0]
            provider_class = provider_class or ranged[1]
        if asn and not provider_class:
            known = provider_asns().get(asn)
            if known is not None:
                org = org or known[0]
                provider_class = known[1]
        return Enrichment(asn, org, provider_class)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def _asn_from_record(record: dict[str, Any]) -> tuple[int, str]:
    """GeoLite2-ASN / DB-IP (autonomous_system_*), IPinfo (asn 'AS123', as_name / name)."""
    number: Any = record.get("autonomous_system_number")
    org: Any = record.get("autonomous_system_organization")
    if number is None and "asn" in record:
        number = record["asn"]
        org = record.get("as_name") or record.get("name") or record.get("as_domain")
    if isinstance(number, str):
        number = number.upper().removeprefix("AS")
    try:
        return int(number or 0), str(org or "")
    except (TypeError, ValueError):
        return 0, str(org or "")


def _read_address_list(path: Path) -> list[int]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read address list: {exc.strerror}", path=path) from exc
    values: list[int] = []
    for number, line in enumerate(lines, start=1):
        item = line.split("#", 1)[0].strip()
        if item.startswith("ExitAddress "):  # the Tor project's exit-addresses format
            item = item.split()[1]
        elif not item or " " in item:
            continue
        try:
            values.append(int(ipaddress.ip_address(item)))
        except ValueError as exc:
            raise InputError(f"not an address: {item!r}", path=path, line=number) from exc
    return values
