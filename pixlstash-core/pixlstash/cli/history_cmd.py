"""``pixlstash undo|redo|history``: the undo history, shared with the browser (``history.db``)."""

from __future__ import annotations

import datetime as dt
import sys

import click

from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import open_library
from .output import Column, print_table

__all__ = ["history_command", "redo_command", "undo_command"]


def _replay(pm, library_path, as_json: bool, which: str) -> int:
    with open_library(library_path, pm) as library:
        step = library.edits.undo() if which == "undo" else library.edits.redo()
    if step is None:
        print(f"nothing to {which}", file=sys.stderr)
        return 1
    if as_json:
        print_json(step)
    else:
        print(f"{'undone' if which == 'undo' else 'redone'}: {step.label}")
    return 0


@click.command("undo", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def undo_command(pm, library_path, as_json) -> int:
    """Undo the newest edit (rating, tags, caption, membership, scrapheap, names, face names), whether it
    was made here or in the browser. Exits 1 when there is nothing to undo.

    \b
    Examples:
      pixlstash undo
      pixlstash history   (what undo and redo would do)
    """
    return _replay(pm, library_path, as_json, "undo")


@click.command("redo", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def redo_command(pm, library_path, as_json) -> int:
    """Make the last undone edit again (a new edit discards what could be redone). Exits 1 when there is
    nothing to redo."""
    return _replay(pm, library_path, as_json, "redo")


@click.command("history", cls=SectionedCommand)
@library_option
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="steps to show")
@json_option
@click.pass_obj
def history_command(pm, library_path, limit, as_json) -> int:
    """The undo history, newest step first. A snapshot restore starts it afresh."""
    with open_library(library_path, pm) as library:
        history = library.edits.history(limit)
    if as_json:
        print_json(history)
        return 0
    if not history.steps:
        print("nothing to undo yet")
        return 0
    print_table(
        [Column("ID", right=True), Column("WHEN"), Column("STATE"), Column("STEP", wide=True)],
        [
            (
                s.id,
                dt.datetime.fromtimestamp(s.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "undone" if s.undone else "done",
                s.label,
            )
            for s in history.steps
        ],
    )
    return 0
