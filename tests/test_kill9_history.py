"""kill -9 between an edit and its undo step: the two live in two files (library.db, history.db), and
a process killed between the writes left a bulk edit with no step, an undo applied but not recorded, and
steps from before a restore that then overwrote what the restore brought back.

Each test kills a real child process with SIGKILL at the worst moment: when it is about to write the
history, after the library has committed. The child is this repository's code, unchanged, with only
that one method replaced by a kill.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from live_server import make_pictures

from pixlstash.library import Library

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}


def _killed_while(root: Path, kill_at: str, action: str) -> None:
    """Run ``action`` on the library in a child that SIGKILLs itself when ``kill_at`` is called."""
    owner, name = kill_at.rsplit(".", 1)
    module, cls = owner.rsplit(".", 1)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pixlstash.library import Library
        from pixlstash.system.events import Event
        import {module} as target

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        library = Library.open({str(root)!r})
        picture_ids = [row[0] for row in library.db.query("SELECT id FROM pictures ORDER BY id")]
        setattr(target.{cls}, {name!r}, die)
        {action}
        raise SystemExit("not killed")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


def _ratings(library: Library) -> list[int]:
    return [library.get(i).rating for i in sorted(r[0] for r in library.db.query("SELECT id FROM pictures"))]


def test_a_bulk_edit_killed_before_its_step_was_written_still_undoes(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        make_pictures(library, tmp_path / "p", 4)
    _killed_while(root, "pixlstash.db.history_log.HistoryLog.push", "library.edits.set_fields(picture_ids, rating=3)")
    with Library.open(root) as library:
        assert _ratings(library) == [3, 3, 3, 3]  # the edit committed
        history = library.edits.history()
        assert [s.label for s in history.steps] == ["Rate 4 pictures ★★★"]  # and so did its step
        library.edits.undo()
        assert _ratings(library) == [0, 0, 0, 0]
        assert library.db.scalar("SELECT count(*) FROM history_outbox") == 0


def test_an_undo_killed_before_it_was_recorded_is_recorded(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        ids = make_pictures(library, tmp_path / "p", 2)
        library.edits.set_fields(ids, rating=2)
        library.edits.set_fields(ids, rating=5)
    _killed_while(root, "pixlstash.db.history_log.HistoryLog.mark", "library.edits.undo()")
    with Library.open(root) as library:
        assert _ratings(library) == [2, 2]  # the undo committed
        history = library.edits.history()
        assert [(s.label, s.undone) for s in history.steps] == [
            ("Rate 2 pictures ★★★★★", True),
            ("Rate 2 pictures ★★", False),
        ]
        library.edits.undo()  # the next undo is the one before, not the same one again
        assert _ratings(library) == [0, 0]
        library.edits.redo()
        library.edits.redo()
        assert _ratings(library) == [5, 5]


def test_a_restore_killed_before_the_history_was_cleared_leaves_no_step_to_undo(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        ids = make_pictures(library, tmp_path / "p", 2)
        library.edits.set_fields(ids, rating=1)
        snapshots = library.new_snapshot_service()
        snapshot = snapshots.take()
        snapshots.close()
        library.edits.set_fields(ids, rating=4)
        library.edits.set_fields(ids, rating=5)
    # The moment the restore has committed and tells the library about it (the history is cleared then).
    restore = f"library.new_snapshot_service().restore({snapshot.id})"
    _killed_while(root, "pixlstash.system.events.EventBus.publish", restore)
    with Library.open(root) as library:
        assert _ratings(library) == [1, 1]  # restored
        history = library.edits.history()
        assert (history.steps, history.can_undo, history.can_redo) == ([], False, False)
        assert library.edits.undo() is None  # nothing from before the restore overwrites it
        assert _ratings(library) == [1, 1]


def test_a_selective_restore_killed_before_the_history_was_cleared_leaves_no_step_to_undo(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        a, b = make_pictures(library, tmp_path / "p", 2)
        snapshots = library.new_snapshot_service()
        snapshot = snapshots.take()
        snapshots.close()
        library.edits.set_fields([a, b], rating=4)
    restore = f"library.new_snapshot_service().restore_batch({snapshot.id}, [RestoreResource('picture', {a})])"
    _killed_while(
        root, "pixlstash.system.events.EventBus.publish", "from pixlstash.snapshots import RestoreResource; " + restore
    )
    with Library.open(root) as library:
        assert _ratings(library) == [0, 4]
        assert library.edits.history().steps == []
        assert library.edits.undo() is None
        assert _ratings(library) == [0, 4]
