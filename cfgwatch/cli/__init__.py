"""The command line: a thin typer layer over one `cfgwatch.project.Project` per invocation (see cli.common).

Exit codes: 0 clean, 1 findings, 2 error, 70 internal error (a crash: a bug, traceback on stderr).

Each area registers its commands from its own module (`register(app)`); cfgwatch.cli.lazy lists them
so that a command's module is imported only when that command runs.
"""

from __future__ import annotations

import errno
import sys
import traceback
from typing import Annotated, NoReturn

import typer

from cfgwatch import __version__
from cfgwatch.cli import common
from cfgwatch.cli.common import State
from cfgwatch.cli.lazy import LazyGroup
from cfgwatch.errors import EXIT_INTERNAL, CfgwatchError

app = typer.Typer(
    name="cfgwatch",
    help=(
        "Watch router and firewall configs for NAT, ACL and port-forward changes that relay internal "
        "traffic to Internet proxies (MITRE ATT&CK T1090.002), and check whether they carried traffic."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cfgwatch {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", help="Path to cfgwatch.yaml (default ./cfgwatch.yaml, env CFGWATCH_CONFIG)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = State(config_arg=config)


def main() -> None:
    """Console entry point: bad input and store errors become one line on stderr and exit code 2."""
    try:
        # without standalone mode click returns a command's typer.Exit code instead of exiting
        code = app(standalone_mode=False)
    except CfgwatchError as exc:
        common.err_console.print(f"error: {_printable(str(exc))}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        common.err_console.print("aborted", markup=False)
        sys.exit(130)
    except KeyboardInterrupt:
        common.err_console.print("interrupted", markup=False)
        sys.exit(130)
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            crash(exc)
        # A full disk, a quota, a read-only or failing filesystem: the machine's state, not a bug.
        where = f"{_printable(str(exc.filename))}: " if exc.filename else ""
        common.err_console.print(f"error: {where}{exc.strerror}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except Exception as exc:
        # click usage errors (typer vendors click in new releases) print themselves and carry exit code 2
        show = getattr(exc, "show", None)
        code = getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        crash(exc)
    sys.exit(code if isinstance(code, int) else 0)


def _printable(text: str) -> str:
    """cfgwatch.terminal.printable, loaded on an error path only (`--help` and `--version` never need it)."""
    from cfgwatch.terminal import printable as make_printable

    return make_printable(text)


# OSError numbers that describe the machine (space, quota, permissions, a failing disk), never a bug.
ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO, errno.EACCES, errno.EPERM, errno.EMFILE}
)


def crash(exc: BaseException) -> NoReturn:
    """A bug: the traceback and one `internal error:` line on stderr, exit EXIT_INTERNAL (never 1).

    Python exits 1 on an uncaught exception, the code `nightly` uses for findings (which the systemd unit
    counts as success): a crash must not look like a night with findings.
    """
    traceback.print_exception(exc, file=sys.stderr)
    message = _printable(str(exc))
    print(f"internal error: {type(exc).__name__}: {message} (a bug in cfgwatch; please report it)", file=sys.stderr)
    sys.exit(EXIT_INTERNAL)
