"""A share shows exactly what its options allow, in every route: list, count, stats, detail, search,
events and media. Without metadata a recipient learns no rating, tag, caption or generation data, and
cannot probe for them with filters or sorts; favourites and flags never leave the library."""

from __future__ import annotations

import json
import threading

import pytest
from test_web_enrichment import upload_colours, wait_for_jobs

from pixlstash.domain import PictureFilter

BASE_FIELDS = {"id", "content_hash", "media_type", "width", "height", "taken_at"}


@pytest.fixture
def curated(fake_engines, live):
    client = live.client(live.token("admin"))
    ids = upload_colours(client, ("red", "green", "blue", "yellow"))
    wait_for_jobs(client)
    lib = live.library
    lib.edits.set_fields([ids["red"]], rating=5, favourite=True, flagged=True)
    lib.edits.set_fields([ids["green"]], rating=2)
    lib.edits.tag([ids["red"], ids["green"]], add=["portfolio"])
    lib.edits.caption(ids["red"], "a private note")
    shared_set = lib.organise.create_collection("set", "Shared")
    lib.organise.add_members(shared_set.id, list(ids.values()))
    return client, ids, shared_set.id


def _share(client, set_id: int, **options) -> str:
    response = client.post("/api/v1/shares", json={"scope_type": "set", "scope_id": set_id, **options})
    assert response.status_code == 201, response.text
    return f"/api/v1/shared/{response.json()['token']}"


@pytest.mark.parametrize("include_metadata", [False, True])
def test_every_route_returns_only_what_the_metadata_option_allows(live, curated, include_metadata):
    client, ids, set_id = curated
    base = _share(client, set_id, include_metadata=include_metadata)
    anon = live.client()
    fields = BASE_FIELDS | ({"rating"} if include_metadata else set())

    everything = anon.get(f"{base}/pictures").json()["items"]
    assert len(everything) == 4
    for item in everything:
        assert set(item) <= fields and set(item) >= BASE_FIELDS, item
    assert {i["id"]: i.get("rating") for i in everything}[ids["red"]] == (5 if include_metadata else None)

    # Filters and sorts on hidden fields are refused (an answer would be an oracle); allowed ones work.
    def listed(**params) -> list[int]:
        return [i["id"] for i in anon.get(f"{base}/pictures", params=params).json()["items"]]

    def refused(path: str, params: dict) -> None:
        answer = anon.get(f"{base}{path}", params=params)
        assert answer.status_code == 400, (path, params, answer.text)
        assert "this share does not show" in answer.json()["error"]["message"], answer.text

    for params in ({"favourite": "true"}, {"flagged": "true"}):
        refused("/pictures", params)
    # Whatever the options, sizes and import times never leave the library (a sort's cursor would carry them).
    for params in ({"sort": "file_size"}, {"sort": "imported_at"}):
        refused("/pictures", params)
    assert anon.get(f"{base}/pictures/stats").json()["total_bytes"] == 0
    if include_metadata:
        assert listed(rating_min=5) == [ids["red"]] and listed(tags="portfolio") != listed()
        assert listed(sort="rating")[0] == ids["red"]
        # The text search finds what the share shows (a caption, a tag), never what it does not: the
        # full-text index also holds file names, OCR text and the names of sets, which no share shows.
        assert listed(text="private note") == [ids["red"]]
        assert sorted(listed(text="portf")) == sorted([ids["red"], ids["green"]])
        for hidden in ("red.png", "red", "Shared"):
            assert listed(text=hidden) == [], hidden
            assert anon.get(f"{base}/pictures/count", params={"text": hidden}).json()["count"] == 0
        assert live.library.count(PictureFilter(text="red.png")) == 1  # (the owner's search finds it)
    else:
        for params in (
            {"rating_min": 5},
            {"rating_max": 0},
            {"unrated": "true"},
            {"checkpoint": "sd_xl"},
            {"sampler": "euler"},
            {"generation_seed": "1"},
            {"faces": "true"},
            {"imported_after": "9999999999999"},
            {"tags": "portfolio"},
            {"text": "private"},
            {"sort": "rating"},
        ):
            refused("/pictures", params)
            if "sort" not in params:
                refused("/pictures/count", params)
                refused("/pictures/stats", params)
                refused("/search/semantic", {"q": "red", **params})

    stats = anon.get(f"{base}/pictures/stats").json()
    assert (stats["rating"] != {}) is include_metadata and (stats["tags"] != []) is include_metadata
    refused("/pictures/stats", {"favourite": "true"})

    detail = anon.get(f"{base}/pictures/{ids['red']}").json()
    assert (detail.get("rating") == 5) is include_metadata
    assert (detail.get("caption") == "a private note") is include_metadata
    assert bool(detail.get("tags")) is include_metadata
    assert not {"favourite", "flagged", "file_size", "imported_at"} & set(detail)

    similar = anon.post(f"{base}/search/similar", json={"picture_ids": [ids["green"]]}).json()
    semantic = anon.get(f"{base}/search/semantic", params={"q": "red"}).json()
    hits = similar["hits"] + semantic["hits"]
    assert hits and all(set(h["picture"]) <= fields for h in hits)

    # Live events carry ids only: what changed is not said.
    received: list[str] = []
    with anon.stream("GET", f"{base}/events", timeout=10) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry")
        threading.Timer(0.3, lambda: live.library.edits.set_fields([ids["blue"]], rating=4)).start()
        for line in lines:
            if line.startswith("data:"):
                received.append(line)
                break
    event = json.loads(received[0][5:])
    assert event["picture_ids"] == [ids["blue"]] and not event.get("data")


@pytest.mark.parametrize("allow_original", [False, True])
def test_originals_only_when_the_share_allows_them(live, curated, allow_original):
    client, ids, set_id = curated
    base = _share(client, set_id, allow_original=allow_original)
    anon = live.client()
    content_hash = anon.get(f"{base}/pictures/{ids['red']}").json()["content_hash"]
    assert anon.get(f"{base}/media/{content_hash}/grid.webp").status_code == 200
    assert anon.get(f"{base}/media/{content_hash}/original").status_code == (200 if allow_original else 404)
    assert anon.get(base).json()["allow_original"] is allow_original


@pytest.mark.parametrize("include_metadata", [False, True])
def test_originals_carry_their_metadata_only_when_the_share_includes_it(live, include_metadata, tmp_path):
    """A ComfyUI render's graph, a photo's GPS and camera: in the file itself, not only in the API."""
    import io

    from corpus import comfyui_png, jpeg_with_exif, mp4
    from PIL import Image

    client, lib = live.client(live.token("admin")), live.library
    video = lib.import_paths([mp4(tmp_path / "clip.mp4")]).imported[0].picture_id
    files = [comfyui_png(tmp_path / "render.png"), jpeg_with_exif(tmp_path / "photo.jpg", orientation=6)]
    uploads = [("file", (p.name, p.read_bytes())) for p in files]
    ids = [i["picture_id"] for i in client.post("/api/v1/uploads", files=uploads).json()["imported"]]
    shared_set = lib.organise.create_collection("set", "Originals")
    lib.organise.add_members(shared_set.id, [*ids, video])
    base = _share(client, shared_set.id, include_metadata=include_metadata)
    anon = live.client()
    # The share page plays a video from its original: as stored with metadata, else remuxed without its
    # container's metadata (test_web_shares checks the frames), under its hash's name.
    played = anon.get(f"{base}/media/{lib.get(video).content_hash}/original")
    assert played.status_code == 200 and played.headers["content-type"] == "video/mp4"
    assert (played.content == lib.original_path(video).read_bytes()) is include_metadata
    assert (lib.get(video).original_name in played.headers["content-disposition"]) is include_metadata
    for picture_id in ids:
        picture = lib.get(picture_id)
        got = anon.get(f"{base}/media/{picture.content_hash}/original")
        assert got.status_code == 200
        stored = lib.original_path(picture_id).read_bytes()
        if include_metadata:
            assert got.content == stored and picture.original_name in got.headers["content-disposition"]
            continue
        assert picture.original_name not in got.headers["content-disposition"]
        with Image.open(io.BytesIO(got.content)) as image, Image.open(io.BytesIO(stored)) as original:
            assert "prompt" not in image.info and "workflow" not in image.info
            assert dict(image.getexif()) in ({}, {0x0112: 6})  # at most the orientation
            assert image.convert("RGB").tobytes() == original.convert("RGB").tobytes()
