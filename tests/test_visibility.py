"""Many people in one library (issue 62): every picture has the account that brought it in and is private to
it or shared with the library. A person must not learn that a picture they may not see exists, through any
route: the route matrix walks every API route as another member and looks for any trace of a private picture
(its id in a list, its content hash, file name, tag or caption), on a real server over real SQLite files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import threading

import httpx
import pytest
from corpus import photo

from pixlstash.accounts import Accounts
from pixlstash.domain import PictureFilter
from pixlstash.pictures.visibility import Audience, seen_by

SECRET_NAME = "bobs-secret-9q7z.png"
SECRET_TAG = "zqxsecret"
SECRET_CAPTION = "marmalade xylophone under the harbour"


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    photo(96 + seed, 80, seed=seed).save(out, "PNG")
    return out.getvalue()


def _upload(client: httpx.Client, name: str, data: bytes, private: str | None = None) -> int:
    fields = {"private": private} if private is not None else {}
    answer = client.post("/api/v1/uploads", files=[("file", (name, data, "image/png"))], data=fields)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    (picture,) = report["imported"] or report["duplicates"]
    return picture["picture_id"]


class People:
    """The owner (alice), two members (bob, carol) and a viewer (dave), each with an API token."""

    def __init__(self, live) -> None:
        auth = live.state.auth
        auth.create_owner("alice", "alices password")
        accounts = Accounts(auth)
        self.ids = {"alice": auth.store.owner_id()}
        for name, role in (("bob", "member"), ("carol", "member"), ("dave", "viewer")):
            self.ids[name] = accounts.add(name, f"{name}s password", role).id
        scopes = {"alice": "admin", "bob": "write", "carol": "write", "dave": "read"}
        self.clients = {
            name: live.client(auth.create_token(name, scope, user_id=self.ids[name]).secret)
            for name, scope in scopes.items()
        }

    def __getitem__(self, name: str) -> httpx.Client:
        return self.clients[name]


@pytest.fixture
def people(live):
    return People(live)


@pytest.fixture
def secret(live, people):
    """Bob's private picture, tagged and captioned, beside a shared picture of carol's."""
    bob = people["bob"]
    private_id = _upload(bob, SECRET_NAME, _png(1))  # a member's uploads are private by default
    answer = bob.patch(f"/api/v1/pictures/{private_id}", json={"add_tags": [SECRET_TAG], "caption": SECRET_CAPTION})
    assert answer.status_code == 200, answer.text
    assert answer.json()["private"] is True and answer.json()["owner_id"] == people.ids["bob"]
    shared_id = _upload(people["carol"], "carols-shared.png", _png(2), private="0")
    # A face on each, alike (one person), the private one named by bob as a character of his.
    import numpy as np

    from pixlstash.db.vectors import FaceRow

    vector = np.ones(512, dtype=np.float32) / np.sqrt(512)
    face = FaceRow((10, 10, 40, 40), 0.9, [(15, 15), (30, 15), (22, 22), (17, 30), (28, 30)], vector)
    with live.library.db.write():
        _, (private_face,) = live.library.vectors.replace_faces(private_id, "faces/test", "1", [face], 0)
        live.library.vectors.replace_faces(shared_id, "faces/test", "1", [face], 0)
    zed = bob.post("/api/v1/characters", json={"name": "Zed"}).json()["id"]
    assert bob.patch(f"/api/v1/faces/{private_face}", json={"character_id": zed}).status_code == 204
    # Both in a set and a project everyone sees: their counts must not tell of the private one.
    project = people["alice"].post("/api/v1/projects", json={"name": "harbour"}).json()["id"]
    holiday = people["alice"].post("/api/v1/sets", json={"name": "holiday", "project_id": project}).json()["id"]
    assert bob.post(f"/api/v1/sets/{holiday}/pictures", json={"ids": [private_id, shared_id]}).status_code == 200
    return private_id, shared_id, live.library.get(private_id).content_hash, private_face


def _traces(text: str, private_id: int, content_hash: str) -> list[str]:
    """What in a response would tell of the private picture."""
    found = [marker for marker in (content_hash, SECRET_NAME, SECRET_TAG, SECRET_CAPTION) if marker in text]
    try:
        body = json.loads(text)
    except ValueError:
        return found

    def walk(value, key: str | None = None) -> None:
        if isinstance(value, dict):
            if value.get("id") == private_id and ("content_hash" in value or "media_type" in value):
                found.append(f"a picture with id {private_id}")
            if value.get("picture_id") == private_id:
                found.append(f"something of picture {private_id}: {sorted(value)}")
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            if key in ("picture_ids", "ids", "added", "members") and private_id in value:
                found.append(f"{key} lists {private_id}")
            for v in value:
                walk(v, key)

    walk(body)
    return found


def test_the_core_sees_only_what_the_account_in_force_may(live, people, secret):
    private_id, shared_id, *_ = secret
    library = live.library
    ids = people.ids
    with seen_by(Audience(ids["carol"], sees_all=False)):
        assert library.count(PictureFilter()) == 1
        assert library.pictures.existing_ids([private_id, shared_id]) == [shared_id]
        assert library.count(PictureFilter(mine=True)) == 1
        assert library.count(PictureFilter(text="xylophone")) == 0
    with seen_by(Audience(ids["bob"], sees_all=False)):
        assert library.count(PictureFilter()) == 2
        assert library.count(PictureFilter(mine=True)) == 1 and library.count(PictureFilter(mine=False)) == 1
        assert library.count(PictureFilter(text="xylophone")) == 1
    with seen_by(Audience(ids["alice"], sees_all=True, is_owner=True)):
        assert library.count(PictureFilter(private=True)) == 1
    assert library.count(PictureFilter()) == 2  # work for nobody in particular sees everything


@pytest.mark.slow
def test_no_route_tells_another_member_of_a_private_picture(live, people, secret):
    private_id, shared_id, content_hash, private_face = secret
    carol = people["carol"]
    doc = people["alice"].get("/api/v1/openapi.json").json()
    (zed,) = [c["id"] for c in people["alice"].get("/api/v1/characters").json() if c["name"] == "Zed"]
    values = {
        "picture_id": str(private_id),
        "content_hash": content_hash,
        "size": "grid",
        "face_id": str(private_face),
        "character_id": str(zed),  # bob's character, named by his private picture's face
    }
    checked, leaks, direct = 0, [], []
    for path, methods in doc["paths"].items():
        if "{share_token}" in path or "get" not in methods:
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)
        query = {p["name"]: "xylophone" for p in methods["get"].get("parameters", []) if p["name"] in ("q", "text")}
        if "ids" in {p["name"] for p in methods["get"].get("parameters", [])}:
            query["ids"] = str(private_id)
        with carol.stream("GET", concrete, params=query) as answer:
            text = "" if answer.headers.get("content-type", "").startswith("text/event-stream") else answer.read()
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        checked += 1
        assert answer.status_code < 500, (path, answer.status_code, text[:300])
        if found := _traces(text, private_id, content_hash):
            leaks.append((path, found))
        if any(f"{{{name}}}" in path for name in ("picture_id", "content_hash", "face_id")):
            direct.append((path, answer.status_code))
    assert checked > 60
    assert leaks == [], "\n".join(map(str, leaks))
    assert direct and {status for _, status in direct} == {404}, direct

    # Read routes that take a body: searching like the private picture is refused as if it did not exist;
    # searching like carol's own never answers with it; nor does any preview of a whole-library filter.
    assert carol.post("/api/v1/search/similar", json={"picture_ids": [private_id]}).status_code == 404
    for path, body in (
        ("/api/v1/search/similar", {"picture_ids": [shared_id]}),
        ("/api/v1/exports/preview", {"filter": {}}),
        ("/api/v1/exports/check", {"filter": {}}),
        ("/api/v1/insights/keepers", {"filter": {}}),
        ("/api/v1/set-operations", {"collection_ids": [1]}),
    ):
        answer = carol.post(path, json=body)
        assert answer.status_code < 500 and _traces(answer.text, private_id, content_hash) == [], (path, answer.text)
    assert carol.get("/api/v1/pictures/count").json() == {"count": 1}
    assert [s["member_count"] for s in carol.get("/api/v1/sets").json()] == [1]
    assert [p["picture_count"] for p in carol.get("/api/v1/projects").json()] == [1]
    assert [s["member_count"] for s in people["bob"].get("/api/v1/sets").json()] == [2]


def test_another_member_cannot_touch_it_and_learns_nothing_from_trying(live, people, secret):
    private_id, shared_id, *_ = secret
    carol = people["carol"]
    set_id = carol.post("/api/v1/sets", json={"name": "carols set"}).json()["id"]
    writes = [
        ("PATCH", f"/api/v1/pictures/{private_id}", {"rating": 1}),
        ("DELETE", f"/api/v1/pictures/{private_id}", None),
        ("POST", "/api/v1/pictures/bulk", {"ids": [private_id], "operation": {"action": "rate", "rating": 1}}),
        ("POST", "/api/v1/pictures/bulk", {"ids": [shared_id, private_id], "operation": {"action": "scrap"}}),
        ("POST", f"/api/v1/sets/{set_id}/pictures", {"ids": [private_id]}),
        ("POST", "/api/v1/stacks", {"ids": [shared_id, private_id]}),
        ("POST", "/api/v1/duplicates/distinct", {"ids": [shared_id, private_id]}),
        ("POST", "/api/v1/comfy/remix", {"picture_id": private_id}),
    ]
    for method, path, body in writes:
        answer = carol.request(method, path, json=body)
        assert answer.status_code in (404, 422), (method, path, answer.status_code, answer.text)
        assert str(private_id) not in answer.text or answer.status_code == 404, answer.text
    # The same answer as for a picture that never was.
    never = carol.patch("/api/v1/pictures/999999", json={"rating": 1})
    mine = carol.patch(f"/api/v1/pictures/{private_id}", json={"rating": 1})
    assert (never.status_code, mine.status_code) == (404, 404)
    assert never.json()["error"]["message"].replace("999999", "N") == mine.json()["error"]["message"].replace(
        str(private_id), "N"
    )
    flag_all = {"filter": {}, "operation": {"action": "flag", "value": True}}
    bulk_filter = carol.post("/api/v1/pictures/bulk-by-filter", json=flag_all)
    assert bulk_filter.json()["count"] == 1  # carol's shared picture only
    picture = live.library.get(private_id)
    assert (picture.rating, picture.flagged, picture.deleted_at) == (0, False, None)  # nothing of it changed


def test_sharing_and_who_decides(live, people, secret):
    private_id, shared_id, *_ = secret
    bob, carol, dave = people["bob"], people["carol"], people["dave"]
    assert carol.patch(f"/api/v1/pictures/{shared_id}", json={"private": True}).status_code == 200
    assert dave.get(f"/api/v1/pictures/{shared_id}").status_code == 404  # carol kept it to herself again
    assert carol.patch(f"/api/v1/pictures/{shared_id}", json={"private": False}).status_code == 200

    assert bob.patch(f"/api/v1/pictures/{private_id}", json={"private": False}).status_code == 200
    for reader in (carol, dave):
        assert reader.get(f"/api/v1/pictures/{private_id}").json()["tags"][0]["name"] == SECRET_TAG
    # Only who brought it in (or an admin) decides: carol may rate it, not make it private.
    refused = carol.patch(f"/api/v1/pictures/{private_id}", json={"private": True})
    assert refused.status_code == 403 and "only whoever brought a picture in" in refused.text
    keep_it = {"ids": [private_id], "operation": {"action": "private", "value": True}}
    bulk = carol.post("/api/v1/pictures/bulk", json=keep_it)
    assert bulk.status_code == 403
    assert live.library.get(private_id).private is False
    assert (
        people["alice"]
        .post("/api/v1/pictures/bulk", json={"ids": [private_id], "operation": {"action": "private", "value": True}})
        .json()["count"]
        == 1
    )
    assert carol.get(f"/api/v1/pictures/{private_id}").status_code == 404
    # A viewer changes nothing, whatever it sees.
    assert dave.patch(f"/api/v1/pictures/{shared_id}", json={"private": True}).status_code == 403


def test_the_same_bytes_uploaded_again_join_the_uploaders_own(live, people, secret):
    private_id, *_ = secret
    carol = people["carol"]
    assert _upload(carol, "my copy.png", _png(1)) == private_id  # one copy of the bytes
    seen = carol.get(f"/api/v1/pictures/{private_id}")
    assert seen.status_code == 200 and seen.json()["owner_id"] == people.ids["bob"]
    assert carol.get("/api/v1/pictures/count", params={"mine": "true"}).json() == {"count": 2}
    assert people["dave"].get(f"/api/v1/pictures/{private_id}").status_code == 404


def test_a_removed_account_hands_its_pictures_to_the_owner(live, people, secret):
    private_id, *_ = secret
    assert people["alice"].delete(f"/api/v1/users/{people.ids['bob']}").status_code == 204
    picture = live.library.get(private_id)
    assert (picture.owner_id, picture.private) == (None, True)  # the owner's now, and still private
    assert people["carol"].get(f"/api/v1/pictures/{private_id}").status_code == 404
    assert [s["member_count"] for s in people["carol"].get("/api/v1/sets").json()] == [1]  # counts still tell nothing
    assert people["carol"].get("/api/v1/pictures/count", params={"mine": "false"}).json() == {"count": 0}
    assert people["alice"].get("/api/v1/pictures/count", params={"mine": "true"}).json() == {"count": 1}
    # A new account never inherits what the removed one could see, even given its id again.
    erin = Accounts(live.state.auth).add("erin", "erins password", "member")
    erins = live.client(live.state.auth.create_token("erin", "write", user_id=erin.id).secret)
    assert erins.get(f"/api/v1/pictures/{private_id}").status_code == 404


def test_an_event_stream_tells_nothing_of_others_private_pictures(live, people, secret):
    private_id, shared_id, *_ = secret
    received: list[dict] = []
    connected = threading.Event()

    def listen() -> None:
        with people["carol"].stream("GET", "/api/v1/events") as response:
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("data: "):
                    event = json.loads(line[6:])
                    received.append(event)
                    if shared_id in event.get("picture_ids", []):
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(30)
    people["bob"].patch(f"/api/v1/pictures/{private_id}", json={"rating": 3})
    people["carol"].patch(f"/api/v1/pictures/{shared_id}", json={"rating": 4})
    thread.join(30)
    assert any(shared_id in e["picture_ids"] for e in received)
    assert not any(private_id in e.get("picture_ids", []) for e in received), received


def test_each_person_undoes_their_own_steps(live, people, secret):
    _, shared_id, *_ = secret
    bob, carol = people["bob"], people["carol"]
    assert bob.patch(f"/api/v1/pictures/{shared_id}", json={"rating": 2}).status_code == 200
    assert carol.patch(f"/api/v1/pictures/{shared_id}", json={"add_tags": ["dusk"]}).status_code == 200
    assert bob.patch(f"/api/v1/pictures/{shared_id}", json={"rating": 5}).status_code == 200
    # Carol's Ctrl+Z takes back her tag, not bob's later rating; her history holds only her steps.
    undone = carol.post("/api/v1/history/undo").json()
    assert "dusk" in undone["label"]
    bobs_rating = lambda: bob.get(f"/api/v1/pictures/{shared_id}").json()["rating"]  # noqa: E731 - bob's own
    assert (bobs_rating(), [t.name for t in live.library.get(shared_id).tags]) == (5, [])
    assert [s["label"] for s in carol.get("/api/v1/history").json()["steps"]] == [undone["label"]]
    nothing_left = carol.post("/api/v1/history/undo")
    assert nothing_left.status_code == 409 and bobs_rating() == 5
    bobs = [s["label"] for s in bob.get("/api/v1/history").json()["steps"]]
    assert bobs[:2] == ["Rate ★★★★★ on picture 2", "Rate ★★ on picture 2"] and all("dusk" not in b for b in bobs)
    assert bob.post("/api/v1/history/undo").json()["label"] == bobs[0]
    assert bobs_rating() == 2


def test_a_snapshot_restore_never_changes_who_may_see_a_picture(live, people, secret):
    from pixlstash.snapshots.service import RestoreResource

    private_id, shared_id, *_ = secret
    library = live.library
    snapshots = library.new_snapshot_service()
    try:
        library.set_private([private_id], False)  # shared when the snapshot is taken
        taken = snapshots.take("MANUAL", "shared then")
        library.set_private([private_id], True)  # bob keeps it to himself again
        snapshots.restore(taken.id)
        assert library.get(private_id).private  # the metadata came back; who may see it did not
        assert people["carol"].get(f"/api/v1/pictures/{private_id}").status_code == 404
        assert people["bob"].get(f"/api/v1/pictures/{private_id}").status_code == 200

        # A private picture deleted for good and brought back by a selective restore is bob's and private.
        private_again = snapshots.take("MANUAL", "private")
        library.edits.scrap([private_id])
        library.purge([private_id])
        snapshots.restore_batch(private_again.id, [RestoreResource("picture", private_id)])
        assert library.get(private_id).private
        assert people["bob"].get(f"/api/v1/pictures/{private_id}").status_code == 200
        assert people["carol"].get(f"/api/v1/pictures/{private_id}").status_code == 404
        assert people["carol"].get(f"/api/v1/pictures/{shared_id}").status_code == 200
    finally:
        snapshots.close()


def test_the_command_line_acts_for_an_account_with_as(tmp_path):
    from test_cli_accounts import cli

    from pixlstash.library import Library

    root = str(tmp_path / "lib")
    assert (
        cli("user", "create", "alice", "--password-stdin", "--library", root, stdin="alices password\n").returncode == 0
    )
    for name in ("bob", "carol"):
        made = cli(
            "user", "add", name, "--role", "member", "--password-stdin", "--library", root, stdin="long enough\n"
        )
        assert made.returncode == 0, made.stderr
    folder = tmp_path / "in"
    folder.mkdir()
    photo(90, 60, seed=31).save(folder / "bobs.png")
    imported = cli("--as", "bob", "import", str(folder), "--library", root)
    assert imported.returncode == 0, imported.stderr
    assert cli("--as", "bob", "ls", "--count", "--library", root).stdout.strip() == "1"
    assert cli("--as", "carol", "ls", "--count", "--library", root).stdout.strip() == "0"  # bob's are private
    assert cli("ls", "--count", "--library", root).stdout.strip() == "1"  # the machine's owner sees all
    tagged = cli("--as", "carol", "tag", "add", "1", "x", "--library", root)
    assert tagged.returncode == 1 and "no such picture: 1" in tagged.stderr
    quota = cli("user", "quota", "bob", "10M", "--library", root)
    assert quota.returncode == 0 and quota.stdout.strip() == "bob may upload 10,485,760 bytes"
    assert cli("user", "quota", "bob", "none", "--library", root).stdout.strip() == "bob may upload no limit"
    bad = cli("user", "quota", "bob", "lots", "--library", root)
    assert bad.returncode == 1 and "a size is a number with K, M, G or T" in bad.stderr
    nobody = cli("--as", "zed", "ls", "--library", root)
    assert nobody.returncode == 1 and "no account named 'zed'" in nobody.stderr
    with Library.open(root) as library:
        picture = library.get(1)
    assert picture.private and picture.owner_id is not None


def test_add_to_my_library_keeps_a_shared_picture_when_it_turns_private(live, people, secret):
    private_id, *_ = secret
    bob, carol = people["bob"], people["carol"]
    assert bob.patch(f"/api/v1/pictures/{private_id}", json={"private": False}).status_code == 200
    assert carol.get(f"/api/v1/pictures/{private_id}").json()["mine"] is False
    keep = {"ids": [private_id], "operation": {"action": "add_to_my_library"}}
    assert carol.post("/api/v1/pictures/bulk", json=keep).json()["count"] == 1
    assert carol.post("/api/v1/pictures/bulk", json=keep).json()["count"] == 0  # hers already
    seen = carol.get(f"/api/v1/pictures/{private_id}").json()
    assert seen["mine"] is True and seen["owner_name"] == "bob"  # still bob's; one copy, now hers too
    assert carol.get("/api/v1/pictures/count", params={"mine": "true"}).json() == {"count": 2}
    assert bob.patch(f"/api/v1/pictures/{private_id}", json={"private": True}).status_code == 200
    assert carol.get(f"/api/v1/pictures/{private_id}").status_code == 200  # kept: it is hers to see
    assert people["dave"].get(f"/api/v1/pictures/{private_id}").status_code == 404
    assert people["dave"].post("/api/v1/pictures/bulk", json=keep).status_code == 403  # a viewer keeps nothing


def test_a_share_link_shows_what_its_maker_may_see(live, people, secret):
    private_id, shared_id, content_hash, _ = secret
    (holiday,) = [s["id"] for s in people["alice"].get("/api/v1/sets").json()]
    links = {}
    for name in ("bob", "carol"):
        made = people[name].post("/api/v1/shares", json={"scope_type": "set", "scope_id": holiday})
        assert made.status_code == 201, made.text
        links[name] = made.json()["token"]
    recipient = live.client()
    seen = {name: recipient.get(f"/api/v1/shared/{token}/pictures").json() for name, token in links.items()}
    assert sorted(p["id"] for p in seen["bob"]["items"]) == [private_id, shared_id]  # bob's link: his own too
    assert [p["id"] for p in seen["carol"]["items"]] == [shared_id]  # carol's: what she sees, no more
    carols = links["carol"]
    assert recipient.get(f"/api/v1/shared/{carols}/pictures/{private_id}").status_code == 404
    assert recipient.get(f"/api/v1/shared/{carols}/media/{content_hash}/grid.webp").status_code == 404
    assert recipient.get(f"/api/v1/shared/{carols}").json()["picture_count"] == 1
    # A member's watermark is a picture of theirs to see, not anyone's private one.
    watermark = {"scope_type": "pictures", "picture_ids": [shared_id], "watermark_picture_id": private_id}
    assert people["carol"].post("/api/v1/shares", json=watermark).status_code == 404


def test_add_to_my_library_from_a_share_link(live, people, secret):
    private_id, *_ = secret
    link = people["bob"].post("/api/v1/shares", json={"scope_type": "pictures", "picture_ids": [private_id]})
    token = link.json()["token"]
    add = f"/api/v1/shared/{token}/pictures/{private_id}/add-to-my-library"
    assert live.client().post(add).status_code == 401  # the link alone keeps nothing: an account does

    carol = live.client()
    signed = carol.post("/api/v1/auth/login", json={"username": "carol", "password": "carols password"})
    headers = {"X-CSRF-Token": signed.json()["csrf_token"], "Origin": live.url}
    assert carol.post(add, headers={**headers, "Origin": "https://elsewhere.example"}).status_code == 403
    assert carol.post(add).status_code == 403  # a session's write needs its CSRF token
    assert carol.get(f"/api/v1/pictures/{private_id}").status_code == 404
    assert carol.post(add, headers=headers).json() == {"added": True}
    assert carol.post(add, headers=headers).json() == {"added": False}
    assert carol.get(f"/api/v1/pictures/{private_id}").json()["mine"] is True  # hers to see from now on
    other = f"/api/v1/shared/{token}/pictures/{secret[1]}/add-to-my-library"
    assert carol.post(other, headers=headers).status_code == 404  # only what the link shares
    assert people["dave"].post(add).status_code == 403  # a viewer keeps nothing


def _remove_bob_killed_at(root, kill_at: str) -> None:
    """Remove bob's account in a child that SIGKILLs itself when ``kill_at`` (module.Class.method) is called."""
    import subprocess
    import sys
    import textwrap

    module, cls, name = kill_at.rsplit(".", 2)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pixlstash.accounts import Accounts
        from pixlstash.auth import Authenticator
        from pixlstash.library import Library
        import {module} as target

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        library = Library.open({str(root)!r})
        auth = Authenticator(library.root)
        setattr(target.{cls}, {name!r}, die)
        Accounts(auth).remove("bob", by=None, hand_over=library.hand_over_pictures)
        raise SystemExit("not killed")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_kill_9_while_an_account_is_removed_leaves_no_picture_to_a_missing_account(tmp_path):
    from pixlstash.auth import Authenticator
    from pixlstash.library import Library

    root = tmp_path / "lib"
    with Library.open(root) as library, contextlib.closing(Authenticator(library.root)) as auth:
        auth.create_owner("alice", "alices password")
        bob = Accounts(auth).add("bob", "bobs password", "member").id
        folder = tmp_path / "in"
        folder.mkdir()
        photo(90, 60, seed=41).save(folder / "bobs.png")
        library.import_paths([folder], owner_id=bob, private=True)
    # Killed before it handed anything over: nothing changed. Killed after the pictures were handed over, before
    # the account went: the pictures are the owner's, the account is still there, and removing it again works.
    for kill_at, handed in (
        ("pixlstash.db.visibility.VisibilityStore.hand_over", False),
        ("pixlstash.db.auth_db.AuthStore.revoke_tokens_of", True),
    ):
        _remove_bob_killed_at(root, kill_at)
        with Library.open(root) as library, contextlib.closing(Authenticator(library.root)) as auth:
            assert auth.store.account_named("bob") is not None
            owners = {row[0] for row in library.db.query("SELECT owner_id FROM pictures")}
            assert owners == ({None} if handed else {bob})
            assert library.get(1).private
    with Library.open(root) as library, contextlib.closing(Authenticator(library.root)) as auth:
        Accounts(auth).remove("bob", by=None, hand_over=library.hand_over_pictures)
        assert auth.store.account_named("bob") is None
        assert library.db.query("SELECT owner_id, private FROM pictures") == [(None, 1)]
        assert library.db.query("SELECT count(*) FROM picture_holders WHERE user_id = ?", (bob,)) == [(0,)]


def test_an_upload_past_the_accounts_quota_is_refused_whole(live, people, secret):
    carol = people["carol"]
    used = live.library.get(secret[1]).file_size  # carol's one upload so far
    quota = used + len(_png(3)) + 10  # room for one more picture, not two
    answer = people["alice"].patch(f"/api/v1/users/{people.ids['carol']}", json={"quota_bytes": quota})
    assert answer.status_code == 200 and answer.json()["quota_bytes"] == quota
    me = carol.get("/api/v1/auth/me").json()
    assert (me["quota_bytes"], me["uploaded_bytes"]) == (quota, used)
    before = live.library.count()
    files = [("file", (f"{n}.png", _png(10 + n), "image/png")) for n in range(2)]
    refused = carol.post("/api/v1/uploads", files=files)
    assert refused.status_code == 413 and "would pass your quota" in refused.json()["error"]["message"]
    assert live.library.count() == before  # nothing of it was kept
    assert not [p for p in live.library.tmp.iterdir() if p.name.startswith("upload-")]  # nor left in tmp
    assert _upload(carol, "one more.png", _png(3))  # what fits still comes in
    assert people["bob"].patch(f"/api/v1/users/{people.ids['carol']}", json={"quota_bytes": None}).status_code == 403
    assert (
        people["alice"].patch(f"/api/v1/users/{people.ids['carol']}", json={"quota_bytes": None}).json()["quota_bytes"]
        is None
    )


def test_an_undo_leaves_alone_a_picture_made_private_to_someone_else_since(live, people, secret):
    _, shared_id, *_ = secret
    bob, carol = people["bob"], people["carol"]
    assert bob.patch(f"/api/v1/pictures/{shared_id}", json={"add_tags": ["dusk"]}).status_code == 200
    assert carol.patch(f"/api/v1/pictures/{shared_id}", json={"private": True}).status_code == 200
    assert bob.get(f"/api/v1/pictures/{shared_id}").status_code == 404
    assert bob.post("/api/v1/history/undo").status_code == 200  # his step, on nothing he may still see
    assert "dusk" in [t.name for t in live.library.get(shared_id).tags]


def test_merging_characters_keeps_what_others_keep_private_in_them(live, people, secret):
    private_id, _, _, private_face = secret
    carol = people["carol"]
    zed = next(c["id"] for c in carol.get("/api/v1/characters").json() if c["name"] == "Zed")
    yan = carol.post("/api/v1/characters", json={"name": "Yan"}).json()["id"]
    merged = carol.post(f"/api/v1/characters/{zed}/merge", json={"into": yan})
    assert merged.status_code == 200, merged.text
    in_yan = lambda who: {p["id"] for p in who.get("/api/v1/pictures", params={"collections": yan}).json()["items"]}  # noqa: E731
    assert private_id not in in_yan(carol)
    # Bob's private picture and its face moved with the character, as his own view shows.
    assert private_id in in_yan(people["bob"])
    assert live.library.db.scalar("SELECT character_id FROM faces WHERE id = ?", (private_face,)) == yan
    assert carol.get("/api/v1/history").json()["steps"][0]["label"] == "Merge Zed into Yan"  # carol's step
