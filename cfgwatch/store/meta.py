"""The small per-device meta file (meta/<device>.json) stored beside each config: platform + last-change metadata."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfgwatch.sanitize import ChangeMetadata


def encode_meta(platform: str | None, metadata: ChangeMetadata | None) -> bytes:
    """Stable bytes (sorted keys, one trailing newline) so identical meta gives an identical git blob."""
    doc: dict[str, Any] = {"platform": platform, "metadata": None}
    if metadata is not None:
        doc["metadata"] = {
            "user": metadata.user,
            "time": metadata.time.isoformat() if metadata.time is not None else None,
            "source": metadata.source,
            "raw": metadata.raw,
        }
    return (json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def decode_meta(data: bytes) -> tuple[str | None, ChangeMetadata | None]:
    """Platform and metadata back from a meta blob; tolerant of a hand-edited file missing keys."""
    doc = json.loads(data.decode("utf-8"))
    platform = doc.get("platform")
    raw_meta = doc.get("metadata")
    if not raw_meta:
        return platform, None
    from cfgwatch.sanitize import ChangeMetadata

    time = raw_meta.get("time")
    return platform, ChangeMetadata(
        user=raw_meta.get("user"),
        time=datetime.fromisoformat(time) if time else None,
        source=raw_meta.get("source", ""),
        raw=raw_meta.get("raw", ""),
    )
