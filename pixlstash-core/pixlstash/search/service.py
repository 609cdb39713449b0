"""Vector search: semantic (text to pictures), reverse image ("find similar") and similar faces.

Every search can be restricted by a ``PictureFilter`` (the share scope arrives that way too). A filter
that leaves few pictures is scored exactly over their vectors; otherwise the index is searched with
headroom and the hits are filtered, widening the search until enough survive. While an index is being
rebuilt (in the background), picture searches score every stored vector the filter allows exactly and
say so (``exact``): a search never waits for a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import msgspec
import numpy as np

from ..db.pictures import PictureStore
from ..db.query import PictureQuery
from ..db.vectors import VectorStore
from ..domain import FaceHit, PictureFilter, SearchHit, SearchResult
from ..engines import Embedder, Task
from ..engines.catalog import EngineCatalog
from ..engines.inputs import load_input
from ..errors import BadInput, ModelMissing, NotFound
from ..files.picture_files import PictureFiles
from ..index.indexes import VectorIndexes
from ..index.vector_index import VectorIndex
from ..people.face_likeness import FaceLikeness

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Combine", "SearchService"]

Combine = Literal["mean", "min"]

EXACT_LIMIT = 20_000  # filters matching at most this many pictures are scored exactly
_MAX_WIDENING = 64  # at most this many times the requested hits are fetched from the index


class SearchService:
    def __init__(
        self,
        indexes: VectorIndexes,
        engines: EngineCatalog,
        vectors: VectorStore,
        pictures: PictureStore,
        query: PictureQuery,
        files: PictureFiles,
    ) -> None:
        self.indexes, self.engines, self.vectors = indexes, engines, vectors
        self.pictures, self.query, self.files = pictures, query, files
        self.face_likeness = FaceLikeness(engines)

    # -- searches -------------------------------------------------------------------------------

    def semantic(
        self,
        text: str,
        *,
        engine_id: str | None = None,
        f: PictureFilter | None = None,
        threshold: float | None = None,
        limit: int = 50,
    ) -> SearchResult:
        """Pictures nearest to ``text`` through the embedder's text encoder."""
        if not text.strip():
            raise BadInput("the search text is empty")
        # refused at once when the model is missing: no engine process is started, no torch imported
        engine = self.require_embedder(engine_id)
        if not engine.supports_text:
            raise BadInput(f"{engine.id} has no text encoder; choose an embedder that has one")
        query = self.engines.call(engine, lambda: engine.embed_texts([text]))
        hits, exact = self._nearest(engine.id, np.asarray(query), "mean", f, threshold, limit)
        return SearchResult(engine.id, hits, exact)

    def similar(
        self,
        *,
        picture_ids: Sequence[int] = (),
        images: Sequence[Image] = (),
        engine_id: str | None = None,
        combine: Combine = "mean",
        f: PictureFilter | None = None,
        threshold: float | None = None,
        limit: int = 50,
    ) -> SearchResult:
        """Pictures similar to stored pictures and/or uploaded images (combined by mean or min similarity)."""
        if not picture_ids and not images:
            raise BadInput("give at least one picture id or image to compare with")
        engine = self.require_embedder(engine_id)  # refused at once, saying how to get the model
        rows = list(self.picture_vectors(engine, picture_ids)) if picture_ids else []
        if images:
            rows.extend(self.engines.call(engine, lambda: engine.embed_images(list(images))))
        queries = np.stack(rows).astype(np.float32)
        hits, exact = self._nearest(engine.id, queries, combine, f, threshold, limit, exclude=set(picture_ids))
        return SearchResult(engine.id, hits, exact)

    def similar_faces(
        self, face_id: int, *, f: PictureFilter | None = None, threshold: float | None = None, limit: int = 50
    ) -> list[FaceHit]:
        """Faces nearest to a stored face (same engine), best first, restricted to pictures ``f`` allows."""
        engine_id = self.vectors.face_engine(face_id)
        if engine_id is None:
            raise NotFound(f"no face {face_id}")
        vector = self.vectors.face_vectors([face_id]).get(face_id)
        if vector is None:
            raise BadInput(f"face {face_id} has no identity vector")
        return self.faces_like(
            engine_id, vector[None, :], skip=lambda keys: {face_id}, f=f, threshold=threshold, limit=limit
        )

    def faces_like(
        self,
        engine_id: str,
        queries: np.ndarray,
        *,
        combine: Combine = "mean",
        skip: Callable[[list[int]], set[int]] | None = None,
        f: PictureFilter | None = None,
        threshold: float | None = None,
        limit: int = 50,
    ) -> list[FaceHit]:
        """Faces of one engine nearest to several face vectors at once, scored by the ``mean`` or the
        ``min`` of their similarities to each; ``skip`` names candidates to leave out (already named,
        rejected). The index is searched with headroom, widened until enough faces survive."""
        if combine not in ("mean", "min"):
            raise BadInput("combine is 'mean' or 'min'")
        index = self.indexes.get(engine_id, "face")
        learned = self.face_likeness.learned(engine_id)
        raw_queries = np.asarray(queries, dtype=np.float32)
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        probe = queries if combine == "min" or len(queries) == 1 else queries.mean(axis=0, keepdims=True)
        wanted = max(limit * 2, 50) + len(queries)
        # While the index is rebuilt, candidates come from exact scoring of every stored face vector.
        ready = index.ensure_current(wait=False) is not None or not index.building
        while True:
            if ready:
                keys, _ = index.search(probe, wanted)
            else:
                keys = self._top_exact(self.vectors.iter_face_vectors(engine_id), queries, combine, wanted)[0]
                keys = keys.astype(np.int64)[None, :]
            candidates = sorted({int(k) for k in keys.ravel() if k >= 0})
            if skip is not None:
                dropped = skip(candidates)
                candidates = [k for k in candidates if k not in dropped]
            faces = self.vectors.faces_of(candidates)
            allowed = set(self._allowed(f, sorted({p for p, _ in faces.values()})))
            kept = [k for k in candidates if k in faces and faces[k][0] in allowed]
            if learned is not None:  # the engine's metric over the vectors as stored, not the index's copies
                stored = self.vectors.face_vectors(kept)
                present = np.asarray([k for k in kept if k in stored], dtype=np.int64)
                vectors = np.stack([stored[k] for k in present.tolist()]) if len(present) else np.zeros((0, 1))
                similarities = self.face_likeness.matrix(learned, vectors, raw_queries)
            else:
                present, vectors = self._face_vectors(index if ready else None, kept)
                similarities = vectors @ queries.T
            scores = self._combine(similarities, combine) if len(present) else np.zeros(0)
            found = sorted(
                (
                    (float(s), int(k))
                    for k, s in zip(present.tolist(), scores.tolist(), strict=True)
                    if threshold is None or s >= threshold
                ),
                key=lambda pair: (-pair[0], pair[1]),
            )
            if len(found) >= limit or keys.shape[1] < wanted or wanted >= limit * _MAX_WIDENING:
                break
            wanted *= 4
        found = found[:limit]
        summaries = self._summaries([faces[k][0] for _, k in found])
        return [
            FaceHit(k, summaries[faces[k][0]], round(s, 6), faces[k][1]) for s, k in found if faces[k][0] in summaries
        ]

    # -- internals ------------------------------------------------------------------------------

    def _face_vectors(self, index: VectorIndex | None, face_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(present ids, vectors) from the index, or from the database while it is rebuilt."""
        if index is not None:
            return index.vectors(np.asarray(face_ids, dtype=np.uint64))
        stored = self.vectors.face_vectors(face_ids)
        present = np.asarray([k for k in face_ids if k in stored], dtype=np.uint64)
        vectors = np.stack([stored[int(k)] for k in present]) if len(present) else np.zeros((0, 0), np.float32)
        return present, vectors

    def _top_exact(
        self,
        batches,
        queries: np.ndarray,
        combine: Combine,
        wanted: int,
        *,
        allowed: np.ndarray | None = None,
        threshold: float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``wanted`` best (keys, combined cosine similarities) over batches of (keys, vectors), best
        first; only ``allowed`` keys (sorted) when given, only those at or above ``threshold``."""
        best_keys, best_scores = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float32)
        for keys, vectors in batches:
            if allowed is not None:
                mask = np.isin(keys, allowed, assume_unique=True)
                keys, vectors = keys[mask], vectors[mask]
            if not len(keys):
                continue
            norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
            scores = self._combine((vectors @ queries.T) / norms[:, None], combine).astype(np.float32)
            if threshold is not None:
                keys, scores = keys[scores >= threshold], scores[scores >= threshold]
            best_keys, best_scores = np.concatenate([best_keys, keys]), np.concatenate([best_scores, scores])
            if len(best_keys) > wanted:
                top = np.argpartition(-best_scores, wanted - 1)[:wanted]
                best_keys, best_scores = best_keys[top], best_scores[top]
        order = np.argsort(-best_scores, kind="stable")
        return best_keys[order], best_scores[order]

    def embedder(self, engine_id: str | None) -> Embedder:
        """The embedder asked for, or the default one."""
        engine = self.engines.get(Task.EMBEDDER, engine_id)
        assert isinstance(engine, Embedder)
        return engine

    def require_embedder(self, engine_id: str | None) -> Embedder:
        """The embedder, refused at once (``ModelMissing``) when its model is not on this machine: checked
        before uploaded query images are decoded, so a search that can only fail costs nothing."""
        engine = self.embedder(engine_id)
        status = engine.model_status()
        if not status.present:
            raise ModelMissing(
                f"the model of {engine.id} ({status.model}) is not on this machine: {status.how_to_get}",
                engine_id=engine.id,
                location=status.location,
            )
        return engine

    def picture_vectors(self, engine: Embedder, picture_ids: Sequence[int]) -> np.ndarray:
        """The stored pictures' vectors, one row each in order; those not embedded yet are encoded now
        rather than fail (their jobs store them later)."""
        ids = self.pictures.require(picture_ids)
        stored = self.vectors.embeddings(engine.id, ids)
        missing = [i for i in ids if i not in stored]
        if missing:
            stored.update(zip(missing, self._embed_pictures(engine, missing), strict=True))
        return np.stack([stored[i] for i in ids]).astype(np.float32)

    def _embed_pictures(self, engine: Embedder, picture_ids: Sequence[int]) -> list[np.ndarray]:
        """Vectors for stored pictures computed now (not stored: their enrichment jobs store them)."""
        inputs = self.pictures.media_inputs(picture_ids)
        keep_alpha = bool(getattr(engine, "keeps_alpha", False))
        images = [load_input(self.files, pid, *inputs[pid], engine.input_size, keep_alpha) for pid in picture_ids]
        vectors = self.engines.call(engine, lambda: engine.embed_images(images))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    def _nearest(
        self,
        engine_id: str,
        queries: np.ndarray,
        combine: Combine,
        f: PictureFilter | None,
        threshold: float | None,
        limit: int,
        exclude: set[int] | frozenset = frozenset(),
    ) -> tuple[list[SearchHit], bool]:
        """The best hits, and whether they were scored exactly over every stored vector (an index rebuild)."""
        if combine not in ("mean", "min"):
            raise BadInput("combine is 'mean' or 'min'")
        index = self.indexes.get(engine_id)
        queries = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        f = f or PictureFilter()
        if index.ensure_current(wait=False) is None:
            if not index.building:
                return [], False  # no vectors of this engine yet
            return self._exact(engine_id, queries, combine, f, threshold, limit, exclude), True
        if f != PictureFilter():
            ids = self.query.ids(f, limit=EXACT_LIMIT + 1)
            if len(ids) <= EXACT_LIMIT:
                scored = self._score(index, [i for i in ids if i not in exclude], queries, combine)
                return self._hits(scored, threshold, limit), False
        # Fetch more than asked (filters and exclusions drop some), then widen until enough survive.
        wanted = max(limit * 2, 50) + len(exclude)
        while True:
            keys, _ = index.search(
                queries if combine == "min" or len(queries) == 1 else queries.mean(axis=0, keepdims=True), wanted
            )
            candidates = sorted({int(k) for k in keys.ravel() if k >= 0} - set(exclude))
            allowed = self._allowed(f, candidates)
            scored = self._score(index, allowed, queries, combine)
            good = sum(1 for s in scored.values() if threshold is None or s >= threshold)
            exhausted = keys.shape[1] < wanted or wanted >= limit * _MAX_WIDENING
            if good >= limit or exhausted:
                return self._hits(scored, threshold, limit), False
            wanted *= 4

    def _exact(
        self,
        engine_id: str,
        queries: np.ndarray,
        combine: Combine,
        f: PictureFilter,
        threshold: float | None,
        limit: int,
        exclude: set[int] | frozenset,
    ) -> list[SearchHit]:
        """Every stored vector of the engine that the filter allows, scored exactly, in batches: the
        answer while the index is rebuilt (a pass over the vectors: seconds at a million)."""
        allowed = np.asarray(self.query.ids(f), dtype=np.uint64)  # sorted: live pictures the filter admits
        if exclude:
            allowed = np.setdiff1d(allowed, np.fromiter(exclude, dtype=np.uint64), assume_unique=True)
        keys, scores = self._top_exact(
            self.vectors.iter_embeddings(engine_id), queries, combine, limit, allowed=allowed, threshold=threshold
        )
        return self._hits(dict(zip(keys.tolist(), scores.tolist(), strict=True)), threshold, limit)

    def _score(
        self, index: VectorIndex, picture_ids: list[int], queries: np.ndarray, combine: Combine
    ) -> dict[int, float]:
        """Exact combined similarity of each listed picture that has a vector."""
        present, vectors = index.vectors(np.asarray(picture_ids, dtype=np.uint64))
        return dict(zip(present.tolist(), self._combine(vectors @ queries.T, combine).tolist(), strict=True))

    @staticmethod
    def _combine(similarities: np.ndarray, combine: Combine) -> np.ndarray:
        if similarities.size == 0:
            return np.zeros(similarities.shape[0], dtype=np.float32)
        return similarities.min(axis=1) if combine == "min" else similarities.mean(axis=1)

    def _allowed(self, f: PictureFilter | None, candidates: list[int]) -> list[int]:
        """Those candidates the filter admits (always only live pictures, unless it asks for the scrapheap)."""
        if not candidates:
            return []
        f = f or PictureFilter()
        ids = candidates if f.ids is None else sorted(set(candidates) & set(f.ids))
        return self.query.ids(msgspec.structs.replace(f, ids=ids))

    def _hits(self, scored: dict[int, float], threshold: float | None, limit: int) -> list[SearchHit]:
        ranked = sorted(
            ((s, k) for k, s in scored.items() if threshold is None or s >= threshold),
            key=lambda pair: (-pair[0], pair[1]),
        )[:limit]
        summaries = self._summaries([k for _, k in ranked])
        return [SearchHit(summaries[k], round(float(s), 6)) for s, k in ranked if k in summaries]

    def _summaries(self, picture_ids: list[int]) -> dict:
        return {s.id: s for s in self.pictures.summaries(picture_ids)} if picture_ids else {}
