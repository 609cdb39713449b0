"""The vector indexes of one library: one per engine and vector kind, made on first use and kept."""

from __future__ import annotations

import threading
from pathlib import Path

from ..db.vectors import VectorStore
from .vector_index import VectorIndex

__all__ = ["VectorIndexes"]


class VectorIndexes:
    def __init__(self, folder: Path, vectors: VectorStore) -> None:
        self.folder, self.vectors = Path(folder), vectors
        self._indexes: dict[tuple[str, str], VectorIndex] = {}
        self._lock = threading.Lock()

    def get(self, engine_id: str, kind: str = "image") -> VectorIndex:
        vectors = self.vectors
        with self._lock:
            index = self._indexes.get((engine_id, kind))
            if index is None:
                images = kind == "image"
                index = VectorIndex(
                    self.folder,
                    engine_id,
                    kind,
                    stamp=lambda: vectors.stamp(engine_id, kind),
                    vectors=lambda: (vectors.iter_embeddings if images else vectors.iter_face_vectors)(engine_id),
                    changes=lambda seq: (vectors.embeddings_since if images else vectors.face_vectors_since)(
                        engine_id, seq
                    ),
                )
                self._indexes[(engine_id, kind)] = index
            return index

    def loaded(self) -> list[VectorIndex]:
        with self._lock:
            return list(self._indexes.values())

    def save(self) -> None:
        for index in self.loaded():
            index.save()

    def stop_building(self) -> None:
        """Stop rebuilds in progress (the library is closing)."""
        for index in self.loaded():
            index.stop_building()

    def invalidate(self) -> None:
        """Forget every index in memory (each one loads, catches up or rebuilds on its next use)."""
        for index in self.loaded():
            index.invalidate()

    def delete_saved(self) -> None:
        """Delete every saved index (a full restore is about to replace the vectors; indexes in memory
        notice by the new epoch, or are carried over)."""
        for path in self.folder.glob("*"):
            if path.suffix in (".usearch", ".json", ".tmp"):
                path.unlink(missing_ok=True)
