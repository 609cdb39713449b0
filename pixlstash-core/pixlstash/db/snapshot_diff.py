"""SQL that compares a snapshot with the live library and restores single resources from it.

The snapshot database is ATTACHed as ``snap`` to a connection of the live library; ``main`` is live.
Tags are matched by name (ids may differ after tags were deleted and made again); pictures, sets,
characters and projects by id.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import apsw
import numpy as np

from .database import connect
from .history_outbox import append_entry, new_history_mark

__all__ = ["SnapshotDiff"]

_USER_COLUMNS = ("rating", "favourite", "flagged", "taken_at", "deleted_at")


def _marks(values: Sequence) -> str:
    return ",".join("?" * len(values))


# Above this many pictures, signatures read each table once from end to end instead of by index.
SCAN_ABOVE = 200


class SnapshotDiff:
    def __init__(self, connection: apsw.Connection) -> None:
        self.c = connection

    @classmethod
    @contextlib.contextmanager
    def attached(cls, library_db: Path, snapshot_name: str) -> Iterator[SnapshotDiff]:
        """A connection of its own to the library with the snapshot attached as ``snap``."""
        connection = connect(library_db)
        # The library's own connections checkpoint the WAL as they write; a restore's commit need not.
        connection.pragma("wal_autocheckpoint", 0)
        try:
            connection.execute("ATTACH DATABASE ? AS snap", (snapshot_name,))
            yield cls(connection)
        finally:
            connection.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction on the library (a selective restore is all or nothing)."""
        self.c.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.c.execute("ROLLBACK")
            raise
        self.c.execute("COMMIT")

    def forget_history(self) -> None:
        """Inside the restore's transaction: the library's undo history is cleared when next read."""
        new_history_mark(self.c)

    def forget_history_touching(self, ids: Sequence[int]) -> None:
        """Inside a selective restore's transaction: the undo steps that name any of ``ids`` (the pictures,
        sets, characters and projects it brought back) are dropped when the history is next read; the rest
        stay undoable."""
        append_entry(self.c, {"forget": sorted(set(ids))})

    def missing_in_both(self) -> int:
        """Pictures the library marks missing that the snapshot also has."""
        return self.q(
            "SELECT count(*) FROM main.pictures m WHERE m.missing = 1 AND EXISTS "
            "(SELECT 1 FROM snap.pictures s WHERE s.id = m.id)"
        )[0][0]

    def snapshot_project_of(self, collection_id: int) -> int | None:
        return self.q("SELECT project_id FROM snap.collections WHERE id = ?", (collection_id,))[0][0]

    def snapshot_project_name(self, project_id: int) -> str:
        return self.q("SELECT name FROM snap.projects WHERE id = ?", (project_id,))[0][0]

    def snapshot_collection(self, collection_id: int) -> tuple[str, str]:
        """(kind, name) of a set or character in the snapshot."""
        return tuple(self.q("SELECT kind, name FROM snap.collections WHERE id = ?", (collection_id,))[0])

    def q(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        return self.c.execute(sql, params).fetchall()

    # -- whole-library comparison ---------------------------------------------------------------

    def picture_sets(self) -> tuple[list[int], list[int], list[int]]:
        """(in both with different change stamps, only in the snapshot, only live)."""
        candidates = [
            r[0]
            for r in self.q(
                "SELECT m.id FROM main.pictures AS m INDEXED BY pictures_stamps JOIN snap.pictures AS s "
                "INDEXED BY pictures_stamps ON s.id = m.id WHERE m.meta_seq <> s.meta_seq"
            )
        ]  # content changes stamp too
        recreate = [
            r[0]
            for r in self.q(
                "SELECT s.id FROM snap.pictures s WHERE NOT EXISTS (SELECT 1 FROM main.pictures m WHERE m.id = s.id)"
            )
        ]
        delete = [
            r[0]
            for r in self.q(
                "SELECT m.id FROM main.pictures m WHERE NOT EXISTS (SELECT 1 FROM snap.pictures s WHERE s.id = m.id)"
            )
        ]
        return candidates, recreate, delete

    def organisation_changes(self) -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
        """(to delete, to recreate): the sets, characters and projects only live, or only in the snapshot,
        as (kind, id, name), each list by kind and name."""

        def only(here: str, there: str) -> list[tuple[str, int, str]]:
            return [
                (kind, row_id, name)
                for kind, row_id, name in self.q(
                    f"SELECT kind, id, name FROM {here}.collections c WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {there}.collections o WHERE o.id = c.id) "
                    f"UNION ALL SELECT 'project', id, name FROM {here}.projects p WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {there}.projects o WHERE o.id = p.id) ORDER BY 1, 3"
                )
            ]

        return only("main", "snap"), only("snap", "main")

    def count(self, schema: str) -> int:
        return self.q(f"SELECT count(*) FROM {schema}.pictures")[0][0]

    def signatures(self, schema: str, ids: Sequence[int]) -> dict[int, dict[str, object]]:
        """Everything restorable about each picture, comparable across the two databases.

        For many pictures each table of small rows is read once from end to end: a snapshot is read through
        chunks, and one sequential pass touches each chunk once where index lookups would jump between
        them."""
        out: dict[int, dict[str, object]] = {}
        if not ids:
            return out
        wanted = json.dumps(sorted(set(ids)))
        scan = "NOT INDEXED" if len(ids) > SCAN_ABOVE else ""
        keep = "IN (SELECT value FROM json_each(?))"
        for row in self.q(
            f"SELECT id, content_hash, {', '.join(_USER_COLUMNS)} FROM {schema}.pictures WHERE id {keep}", (wanted,)
        ):
            out[row[0]] = {
                "content_hash": row[1],
                **dict(zip(_USER_COLUMNS, row[2:], strict=True)),
                "tags": [],
                "predictions": [],
                "captions": [],
                "collections": [],
                "projects": [],
                "faces": [],
            }
        queries = {
            "tags": f"SELECT pt.picture_id, t.name || '|' || pt.source || '|' || coalesce(pt.confidence, '') "
            f"FROM {schema}.picture_tags AS pt {scan} JOIN {schema}.tags t ON t.id = pt.tag_id "
            f"WHERE pt.picture_id {keep}",
            "predictions": f"SELECT pr.picture_id, t.name || '|' || pr.engine_id || '|' || pr.confidence || '|' "
            f"|| pr.state FROM {schema}.predictions AS pr {scan} JOIN {schema}.tags t "
            f"ON t.id = pr.tag_id WHERE pr.picture_id {keep}",
            "captions": f"SELECT picture_id, source || '|' || text FROM {schema}.captions AS c {scan} "
            f"WHERE picture_id {keep}",
            "collections": f"SELECT picture_id, collection_id FROM {schema}.collection_members AS cm {scan} "
            f"WHERE picture_id {keep}",
            "projects": f"SELECT picture_id, project_id || '|' || direct FROM {schema}.project_members AS pm {scan} "
            f"WHERE picture_id {keep}",
            "faces": f"SELECT picture_id, engine_id || '|' || round(x0) || ',' || round(y0) || ',' || round(x1) "
            f"|| ',' || round(y1) || '|' || coalesce(character_id, '') FROM {schema}.faces AS f "
            f"WHERE picture_id {keep}",
        }
        for field, sql in queries.items():
            for picture_id, value in self.q(sql, (wanted,)):
                if picture_id in out:
                    out[picture_id][field].append(value)
        for signature in out.values():
            for field in ("tags", "predictions", "captions", "collections", "projects", "faces"):
                signature[field] = sorted(signature[field], key=str)
        return out

    def snapshot_files(self, ids: Sequence[int]) -> list[tuple[int, str, str, int]]:
        """(id, content hash, suffix, managed) of snapshot pictures."""
        rows: list[tuple[int, str, str, int]] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows += self.q(
                f"SELECT id, content_hash, suffix, managed FROM snap.pictures WHERE id IN ({_marks(chunk)})", chunk
            )
        return rows

    # -- vectors, for carrying indexes across a full restore ------------------------------------

    def vector_stamps(self, schema: str) -> dict[tuple[str, str], tuple[int, int]]:
        """(engine id, kind) -> (epoch, seq) of every vector set."""
        return {
            (engine, kind): (stamp, seq)
            for engine, kind, stamp, seq in self.q(f"SELECT engine_id, kind, stamp, seq FROM {schema}.vector_stamps")
        }

    def vector_keys(self, schema: str, engine_id: str, kind: str) -> np.ndarray:
        """Sorted keys that may have a vector: pictures with an embedding, or the engine's faces (reading
        face ids, not face vectors, keeps a snapshot's vectors unread)."""
        sql = (
            f"SELECT picture_id FROM {schema}.embeddings WHERE engine_id = ? ORDER BY picture_id"
            if kind == "image"
            else f"SELECT id FROM {schema}.faces WHERE engine_id = ? ORDER BY id"
        )
        return np.fromiter((r[0] for r in self.c.execute(sql, (engine_id,))), dtype=np.int64)

    def vectors_written_after(self, engine_id: str, kind: str, seq: int) -> np.ndarray:
        """Live keys whose vector was written after ``seq`` (the change log)."""
        sql = (
            "SELECT picture_id FROM main.embeddings WHERE engine_id = ? AND seq > ?"
            if kind == "image"
            else "SELECT v.face_id FROM main.face_vectors v JOIN main.faces f ON f.id = v.face_id "
            "WHERE f.engine_id = ? AND v.seq > ?"
        )
        return np.unique(np.fromiter((r[0] for r in self.c.execute(sql, (engine_id, seq))), dtype=np.int64))

    # -- restoring single resources (inside the caller's transaction) ----------------------------

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self.q(f"PRAGMA main.table_info({table})")]

    def exists(self, schema: str, table: str, row_id: int) -> bool:
        return bool(self.q(f"SELECT 1 FROM {schema}.{table} WHERE id = ?", (row_id,)))

    def copy_row(self, table: str, row_id: int) -> None:
        columns = ", ".join(self._columns(table))
        self.c.execute(
            f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM snap.{table} WHERE id = ?", (row_id,)
        )

    def pictures_in_snapshot(self, picture_ids: Sequence[int]) -> set[int]:
        return {
            r[0]
            for r in self.q(
                "SELECT id FROM snap.pictures WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(picture_ids)),),
            )
        }

    def hashes_taken(self, picture_ids: Sequence[int]) -> dict[int, int]:
        """Snapshot pictures whose content is now another live picture: {snapshot id: live id}."""
        return dict(
            self.q(
                "SELECT s.id, m.id FROM snap.pictures s JOIN main.pictures m "
                "ON m.content_hash = s.content_hash AND m.id <> s.id "
                "WHERE s.id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(picture_ids)),),
            )
        )

    def picture_references(self, picture_ids: Sequence[int]) -> tuple[set[int], set[int]]:
        """(collections, projects) the snapshot's pictures belong to, faces' characters included."""
        wanted = json.dumps(list(picture_ids))
        keep = "IN (SELECT value FROM json_each(?))"
        collections = {
            r[0]
            for r in self.q(
                f"SELECT collection_id FROM snap.collection_members WHERE picture_id {keep} UNION "
                f"SELECT character_id FROM snap.faces WHERE picture_id {keep} AND character_id IS NOT NULL",
                (wanted, wanted),
            )
        }
        projects = {
            r[0]
            for r in self.q(
                f"SELECT project_id FROM snap.project_members WHERE picture_id {keep} AND direct = 1", (wanted,)
            )
        }
        projects |= {
            r[0]
            for r in self.q(
                "SELECT project_id FROM snap.collections WHERE id IN (SELECT value FROM json_each(?)) "
                "AND project_id IS NOT NULL",
                (json.dumps(sorted(collections)),),
            )
        }
        return collections, projects

    def _map_tags(self, keep: str, wanted: str) -> None:
        """temp.tag_map: snapshot tag id -> live tag id (by name), making the tags that are gone."""
        self.c.execute("DROP TABLE IF EXISTS temp.tag_map")
        self.c.execute("CREATE TEMP TABLE tag_map (snap_id INTEGER PRIMARY KEY, live_id INTEGER NOT NULL)")
        used = (
            f"SELECT tag_id FROM snap.picture_tags WHERE picture_id {keep} "
            f"UNION SELECT tag_id FROM snap.predictions WHERE picture_id {keep}"
        )
        self.c.execute(
            f"INSERT INTO main.tags(name, category) SELECT s.name, s.category FROM snap.tags s "
            f"WHERE s.id IN ({used}) AND NOT EXISTS (SELECT 1 FROM main.tags m WHERE m.name = s.name)",
            (wanted, wanted),
        )
        self.c.execute(
            f"INSERT INTO temp.tag_map SELECT s.id, m.id FROM snap.tags s JOIN main.tags m "
            f"ON m.name = s.name WHERE s.id IN ({used})",
            (wanted, wanted),
        )

    def restore_pictures(self, picture_ids: Sequence[int]) -> None:
        """Put pictures' metadata back as it was, set by set (a few statements whatever the count):
        fields, tags, predictions, captions, generation data, faces, memberships, missing embeddings.
        The caller has checked that the pictures are in the snapshot and what they refer to exists."""
        if not picture_ids:
            return
        wanted = json.dumps(sorted(set(picture_ids)))
        keep = "IN (SELECT value FROM json_each(?))"

        def run(sql: str) -> None:  # every statement binds the id list once
            self.c.execute(sql, (wanted,))

        columns = ", ".join(self._columns("pictures"))
        run(
            f"CREATE TEMP TABLE restored_anew AS SELECT s.id FROM snap.pictures s WHERE s.id {keep} "
            f"AND NOT EXISTS (SELECT 1 FROM main.pictures m WHERE m.id = s.id)"
        )
        self.c.execute(
            f"INSERT INTO main.pictures ({columns}) SELECT {columns} FROM snap.pictures s "
            "WHERE s.id IN (SELECT id FROM temp.restored_anew)"
        )
        # A picture brought back whole comes back with whose it was; one still here keeps who may see it now.
        self.c.execute(
            "INSERT INTO main.picture_holders (user_id, picture_id, added_at) SELECT user_id, picture_id, added_at "
            "FROM snap.picture_holders WHERE picture_id IN (SELECT id FROM temp.restored_anew)"
        )
        self.c.execute("DROP TABLE temp.restored_anew")
        assignments = ", ".join(f"{c} = s.{c}" for c in _USER_COLUMNS)
        differs = " OR ".join(f"main.pictures.{c} IS NOT s.{c}" for c in _USER_COLUMNS)
        run(
            f"UPDATE main.pictures SET {assignments} FROM (SELECT * FROM snap.pictures WHERE id {keep}) s "
            f"WHERE main.pictures.id = s.id AND ({differs})"
        )  # unchanged pictures keep their change stamp
        self._map_tags(keep, wanted)
        self._write_differences(
            "picture_tags",
            f"SELECT tm.live_id AS tag_id, pt.picture_id, pt.source, pt.confidence "
            f"FROM snap.picture_tags pt JOIN temp.tag_map tm ON tm.snap_id = pt.tag_id WHERE pt.picture_id {keep}",
            wanted,
            key=("picture_id", "tag_id"),
            compared=("source", "confidence"),
            columns=("tag_id", "picture_id", "source", "confidence"),
        )
        run(f"DELETE FROM main.predictions WHERE picture_id {keep}")
        run(
            f"INSERT INTO main.predictions(picture_id, engine_id, tag_id, engine_version, confidence, state) "
            f"SELECT pr.picture_id, pr.engine_id, tm.live_id, pr.engine_version, pr.confidence, pr.state "
            f"FROM snap.predictions pr JOIN temp.tag_map tm ON tm.snap_id = pr.tag_id WHERE pr.picture_id {keep}"
        )
        for table in ("captions", "generation"):
            table_columns = ", ".join(self._columns(table))
            run(f"DELETE FROM main.{table} WHERE picture_id {keep}")
            run(
                f"INSERT INTO main.{table} ({table_columns}) SELECT {table_columns} FROM snap.{table} "
                f"WHERE picture_id {keep}"
            )
        self._restore_faces(keep, wanted)
        # Embeddings follow the picture's content, which a restore never changes: copy only what is gone.
        embedding_columns = ", ".join(c for c in self._columns("embeddings") if c != "id")
        run(
            f"INSERT INTO main.embeddings ({embedding_columns}) SELECT {embedding_columns} FROM snap.embeddings s "
            f"WHERE s.picture_id IN (SELECT value FROM json_each(?) WHERE NOT EXISTS "  # look only where one is gone
            f"(SELECT 1 FROM main.embeddings m WHERE m.picture_id = value)) AND NOT EXISTS "
            f"(SELECT 1 FROM main.embeddings m WHERE m.picture_id = s.picture_id AND m.engine_id = s.engine_id)"
        )
        self._write_differences(
            "collection_members",
            f"SELECT collection_id, picture_id, added_at FROM snap.collection_members WHERE picture_id {keep}",
            wanted,
            key=("picture_id", "collection_id"),
            compared=(),
            columns=("collection_id", "picture_id", "added_at"),
        )
        # Direct project memberships as they were; memberships through collections follow the triggers.
        run(f"UPDATE main.project_members SET direct = 0 WHERE picture_id {keep} AND direct = 1")
        run(
            f"INSERT INTO main.project_members(project_id, picture_id, direct) SELECT project_id, picture_id, 1 "
            f"FROM snap.project_members WHERE picture_id {keep} AND direct = 1 ON CONFLICT DO UPDATE SET direct = 1"
        )
        run(
            f"DELETE FROM main.project_members WHERE picture_id {keep} AND direct = 0 AND NOT EXISTS ("
            f"SELECT 1 FROM main.collection_members cm JOIN main.collections c ON c.id = cm.collection_id "
            f"WHERE cm.picture_id = main.project_members.picture_id "
            f"AND c.project_id = main.project_members.project_id)"
        )

    def _write_differences(
        self,
        table: str,
        rows_sql: str,
        wanted: str,
        key: tuple[str, ...],
        compared: tuple[str, ...],
        columns: tuple[str, ...],
    ) -> None:
        """Make ``main.<table>`` hold exactly the rows of ``rows_sql`` for the listed pictures, writing only
        the rows that differ: every write runs the counters' triggers."""
        temp = f"wanted_{table}"
        self.c.execute(f"DROP TABLE IF EXISTS temp.{temp}")
        self.c.execute(f"CREATE TEMP TABLE {temp} AS {rows_sql}", (wanted,))
        self.c.execute(f"CREATE INDEX temp.{temp}_key ON {temp}({', '.join(key)})")
        same = " AND ".join(
            [f"w.{c} = main.{table}.{c}" for c in key] + [f"w.{c} IS main.{table}.{c}" for c in compared]
        )
        self.c.execute(
            f"DELETE FROM main.{table} WHERE picture_id IN (SELECT value FROM json_each(?)) "
            f"AND NOT EXISTS (SELECT 1 FROM temp.{temp} w WHERE {same})",
            (wanted,),
        )
        listed = ", ".join(columns)
        self.c.execute(
            f"INSERT INTO main.{table}({listed}) SELECT {listed} FROM temp.{temp} WHERE true ON CONFLICT DO NOTHING"
        )

    def _restore_faces(self, keep: str, wanted: str) -> None:
        """Faces as they were (their character assignments are user data), with their vectors. Faces keep
        their ids; one whose id another picture's face took meanwhile gets a new id."""
        columns = [c for c in self._columns("faces") if c != "id"]
        listed = ", ".join(columns)
        same = " AND ".join(f"s.{c} IS main.faces.{c}" for c in columns)
        # Faces that are exactly as they were stay (with their vectors); the others are replaced.
        self.c.execute(
            f"DELETE FROM main.faces WHERE picture_id {keep} AND NOT EXISTS (SELECT 1 FROM snap.faces s "
            f"WHERE s.id = main.faces.id AND {same})",
            (wanted,),
        )
        self.c.execute("DROP TABLE IF EXISTS temp.new_faces")
        self.c.execute(
            f"CREATE TEMP TABLE new_faces AS SELECT s.id FROM snap.faces s WHERE s.picture_id {keep} "
            f"AND NOT EXISTS (SELECT 1 FROM main.faces m WHERE m.id = s.id)",
            (wanted,),
        )
        self.c.execute(
            f"INSERT INTO main.faces (id, {listed}) SELECT id, {listed} FROM snap.faces "
            f"WHERE id IN (SELECT id FROM temp.new_faces)"
        )
        self.c.execute(
            "INSERT INTO main.face_vectors(face_id, vector) SELECT face_id, vector FROM snap.face_vectors "
            "WHERE face_id IN (SELECT id FROM temp.new_faces)"
        )
        for row in self.q(
            f"SELECT s.id, {', '.join('s.' + c for c in columns)} FROM snap.faces s "
            f"JOIN main.faces m ON m.id = s.id AND m.picture_id <> s.picture_id "
            f"WHERE s.picture_id {keep}",
            (wanted,),
        ):
            new_id = self.q(f"INSERT INTO main.faces ({listed}) VALUES ({_marks(columns)}) RETURNING id", row[1:])[0][0]
            self.c.execute(
                "INSERT INTO main.face_vectors(face_id, vector) SELECT ?, vector FROM snap.face_vectors "
                "WHERE face_id = ?",
                (new_id, row[0]),
            )

    def restore_collection(self, collection_id: int) -> list[int]:
        """A set or character as it was: fields, project and members. Returns members that no longer exist."""
        if self.exists("main", "collections", collection_id):
            self.c.execute(
                "UPDATE main.collections SET name = s.name, description = s.description, color = s.color, "
                "project_id = s.project_id FROM (SELECT * FROM snap.collections WHERE id = ?) s "
                "WHERE main.collections.id = s.id",
                (collection_id,),
            )
        else:
            self.recreate_collection(collection_id)
        self.c.execute("DELETE FROM main.collection_members WHERE collection_id = ?", (collection_id,))
        self.c.execute(
            "INSERT INTO main.collection_members(collection_id, picture_id, added_at) "
            "SELECT sm.collection_id, sm.picture_id, sm.added_at FROM snap.collection_members sm "
            "WHERE sm.collection_id = ? AND EXISTS "
            "(SELECT 1 FROM main.pictures p WHERE p.id = sm.picture_id)",
            (collection_id,),
        )
        return [
            r[0]
            for r in self.q(
                "SELECT picture_id FROM snap.collection_members sm WHERE collection_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM main.pictures p WHERE p.id = sm.picture_id)",
                (collection_id,),
            )
        ]

    def recreate_collection(self, collection_id: int) -> None:
        """The collection row alone, empty: members come back through their own inserts (and counters)."""
        self.c.execute(
            "INSERT INTO main.collections(id, kind, name, project_id, description, color, member_count, "
            "created_at) SELECT id, kind, name, project_id, description, color, 0, created_at "
            "FROM snap.collections WHERE id = ?",
            (collection_id,),
        )

    def restore_project(self, project_id: int) -> list[int]:
        """A project as it was: fields, direct members and which characters and sets it holds."""
        if self.exists("main", "projects", project_id):
            self.c.execute(
                "UPDATE main.projects SET name = s.name, description = s.description, color = s.color "
                "FROM (SELECT * FROM snap.projects WHERE id = ?) s WHERE main.projects.id = s.id",
                (project_id,),
            )
        else:
            self.copy_row("projects", project_id)
        self.c.execute(
            "UPDATE main.collections SET project_id = NULL WHERE project_id = ? AND id NOT IN "
            "(SELECT id FROM snap.collections WHERE project_id = ?)",
            (project_id, project_id),
        )
        self.c.execute(
            "UPDATE main.collections SET project_id = ? WHERE id IN "
            "(SELECT id FROM snap.collections WHERE project_id = ?)",
            (project_id, project_id),
        )
        self.c.execute("UPDATE main.project_members SET direct = 0 WHERE project_id = ?", (project_id,))
        self.c.execute(
            "DELETE FROM main.project_members WHERE project_id = ? AND direct = 0 AND picture_id NOT IN ("
            "SELECT cm.picture_id FROM main.collection_members cm JOIN main.collections c "
            "ON c.id = cm.collection_id WHERE c.project_id = ?)",
            (project_id, project_id),
        )
        self.c.execute(
            "INSERT INTO main.project_members(project_id, picture_id, direct) "
            "SELECT project_id, picture_id, 1 FROM snap.project_members sp "
            "WHERE project_id = ? AND direct = 1 AND EXISTS "
            "(SELECT 1 FROM main.pictures p WHERE p.id = sp.picture_id) "
            "ON CONFLICT DO UPDATE SET direct = 1",
            (project_id,),
        )
        return [
            r[0]
            for r in self.q(
                "SELECT picture_id FROM snap.project_members sp WHERE project_id = ? AND direct = 1 AND NOT EXISTS "
                "(SELECT 1 FROM main.pictures p WHERE p.id = sp.picture_id)",
                (project_id,),
            )
        ]
