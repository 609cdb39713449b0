"""What the insights read: each generated picture's state (its change stamp, rating, the scrapheap, a
set's membership), and the settings it was made with."""

from __future__ import annotations

from collections.abc import Sequence

from .database import Database, ids_json
from .personal_marks import personal

__all__ = ["SETTING_COLUMNS", "OutcomeStore"]

# The order of a settings row's values after its picture id.
SETTING_COLUMNS = (
    "width",
    "height",
    "checkpoint",
    "loras",
    "sampler",
    "scheduler",
    "steps",
    "cfg",
    "guidance",
    "positive",
)


class OutcomeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def states(self, picture_ids: Sequence[int], set_id: int | None = None) -> list[tuple[int, int, int, bool, bool]]:
        """(picture id, change stamp, rating, scrapped, in ``set_id``) of each of these pictures that has
        generation data. The stamp moves when anything of the picture changes, its generation data included; the
        rating is the one of the account in force (``personal_marks``)."""
        return self.db.query(
            personal(
                "SELECT p.id, p.meta_seq, p.rating, p.deleted_at IS NOT NULL, "
                "EXISTS(SELECT 1 FROM collection_members m WHERE m.collection_id = ? AND m.picture_id = p.id) "
                "FROM generation g JOIN pictures p ON p.id = g.picture_id "
                "WHERE g.picture_id IN (SELECT value FROM json_each(?))"
            ),
            (set_id if set_id is not None else -1, ids_json(picture_ids)),
        )

    def newest_stamp(self) -> int:
        """The highest change stamp of any picture: it only grows, unless an older database came back."""
        return self.db.scalar("SELECT coalesce(max(meta_seq), 0) FROM pictures")

    def settings(self, picture_ids: Sequence[int]) -> list[tuple]:
        """(picture id, *``SETTING_COLUMNS``) of each of these pictures that has generation data."""
        return self.db.query(
            f"SELECT p.id, p.width, p.height, {', '.join('g.' + c for c in SETTING_COLUMNS[2:])} "
            "FROM generation g JOIN pictures p ON p.id = g.picture_id "
            "WHERE g.picture_id IN (SELECT value FROM json_each(?))",
            (ids_json(picture_ids),),
        )
