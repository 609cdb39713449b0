"""One table of what each kind of engine does: its base class, the hook that registers it, how a batch
is run and its output checked, where the results go, the picture field they change and the vector index
they feed. The registry, the enrichment worker and the web routes read this table, so a new kind of
engine is one entry here.

Engines are third-party code, so every result is validated before it touches the library: the right
count, finite numbers, scores in range. Storing goes through a ``ResultSink`` that the enrichment
layer implements over the library's stores: this module never touches the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import msgspec
import numpy as np

from ..domain.boxes import box_overlap
from .base import (
    Captioner,
    Embedder,
    Engine,
    Face,
    FaceExtractor,
    Scorer,
    Tagger,
    TagScore,
    Task,
    TextReader,
    TextRegion,
)

__all__ = ["SAME_PERSON_ACROSS_FRAMES", "TASKS", "EngineOutputError", "ResultSink", "TaskSpec", "run_engine"]


class EngineOutputError(ValueError):
    """The engine returned something the library cannot store."""


class ResultSink(Protocol):
    """Where one batch's checked results are written (the enrichment layer, inside its transaction)."""

    def put_embedding(self, picture_id: int, vector: np.ndarray) -> None: ...
    def set_predictions(self, picture_id: int, tags: list[TagScore]) -> None: ...
    def set_caption(self, picture_id: int, text: str) -> None: ...
    def replace_faces(self, picture_id: int, faces: list[Face]) -> None: ...
    def set_score(self, picture_id: int, value: float | None) -> None: ...
    def set_text(self, picture_id: int, regions: list[TextRegion]) -> None: ...


@dataclass(frozen=True)
class TaskSpec:
    task: Task
    base: type[Engine]
    hook: str  # the ``register_*`` hook plugins register these engines through
    field: str  # the picture field its results change, named in change events
    vector_kind: Literal["image", "face"] | None  # the vector index its results feed, if any
    run: Callable[[Engine, Sequence, dict[str, Any]], list[Any]]  # one checked result per image
    store: Callable[[ResultSink, int, Any], None]
    plugins: str  # the plugins of ours that provide such engines, for "no engine installed" messages
    # How many of a video's frames the engine sees (the poster and the rest spread through it), and how
    # one result per frame ((frame index, seconds), result) becomes the picture's result.
    video_frames: int = 1
    merge_frames: Callable[[list[tuple[int, float | None]], list[Any]], Any] = lambda frames, results: results[0]


def run_engine(engine: Engine, images: Sequence, parameters: dict[str, Any]) -> list[Any]:
    """Run ``engine`` over ``images`` with the parameters it declares; one checked result per image."""
    declared = {p.name for p in engine.parameters()}
    kwargs = {k: v for k, v in parameters.items() if k in declared}
    return TASKS[engine.task].run(engine, images, kwargs)


def _embed(engine: Embedder, images: Sequence, kwargs: dict[str, Any]) -> list[np.ndarray]:
    vectors = np.asarray(engine.embed_images(images, **kwargs), dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(images):
        raise EngineOutputError(f"{engine.id} returned vectors of shape {vectors.shape} for {len(images)} images")
    if vectors.shape[1] != engine.dimensions:
        raise EngineOutputError(f"{engine.id} declares {engine.dimensions} dimensions but returned {vectors.shape[1]}")
    return [_normalised(engine, row) for row in vectors]


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


def _score(engine: Scorer, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise EngineOutputError(f"{engine.id} returned a score that is not a number: {value!r}")
    value = float(value)
    if not (math.isfinite(value) and engine.low <= value <= engine.high):
        raise EngineOutputError(f"{engine.id} returned the score {value}, outside [{engine.low}, {engine.high}]")
    return value


def _regions(engine: Engine, regions: Any) -> list[TextRegion]:
    checked = []
    for region in regions:
        if not isinstance(region, TextRegion) or len(region.quad) != 8:
            raise EngineOutputError(f"{engine.id} returned a text region that is not a TextRegion with 4 corners")
        if not all(math.isfinite(v) for v in region.quad):
            raise EngineOutputError(f"{engine.id} returned a text region whose corners are not finite")
        if region.text.strip():
            checked.append(TextRegion(region.text.strip(), tuple(float(v) for v in region.quad)))
    return checked


# ArcFace vectors of one person are usually far above this likeness and of two people far below it.
SAME_PERSON_ACROSS_FRAMES = 0.5


def _merge_face_frames(frames: list[tuple[int, float | None]], results: list[list[Face]]) -> list[Face]:
    """A video's faces: each person once, from the frame where they were detected most confidently. Two
    faces on different frames are one person when their vectors are alike (or, without vectors, when
    their boxes overlap); two faces on one frame are always two people."""
    found = sorted(
        ((face, index, seconds) for (index, seconds), faces in zip(frames, results, strict=True) for face in faces),
        key=lambda item: -item[0].score,
    )
    kept: list[tuple[Face, int, float | None]] = []
    for face, index, seconds in found:
        if not any(index != other_index and _same_person(face, other) for other, other_index, _ in kept):
            kept.append((face, index, seconds))
    kept.sort(key=lambda item: (item[1], item[0].box[0]))
    return [msgspec.structs.replace(face, frame=index, frame_seconds=seconds) for face, index, seconds in kept]


def _same_person(a: Face, b: Face) -> bool:
    if a.embedding and b.embedding:
        va, vb = np.asarray(a.embedding, dtype=np.float32), np.asarray(b.embedding, dtype=np.float32)
        norms = float(np.linalg.norm(va) * np.linalg.norm(vb))
        return norms > 0 and float(va @ vb) / norms >= SAME_PERSON_ACROSS_FRAMES
    return box_overlap(a.box, b.box) >= 0.5


TASKS: dict[Task, TaskSpec] = {
    spec.task: spec
    for spec in (
        TaskSpec(
            Task.TAGGER,
            Tagger,
            "register_taggers",
            "predictions",
            None,
            lambda engine, images, kwargs: _checked(engine, engine.tag(images, **kwargs), images, _tags),
            lambda sink, picture_id, tags: sink.set_predictions(picture_id, tags),
            plugins="pixlstash-wd-tagger or pixlstash-joycaption",
        ),
        TaskSpec(
            Task.CAPTIONER,
            Captioner,
            "register_captioners",
            "captions",
            None,
            lambda engine, images, kwargs: _checked(engine, engine.describe(images, **kwargs), images, _caption),
            lambda sink, picture_id, text: sink.set_caption(picture_id, text),
            plugins="pixlstash-joycaption",
        ),
        TaskSpec(
            Task.EMBEDDER,
            Embedder,
            "register_embedders",
            "embeddings",
            "image",
            _embed,
            lambda sink, picture_id, vector: sink.put_embedding(picture_id, vector),
            plugins="pixlstash-clip",
        ),
        TaskSpec(
            Task.FACES,
            FaceExtractor,
            "register_face_extractors",
            "faces",
            "face",
            lambda engine, images, kwargs: _checked(engine, engine.extract(images, **kwargs), images, _faces),
            lambda sink, picture_id, faces: sink.replace_faces(picture_id, faces),
            plugins="pixlstash-faces",
            video_frames=4,
            merge_frames=_merge_face_frames,
        ),
        TaskSpec(
            Task.SCORER,
            Scorer,
            "register_scorers",
            "scores",
            None,
            lambda engine, images, kwargs: _checked(engine, engine.score(images, **kwargs), images, _score),
            lambda sink, picture_id, value: sink.set_score(picture_id, value),
            plugins="pixlstash-clip (aesthetic, prompt match); quality is built in",
        ),
        TaskSpec(
            Task.OCR,
            TextReader,
            "register_text_readers",
            "text",
            None,
            lambda engine, images, kwargs: _checked(engine, engine.read(images, **kwargs), images, _regions),
            lambda sink, picture_id, regions: sink.set_text(picture_id, regions),
            plugins="pixlstash-florence2",
        ),
    )
}
