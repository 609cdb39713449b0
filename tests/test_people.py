"""Characters by face: suggestions ranked exactly by the stored face vectors (mean or min over the
character's named faces), accepting and rejecting them (rejections are remembered), and the API."""

from __future__ import annotations

import numpy as np
import pytest
from test_enrichment import import_colours, run_jobs

from pixlstash.errors import BadInput, NotFound

NAMES = ("red", "green", "blue", "yellow", "cyan", "magenta", "white")  # black has no face


@pytest.fixture
def faces(fake_engines, library, tmp_path) -> dict[str, int]:
    """Colour name -> the id of the one face the fake extractor finds in that picture."""
    ids = import_colours(library, tmp_path, NAMES)
    run_jobs(library)
    by_picture = dict(library.db.query("SELECT picture_id, id FROM faces"))
    return {name: by_picture[picture_id] for name, picture_id in ids.items()}


def expected(library, faces: dict[str, int], named: list[str], combine: str, skip=()) -> list[int]:
    vectors = library.vectors.face_vectors(list(faces.values()))
    queries = np.stack([vectors[faces[n]] for n in named])
    scores = {}
    for name, face_id in faces.items():
        if name in named or name in skip:
            continue
        sims = queries @ vectors[face_id]
        scores[face_id] = float(sims.min() if combine == "min" else sims.mean())
    return sorted(scores, key=lambda k: (-scores[k], k))


def test_suggestions_rank_faces_by_their_likeness_to_the_characters_faces(library, faces):
    warm = library.organise.create_collection("character", "Warm")
    with pytest.raises(BadInput, match="name at least one face as Warm"):
        library.people.suggestions(warm.id)
    library.organise.assign_face(faces["red"], warm.id)
    hits = library.people.suggestions(warm.id, limit=10)
    assert [h.face_id for h in hits] == expected(library, faces, ["red"], "mean")
    library.organise.assign_face(faces["yellow"], warm.id)
    for combine in ("mean", "min"):
        hits = library.people.suggestions(warm.id, combine=combine, limit=10)
        assert [h.face_id for h in hits] == expected(library, faces, ["red", "yellow"], combine)
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    everything = library.people.suggestions(warm.id, limit=10)
    cut = everything[2].similarity
    top = library.people.suggestions(warm.id, threshold=cut)
    assert [h.face_id for h in top] == [h.face_id for h in everything if h.similarity >= cut]
    assert len(library.people.suggestions(warm.id, limit=2)) == 2


def test_accepted_faces_join_the_character_and_rejected_ones_never_come_back(library, faces):
    warm = library.organise.create_collection("character", "Warm")
    library.organise.assign_face(faces["red"], warm.id)
    first = library.people.suggestions(warm.id, limit=10)
    best, second = first[0].face_id, first[1].face_id
    assert library.people.accept(warm.id, [best]) == 1
    assert library.collections.collection(warm.id).member_count == 2
    assert library.people.reject(warm.id, [second]) == 1
    after = [h.face_id for h in library.people.suggestions(warm.id, limit=10)]
    assert best not in after and second not in after
    assert after == expected(
        library,
        faces,
        ["red", next(n for n, f in faces.items() if f == best)],
        "mean",
        skip=[n for n, f in faces.items() if f == second],
    )
    # A rejection is for this character only: another one may still be offered the face.
    other = library.organise.create_collection("character", "Other")
    library.organise.assign_face(faces["white"], other.id)
    assert second in {h.face_id for h in library.people.suggestions(other.id, limit=10)}
    with pytest.raises(NotFound):
        library.people.accept(warm.id, [999_999])
    a_set = library.organise.create_collection("set", "Not a person")
    with pytest.raises(BadInput):
        library.people.accept(a_set.id, [faces["blue"]])
    with pytest.raises(NotFound):
        library.people.suggestions(a_set.id)


def test_suggestions_through_the_api(fake_engines, live, tmp_path):
    from test_web_enrichment import upload_colours, wait_for_jobs

    admin = live.client(live.token("admin"))
    reader = live.client(live.token("read"))
    upload_colours(admin, ("red", "yellow", "magenta", "blue"))
    wait_for_jobs(admin)
    faces = dict(live.library.db.query("SELECT picture_id, id FROM faces"))
    red = live.library.db.query("SELECT id FROM pictures WHERE original_name = 'red.png'")[0][0]
    warm = admin.post("/api/v1/characters", json={"name": "Warm"}).json()
    admin.patch(f"/api/v1/faces/{faces[red]}", json={"character_id": warm["id"]}).raise_for_status()
    hits = reader.get(f"/api/v1/characters/{warm['id']}/suggestions", params={"combine": "min", "limit": 2}).json()
    assert len(hits) == 2 and hits[0]["similarity"] >= hits[1]["similarity"]
    assert (
        reader.post(
            f"/api/v1/characters/{warm['id']}/suggestions/accept", json={"face_ids": [hits[0]["face_id"]]}
        ).status_code
        == 403
    )
    assert admin.post(
        f"/api/v1/characters/{warm['id']}/suggestions/accept", json={"face_ids": [hits[0]["face_id"]]}
    ).json() == {"count": 1}
    assert admin.post(
        f"/api/v1/characters/{warm['id']}/suggestions/reject", json={"face_ids": [hits[1]["face_id"]]}
    ).json() == {"count": 1}
    left = {h["face_id"] for h in reader.get(f"/api/v1/characters/{warm['id']}/suggestions").json()}
    assert left and not left & {hits[0]["face_id"], hits[1]["face_id"]}
    assert admin.get(f"/api/v1/characters/{warm['id']}/suggestions", params={"combine": "max"}).status_code == 422
    assert (
        admin.post(f"/api/v1/characters/{warm['id']}/suggestions/reject", json={"face_ids": [987654]}).status_code
        == 404
    )
