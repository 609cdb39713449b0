"""Where an enrichment batch's checked results go: the library's stores, inside the worker's write
transaction. Vectors written are collected for the vector index, which is updated after the commit."""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..db.ocr import TextStore
from ..db.pictures import PictureStore
from ..db.scores import ScoreStore
from ..db.tags import TagStore
from ..db.vectors import FaceRow, VectorStore
from ..domain import TextRun
from ..engines import Engine, Face, TagScore, TextRegion

__all__ = ["BatchSink", "ResultStores", "scale_faces"]


class ResultStores(msgspec.Struct, frozen=True):
    """The stores engine results are written to."""

    pictures: PictureStore
    tags: TagStore
    vectors: VectorStore
    scores: ScoreStore
    texts: TextStore


class BatchSink:
    """The ``ResultSink`` of one batch of one engine (see ``pixlstash.engines.tasks``)."""

    def __init__(
        self, stores: ResultStores, engine: Engine, now: int, sizes: dict, originals: dict, parameters: dict
    ) -> None:
        self.pictures, self.tags, self.vectors = stores.pictures, stores.tags, stores.vectors
        self.scores, self.texts = stores.scores, stores.texts
        self.engine, self.now, self.parameters = engine, now, parameters
        self.sizes, self.originals = sizes, originals  # picture id -> (w, h) the engine saw / of the original
        self.added_keys: list[int] = []
        self.added_vectors: list[np.ndarray] = []
        self.removed_keys: list[int] = []

    def put_embedding(self, picture_id: int, vector: np.ndarray) -> None:
        engine = self.engine
        self.vectors.put_embedding(picture_id, engine.id, engine.version, vector, self.now)
        self.added_keys.append(picture_id)
        self.added_vectors.append(vector)

    def set_predictions(self, picture_id: int, tags: list[TagScore]) -> None:
        scores = [(self.tags.ensure(tag.name, tag.category), tag.score) for tag in tags]
        self.tags.set_predictions(picture_id, self.engine.id, self.engine.version, scores)

    def set_caption(self, picture_id: int, text: str) -> None:
        used = self.parameters.get(picture_id, {})
        self.pictures.set_caption(picture_id, self.engine.id, text or None, self.engine.version, self.now, used)

    def set_score(self, picture_id: int, value: float | None) -> None:
        self.scores.put(picture_id, self.engine.id, self.engine.version, value, self.now)

    def set_text(self, picture_id: int, regions: list[TextRegion]) -> None:
        seen = self.sizes.get(picture_id) or (1, 1)
        sx, sy = _scale(seen, self.originals.get(picture_id) or seen)
        runs = [
            TextRun(region.text, [round(v * (sx if n % 2 == 0 else sy), 1) for n, v in enumerate(region.quad)])
            for region in regions
        ]
        self.texts.put(picture_id, self.engine.id, self.engine.version, runs, self.now)
        self.pictures.refresh_text([picture_id])  # its words in the full-text index

    def replace_faces(self, picture_id: int, faces: list[Face]) -> None:
        seen = self.sizes.get(picture_id) or (1, 1)
        engine = self.engine
        unit = not getattr(engine, "learned_likeness", False)
        rows = scale_faces(faces, seen, self.originals.get(picture_id) or seen, unit=unit)
        removed, new_ids = self.vectors.replace_faces(picture_id, engine.id, engine.version, rows, self.now)
        self.removed_keys.extend(removed)
        for face_id, row in zip(new_ids, rows, strict=True):
            if row.vector is not None:
                self.added_keys.append(face_id)
                self.added_vectors.append(row.vector)


def scale_faces(
    faces: list[Face], seen: tuple[int, int], original: tuple[int, int], unit: bool = True
) -> list[FaceRow]:
    """Face rows in the original's pixels, each with its vector (None without one): normalised, or as the
    engine gave it when ``unit`` is False (a learned metric may read its length)."""
    sx, sy = _scale(seen, original)
    rows = []
    for face in faces:
        x0, y0, x1, y1 = face.box
        box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
        landmarks = [(x * sx, y * sy) for x, y in face.landmarks]
        vector = None
        if face.embedding:
            raw = np.asarray(face.embedding, dtype=np.float32)
            norm = float(np.linalg.norm(raw))
            vector = (raw / norm if unit else raw) if norm > 0 and math.isfinite(norm) else None
        rows.append(FaceRow(box, float(face.score), landmarks, vector, face.frame, face.frame_seconds))
    return rows


def _scale(seen: tuple[int, int], original: tuple[int, int]) -> tuple[float, float]:
    """From the pixels of the image the engine saw to the original's."""
    return (original[0] / seen[0] if seen[0] else 1.0, original[1] / seen[1] if seen[1] else 1.0)
