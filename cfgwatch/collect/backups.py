"""The folder layouts of the backup tools cfgwatch takes over from: Oxidized and RANCID.

Why a module of its own: a folder (or a git tree) written by those tools holds more than configs, and a
README or a `router.db` committed as a "device" is noise in every later audit. Both the folder import
and the git-history replay classify each path with the same rules here:

- Oxidized, file or git output: `DEVICE` at the top (no groups) or `GROUP/DEVICE` (groups, also
  `single_repo: true` git output).
- RANCID: `GROUP/configs/DEVICE` (or `configs/DEVICE` for one group), with the group's `router.db`
  beside `configs/`; everything else in a RANCID group (router.db, routers.*, logs/, status files) is
  bookkeeping.
- Never a device: hidden files and folders (.git, .cvsignore, CVS/, .svn), README/LICENSE/*.md, router.db.

Platforms come from the backup tool's own vocabulary where it has one: RANCID's device type (router.db
`name;type;state`, or the `!RANCID-CONTENT-TYPE:` header) and Oxidized's model (router.db `name:model`,
Oxidized's documented default map). Names that map to no registered platform are left to detection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cfgwatch.errors import InputError

RANCID_CONFIGS = "configs"
# Extensions that are dropped from a file name to form the device name (`rtr1.cfg` is `rtr1`, while
# `rtr1.example.net` keeps its dots).
CONFIG_SUFFIXES = frozenset({".cfg", ".conf", ".config", ".txt", ".rsc", ".set", ".xml", ".json", ".log", ".rtf"})

# Files that document or drive a backup tool, never a device's config.
_NOT_CONFIG_NAMES = frozenset(
    {
        "router.db",
        "routers.all",
        "routers.up",
        "routers.down",
        "readme",
        "license",
        "copying",
        "makefile",
        "rancid.conf",
        "cloginrc",
        ".cloginrc",
    }
)
_NOT_CONFIG_SUFFIXES = frozenset({".md", ".rst", ".db", ".lock", ".orig", ".rej", ".swp", ".bak", ".tmp"})
# Folders a version-control system or RANCID keeps next to configs.
_NOT_CONFIG_DIRS = frozenset({"CVS", "RCS", "logs", "old", "attic"})

# Oxidized model names (lib/oxidized/model/*.rb) -> cfgwatch platform.
OXIDIZED_MODELS: dict[str, str] = {
    "ios": "cisco_ios",
    "iosxe": "cisco_ios",
    "iosxr": "cisco_xr",
    "nxos": "cisco_nxos",
    "asa": "cisco_asa",
    "eos": "arista_eos",
    "junos": "juniper_junos",
    "fortios": "fortinet",
    "fortigate": "fortinet",
    "panos": "paloalto_panos",
    "panos_api": "paloalto_panos",
    "routeros": "mikrotik_routeros",
    "vyos": "vyos",
    "vyatta": "vyos",
    "edgeos": "vyos",
}

# RANCID device types (etc/rancid.types.base) -> cfgwatch platform. RANCID's "cisco" covers IOS and the
# ASA/PIX family alike, so it only narrows detection to the Cisco family (see CISCO_FAMILY).
RANCID_TYPES: dict[str, str] = {
    "cisco-nx": "cisco_nxos",
    "cisco-xr": "cisco_xr",
    "cisco-xe": "cisco_ios",
    "cisco-asa": "cisco_asa",
    "asa": "cisco_asa",
    "arista": "arista_eos",
    "juniper": "juniper_junos",
    "juniper-srx": "juniper_junos",
    "fortigate": "fortinet",
    "paloalto": "paloalto_panos",
    "mikrotik": "mikrotik_routeros",
    "vyatta": "vyos",
    "vyos": "vyos",
    "edgerouter": "vyos",
}
CISCO_FAMILY = "cisco"

_CONTENT_TYPE_RE = re.compile(r"^[!#]RANCID-CONTENT-TYPE:\s*(\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class DevicePath:
    """A path that holds one device's config: its device name and the backup tool's group (if any)."""

    path: str
    name: str
    group: str | None
    layout: str  # "flat" | "oxidized" | "rancid"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A path that is not a device config, and why (listed to the user, never committed)."""

    path: str
    reason: str


def _suffix(name: str) -> str:
    """PurePosixPath(name).suffix without building a path (classifying 5,000 files is on every import)."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def _parts(path: str) -> tuple[str, ...]:
    """PurePosixPath(path).parts of a relative path, by splitting (empty and "." parts dropped like pathlib)."""
    return tuple(part for part in path.split("/") if part and part != ".")


def device_name(file_name: str) -> str:
    """Device name for a file name: without a known config extension."""
    name = file_name.rsplit("/", 1)[-1]
    suffix = _suffix(name)
    return name[: -len(suffix)] if suffix and suffix.lower() in CONFIG_SUFFIXES else name


def _skip_reason(parts: tuple[str, ...]) -> str | None:
    """Why a path is no device config regardless of layout, or None."""
    for folder in parts[:-1]:
        if folder.startswith("."):
            return f"inside hidden folder {folder}/"
        if folder in _NOT_CONFIG_DIRS:
            return f"inside {folder}/"
    name = parts[-1]
    lowered = name.lower()
    if name.startswith("."):
        return "hidden file"
    if lowered in _NOT_CONFIG_NAMES or lowered.split(".")[0] in {"readme", "license", "changelog"}:
        return "backup-tool or documentation file"
    if _suffix(lowered) in _NOT_CONFIG_SUFFIXES:
        return "backup-tool or documentation file"
    return None


def classify_paths(
    paths: Iterable[str], *, strip_suffix: bool = True, unique: bool = True
) -> tuple[list[DevicePath], list[Skipped]]:
    """Split relative POSIX paths (of a folder or a git tree) into device configs and skipped files.

    A folder that holds a `configs/` sub-folder is a RANCID group: only `configs/*` are devices there.
    In one folder, device names must be unique across groups: two paths for one name are bad input.
    Across a git history (unique=False) a device may move between groups.
    """
    all_paths = sorted(set(paths))
    rancid_groups = set()
    for path in all_paths:
        parts = _parts(path)
        if RANCID_CONFIGS in parts[:-1]:
            rancid_groups.add(parts[: parts.index(RANCID_CONFIGS)])
    devices: list[DevicePath] = []
    skipped: list[Skipped] = []
    for path in all_paths:
        parts = _parts(path)
        reason = _skip_reason(parts)
        if reason is not None:
            skipped.append(Skipped(path, reason))
            continue
        if RANCID_CONFIGS in parts[:-1]:
            at = parts.index(RANCID_CONFIGS)
            if at != len(parts) - 2:
                skipped.append(Skipped(path, "below a RANCID configs/ folder"))
                continue
            group = parts[at - 1] if at >= 1 else None
            layout = "rancid"
        elif any(parts[:depth] in rancid_groups for depth in range(len(parts))):
            skipped.append(Skipped(path, "RANCID group file outside configs/"))
            continue
        elif len(parts) == 1:
            group, layout = None, "flat"
        elif len(parts) == 2:
            group, layout = parts[0], "oxidized"
        else:
            skipped.append(Skipped(path, "nested deeper than GROUP/DEVICE"))
            continue
        name = device_name(parts[-1]) if strip_suffix else parts[-1]
        devices.append(DevicePath(path, name, group, layout))
    seen: dict[str, str] = {}
    for device in devices if unique else ():
        key = device.name.lower()
        if key in seen:
            raise InputError(f"two files for device '{device.name}': {seen[key]} and {device.path}")
        seen[key] = device.path
    return devices, skipped


def router_db_types(text: str) -> dict[str, str]:
    """Device name (lower case) -> the tool's type/model name, from a RANCID or Oxidized router.db.

    RANCID 3 writes `name;type;state[;comment]`, RANCID 2 `name:type:state`; Oxidized's documented CSV
    source map is `name:model`. In all three the type is the second field. Comment and blank lines are
    skipped; a line without a second field names no type.
    """
    types: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(";") if ";" in line else line.split(":")
        if len(fields) >= 2 and fields[0].strip() and fields[1].strip():
            types[fields[0].strip().lower()] = fields[1].strip().lower()
    return types


def rancid_content_type(text: str) -> str | None:
    """The `!RANCID-CONTENT-TYPE: TYPE` header RANCID writes at the top of each saved config."""
    found = _CONTENT_TYPE_RE.search(text[:4096])
    return found.group(1).lower() if found else None


def tool_platform(tool_type: str, known_platforms: frozenset[str]) -> str | None:
    """A registered cfgwatch platform for an Oxidized model / RANCID type, or CISCO_FAMILY, or None."""
    tool_type = tool_type.lower()
    if tool_type in known_platforms:
        return tool_type
    mapped = OXIDIZED_MODELS.get(tool_type) or RANCID_TYPES.get(tool_type)
    if mapped is not None:
        return mapped if mapped in known_platforms else None
    if tool_type == CISCO_FAMILY:
        return CISCO_FAMILY
    return None
