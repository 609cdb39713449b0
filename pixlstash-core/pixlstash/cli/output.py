"""What the CLI shows people: tables, counted words, progress bars and spinners.

On a terminal tables and progress are drawn with rich; in a pipe or a log the same content comes as
plain aligned lines, and progress as a line every few seconds (``PIXLSTASH_PROGRESS_SECONDS``), so a
script's output never holds cursor movements. Cell text has its control characters escaped first.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from .common import escape_controls, terminal

__all__ = ["Column", "Progress", "Spinner", "counted", "human_bytes", "print_table", "stars"]


def counted(count: int, word: str, plural: str | None = None) -> str:
    """``1 picture``, ``2 pictures``, ``0 pictures``."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - unreachable, the loop returns at GB


def human_duration(seconds: float) -> str:
    """A wait as people say it: 45 s, 12 min, 3 h 20 min."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def stars(rating: int | None) -> str:
    return "*" * rating if rating else "-"


class Column:
    """A table column: a title, and whether its cells align right (numbers)."""

    def __init__(self, title: str, *, right: bool = False, wide: bool = False) -> None:
        self.title, self.right, self.wide = title, right, wide


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[object]], stream: TextIO | None = None) -> None:
    """A table with a header: drawn by rich on a terminal, aligned plain lines otherwise."""
    stream = stream or sys.stdout
    cells = [[escape_controls(str(cell)) for cell in row] for row in rows]
    if stream.isatty():
        _rich_table(columns, cells, terminal(stream))
        return
    widths = [max([len(c.title), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    for row in [[c.title for c in columns], *cells]:
        parts = [cell.rjust(widths[i]) if columns[i].right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        stream.write("  ".join(parts).rstrip() + "\n")


def _rich_table(columns: Sequence[Column], cells: list[list[str]], out: TextIO) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(
            column.title, justify="right" if column.right else "left", overflow="fold", no_wrap=not column.wide
        )
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    Console(file=out, highlight=False).print(table)


class Progress:
    """Progress of a long command on standard error: a live bar with counts and rate on a terminal,
    a line every few seconds otherwise. ``total`` may be unknown (a folder still being read).

    >>> with Progress("importing", unit="files") as progress:
    ...     progress.update(done=10)
    """

    def __init__(self, label: str, total: int | None = None, unit: str = "pictures") -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.started = time.monotonic()
        self._every = float(os.environ.get("PIXLSTASH_PROGRESS_SECONDS", "2"))
        self._last_line = self.started
        self._live = None
        self._task = None

    def __enter__(self) -> Progress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._live = RichProgress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}", markup=False),
                TimeElapsedColumn(),
                console=Console(file=terminal(sys.stderr)),
                transient=True,
            )
            self._live.start()
            self._task = self._live.add_task(escape_controls(self.label), total=self.total, rate="")
        return self

    def update(self, done: int | None = None, total: int | None = None, advance: int = 0) -> None:
        self.done = done if done is not None else self.done + advance
        if total is not None:
            self.total = total
        if self._live is not None:
            self._live.update(self._task, completed=self.done, total=self.total, rate=self._rate())
            return
        now = time.monotonic()
        if now - self._last_line >= self._every:
            self._last_line = now
            print(self._line(), file=sys.stderr, flush=True)

    def _rate(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"{self.done / elapsed:.1f} {self.unit}/s" if elapsed > 0.5 and self.done else ""

    def _line(self) -> str:
        of = f"/{self.total:,}" if self.total is not None else ""
        rate = self._rate()
        return f"{self.label}: {self.done:,}{of} {self.unit}" + (f" ({rate})" if rate else "")

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.stop()


class Spinner:
    """For work whose size is not known in advance (a snapshot, a rescan): a spinner with the elapsed
    time on a terminal, one line saying what runs otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._status = None

    def __enter__(self) -> Spinner:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.text import Text

            self._status = Console(file=terminal(sys.stderr)).status(Text(escape_controls(self.label)))
            self._status.start()
        else:
            print(f"{self.label} ...", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()
