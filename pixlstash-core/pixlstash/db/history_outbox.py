"""The library's side of the undo history: an outbox of history entries written in the same transaction
as the edit they describe, and a mark that names the history the library's metadata is at.

The history itself lives in ``history.db`` (see history_log.py). SQLite cannot commit two WAL
databases atomically, so an edit and its step could not be one transaction; after ``kill -9`` a bulk
edit had no step, or an undo was applied but not recorded. Now the edit and an outbox row commit
together, and the row is delivered to the history afterwards (again at the next open if the process
died). Each row names the mark before and after it, a chain: the history records which mark it has
reached, so a row delivered twice is recognised, and a library whose mark the history does not know (a
snapshot restore, even one cut short by a crash) gets its history cleared rather than trusted.
"""

from __future__ import annotations

import json
import secrets

import apsw
import zstandard

from .database import Database

__all__ = ["HistoryOutbox", "OutboxRow", "append_entry", "new_history_mark"]


class OutboxRow:
    __slots__ = ("entry", "id", "mark", "previous")

    def __init__(self, row: tuple) -> None:
        self.id, self.previous, self.mark = row[0], row[1], row[2]
        self.entry: dict = json.loads(zstandard.decompress(row[3]))


def new_history_mark(connection: apsw.Connection) -> str:
    """Give the library a mark no history has seen (inside the caller's transaction): its history is
    cleared when next read. A restore does this in the transaction that changes the metadata."""
    mark = secrets.token_hex(8)
    connection.execute("UPDATE history_mark SET mark = ?", (mark,))
    return mark


def append_entry(connection: apsw.Connection, entry: dict) -> None:
    """Queue ``entry`` for the history on ``connection``, inside the transaction of the change it describes."""
    assert connection.in_transaction, "an outbox row commits with the edit it describes"
    previous = connection.execute("SELECT mark FROM history_mark").fetchall()[0][0]
    mark = new_history_mark(connection)
    blob = zstandard.compress(json.dumps(entry, separators=(",", ":")).encode(), 3)
    connection.execute(
        "INSERT INTO history_outbox(previous_mark, mark, entry) VALUES (?, ?, ?)", (previous, mark, blob)
    )


class HistoryOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, entry: dict) -> None:
        """Queue ``entry`` for the history; call inside the edit's write transaction."""
        append_entry(self.db.connection, entry)

    def pending(self) -> tuple[str, list[OutboxRow]]:
        """The library's mark and the rows not yet delivered, read at one point in time."""
        connection = self.db.connection
        with connection:  # one read transaction (a savepoint): the mark and the rows agree
            mark = self.db.scalar("SELECT mark FROM history_mark")
            rows = self.db.query("SELECT id, previous_mark, mark, entry FROM history_outbox ORDER BY id")
        return str(mark), [OutboxRow(row) for row in rows]

    def drop(self, up_to_id: int) -> None:
        """Forget rows the history has (ids only grow, so later rows are kept)."""
        with self.db.write():
            self.db.execute("DELETE FROM history_outbox WHERE id <= ?", (up_to_id,))
