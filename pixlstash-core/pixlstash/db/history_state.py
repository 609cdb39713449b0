"""What an edit is about to change, read just before it runs, so the undo history can put it back; and the
few writes an undo needs that the ordinary edits do not make (tags back with their source and confidence,
a deleted set, character or project back under its own id)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BadInput, Conflict
from .database import Database, ids_json
from .names import taken_collection_name, taken_project_name
from .personal_marks import MARK_FIELDS, PersonalMarks, marking_account
from .visibility import visible_sql

__all__ = ["HistoryState"]

_FIELDS = ("rating", "favourite", "flagged", "taken_at")
_COLLECTION_ROW = ("id", "kind", "name", "project_id", "description", "color", "created_at", "owner_id", "private")
_PROJECT_ROW = ("id", "name", "description", "color", "created_at", "owner_id", "private")
_SUBMISSION_ROW = ("picture_id", "submitted_by", "submitted_at", "state", "decided_by", "decided_at")


class HistoryState:
    def __init__(self, db: Database) -> None:
        self.db = db

    def field_values(self, picture_ids: Sequence[int], field: str) -> list[tuple[int, object]]:
        """(id, value) of one editable picture field."""
        if field not in _FIELDS:
            raise BadInput(f"cannot edit {field}")
        user_id = marking_account()
        if field in MARK_FIELDS and user_id is not None:
            return PersonalMarks(self.db).values(user_id, picture_ids, field)
        return self.db.query(
            f"SELECT id, {field} FROM pictures WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (ids_json(picture_ids),),
        )

    def existing(self, picture_ids: Sequence[int]) -> list[int]:
        """Those of the pictures still in the library (live or scrapped) that the account in force may still
        see: an undo skips purged ones, and ones made private to someone else since the step."""
        visible, params = visible_sql()
        return [
            pid
            for (pid,) in self.db.query(
                f"SELECT id FROM pictures p WHERE id IN (SELECT value FROM json_each(?)) AND {visible} ORDER BY id",
                (ids_json(picture_ids), *params),
            )
        ]

    def scrapped(self, picture_ids: Sequence[int]) -> list[int]:
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT id FROM pictures WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NOT NULL",
                (ids_json(picture_ids),),
            )
        ]

    def tag_rows(self, picture_ids: Sequence[int], tag_id: int) -> list[tuple[int, str, float | None]]:
        """(picture id, source, confidence) of the pictures that carry the tag."""
        return self.db.query(
            "SELECT picture_id, source, confidence FROM picture_tags "
            "WHERE tag_id = ? AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
            (tag_id, ids_json(picture_ids)),
        )

    def every_tag_row(self, tag_id: int) -> list[tuple[int, str, float | None]]:
        """(picture id, source, confidence) of every picture that carries the tag."""
        return self.db.query(
            "SELECT picture_id, source, confidence FROM picture_tags WHERE tag_id = ? ORDER BY picture_id", (tag_id,)
        )

    def put_tag_rows(self, tag_id: int, rows: Sequence[Sequence]) -> None:
        """Tags back on pictures as they were: source and confidence included (inside a write)."""
        self.db.connection.executemany(
            "INSERT INTO picture_tags(tag_id, picture_id, source, confidence) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET source = excluded.source, confidence = excluded.confidence",
            [(tag_id, pid, source, confidence) for pid, source, confidence in rows],
        )

    def prediction_rows(self, picture_id: int, tag_ids: Sequence[int]) -> list[list]:
        """[tag name, category, engine id, engine version, confidence, state] of a picture's predictions."""
        return [
            list(row)
            for row in self.db.query(
                "SELECT t.name, t.category, p.engine_id, p.engine_version, p.confidence, p.state "
                "FROM predictions p JOIN tags t ON t.id = p.tag_id "
                "WHERE p.picture_id = ? AND p.tag_id IN (SELECT value FROM json_each(?)) ORDER BY t.name, p.engine_id",
                (picture_id, ids_json(tag_ids)),
            )
        ]

    def put_prediction_rows(self, picture_id: int, rows: Sequence[Sequence], tag_ids: Sequence[int]) -> None:
        """Predictions back as they were (inside a write): ``rows`` as ``prediction_rows`` gave them, with the
        id each tag has now."""
        self.db.connection.executemany(
            "INSERT INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence, state) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET engine_version = excluded.engine_version, "
            "confidence = excluded.confidence, state = excluded.state",
            [(picture_id, row[2], tag_id, row[3], row[4], row[5]) for row, tag_id in zip(rows, tag_ids, strict=True)],
        )

    def tag_predictions(self, tag_id: int) -> list[list]:
        """[picture id, engine id, engine version, confidence, state] of every prediction of a tag."""
        return [
            list(row)
            for row in self.db.query(
                "SELECT picture_id, engine_id, engine_version, confidence, state FROM predictions WHERE tag_id = ? "
                "ORDER BY 1, 2",
                (tag_id,),
            )
        ]

    def aliases(self, tag_id: int) -> list[str]:
        return [
            alias for (alias,) in self.db.query("SELECT alias FROM tag_aliases WHERE tag_id = ? ORDER BY 1", (tag_id,))
        ]

    def unmerge_tag(self, source_id: int, target_id: int, part: dict) -> None:
        """A merge taken back (inside a write): the source's aliases, pictures and predictions its own again,
        and the target off the pictures and predictions the merge gave it."""
        self.db.execute("DELETE FROM tag_aliases WHERE alias = ?", (part["source"][0],))
        self.db.connection.executemany(
            "UPDATE tag_aliases SET tag_id = ? WHERE alias = ?", [(source_id, alias) for alias in part["aliases"]]
        )
        self.put_tag_rows(source_id, part["rows"])
        self.db.connection.executemany(
            "DELETE FROM picture_tags WHERE tag_id = ? AND picture_id = ?", [(target_id, pid) for pid in part["added"]]
        )
        self.db.connection.executemany(
            "INSERT OR REPLACE INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence, state) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(row[0], row[1], source_id, row[2], row[3], row[4]) for row in part["predictions"]],
        )
        self.db.connection.executemany(
            "DELETE FROM predictions WHERE tag_id = ? AND picture_id = ? AND engine_id = ?",
            [(target_id, pid, engine) for pid, engine in part["predictions_added"]],
        )

    def target_predictions(self, tag_id: int) -> set[tuple[int, str]]:
        return {
            (pid, engine)
            for pid, engine in self.db.query(
                "SELECT picture_id, engine_id FROM predictions WHERE tag_id = ?", (tag_id,)
            )
        }

    def drop_alias(self, alias: str) -> None:
        self.db.execute("DELETE FROM tag_aliases WHERE alias = ?", (alias,))

    def face_rejections(self, character_id: int, face_ids: Sequence[int]) -> list[int]:
        return [
            fid
            for (fid,) in self.db.query(
                "SELECT face_id FROM face_rejections "
                "WHERE character_id = ? AND face_id IN (SELECT value FROM json_each(?))",
                (character_id, ids_json(face_ids)),
            )
        ]

    def put_face_rejections(self, character_id: int, face_ids: Sequence[int]) -> None:
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO face_rejections(character_id, face_id) SELECT ?, id FROM faces WHERE id = ?",
            [(character_id, face_id) for face_id in face_ids],
        )

    def drop_face_rejections(self, character_id: int, face_ids: Sequence[int]) -> None:
        self.db.connection.executemany(
            "DELETE FROM face_rejections WHERE character_id = ? AND face_id = ?", [(character_id, f) for f in face_ids]
        )

    def collection_members(self, collection_id: int, picture_ids: Sequence[int]) -> list[int]:
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT picture_id FROM collection_members "
                "WHERE collection_id = ? AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
                (collection_id, ids_json(picture_ids)),
            )
        ]

    def project_members(self, project_id: int, picture_ids: Sequence[int]) -> list[int]:
        """The pictures added to the project itself (not through one of its sets or characters)."""
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT picture_id FROM project_members WHERE project_id = ? AND direct = 1 "
                "AND picture_id IN (SELECT value FROM json_each(?)) ORDER BY picture_id",
                (project_id, ids_json(picture_ids)),
            )
        ]

    def user_caption(self, picture_id: int) -> str | None:
        return self.db.scalar("SELECT text FROM captions WHERE picture_id = ? AND source = 'user'", (picture_id,))  # type: ignore[return-value]

    def face_characters(self, face_ids: Sequence[int]) -> list[tuple[int, int | None, int]]:
        """(face id, character id or None, picture id)."""
        return self.db.query(
            "SELECT id, character_id, picture_id FROM faces WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (ids_json(face_ids),),
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

    # -- sets, characters and projects made and deleted -----------------------------------------

    def collection_row(self, collection_id: int) -> dict | None:
        """A set's or character's own row (id, kind, name, project, description, colour, when made, who made
        it, whether it is private)."""
        row = self.db.query(f"SELECT {', '.join(_COLLECTION_ROW)} FROM collections WHERE id = ?", (collection_id,))
        return dict(zip(_COLLECTION_ROW, row[0], strict=True)) if row else None

    def collection_contents(self, collection_id: int) -> dict | None:
        """Everything a set or character holds, to put it back after a delete: its row, its members
        (with when they joined), the faces named as it (with who named them), the faces rejected for it, the
        roles it gives and the pictures submitted to it."""
        row = self.collection_row(collection_id)
        if row is None:
            return None
        return {
            "row": row,
            "members": self.db.query(
                "SELECT picture_id, added_at FROM collection_members WHERE collection_id = ? ORDER BY picture_id",
                (collection_id,),
            ),
            "faces": self.db.query(
                "SELECT id, assigned_by FROM faces WHERE character_id = ? ORDER BY id", (collection_id,)
            ),
            "rejections": [
                face_id
                for (face_id,) in self.db.query(
                    "SELECT face_id FROM face_rejections WHERE character_id = ? ORDER BY face_id", (collection_id,)
                )
            ],
            "roles": self.db.query(
                "SELECT user_id, role FROM collection_roles WHERE collection_id = ? ORDER BY user_id", (collection_id,)
            ),
            "submissions": self.db.query(
                f"SELECT {', '.join(_SUBMISSION_ROW)} FROM submissions WHERE collection_id = ? ORDER BY picture_id",
                (collection_id,),
            ),
        }

    def put_collection(self, contents: dict) -> list[int]:
        """A deleted set or character back under its own id, as it was (inside a write; the membership
        triggers count it and carry its pictures into its project); the pictures of its named faces.
        Raises ``Conflict`` when its id was taken since, or its name among what the account in force sees."""
        row = contents["row"]
        if self.db.query("SELECT 1 FROM collections WHERE id = ?", (row["id"],)) or (
            taken_collection_name(self.db, row["kind"], row["project_id"], row["name"]) is not None
        ):
            raise Conflict(f"a {row['kind']} named {row['name']!r} exists again: rename it first")
        project = row["project_id"]
        if project is not None and not self.db.query("SELECT 1 FROM projects WHERE id = ?", (project,)):
            project = None  # its project was deleted since
        # Steps recorded before who made it and whether it is private were kept: shared, the owner's.
        self.db.execute(
            "INSERT INTO collections(id, kind, name, project_id, description, color, created_at, owner_id, private) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row["id"], row["kind"], row["name"], project, row["description"], row["color"], row["created_at"],
             row.get("owner_id"), row.get("private", 0)),
        )  # fmt: skip
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO collection_roles(collection_id, user_id, role) VALUES (?, ?, ?)",
            [(row["id"], user_id, role) for user_id, role in contents.get("roles", [])],
        )
        self.db.connection.executemany(
            f"INSERT OR IGNORE INTO submissions(collection_id, {', '.join(_SUBMISSION_ROW)}) "
            "SELECT ?, id, ?, ?, ?, ?, ? FROM pictures WHERE id = ?",
            [(row["id"], *submission[1:], submission[0]) for submission in contents.get("submissions", [])],
        )
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO collection_members(collection_id, picture_id, added_at) "
            "SELECT ?, id, ? FROM pictures WHERE id = ?",
            [(row["id"], added_at, pid) for pid, added_at in contents.get("members", [])],
        )
        named = self.db.connection.executemany(
            "UPDATE faces SET character_id = ?, cluster_id = NULL, assigned_by = ? WHERE id = ? RETURNING picture_id",
            [(row["id"], assigned_by, face_id) for face_id, assigned_by in contents.get("faces", [])],
        )
        pictures = sorted({pid for (pid,) in named})
        self.put_face_rejections(row["id"], contents.get("rejections", []))
        return pictures

    def project_contents(self, project_id: int) -> dict | None:
        """A project's row, its sets and characters, the pictures added to it directly and the roles it
        gives."""
        row = self.db.query(f"SELECT {', '.join(_PROJECT_ROW)} FROM projects WHERE id = ?", (project_id,))
        if not row:
            return None
        return {
            "row": dict(zip(_PROJECT_ROW, row[0], strict=True)),
            "collections": [
                c for (c,) in self.db.query("SELECT id FROM collections WHERE project_id = ?", (project_id,))
            ],
            "direct": [
                p
                for (p,) in self.db.query(
                    "SELECT picture_id FROM project_members WHERE project_id = ? AND direct = 1 ORDER BY picture_id",
                    (project_id,),
                )
            ],
            "roles": self.db.query(
                "SELECT user_id, role FROM project_roles WHERE project_id = ? ORDER BY user_id", (project_id,)
            ),
        }

    def put_project(self, contents: dict) -> None:
        """A deleted project back under its own id with its sets, characters and pictures (inside a write)."""
        row = contents["row"]
        if self.db.query("SELECT 1 FROM projects WHERE id = ?", (row["id"],)) or (
            taken_project_name(self.db, row["name"]) is not None
        ):
            raise Conflict(f"a project named {row['name']!r} exists again: rename it first")
        self.db.execute(
            "INSERT INTO projects(id, name, description, color, created_at, owner_id, private) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row["id"], row["name"], row["description"], row["color"], row["created_at"], row.get("owner_id"),
             row.get("private", 0)),
        )  # fmt: skip
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO project_roles(project_id, user_id, role) VALUES (?, ?, ?)",
            [(row["id"], user_id, role) for user_id, role in contents.get("roles", [])],
        )
        self.db.connection.executemany(  # the move trigger brings each one's pictures along
            "UPDATE collections SET project_id = ? WHERE id = ? AND project_id IS NULL",
            [(row["id"], c) for c in contents.get("collections", [])],
        )
        self.db.connection.executemany(
            "INSERT INTO project_members(project_id, picture_id, direct) SELECT ?, id, 1 FROM pictures WHERE id = ? "
            "ON CONFLICT DO UPDATE SET direct = 1",
            [(row["id"], pid) for pid in contents.get("direct", [])],
        )
