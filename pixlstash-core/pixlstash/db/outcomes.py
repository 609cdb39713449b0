"""What the insights read: each generated picture's settings beside what became of it (its rating, the
scrapheap, a set's membership), one row a picture."""

from __future__ import annotations

from collections.abc import Sequence

from .database import Database, ids_json

__all__ = ["OUTCOME_COLUMNS", "OutcomeStore"]

# The order of each row's values.
OUTCOME_COLUMNS = (
    "picture_id",
    "rating",
    "scrapped",
    "in_set",
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

    def rows(self, picture_ids: Sequence[int], set_id: int | None = None) -> list[tuple]:
        """One row (``OUTCOME_COLUMNS``) for each of these pictures that has generation data; ``in_set`` is
        whether it is a member of ``set_id`` (0 without one). Scrapped pictures are included."""
        return self.db.query(
            "SELECT p.id, p.rating, p.deleted_at IS NOT NULL, "
            "EXISTS(SELECT 1 FROM collection_members m WHERE m.collection_id = ? AND m.picture_id = p.id), "
            "p.width, p.height, g.checkpoint, g.loras, g.sampler, g.scheduler, g.steps, g.cfg, g.guidance, "
            "g.positive FROM generation g JOIN pictures p ON p.id = g.picture_id "
            "WHERE g.picture_id IN (SELECT value FROM json_each(?))",
            (set_id if set_id is not None else -1, ids_json(picture_ids)),
        )
