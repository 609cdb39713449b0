"""How alike two faces of one engine are, as that engine's model defines it.

Identity vectors (ArcFace) compare by cosine: the face index's own measure. An engine with a learned
metric (CCIP, for anime characters) compares pairs with its metric graph: the index still proposes
candidates by cosine, and the engine scores them, in batches, in its own process. Its vectors are kept
as the engine gave them (the metric may read their length), and its model's threshold for "one
character" is the default, so a threshold means what it means to the model's authors.
"""

from __future__ import annotations

import numpy as np

from ..engines import FaceExtractor, Task
from ..engines.catalog import EngineCatalog
from ..errors import NotFound

__all__ = ["FaceLikeness"]

PAIRS_PER_CALL = 4096  # pairs handed to the engine at once (two 4096 x 768 float32 arrays: 25 MB)


class FaceLikeness:
    def __init__(self, engines: EngineCatalog) -> None:
        self.engines = engines

    def learned(self, engine_id: str) -> FaceExtractor | None:
        """The engine when it is installed and compares by a learned metric; None: cosine."""
        try:
            engine = self.engines.get(Task.FACES, engine_id)
        except NotFound:  # its plugin is gone: its stored faces still compare by their index
            return None
        return engine if isinstance(engine, FaceExtractor) and engine.learned_likeness else None

    def threshold(self, engine_id: str, cosine_threshold: float) -> float:
        """The likeness at which two faces are one person: the model's own for a learned metric."""
        engine = self.learned(engine_id)
        found = engine.likeness_threshold() if engine is not None else None
        return cosine_threshold if found is None else float(found)

    def pairs(self, engine: FaceExtractor, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Likeness of each row of ``left`` with the same row of ``right``."""
        if not len(left):
            return np.zeros(0, dtype=np.float32)
        left, right = np.asarray(left, dtype=np.float32), np.asarray(right, dtype=np.float32)
        return np.asarray(self.engines.call(engine, lambda: engine.likeness(left, right)), dtype=np.float32)

    def matrix(self, engine: FaceExtractor, candidates: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """``(len(candidates), len(queries))`` likeness of every candidate with every query, a few thousand
        pairs a call, so that memory stays bounded however many faces a character has."""
        rows, columns = len(candidates), len(queries)
        found = np.zeros((rows, columns), dtype=np.float32)
        if not rows or not columns:
            return found
        candidates, queries = np.asarray(candidates, dtype=np.float32), np.asarray(queries, dtype=np.float32)
        step = max(1, PAIRS_PER_CALL // columns)
        for start in range(0, rows, step):
            chunk = candidates[start : start + step]
            left, right = np.repeat(chunk, columns, axis=0), np.tile(queries, (len(chunk), 1))
            found[start : start + len(chunk)] = self.pairs(engine, left, right).reshape(len(chunk), columns)
        return found
