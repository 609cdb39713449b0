"""Each person's own ratings and favourites (``picture_marks``): one person's five stars are not another's.

The owner's marks, and those of work done for nobody in particular (the command line without ``--as``,
imports reading a photo's stars), are the picture's own columns, as they were before accounts; every
other account's are its rows here (none: unrated, not a favourite). Queries read them through
``personal``, which rewrites ``p.rating`` and ``p.favourite`` in a piece of SQL into the account in
force's marks, so filters, sorts, counts and the pictures read all see that person's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import msgspec

from ..domain import PictureSummary
from ..pictures.visibility import current_audience
from .database import Database, ids_json

__all__ = ["MARK_FIELDS", "PersonalMarks", "marking_account", "personal", "without_marks"]

MARK_FIELDS = ("rating", "favourite")
_MARKED = re.compile(r"\bp\.(rating|favourite)\b")


def marking_account() -> int | None:
    """The account whose marks are its own rows (None: the picture's columns are the marks in force)."""
    audience = current_audience()
    return None if audience is None or audience.is_owner else audience.user_id


def personal(sql: str) -> str:
    """``sql`` with ``p.rating`` and ``p.favourite`` read as the marks of the account in force."""
    user_id = marking_account()
    return sql if user_id is None else _personal(sql, int(user_id))


def without_marks(columns: str) -> str:
    """Columns with no marks (unrated, not a favourite) where the account in force has marks of its own:
    ``PersonalMarks.fill`` then gives the few pictures it marked their marks."""
    return columns if marking_account() is None else _unmarked(columns)


# A page rewrote the same few statements on every call: a third of what a member's page cost more than the
# owner's. The statements come from this code, not from requests, so the caches stay small.
@functools.lru_cache(maxsize=256)
def _personal(sql: str, user_id: int) -> str:
    return _MARKED.sub(
        lambda m: (
            f"coalesce((SELECT pm.{m.group(1)} FROM picture_marks pm "
            f"WHERE pm.user_id = {user_id} AND pm.picture_id = p.id), 0)"
        ),
        sql,
    )


@functools.lru_cache(maxsize=64)
def _unmarked(columns: str) -> str:
    return _MARKED.sub("0", columns)


class PersonalMarks:
    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, user_id: int, picture_ids: Sequence[int], fields: dict[str, int]) -> int:
        """Set the account's marks on the pictures (existing ones only); returns how many rows changed."""
        names = [name for name in MARK_FIELDS if name in fields]
        values = [int(fields[name]) for name in names]
        updates = ", ".join(f"{name} = excluded.{name}" for name in names)
        self.db.execute(
            f"INSERT INTO picture_marks(user_id, picture_id, {', '.join(names)}) "
            f"SELECT ?, id, {', '.join('?' for _ in names)} FROM pictures WHERE id IN (SELECT value FROM json_each(?)) "
            f"ON CONFLICT(user_id, picture_id) DO UPDATE SET {updates}",
            (user_id, *values, ids_json(picture_ids)),
        )
        changed = self.db.connection.changes()
        self.db.execute("DELETE FROM picture_marks WHERE user_id = ? AND rating = 0 AND favourite = 0", (user_id,))
        return changed

    def fill(self, summaries: list[PictureSummary]) -> list[PictureSummary]:
        """Pictures read with ``without_marks``'s columns, given the marks the account in force has on them:
        one indexed read for a page, where a subquery per row would cost each row."""
        user_id = marking_account()
        if user_id is None or not summaries:
            return summaries
        if not self.db.scalar("SELECT EXISTS(SELECT 1 FROM picture_marks WHERE user_id = ?)", (user_id,)):
            return summaries  # (one probe: a page's 100 lookups were most of what a member's page cost more)
        marks: dict[int, tuple] = {}
        for start in range(0, len(summaries), 900):  # placeholders: a page's worth reads faster than json_each
            chunk = [s.id for s in summaries[start : start + 900]]
            rows = self.db.query(
                "SELECT picture_id, rating, favourite FROM picture_marks "
                f"WHERE user_id = ? AND picture_id IN ({','.join('?' * len(chunk))})",
                (user_id, *chunk),
            )
            marks.update((row[0], row[1:]) for row in rows)
        if not marks:
            return summaries
        return [
            s
            if s.id not in marks
            else msgspec.structs.replace(s, rating=marks[s.id][0], favourite=bool(marks[s.id][1]))
            for s in summaries
        ]

    def values(self, user_id: int, picture_ids: Sequence[int], field: str) -> list[tuple[int, int]]:
        """(id, value) of one mark of the account on each of the pictures that exists."""
        return self.db.query(
            f"SELECT p.id, coalesce(pm.{field}, 0) FROM pictures p LEFT JOIN picture_marks pm "
            "ON pm.picture_id = p.id AND pm.user_id = ? WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY p.id",
            (user_id, ids_json(picture_ids)),
        )
