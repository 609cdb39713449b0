"""The dataset check's variety and quality (issue 64) on a real library: pictures unlike the rest by their
stored embeddings, near-identical ones by meaning joined with the library's own near-duplicates, a
character's faces that belong to someone else or are missing, and blur, exposure, noise and hard JPEG
compression measured on the pictures. The vectors are planted in the store as an embedder and a face
engine write them (their engines are tested with their plugins); everything after is the real check."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import photo
from test_scores import degraded

from pixlstash.db.vectors import FaceRow
from pixlstash.domain import EditChange, PictureFilter
from pixlstash.training import BucketRules, ExportOptions
from pixlstash.training.picture_quality import MeasureCache, jpeg_quality
from pixlstash.training.variety import joined, near_identical, spread

CHECK = (ExportOptions(), BucketRules())


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _import(library, folder, images: dict) -> dict[str, int]:
    folder.mkdir()
    for name, image in images.items():
        image.save(folder / name, quality=40) if name.endswith(".jpg") else image.save(folder / name)
    return {p.path.rsplit("/", 1)[-1]: p.picture_id for p in library.import_paths([folder]).imported}


def test_outliers_and_near_identical_pictures_by_their_embeddings(library, tmp_path):
    ids = _import(library, tmp_path / "p", {f"p{n:02}.png": photo(96, 96, seed=300 + n) for n in range(12)})
    rng = np.random.default_rng(7)
    theme = _unit(rng.normal(size=64))
    vectors = {name: _unit(theme + rng.normal(scale=0.06, size=64)) for name in ids}  # cos ~0.9
    vectors["p00.png"] = _unit(rng.normal(size=64))  # another subject altogether
    vectors["p02.png"] = _unit(vectors["p01.png"] + rng.normal(scale=0.02, size=64))  # p01 again, re-saved
    with library.db.write():
        for name, vector in vectors.items():
            library.vectors.put_embedding(ids[name], "test/clip", "1", vector, 0)
        # The library's own near-duplicates: p02 and p03 (the hash saw it); by meaning p01 and p02: one group.
        library.db.execute(
            "UPDATE pictures SET dup_group = ? WHERE id IN (?, ?)", (ids["p02.png"],) * 2 + (ids["p03.png"],)
        )
    theirs = library.edits.create_collection("set", "Theirs")
    library.edits.add_members(theirs.id, list(ids.values()))

    report = library.training.check(PictureFilter(collections=[theirs.id]), *CHECK)
    assert report.embedding is not None and report.embedding.engine_id == "test/clip"
    assert report.embedding.pictures == 12 and report.embedding.without == []
    assert report.embedding.outliers == [ids["p00.png"]]
    assert report.near_duplicates == [sorted([ids["p01.png"], ids["p02.png"], ids["p03.png"]])]
    kinds = {f.kind: f for f in report.findings}
    assert kinds["outliers"].picture_ids == [ids["p00.png"]] and "test/clip" in kinds["outliers"].message
    assert "1 group of near-identical pictures (3 pictures)" in kinds["near-duplicates"].message
    # The distances are to the set's centre: the outlier's is the largest.
    distances = {d.picture_id: d.distance for d in report.embedding.distances}
    assert max(distances, key=distances.get) == ids["p00.png"]


def test_the_math_alone():
    """Pictures near-identical only through a third are one group; too few pictures name no outlier."""
    turn = 0.2  # radians: cos 0.980 between neighbours, cos 0.921 between the ends

    def at(angle: float) -> np.ndarray:
        return np.array([np.cos(angle), np.sin(angle), 0.0], np.float32)

    chain = {1: at(0), 2: at(turn), 4: at(2 * turn), 3: np.array([0, 0, 1], np.float32)}
    assert near_identical(chain, threshold=0.97) == [[1, 2, 4]]
    assert near_identical(chain, threshold=0.99) == []
    # A set compared in several blocks (memory stays bounded): a pair found in a later block, and groups
    # joined as the library's and the embeddings' are.
    many = {i: _unit(np.random.default_rng(i).normal(size=64)) for i in range(5000)}
    many[4999] = many[4000]
    assert near_identical(many) == [[4000, 4999]]
    assert joined([[1, 2], [5, 6], [2, 9], [7]]) == [[1, 2, 9], [5, 6]]
    rng = np.random.default_rng(1)
    few = spread("e", {i: _unit(rng.normal(size=16)) for i in range(5)}, list(range(6)))
    assert few.outliers == [] and few.outlier_distance is None and few.without == [5]


def test_a_character_with_someone_else_and_a_faceless_picture(library, tmp_path):
    ids = _import(library, tmp_path / "p", {f"c{n:02}.png": photo(96, 96, seed=400 + n) for n in range(10)})
    rng = np.random.default_rng(3)
    alice, bob = _unit(rng.normal(size=32)), _unit(rng.normal(size=32))

    def face(who: np.ndarray, size: float) -> FaceRow:
        return FaceRow((0, 0, size, size), 0.9, [], _unit(who + rng.normal(scale=0.15, size=32)))

    planted = {name: [face(alice, 40)] for name in ids}
    planted["c00.png"] = [face(bob, 40)]  # someone else
    planted["c01.png"] = [face(bob, 60), face(alice, 30)]  # Bob is larger, but Alice is there
    planted["c02.png"] = []  # from behind
    with library.db.write():
        for name, faces in planted.items():
            library.vectors.replace_faces(ids[name], "test/faces", "1", faces, 0)
    character = library.edits.create_collection("character", "Alice")
    library.edits.add_members(character.id, list(ids.values()))

    report = library.training.check(PictureFilter(collections=[character.id]), *CHECK)
    assert report.identity is not None and report.identity.engine_id == "test/faces"
    assert report.identity.someone_else == [ids["c00.png"]]
    assert report.identity.without_face == [ids["c02.png"]] and report.identity.pictures == 9
    kinds = {f.kind: f for f in report.findings}
    assert kinds["someone-else"].message.startswith("1 picture looks like someone else")
    assert kinds["no-face"].picture_ids == [ids["c02.png"]]
    # A set of the same pictures is not a character: no identity is asked of it.
    as_set = library.edits.create_collection("set", "Crowd")
    library.edits.add_members(as_set.id, list(ids.values()))
    assert library.training.check(PictureFilter(collections=[as_set.id]), *CHECK).identity is None


def test_blur_exposure_noise_and_jpeg_compression_are_flagged(library, tmp_path):
    pictures = {f"{name}.png": image for name, image in degraded(5).items()}
    pictures["squeezed.jpg"] = photo(640, 480, seed=77)  # saved at quality 40
    ids = _import(library, tmp_path / "p", pictures)
    assert jpeg_quality(tmp_path / "p" / "squeezed.jpg") == 40
    shoot = library.edits.create_collection("set", "Shoot")
    library.edits.add_members(shoot.id, list(ids.values()))

    report = library.training.check(PictureFilter(collections=[shoot.id]), *CHECK)
    flagged = {f.kind: f.picture_ids for f in report.findings}
    assert flagged["blurry"] == [ids["blurred.png"]]
    assert flagged["exposure"] == [ids["dark.png"]]
    assert flagged["noisy"] == [ids["noisy.png"]]
    assert flagged["jpeg"] == [ids["squeezed.jpg"]]
    measured = {q.picture_id: q for q in report.quality}
    assert set(measured) == set(ids.values())
    assert measured[ids["squeezed.jpg"]].jpeg_quality == 40 and measured[ids["sharp.png"]].jpeg_quality is None
    # Again: measured once (nothing is read again), the same answer; the measures are kept beside the
    # thumbnails for the next process, and a damaged file costs only a measuring pass.
    assert library.training.check(PictureFilter(collections=[shoot.id]), *CHECK) == report
    kept = library.root / "thumbnails" / "measures.v1.msgpack"
    assert len(MeasureCache(kept).get({i: f"{library.pictures.get(i).content_hash}:None" for i in ids.values()})) == 5
    kept.write_bytes(b"\x93 not msgpack")
    library.training.measures = MeasureCache(kept)  # as a new process finds it
    assert library.training.check(PictureFilter(collections=[shoot.id]), *CHECK) == report
    # A new look is measured again: the dark one turned is still dark, and its measures are the new look's.
    library.edits.change_look([ids["dark.png"]], EditChange(rotate=90))
    turned = library.training.check(PictureFilter(collections=[shoot.id]), *CHECK)
    assert [f.picture_ids for f in turned.findings if f.kind == "exposure"] == [[ids["dark.png"]]]
    assert (
        len(MeasureCache(kept).get({ids["dark.png"]: f"{library.pictures.get(ids['dark.png']).content_hash}:None"}))
        == 0
    )


@pytest.mark.parametrize("quality", [15, 60, 90])
def test_the_jpeg_estimate_is_the_quality_pillow_saved_at(tmp_path, quality):
    path = tmp_path / "q.jpg"
    photo(64, 64, seed=1).save(path, quality=quality)
    assert abs(jpeg_quality(path) - quality) <= 1 if quality >= 20 else jpeg_quality(path) < 25


def test_a_picture_whose_thumbnail_cannot_be_made_is_left_unmeasured(library, tmp_path):
    ids = _import(library, tmp_path / "p", {"a.png": photo(200, 150, seed=1), "b.png": photo(200, 150, seed=2)})
    both = library.edits.create_collection("set", "Both")
    library.edits.add_members(both.id, list(ids.values()))
    broken = ids["b.png"]
    library.thumbnail_path(broken).unlink()  # gone, and the original it would be made from is damaged
    library.original_path(broken).write_bytes(b"\x89PNG\r\n\x1a\n not a picture any more")
    report = library.training.check(PictureFilter(collections=[both.id]), *CHECK)
    assert [q.picture_id for q in report.quality] == [ids["a.png"]] and report.pictures == 2
