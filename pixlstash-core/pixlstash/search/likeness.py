"""Likeness to references: pictures like a mix of images, stored pictures, sets and characters, combined by
``mean`` or ``min``; and how alike images that are not in the library are to such references (ComfyUI's
likeness search and likeness gates).

Two modes. ``picture_likeness`` compares image embeddings: a referenced picture, set or character stands
for its pictures' embeddings. ``face_search`` compares identity vectors of faces: a referenced picture or
set stands for the faces on its pictures, a character for the faces named as it, an image for its most
prominent face; a picture is as alike as its most alike face.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import msgspec
import numpy as np

from ..db.collections import CollectionStore
from ..db.vectors import VectorStore
from ..domain import PictureFilter, SearchHit, SearchResult
from ..engines import Face, FaceExtractor, Task
from ..engines.catalog import EngineCatalog
from ..engines.tasks import run_engine
from ..errors import BadInput, ModelMissing
from .service import Combine, SearchService

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["MAX_REFERENCE_PICTURES", "LikenessMode", "LikenessReferences", "LikenessScores", "LikenessService"]

LikenessMode = Literal["picture_likeness", "face_search"]

MAX_REFERENCE_PICTURES = 1000  # pictures a search may be compared against (sets and characters included)


class LikenessReferences(msgspec.Struct, frozen=True):
    """What results are compared with, besides uploaded images."""

    picture_ids: list[int] = []
    collection_ids: list[int] = []  # sets and characters


class LikenessScores(msgspec.Struct, frozen=True):
    """One score per image, in order; None for an image without a face in ``face_search`` mode."""

    engine_id: str
    mode: LikenessMode
    scores: list[float | None]


class LikenessService:
    def __init__(
        self, search: SearchService, engines: EngineCatalog, vectors: VectorStore, collections: CollectionStore
    ) -> None:
        self.search, self.engines, self.vectors, self.collections = search, engines, vectors, collections

    def require_engine(self, mode: LikenessMode, engine_id: str | None) -> None:
        """The engine that reads query images in ``mode``, refused at once (not installed: ``NotFound``; its
        model missing: ``ModelMissing``), so uploaded images are never decoded for a search that can only fail."""
        if mode == "picture_likeness":
            self.search.require_embedder(engine_id)
            return
        engine = self._face_engine(engine_id)
        status = engine.model_status()
        if not status.present:
            raise ModelMissing(
                f"finding faces in the images needs the model of {engine.id} ({status.model}), "
                f"which is not on this machine: {status.how_to_get}",
                engine_id=engine.id,
                location=status.location,
            )

    def search_pictures(
        self,
        mode: LikenessMode,
        references: LikenessReferences,
        images: Sequence[Image] = (),
        *,
        engine_id: str | None = None,
        combine: Combine = "mean",
        f: PictureFilter | None = None,
        threshold: float | None = None,
        limit: int = 50,
    ) -> SearchResult:
        """Library pictures most like the references, best first; the referenced pictures themselves
        are left out."""
        pictures = self._pictures(references)
        if mode == "picture_likeness":
            return self.search.similar(
                picture_ids=pictures,
                images=images,
                engine_id=engine_id,
                combine=combine,
                f=f,
                threshold=threshold,
                limit=limit,
            )
        engine = self._face_engine(engine_id)
        query_faces, queries = self._face_queries(engine, references, pictures, images)
        skip = set(query_faces)
        hits = self.search.faces_like(
            engine.id,
            queries,
            combine=combine,
            skip=lambda keys: skip.intersection(keys),
            f=f,
            threshold=threshold,
            limit=limit * 4 + len(pictures),  # several faces of one picture count once
        )
        best: dict[int, SearchHit] = {}
        for hit in hits:  # best first, so the first face of a picture is its most alike
            if hit.picture.id not in best and hit.picture.id not in pictures:
                best[hit.picture.id] = SearchHit(hit.picture, hit.similarity)
        return SearchResult(engine.id, list(best.values())[:limit])

    def score_images(
        self,
        mode: LikenessMode,
        references: LikenessReferences,
        images: Sequence[Image],
        *,
        engine_id: str | None = None,
        combine: Combine = "mean",
    ) -> LikenessScores:
        """How alike each image (not in the library) is to the references."""
        if not images:
            raise BadInput("give at least one image to score")
        if not references.picture_ids and not references.collection_ids:
            raise BadInput("give at least one picture, set or character to score against")
        pictures = self._pictures(references)
        if mode == "picture_likeness":
            embedder = self.search.embedder(engine_id)
            queries = _unit(self.search.picture_vectors(embedder, pictures)) if pictures else None
            if queries is None:
                raise BadInput("the sets and characters given hold no pictures")
            candidates = _unit(np.asarray(self.engines.call(embedder, lambda: embedder.embed_images(list(images)))))
            scores = _combined(candidates @ queries.T, combine)
            return LikenessScores(embedder.id, mode, [round(float(s), 6) for s in scores])
        engine = self._face_engine(engine_id)
        _, queries = self._face_queries(engine, references, pictures, ())
        found: list[float | None] = []
        for faces in self._extract(engine, images):
            vectors = [face.embedding for face in faces if face.embedding]
            if not vectors:
                found.append(None)
                continue
            learned = self.search.face_likeness.learned(engine.id)
            if learned is not None:  # CCIP: its learned metric, not the cosine
                similarities = self.search.face_likeness.matrix(learned, np.asarray(vectors, np.float32), queries)
            else:
                similarities = _unit(np.asarray(vectors, dtype=np.float32)) @ _unit(queries).T
            per_face = _combined(similarities, combine)
            found.append(round(float(per_face.max()), 6))
        return LikenessScores(engine.id, mode, found)

    # -- references -----------------------------------------------------------------------------

    def _pictures(self, references: LikenessReferences) -> list[int]:
        """The referenced pictures and the members of the referenced sets and characters."""
        for collection_id in references.collection_ids:
            self.collections.collection(collection_id)  # NotFound names a wrong id
        members = (
            self.collections.set_operation_ids(references.collection_ids, "union") if references.collection_ids else []
        )
        pictures = sorted(set(references.picture_ids) | set(members))
        if len(pictures) > MAX_REFERENCE_PICTURES:
            raise BadInput(
                f"the references hold {len(pictures):,} pictures; at most {MAX_REFERENCE_PICTURES:,} "
                "can be compared at once (pick a smaller set, or some of its pictures)"
            )
        return pictures

    def _face_engine(self, engine_id: str | None) -> FaceExtractor:
        engine = self.engines.get(Task.FACES, engine_id)
        assert isinstance(engine, FaceExtractor)
        return engine

    def _face_queries(
        self, engine: FaceExtractor, references: LikenessReferences, pictures: list[int], images: Sequence[Image]
    ) -> tuple[list[int], np.ndarray]:
        """(stored face ids used, one face vector per row): faces named as the referenced characters,
        else the faces on the referenced pictures, plus each image's most prominent face."""
        characters = [c for c in references.collection_ids if self.collections.collection(c).kind == "character"]
        named = {face for c in characters for face, e in self.vectors.character_faces(c) if e == engine.id}
        # A character's pictures may show other people too: only its named faces stand for it.
        covered = set(self.collections.set_operation_ids(characters, "union")) if characters and named else set()
        face_ids = sorted(named | set(self.vectors.faces_on(engine.id, [p for p in pictures if p not in covered])))
        rows = list(self.vectors.face_vectors(face_ids).values())
        for n, faces in enumerate(self._extract(engine, images) if images else (), start=1):
            main = max((f for f in faces if f.embedding), key=_prominence, default=None)
            if main is None:
                raise BadInput(f"no face was found in reference image {n}")
            rows.append(np.asarray(main.embedding, dtype=np.float32))
        if not rows:
            status = engine.model_status()
            if not status.present:  # finding faces needs the model first: say how to get it
                raise ModelMissing(
                    f"the references have no faces yet, and finding them needs the model of {engine.id} "
                    f"({status.model}), which is not on this machine: {status.how_to_get}",
                    engine_id=engine.id,
                    location=status.location,
                )
            raise BadInput(
                f"the references have no faces found by {engine.id}: find faces first "
                "(pixlstash enrich --task faces), or give a reference image with a face"
            )
        return face_ids, np.stack(rows).astype(np.float32)  # as stored: a learned metric may read the length

    def _extract(self, engine: FaceExtractor, images: Sequence[Image]) -> list[list[Face]]:
        return self.engines.call(engine, lambda: run_engine(engine, list(images), {}))


def _prominence(face: Face) -> float:
    x0, y0, x1, y1 = face.box
    return (x1 - x0) * (y1 - y0) * face.score


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _combined(similarities: np.ndarray, combine: Combine) -> np.ndarray:
    if combine not in ("mean", "min"):
        raise BadInput("combine is 'mean' or 'min'")
    return similarities.min(axis=1) if combine == "min" else similarities.mean(axis=1)
