"""Vector indexes that never block a search: a rebuild runs in the background while searches score the
stored vectors exactly (and say so), and the rebuilt index then answers as exact search does."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pixlstash.domain import PictureFilter
from pixlstash.library import Library
from pixlstash.system.clock import now_ms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_library import _vectors, build

ENGINE = "clip/ViT-B-32"  # the engine id synthetic libraries store embeddings under
DIMS = 64


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "lib"
    return build(
        root, 4000, tags_per_picture=2, sets=10, characters=2, embedding_dims=DIMS, faces=True, log=lambda *_: None
    )


def brute_force(library: Library, query: np.ndarray, f: PictureFilter, limit: int = 10) -> list[int]:
    allowed = set(library.query.ids(f))
    keys, vectors = zip(*library.vectors.iter_embeddings(ENGINE), strict=True)
    keys, vectors = np.concatenate(keys), np.concatenate(vectors)
    scores = vectors @ (query / np.linalg.norm(query))
    order = [int(k) for k in keys[np.argsort(-scores, kind="stable")] if int(k) in allowed]
    return order[:limit]


def gated(index) -> threading.Event:
    """Hold the index's next rebuild before its first batch until the returned event is set (a rebuild
    at a million vectors takes minutes; here it takes as long as the test wants)."""
    release = threading.Event()
    read_all = index._db_vectors

    def slowly():
        release.wait(60)
        yield from read_all()

    index._db_vectors = slowly
    return release


def test_searches_during_a_rebuild_are_exact_and_the_rebuilt_index_agrees(synthetic):
    rng = np.random.default_rng(7)
    queries = _vectors(rng, 30, DIMS)
    with Library.open(synthetic) as library:
        index = library.indexes.get(ENGINE)
        library.indexes.delete_saved()
        release = gated(index)
        started = time.monotonic()
        hits, exact = library.search._nearest(ENGINE, queries[:1], "mean", None, None, 10)
        assert exact and index.building and time.monotonic() - started < 10  # answered, not waiting
        assert [h.picture.id for h in hits] == brute_force(library, queries[0], PictureFilter())
        rated = PictureFilter(rating_min=4)
        hits, exact = library.search._nearest(ENGINE, queries[1:2], "mean", rated, None, 10)
        assert exact and [h.picture.id for h in hits] == brute_force(library, queries[1], rated)
        assert all(h.picture.rating >= 4 for h in hits)
        # Written while the index is built: the finished index catches up with it.
        with library.db.write():
            library.vectors.put_embedding(77, ENGINE, "1", queries[2], now_ms())
        release.set()
        deadline = time.monotonic() + 120
        while index.building and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not index.building and index.rebuilds == 1
        hits, exact = library.search._nearest(ENGINE, queries[2:3], "mean", None, None, 10)
        assert not exact and hits[0].picture.id == 77 and hits[0].similarity > 0.99
        found = 0
        for query in queries[3:]:
            hits, exact = library.search._nearest(ENGINE, query[None, :], "mean", None, None, 10)
            assert not exact
            found += len({h.picture.id for h in hits} & set(brute_force(library, query, PictureFilter())))
        assert found / (10 * len(queries[3:])) >= 0.95  # recall@10 of the rebuilt index against exact search
    # The rebuilt index was saved: the next process loads it, no rebuild.
    with Library.open(synthetic) as library:
        index = library.indexes.get(ENGINE)
        assert index.ensure_current(wait=False) is not None and index.rebuilds == 0


def test_closing_the_library_stops_a_rebuild_in_progress(synthetic):
    library = Library.open(synthetic)
    index = library.indexes.get(ENGINE)
    library.indexes.delete_saved()
    release = gated(index)
    assert index.ensure_current(wait=False) is None and index.building
    closer = threading.Thread(target=library.close)
    closer.start()
    time.sleep(0.2)
    release.set()  # the build reads its first batch, sees the stop, and ends without an index
    closer.join(30)
    assert not closer.is_alive() and not index.building and index.rebuilds == 0


def test_face_searches_during_a_rebuild_score_every_face_exactly(synthetic):
    faces_engine = "faces/buffalo_l"
    with Library.open(synthetic) as library:
        index = library.indexes.get(faces_engine, "face")
        library.indexes.delete_saved()
        release = gated(index)
        keys, vectors = zip(*library.vectors.iter_face_vectors(faces_engine), strict=True)
        keys, vectors = np.concatenate(keys), np.concatenate(vectors)
        query = vectors[100] + 0.01
        truth = [int(k) for k in keys[np.argsort(-(vectors @ (query / np.linalg.norm(query))), kind="stable")][:5]]
        started = time.monotonic()
        hits = library.search.faces_like(faces_engine, query[None, :], limit=5)
        assert index.building and time.monotonic() - started < 10
        assert [h.face_id for h in hits] == truth
        release.set()
        while index.building:
            time.sleep(0.05)
        assert [h.face_id for h in library.search.faces_like(faces_engine, query[None, :], limit=5)][:3] == truth[:3]


def test_a_rebuilt_index_reaches_every_vector_it_holds(synthetic):
    """Each stored face, searched for by its own vector, is among its own nearest ten: no node of the
    rebuilt graph is stranded (usearch's concurrent add() strands a few on clustered data)."""
    faces_engine = "faces/buffalo_l"
    with Library.open(synthetic) as library:
        index = library.indexes.get(faces_engine, "face")
        library.indexes.delete_saved()
        index.invalidate()
        assert index.ensure_current() is not None and len(index.ensure_current()) > 5000
        keys, vectors = zip(*library.vectors.iter_face_vectors(faces_engine), strict=True)
        keys, vectors = np.concatenate(keys).astype(np.int64), np.concatenate(vectors)
        found, _ = index.search(vectors, 10)
        stranded = [int(k) for k, row in zip(keys, found, strict=True) if k not in row]
        assert stranded == []
