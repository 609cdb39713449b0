"""SQL for near-duplicate groups: each picture's perceptual hash and group, and pictures said not to be
duplicates of each other."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import DuplicateGroup
from .database import Database, ids_json
from .visibility import visible_sql

__all__ = ["NearDuplicateRows"]


class NearDuplicateRows:
    def __init__(self, db: Database) -> None:
        self.db = db

    def live_phashes(self) -> list[tuple[int, int]]:
        """(id, perceptual hash) of every live picture that has one."""
        return self.db.query(
            "SELECT id, phash FROM pictures WHERE phash IS NOT NULL AND deleted_at IS NULL AND dup_distinct = 0"
        )

    def mark_distinct(self, picture_ids: Sequence[int]) -> list[list]:
        """Take pictures out of their near-duplicate groups for good (inside a write); returns their
        [id, group] as they were. A group left with one picture is no group: it is cleared too."""
        ids = ids_json(picture_ids)
        before = self.db.query(
            "SELECT id, dup_group FROM pictures WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", (ids,)
        )
        groups = sorted({g for _, g in before if g is not None})
        self.db.execute(
            "UPDATE pictures SET dup_group = NULL, dup_distinct = 1 WHERE id IN (SELECT value FROM json_each(?))",
            (ids,),
        )
        alone = self.db.query(
            "SELECT id, dup_group FROM pictures WHERE dup_group IN (SELECT value FROM json_each(?)) "
            "AND dup_group IN (SELECT dup_group FROM pictures WHERE dup_group IS NOT NULL "
            "GROUP BY dup_group HAVING count(*) = 1)",
            (ids_json(groups),),
        )
        if alone:
            self.db.execute(
                "UPDATE pictures SET dup_group = NULL WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json([pid for pid, _ in alone]),),
            )
        return [list(row) for row in before] + [[pid, group, "left"] for pid, group in alone]

    def unmark_distinct(self, rows: Sequence[Sequence]) -> None:
        """Put pictures back as ``mark_distinct`` found them (inside a write)."""
        for row in rows:
            distinct = "" if len(row) > 2 else ", dup_distinct = 0"
            self.db.execute(f"UPDATE pictures SET dup_group = ?{distinct} WHERE id = ?", (row[1], row[0]))

    def dup_groups_of(self, picture_ids: Sequence[int]) -> set[int]:
        marks = ",".join("?" * len(picture_ids))
        sql = f"SELECT dup_group FROM pictures WHERE id IN ({marks}) AND dup_group IS NOT NULL"
        return {g for (g,) in self.db.query(sql, list(picture_ids))}

    def dup_group_members(self, groups: set[int]) -> list[int]:
        if not groups:
            return []
        marks = ",".join("?" * len(groups))
        return [i for (i,) in self.db.query(f"SELECT id FROM pictures WHERE dup_group IN ({marks})", list(groups))]

    def duplicate_groups(self, limit: int) -> list[DuplicateGroup]:
        """Groups of live near-duplicate pictures (of those the account in force may see), largest first."""
        visible, params = visible_sql("p")
        rows = self.db.query(
            "SELECT dup_group, group_concat(id) FROM pictures p WHERE dup_group IS NOT NULL AND deleted_at IS NULL "
            f"AND {visible} GROUP BY dup_group HAVING count(*) > 1 ORDER BY count(*) DESC, dup_group LIMIT ?",
            (*params, limit),
        )
        return [DuplicateGroup(g, sorted(int(i) for i in ids.split(","))) for g, ids in rows]

    def set_dup_group(self, picture_ids: Sequence[int], group: int) -> None:
        self.db.execute(
            "UPDATE pictures SET dup_group = ? WHERE id IN (SELECT value FROM json_each(?))",
            (group, ids_json(picture_ids)),
        )
