"""Faces as people: clusters of unnamed faces (one person each), their sizes and covers."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import CharacterFace, FaceCluster
from .database import IN_IDS, Database, ids_json
from .visibility import visible_sql

__all__ = ["FaceStore", "pictures_of_faces"]


def pictures_of_faces(db: Database, face_ids: Sequence[int]) -> dict[int, int]:
    """face id -> the picture it is on, for those that exist."""
    return dict(db.query(f"SELECT id, picture_id FROM faces WHERE id {IN_IDS}", (ids_json(face_ids),)))


class FaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def engines_with_unclustered(self) -> list[str]:
        return [
            r[0]
            for r in self.db.query(
                "SELECT DISTINCT f.engine_id FROM faces f JOIN face_vectors v ON v.face_id = f.id "
                "WHERE f.cluster_id IS NULL AND f.character_id IS NULL"
            )
        ]

    def unclustered(self, engine_id: str, limit: int = 10_000) -> list[int]:
        """Unnamed faces with a vector that no cluster holds yet, oldest first."""
        return [
            r[0]
            for r in self.db.query(
                "SELECT f.id FROM faces f JOIN face_vectors v ON v.face_id = f.id WHERE f.engine_id = ? "
                "AND f.cluster_id IS NULL AND f.character_id IS NULL ORDER BY f.id LIMIT ?",
                (engine_id, limit),
            )
        ]

    def clusters_of(self, face_ids: Sequence[int]) -> dict[int, int | None]:
        """face id -> its cluster (None: named, or not clustered yet)."""
        rows = self.db.query(f"SELECT id, cluster_id, character_id FROM faces WHERE id {IN_IDS}", (ids_json(face_ids),))
        return {face_id: None if character_id is not None else cluster_id for face_id, cluster_id, character_id in rows}

    def set_cluster(self, face_ids: Sequence[int], cluster_id: int) -> None:
        self.db.execute(f"UPDATE faces SET cluster_id = ? WHERE id {IN_IDS}", (cluster_id, ids_json(face_ids)))

    def merge_clusters(self, clusters: Sequence[int], into: int) -> None:
        self.db.execute(f"UPDATE faces SET cluster_id = ? WHERE cluster_id {IN_IDS}", (into, ids_json(clusters)))

    def cluster_faces(self, cluster_id: int) -> list[int]:
        """The cluster's faces on pictures the account in force may see (naming a cluster names only those)."""
        visible, params = visible_sql("p")
        return [
            r[0]
            for r in self.db.query(
                "SELECT f.id FROM faces f JOIN pictures p ON p.id = f.picture_id WHERE f.cluster_id = ? "
                f"AND {visible} ORDER BY f.id",
                (cluster_id, *params),
            )
        ]

    def reset_clusters(self) -> None:
        self.db.execute("UPDATE faces SET cluster_id = NULL WHERE cluster_id IS NOT NULL")

    def clusters(self, min_faces: int = 2, limit: int = 100) -> list[FaceCluster]:
        """Unnamed people, largest first, only faces on live pictures the account in force may see counted."""
        visible, params = visible_sql("p")
        cover_visible, cover_params = visible_sql("cp")
        rows = self.db.query(
            "SELECT f.cluster_id, f.engine_id, count(*), count(DISTINCT f.picture_id), "
            "(SELECT c.id FROM faces c JOIN pictures cp ON cp.id = c.picture_id "
            f"WHERE c.cluster_id = f.cluster_id AND {cover_visible} ORDER BY c.score DESC, c.id LIMIT 1) "
            "FROM faces f JOIN pictures p ON p.id = f.picture_id AND p.deleted_at IS NULL "
            f"WHERE f.cluster_id IS NOT NULL AND f.character_id IS NULL AND {visible} "
            "GROUP BY f.cluster_id, f.engine_id HAVING count(*) >= ? ORDER BY count(*) DESC, f.cluster_id LIMIT ?",
            (*cover_params, *params, min_faces, limit),
        )
        covers = pictures_of_faces(self.db, [r[4] for r in rows])
        return [FaceCluster(r[0], r[1], r[2], r[3], r[4], covers[r[4]]) for r in rows]

    def named_counts(self) -> dict[int, tuple[int, int, int, int]]:
        """character id -> (named faces, of them automatic, cover face id, its picture id), live pictures the
        account in force may see only."""
        visible, params = visible_sql("p")
        cover_visible, cover_params = visible_sql("cp")
        rows = self.db.query(
            "SELECT f.character_id, count(*), count(f.assigned_by), "
            "(SELECT c.id FROM faces c JOIN pictures cp ON cp.id = c.picture_id AND cp.deleted_at IS NULL "
            f"WHERE c.character_id = f.character_id AND {cover_visible} ORDER BY c.score DESC, c.id LIMIT 1) "
            "FROM faces f JOIN pictures p ON p.id = f.picture_id AND p.deleted_at IS NULL "
            f"WHERE f.character_id IS NOT NULL AND {visible} GROUP BY f.character_id",
            (*cover_params, *params),
        )
        covers = pictures_of_faces(self.db, [r[3] for r in rows])
        return {r[0]: (r[1], r[2], r[3], covers[r[3]]) for r in rows}

    def character_faces(self, character_id: int, limit: int, offset: int = 0) -> list[CharacterFace]:
        """The faces named as a character on live pictures: those named automatically first (the ones to
        check), then the least confident, so a wrong face is near the top."""
        visible, params = visible_sql("p")
        return [
            CharacterFace(r[0], r[1], r[2], r[3] is not None, r[4])
            for r in self.db.query(
                "SELECT f.id, f.picture_id, f.score, f.assigned_by, f.frame_seconds FROM faces f "
                "JOIN pictures p ON p.id = f.picture_id AND p.deleted_at IS NULL WHERE f.character_id = ? "
                f"AND {visible} ORDER BY f.assigned_by IS NULL, f.score, f.id LIMIT ? OFFSET ?",
                (character_id, *params, limit, offset),
            )
        ]

    def unnamed_on(self, picture_id: int) -> list[tuple[int, str]]:
        """(face id, engine id) of the picture's faces that no character names, in order."""
        return self.db.query(
            "SELECT id, engine_id FROM faces WHERE picture_id = ? AND character_id IS NULL ORDER BY id", (picture_id,)
        )

    def named_as(self, face_ids: Sequence[int]) -> dict[int, int]:
        """face id -> the character naming it, for those named."""
        return dict(
            self.db.query(
                f"SELECT id, character_id FROM faces WHERE id {IN_IDS} AND character_id IS NOT NULL",
                (ids_json(face_ids),),
            )
        )

    def pictures_still_named(self, picture_ids: Sequence[int], character_id: int) -> set[int]:
        """Those pictures that still have a face named as the character."""
        rows = self.db.query(
            f"SELECT DISTINCT picture_id FROM faces WHERE picture_id {IN_IDS} AND character_id = ?",
            (ids_json(picture_ids), character_id),
        )
        return {r[0] for r in rows}

    def mark_automatic(self, face_ids: Sequence[int]) -> None:
        """Say these faces were named automatically (naming one by hand clears it)."""
        self.db.execute(f"UPDATE faces SET assigned_by = 'auto' WHERE id {IN_IDS}", (ids_json(face_ids),))

    def automatic(self, character_id: int | None = None) -> list[int]:
        """Faces named automatically (of one character, or of any)."""
        if character_id is None:
            rows = self.db.query("SELECT id FROM faces WHERE assigned_by = 'auto' ORDER BY id")
        else:
            rows = self.db.query(
                "SELECT id FROM faces WHERE assigned_by = 'auto' AND character_id = ? ORDER BY id", (character_id,)
            )
        return [r[0] for r in rows]
