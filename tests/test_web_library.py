"""The library through real HTTP: uploads with limits, media with caching and ranges, live events, bulk edits."""

from __future__ import annotations

import io
import json
import threading
import time

import msgspec.inspect
import pytest
from corpus import bad_corpus, mp4, photo
from live_server import LiveServer, make_pictures

from pixlstash.domain import Collection
from pixlstash.instance import InstanceOptions
from pixlstash_web.api import Api
from pixlstash_web.app import WebSettings
from pixlstash_web.schemas import Ids
from pixlstash_web.security import Policy


def png_bytes(seed: int, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    photo(*size, seed=seed).save(buffer, "PNG")
    return buffer.getvalue()


def test_upload_imports_and_reports_every_file(live, tmp_path):
    client = live.client(live.token("write"))
    project = client.post("/api/v1/projects", json={"name": "Uploads"}).json()
    bad = bad_corpus(tmp_path / "bad")
    files = [
        ("file", ("one.png", png_bytes(1), "image/png")),
        ("file", ("two.png", png_bytes(2), "image/png")),
        ("file", ("again.png", png_bytes(1), "image/png")),
        ("file", ("../../evil name.png", png_bytes(3), "image/png")),
    ]
    files += [("file", (name, (tmp_path / "bad" / name).read_bytes(), "application/octet-stream")) for name in bad]
    response = client.post("/api/v1/uploads", files=files, data={"project_id": str(project["id"])})
    assert response.status_code == 200, response.text
    report = response.json()
    assert [i["path"] for i in report["imported"]] == ["one.png", "two.png", "evil name.png"]
    assert [d["path"] for d in report["duplicates"]] == ["again.png"]
    assert {s["path"] for s in report["skipped"]} == set(bad)
    assert client.get("/api/v1/pictures/count", params={"project": project["id"]}).json() == {"count": 3}
    assert list(live.library.tmp.iterdir()) == []  # nothing left behind


def test_upload_limits_answer_413_and_store_nothing(library, tmp_path):
    settings = WebSettings(
        max_upload_file_bytes=100_000, max_upload_request_bytes=400_000, services=InstanceOptions(watch_folders=False)
    )
    with LiveServer(library, settings) as live:
        client = live.client(live.token("write"))
        big = png_bytes(5, (400, 400))
        assert 100_000 < len(big) < 400_000
        response = client.post(
            "/api/v1/uploads",
            files=[("file", ("small.png", png_bytes(6), "image/png")), ("file", ("big.png", big, "image/png"))],
        )
        assert response.status_code == 413 and "per-file limit" in response.json()["error"]["message"]
        many = [("file", (f"{n}.png", png_bytes(10 + n, (150, 150)), "image/png")) for n in range(12)]
        response = client.post("/api/v1/uploads", files=many)  # each file fits; together they do not
        assert response.status_code == 413 and "upload limit" in response.json()["error"]["message"]
        assert library.count() == 0 and list(library.tmp.iterdir()) == []
        # The first files were prepared while the rest arrived: what they stored is gone again.
        assert [p for p in (library.root / "originals").rglob("*") if p.is_file()] == []
        assert [p for p in (library.root / "thumbnails").rglob("*") if p.is_file()] == []
        assert client.post("/api/v1/uploads", content=b"x", headers={"content-type": "text/plain"}).status_code == 415
        garbled = client.post(
            "/api/v1/uploads", content=b"--xx\r\nnonsense", headers={"content-type": "multipart/form-data; boundary=xx"}
        )
        assert garbled.status_code == 400
        no_files = client.post(
            "/api/v1/uploads",
            headers={"content-type": "multipart/form-data; boundary=b"},
            content=b'--b\r\nContent-Disposition: form-data; name="project_id"\r\n\r\n1\r\n--b--\r\n',
        )
        assert no_files.status_code == 400 and "no file" in no_files.json()["error"]["message"]


def test_media_is_cached_by_content_hash_and_ranges_work(live, tmp_path):
    client = live.client(live.token("read"))
    (picture_id,) = make_pictures(live.library, tmp_path / "p", 1)
    video = live.library.import_paths([mp4(tmp_path / "v.mp4")]).imported[0].picture_id
    content_hash = client.get(f"/api/v1/pictures/{picture_id}").json()["content_hash"]
    grid = client.get(f"/api/v1/media/{content_hash}/grid.webp")
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/webp"
    assert "immutable" in grid.headers["cache-control"]
    again = client.get(f"/api/v1/media/{content_hash}/grid.webp", headers={"If-None-Match": grid.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    video_hash = live.library.get(video).content_hash
    full = client.get(f"/api/v1/media/{video_hash}/original")
    assert full.headers["content-type"] == "video/mp4" and full.headers["accept-ranges"] == "bytes"
    part = client.get(f"/api/v1/media/{video_hash}/original", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == full.content[100:200]
    assert client.get(f"/api/v1/media/{'0' * 64}/grid.webp").status_code == 404
    assert client.get(f"/api/v1/media/{content_hash}/huge.webp").status_code == 404


def test_events_stream_library_changes(live, tmp_path):
    token = live.token("read")
    received: list[dict] = []

    def listen() -> None:
        with live.client(token).stream("GET", "/api/v1/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if len(received) == 2:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    time.sleep(0.4)
    (picture_id,) = make_pictures(live.library, tmp_path / "e", 1)
    live.library.edits.set_fields([picture_id], rating=5)
    thread.join(10)
    assert [(e["kind"], e["picture_ids"]) for e in received] == [
        ("picture.added", [picture_id]),
        ("picture.changed", [picture_id]),
    ]


def test_patch_bulk_and_organise_over_http(live, tmp_path):
    client = live.client(live.token("write"))
    ids = make_pictures(live.library, tmp_path / "b", 4)
    patched = client.patch(
        f"/api/v1/pictures/{ids[0]}", json={"rating": 4, "caption": "a quiet harbour", "add_tags": ["boat", "sea"]}
    )
    assert patched.status_code == 200
    body = patched.json()
    assert body["rating"] == 4 and {t["name"] for t in body["tags"]} == {"boat", "sea"}
    assert body["captions"][0]["text"] == "a quiet harbour"
    bulk = client.post("/api/v1/pictures/bulk", json={"ids": ids[1:], "operation": {"action": "tag", "tags": ["sea"]}})
    assert bulk.json() == {"action": "tag", "count": 3}
    assert client.get("/api/v1/pictures/count", params={"tags": ["sea"]}).json()["count"] == 4
    by_filter = client.post(
        "/api/v1/pictures/bulk-by-filter",
        json={"filter": {"tags": ["boat"]}, "operation": {"action": "rate", "rating": 1}},
    )
    assert by_filter.json() == {"action": "rate", "count": 1}
    one = client.post("/api/v1/sets", json={"name": "one"}).json()
    two = client.post("/api/v1/sets", json={"name": "two"}).json()
    client.post(f"/api/v1/sets/{one['id']}/pictures", json={"ids": ids[:3]})
    client.post(f"/api/v1/sets/{two['id']}/pictures", json={"ids": ids[2:]})
    overlap = client.post(
        "/api/v1/set-operations", json={"collection_ids": [one["id"], two["id"]], "op": "overlap"}
    ).json()
    assert overlap["picture_ids"] == [ids[2]]
    listed = client.get(
        "/api/v1/pictures",
        params={
            "collections": [one["id"], two["id"]],
            "collection_op": "unique",
            "sort": "pixels",
            "descending": "false",
        },
    ).json()
    expected = sorted([ids[0], ids[1], ids[3]], key=lambda i: live.library.get(i).width)  # pixels, ascending
    assert [p["id"] for p in listed["items"]] == expected
    assert client.delete(f"/api/v1/pictures/{ids[3]}").json() == {"ids": [ids[3]]}
    assert [p["id"] for p in client.get("/api/v1/scrapheap").json()["items"]] == [ids[3]]
    assert client.post("/api/v1/scrapheap/restore", json={"ids": [ids[3]]}).json() == {"ids": [ids[3]]}
    crumbs = client.get("/api/v1/breadcrumbs", params={"collection": one["id"]}).json()
    assert [c["name"] for c in crumbs] == ["Library", "one"]


def test_openapi_lists_every_route(live):
    doc = live.client().get("/api/v1/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    declared = {(e.method, e.openapi_path) for e in live.app.state.api.endpoints}
    assert documented == declared
    docs = live.client().get("/api/v1/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text and "https://" not in docs.text  # offline


def _unbounded_integers(info: msgspec.inspect.Type, where: str = "", seen: frozenset = frozenset()) -> list[str]:
    """The integers in a request type with no lower or no upper bound (a seed past 64 bits, whose maximum
    only its JSON schema can state, counts as bounded)."""
    if isinstance(info, msgspec.inspect.Metadata):
        if isinstance(info.type, msgspec.inspect.IntType) and "maximum" in (info.extra_json_schema or {}):
            return []
        return _unbounded_integers(info.type, where, seen)
    if isinstance(info, msgspec.inspect.IntType):
        lower, upper = (info.ge, info.gt) != (None, None), (info.le, info.lt) != (None, None)
        return [] if lower and upper else [where]
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return []
        return [
            found
            for field in info.fields
            for found in _unbounded_integers(field.type, f"{info.cls.__qualname__}.{field.name}", seen | {info.cls})
        ]
    members = getattr(info, "types", None) or getattr(info, "item_types", None) or ()
    if isinstance(info, msgspec.inspect.DictType):
        members = (info.key_type, info.value_type)
    elif hasattr(info, "item_type"):  # list, set, frozenset, tuple[x, ...]
        members = (info.item_type,)
    return [found for member in members for found in _unbounded_integers(member, where, seen)]


def test_every_integer_a_request_carries_is_bounded_as_documented(live):
    """The OpenAPI document says every integer is SQLite's 64 bits unless its type says less; only a bound in
    the type makes that true (an id of 2**63 in a snapshot restore's body was accepted: schemathesis)."""
    unbounded = {
        f"{e.method} {e.openapi_path}: {where}"
        for e in live.app.state.api.endpoints  # with the routes installed plugins add
        for parsed in (e.query, e.body)
        if parsed is not None
        for where in _unbounded_integers(msgspec.inspect.type_info(parsed))
    }
    assert unbounded == set()
    client = live.client(live.token("admin"))
    snapshot = client.post("/api/v1/snapshots", json={"label": "before"}).json()
    for id_ in (2**63, -1):
        answer = client.post(
            f"/api/v1/snapshots/{snapshot['id']}/restore/batch/preview",
            json={"resources": [{"type": "set", "id": id_}]},
        )
        assert answer.status_code == 422, answer.text
        assert "resources[0].id" in answer.json()["error"]["message"]


def test_a_routes_types_are_its_handlers_annotations():
    """Said once: the handler's ``query`` and ``body`` parameters and its return type are what the route
    parses, answers and documents (nothing returned: 204); a type its module cannot name is refused when
    the route is declared."""
    api = Api()

    @api.post("/things", policy=Policy.WRITE, tag="things", summary="Add pictures to a thing")
    def add(ctx, body: Ids) -> Collection: ...

    @api.delete("/things/{thing_id:int}", policy=Policy.WRITE, tag="things", summary="Delete a thing")
    def delete(ctx) -> None: ...

    @api.post("/things/{thing_id:int}/copies", policy=Policy.WRITE, status=201, tag="things", summary="Copy it")
    def copy(ctx) -> Collection: ...

    assert [(e.query, e.body, e.response, e.status) for e in api.endpoints] == [
        (None, Ids, Collection, 200),
        (None, None, None, 204),  # it returns nothing: No Content
        (None, None, Collection, 201),
    ]
    with pytest.raises(TypeError, match=r"Unknown.*must be importable from its module"):

        @api.get("/things", policy=Policy.READ, tag="things", summary="Things")
        def things(ctx, query: Unknown) -> list[Collection]: ...  # noqa: F821 - the point of the test


def _decode_layout(body: bytes) -> tuple[list[int], list[tuple[int, int]]]:
    """The packed layout: ids in order, then (first position, key) for each group."""
    import numpy as np

    count = int(np.frombuffer(body[:4], "<u4")[0])
    ids = np.frombuffer(body[4 : 4 + 4 * count], "<u4").tolist()
    at = 4 + 8 * count
    groups = int(np.frombuffer(body[at : at + 4], "<u4")[0])
    starts = np.frombuffer(body[at + 4 : at + 4 + 4 * groups], "<u4").tolist()
    keys = np.frombuffer(body[at + 4 + 4 * groups : at + 4 + 8 * groups], "<i4").tolist()
    assert len(body) == at + 4 + 8 * groups  # nothing after the groups
    return ids, list(zip(starts, keys, strict=True))


def test_layout_groups_pictures_by_the_viewer_s_local_day_or_by_rating(live, tmp_path):
    """Date headers in the grid come from the layout: each day (in the viewer's time zone) where it begins."""
    ids = make_pictures(live.library, tmp_path / "days", 6)
    day = 86_400_000
    # 23:30 UTC on 1 March, 00:30 UTC on 2 March (twice), 12:00 on 5 March, 2024: two days apart in UTC,
    # but in UTC+2 the first three are all 2 March.
    base = 1_709_251_200_000  # 2024-03-01 00:00 UTC
    times = [
        base + 23 * 3_600_000 + 1_800_000,
        base + day + 1_800_000,
        base + day + 1_800_000 + 1,
        base + 4 * day + 43_200_000,
    ]
    for picture_id, taken in zip(ids, times, strict=False):
        live.library.edits.set_fields([picture_id], taken_at=taken)
    live.library.edits.set_fields(ids[4:], taken_at=base - 30 * day)  # the two left: a month earlier
    live.library.edits.set_fields(ids[:2], rating=5)
    client = live.client(live.token("read"))

    def layout(**params):
        response = client.get("/api/v1/pictures/layout", params=params)
        assert response.status_code == 200, response.text
        return _decode_layout(response.content)

    order, groups = layout(groups="day", descending=False)
    first_day = (base - 30 * day) // day
    assert groups == [(0, first_day), (2, base // day), (3, base // day + 1), (5, base // day + 4)]
    assert order[2] == ids[0] and order[5] == ids[3]
    _, groups = layout(groups="day", descending=False, utc_offset=120)  # the viewer is at UTC+2
    assert groups == [(0, first_day), (2, base // day + 1), (5, base // day + 4)]
    _, groups = layout(groups="day", utc_offset=-300)  # newest first, at UTC-5: 2 March 00:30 is 1 March
    assert groups == [(0, base // day + 4), (1, base // day), (4, first_day - 1)]
    _, groups = layout(groups="rating", sort="rating")
    assert groups == [(0, 5), (2, 0)]
    assert layout(groups="day", sort="file_size")[1] == []  # a size order has no days
    assert layout(groups="rating")[1] == []  # nor a date order ratings
    assert layout()[1] == []
    for bad in ({"groups": "week"}, {"utc_offset": 900}, {"utc_offset": "east"}):
        response = client.get("/api/v1/pictures/layout", params={"groups": "day", **bad})
        assert response.status_code == 422, bad  # refused, as every malformed query is


def test_an_upload_is_dated_by_its_own_date_then_the_browser_s_file_time_then_the_upload(live, tmp_path):
    """A render carries no EXIF date: it is dated by the file time its browser sends, and says so; a
    picture with a date of its own keeps it; a file sent with no time is dated by its upload."""
    from PIL import PngImagePlugin

    client = live.client(live.token("write"))
    three_years_ago = 1_700_000_000_000
    info = PngImagePlugin.PngInfo()
    info.add_text("Creation Time", "Sat, 01 Jun 2024 10:30:00 +0000")
    dated = io.BytesIO()
    photo(64, 48, seed=21).save(dated, "PNG", pnginfo=info)
    started = int(time.time() * 1000)
    files = [
        ("file", ("render.png", png_bytes(20), "image/png")),
        ("file", ("created.png", dated.getvalue(), "image/png")),
        ("file", ("no-time.png", png_bytes(22), "image/png")),
    ]
    sent = f"{three_years_ago},{three_years_ago},"
    report = client.post("/api/v1/uploads", files=files, data={"last_modified": sent}).json()
    by_name = {i["path"]: client.get(f"/api/v1/pictures/{i['picture_id']}").json() for i in report["imported"]}
    assert (by_name["render.png"]["taken_at"], by_name["render.png"]["taken_from"]) == (three_years_ago, "file")
    assert (by_name["created.png"]["taken_at"], by_name["created.png"]["taken_from"]) == (1717237800000, "embedded")
    assert by_name["no-time.png"]["taken_from"] == "import" and by_name["no-time.png"]["taken_at"] >= started
    # A date from the future is not believed; a date a person sets is theirs.
    future = client.post(
        "/api/v1/uploads",
        files=[("file", ("future.png", png_bytes(23), "image/png"))],
        data={"last_modified": str(int(time.time() * 1000) + 10 * 86_400_000)},
    ).json()["imported"][0]["picture_id"]
    assert client.get(f"/api/v1/pictures/{future}").json()["taken_from"] == "import"
    render = report["imported"][0]["picture_id"]
    client.patch(f"/api/v1/pictures/{render}", json={"taken_at": three_years_ago - 1000}).raise_for_status()
    assert client.get(f"/api/v1/pictures/{render}").json()["taken_from"] == "hand"
    bad = client.post("/api/v1/uploads", files=files[:1], data={"last_modified": "yesterday"})
    assert bad.status_code == 400 and "last_modified" in bad.text


def test_a_zip_uploaded_as_a_browser_sends_it_imports_its_pictures(live, tmp_path):
    """The browser's dialog offers zips: the server opens one as the command line does, with its limits."""
    import zipfile

    client = live.client(live.token("write"))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("shoot/a.png", png_bytes(41))
        zf.writestr("shoot/b.png", png_bytes(42))
        zf.writestr("notes.pdf", "not a picture")
        zf.writestr("../escape.png", png_bytes(43))
    files = [
        ("file", ("shoot.zip", archive.getvalue(), "application/zip")),
        ("file", ("c.png", png_bytes(44), "image/png")),
    ]
    report = client.post("/api/v1/uploads", files=files).json()
    assert sorted(i["path"] for i in report["imported"]) == [
        "c.png",
        "shoot.zip!/shoot/a.png",
        "shoot.zip!/shoot/b.png",
    ]
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "shoot.zip!/notes.pdf": "not a picture or video (extension .pdf)",
        "shoot.zip!/../escape.png": "unsafe path in archive: '../escape.png'",
    }
    names = {live.library.get(i["picture_id"]).original_name for i in report["imported"]}
    assert names == {"a.png", "b.png", "c.png"}
    assert list(live.library.tmp.iterdir()) == []  # the archive and its pictures' copies are gone
    broken = client.post(
        "/api/v1/uploads", files=[("file", ("broken.zip", b"PK\x03\x04 not really", "application/zip"))]
    )
    assert broken.status_code == 200 and broken.json()["skipped"][0]["reason"].startswith("unreadable zip archive")


def test_grid_summaries_carry_a_name_and_a_video_s_length(live, tmp_path):
    client = live.client(live.token("write"))
    clip = mp4(tmp_path / "clip.mp4", frames=36, fps=12)
    files = [
        ("file", ("clip.mp4", clip.read_bytes(), "video/mp4")),
        ("file", ("still.png", png_bytes(51), "image/png")),
    ]
    client.post("/api/v1/uploads", files=files).raise_for_status()
    items = {p["original_name"]: p for p in client.get("/api/v1/pictures").json()["items"]}
    assert set(items) == {"clip.mp4", "still.png"}
    assert abs(items["clip.mp4"]["duration"] - 3.0) < 0.2 and items["still.png"]["duration"] is None
