"""Curated sets (issue 62): the set several people send pictures to and one person curates. Contributors
submit, curators accept or reject (accepting is one undo step), a contributor sees how theirs went, and no
one but a curator (or an admin) puts pictures in a curated set or takes them out; over a real server."""

from __future__ import annotations

from test_visibility import People, _png, _upload

from pixlstash.accounts import Accounts


def test_contributors_submit_and_curators_decide(live):
    people = People(live)
    alice, bob, carol, dave = (people[n] for n in ("alice", "bob", "carol", "dave"))
    best = alice.post("/api/v1/sets", json={"name": "Best of the year"}).json()["id"]
    shared = _upload(bob, "harbour.png", _png(21), private="0")
    private = _upload(bob, "mine.png", _png(22))
    # A set with no curator takes pictures from anyone who may write, as before.
    assert bob.post(f"/api/v1/sets/{best}/pictures", json={"ids": [shared]}).status_code == 200
    assert bob.post(f"/api/v1/sets/{best}/pictures/remove", json={"ids": [shared]}).status_code == 200

    # Only an admin or a curator gives roles.
    assert bob.put(f"/api/v1/sets/{best}/roles/{people.ids['bob']}", json={"role": "curator"}).status_code == 403
    assert alice.put(f"/api/v1/sets/{best}/roles/{people.ids['carol']}", json={"role": "curator"}).status_code == 200
    roles = carol.put(f"/api/v1/sets/{best}/roles/{people.ids['bob']}", json={"role": "contributor"}).json()
    assert [(r["username"], r["role"]) for r in roles] == [("carol", "curator"), ("bob", "contributor")]
    assert alice.put(f"/api/v1/sets/{best}/roles/999", json={"role": "curator"}).status_code == 404
    listed = {s["id"]: s for s in bob.get("/api/v1/sets").json()}
    assert listed[best]["curated"] is True and listed[best]["role"] == "contributor"

    # Curated now: a contributor submits instead of adding, and only what the library may see.
    refused = bob.post(f"/api/v1/sets/{best}/pictures", json={"ids": [shared]})
    assert refused.status_code == 403 and "is curated: submit pictures to it" in refused.text
    bulk = {"ids": [shared], "operation": {"action": "add_to_collection", "collection_id": best}}
    assert bob.post("/api/v1/pictures/bulk", json=bulk).status_code == 403
    assert bob.post(f"/api/v1/sets/{best}/submissions", json={"ids": [shared]}).json() == {"picture_ids": [shared]}
    assert bob.post(f"/api/v1/sets/{best}/submissions", json={"ids": [shared]}).json() == {"picture_ids": []}
    private_refused = bob.post(f"/api/v1/sets/{best}/submissions", json={"ids": [private]})
    assert private_refused.status_code == 400 and "share this picture with the library first" in private_refused.text
    erin = Accounts(live.state.auth).add("erin", "erins password", "member")
    erins = live.client(live.state.auth.create_token("erin", "write", user_id=erin.id).secret)
    assert erins.post(f"/api/v1/sets/{best}/submissions", json={"ids": [shared]}).status_code == 403  # no role
    assert dave.post(f"/api/v1/sets/{best}/submissions", json={"ids": [shared]}).status_code == 403  # a viewer

    # The curator sees every submission and decides; the contributor sees their own and how it went.
    pending = carol.get(f"/api/v1/sets/{best}/submissions").json()
    assert [(s["picture_id"], s["submitted_by"], s["state"]) for s in pending] == [
        (shared, people.ids["bob"], "pending")
    ]
    assert (
        bob.post(f"/api/v1/sets/{best}/submissions/decide", json={"ids": [shared], "accept": True}).status_code == 403
    )
    accepted = carol.post(f"/api/v1/sets/{best}/submissions/decide", json={"ids": [shared], "accept": True})
    assert accepted.json() == {"picture_ids": [shared]}
    assert live.library.get(shared).collections == [best]
    mine = bob.get(f"/api/v1/sets/{best}/submissions", params={"state": "all"}).json()
    assert [(s["state"], s["decided_by"]) for s in mine] == [("accepted", people.ids["carol"])]
    # Accepting is one undo step of the curator's.
    assert "submitted to Best of the year" in carol.post("/api/v1/history/undo").json()["label"]
    assert live.library.get(shared).collections == []
    assert carol.post("/api/v1/history/redo").status_code == 200 and live.library.get(shared).collections == [best]

    # A rejection is told too; a contributor takes nothing out, a curator adds directly.
    other = _upload(bob, "dusk.png", _png(23), private="0")
    bob.post(f"/api/v1/sets/{best}/submissions", json={"ids": [other]})
    assert carol.post(f"/api/v1/sets/{best}/submissions/decide", json={"ids": [other], "accept": False}).json() == {
        "picture_ids": [other]
    }
    states = {s["picture_id"]: s["state"] for s in bob.get(f"/api/v1/sets/{best}/submissions?state=all").json()}
    assert states == {shared: "accepted", other: "rejected"}
    assert live.library.get(other).collections == []
    assert bob.post(f"/api/v1/sets/{best}/pictures/remove", json={"ids": [shared]}).status_code == 403
    assert carol.post(f"/api/v1/sets/{best}/pictures", json={"ids": [other]}).status_code == 200
    assert alice.post(f"/api/v1/sets/{best}/pictures/remove", json={"ids": [other]}).status_code == 200  # an admin

    # A removed contributor's role goes with the account.
    assert alice.delete(f"/api/v1/users/{people.ids['bob']}").status_code == 204
    assert [r["username"] for r in alice.get(f"/api/v1/sets/{best}/roles").json()] == ["carol"]


def test_undoing_a_curated_sets_delete_brings_back_its_roles_and_submissions(live):
    people = People(live)
    alice, bob, carol = (people[n] for n in ("alice", "bob", "carol"))
    best = alice.post("/api/v1/sets", json={"name": "Best of the spring"}).json()["id"]
    first, second = (_upload(bob, f"s{n}.png", _png(30 + n), private="0") for n in range(2))
    assert alice.put(f"/api/v1/sets/{best}/roles/{people.ids['carol']}", json={"role": "curator"}).is_success
    assert carol.put(f"/api/v1/sets/{best}/roles/{people.ids['bob']}", json={"role": "contributor"}).is_success
    assert bob.post(f"/api/v1/sets/{best}/submissions", json={"ids": [first, second]}).is_success
    assert carol.post(f"/api/v1/sets/{best}/submissions/decide", json={"ids": [first], "accept": False}).is_success
    roles, submitted = (carol.get(f"/api/v1/sets/{best}/{what}", params={"state": "all"}).json() for what in
                        ("roles", "submissions"))  # fmt: skip
    assert [s["state"] for s in submitted] == ["rejected", "pending"]
    assert alice.delete(f"/api/v1/sets/{best}").status_code == 204
    assert carol.get(f"/api/v1/sets/{best}/submissions").status_code == 404
    assert "Delete the set Best of the spring" in alice.post("/api/v1/history/undo").json()["label"]
    assert carol.get(f"/api/v1/sets/{best}/roles").json() == roles
    assert carol.get(f"/api/v1/sets/{best}/submissions", params={"state": "all"}).json() == submitted
    # Still curated: bob submits, he does not add.
    assert bob.post(f"/api/v1/sets/{best}/pictures", json={"ids": [second]}).status_code == 403
