"""Unnamed faces grouped into people, incrementally.

The grouping is the neighbour graph of the face index: each new face is linked to its nearest unnamed
faces (usearch) whose likeness reaches ``threshold``, and faces linked directly or through others are
one person (the graph's connected components). A new face joins the cluster of the faces it is like,
merges clusters it bridges, or starts its own: the library is never clustered again from scratch,
unless asked (``rebuild``). A cluster is known by the id of its first face; named faces belong to none.

An engine with a learned metric (CCIP) has its candidates scored by it, at its model's threshold: at
threshold ``t`` the clusters are imgutils' ``ccip_clustering(method="dbscan", eps=1 - t, min_samples=2)``,
its noise being one-face clusters (while no face has more alike faces than the neighbours looked at).
"""

from __future__ import annotations

import numpy as np

from ..db.database import Database
from ..db.faces import FaceStore
from ..db.vectors import VectorStore
from ..index.indexes import VectorIndexes
from .face_likeness import FaceLikeness

__all__ = ["DEFAULT_THRESHOLD", "FaceClustering"]

DEFAULT_THRESHOLD = 0.5  # ArcFace likeness above which two faces are taken for one person
_NEIGHBOURS = 16
_LEARNED_NEIGHBOURS = 32  # cosine only proposes candidates for a learned metric: look at more of them
_BATCH = 2048


class FaceClustering:
    def __init__(
        self,
        db: Database,
        faces: FaceStore,
        vectors: VectorStore,
        indexes: VectorIndexes,
        likeness: FaceLikeness,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.db, self.faces, self.vectors, self.indexes, self.threshold = db, faces, vectors, indexes, threshold
        self.likeness = likeness
        self.engine_thresholds: dict[str, float] = {}  # set from the people settings

    def neighbours(self, engine_id: str, faces: list[int]) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The faces that have a vector, and for each its nearest faces of the engine: (faces, keys, likeness)."""
        vectors = self.vectors.face_vectors(faces)
        faces = [face for face in faces if face in vectors]
        if not faces:
            return [], np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        index = self.indexes.get(engine_id, "face")
        learned = self.likeness.learned(engine_id)
        rows = np.stack([vectors[face] for face in faces])
        keys, sims = index.search(rows, (_LEARNED_NEIGHBOURS if learned else _NEIGHBOURS) + 1)
        keys = keys.astype(np.int64)
        if learned is not None:
            sims = self._rescored(learned, rows, keys)
        return faces, keys, sims

    def _rescored(self, engine, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The learned likeness of each face with each of its candidates (-1 where there is none)."""
        others = self.vectors.face_vectors(sorted({int(k) for k in keys.ravel() if k >= 0}))
        where = [(r, c) for r, c in np.ndindex(*keys.shape) if int(keys[r, c]) in others]
        sims = np.full(keys.shape, -1.0, dtype=np.float32)
        if where:
            left = np.stack([rows[r] for r, _ in where])
            right = np.stack([others[int(keys[r, c])] for r, c in where])
            found = self.likeness.pairs(engine, left, right)
            for (r, c), sim in zip(where, found.tolist(), strict=True):
                sims[r, c] = sim
        return sims

    def threshold_for(self, engine_id: str) -> float:
        """The likeness at which two of the engine's faces are one person: set for it, else its model's
        (a learned metric), else the library's cluster threshold."""
        if engine_id in self.engine_thresholds:
            return self.engine_thresholds[engine_id]
        return self.likeness.threshold(engine_id, self.threshold)

    def update(self) -> int:
        """Place every unnamed face no cluster holds yet; returns how many were placed."""
        placed = 0
        for engine_id in self.faces.engines_with_unclustered():
            while batch := self.faces.unclustered(engine_id, _BATCH):
                batch, keys, sims = self.neighbours(engine_id, batch)
                with self.db.write():
                    self._place(batch, keys, sims, self.threshold_for(engine_id))
                placed += len(batch)
        return placed

    def rebuild(self) -> int:
        """Forget every cluster and group all unnamed faces again."""
        with self.db.write():
            self.faces.reset_clusters()
        return self.update()

    def _place(self, batch: list[int], keys: np.ndarray, sims: np.ndarray, threshold: float) -> None:
        in_batch = set(batch)
        neighbours = {int(k) for k in keys.ravel() if k >= 0} - in_batch
        clusters = self.faces.clusters_of(sorted(neighbours))  # named or later-batch faces: None
        parent = {face: face for face in batch}

        def root(node: int) -> int:
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for face, row_keys, row_sims in zip(batch, keys, sims, strict=True):
            for key, sim in zip(row_keys.tolist(), row_sims.tolist(), strict=True):
                if key < 0 or key == face or sim < threshold:
                    continue
                other = key if key in in_batch else clusters.get(key)
                if other is not None:
                    a, b = root(face), root(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        members: dict[int, list[int]] = {}
        for face in batch:
            members.setdefault(root(face), []).append(face)
        existing = {node for node in parent if node not in in_batch}  # clusters the batch touched
        for top, faces in members.items():
            joined = sorted(c for c in existing if root(c) == top)
            cluster_id = joined[0] if joined else min(faces)
            if len(joined) > 1:
                self.faces.merge_clusters(joined[1:], cluster_id)
            self.faces.set_cluster(faces, cluster_id)
