"""The library through real HTTP: uploads with limits, media with caching and ranges, live events, bulk edits."""

from __future__ import annotations

import io
import json
import threading
import time

from corpus import bad_corpus, mp4, photo
from live_server import LiveServer, make_pictures

from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings


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
    live.library.update_pictures([picture_id], rating=5)
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
