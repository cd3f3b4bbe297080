"""The CLI's two consoles (stdout for results, stderr for the rest), made the first time something prints.

Why a module of their own: rich.console costs about half as much to import as typer itself, and `--version`
and shell completion never print through them; cfgwatch.cli.common hands them out on first use (its module
`__getattr__`), so only what prints (a command, a help screen, an error) pays for rich.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from cfgwatch.terminal import fold, printable


class PlainConsole(Console):
    """The CLI's consoles: every string printed is made printable (device names, remarks and error texts
    are device-derived; cfgwatch.terminal), so none can send an escape sequence to the operator's terminal.
    A soft-wrapped line (one rich must not wrap: it holds paths, ids, addresses) is folded at spaces on a
    terminal, so the terminal never has to cut it inside a word (`cfgwatch.terminal.fold`)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        texts = [printable(item) if isinstance(item, str) else item for item in objects]
        if kwargs.get("soft_wrap") and self.is_terminal:
            texts = [fold(item, self.width) if isinstance(item, str) else item for item in texts]
        super().print(*texts, **kwargs)


console = PlainConsole(highlight=False)
err_console = PlainConsole(stderr=True, highlight=False)
