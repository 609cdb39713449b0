"""The undo history: a linear log of user edits in its own SQLite file (``history.db`` beside the library).

Its own file because it is not library metadata: snapshots do not carry it (a restore would otherwise
bring back a log that no longer matches the pictures), and it can be cleared without touching the library.
Each step keeps what it changed as zstd-compressed JSON; undone steps stay until a new edit discards them.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import zstandard

from .database import Database

__all__ = ["HISTORY_NAME", "HistoryLog", "LoggedStep", "Whose"]

HISTORY_NAME = "history.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    count INTEGER NOT NULL,          -- pictures (or faces, names) it touched
    created_at INTEGER NOT NULL,     -- unix ms
    undone INTEGER NOT NULL DEFAULT 0,
    parts BLOB NOT NULL              -- zstd(JSON list of parts), each {"kind": ..., ...}
);
-- by_user (added below): the account whose step it is; NULL for no account (the command line, or steps
-- from before accounts), which the owner's own.
-- The library mark this history has reached (see history_outbox.py); '' as a new library's.
CREATE TABLE IF NOT EXISTS synced (mark TEXT NOT NULL);
INSERT INTO synced(mark) SELECT '' WHERE NOT EXISTS (SELECT 1 FROM synced);
"""
_KEEP = 500  # steps kept; older ones can no longer be undone


class LoggedStep:
    __slots__ = ("count", "created_at", "id", "label", "parts", "undone")

    def __init__(self, row: tuple, parts: list[dict] | None = None) -> None:
        self.id, self.label, self.count, self.created_at, undone = row[:5]
        self.undone = bool(undone)
        self.parts = parts


class HistoryLog:
    def __init__(self, root: Path) -> None:
        self.path = root / HISTORY_NAME
        self._db = Database(self.path)
        self._ready = False

    @property
    def db(self) -> Database:
        """The log's database, made on first use (reading a library creates no file)."""
        if not self._ready:
            with self._db.write() as connection:
                connection.execute(_SCHEMA)
                columns = {row[1] for row in connection.execute("PRAGMA table_info(steps)")}
                if "by_user" not in columns:
                    connection.execute("ALTER TABLE steps ADD COLUMN by_user INTEGER")
            self._ready = True
        return self._db

    def close(self) -> None:
        self._db.close()

    def synced_mark(self) -> str:
        if not self._ready and not self.path.exists():
            return ""  # no history yet: as a new library's
        return str(self.db.scalar("SELECT mark FROM synced"))

    def set_synced_mark(self, mark: str) -> None:
        with self.db.write():
            self.db.execute("UPDATE synced SET mark = ?", (mark,))

    def push(self, label: str, count: int, parts: list[dict], created_at: int, by: int | None = None) -> int:
        """Record a new step of the account ``by``; its undone steps (its redo branch) are discarded, and the
        oldest steps beyond _KEEP."""
        blob = zstandard.compress(json.dumps(parts, separators=(",", ":")).encode(), 3)
        with self.db.write():
            self.db.execute("DELETE FROM steps WHERE undone = 1 AND by_user IS ?", (by,))
            step_id = self.db.scalar(
                "INSERT INTO steps(label, count, created_at, parts, by_user) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (label, count, created_at, blob, by),
            )
            self.db.execute("DELETE FROM steps WHERE id <= ?", (step_id - _KEEP,))
        return int(step_id)  # type: ignore[arg-type]

    def last_done(self, whose: Whose | None = None) -> LoggedStep | None:
        """The step an undo reverts (of ``whose`` steps; None: of everyone's)."""
        return self._one("undone = 0 ORDER BY id DESC", whose)

    def first_undone(self, whose: Whose | None = None) -> LoggedStep | None:
        """The step a redo applies again."""
        return self._one("undone = 1 ORDER BY id ASC", whose)

    def mark(self, step_id: int, undone: bool) -> None:
        with self.db.write():
            self.db.execute("UPDATE steps SET undone = ? WHERE id = ?", (int(undone), step_id))

    def steps(self, limit: int, whose: Whose | None = None) -> list[LoggedStep]:
        """The newest steps first, redoable ones included."""
        condition, params = _whose_sql(whose)
        rows = self.db.query(
            f"SELECT id, label, count, created_at, undone FROM steps WHERE {condition} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [LoggedStep(row) for row in rows]

    def counts(self, whose: Whose | None = None) -> tuple[int, int]:
        """(steps that can be undone, steps that can be redone)."""
        condition, params = _whose_sql(whose)
        done, undone = self.db.query(
            f"SELECT count(*) - coalesce(sum(undone), 0), coalesce(sum(undone), 0) FROM steps WHERE {condition}",
            params,
        )[0]
        return int(done), int(undone)

    def forget_touching(self, ids: set[int]) -> int:
        """Drop every step that names any of ``ids`` anywhere in its parts (a picture, a set, a project:
        the number alone counts, so a step is dropped whenever in doubt). Returns how many were dropped."""
        if not ids or (not self._ready and not self.path.exists()):
            return 0
        rows = self.db.query("SELECT id, parts FROM steps")
        touching = [step_id for step_id, blob in rows if _numbers(json.loads(zstandard.decompress(blob))) & ids]
        with self.db.write():
            self.db.execute("DELETE FROM steps WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(touching),))
        return len(touching)

    def clear(self) -> int:
        if not self._ready and not self.path.exists():
            return 0
        with self.db.write():
            return self.db.connection.execute("DELETE FROM steps").getconnection().changes()

    def _one(self, where: str, whose: Whose | None) -> LoggedStep | None:
        condition, params = _whose_sql(whose)
        row = self.db.query(
            f"SELECT id, label, count, created_at, undone, parts FROM steps WHERE {condition} AND {where} LIMIT 1",
            params,
        )
        if not row:
            return None
        return LoggedStep(row[0], json.loads(zstandard.decompress(row[0][5])))


class Whose(msgspec.Struct, frozen=True):
    """Whose steps: an account's, and (for the owner) those of no account."""

    user_id: int
    with_unowned: bool = False


def _whose_sql(whose: Whose | None) -> tuple[str, tuple]:
    if whose is None:
        return "1", ()
    if whose.with_unowned:
        return "(by_user = ? OR by_user IS NULL)", (whose.user_id,)
    return "by_user = ?", (whose.user_id,)


def _numbers(value: object) -> set[int]:
    """Every integer in a step's parts, dictionary keys that are numbers included (JSON makes them text)."""
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            found.add(item)
        elif isinstance(item, str) and item.isdigit():
            found.add(int(item))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
