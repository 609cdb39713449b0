"""Checking what an engine returned and turning it into rows: embeddings, predictions, captions, faces.

Engines are third-party code, so every result is validated before it touches the library: the right
count, finite numbers, scores in range. Face boxes come back in the pixels of the image the engine saw
and are stored in the original's pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engines import Captioner, Embedder, Engine, Face, FaceExtractor, Tagger, TagScore, Task

__all__ = ["EngineOutputError", "compute", "field_for"]


class EngineOutputError(ValueError):
    """The engine returned something the library cannot store."""


def field_for(task: Task) -> str:
    """The picture field an engine of this task changes (named in change events)."""
    return {Task.EMBEDDER: "embeddings", Task.TAGGER: "predictions", Task.CAPTIONER: "captions", Task.FACES: "faces"}[
        task
    ]


def compute(engine: Engine, images: Sequence, parameters: dict[str, Any]) -> list[Any]:
    """Run the engine over ``images``; one validated result per image, in order."""
    declared = {p.name for p in engine.parameters()}
    kwargs = {k: v for k, v in parameters.items() if k in declared}
    if isinstance(engine, Embedder):
        vectors = np.asarray(engine.embed_images(images, **kwargs), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(images):
            raise EngineOutputError(f"{engine.id} returned vectors of shape {vectors.shape} for {len(images)} images")
        if vectors.shape[1] != engine.dimensions:
            raise EngineOutputError(
                f"{engine.id} declares {engine.dimensions} dimensions but returned {vectors.shape[1]}"
            )
        return [_normalised(engine, row) for row in vectors]
    if isinstance(engine, Tagger):
        return _checked(engine, engine.tag(images, **kwargs), images, _tags)
    if isinstance(engine, Captioner):
        return _checked(engine, engine.describe(images, **kwargs), images, _caption)
    if isinstance(engine, FaceExtractor):
        return _checked(engine, engine.extract(images, **kwargs), images, _faces)
    raise EngineOutputError(f"{engine.id} is not an engine of a known task")


def _checked(engine: Engine, results: Any, images: Sequence, check) -> list[Any]:
    results = list(results)
    if len(results) != len(images):
        raise EngineOutputError(f"{engine.id} returned {len(results)} results for {len(images)} images")
    return [check(engine, result) for result in results]


def _normalised(engine: Engine, vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if not math.isfinite(norm) or norm == 0:
        raise EngineOutputError(f"{engine.id} returned a vector that is zero or not finite")
    return vector / norm


def _tags(engine: Engine, tags: Any) -> list[TagScore]:
    checked = []
    for tag in tags:
        if not isinstance(tag, TagScore) or not tag.name.strip():
            raise EngineOutputError(f"{engine.id} returned a tag that is not a named TagScore: {tag!r}")
        if not (math.isfinite(tag.score) and 0.0 <= tag.score <= 1.0):
            raise EngineOutputError(f"{engine.id} returned tag {tag.name!r} with score {tag.score} outside [0, 1]")
        checked.append(tag)
    return checked


def _caption(engine: Engine, text: Any) -> str:
    if not isinstance(text, str):
        raise EngineOutputError(f"{engine.id} returned a caption that is not text")
    return text.strip()


def _faces(engine: Engine, faces: Any) -> list[Face]:
    checked = []
    for face in faces:
        if not isinstance(face, Face) or len(face.box) != 4 or not all(math.isfinite(v) for v in face.box):
            raise EngineOutputError(f"{engine.id} returned a face without a finite box")
        if face.embedding and len(face.embedding) != engine.dimensions:  # type: ignore[attr-defined]
            raise EngineOutputError(f"{engine.id} returned a face vector of {len(face.embedding)} dimensions")
        checked.append(face)
    return checked


def scale_faces(faces: list[Face], seen: tuple[int, int], original: tuple[int, int]) -> list[tuple]:
    """Face rows in the original's pixels: (box, score, landmarks, normalised vector or None)."""
    sx = original[0] / seen[0] if seen[0] else 1.0
    sy = original[1] / seen[1] if seen[1] else 1.0
    rows = []
    for face in faces:
        x0, y0, x1, y1 = face.box
        box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
        landmarks = [(x * sx, y * sy) for x, y in face.landmarks]
        vector = None
        if face.embedding:
            raw = np.asarray(face.embedding, dtype=np.float32)
            norm = float(np.linalg.norm(raw))
            vector = raw / norm if norm > 0 and math.isfinite(norm) else None
        rows.append((box, float(face.score), landmarks, vector))
    return rows
