"""`sanitize:` settings of cfgwatch.yaml (light: cfgwatch.config imports it)."""

from __future__ import annotations

from pydantic import Field

from cfgwatch.section import Section

DEFAULT_MAX_CONFIG_BYTES = 64 * 1024 * 1024  # the biggest real configs (100k-line firewalls) are ~20 MB


class SanitizeSettings(Section):
    """`sanitize:` in cfgwatch.yaml."""

    # A config file bigger than this is refused with an error naming it: a hostile or broken 2 GB file
    # would otherwise cost ~6x its size in memory on the way to git, and land in the history for good.
    max_config_bytes: int = Field(default=DEFAULT_MAX_CONFIG_BYTES, ge=1024)
