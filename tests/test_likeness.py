"""Likeness to a mix of references through the API (what the ComfyUI nodes call): images, pictures, sets
and characters, by picture embeddings or by faces, combined by mean or min; and scores of images that are
not in the library. Rankings are checked against the stored vectors (the fake engines' colour vectors)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from corpus import solid
from test_enrichment import PALETTE
from test_search import assert_ranked
from test_web_enrichment import upload_colours, wait_for_jobs

from pixlstash.testing import colour_vector

NAMES = ("red", "green", "blue", "yellow", "magenta", "cyan", "white")


@pytest.fixture
def world(fake_engines, live):
    admin = live.client(live.token("admin"))
    ids = upload_colours(admin, NAMES)
    wait_for_jobs(admin)
    warm = admin.post("/api/v1/sets", json={"name": "Warm"}).json()
    admin.post(f"/api/v1/sets/{warm['id']}/pictures", json={"ids": [ids["red"], ids["yellow"]]}).raise_for_status()
    alice = admin.post("/api/v1/characters", json={"name": "Alice"}).json()
    faces = dict(live.library.db.query("SELECT picture_id, id FROM faces"))
    admin.patch(f"/api/v1/faces/{faces[ids['magenta']]}", json={"character_id": alice["id"]}).raise_for_status()
    reader = live.client(live.token("read"))
    return reader, ids, warm["id"], alice["id"], faces, live


def png(name: str, size=(100, 80)) -> tuple[str, bytes, str]:
    buffer = io.BytesIO()
    solid(*size, PALETTE[name]).save(buffer, "PNG")
    return (f"{name}.png", buffer.getvalue(), "image/png")


def expected(live, ids: dict[str, int], references: list[int], combine: str, kind: str = "image") -> dict[int, float]:
    """Each other picture's likeness to the references, from the stored vectors."""
    library = live.library
    if kind == "image":
        vectors = library.vectors.embeddings("fake/colour", list(ids.values()))
    else:
        faces = dict(library.db.query("SELECT picture_id, id FROM faces"))
        by_face = library.vectors.face_vectors(list(faces.values()))
        vectors = {p: by_face[f] for p, f in faces.items()}
    queries = np.stack([vectors[r] for r in references])
    found = {}
    for picture_id, vector in vectors.items():
        if picture_id in references:
            continue
        sims = queries @ vector
        found[picture_id] = float(sims.min() if combine == "min" else sims.mean())
    return found


def search(client, files=(), **fields):
    """Multipart with images, JSON without."""
    if not files:
        return client.post("/api/v1/search/likeness", json=fields)
    data = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in fields.items()}
    return client.post("/api/v1/search/likeness", data=data, files=[("file", f) for f in files])


@pytest.mark.parametrize("combine", ["mean", "min"])
@pytest.mark.parametrize("mode", ["picture_likeness", "face_search"])
def test_a_set_and_a_character_together_rank_like_the_stored_vectors(world, mode, combine):
    reader, ids, warm, alice, _, live = world
    response = search(reader, mode=mode, collection_ids=[warm, alice], combine=combine, limit=10)
    assert response.status_code == 200, response.text
    result = response.json()
    references = [ids["red"], ids["yellow"], ids["magenta"]]
    want = expected(live, ids, references, combine, "image" if mode == "picture_likeness" else "face")
    assert_ranked([h["picture"]["id"] for h in result["hits"]], want)
    assert [h["similarity"] for h in result["hits"]] == pytest.approx(sorted(want.values(), reverse=True), abs=2e-3)
    assert result["engine_id"] == ("fake/colour" if mode == "picture_likeness" else "fake/faces")


def test_images_and_ids_as_references_with_threshold_and_filter(world):
    reader, ids, warm, _, _, live = world
    by_image = search(reader, [png("blue")], mode="face_search", limit=3).json()
    assert by_image["hits"][0]["picture"]["id"] == ids["blue"] and len(by_image["hits"]) == 3
    mixed = search(reader, [png("green")], picture_ids=[ids["cyan"]], combine="min", threshold=0.3).json()
    query = np.stack(
        [colour_vector((0, 1, 0)), live.library.vectors.embeddings("fake/colour", [ids["cyan"]])[ids["cyan"]]]
    )
    for hit in mixed["hits"]:
        vector = live.library.vectors.embeddings("fake/colour", [hit["picture"]["id"]])[hit["picture"]["id"]]
        assert hit["similarity"] == pytest.approx(float((query @ vector).min()), abs=2e-3) and hit["similarity"] >= 0.3
    assert ids["cyan"] not in {h["picture"]["id"] for h in mixed["hits"]}  # a reference is not its own match
    inside = search(reader, [png("red")], filter=json.dumps({"collections": [warm]})).json()
    assert {h["picture"]["id"] for h in inside["hits"]} == {ids["red"], ids["yellow"]}
    inside = search(reader, picture_ids=[ids["blue"]], filter={"collections": [warm]}).json()
    assert {h["picture"]["id"] for h in inside["hits"]} == {ids["red"], ids["yellow"]}


def test_scores_of_images_not_in_the_library(world):
    reader, _, warm, alice, _, live = world
    files = [("file", png(name)) for name in ("red", "blue", "black")]
    for mode in ("picture_likeness", "face_search"):
        response = reader.post(
            "/api/v1/search/likeness/score",
            data={"mode": mode, "collection_ids": f"{warm},{alice}", "combine": "min"},
            files=files,
        )
        assert response.status_code == 200, response.text
        scores = response.json()["scores"]
        references = np.stack([colour_vector(tuple(c / 255 for c in PALETTE[n])) for n in ("red", "yellow", "magenta")])
        for name, score in zip(("red", "blue", "black"), scores, strict=True):
            if mode == "face_search" and name == "black":
                assert score is None  # the fake extractor finds no face on black
                continue
            vector = colour_vector(tuple(c / 255 for c in PALETTE[name]))
            assert score == pytest.approx(float((references @ vector).min()), abs=5e-3)
    assert live.library.count() == len(NAMES)  # nothing was imported


def test_bad_likeness_requests_say_what_is_wrong(world):
    reader, ids, _, _, _, live = world
    assert search(reader, mode="nearby", picture_ids=[ids["red"]]).status_code == 422
    assert search(reader, [png("red")], mode="nearby").status_code == 422
    assert search(reader).status_code == 400  # no reference at all
    assert search(reader, collection_ids=[987654]).status_code == 404
    no_face = search(reader, [png("black")], mode="face_search")
    assert no_face.status_code == 400 and "no face was found in reference image 1" in no_face.json()["error"]["message"]
    not_image = reader.post("/api/v1/search/likeness", files=[("file", ("x.png", b"not an image", "image/png"))])
    assert not_image.status_code in (400, 415)
    unscored = reader.post("/api/v1/search/likeness/score", json={"picture_ids": [ids["red"]]})
    assert unscored.status_code == 400 and "at least one image" in unscored.json()["error"]["message"]
    form = reader.post("/api/v1/search/likeness/score", data={"picture_ids": str(ids["red"])})
    assert form.status_code == 415  # neither multipart nor JSON
    assert live.client().post("/api/v1/search/likeness", json={"picture_ids": [1]}).status_code == 401
    assert reader.post("/api/v1/search/likeness", json={"picture_ids": "1,2"}).status_code == 422
