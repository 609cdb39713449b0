"""usearch indexes over stored vectors: one per engine and vector kind, kept in ``<library>/indexes``.

The database holds the vectors; an index is a cache. The database keeps a stamp per vector set: an
epoch (changed when a full restore replaces every vector) and a sequence number that every vector write
increments and records on the row it wrote. An index remembers the stamp it is current at, in memory
and beside its saved file. On use, an index of the same epoch that is behind catches up by reading only
the rows written since; one that is missing, damaged, of another epoch or ahead of the database (a
crash lost writes it saw) is rebuilt from every vector.

A rebuild can take many minutes at a million vectors, so callers that must not wait (searches, the
enrichment worker) ask with ``wait=False``: the rebuild then runs on a background thread, adding on every
core, and they get None meanwhile (searches score the stored vectors exactly instead). The finished index
catches up with what was written during the build and takes over.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import numpy as np

# One thread adds to a graph: usearch's concurrent add() strands a few nodes that search never reaches
# (unum-cloud/USearch#735, open in 2.26); on clustered face vectors 1-7 of 5,520 per build, each a face
# that "find similar" could never return. Single-threaded builds strand none and take ~1.5x as long,
# in the background while searches score exactly.
_ADD_THREADS = 1

if TYPE_CHECKING:
    from usearch.index import Index

__all__ = ["VectorIndex"]

log = logging.getLogger(__name__)

_FORMAT = 1

Stamp = tuple[int, int]  # (epoch, seq)
Vectors = Iterator[tuple[np.ndarray, np.ndarray]]


class _Meta(msgspec.Struct):
    format: int
    engine_id: str
    kind: str
    dims: int
    count: int
    stamp: int | None  # the epoch
    seq: int = 0  # files saved before the change log existed are current at seq 0


def index_file_stem(engine_id: str, kind: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]", "_", engine_id.replace("/", "__")) + f".{kind}"


class VectorIndex:
    """Nearest-neighbour search over one engine's vectors of one kind (cosine, half precision)."""

    def __init__(
        self,
        folder: Path,
        engine_id: str,
        kind: str,
        *,
        stamp: Callable[[], Stamp | None],
        vectors: Callable[[], Vectors],
        changes: Callable[[int], Vectors],
    ) -> None:
        self.engine_id = engine_id
        self.kind = kind
        stem = index_file_stem(engine_id, kind)
        self.path = folder / f"{stem}.usearch"
        self.meta_path = folder / f"{stem}.json"
        self._db_stamp = stamp
        self._db_vectors = vectors
        self._db_changes = changes
        self._lock = threading.RLock()
        self._index: Index | None = None
        self._stamp: Stamp | None = None
        self.dirty = False
        self.rebuilds = 0
        self.caught_up = 0  # vectors read since a saved or loaded stamp, rather than rebuilt
        self._builder: threading.Thread | None = None
        self._stop = threading.Event()

    # -- keeping current ------------------------------------------------------------------------

    def ensure_current(self, *, rebuild: bool = True, wait: bool = True) -> Index | None:
        """The index, matching the database (loaded, caught up or rebuilt as needed); None while there are
        no vectors, or when only a rebuild would do and ``rebuild`` is False. With ``wait=False`` a
        rebuild runs in the background and None is returned until it is done."""
        with self._lock:
            if self._builder is not None:
                if not wait or not rebuild:
                    return None
                builder = self._builder
            else:
                stamp = self._db_stamp()
                if self._index is not None and self._stamp == stamp:
                    return self._index
                if self._index is None:
                    self._load(stamp)
                if self._index is not None and self._catch_up(stamp):
                    return self._index
                if stamp is None:  # no vectors of this engine yet: nothing to build
                    self._index, self._stamp, self.dirty = None, None, False
                    return None
                if not rebuild:
                    self._index, self._stamp, self.dirty = None, None, False
                    return None
                self._index, self._stamp, self.dirty = None, None, False
                builder = self._builder = threading.Thread(
                    target=self._build, name=f"index-{self.engine_id}-{self.kind}", daemon=True
                )
                builder.start()
                if not wait:
                    return None
        builder.join()
        with self._lock:
            return self._index  # None if the build failed (logged); the next use tries again

    @property
    def building(self) -> bool:
        """Whether a rebuild runs (searches meanwhile score stored vectors exactly)."""
        return self._builder is not None

    def stop_building(self) -> None:
        """Stop a rebuild in progress (the library is closing); the next use starts again."""
        builder = self._builder
        if builder is not None:
            self._stop.set()
            builder.join()
            self._stop.clear()

    def keys(self) -> np.ndarray:
        """Every key in the index, sorted: deleted rows' vectors included (searches filter them out)."""
        with self._lock:
            if self._index is None:
                return np.zeros(0, dtype=np.int64)
            return np.sort(np.asarray(self._index.keys, dtype=np.int64))

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """No search or write touches the index inside this block (a full restore patches it)."""
        with self._lock:
            yield

    def carry_over(self, remove: np.ndarray, keys: np.ndarray, vectors: np.ndarray | None, stamp: Stamp | None) -> bool:
        """Bring the index to new contents known to differ only at ``remove`` (gone) and ``keys`` (new
        vectors), and mark it current at ``stamp``. False (and the index dropped) if it cannot."""
        with self._lock:
            if self._index is None or not (self._replace(remove, None) and self._replace(keys, vectors)):
                self._index, self._stamp, self.dirty = None, None, False
                return False
            self._stamp, self.dirty = stamp, True
            self.save()
            return True

    def _load(self, stamp: Stamp | None) -> None:
        if stamp is None or not self.path.is_file() or not self.meta_path.is_file():
            return
        try:
            meta = msgspec.json.decode(self.meta_path.read_bytes(), type=_Meta)
            if meta.format != _FORMAT or meta.stamp != stamp[0] or meta.seq > stamp[1]:
                log.info("vector index %s (%s) is from another epoch: rebuilding", self.engine_id, self.kind)
                return
            from .usearch_loader import Index  # usearch loads with the first index, not with every command

            index = Index.restore(str(self.path))
            if index is None or len(index) != meta.count or index.ndim != meta.dims:
                raise ValueError("index file does not match its metadata")
        except Exception as error:  # damaged file or metadata: the database can always rebuild it
            log.warning("vector index %s (%s) is damaged (%s): rebuilding", self.engine_id, self.kind, error)
            return
        self._index, self._stamp, self.dirty = index, (meta.stamp, meta.seq), False

    def _catch_up(self, stamp: Stamp | None) -> bool:
        """Add the vectors written since the index's stamp; False when only a rebuild will do."""
        if stamp is None or self._stamp is None or self._stamp[0] != stamp[0] or self._stamp[1] > stamp[1]:
            return False
        # Rows read here may be newer than ``stamp`` (written meanwhile); adding them twice is harmless.
        read = 0
        for keys, vectors in self._db_changes(self._stamp[1]):
            if not self._replace(keys, vectors):
                return False
            read += len(keys)
        self.caught_up += read
        self._stamp = stamp
        self.dirty = self.dirty or read > 0  # a file loaded just as it was saved need not be written again
        return True

    def _replace(self, keys: np.ndarray, vectors: np.ndarray | None) -> bool:
        """Remove ``keys`` and add their new vectors (if any); False if the dimensions changed."""
        keys = np.asarray(keys, dtype=np.uint64)
        if vectors is not None and len(keys) and vectors.shape[1] != self._index.ndim:
            return False  # a new engine version with other dimensions
        present = keys[self._index.contains(keys)] if len(keys) else keys
        if len(present):
            self._index.remove(present)
        if vectors is not None and len(keys):
            self._index.add(keys, vectors, threads=_ADD_THREADS)
        return True

    def _build(self) -> None:
        """A rebuild from every stored vector, off the lock (searches go on meanwhile), then caught up with
        what was written while it ran."""
        try:
            stamp = self._db_stamp()  # read first: rows read after it may be newer; catching up re-reads them
            index = None
            for keys, vectors in self._db_vectors():
                if self._stop.is_set():
                    return
                if index is None:
                    index = self._new(vectors.shape[1])
                index.add(keys, vectors, threads=_ADD_THREADS)
            with self._lock:
                self._index, self._stamp, self.dirty = index, stamp, index is not None
                if index is None:
                    return
                self.rebuilds += 1
                if not self._catch_up(self._db_stamp()):  # another epoch began meanwhile: build again later
                    self._index, self._stamp, self.dirty = None, None, False
                    return
                log.info("rebuilt vector index %s (%s): %d vectors", self.engine_id, self.kind, len(index))
                self.save()
        except Exception:
            log.exception("rebuilding vector index %s (%s) failed", self.engine_id, self.kind)
        finally:
            self._builder = None

    @staticmethod
    def _new(dims: int) -> Index:
        # Cosine over half precision: half the memory of f32 with no measurable loss in recall for
        # normalised embeddings. usearch's defaults for the graph (connectivity 16, expansion 128 when
        # adding and searching) give recall@10 above 0.99 at a million embedding-like vectors
        # (benchmarks/bench_ann.py); cheaper graphs lost recall on hard, uniformly spread data.
        from .usearch_loader import Index

        return Index(ndim=dims, metric="cos", dtype="f16", connectivity=16, expansion_add=128, expansion_search=128)

    def invalidate(self) -> None:
        """Forget the index in memory, as a new process would start: the next use loads the saved file and
        catches it up, or rebuilds."""
        self.stop_building()
        with self._lock:
            self._index, self._stamp, self.dirty = None, None, False

    # -- changing -------------------------------------------------------------------------------

    def apply(
        self, keys: np.ndarray, vectors: np.ndarray | None, *, stamp_before: Stamp | None, stamp_after: Stamp | None
    ) -> None:
        """Add (or replace) vectors this process wrote, or remove ``keys`` when ``vectors`` is None.

        ``stamp_before`` is the database stamp when the write began. If the index was not at that stamp
        (someone else wrote vectors meanwhile) the write is left to the next catch-up, which reads it back.
        """
        with self._lock:
            if self._index is None and stamp_before is None and vectors is not None and len(keys):
                self._index, self._stamp = self._new(vectors.shape[1]), None  # the first vectors of this engine
            if self._index is None or self._stamp != stamp_before:
                return
            if not self._replace(keys, vectors):
                self._index, self._stamp = None, None
                return
            self._stamp = stamp_after
            self.dirty = True

    def save(self) -> None:
        """Write the index and its stamp atomically (index first: a stale meta only causes a rebuild)."""
        with self._lock:
            if self._index is None or not self.dirty:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".usearch.tmp")
            self._index.save(str(tmp))
            os.replace(tmp, self.path)
            epoch, seq = self._stamp if self._stamp is not None else (None, 0)
            meta = _Meta(_FORMAT, self.engine_id, self.kind, self._index.ndim, len(self._index), epoch, seq)
            tmp_meta = self.meta_path.with_suffix(".json.tmp")
            tmp_meta.write_bytes(msgspec.json.encode(meta))
            os.replace(tmp_meta, self.meta_path)
            self.dirty = False

    # -- searching ------------------------------------------------------------------------------

    def search(self, queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """For each query row, up to ``count`` (keys, cosine similarities), best first; -1 keys pad.
        Waits for a rebuild; searches that must not wait ask ``ensure_current(wait=False)`` first."""
        index = self.ensure_current()
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if index is None or len(index) == 0:
            return np.full((len(queries), 0), -1, dtype=np.int64), np.zeros((len(queries), 0), dtype=np.float32)
        count = min(count, len(index))
        with self._lock:
            matches = index.search(queries, count)
        keys = np.atleast_2d(np.asarray(matches.keys, dtype=np.int64))
        similarities = 1.0 - np.atleast_2d(np.asarray(matches.distances, dtype=np.float32))
        # One query gives ``Matches`` (only real hits), several give ``BatchMatches`` (padded, with counts).
        counts = np.atleast_1d(np.asarray(getattr(matches, "counts", len(matches.keys))))
        for row, found in enumerate(counts):
            keys[row, found:] = -1
            similarities[row, found:] = -np.inf
        return keys, similarities

    def vectors(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (present keys, their vectors as float32) among ``keys``: exact scoring of small sets."""
        index = self.ensure_current()
        keys = np.asarray(keys, dtype=np.uint64)
        if index is None or not len(keys):
            return keys[:0], np.zeros((0, index.ndim if index is not None else 0), dtype=np.float32)
        with self._lock:
            present = keys[index.contains(keys)]
            if not len(present):
                return present, np.zeros((0, index.ndim), dtype=np.float32)
            found = np.asarray(index.get(present), dtype=np.float32).reshape(len(present), index.ndim)
        return present, found

    def __len__(self) -> int:
        index = self.ensure_current()
        return 0 if index is None else len(index)
