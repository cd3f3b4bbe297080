"""The `cfgwatch` console script: the CLI, plus a crash while importing it exits EXIT_INTERNAL, not 1.

Importing cfgwatch.cli imports every command module (and numpy, pydantic, ...); a broken install fails
there, before `cfgwatch.cli.main` can catch anything, and Python would exit 1, which `nightly`'s systemd
unit counts as a night with findings. This module imports nothing heavy before its guard is in place.
"""

from __future__ import annotations

import sys
import traceback

from cfgwatch.errors import EXIT_INTERNAL


def main() -> None:
    try:
        from cfgwatch.cli import main as cli_main
    except Exception as exc:  # a broken install or a bug at import time
        traceback.print_exception(exc, file=sys.stderr)
        print(f"internal error: cannot load cfgwatch: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
    cli_main()
