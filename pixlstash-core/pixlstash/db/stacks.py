"""Stacks in the database: which stack each picture is in, and each stack's cover. Every stack edit is a
change of that state (``put``), which is what makes it one undo step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..domain import Stack
from ..errors import NotFound
from .database import Database
from .visibility import visible_sql

__all__ = ["StackStore"]


class StackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, origin: str, now: int) -> int:
        """A new, empty stack (``put`` fills it)."""
        sql = "INSERT INTO stacks (origin, created_at) VALUES (?, ?) RETURNING id"
        return int(self.db.scalar(sql, (origin, now)))  # type: ignore[arg-type]

    def get(self, stack_id: int) -> Stack:
        rows = self.db.query("SELECT id, cover_id, origin, created_at FROM stacks WHERE id = ?", (stack_id,))
        if not rows:
            raise NotFound(f"no stack {stack_id}")
        members = self.members(stack_id)
        if not members and visible_sql("p")[0] != "1":
            raise NotFound(f"no stack {stack_id}")  # none of it is the caller's to see: as if there were none
        if not members:
            raise NotFound(f"stack {stack_id} is empty: its pictures were unstacked")
        sid, cover, origin, created = rows[0]
        return Stack(sid, cover if cover in members else members[0], members, origin, created)

    def members(self, stack_id: int) -> list[int]:
        """Its live pictures (those the account in force may see), the cover first, then by id."""
        visible, params = visible_sql("p")
        rows = self.db.query(
            "SELECT p.id FROM pictures p JOIN stacks s ON s.id = p.stack_id WHERE p.stack_id = ? "
            f"AND p.deleted_at IS NULL AND {visible} ORDER BY p.id = s.cover_id DESC, p.id",
            (stack_id, *params),
        )
        return [r[0] for r in rows]

    def stacks_of(self, picture_ids: Sequence[int]) -> dict[int, int | None]:
        """Each picture's stack (None: in none)."""
        if not picture_ids:
            return {}
        rows = self.db.query(
            f"SELECT id, stack_id FROM pictures WHERE id IN ({_marks(picture_ids)})", tuple(picture_ids)
        )
        return dict(rows)

    def covers(self, stack_ids: Sequence[int]) -> dict[int, int | None]:
        if not stack_ids:
            return {}
        sql = f"SELECT id, cover_id FROM stacks WHERE id IN ({_marks(stack_ids)})"
        return dict(self.db.query(sql, tuple(stack_ids)))

    def put(self, memberships: Mapping[int, int | None], covers: Mapping[int, int | None]) -> None:
        """Set pictures' stacks and stacks' covers (inside the caller's write transaction)."""
        for picture_id, stack_id in memberships.items():
            self.db.execute("UPDATE pictures SET stack_id = ? WHERE id = ?", (stack_id, picture_id))
        for stack_id, cover_id in covers.items():
            self.db.execute("UPDATE stacks SET cover_id = ? WHERE id = ?", (cover_id, stack_id))


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))
