"""Characters by face: suggestions ranked exactly by the stored face vectors (mean or min over the
character's named faces), accepting and rejecting them (rejections are remembered), and the API."""

from __future__ import annotations

import numpy as np
import pytest
from test_enrichment import import_colours, run_jobs
from test_search import assert_ranked

from pixlstash.errors import BadInput, NotFound

NAMES = ("red", "green", "blue", "yellow", "cyan", "magenta", "white")  # black has no face


@pytest.fixture
def faces(fake_engines, library, tmp_path) -> dict[str, int]:
    """Colour name -> the id of the one face the fake extractor finds in that picture."""
    ids = import_colours(library, tmp_path, NAMES)
    run_jobs(library)
    by_picture = dict(library.db.query("SELECT picture_id, id FROM faces"))
    return {name: by_picture[picture_id] for name, picture_id in ids.items()}


def expected(library, faces: dict[str, int], named: list[str], combine: str, skip=()) -> dict[int, float]:
    """Each candidate face's likeness to the named faces, from the stored (full precision) vectors."""
    vectors = library.vectors.face_vectors(list(faces.values()))
    queries = np.stack([vectors[faces[n]] for n in named])
    scores = {}
    for name, face_id in faces.items():
        if name in named or name in skip:
            continue
        sims = queries @ vectors[face_id]
        scores[face_id] = float(sims.min() if combine == "min" else sims.mean())
    return scores


def test_suggestions_rank_faces_by_their_likeness_to_the_characters_faces(library, faces):
    warm = library.organise.create_collection("character", "Warm")
    with pytest.raises(BadInput, match="name at least one face as Warm"):
        library.people.suggestions(warm.id)
    library.organise.assign_face(faces["red"], warm.id)
    hits = library.people.suggestions(warm.id, limit=10)
    assert_ranked([h.face_id for h in hits], expected(library, faces, ["red"], "mean"))
    assert len(hits) == len(faces) - 1
    library.organise.assign_face(faces["yellow"], warm.id)
    for combine in ("mean", "min"):
        hits = library.people.suggestions(warm.id, combine=combine, limit=10)
        assert_ranked([h.face_id for h in hits], expected(library, faces, ["red", "yellow"], combine))
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
    remaining = expected(
        library,
        faces,
        ["red", next(n for n, f in faces.items() if f == best)],
        "mean",
        skip=[n for n, f in faces.items() if f == second],
    )
    assert_ranked(after, remaining)
    assert set(after) == set(remaining)
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
    # The character's page: its people entry, its faces, and a wrong face split out for good.
    [person] = reader.get("/api/v1/people/named").json()
    assert (person["name"], person["faces"], person["pictures"]) == ("Warm", 2, 2)
    assert person["cover_face_id"] in {faces[red], hits[0]["face_id"]}
    named = reader.get(f"/api/v1/characters/{warm['id']}/faces").json()
    assert {f["face_id"] for f in named} == {faces[red], hits[0]["face_id"]}
    remove = {"face_ids": [hits[0]["face_id"]]}
    assert reader.post(f"/api/v1/characters/{warm['id']}/faces/remove", json=remove).status_code == 403
    assert admin.post(f"/api/v1/characters/{warm['id']}/faces/remove", json=remove).json() == {"count": 1}
    assert admin.post(f"/api/v1/characters/{warm['id']}/faces/remove", json=remove).status_code == 400
    [person] = reader.get("/api/v1/people/named").json()
    assert (person["faces"], person["pictures"]) == (1, 1)
    assert hits[0]["face_id"] not in {
        h["face_id"] for h in reader.get(f"/api/v1/characters/{warm['id']}/suggestions").json()
    }
    assert (
        admin.post(f"/api/v1/characters/{warm['id']}/suggestions/reject", json={"face_ids": [987654]}).status_code
        == 404
    )


def _import_solids(library, folder, colours: list[tuple[str, tuple[int, int, int]]]) -> dict[str, int]:
    """Pictures of one colour each (sizes differ, so each is its own picture); name -> face id."""
    from corpus import solid

    folder.mkdir(parents=True, exist_ok=True)
    offset = library.count()  # a size no picture has yet: same colour, new picture
    for n, (name, rgb) in enumerate(colours):
        solid(120 + offset + n, 90, rgb).save(folder / f"{name}.png")
    report = library.import_paths([folder])
    run_jobs(library)
    faces = dict(library.db.query("SELECT picture_id, id FROM faces"))
    return {item.path.rsplit("/", 1)[-1].removesuffix(".png"): faces[item.picture_id] for item in report.imported}


def _groups(library, min_faces: int = 1) -> dict[int, set[int]]:
    return {
        c.cluster_id: set(library.people.faces.cluster_faces(c.cluster_id))
        for c in library.people.unnamed(min_faces=min_faces)
    }


def test_unnamed_people_are_clustered_incrementally_then_named_and_merged(fake_engines, library, tmp_path):
    from pixlstash.domain import EnrichmentSettings, PeopleSettings

    library.engines.configure(EnrichmentSettings(on_import=["faces"]))
    # Fake face vectors are colour vectors: red and yellow are 0.71 alike, orange is 0.89 like red and
    # 0.95 like yellow, blue is like neither. At 0.85, orange is the only bridge between red and yellow.
    library.people.configure(PeopleSettings(cluster_threshold=0.85))
    red, yellow, blue, orange = (255, 0, 0), (255, 255, 0), (0, 0, 255), (255, 128, 0)
    faces = _import_solids(
        library,
        tmp_path / "a",
        [("r1", red), ("r2", red), ("r3", red), ("y1", yellow), ("y2", yellow), ("b1", blue), ("b2", blue)],
    )
    groups = _groups(library)
    by_face = {face: cluster for cluster, members in groups.items() for face in members}
    assert sorted(map(sorted, groups.values())) == sorted(
        [
            sorted(faces[n] for n in ("r1", "r2", "r3")),
            sorted(faces[n] for n in ("y1", "y2")),
            sorted(faces[n] for n in ("b1", "b2")),
        ]
    )
    red_cluster, blue_cluster = by_face[faces["r1"]], by_face[faces["b1"]]
    assert [c.faces for c in library.people.unnamed()] == [3, 2, 2]  # largest first

    # A new red face joins the red person; nothing else moves.
    faces |= _import_solids(library, tmp_path / "b", [("r4", red)])
    assert library.people.clustering.update() == 1
    assert _groups(library)[red_cluster] == {faces[n] for n in ("r1", "r2", "r3", "r4")}

    # Orange links red and yellow: one person now, known by the red cluster's id.
    faces |= _import_solids(library, tmp_path / "c", [("o1", orange)])
    groups = _groups(library)
    assert groups[red_cluster] == {faces[n] for n in ("r1", "r2", "r3", "r4", "y1", "y2", "o1")}
    assert groups[blue_cluster] == {faces["b1"], faces["b2"]} and len(groups) == 2

    # Naming an unnamed person makes a character of all its faces; it leaves the unnamed list.
    blue_person = library.people.name_cluster(blue_cluster, name="Blue person")
    assert blue_person.kind == "character" and blue_person.member_count == 2
    assert blue_cluster not in _groups(library)
    with pytest.raises(NotFound):
        library.people.name_cluster(blue_cluster, name="again")

    # Merging characters moves faces and pictures, then the source is gone; a face named by mistake
    # is split out again by clearing it, and returns to the unnamed people.
    other = library.organise.create_collection("character", "Red person")
    library.organise.assign_face(faces["r1"], other.id)
    merged = library.people.merge(other.id, blue_person.id)
    assert merged.member_count == 3
    assert {f for f, _ in library.vectors.character_faces(blue_person.id)} == {faces["b1"], faces["b2"], faces["r1"]}
    with pytest.raises(NotFound):
        library.collections.collection(other.id)
    library.organise.assign_face(faces["r1"], None)
    assert faces["r1"] in _groups(library)[red_cluster]

    # Clustering from scratch finds the same people.
    before = sorted(map(sorted, _groups(library).values()))
    library.people.clustering.rebuild()
    assert sorted(map(sorted, _groups(library).values())) == before


def test_unnamed_people_through_the_api(fake_engines, live, tmp_path):
    from test_web_enrichment import upload_colours, wait_for_jobs

    admin, reader = live.client(live.token("admin")), live.client(live.token("read"))
    upload_colours(admin, ("red", "yellow", "blue"))
    wait_for_jobs(admin)
    # One face per colour; at the default threshold red and yellow (0.71 alike) are one person.
    people = reader.get("/api/v1/people/unnamed", params={"min_faces": 1}).json()
    assert sorted(p["faces"] for p in people) == [1, 2]
    pair = next(p for p in people if p["faces"] == 2)
    assert pair["engine_id"] == "fake/faces" and pair["pictures"] == 2
    assert reader.post(f"/api/v1/people/unnamed/{pair['cluster_id']}/name", json={"name": "Warm"}).status_code == 403
    assert admin.post(f"/api/v1/people/unnamed/{pair['cluster_id']}/name", json={}).status_code == 400
    warm = admin.post(f"/api/v1/people/unnamed/{pair['cluster_id']}/name", json={"name": "Warm"}).json()
    assert warm["kind"] == "character" and warm["member_count"] == 2
    assert [p["faces"] for p in reader.get("/api/v1/people/unnamed", params={"min_faces": 1}).json()] == [1]
    # Naming a person is one undo step: undo takes the character and its faces' names back, redo makes them.
    assert admin.get("/api/v1/history").json()["steps"][0]["label"].startswith("Name a person")
    admin.post("/api/v1/history/undo").raise_for_status()
    assert admin.get(f"/api/v1/characters/{warm['id']}").status_code == 404
    assert sorted(p["faces"] for p in reader.get("/api/v1/people/unnamed", params={"min_faces": 1}).json()) == [1, 2]
    admin.post("/api/v1/history/redo").raise_for_status()
    assert admin.get(f"/api/v1/characters/{warm['id']}").json()["member_count"] == 2
    cool = admin.post("/api/v1/characters", json={"name": "Cool"}).json()
    merged = admin.post(f"/api/v1/characters/{cool['id']}/merge", json={"into": warm["id"]}).json()
    assert merged["id"] == warm["id"] and admin.get(f"/api/v1/characters/{cool['id']}").status_code == 404
    assert admin.post(f"/api/v1/characters/{warm['id']}/merge", json={"into": warm["id"]}).status_code == 400
    assert admin.post("/api/v1/people/unnamed/987654/name", json={"name": "x"}).status_code == 404
    assert reader.get("/api/v1/people/settings").json()["auto_assign"] is False
    writer = live.client(live.token("write"))
    assert writer.put("/api/v1/people/settings", json={"auto_assign": True}).status_code == 403  # admin only
    changed = admin.put("/api/v1/people/settings", json={"auto_assign": True, "auto_assign_threshold": 0.95})
    assert changed.json()["auto_assign"] is True and live.library.people.settings().auto_assign_threshold == 0.95
    assert admin.put("/api/v1/people/settings", json={"cluster_threshold": 3}).status_code == 422
    assert writer.post("/api/v1/people/undo-automatic", json={}).json() == {"count": 0}


def test_listings_filter_on_faces(library, faces, tmp_path):
    from pixlstash.domain import PictureFilter

    black = import_colours(library, tmp_path / "more", ("black",))["black"]  # too dark: no face
    run_jobs(library)
    with_faces = {p for (p,) in library.db.query("SELECT DISTINCT picture_id FROM faces")}
    everything = set(library.query.ids(PictureFilter()))
    assert set(library.query.ids(PictureFilter(faces=True))) == with_faces
    assert set(library.query.ids(PictureFilter(faces=False))) == everything - with_faces == {black}
    assert set(library.query.ids(PictureFilter(min_faces=1, max_faces=1))) == with_faces
    assert library.query.ids(PictureFilter(min_faces=2)) == []
    warm = library.organise.create_collection("character", "Warm")
    library.organise.assign_face(faces["red"], warm.id)
    red_picture = library.vectors.face_picture(faces["red"])
    assert set(library.query.ids(PictureFilter(unnamed_faces=True))) == with_faces - {red_picture}
    assert set(library.query.ids(PictureFilter(unnamed_faces=False))) == {red_picture, black}
    assert library.count(PictureFilter(faces=True, collections=[warm.id])) == 1


def test_automatic_naming_is_off_by_default_marked_and_undoable(fake_engines, library, tmp_path):
    from pixlstash.domain import EnrichmentSettings, PeopleSettings

    library.engines.configure(EnrichmentSettings(on_import=["faces"]))
    red, yellow = (255, 0, 0), (255, 255, 0)
    faces = _import_solids(library, tmp_path / "a", [("r1", red)])
    person = library.organise.create_collection("character", "Red")
    library.organise.assign_face(faces["r1"], person.id)
    faces |= _import_solids(library, tmp_path / "b", [("r2", red), ("y1", yellow)])
    library.people.update()
    assert library.vectors.character_faces(person.id) == [(faces["r1"], "fake/faces")]  # off: nothing named

    assert library.people.settings() == PeopleSettings()
    library.people.configure(PeopleSettings(auto_assign=True, auto_assign_threshold=0.9))
    faces |= _import_solids(library, tmp_path / "c", [("r3", red), ("y2", yellow)])
    library.people.update()
    # Only new faces are considered, and only those alike (>= 0.9) to one character's named faces.
    assert {f for f, _ in library.vectors.character_faces(person.id)} == {faces["r1"], faces["r3"]}
    assert library.people.faces.automatic() == [faces["r3"]]
    assert library.collections.collection(person.id).member_count == 2
    # Undo: the automatic naming goes, and the picture it brought leaves the character.
    assert library.people.undo_automatic(person.id) == 1
    assert library.vectors.character_faces(person.id) == [(faces["r1"], "fake/faces")]
    assert library.collections.collection(person.id).member_count == 1
    assert library.people.faces.automatic() == []
