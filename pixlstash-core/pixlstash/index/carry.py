"""Carrying vector indexes across a full restore instead of rebuilding them.

A full restore replaces every vector, but most are the same before and after it: rebuilding a million
vectors takes about 20 minutes, patching the few that differ takes seconds. When the snapshot and the
live library share a vector epoch, the vectors that can differ are known exactly: those written since
the snapshot's sequence number (the change log), those only the snapshot has and those only the index
holds. Everything else was written before the snapshot and never since, so it is identical.

``plan`` runs before the switch, with the library's writes held off and the indexes it will patch held
(no search sees them half done); ``apply`` runs after it, reading the differing vectors back from the
restored database. An index it cannot carry is simply left to rebuild on its next use.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import msgspec
import numpy as np

from ..db.vectors import VectorStore
from .indexes import VectorIndexes
from .vector_index import VectorIndex

if TYPE_CHECKING:
    from ..db.snapshot_diff import SnapshotDiff

__all__ = ["Carry", "apply", "plan"]

# Above this share of differing vectors (and more than a few thousand), a rebuild is the cheaper way.
_MOST_CHANGED, _ALWAYS_CHEAP = 0.5, 10_000


class Carry(msgspec.Struct):
    index: VectorIndex
    engine_id: str
    kind: str
    refresh: np.ndarray  # keys whose vector may differ: read back after the switch (absent: removed)
    remove: np.ndarray  # keys the index holds but the snapshot has no vector for


def plan(indexes: VectorIndexes, diff: SnapshotDiff, held: contextlib.ExitStack) -> list[Carry]:
    """What each carriable index needs; the indexes are held by ``held`` until the caller is done."""
    carries = []
    live_stamps = diff.vector_stamps("main")
    for (engine_id, kind), (epoch, seq) in diff.vector_stamps("snap").items():
        live = live_stamps.get((engine_id, kind))
        if live is None or live[0] != epoch or live[1] < seq:
            continue  # another epoch (a restore came between): nothing says which vectors are alike
        index = indexes.get(engine_id, kind)
        held.enter_context(index.held())
        if index.ensure_current(rebuild=False) is None:
            continue  # neither loaded nor saved: it is built on first use anyway
        live_keys = diff.vector_keys("main", engine_id, kind)
        snap_keys = diff.vector_keys("snap", engine_id, kind)
        refresh = np.union1d(diff.vectors_written_after(engine_id, kind, seq), np.setdiff1d(snap_keys, live_keys))
        # Not just the live keys: a vector whose row was deleted since still sits in the index, and its
        # picture may come back without one.
        remove = np.setdiff1d(index.keys(), snap_keys)
        if len(refresh) + len(remove) > max(_MOST_CHANGED * len(live_keys), _ALWAYS_CHEAP):
            continue
        carries.append(Carry(index, engine_id, kind, refresh, remove))
    return carries


def apply(vectors: VectorStore, carries: list[Carry]) -> None:
    """Patch each planned index from the restored database and save it at the database's new stamp."""
    for carry in carries:
        keys = carry.refresh.tolist()
        found = vectors.embeddings(carry.engine_id, keys) if carry.kind == "image" else vectors.face_vectors(keys)
        present = np.array(sorted(found), dtype=np.int64)
        gone = np.union1d(carry.remove, np.setdiff1d(carry.refresh, present))
        stacked = np.stack([found[k] for k in present.tolist()]) if len(present) else None
        carry.index.carry_over(gone, present, stacked, vectors.stamp(carry.engine_id, carry.kind))
