"""Private sets and characters (issue 62): a set or character has the account that made it and may be kept
to it and the people it gives a role (viewer: looks; contributor: adds pictures; curator: manages it).
To anyone else it is exactly as absent as one that never existed, through every route: its name, its
id, its pictures' membership, a search by its name. Through a real server, with each person's token."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli
from test_visibility import _png, _upload, people  # noqa: F401 - the fixture

SURPRISE = "surprise party qv7"


@pytest.fixture
def surprise(live, people):  # noqa: F811
    """Bob's private set, holding a picture shared with the library, and his private character."""
    bob = people["bob"]
    picture = _upload(bob, "cake.png", _png(5), private="0")
    made = bob.post("/api/v1/sets", json={"name": SURPRISE, "private": True})
    assert made.status_code == 201 or made.status_code == 200, made.text
    set_id = made.json()["id"]
    assert made.json()["private"] is True and made.json()["owner_id"] == people.ids["bob"]
    assert bob.post(f"/api/v1/sets/{set_id}/pictures", json={"ids": [picture]}).status_code == 200
    character = bob.post("/api/v1/characters", json={"name": "Secret Santa qv7", "private": True}).json()["id"]
    assert bob.post(f"/api/v1/characters/{character}/pictures", json={"ids": [picture]}).status_code == 200
    return set_id, character, picture


def _names(client, path: str) -> list[str]:
    return [c["name"] for c in client.get(path).json()]


def test_a_private_set_is_absent_for_everyone_else(live, people, surprise):  # noqa: F811
    set_id, character, picture = surprise
    bob, carol, alice = people["bob"], people["carol"], people["alice"]
    assert SURPRISE in _names(bob, "/api/v1/sets") and SURPRISE in _names(alice, "/api/v1/sets")  # an admin sees all
    assert SURPRISE not in _names(carol, "/api/v1/sets")
    assert "Secret Santa qv7" not in _names(carol, "/api/v1/characters")
    for path in (f"/api/v1/sets/{set_id}", f"/api/v1/characters/{character}", f"/api/v1/sets/{set_id}/roles"):
        assert carol.get(path).status_code == 404, path
    # Its pictures' membership and a search by its name tell nothing; the picture itself is shared.
    assert carol.get("/api/v1/pictures", params={"collections": set_id}).json()["items"] == []
    assert carol.get("/api/v1/pictures", params={"text": "surprise"}).json()["items"] == []
    assert [p["id"] for p in bob.get("/api/v1/pictures", params={"text": "surprise"}).json()["items"]] == [picture]
    details = carol.get(f"/api/v1/pictures/{picture}").json()
    assert details["collections"] == [] and SURPRISE not in str(details)
    assert carol.post("/api/v1/set-operations", json={"collection_ids": [set_id]}).json().get("picture_ids", []) == []
    # Changing it is refused as for a set that never was.
    for method, path, body in (
        ("PATCH", f"/api/v1/sets/{set_id}", {"name": "mine now"}),
        ("DELETE", f"/api/v1/sets/{set_id}", None),
        ("POST", f"/api/v1/sets/{set_id}/pictures", {"ids": [picture]}),
        ("POST", f"/api/v1/sets/{set_id}/move", {"project_id": None}),
    ):
        answer = carol.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert SURPRISE in _names(bob, "/api/v1/sets")

    # Every read route with a set's or character's id in its path answers 404, and none names it.
    doc = alice.get("/api/v1/openapi.json").json()
    walked = 0
    for path, methods in doc["paths"].items():
        if "get" not in methods or not re.search(r"\{(collection_id|character_id|set_id)\}", path):
            continue
        concrete = path.replace("{collection_id}", str(set_id)).replace("{set_id}", str(set_id))
        concrete = re.sub(r"\{character_id\}", str(character), concrete)
        concrete = re.sub(r"\{\w+\}", "1", concrete)
        answer = carol.get(concrete)
        walked += 1
        assert answer.status_code == 404 and SURPRISE not in answer.text, (path, answer.status_code)
    assert walked >= 4


def test_roles_let_people_look_add_or_manage(live, people, surprise):  # noqa: F811
    set_id, _, picture = surprise
    bob, carol, dave = people["bob"], people["carol"], people["dave"]
    other = _upload(carol, "balloons.png", _png(6), private="0")
    # Only whoever made it (or an admin, or its curators) gives roles, or makes it shared.
    assert carol.put(f"/api/v1/sets/{set_id}/roles/{people.ids['carol']}", json={"role": "curator"}).status_code == 404
    assert bob.put(f"/api/v1/sets/{set_id}/roles/{people.ids['carol']}", json={"role": "viewer"}).status_code == 200
    assert SURPRISE in _names(carol, "/api/v1/sets")
    assert [p["id"] for p in carol.get("/api/v1/pictures", params={"collections": set_id}).json()["items"]] == [picture]
    # A viewer looks: no change of its pictures, name or privacy.
    assert carol.post(f"/api/v1/sets/{set_id}/pictures", json={"ids": [other]}).status_code == 403
    assert carol.patch(f"/api/v1/sets/{set_id}", json={"name": "renamed"}).status_code == 403
    assert carol.patch(f"/api/v1/sets/{set_id}", json={"private": False}).status_code == 403
    assert carol.delete(f"/api/v1/sets/{set_id}").status_code == 403
    # A contributor adds; a curator manages too; neither makes it shared.
    assert bob.put(f"/api/v1/sets/{set_id}/roles/{people.ids['carol']}", json={"role": "contributor"}).is_success
    assert carol.post(f"/api/v1/sets/{set_id}/pictures", json={"ids": [other]}).status_code == 200
    assert carol.patch(f"/api/v1/sets/{set_id}", json={"name": "renamed"}).status_code == 403
    assert bob.put(f"/api/v1/sets/{set_id}/roles/{people.ids['carol']}", json={"role": "curator"}).is_success
    assert carol.patch(f"/api/v1/sets/{set_id}", json={"name": "party plans qv7"}).status_code == 200
    assert carol.patch(f"/api/v1/sets/{set_id}", json={"private": False}).status_code == 403
    # Shared with the library by whoever made it: everyone sees it; dave, a viewer of the library, too.
    assert "party plans qv7" not in _names(dave, "/api/v1/sets")
    assert bob.patch(f"/api/v1/sets/{set_id}", json={"private": False}).json()["private"] is False
    assert "party plans qv7" in _names(dave, "/api/v1/sets")


def test_a_removed_accounts_private_sets_pass_to_the_owner(live, people, surprise):  # noqa: F811
    from pixlstash.accounts import Accounts

    set_id, *_ = surprise
    Accounts(live.state.auth).remove("bob", by=None, hand_over=live.library.hand_over_pictures)
    kept = people["alice"].get(f"/api/v1/sets/{set_id}").json()
    assert (kept["name"], kept["private"], kept["owner_id"]) == (SURPRISE, True, None)
    assert people["carol"].get(f"/api/v1/sets/{set_id}").status_code == 404


def test_a_snapshot_restore_never_shares_a_private_set(live, people, surprise):  # noqa: F811
    set_id, *_ = surprise
    library, bob = live.library, people["bob"]
    snapshots = library.new_snapshot_service()
    try:
        assert bob.patch(f"/api/v1/sets/{set_id}", json={"private": False}).status_code == 200
        taken = snapshots.take("MANUAL", "shared then")
        assert bob.patch(f"/api/v1/sets/{set_id}", json={"private": True}).status_code == 200
        assert bob.put(f"/api/v1/sets/{set_id}/roles/{people.ids['dave']}", json={"role": "viewer"}).is_success
        snapshots.restore(taken.id)
        assert people["carol"].get(f"/api/v1/sets/{set_id}").status_code == 404  # still bob's and private
        assert people["dave"].get(f"/api/v1/sets/{set_id}").status_code == 200  # the role given since stays
    finally:
        snapshots.close()


def test_a_private_project_hides_itself_and_its_sets(live, people):  # noqa: F811
    bob, carol, dave, alice = (people[n] for n in ("bob", "carol", "dave", "alice"))
    picture = _upload(bob, "plans.png", _png(7), private="0")
    made = bob.post("/api/v1/projects", json={"name": "wedding qv7", "private": True})
    project = made.json()["id"]
    assert made.json()["private"] is True and made.json()["owner_id"] == people.ids["bob"]
    inside = bob.post("/api/v1/sets", json={"name": "venues qv7", "project_id": project}).json()["id"]
    assert bob.post(f"/api/v1/sets/{inside}/pictures", json={"ids": [picture]}).status_code == 200
    assert bob.post(f"/api/v1/projects/{project}/pictures", json={"ids": [picture]}).status_code == 204

    # To carol: no project, no set in it, nothing by their names, nothing in a picture's details.
    assert "wedding qv7" not in _names(carol, "/api/v1/projects") and "wedding qv7" in _names(alice, "/api/v1/projects")
    assert "venues qv7" not in _names(carol, "/api/v1/sets")
    for path in (f"/api/v1/projects/{project}", f"/api/v1/sets/{inside}", f"/api/v1/projects/{project}/roles"):
        assert carol.get(path).status_code == 404, path
    assert carol.get("/api/v1/pictures", params={"project": project}).json()["items"] == []
    assert carol.get("/api/v1/pictures", params={"text": "wedding"}).json()["items"] == []
    assert carol.get("/api/v1/pictures", params={"text": "venues"}).json()["items"] == []
    details = carol.get(f"/api/v1/pictures/{picture}").json()
    assert details["projects"] == [] and details["collections"] == []
    for method, path, body in (
        ("PATCH", f"/api/v1/projects/{project}", {"name": "mine"}),
        ("DELETE", f"/api/v1/projects/{project}", None),
        ("POST", f"/api/v1/projects/{project}/pictures", {"ids": [picture]}),
        ("PUT", f"/api/v1/projects/{project}/roles/{people.ids['carol']}", {"role": "curator"}),
    ):
        assert carol.request(method, path, json=body).status_code == 404, (method, path)

    # A viewer of the project sees it and its sets, and changes nothing; a curator manages it.
    assert bob.put(f"/api/v1/projects/{project}/roles/{people.ids['carol']}", json={"role": "viewer"}).is_success
    assert "venues qv7" in _names(carol, "/api/v1/sets") and "wedding qv7" in _names(carol, "/api/v1/projects")
    assert [p["id"] for p in carol.get("/api/v1/pictures", params={"project": project}).json()["items"]] == [picture]
    assert carol.patch(f"/api/v1/projects/{project}", json={"name": "mine"}).status_code == 403
    assert carol.post(f"/api/v1/projects/{project}/pictures", json={"ids": [picture]}).status_code == 403
    assert bob.put(f"/api/v1/projects/{project}/roles/{people.ids['carol']}", json={"role": "curator"}).is_success
    assert carol.patch(f"/api/v1/projects/{project}", json={"name": "wedding plans qv7"}).status_code == 200
    assert carol.patch(f"/api/v1/projects/{project}", json={"private": False}).status_code == 403
    assert "wedding plans qv7" not in _names(dave, "/api/v1/projects")
    assert bob.patch(f"/api/v1/projects/{project}", json={"private": False}).json()["private"] is False
    assert "wedding plans qv7" in _names(dave, "/api/v1/projects") and "venues qv7" in _names(dave, "/api/v1/sets")


def test_a_private_sets_name_is_not_taken_from_anyone_else(live, people, surprise):  # noqa: F811
    carol = people["carol"]
    mine = carol.post("/api/v1/sets", json={"name": SURPRISE})  # the very name of bob's private set
    assert mine.status_code == 201, mine.text
    assert _names(carol, "/api/v1/sets").count(SURPRISE) == 1
    assert _names(people["bob"], "/api/v1/sets").count(SURPRISE) == 2  # his private one, and her shared one
    assert carol.post("/api/v1/sets", json={"name": SURPRISE.upper()}).status_code == 409  # her own is taken


def test_a_private_projects_name_and_a_private_sets_name_in_a_shared_project_are_not_taken(live, people):  # noqa: F811
    """Before schema 25 the tables' own UNIQUE answered 409 here, telling carol of bob's private things."""
    bob, carol, alice = people["bob"], people["carol"], people["alice"]
    assert bob.post("/api/v1/projects", json={"name": "Wedding qv9", "private": True}).status_code == 201
    shared = alice.post("/api/v1/projects", json={"name": "Studio qv9"}).json()["id"]
    assert bob.post("/api/v1/sets", json={"name": "Picks qv9", "project_id": shared, "private": True}).is_success
    mine = carol.post("/api/v1/projects", json={"name": "wedding QV9"})
    assert mine.status_code == 201, mine.text
    theirs = carol.post("/api/v1/sets", json={"name": "Picks qv9", "project_id": shared})
    assert theirs.status_code == 201, theirs.text
    assert carol.post("/api/v1/projects", json={"name": "Wedding qv9"}).status_code == 409  # her own is taken
    renamed = carol.patch(f"/api/v1/projects/{shared}", json={"name": "Wedding qv9"})
    assert renamed.status_code in (403, 409), renamed.text
    # The admin sees both of each, and is asked for the id where a name is ambiguous on the command line.
    names = _names(alice, "/api/v1/projects")
    assert sorted(n for n in names if n.lower() == "wedding qv9") == ["Wedding qv9", "wedding QV9"]
    assert [s["name"] for s in alice.get("/api/v1/sets").json()].count("Picks qv9") == 2
    assert alice.post("/api/v1/projects", json={"name": "WEDDING qv9"}).status_code == 409
    ambiguous = run_cli("project", "show", "wedding qv9", "--library", str(live.library.root), check=False)
    ids = sorted(p["id"] for p in alice.get("/api/v1/projects").json() if p["name"].lower() == "wedding qv9")
    assert ambiguous.returncode == 1 and ambiguous.stderr.strip() == (
        f"error: several projects are named 'wedding qv9'; give its id ({', '.join(map(str, ids))})"
    )


def test_undoing_a_delete_brings_a_private_set_or_project_back_private_with_its_roles(live, people, surprise):  # noqa: F811
    """A private set, character or project deleted and then brought back with Ctrl+Z is as it was: still
    private, still its maker's, with the roles it gave; never shared with the library by the undo."""
    set_id, character, picture = surprise
    bob, carol, dave = people["bob"], people["carol"], people["dave"]
    assert bob.put(f"/api/v1/sets/{set_id}/roles/{people.ids['dave']}", json={"role": "contributor"}).is_success
    made = bob.post("/api/v1/projects", json={"name": "wedding qv8", "private": True})
    assert made.status_code == 201, made.text
    project = made.json()["id"]
    assert bob.put(f"/api/v1/projects/{project}/roles/{people.ids['dave']}", json={"role": "viewer"}).is_success
    before = {path: bob.get(path).json() for path in (f"/api/v1/sets/{set_id}", f"/api/v1/projects/{project}")}
    for path in (f"/api/v1/sets/{set_id}", f"/api/v1/characters/{character}", f"/api/v1/projects/{project}"):
        assert bob.delete(path).status_code == 204, path
    for _ in range(3):
        assert bob.post("/api/v1/history/undo").status_code == 200
    for path, was in before.items():
        assert bob.get(path).json() == was, path
    assert [p["id"] for p in bob.get("/api/v1/pictures", params={"collections": set_id}).json()["items"]] == [picture]
    assert SURPRISE not in _names(carol, "/api/v1/sets") and "wedding qv8" not in _names(carol, "/api/v1/projects")
    assert "Secret Santa qv7" not in _names(carol, "/api/v1/characters")
    assert carol.get(f"/api/v1/sets/{set_id}").status_code == 404
    assert carol.get("/api/v1/pictures", params={"collections": set_id}).json()["items"] == []
    # The roles it gave are back: dave (a viewer of the library) sees the set and the project again.
    assert bob.get(f"/api/v1/sets/{set_id}/roles").json() == [
        {"user_id": people.ids["dave"], "username": "dave", "role": "contributor"}
    ]
    assert SURPRISE in _names(dave, "/api/v1/sets") and "wedding qv8" in _names(dave, "/api/v1/projects")


def test_a_person_named_in_a_private_picture_s_xmp_is_no_one_else_s_character(live, people, tmp_path):  # noqa: F811
    """Carol uploads a private photo whose XMP names "Zed qv9" in a face region: the character made for it
    is hers alone; the same photo shared by Bob makes a character everyone sees."""
    from test_xmp_people import _regions, _write

    def tagged(name: str, seed: int) -> bytes:
        path = tmp_path / name
        path.write_bytes(_png(seed))
        _write(path, _regions([(name.split(".")[0], "Face", (0.5, 0.5, 0.2, 0.2))]))
        return path.read_bytes()

    carol, dave, bob = people["carol"], people["dave"], people["bob"]
    _upload(carol, "Zed qv9.png", tagged("Zed qv9.png", 31), private="1")
    assert "Zed qv9" in _names(carol, "/api/v1/characters")
    assert "Zed qv9" not in _names(dave, "/api/v1/characters") and "Zed qv9" not in _names(bob, "/api/v1/characters")
    _upload(bob, "Yan qv9.png", tagged("Yan qv9.png", 32), private="0")
    assert "Yan qv9" in _names(dave, "/api/v1/characters") and "Yan qv9" in _names(carol, "/api/v1/characters")
