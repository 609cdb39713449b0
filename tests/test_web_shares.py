"""Share links reveal nothing outside their scope, through any route, and stop working when revoked."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from live_server import make_pictures
from PIL import Image

from pixlstash.domain import PictureFilter


@pytest.fixture
def scene(live, tmp_path):
    lib = live.library
    inside = make_pictures(lib, tmp_path / "a", 3, seed=1)
    outside = make_pictures(lib, tmp_path / "b", 3, seed=2)
    shared_set = lib.organise.create_collection("set", "shared")
    private_set = lib.organise.create_collection("set", "private")
    lib.organise.add_members(shared_set.id, inside)
    lib.organise.add_members(private_set.id, outside + inside[:1])
    lib.edits.tag(outside, add=["secret-tag"])
    lib.edits.caption(outside[0], "confidential caption words")
    client = live.client(live.token("write"))
    created = client.post("/api/v1/shares", json={"scope_type": "set", "scope_id": shared_set.id, "title": "Hi"})
    assert created.status_code == 201
    body = created.json()
    assert body["url"].endswith(f"/s/{body['token']}")
    return {
        "inside": inside,
        "outside": outside,
        "token": body["token"],
        "id": body["id"],
        "private_set": private_set.id,
        "client": client,
    }


def shared(scene, path: str = "") -> str:
    return f"/api/v1/shared/{scene['token']}{path}"


def test_listing_counts_and_stats_stay_inside_the_scope(live, scene):
    anon = live.client()
    assert anon.get(shared(scene)).json()["picture_count"] == 3
    attempts = [
        {},
        {"collections": scene["private_set"]},
        {"ids": scene["outside"]},
        {"scrapheap": "true"},
        {"tags": "secret-tag"},
        {"text": "confidential"},
        {"project": 1},
        {"limit": 1000, "sort": "random"},
    ]
    for params in attempts:
        listed = anon.get(shared(scene, "/pictures"), params=params)
        if {"tags", "text"} & set(params):  # this share hides metadata: such filters are refused outright
            assert listed.status_code == 400, params
            continue
        items = listed.json()["items"]
        assert {p["id"] for p in items} <= set(scene["inside"]), params
        filters = {k: v for k, v in params.items() if k not in ("limit", "sort")}
        count = anon.get(shared(scene, "/pictures/count"), params=filters).json()["count"]
        assert count <= 3, params
        stats = anon.get(shared(scene, "/pictures/stats"), params=filters).json()
        assert stats["count"] <= 3 and stats["tags"] == [], params
    # Paging through everything yields exactly the share.
    ids, cursor = [], None
    while True:
        page = anon.get(shared(scene, "/pictures"), params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        ids += [p["id"] for p in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(ids) == scene["inside"]


def test_metadata_and_images_outside_the_scope_are_not_found(live, scene):
    anon, lib = live.client(), live.library
    for picture_id in scene["outside"]:
        assert anon.get(shared(scene, f"/pictures/{picture_id}")).status_code == 404
        content_hash = lib.get(picture_id).content_hash
        for tail in ("grid.webp", "preview.webp", "original"):
            response = anon.get(shared(scene, f"/media/{content_hash}/{tail}"))
            assert response.status_code == 404 and not response.content.startswith(b"RIFF")
    inside = anon.get(shared(scene, f"/pictures/{scene['inside'][0]}")).json()
    assert set(inside) >= {"id", "content_hash", "width", "height"}
    assert "locations" not in inside and "collections" not in inside and "projects" not in inside
    assert inside["tags"] == [] and inside["caption"] is None  # metadata is opt-in
    content_hash = inside["content_hash"]
    grid = anon.get(shared(scene, f"/media/{content_hash}/grid.webp"))
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/webp"
    original = anon.get(shared(scene, f"/media/{content_hash}/original"))
    assert original.content == lib.original_path(inside["id"]).read_bytes()
    # Nothing keeps a shared image once the link is revoked; the file's name is hidden metadata too; and
    # a browser neither sniffs another type into an original nor runs anything in it.
    for response in (grid, original):
        assert response.headers["cache-control"] == "no-store"
    picture = lib.get(inside["id"])
    assert picture.original_name not in original.headers["content-disposition"]
    assert f"{content_hash}{picture.suffix}" in original.headers["content-disposition"]
    assert original.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in original.headers["content-security-policy"]
    owner = live.client(live.token("read")).get(f"/api/v1/media/{content_hash}/original")
    assert "sandbox" in owner.headers["content-security-policy"]
    assert picture.original_name in owner.headers["content-disposition"]


def test_share_tokens_open_nothing_else(live, scene):
    share_client = live.client(scene["token"])
    for path in (
        "/api/v1/pictures",
        "/api/v1/pictures/count",
        "/api/v1/pictures/stats",
        "/api/v1/duplicates",
        f"/api/v1/pictures/{scene['inside'][0]}",
        "/api/v1/sets",
        "/api/v1/tags",
        "/api/v1/events",
    ):
        assert share_client.get(path).status_code == 401, path
    cookie_client = live.client(cookies={"pixlstash_session": scene["token"]})
    assert cookie_client.get("/api/v1/pictures").status_code == 401


def test_share_events_only_show_the_scope(live, scene):
    received: list[dict] = []

    def listen() -> None:
        with live.client().stream("GET", shared(scene, "/events")) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if len(received) >= 1:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    time.sleep(0.5)
    live.library.edits.set_fields(scene["outside"], rating=3)  # outside: nothing is sent
    live.library.organise.create_collection("set", "new set")  # not picture data: nothing is sent
    live.library.edits.set_fields([scene["outside"][0], scene["inside"][1]], rating=4)  # only the inside id
    thread.join(10)
    assert received == [{"kind": "picture.changed", "picture_ids": [scene["inside"][1]], "data": {}}]


def test_revoked_and_expired_shares(live, scene):
    anon = live.client()
    assert scene["client"].delete(f"/api/v1/shares/{scene['id']}").status_code == 204
    gone = anon.get(shared(scene, "/pictures"))
    assert gone.status_code == 410 and "revoked" in gone.json()["error"]["message"]
    _share, secret = live.state.shares.create("pictures", picture_ids=scene["inside"][:1], expires_in_days=1e-6)
    time.sleep(0.2)
    expired = anon.get(f"/api/v1/shared/{secret}/pictures")
    assert expired.status_code == 410 and "expired" in expired.json()["error"]["message"]
    assert anon.get("/api/v1/shared/pxh_made-up/pictures").status_code == 401


def test_picture_shares_and_scrapped_pictures(live, scene):
    _share, secret = live.state.shares.create("pictures", picture_ids=scene["outside"][:2])
    anon = live.client()
    ids = {p["id"] for p in anon.get(f"/api/v1/shared/{secret}/pictures").json()["items"]}
    assert ids == set(scene["outside"][:2])
    live.library.edits.scrap([scene["outside"][0]])
    ids = {p["id"] for p in anon.get(f"/api/v1/shared/{secret}/pictures").json()["items"]}
    assert ids == {scene["outside"][1]}
    assert live.library.count(PictureFilter(scrapheap=True)) == 1


def test_watermark_is_drawn_on_what_recipients_get(live, scene):
    client = scene["client"]
    body = client.post(
        "/api/v1/shares",
        json={
            "scope_type": "pictures",
            "picture_ids": scene["inside"][:1],
            "watermark_text": "© me",
            "watermark_opacity": 1.0,
        },
    ).json()
    content_hash = live.library.get(scene["inside"][0]).content_hash
    marked = live.client().get(f"/api/v1/shared/{body['token']}/media/{content_hash}/preview.webp")
    assert marked.status_code == 200
    plain = live.library.thumbnail_path(scene["inside"][0], "preview").read_bytes()
    assert marked.content != plain
    import io

    with Image.open(io.BytesIO(marked.content)) as image, Image.open(io.BytesIO(plain)) as original:
        assert image.size == original.size


def test_watermark_can_be_a_library_picture(live, scene, tmp_path):
    from corpus import solid

    solid(40, 40, (255, 255, 0)).save(tmp_path / "logo.png")
    (logo,) = [i.picture_id for i in live.library.import_paths([tmp_path / "logo.png"]).imported]
    body = (
        scene["client"]
        .post(
            "/api/v1/shares",
            json={
                "scope_type": "pictures",
                "picture_ids": scene["inside"][:1],
                "watermark_picture_id": logo,
                "watermark_opacity": 1.0,
                "watermark_position": "top-left",
            },
        )
        .json()
    )
    content_hash = live.library.get(scene["inside"][0]).content_hash
    marked = live.client().get(f"/api/v1/shared/{body['token']}/media/{content_hash}/preview.webp")
    import io

    with Image.open(io.BytesIO(marked.content)) as image:
        r, g, b = image.convert("RGB").getpixel((8, 8))
        assert r > 200 and g > 200 and b < 60  # the yellow logo, top left
    live.library.edits.scrap([logo])
    live.library.purge([logo])  # the share keeps its own copy of the logo
    assert live.client().get(f"/api/v1/shared/{body['token']}/media/{content_hash}/grid.webp").status_code == 200


def test_recipient_page_needs_no_login(live, scene):
    page = live.client().get(f"/s/{scene['token']}")
    assert page.status_code == 200 and "Shared pictures" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


def test_watermarked_originals_are_bounded_cached_and_work_for_videos_and_huge_pictures(live, tmp_path):
    """A watermarked share re-rendered the full original on every anonymous request (four requests for a
    48 MP photo: +3.7 GiB), answered 500 for videos and for pictures over WebP's 16,383 px."""
    import io

    from corpus import mp4, photo

    from pixlstash.sharing.renders import MAX_SIDE

    lib = live.library
    folder = tmp_path / "in"
    folder.mkdir()
    photo(6000, 1000, seed=3).save(folder / "wide.jpg", quality=80)
    Image.new("RGB", (17000, 300), (90, 120, 200)).save(folder / "panorama.png")  # past WebP's limit
    mp4(folder / "clip.mp4")
    ids = {Path(i.path).name: i.picture_id for i in lib.import_paths([folder]).imported}
    client = live.client(live.token("write"))
    body = client.post(
        "/api/v1/shares",
        json={"scope_type": "pictures", "picture_ids": list(ids.values()), "watermark_text": "© me"},
    ).json()
    anon = live.client()
    for name, picture_id in ids.items():
        url = f"/api/v1/shared/{body['token']}/media/{lib.get(picture_id).content_hash}/original"
        first = anon.get(url)
        assert first.status_code == 200, (name, first.text)
        assert first.headers["content-type"] == "image/webp" and first.headers["cache-control"] == "no-store"
        with Image.open(io.BytesIO(first.content)) as image:
            assert max(image.size) <= MAX_SIDE, name
        cached = list((lib.root / "thumbnails" / "shared").rglob("*.webp"))
        assert anon.get(url).content == first.content  # the same render, from the cache
        assert list((lib.root / "thumbnails" / "shared").rglob("*.webp")) == cached


def test_a_share_link_belongs_to_what_made_it(live, scene):
    """A link ends with the token that made it unless an administrator takes it over; a write token
    revokes its own links, never another's."""
    anon = live.client()
    admin = live.client(live.token("admin"))
    body = {"scope_type": "pictures", "picture_ids": scene["inside"][:1]}
    other = live.client(live.token("write"))
    theirs = other.post("/api/v1/shares", json=body).json()
    assert scene["client"].delete(f"/api/v1/shares/{theirs['id']}").status_code == 403  # not its link
    assert anon.get(f"/api/v1/shared/{theirs['token']}/pictures").status_code == 200
    assert other.delete(f"/api/v1/shares/{theirs['id']}").status_code == 204  # its own
    maker_token = live.state.auth.create_token("maker", "write")
    maker = live.client(maker_token.secret)
    ended = maker.post("/api/v1/shares", json=body).json()
    kept = maker.post("/api/v1/shares", json=body).json()
    listed = {s["id"]: s["owner"] for s in admin.get("/api/v1/shares").json()}
    assert listed[ended["id"]] == f"token {maker_token.id}"
    taken = admin.post(f"/api/v1/shares/{kept['id']}/owner")
    assert taken.status_code == 200 and taken.json()["owner"].startswith("token ")
    assert admin.delete(f"/api/v1/tokens/{maker_token.id}").status_code == 204
    gone = anon.get(f"/api/v1/shared/{ended['token']}/pictures")
    assert gone.status_code == 410 and "ended with the token that made it" in gone.json()["error"]["message"]
    assert anon.get(f"/api/v1/shared/{kept['token']}/pictures").status_code == 200  # taken over: it stays
    assert admin.delete(f"/api/v1/shares/{scene['id']}").status_code == 204  # an administrator ends any


def test_a_reference_file_swapped_for_a_link_out_of_its_folder_is_not_served(live, tmp_path):
    """A reference-folder file replaced by a link to auth.db after indexing went out to a share
    recipient as image/png."""
    from corpus import photo

    lib = live.library
    ref = tmp_path / "ref"
    ref.mkdir()
    photo(300, 200, seed=5).save(ref / "kept.png")
    folder = lib.folder_sync.add("reference", ref)
    [item] = lib.folder_sync.scan(folder.id).report.imported
    client = live.client(live.token("write"))
    body = client.post(
        "/api/v1/shares",
        json={
            "scope_type": "pictures",
            "picture_ids": [item.picture_id],
            "allow_original": True,
            "include_metadata": True,
        },
    ).json()
    url = f"/api/v1/shared/{body['token']}/media/{lib.get(item.picture_id).content_hash}/original"
    assert live.client().get(url).status_code == 200
    (ref / "kept.png").unlink()
    (ref / "kept.png").symlink_to(lib.root / "auth.db")
    refused = live.client().get(url)
    assert refused.status_code == 404 and b"SQLite" not in refused.content
    assert client.get(f"/api/v1/media/{lib.get(item.picture_id).content_hash}/original").status_code == 404


def test_videos_go_to_recipients_without_their_container_metadata_and_still_seek(live, tmp_path):
    """Shared video originals kept where and when they were shot, and a ComfyUI video's workflow."""
    import av
    from corpus import mp4

    secrets = {
        "location": "+48.8584+002.2945/",
        "creation_time": "2024-05-01T10:00:00Z",
        "comment": '{"prompt": "a hidden workflow"}',
        "title": "Holiday at home",
    }
    folder = tmp_path / "v"
    folder.mkdir()
    [item] = live.library.import_paths([mp4(folder / "clip.mp4", frames=36, metadata=secrets)]).imported
    picture = live.library.get(item.picture_id)
    client = live.client(live.token("write"))
    body = {"scope_type": "pictures", "picture_ids": [item.picture_id], "allow_original": True}
    share = client.post("/api/v1/shares", json=body).json()
    url = f"/api/v1/shared/{share['token']}/media/{picture.content_hash}/original"
    anon = live.client()
    served = anon.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    for found in (b"loci", b"hidden workflow", b"Holiday"):  # loci: the place, as MP4 stores it
        assert found not in served.content, found
    assert "clip" not in served.headers["content-disposition"]  # named by its content hash
    (tmp_path / "served.mp4").write_bytes(served.content)
    with av.open(str(tmp_path / "served.mp4")) as copy, av.open(str(folder / "clip.mp4")) as original:
        assert not {"location", "creation_time", "comment", "title"} & set(copy.metadata)
        frames = [f.to_ndarray().tobytes() for f in copy.decode(video=0)]
        assert frames == [f.to_ndarray().tobytes() for f in original.decode(video=0)]  # the same pictures
    part = anon.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100  # a player can seek
    with_metadata = client.post("/api/v1/shares", json={**body, "include_metadata": True}).json()
    stored = anon.get(f"/api/v1/shared/{with_metadata['token']}/media/{picture.content_hash}/original").content
    assert b"loci" in stored and b"hidden workflow" in stored  # the owner opted in: the file as stored


def test_a_revoked_link_s_renders_are_deleted(live, scene):
    client = scene["client"]
    share = client.post(
        "/api/v1/shares",
        json={"scope_type": "pictures", "picture_ids": scene["inside"][:1], "watermark_text": "mine"},
    ).json()
    content_hash = live.library.get(scene["inside"][0]).content_hash
    assert live.client().get(f"/api/v1/shared/{share['token']}/media/{content_hash}/grid.webp").status_code == 200
    renders = live.library.root / "thumbnails" / "shared" / str(share["id"])
    assert list(renders.rglob("*.webp"))
    assert client.delete(f"/api/v1/shares/{share['id']}").status_code == 204
    assert not renders.exists()


def test_cookie_unlocked_answers_are_for_this_origin_only_and_shares_stay_embeddable(live, scene):
    """A page on another port of the same host is "same-site": the Lax session cookie went along with its
    <img> requests for the owner's thumbnails."""
    content_hash = live.library.get(scene["inside"][0]).content_hash
    owner = scene["client"]
    media = f"/api/v1/media/{content_hash}"
    for path in (f"{media}/grid.webp", f"{media}/original", "/api/v1/pictures"):
        assert owner.get(path).headers["cross-origin-resource-policy"] == "same-origin", path
    assert live.client().get("/").headers["cross-origin-resource-policy"] == "same-origin"
    recipient = live.client().get(shared(scene, f"/media/{content_hash}/grid.webp"))
    assert recipient.status_code == 200 and "cross-origin-resource-policy" not in recipient.headers
