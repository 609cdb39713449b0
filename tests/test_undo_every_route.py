"""Every route that changes the library is accounted for by the undo history, deny by default: it is walked
here (undo takes back exactly that change, redo makes it again), its undo is tested where its setting-up
lives, or it is named as not a person's change to pictures, with why. A new route that changes something
fails the first test until it is placed in one of the three."""

from __future__ import annotations

import pytest
from live_server import LiveServer, make_pictures

from pixlstash_web.api import Api
from pixlstash_web.routes import MODULES
from pixlstash_web.security import Policy

# Undone and redone in the walk below, in this order.
WALKED = [
    ("PATCH", "/pictures/{a}", {"rating": 4, "favourite": True, "caption": "words", "add_tags": ["sun"]}),
    ("PATCH", "/pictures/{a}", {"accept_predictions": ["cat"], "reject_predictions": ["dog"]}),
    ("PATCH", "/pictures/{b}", {"accept_as_characters": ["Robin"]}),
    ("PATCH", "/pictures/{b}", {"edit": {"rotate": 90}}),
    ("POST", "/pictures/prune", {"engine_id": "fake/score", "filter": {}, "lowest": 1}),  # d: the lowest unrated
    ("POST", "/pictures/bulk", {"ids": ["{a}", "{b}"], "operation": {"action": "flag", "value": True}}),
    ("POST", "/pictures/bulk", {"ids": ["{a}", "{c}"], "operation": {"action": "untag", "tags": ["dusk"]}}),
    ("POST", "/pictures/bulk-by-filter", {"filter": {}, "operation": {"action": "rate", "rating": 2}}),
    ("POST", "/scrapheap/restore", {"ids": ["{d}"]}),
    ("DELETE", "/pictures/{c}", None),
    ("POST", "/duplicates/distinct", {"ids": ["{a}", "{b}"]}),
    ("POST", "/projects", {"name": "Trip"}),
    ("PATCH", "/projects/{project}", {"name": "Journey", "description": "by the sea"}),
    ("POST", "/projects/{project}/pictures", {"ids": ["{a}", "{b}"]}),
    ("POST", "/projects/{project}/pictures/remove", {"ids": ["{a}"]}),
    ("POST", "/sets", {"name": "Keep"}),
    ("PATCH", "/sets/{set}", {"color": "#336699"}),
    ("POST", "/sets/{set}/move", {"project_id": "{project}"}),
    ("POST", "/sets/{set}/pictures", {"ids": ["{a}", "{b}"]}),
    ("POST", "/sets/{set}/pictures/remove", {"ids": ["{b}"]}),
    ("POST", "/sets/{set}/pictures", {"ids": ["{d}", "{e}"]}),
    ("POST", "/sets/{set}/remove-near-duplicates", {}),  # d and e look alike: one goes
    ("POST", "/set-operations/save", {"collection_ids": ["{set}", "{old_set}"], "op": "union", "save_as": "Both"}),
    ("POST", "/characters", {"name": "Hero"}),
    ("PATCH", "/characters/{character}", {"name": "Heroine"}),
    ("POST", "/characters/{character}/move", {"project_id": "{project}"}),
    ("POST", "/characters/{character}/pictures", {"ids": ["{b}", "{d}", "{e}"]}),
    ("POST", "/characters/{character}/remove-near-duplicates", {"rules": {"trainer": "ai-toolkit"}}),
    ("POST", "/characters/{character}/pictures/remove", {"ids": ["{b}"]}),
    ("PATCH", "/faces/{face}", {"character_id": "{character}"}),
    ("POST", "/characters/{character}/faces/remove", {"face_ids": ["{face}"]}),
    ("POST", "/characters/{character}/suggestions/reject", {"face_ids": ["{other_face}"]}),
    ("POST", "/characters/{character}/merge", {"into": "{old_character}"}),
    ("PATCH", "/tags/{sea}", {"name": "ocean", "category": "meta"}),
    ("POST", "/tags/{sea}/aliases", {"alias": "seaside"}),
    ("POST", "/tags/{sea}/merge", {"into": "{dusk}"}),
    ("DELETE", "/tags/{dusk}", None),
    ("POST", "/stacks", {"ids": ["{a}", "{b}"], "cover_id": "{a}"}),
    ("POST", "/stacks/{stack}/pictures", {"ids": ["{d}"]}),
    ("POST", "/stacks/take-out", {"ids": ["{d}"]}),
    ("PUT", "/stacks/{stack}/cover", {"picture_id": "{b}"}),
    ("DELETE", "/stacks/{stack}", None),
    ("POST", "/stacks/duplicates", None),
    ("POST", "/stacks", {"ids": ["{a}", "{b}"]}),
    ("POST", "/stacks/{stack}/keep-cover", None),
    ("DELETE", "/sets/{set}", None),
    ("DELETE", "/characters/{old_character}", None),
    ("DELETE", "/projects/{project}", None),
]
# Undo steps whose undo is tested beside what they need set up (clusters of faces, suggestions); route ->
# the test.
UNDONE_ELSEWHERE = {
    ("POST", "/people/unnamed/{cluster_id:int}/name"): "test_people.py::test_unnamed_people_through_the_api",
    ("POST", "/characters/{character_id:int}/suggestions/accept"): (
        "test_web_history.py::test_naming_faces_by_hand_and_by_suggestion_undoes"
    ),
    (
        "POST",
        "/sets/{collection_id:int}/submissions/decide",
    ): "test_curation.py::test_contributors_submit_and_curators_decide",
}
# Not a person's change to pictures: what takes each back instead.
NOT_STEPS = {
    ("POST", "/history/undo"): "the history itself",
    ("POST", "/history/redo"): "the history itself",
    ("POST", "/people/undo-automatic"): "itself takes back automatic naming (the library's work, not a person's)",
    ("POST", "/shares"): "a share link is revoked, not undone",
    ("DELETE", "/shares/{share_id:int}"): "revoking a link is final: its token is gone",
    ("POST", "/uploads"): "an import is taken back by scrapping what it brought (itself an undo step)",
    ("POST", "/folders/{folder_id:int}/rescan"): "the library's work: reads a folder",
    ("POST", "/jobs"): "enrichment: the engines' suggestions stay apart until a person accepts them",
    ("POST", "/jobs/{job_id:int}/cancel"): "enrichment",
    ("POST", "/jobs/{job_id:int}/retry"): "enrichment",
    ("PUT", "/exports/options/{collection_id:int}"): "an export's settings, not the pictures",
    ("POST", "/comfy/remix"): "a workflow run: its outputs arrive as an import, stacked (each an undo step)",
    ("POST", "/comfy/runs"): "a workflow run",
    ("POST", "/comfy/runs/{run_id:int}/cancel"): "a workflow run",
    ("PATCH", "/auth/me"): "an account's own default for its uploads, not the pictures",
    ("PUT", "/sets/{collection_id:int}/roles/{user_id:int}"): "who may change a set, not what is in it",
    ("PUT", "/projects/{project_id:int}/roles/{user_id:int}"): "who may see or change a project, not what is in it",
    (
        "POST",
        "/sets/{collection_id:int}/submissions",
    ): "a request to a set's curators: nothing changes until they decide",
}


def _template(path: str) -> str:
    """The route's own path for a walked path ("/sets/{set}" -> "/sets/{collection_id:int}")."""
    api = _api()
    shapes = {e.path.removeprefix(api.prefix): e.path for e in api.endpoints}
    parts = path.split("/")
    for route in shapes:
        other = route.split("/")
        if len(other) == len(parts) and all(
            x == y or (x.startswith("{") and y.startswith("{")) for x, y in zip(parts, other, strict=True)
        ):
            return route
    raise AssertionError(f"no route for {path}")


def _api() -> Api:
    api = Api()
    for module in MODULES:
        module.register(api)
    return api


def test_every_changing_route_is_walked_undone_elsewhere_or_named_not_a_step():
    api = _api()
    changing = {
        (e.method, e.path.removeprefix(api.prefix))
        for e in api.endpoints
        if e.method != "GET" and e.policy == Policy.WRITE
    }
    walked = {(method, _template(path)) for method, path, _ in WALKED}
    placed = walked | set(UNDONE_ELSEWHERE) | set(NOT_STEPS)
    assert changing - placed == set(), "place each new route: walked, undone elsewhere, or not a step"
    assert placed - changing == set(), "a route named here no longer exists"
    assert not (walked & set(NOT_STEPS)) and not (walked & set(UNDONE_ELSEWHERE))


def state(library) -> dict:
    """What a person's changes may touch, by name where an undo makes a thing again under a new id (tags)."""
    db = library.db
    volatile = {"meta_seq"}  # a change stamp: moves on every write, undo included
    columns = [row[1] for row in db.query("PRAGMA table_info(pictures)") if row[1] not in volatile]
    # Scrapped or not: a redo scraps again at the time of the redo.
    columns = [c if c != "deleted_at" else "deleted_at IS NOT NULL" for c in columns]
    return {
        "pictures": db.query(f"SELECT {', '.join(columns)} FROM pictures ORDER BY id"),
        # Tags a picture carries (undoing a new tag leaves the word in the vocabulary, on no picture)
        "tags in use": db.query(
            "SELECT name, category FROM tags WHERE id IN (SELECT tag_id FROM picture_tags) ORDER BY 1"
        ),
        "aliases": db.query("SELECT alias, t.name FROM tag_aliases JOIN tags t ON t.id = tag_id ORDER BY 1"),
        "picture tags": db.query(
            "SELECT picture_id, t.name, source, confidence FROM picture_tags JOIN tags t ON t.id = tag_id ORDER BY 1, 2"
        ),
        "predictions": db.query(
            "SELECT picture_id, t.name, engine_id, state, confidence FROM predictions JOIN tags t ON t.id = tag_id "
            "ORDER BY 1, 2"
        ),
        "captions": db.query("SELECT picture_id, source, text FROM captions ORDER BY 1, 2"),
        "projects": db.query("SELECT * FROM projects ORDER BY id"),
        "collections": db.query("SELECT * FROM collections ORDER BY id"),
        "collection members": db.query("SELECT collection_id, picture_id FROM collection_members ORDER BY 1, 2"),
        "project members": db.query("SELECT project_id, picture_id FROM project_members ORDER BY 1, 2"),
        "faces": db.query("SELECT id, character_id FROM faces ORDER BY id"),
        "face rejections": db.query("SELECT * FROM face_rejections ORDER BY 1, 2"),
        # A stack with no pictures left is not shown anywhere (undoing a new stack leaves its empty row)
        "stacks": db.query(
            "SELECT id, cover_id, origin FROM stacks WHERE id IN (SELECT stack_id FROM pictures) ORDER BY id"
        ),
    }


@pytest.fixture
def world(library, tmp_path):
    a, b, c, d, e = make_pictures(library, tmp_path / "p", 5)
    with library.db.write():
        for name, category in (("cat", "general"), ("dog", "general")):
            tag_id = library.tags.ensure(name, category)
            library.db.execute(
                "INSERT INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence) "
                "VALUES (?, 'fake/tagger', ?, '1', 0.8)",
                (a, tag_id),
            )
        face, other_face = (
            library.db.scalar(
                "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, created_at) "
                "VALUES (?, 'fake/faces', '1', 1, 2, 30, 40, 0.9, 0) RETURNING id",
                (picture_id,),
            )
            for picture_id in (b, a)
        )
        # d and e look alike (the library's own grouping: what "stack the duplicates" stacks)
        library.db.execute("UPDATE pictures SET dup_group = ? WHERE id IN (?, ?)", (d, d, e))
        for picture_id, value in ((a, 0.9), (b, 0.5), (c, 0.7), (d, 0.1)):
            library.db.execute(
                "INSERT INTO picture_scores(picture_id, engine_id, engine_version, value, created_at) "
                "VALUES (?, 'fake/score', '1', ?, 0)",
                (picture_id, value),
            )
    # Made by the library's own work (not steps): what the walk starts from.
    library.editor.tag([a, b, c], add=["dusk", "sea"])
    old_set = library.organise.create_collection("set", "Old")
    old_character = library.organise.create_collection("character", "Villain")
    ids = {"a": a, "b": b, "c": c, "d": d, "e": e, "face": face, "other_face": other_face}
    ids |= {"old_set": old_set.id, "old_character": old_character.id}
    ids |= {"sea": library.tags.resolve("sea"), "dusk": library.tags.resolve("dusk")}
    return ids


def _difference(expected: dict, found: dict) -> dict:
    """Per table, the rows only expected and the rows only found."""
    return {
        name: {"missing": sorted(set(rows) - set(found[name])), "extra": sorted(set(found[name]) - set(rows))}
        for name, rows in expected.items()
        if rows != found[name]
    }


def _filled(value, ids: dict):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_filled(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, ids) for k, v in value.items()}
    return value


def test_undo_takes_back_exactly_each_change_and_redo_makes_it_again(library, world, tmp_path):
    ids = dict(world)
    with LiveServer(library) as live:
        client = live.client(live.token("write"))
        for method, path, body in WALKED:
            where = f"{method} {path}"
            before = state(library)
            steps = len(client.get("/api/v1/history", params={"limit": 500}).json()["steps"])
            response = client.request(method, "/api/v1" + path.format(**ids), json=_filled(body, ids))
            assert response.status_code < 300, (where, response.text)
            made = response.json() if response.content else None
            if isinstance(made, dict) and "id" in made and method == "POST" and path.count("/") == 1:
                ids[{"/projects": "project", "/sets": "set", "/characters": "character"}.get(path, "stack")] = made[
                    "id"
                ]
            after = state(library)
            assert after != before, f"{where} changed nothing"
            history = client.get("/api/v1/history", params={"limit": 500}).json()
            assert len(history["steps"]) == steps + 1, f"{where} is not one undo step"
            client.post("/api/v1/history/undo").raise_for_status()
            undone = state(library)
            assert undone == before, (where, "undo", _difference(before, undone))
            client.post("/api/v1/history/redo").raise_for_status()
            redone = state(library)
            assert redone == after, (where, "redo", _difference(after, redone))
