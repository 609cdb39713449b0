"""Undo and redo at scale: a bulk edit of every picture recorded as one step, then undone and redone.

    .venv/bin/python benchmarks/synthetic_library.py .bench/undo100k --pictures 100000 \\
        --tags-per-picture 2 --sets 50 --characters 10
    .venv/bin/python benchmarks/bench_undo.py .bench/undo100k

For a rating (half the pictures already had another one), a new tag and membership of a set, on every
picture: the edit with its recording against the same edit unrecorded, the step's size in history.db,
and undo and redo, each checked against what the pictures held before. The library is left as it was.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pixlstash-core"))

from pixlstash.domain import PictureFilter  # noqa: E402
from pixlstash.library import Library  # noqa: E402


def timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    args = parser.parse_args()
    with Library.open(args.library) as library:
        ids = library.query.ids(PictureFilter(), limit=10_000_000)
        edits, db = library.edits, library.db
        print(f"{len(ids):,} pictures")
        ratings = lambda: db.query("SELECT id, rating FROM pictures ORDER BY id")  # noqa: E731
        plain = timed(lambda: library.edits.set_fields(ids, rating=3))
        library.edits.set_fields(ids[::2], rating=1)
        before = ratings()
        keep = library.organise.create_collection("set", f"bench-undo-{time.time_ns()}")
        cases = [
            ("rate every picture", lambda: edits.set_fields(ids, rating=5), lambda: ratings() == before),
            ("tag every picture", lambda: edits.tag(ids, add=["bench-undo"]), lambda: _tagged(library) == 0),
            (
                "add every picture to a set",
                lambda: edits.add_members(keep.id, ids),
                lambda: _members(library, keep.id) == 0,
            ),
        ]
        print(f"unrecorded rating of every picture (for comparison): {plain:.2f} s")
        for name, edit, undone_ok in cases:
            size = library.history_log.path.stat().st_size if library.history_log.path.exists() else 0
            made = timed(edit)
            grown = library.history_log.path.stat().st_size - size
            undo = timed(edits.undo)
            assert undone_ok(), f"undo of {name} did not put everything back"
            redo = timed(edits.redo)
            again = timed(edits.undo)
            assert undone_ok()
            print(
                f"{name}: edit and record {made:.2f} s, history.db +{grown / 1e6:.2f} MB, "
                f"undo {undo:.2f} s, redo {redo:.2f} s, undo again {again:.2f} s"
            )
        library.organise.delete_collection(keep.id)
        library.history_log.clear()


def _tagged(library) -> int:
    return library.db.scalar(
        "SELECT count(*) FROM picture_tags JOIN tags t ON t.id = tag_id WHERE t.name = 'bench-undo'"
    )


def _members(library, collection_id: int) -> int:
    return library.db.scalar("SELECT count(*) FROM collection_members WHERE collection_id = ?", (collection_id,))


if __name__ == "__main__":
    main()
