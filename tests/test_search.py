"""Vector search over the fake colour embedder: exact rankings, combining references, filters, faces."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from corpus import solid
from PIL import Image
from test_enrichment import import_colours, run_jobs

from pixlstash.domain import PictureFilter
from pixlstash.errors import BadInput, NotFound
from pixlstash.search import service as search_module
from pixlstash.testing import COLOURS, colour_vector, mean_rgb

NAMES = ("red", "green", "blue", "yellow", "cyan", "magenta", "white")


@pytest.fixture
def colours(fake_engines, library, tmp_path) -> dict[str, int]:
    ids = import_colours(library, tmp_path, NAMES)
    run_jobs(library)
    return ids


def expected_scores(
    library, ids: dict[str, int], query: np.ndarray, combine: str = "mean", exclude: set[int] = frozenset()
) -> dict[int, float]:
    """The likenesses the fake embedder's documented formula gives, computed from the stored thumbnails."""
    scores = {}
    for picture_id in ids.values():
        if picture_id in exclude:
            continue
        vector = colour_vector(mean_rgb(Image.open(library.thumbnail_path(picture_id, "grid"))))
        sims = np.atleast_2d(query) @ vector
        scores[picture_id] = float(sims.min() if combine == "min" else sims.mean())
    return scores


def assert_ranked(found: list[int], scores: dict[int, float], tolerance: float = 2e-3) -> None:
    """``found`` is the best of ``scores`` up to the order of near-ties: the index keeps vectors in half
    precision, so two pictures whose exact likenesses differ by less than that may come either way round."""
    best = sorted(scores, key=lambda k: -scores[k])
    assert len(set(found)) == len(found) and set(found) <= set(scores)
    assert min(scores[k] for k in found) >= scores[best[len(found) - 1]] - tolerance
    for earlier, later in itertools.pairwise(found):
        assert scores[earlier] >= scores[later] - tolerance, (found, scores)


@pytest.fixture(params=["index", "exact"])
def path(request, monkeypatch):
    """Every search runs both through the ANN index and through exact scoring of a filtered set."""
    if request.param == "index":
        monkeypatch.setattr(search_module, "EXACT_LIMIT", 0)
    return request.param


def test_semantic_search_ranks_by_the_text_vector(library, colours, path):
    f = PictureFilter(rating_min=0) if path == "exact" else None  # a filter that keeps everything
    result = library.search.semantic("red", f=f, limit=10)
    query = colour_vector(COLOURS["red"])
    assert result.engine_id == "fake/colour"
    assert_ranked([h.picture.id for h in result.hits], expected_scores(library, colours, query))
    assert result.hits[0].picture.id == colours["red"] and result.hits[0].similarity == pytest.approx(1, abs=2e-3)
    above = library.search.semantic("red", f=f, threshold=0.7).hits
    assert above and all(h.similarity >= 0.7 for h in above)
    assert len(above) < len(result.hits)
    assert len(library.search.semantic("red", f=f, limit=2).hits) == 2


def test_similar_by_pictures_combines_by_mean_or_min(library, colours, path):
    refs = [colours["red"], colours["green"]]
    f = PictureFilter(rating_min=0) if path == "exact" else None
    thumbs = np.stack([colour_vector(mean_rgb(Image.open(library.thumbnail_path(i, "grid")))) for i in refs])
    for combine in ("mean", "min"):
        hits = library.search.similar(picture_ids=refs, combine=combine, f=f, limit=10).hits
        assert_ranked([h.picture.id for h in hits], expected_scores(library, colours, thumbs, combine, set(refs)))
    # Yellow (red + green) is close to both, so it wins under min, where each reference must be close.
    assert library.search.similar(picture_ids=refs, combine="min", f=f).hits[0].picture.id == colours["yellow"]


def test_similar_by_an_uploaded_image_encodes_it_on_the_fly(library, colours, path):
    f = PictureFilter(rating_min=0) if path == "exact" else None
    hits = library.search.similar(images=[solid(50, 50, (0, 0, 250))], f=f).hits
    assert hits[0].picture.id == colours["blue"]


def test_filters_restrict_results_and_deleted_pictures_never_come_back(library, colours, path):
    library.edits.tag([colours["magenta"], colours["blue"]], add=["keep"])
    hits = library.search.semantic("red", f=PictureFilter(tags=["keep"])).hits
    assert [h.picture.id for h in hits] == [colours["magenta"], colours["blue"]]
    library.edits.scrap([colours["red"]])
    assert colours["red"] not in {h.picture.id for h in library.search.semantic("red").hits}
    scope = PictureFilter(ids=[colours["cyan"], colours["white"]])
    assert {h.picture.id for h in library.search.similar(picture_ids=[colours["blue"]], f=scope).hits} == {
        colours["cyan"],
        colours["white"],
    }


def test_bad_searches_are_refused_clearly(library, colours):
    with pytest.raises(BadInput, match="empty"):
        library.search.semantic("  ")
    with pytest.raises(BadInput, match="at least one"):
        library.search.similar()
    with pytest.raises(NotFound):
        library.search.similar(picture_ids=[999_999])
    with pytest.raises(BadInput, match="combine"):
        library.search.similar(picture_ids=[colours["red"]], combine="max")


def test_pictures_not_yet_embedded_are_encoded_for_the_query(fake_engines, library, tmp_path):
    ids = import_colours(library, tmp_path, ("red", "magenta", "blue"))
    run_jobs(library)
    [late] = import_colours(library, tmp_path / "late", ("yellow",)).values()  # queued, not yet embedded
    assert library.vectors.embeddings("fake/colour", [late]) == {}
    hits = library.search.similar(picture_ids=[late]).hits
    assert hits[0].picture.id == ids["red"]


def test_similar_faces_finds_faces_of_the_same_colour(library, colours):
    faces = dict(library.db.query("SELECT picture_id, id FROM faces"))
    hits = library.search.similar_faces(faces[colours["red"]], limit=3)
    assert next(h.picture.id for h in hits) in (colours["magenta"], colours["yellow"])
    assert faces[colours["red"]] not in {h.face_id for h in hits}
    restricted = library.search.similar_faces(faces[colours["red"]], f=PictureFilter(ids=[colours["blue"]]))
    assert [h.picture.id for h in restricted] == [colours["blue"]]
    with pytest.raises(NotFound):
        library.search.similar_faces(10_000)


def test_a_selectively_restored_picture_is_found_again_without_a_rebuild(library, colours, monkeypatch):
    """A selective restore writes the picture's embedding back; the index reads just that row."""
    from pixlstash.snapshots import RestoreResource

    monkeypatch.setattr(search_module, "EXACT_LIMIT", 0)
    service = library.new_snapshot_service()
    snapshot = service.take("MANUAL")
    index = library.indexes.get("fake/colour")
    assert colours["red"] == library.search.semantic("red", limit=1).hits[0].picture.id
    library.edits.scrap([colours["red"]])
    library.purge([colours["red"]])
    assert library.vectors.embeddings("fake/colour", [colours["red"]]) == {}
    assert colours["red"] not in {h.picture.id for h in library.search.semantic("red").hits}
    service.restore_batch(snapshot.id, [RestoreResource("picture", colours["red"])])
    assert colours["red"] == library.search.semantic("red", limit=1).hits[0].picture.id
    assert (index.rebuilds, index.caught_up) == (0, 1)
    service.close()


def index_matches_the_database(library, engine_id: str = "fake/colour", kind: str = "image") -> None:
    """Every stored vector is in the index with its value, and the index holds no vector the database lacks."""
    index = library.indexes.get(engine_id, kind)
    if kind == "image":
        keys = [r[0] for r in library.db.query("SELECT picture_id FROM embeddings WHERE engine_id = ?", (engine_id,))]
        stored = library.vectors.embeddings(engine_id, keys)
    else:
        keys = [r[0] for r in library.db.query("SELECT id FROM faces WHERE engine_id = ?", (engine_id,))]
        stored = library.vectors.face_vectors(keys)
    every = np.arange(0, 200, dtype=np.uint64)
    present, vectors = index.vectors(every)
    assert sorted(present.tolist()) == sorted(stored)
    for key, vector in zip(present.tolist(), vectors, strict=True):
        np.testing.assert_allclose(vector, stored[key], atol=2e-3)  # the index keeps half precision


def test_a_full_restore_carries_indexes_over_patching_only_what_differs(fake_engines, library, colours, tmp_path):

    service = library.new_snapshot_service()
    snapshot = service.take("MANUAL")
    with library.db.write():  # after the snapshot: a vector rewritten, ...
        library.vectors.put_embedding(colours["red"], "fake/colour", "1", colour_vector((0, 0, 1)), 0)
    library.edits.scrap([colours["green"]])
    library.purge([colours["green"]])  # ... a picture gone, ...
    late = import_colours(library, tmp_path / "late", ("black",))  # ... and one added
    run_jobs(library)
    index = library.indexes.get("fake/colour")
    faces = library.indexes.get("fake/faces", "face")
    assert len(index) and len(faces)  # both loaded (green's vectors linger in them: hits are filtered)

    service.restore(snapshot.id)
    assert (index.rebuilds, faces.rebuilds) == (0, 0)
    assert index.path.is_file() and faces.path.is_file()  # saved at the new stamp
    index_matches_the_database(library)
    index_matches_the_database(library, "fake/faces", "face")
    assert late["black"] not in {h.picture.id for h in library.search.semantic("black", limit=50).hits}
    assert colours["red"] == library.search.semantic("red", limit=1).hits[0].picture.id
    library.indexes.invalidate()
    assert len(index) == len(colours) and index.rebuilds == 0  # the saved file is current too

    with library.db.write():
        library.vectors.new_epoch()  # a snapshot from before another restore: no shared history
    service.restore(snapshot.id)
    index_matches_the_database(library)
    assert index.rebuilds == 1  # on first use after the restore
    service.close()


def test_a_carried_index_drops_a_vector_whose_picture_comes_back_without_one(fake_engines, library, colours, tmp_path):

    late = import_colours(library, tmp_path / "late", ("black",))["black"]  # not embedded yet
    service = library.new_snapshot_service()
    snapshot = service.take("MANUAL")
    run_jobs(library)  # now it is, and the index has it
    library.edits.scrap([late])
    library.purge([late])  # its row goes; its vector stays in the index (searches filter it)
    assert late in library.indexes.get("fake/colour").keys().tolist()
    service.restore(snapshot.id)  # the picture is back, with no embedding
    assert library.indexes.get("fake/colour").rebuilds == 0
    index_matches_the_database(library)
    service.close()
