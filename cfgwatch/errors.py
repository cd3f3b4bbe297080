"""One exception family for bad input and bugs; per-device outcomes and findings are data, not exceptions."""

from __future__ import annotations

from pathlib import Path

# Exit code of a crash (an unexpected exception: a bug), sysexits' EX_SOFTWARE. Distinct from 1 (findings),
# which the systemd unit counts as success, and from Python's own 1 for an uncaught exception.
EXIT_INTERNAL = 70


class CfgwatchError(Exception):
    """Base of every cfgwatch exception. The CLI turns it into one line on stderr and exit code 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            if self.key is not None:
                where += f": key '{self.key}'"
            where += ": "
        elif self.key is not None:
            where = f"key '{self.key}': "
        return f"{where}{self.message}"


class InputError(CfgwatchError):
    """A file, argument or option that cfgwatch cannot use as given."""


class ConfigError(InputError):
    """cfgwatch.yaml or an inventory file is missing, malformed or invalid."""


class StoreError(CfgwatchError):
    """The snapshot repository is missing, not a git repository, or cannot be written."""


class LockedError(StoreError):
    """Another cfgwatch run holds the lock on the snapshot repository."""


class ParseError(CfgwatchError):
    """A parser met input it cannot read at all (unmodelled lines become diagnostics instead)."""


class UnknownPlatformError(InputError):
    """A platform name that no registered parser or collector knows."""
