"""What an edit is about to change, read just before it runs, so the undo history can put it back; and the
few writes an undo needs that the ordinary edits do not make (tags back with their source and confidence)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .db import Database

__all__ = ["EditState"]

_FIELDS = ("rating", "favourite", "flagged", "taken_at")


def _ids(ids: Sequence[int]) -> str:
    return json.dumps([int(i) for i in ids])


class EditState:
    def __init__(self, db: Database) -> None:
        self.db = db

    def field_values(self, picture_ids: Sequence[int], field: str) -> list[tuple[int, object]]:
        """(id, value) of one editable picture field."""
        if field not in _FIELDS:
            raise ValueError(f"not an editable field: {field}")
        return self.db.query(
            f"SELECT id, {field} FROM pictures WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (_ids(picture_ids),),
        )

    def existing(self, picture_ids: Sequence[int]) -> list[int]:
        """Those of the pictures still in the library (live or scrapped): an undo skips purged ones."""
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT id FROM pictures WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (_ids(picture_ids),),
            )
        ]

    def scrapped(self, picture_ids: Sequence[int]) -> list[int]:
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT id FROM pictures WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NOT NULL",
                (_ids(picture_ids),),
            )
        ]

    def tag_rows(self, picture_ids: Sequence[int], tag_id: int) -> list[tuple[int, str, float | None]]:
        """(picture id, source, confidence) of the pictures that carry the tag."""
        return self.db.query(
            "SELECT picture_id, source, confidence FROM picture_tags "
            "WHERE tag_id = ? AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
            (tag_id, _ids(picture_ids)),
        )

    def put_tag_rows(self, tag_id: int, rows: Sequence[Sequence]) -> None:
        """Tags back on pictures as they were: source and confidence included (inside a write)."""
        self.db.connection.executemany(
            "INSERT INTO picture_tags(tag_id, picture_id, source, confidence) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET source = excluded.source, confidence = excluded.confidence",
            [(tag_id, pid, source, confidence) for pid, source, confidence in rows],
        )

    def collection_members(self, collection_id: int, picture_ids: Sequence[int]) -> list[int]:
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT picture_id FROM collection_members "
                "WHERE collection_id = ? AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
                (collection_id, _ids(picture_ids)),
            )
        ]

    def project_members(self, project_id: int, picture_ids: Sequence[int]) -> list[int]:
        """The pictures added to the project itself (not through one of its sets or characters)."""
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT picture_id FROM project_members WHERE project_id = ? AND direct = 1 "
                "AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
                (project_id, _ids(picture_ids)),
            )
        ]

    def user_caption(self, picture_id: int) -> str | None:
        return self.db.scalar("SELECT text FROM captions WHERE picture_id = ? AND source = 'user'", (picture_id,))  # type: ignore[return-value]

    def face_characters(self, face_ids: Sequence[int]) -> list[tuple[int, int | None, int]]:
        """(face id, character id or None, picture id)."""
        return self.db.query(
            "SELECT id, character_id, picture_id FROM faces WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (_ids(face_ids),),
        )

    def container_details(self, kind: str, container_id: int) -> dict | None:
        """Name, description and colour of a project (``kind`` "project") or a set or character."""
        table = "projects" if kind == "project" else "collections"
        row = self.db.query(f"SELECT name, description, color FROM {table} WHERE id = ?", (container_id,))
        return dict(zip(("name", "description", "color"), row[0], strict=True)) if row else None

    def put_container_details(self, kind: str, container_id: int, values: dict) -> bool:
        """Set them back exactly (a colour back to none too); False when it no longer exists."""
        table = "projects" if kind == "project" else "collections"
        rows = self.db.query(
            f"UPDATE {table} SET name = ?, description = ?, color = ? WHERE id = ? RETURNING id",
            (values["name"], values["description"], values["color"], container_id),
        )
        return bool(rows)
