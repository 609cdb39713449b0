"""Undo steps that commit with the edits they describe, across the library's and the history's files.

An edit writes its step to the library's outbox inside its own transaction (``push``, ``mark``); once
it has committed, ``deliver`` moves the outbox into ``history.db``. A process killed in between leaves
the row in the outbox, and the next ``deliver`` (every history read, and opening the library) finishes
the job. A history that does not know the library's mark (after a snapshot restore, or a crash in the
middle of one) is cleared: steps from before a restore must never be undone over what it brought back.
See db/history_outbox.py for the chain of marks that makes this safe to repeat.
"""

from __future__ import annotations

import logging
import threading

from ..db.history_log import HistoryLog, Whose
from ..db.history_outbox import HistoryOutbox, OutboxRow
from ..pictures.visibility import current_audience

__all__ = ["UndoJournal"]

log = logging.getLogger(__name__)


class UndoJournal:
    def __init__(self, outbox: HistoryOutbox, history: HistoryLog) -> None:
        self.outbox, self.history = outbox, history
        self._lock = threading.Lock()

    # -- inside an edit's transaction ---------------------------------------------------------------

    def push(self, label: str, count: int, parts: list[dict], created_at: int) -> None:
        audience = current_audience()
        by = None if audience is None else audience.user_id
        self.outbox.append({"push": [label, count, parts, created_at], "by": by})

    @staticmethod
    def whose() -> Whose | None:
        """Whose steps undo, redo and the history read: the undo history is each person's own. A step records
        the account it was made for; the owner's steps include those of no account (the command line, and
        steps from before accounts). Work for no account in particular (the command line) reads everyone's."""
        audience = current_audience()
        return None if audience is None else Whose(audience.user_id, with_unowned=audience.is_owner)

    def mark(self, step_id: int, undone: bool) -> None:
        self.outbox.append({"mark": [step_id, undone]})

    # -- after it committed -------------------------------------------------------------------------

    def deliver(self) -> None:
        """Bring the history up to the library's mark: apply what the outbox holds, or clear it."""
        with self._lock:
            library_mark, rows = self.outbox.pending()
            if not rows and library_mark == self.history.synced_mark():
                return  # the common case: one small read of each file
            with self.history.db.write():
                reached = self.history.synced_mark()
                for row in _after(rows, reached):
                    self._apply(row)
                    reached = row.mark
                if reached != library_mark:
                    cleared = self.history.clear()
                    log.info("the undo history (%d steps) no longer matches the library: cleared", cleared)
                    reached = library_mark
                self.history.set_synced_mark(reached)
            if rows:
                self.outbox.drop(rows[-1].id)

    def _apply(self, row: OutboxRow) -> None:
        if "push" in row.entry:
            label, count, parts, created_at = row.entry["push"]
            self.history.push(label, count, parts, created_at, row.entry.get("by"))
        elif "forget" in row.entry:  # a selective restore
            dropped = self.history.forget_touching(set(row.entry["forget"]))
            log.info("a restore brought back what %d undo steps changed: they were dropped", dropped)
        elif "mark" in row.entry:
            step_id, undone = row.entry["mark"]
            self.history.mark(step_id, undone)
        else:  # written by a newer PixlStash: what it changed is unknown here, so no step is trusted
            self.history.clear()


def _after(rows: list[OutboxRow], reached: str) -> list[OutboxRow]:
    """The rows that continue the chain from ``reached`` (earlier ones were delivered before a crash);
    none when the chain does not pass through it (the library was restored)."""
    start = next((n for n, row in enumerate(rows) if row.previous == reached), None)
    if start is None:
        return []
    chain = [rows[start]]
    for row in rows[start + 1 :]:
        if row.previous != chain[-1].mark:
            break
        chain.append(row)
    return chain
