"""Text for terminals and plain-text files: control characters from device text made visible.

A remark or user name in a device config is attacker-controlled. Written raw to a terminal, an ESC or a
C1 CSI (U+009B) starts an escape sequence that can recolour, hide or rewrite what the operator reads
(or set the window title); U+2028/U+0085 and bidi overrides make a line read as something it is not.
Every plain-text output shows them as `\\x9b`-style escapes instead; JSON output keeps the exact text.

Tables or lists: `Listing` rows show as a table only on a terminal at least `TABLE_MIN_COLUMNS` wide; below
that, and whenever stdout is not a terminal, as a list with one value per line, so ids and addresses are
never folded across lines or cut.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

# C0 except tab and newline, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character that could steer a terminal replaced by a visible escape."""
    return _UNSAFE.sub(_escape, text)


def fold(text: str, width: int) -> str:
    """`text` with every line longer than `width` broken at spaces only, continuation lines indented 4 more.

    For a terminal: left alone, the terminal itself would wrap a long line at the exact column, which cuts
    an address or id in two. Words (ids, addresses, ranges, hyphenated names) are never split; one longer
    than the line stays whole.
    """
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent="",
                subsequent_indent=indent + "    ",
                break_long_words=False,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
            or [line]
        )
    return "\n".join(out)


def echo(console: Console, text: str) -> None:
    """Write plain report text to the console's stream, folded at spaces when it is a terminal (`fold`)."""
    if console.is_terminal:
        text = fold(text, console.width)
    console.file.write(text)
    console.file.flush()


# --- tables or lists -------------------------------------------------------------------------------------

# Below this many columns a table squeezes its cells and folds ids and addresses across lines; pipes, cron
# mail and journald have no width at all. Both get the list layout.
TABLE_MIN_COLUMNS = 100


def wide(console: Console) -> bool:
    """Whether `console` gets tables: an interactive terminal at least TABLE_MIN_COLUMNS wide."""
    return console.is_terminal and console.width >= TABLE_MIN_COLUMNS


@dataclass(frozen=True, slots=True)
class Listing:
    """Rows under named columns: a table on a wide terminal, a list everywhere else (`show`).

    In the list layout every row is one item headed by its `head` column, then one `column: value` line
    per other non-empty cell (a cell with newlines continues on indented lines), so no id, address or
    device name is ever cut or folded across lines.
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    head: int = 0  # the column that names an item in the list layout
    keep: frozenset[str] = frozenset()  # table columns never wrapped (ids, addresses, names)
    right: frozenset[str] = frozenset()  # table columns aligned right (numbers)
    styles: tuple[tuple[int, int, str], ...] = ()  # (row, column, rich style) of a cell in the table

    def lines(self) -> list[str]:
        """The list layout, one string per line (printable: device text cannot steer the terminal)."""
        out = [printable(self.title)] if self.title else []
        for row in self.rows:
            out.append(f"* {printable(row[self.head])}")
            for index, (column, value) in enumerate(zip(self.columns, row, strict=True)):
                if index == self.head or not value:
                    continue
                first, *more = value.split("\n")  # a multi-line cell: one line per entry, indented under it
                out.append(f"    {column}: {printable(first)}")
                out.extend(f"      {printable(line)}" for line in more)
        return out

    def table(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=printable(self.title) or None)
        for index, column in self._shown():
            table.add_column(
                column,
                no_wrap=column in self.keep,
                overflow="fold",
                min_width=self._min_width(index),
                justify="right" if column in self.right else "left",
            )
        style = {(row, column): value for row, column, value in self.styles}
        for number, row in enumerate(self.rows):
            table.add_row(
                *(Text(printable(row[index]), style=style.get((number, index), "")) for index, _ in self._shown())
            )
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Inside a rich renderable: the table when it fits the space given, else the list layout."""
        from rich.text import Text

        if self.fits(options.max_width):
            yield self.table()
            return
        for line in self.lines():
            yield Text(line, no_wrap=True, overflow="ignore")

    def _shown(self) -> list[tuple[int, str]]:
        """The columns with a value in some row (an all-empty column is left out of the table)."""
        return [(index, column) for index, column in enumerate(self.columns) if any(row[index] for row in self.rows)]

    def _min_width(self, index: int) -> int:
        """Kept columns: their longest cell; others: their longest word (an id, address or name), at most 40."""
        cells = [row[index] for row in self.rows]
        words = [self.columns[index], *cells] if self.columns[index] in self.keep else [*cells, self.columns[index]]
        if self.columns[index] in self.keep:
            return max(len(printable(cell)) for cell in words)
        return min(40, max((len(word) for cell in words for word in cell.split()), default=1))

    def fits(self, width: int) -> bool:
        """Whether the table's narrowest form (kept columns whole, others at their longest word) fits `width`."""
        shown = self._shown()
        return sum(self._min_width(index) for index, _ in shown) + 3 * len(shown) + 1 <= width


def show(console: Console, listing: Listing) -> None:
    """Print `listing` as a table on a wide terminal it fits, else as a list that never wraps (`wide`)."""
    if wide(console) and listing.fits(console.width):
        console.print(listing.table())
        return
    echo(console, "".join(line + "\n" for line in listing.lines()))
