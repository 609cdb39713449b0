"""SQL for vectors: picture embeddings and faces with their identity vectors (the source of truth).

Vectors are float32 little-endian blobs. Vector indexes on disk are caches rebuilt from these rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import msgspec
import numpy as np

from ..domain.boxes import box_overlap
from .database import IN_IDS, Database, ids_json
from .faces import pictures_of_faces

__all__ = ["XMP_FACES", "FaceRow", "FaceSource", "VectorStore"]


XMP_FACES = "xmp"  # the engine of the face boxes a picture's XMP names (importing/photo_facts.py)


class FaceRow(NamedTuple):
    """A face to store: box and landmarks in the original's pixels, its normalised vector if any."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: list[tuple[float, float]]
    vector: np.ndarray | None
    frame: int = 0
    frame_seconds: float | None = None


class FaceSource(NamedTuple):
    picture_id: int
    box: tuple[float, float, float, float]
    frame: int
    frame_seconds: float | None


class VectorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- picture embeddings ---------------------------------------------------------------------

    def put_embedding(self, picture_id: int, engine_id: str, engine_version: str, vector: np.ndarray, now: int) -> None:
        blob = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        self.db.execute(
            "INSERT INTO embeddings(picture_id, engine_id, engine_version, dims, vector, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (engine_id, picture_id) DO UPDATE SET "
            "engine_version = excluded.engine_version, dims = excluded.dims, vector = excluded.vector, "
            "created_at = excluded.created_at",
            (picture_id, engine_id, engine_version, len(vector), blob, now),
        )

    def embeddings(self, engine_id: str, picture_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of these pictures for one engine (pictures without one are left out)."""
        rows = self.db.query(
            f"SELECT picture_id, vector FROM embeddings WHERE engine_id = ? AND picture_id {IN_IDS}",
            (engine_id, ids_json(picture_ids)),
        )
        return {picture_id: np.frombuffer(blob, dtype="<f4") for picture_id, blob in rows}

    def iter_embeddings(self, engine_id: str, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(picture ids, vectors) in batches, for rebuilding an index."""
        yield from self._iter(
            "SELECT picture_id, picture_id, vector FROM embeddings WHERE engine_id = ? "
            "AND picture_id > ? ORDER BY picture_id LIMIT ?",
            engine_id,
            batch,
        )

    def embedding_engines(self) -> list[tuple[str, int, int]]:
        """(engine id, dimensions, count) of every engine with stored embeddings."""
        return self.db.query("SELECT engine_id, max(dims), count(*) FROM embeddings GROUP BY engine_id")

    # -- faces ----------------------------------------------------------------------------------

    def replace_faces(
        self,
        picture_id: int,
        engine_id: str,
        engine_version: str,
        faces: Sequence[FaceRow],
        now: int,
    ) -> tuple[list[int], list[int]]:
        """Replace one engine's faces on a picture; faces already assigned to a character keep it when they
        overlap a new face on the same frame well (so re-running a detector does not undo the user's work),
        and a new face on the spot of a face photo software named (``XMP_FACES``) takes that name.

        Returns (removed face ids, new face ids)."""
        removed = [
            r[0]
            for r in self.db.query(
                "SELECT id FROM faces WHERE picture_id = ? AND engine_id = ?", (picture_id, engine_id)
            )
        ]
        old = self.db.query(
            "SELECT x0, y0, x1, y1, frame, character_id FROM faces WHERE picture_id = ? AND engine_id IN (?, ?) "
            "AND character_id IS NOT NULL ORDER BY engine_id = ? DESC",
            (picture_id, engine_id, XMP_FACES, engine_id),
        )
        self.db.execute("DELETE FROM faces WHERE picture_id = ? AND engine_id = ?", (picture_id, engine_id))
        ids = []
        for face in faces:
            character = next(
                (c for *b, frame, c in old if frame == face.frame and box_overlap(b, face.box) >= 0.5), None
            )
            self.db.execute(
                "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, landmarks, "
                "character_id, frame, frame_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    picture_id,
                    engine_id,
                    engine_version,
                    *face.box,
                    face.score,
                    msgspec.json.encode(face.landmarks).decode(),
                    character,
                    face.frame,
                    face.frame_seconds,
                    now,
                ),
            )
            face_id = self.db.connection.last_insert_rowid()
            if face.vector is not None and len(face.vector):
                self.db.execute(
                    "INSERT INTO face_vectors(face_id, vector) VALUES (?, ?)",
                    (face_id, np.ascontiguousarray(face.vector, dtype="<f4").tobytes()),
                )
            ids.append(face_id)
        return removed, ids

    def face_vectors(self, face_ids: Sequence[int]) -> dict[int, np.ndarray]:
        rows = self.db.query(f"SELECT face_id, vector FROM face_vectors WHERE face_id {IN_IDS}", (ids_json(face_ids),))
        return {face_id: np.frombuffer(blob, dtype="<f4") for face_id, blob in rows}

    def faces_of_pictures(self, picture_ids: Sequence[int]) -> list[tuple[int, str, float, np.ndarray]]:
        """(picture id, engine id, box area, vector) of every face found on these pictures with a vector."""
        rows = self.db.query(
            "SELECT f.picture_id, f.engine_id, (f.x1 - f.x0) * (f.y1 - f.y0), v.vector FROM faces f "
            f"JOIN face_vectors v ON v.face_id = f.id WHERE f.picture_id {IN_IDS}",
            (ids_json(picture_ids),),
        )
        return [
            (picture_id, engine_id, area, np.frombuffer(blob, dtype="<f4"))
            for picture_id, engine_id, area, blob in rows
        ]

    def iter_face_vectors(self, engine_id: str, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield from self._iter(
            "SELECT v.face_id, v.face_id, v.vector FROM face_vectors v JOIN faces f "
            "ON f.id = v.face_id WHERE f.engine_id = ? AND v.face_id > ? ORDER BY v.face_id LIMIT ?",
            engine_id,
            batch,
        )

    def face_source(self, face_id: int) -> FaceSource | None:
        """Where a face was found: its picture, box, and the video frame (index, seconds)."""
        row = self.db.query(
            "SELECT picture_id, x0, y0, x1, y1, frame, frame_seconds FROM faces WHERE id = ?", (face_id,)
        )
        if not row:
            return None
        picture_id, x0, y0, x1, y1, frame, seconds = row[0]
        return FaceSource(picture_id, (x0, y0, x1, y1), frame, seconds)

    def faces_of(self, face_ids: Sequence[int]) -> dict[int, tuple[int, tuple[float, float, float, float]]]:
        """face id -> (picture id, box)."""
        rows = self.db.query(
            f"SELECT id, picture_id, x0, y0, x1, y1 FROM faces WHERE id {IN_IDS}", (ids_json(face_ids),)
        )
        return {face_id: (picture_id, tuple(box)) for face_id, picture_id, *box in rows}

    def character_faces(self, character_id: int) -> list[tuple[int, str]]:
        """(face id, engine id) of every face named as this character."""
        return [
            (r[0], r[1])
            for r in self.db.query(
                "SELECT id, engine_id FROM faces WHERE character_id = ? ORDER BY id", (character_id,)
            )
        ]

    def named_or_rejected(self, character_id: int, face_ids: Sequence[int]) -> set[int]:
        """Those faces already named (as any character) or rejected for this one."""
        rows = self.db.query(
            f"SELECT id FROM faces WHERE id {IN_IDS} AND (character_id IS NOT NULL OR EXISTS "
            "(SELECT 1 FROM face_rejections r WHERE r.face_id = faces.id AND r.character_id = ?))",
            (ids_json(face_ids), character_id),
        )
        return {r[0] for r in rows}

    def reject_faces(self, character_id: int, face_ids: Sequence[int]) -> None:
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO face_rejections(character_id, face_id) SELECT ?, id FROM faces WHERE id = ?",
            [(character_id, face_id) for face_id in face_ids],
        )

    def existing_faces(self, face_ids: Sequence[int]) -> list[int]:
        return [r[0] for r in self.db.query(f"SELECT id FROM faces WHERE id {IN_IDS}", (ids_json(face_ids),))]

    def face_pictures(self, face_ids: Sequence[int]) -> dict[int, int]:
        """The picture each existing face is on."""
        return pictures_of_faces(self.db, face_ids)

    def face_picture(self, face_id: int) -> int | None:
        return self.db.scalar("SELECT picture_id FROM faces WHERE id = ?", (face_id,))

    def set_face_character(self, face_id: int, character_id: int | None) -> None:
        # A named face leaves its cluster; one named again by hand is no longer an automatic naming; an
        # unnamed one is placed in a cluster at the next update.
        self.db.execute(
            "UPDATE faces SET character_id = ?, cluster_id = NULL, assigned_by = NULL WHERE id = ?",
            (character_id, face_id),
        )

    def faces_on(self, engine_id: str, picture_ids: Sequence[int]) -> list[int]:
        """The ids of one engine's faces with a vector on these pictures."""
        rows = self.db.query(
            f"SELECT f.id FROM faces f JOIN face_vectors v ON v.face_id = f.id WHERE f.engine_id = ? "
            f"AND f.picture_id {IN_IDS} ORDER BY f.id",
            (engine_id, ids_json(picture_ids)),
        )
        return [r[0] for r in rows]

    def face_engine(self, face_id: int) -> str | None:
        return self.db.scalar("SELECT engine_id FROM faces WHERE id = ?", (face_id,))

    # -- stamps ---------------------------------------------------------------------------------

    def stamp(self, engine_id: str, kind: str) -> tuple[int, int] | None:
        """(epoch, seq) of the vectors of (engine, kind): seq counts every vector written, and the epoch
        changes when a full restore replaces them all. A saved index is current while it matches."""
        rows = self.db.query("SELECT stamp, seq FROM vector_stamps WHERE engine_id = ? AND kind = ?", (engine_id, kind))
        return (rows[0][0], rows[0][1]) if rows else None

    def new_epoch(self) -> None:
        """Every vector set starts a new epoch: indexes saved before no longer count as catching up."""
        self.db.execute("UPDATE vector_stamps SET stamp = random()")

    def embeddings_since(
        self, engine_id: str, seq: int, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(picture ids, vectors) written after ``seq``, for bringing an index up to date."""
        yield from self._iter(
            "SELECT seq, picture_id, vector FROM embeddings WHERE engine_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            engine_id,
            batch,
            after=seq,
        )

    def face_vectors_since(
        self, engine_id: str, seq: int, batch: int = 10_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield from self._iter(
            "SELECT v.seq, v.face_id, v.vector FROM face_vectors v JOIN faces f ON f.id = v.face_id "
            "WHERE f.engine_id = ? AND v.seq > ? ORDER BY v.seq LIMIT ?",
            engine_id,
            batch,
            after=seq,
        )

    def _iter(self, sql: str, engine_id: str, batch: int, after: int = -1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Keyset pages of (keys, vectors); each row is (position, key, vector), the position ordering the pages."""
        while True:
            rows = self.db.query(sql, (engine_id, after, batch))
            if not rows:
                return
            keys = np.fromiter((r[1] for r in rows), dtype=np.uint64, count=len(rows))
            vectors = np.stack([np.frombuffer(r[2], dtype="<f4") for r in rows])
            yield keys, vectors
            after = rows[-1][0]
