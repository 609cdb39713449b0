"""SQL for who does what in sets and projects: each one's viewers, contributors and curators, and the pictures
submitted to a curated set."""

from __future__ import annotations

from collections.abc import Sequence

from .database import Database, ids_json

__all__ = ["CurationStore"]

_SUBMISSION_COLUMNS = "picture_id, submitted_by, submitted_at, state, decided_by, decided_at"


class CurationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def role_of(self, collection_id: int, user_id: int) -> str | None:
        return self.db.scalar(
            "SELECT role FROM collection_roles WHERE collection_id = ? AND user_id = ?", (collection_id, user_id)
        )

    def curated(self, collection_id: int) -> bool:
        sql = "SELECT 1 FROM collection_roles WHERE collection_id = ? AND role = 'curator' LIMIT 1"
        return self.db.scalar(sql, (collection_id,)) is not None

    def roles(self, collection_id: int) -> list[tuple[int, str]]:
        sql = "SELECT user_id, role FROM collection_roles WHERE collection_id = ? ORDER BY role DESC, user_id"
        return self.db.query(sql, (collection_id,))

    def set_role(self, collection_id: int, user_id: int, role: str | None) -> None:
        if role is None:
            sql = "DELETE FROM collection_roles WHERE collection_id = ? AND user_id = ?"
            self.db.execute(sql, (collection_id, user_id))
        else:
            self.db.execute(
                "INSERT INTO collection_roles (collection_id, user_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (collection_id, user_id) DO UPDATE SET role = excluded.role",
                (collection_id, user_id, role),
            )

    def drop_roles_of(self, user_id: int) -> None:
        self.db.execute("DELETE FROM collection_roles WHERE user_id = ?", (user_id,))
        self.db.execute("DELETE FROM project_roles WHERE user_id = ?", (user_id,))

    def project_roles(self, project_id: int) -> list[tuple[int, str]]:
        sql = "SELECT user_id, role FROM project_roles WHERE project_id = ? ORDER BY role DESC, user_id"
        return self.db.query(sql, (project_id,))

    def set_project_role(self, project_id: int, user_id: int, role: str | None) -> None:
        if role is None:
            self.db.execute("DELETE FROM project_roles WHERE project_id = ? AND user_id = ?", (project_id, user_id))
        else:
            self.db.execute(
                "INSERT INTO project_roles (project_id, user_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                (project_id, user_id, role),
            )

    def submit(self, collection_id: int, picture_ids: Sequence[int], by: int, now: int) -> list[int]:
        """Pending submissions of those pictures not in the set and not submitted to it yet; their ids."""
        rows = self.db.query(
            "INSERT OR IGNORE INTO submissions (collection_id, picture_id, submitted_by, submitted_at) "
            "SELECT ?, value, ?, ? FROM json_each(?) WHERE NOT EXISTS (SELECT 1 FROM collection_members m "
            "WHERE m.collection_id = ? AND m.picture_id = value) RETURNING picture_id",
            (collection_id, by, now, ids_json(picture_ids), collection_id),
        )
        return sorted(r[0] for r in rows)

    def submissions(self, collection_id: int, state: str | None, by: int | None) -> list[tuple]:
        """The set's submissions, newest first (only ``by``'s when given; of ``state`` when given)."""
        conditions, params = ["collection_id = ?"], [collection_id]
        if state is not None:
            conditions.append("state = ?")
            params.append(state)
        if by is not None:
            conditions.append("submitted_by = ?")
            params.append(by)
        return self.db.query(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions WHERE {' AND '.join(conditions)} "
            "ORDER BY submitted_at DESC, picture_id",
            params,
        )

    def decide(self, collection_id: int, picture_ids: Sequence[int], state: str, by: int | None, now: int) -> list[int]:
        """Pending submissions accepted or rejected; the ids decided now."""
        rows = self.db.query(
            "UPDATE submissions SET state = ?, decided_by = ?, decided_at = ? WHERE collection_id = ? "
            "AND state = 'pending' AND picture_id IN (SELECT value FROM json_each(?)) RETURNING picture_id",
            (state, by, now, collection_id, ids_json(picture_ids)),
        )
        return sorted(r[0] for r in rows)
