"""Ratings and favourites are each person's own (issue 62): one member's five stars are not another's, nor
the library's; every way a person reads pictures (a picture, the grid with its rating filter and sort,
statistics, bulk changes, undo) sees their own marks, through a real server with each person's token."""

from __future__ import annotations

import pytest
from live_server import make_pictures
from test_visibility import SECRET_TAG, people, secret  # noqa: F401 - the fixtures

from pixlstash.accounts import Accounts
from pixlstash.db import query
from pixlstash.domain import PictureFilter, Sort
from pixlstash.pictures.visibility import Audience, seen_by


def _marks(client, picture_id: int) -> tuple[int, bool]:
    picture = client.get(f"/api/v1/pictures/{picture_id}").json()
    return picture["rating"], picture["favourite"]


def _ids(client, **query) -> list[int]:
    return [p["id"] for p in client.get("/api/v1/pictures", params=query).json()["items"]]


def test_each_person_rates_and_favourites_for_themselves(live, people, secret):  # noqa: F811
    _, shared_id, *_ = secret
    alice, bob, carol, dave = (people[n] for n in ("alice", "bob", "carol", "dave"))
    others = [p for p in _ids(alice) if p != shared_id]
    assert bob.patch(f"/api/v1/pictures/{shared_id}", json={"rating": 4, "favourite": True}).status_code == 200
    assert carol.patch(f"/api/v1/pictures/{shared_id}", json={"rating": 1}).status_code == 200
    assert alice.patch(f"/api/v1/pictures/{shared_id}", json={"rating": 2}).status_code == 200
    assert (_marks(bob, shared_id), _marks(carol, shared_id), _marks(alice, shared_id)) == (
        (4, True),
        (1, False),
        (2, False),
    )
    assert _marks(dave, shared_id) == (0, False)  # a viewer who rated nothing
    assert live.library.get(shared_id).rating == 2  # the owner's marks are the picture's, as before accounts

    # The grid's filters and sort, the statistics: each person's own.
    assert _ids(bob, rating_min=4) == [shared_id] and _ids(carol, rating_min=4) == []
    assert _ids(bob, favourite="true") == [shared_id] and _ids(carol, favourite="true") == []
    assert (
        _ids(carol, sort="rating")[0] == shared_id and _ids(carol, sort="rating", descending="false")[-1] == shared_id
    )
    assert bob.get("/api/v1/pictures/stats").json()["rating"]["4"] == 1
    assert carol.get("/api/v1/pictures/stats").json()["rating"].get("4", 0) == 0

    # A bulk rating by filter, and its undo, touch only the rater's marks.
    done = carol.post(
        "/api/v1/pictures/bulk-by-filter", json={"filter": {}, "operation": {"action": "rate", "rating": 5}}
    )
    assert done.status_code == 200, done.text
    assert _marks(carol, shared_id) == (5, False) and _marks(bob, shared_id) == (4, True)
    assert all(_marks(alice, p)[0] == 0 for p in others) and _marks(alice, shared_id)[0] == 2
    assert carol.post("/api/v1/history/undo").status_code == 200
    assert _marks(carol, shared_id) == (1, False) and _marks(bob, shared_id) == (4, True)

    # A removed account's marks go with it.
    Accounts(live.state.auth).remove("bob", by=None, hand_over=live.library.hand_over_pictures)
    assert live.library.db.scalar("SELECT count(*) FROM picture_marks WHERE user_id = ?", (people.ids["bob"],)) == 0


def test_a_members_whole_library_statistics_count_only_what_they_may_see(live, people, secret):  # noqa: F811
    alice, carol = people["alice"], people["carol"]
    everything = alice.get("/api/v1/pictures/stats").json()
    seen = carol.get("/api/v1/pictures/stats").json()
    assert seen["count"] == everything["count"] - 1  # bob's private picture
    assert SECRET_TAG in {t["name"] for t in everything["tags"]}
    assert SECRET_TAG not in {t["name"] for t in seen["tags"]}


@pytest.mark.parametrize("descending", [True, False])
def test_paging_by_ones_own_rating_walks_every_picture_once_in_order(library, tmp_path, monkeypatch, descending):
    monkeypatch.setattr(query, "_MARK_BATCH", 2)  # the marks walked in several batches, some filtered out
    ids = make_pictures(library, tmp_path / "pictures", 11)
    member = Audience(7, sees_all=False)
    stars = {ids[1]: 5, ids[4]: 2, ids[6]: 5, ids[9]: 3}
    with seen_by(member):
        for picture_id, rating in stars.items():
            with library.db.write():
                library.pictures.update([picture_id], rating=rating)
        with library.db.write():
            library.pictures.update([ids[2]], rating=4)
            library.pictures.update([ids[2]], rating=0)  # rated, then unrated again: unrated
    with library.db.write():
        library.pictures.update([ids[0]], rating=1)  # the owner's rating: not the member's
    with library.db.write():
        library.pictures.update([ids[6], ids[5]], flagged=True)
    expected = [
        i for i in sorted(ids, key=lambda i: (stars.get(i, 0), i), reverse=descending) if i not in (ids[5], ids[6])
    ]
    seen, cursor = [], None
    with seen_by(member):
        while True:
            page = library.query.page(PictureFilter(flagged=False), Sort("rating", descending), cursor, limit=3)
            seen += [(p.id, p.rating) for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == [(i, stars.get(i, 0)) for i in expected]
    assert library.get(ids[0]).rating == 1 and library.get(ids[1]).rating == 0  # no account in force: the owner's
