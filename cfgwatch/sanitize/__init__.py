"""Sanitizing: every config passes through here before it is written to the snapshot repository.

Secrets become stable keyed-fingerprint markers (``<redacted:hmac:...>``), volatile lines are
normalised so an unchanged device never produces a commit, and the last-change metadata in those
lines (who/when) is kept as data. See docs in :mod:`cfgwatch.sanitize.marker` for the marker forms.
"""

from __future__ import annotations

from cfgwatch.sanitize.engine import MAX_LINE, Sanitized, sanitize
from cfgwatch.sanitize.key import load_or_create_key
from cfgwatch.sanitize.marker import MARKER_RE, is_marker
from cfgwatch.sanitize.metadata import ChangeMetadata
from cfgwatch.sanitize.rules import canonical_platform

__all__ = [
    "MARKER_RE",
    "MAX_LINE",
    "ChangeMetadata",
    "Sanitized",
    "canonical_platform",
    "is_marker",
    "load_or_create_key",
    "sanitize",
]
