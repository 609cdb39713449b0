"""The undo history over HTTP: every editing route records a step, undo and redo revert and repeat it,
read-only callers cannot change it, and it answers clearly when there is nothing to undo."""

from __future__ import annotations

import pytest
from live_server import LiveServer, make_pictures

from pixlstash.domain import PictureFilter


@pytest.fixture
def live(library, tmp_path):
    with LiveServer(library) as server:
        yield server


def test_each_editing_route_is_one_step_that_undoes_and_redoes(live, library, tmp_path):
    a, b, c = make_pictures(library, tmp_path / "p", 3)
    client = live.client(live.token("write"))
    keep = client.post("/api/v1/sets", json={"name": "Keep"}).json()
    hero = client.post("/api/v1/characters", json={"name": "Hero"}).json()
    edits = [
        ("POST", "/api/v1/pictures/bulk-by-filter", {"filter": {}, "operation": {"action": "rate", "rating": 4}}),
        ("POST", "/api/v1/pictures/bulk", {"ids": [a, b], "operation": {"action": "tag", "tags": ["sea"]}}),
        ("PATCH", f"/api/v1/pictures/{c}", {"rating": 1, "caption": "words", "add_tags": ["dune"]}),
        ("POST", f"/api/v1/sets/{keep['id']}/pictures", {"ids": [a, c]}),
        ("POST", f"/api/v1/sets/{keep['id']}/pictures/remove", {"ids": [a]}),
        ("PATCH", f"/api/v1/characters/{hero['id']}", {"name": "Heroine", "description": "lead"}),
        ("DELETE", f"/api/v1/pictures/{b}", None),
        ("DELETE", f"/api/v1/sets/{keep['id']}", None),
    ]
    states = [library_state(library)]
    for method, path, body in edits:
        response = client.request(method, path, json=body)
        assert response.status_code < 300, response.text
        states.append(library_state(library))
    history = client.get("/api/v1/history").json()
    assert [s["label"] for s in history["steps"]] == [
        "Delete the set Keep",
        "Move 1 picture to the scrapheap",
        "Rename Hero to Heroine",
        "Remove 1 picture from Keep",
        "Add 2 pictures to Keep",
        f"Tag dune, caption and rate ★ on picture {c}",
        "Tag 2 pictures +sea",
        "Rate 3 pictures ★★★★",
        "Create the character Hero",
        "Create the set Keep",
    ]
    assert history["can_undo"] and not history["can_redo"]
    for expected in reversed(states[:-1]):
        assert client.post("/api/v1/history/undo").status_code == 200
        assert library_state(library) == expected
    for _ in range(2):  # the character and the set made before
        assert client.post("/api/v1/history/undo").status_code == 200
    assert client.get("/api/v1/sets").json() == [] and client.get("/api/v1/characters").json() == []
    nothing = client.post("/api/v1/history/undo")
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["error"]["message"]
    for _ in range(2):
        assert client.post("/api/v1/history/redo").json()["undone"] is False
    assert library_state(library) == states[0]
    for expected in states[1:]:
        assert client.post("/api/v1/history/redo").json()["undone"] is False
        assert library_state(library) == expected
    assert client.post("/api/v1/history/redo").status_code == 409


def test_read_only_callers_see_but_cannot_undo(live, library, tmp_path):
    (a,) = make_pictures(library, tmp_path / "p", 1)
    live.client(live.token("write")).patch(f"/api/v1/pictures/{a}", json={"rating": 2}).raise_for_status()
    reader = live.client(live.token("read"))
    assert reader.get("/api/v1/history").status_code == 200
    assert reader.post("/api/v1/history/undo").status_code == 403
    assert live.client().get("/api/v1/history").status_code == 401
    assert library.get(a).rating == 2 and library.edits.history().can_undo


def library_state(library) -> tuple:
    db = library.db
    return (
        db.query("SELECT id, rating, deleted_at IS NULL FROM pictures ORDER BY id"),
        db.query("SELECT picture_id, tag_id FROM picture_tags ORDER BY 1, 2"),
        db.query("SELECT picture_id, text FROM captions ORDER BY 1"),
        db.query("SELECT collection_id, picture_id FROM collection_members ORDER BY 1, 2"),
        db.query("SELECT id, name, description FROM collections ORDER BY id"),
    )


def test_naming_faces_by_hand_and_by_suggestion_undoes(live, library, tmp_path):
    (picture_id,) = make_pictures(library, tmp_path / "p", 1)
    client = live.client(live.token("write"))
    hero = client.post("/api/v1/characters", json={"name": "Hero"}).json()
    with library.db.write():
        faces = [
            library.db.scalar(
                "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, created_at) "
                "VALUES (?, 'fake/faces', '1', ?, 2, 30, 40, 0.9, 0) RETURNING id",
                (picture_id, n),
            )
            for n in range(2)
        ]
    named = lambda: library.db.query("SELECT id, character_id FROM faces ORDER BY id")  # noqa: E731
    client.patch(f"/api/v1/faces/{faces[0]}", json={"character_id": hero["id"]}).raise_for_status()
    accept = f"/api/v1/characters/{hero['id']}/suggestions/accept"
    client.post(accept, json={"face_ids": [faces[1]]}).raise_for_status()
    assert named() == [(faces[0], hero["id"]), (faces[1], hero["id"])]
    assert [s["label"] for s in client.get("/api/v1/history").json()["steps"]] == [
        "Name 1 face Hero",
        "Name 1 face Hero",
        "Create the character Hero",
    ]
    client.post("/api/v1/history/undo").raise_for_status()
    assert named() == [(faces[0], hero["id"]), (faces[1], None)]
    client.post("/api/v1/history/undo").raise_for_status()
    assert named() == [(faces[0], None), (faces[1], None)]
    assert library.count(PictureFilter(collections=[hero["id"]])) == 0  # the picture left Hero with its face


def predict(library, picture_id, names, category="general"):
    """An engine's predictions, as the enrichment sink writes them (not a person's edit)."""
    with library.db.write():
        for name in names:
            tag_id = library.tags.ensure(name, category)
            library.db.execute(
                "INSERT INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence) "
                "VALUES (?, 'fake/tagger', ?, '1', 0.8)",
                (picture_id, tag_id),
            )


def review_state(library) -> tuple:
    db = library.db
    return (
        db.query("SELECT picture_id, t.name, source FROM picture_tags JOIN tags t ON t.id = tag_id ORDER BY 1, 2"),
        db.query(
            "SELECT picture_id, t.name, state, confidence FROM predictions JOIN tags t ON t.id = tag_id ORDER BY 1, 2"
        ),
        db.query("SELECT c.name, m.picture_id FROM collection_members m JOIN collections c ON c.id = m.collection_id"),
        db.query("SELECT name, kind FROM collections ORDER BY id"),
    )


def test_accepting_and_rejecting_predictions_and_filing_under_a_character_are_undo_steps(live, library, tmp_path):
    """Ctrl+Z right after accepting a predicted tag takes back that acceptance, not the edit made before it."""
    a, b = make_pictures(library, tmp_path / "p", 2)
    predict(library, a, ["before", "cat", "dusk"])
    predict(library, b, ["alice"], category="character")
    client = live.client(live.token("write"))
    client.patch(f"/api/v1/pictures/{a}", json={"add_tags": ["dusk"]}).raise_for_status()
    edits = [
        (a, {"accept_predictions": ["before", "dusk"], "reject_predictions": ["cat"]}),
        (b, {"accept_as_characters": ["alice"]}),  # a character made for it
        (a, {"accept_as_characters": ["Alice"], "rating": 3}),  # the same character, found in any case
    ]
    predict(library, a, ["alice"], category="character")
    states = [review_state(library)]
    for picture_id, body in edits:
        client.patch(f"/api/v1/pictures/{picture_id}", json=body).raise_for_status()
        states.append(review_state(library))
    labels = [s["label"] for s in client.get("/api/v1/history").json()["steps"]]
    assert labels[:4] == [
        f"Accept Alice, file under Alice and rate ★★★ on picture {a}",
        f"Accept alice and file under alice: picture {b}",
        f"Accept before, dusk and reject cat on picture {a}",
        f"Tag dusk on picture {a}",
    ]
    assert ("alice", b) in states[2][2] and ("alice", a) in states[3][2] and ("alice", "character") in states[3][3]
    for expected in reversed(states[:-1]):
        client.post("/api/v1/history/undo").raise_for_status()
        assert review_state(library) == expected
    tags_now = [t["name"] for t in client.get(f"/api/v1/pictures/{a}").json()["tags"]]
    assert tags_now == ["dusk"]  # the step before the review is still there
    for expected in states[1:]:
        client.post("/api/v1/history/redo").raise_for_status()
        assert review_state(library) == expected
