"""Hostile requests get a clear 4xx in the common error shape, never a 500: deep JSON, NUL in full-text
queries, control characters in names; and hostile files are refused as the bad input they are."""

from __future__ import annotations

import logging
import zlib

import pytest
from corpus import photo
from live_server import make_pictures
from PIL import Image

from pixlstash.errors import BadInput, TooLarge
from pixlstash.media.analyse import MediaLimits, open_image
from pixlstash.sharing.service import ShareOptions

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def share_path(live, tmp_path):
    ids = make_pictures(live.library, tmp_path / "p", 2)
    _, secret = live.state.shares.create("pictures", picture_ids=ids)
    return f"/api/v1/shared/{secret}"


def _is_error(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_deeply_nested_json_is_a_400_everywhere(live, share_path):
    anon, admin = live.client(), live.client(live.token("admin"))
    headers = {"Content-Type": "application/json"}
    _is_error(anon.post(f"{share_path}/search/similar", content=DEEP, headers=headers), 400)
    for path in ("/api/v1/pictures/bulk", "/api/v1/projects", "/api/v1/shares", "/api/v1/jobs"):
        _is_error(admin.post(path, content=DEEP, headers=headers), 400)
    # Nested just under the decoder's limit: still a clear answer, never a 500.
    almost = b"[" * 950 + b"]" * 950
    assert admin.post("/api/v1/projects", content=almost, headers=headers).status_code in (400, 422)


def test_nul_and_control_characters_in_full_text_queries_are_only_separators(live, share_path):
    admin = live.client(live.token("read"))
    routes = [
        "/api/v1/pictures",
        "/api/v1/pictures/count",
        "/api/v1/pictures/stats",
        "/api/v1/pictures/layout",
        "/api/v1/scrapheap",
    ]
    for path in routes:
        for text in ("a\x00b", "\x00", "\x1b[31m", '"*', "NEAR(a b)", "a OR b", "\ufeff"):
            response = admin.get(path, params={"text": text})
            assert response.status_code in (200, 400), (path, text, response.text)
    # A share without metadata refuses text search outright; one with metadata searches what it shows, and
    # there too the control characters only separate words.
    _is_error(live.client().get(f"{share_path}/pictures", params={"text": "a\x00b"}), 400)
    ids = [p.id for p in live.library.page().items]
    _, open_secret = live.state.shares.create("pictures", picture_ids=ids, options=ShareOptions(include_metadata=True))
    live.library.edits.caption(live.library.page().items[0].id, "lighthouse at dusk")
    found = admin.get("/api/v1/pictures/count", params={"text": "light\x00dusk"}).json()["count"]
    assert found == 1  # the NUL split the words, both are searched for
    for text in ("a\x00b", "\x00", "\x1b[31m", '"*', "NEAR(a b)", "a OR b", "\ufeff", "100%_"):
        answer = live.client().get(f"/api/v1/shared/{open_secret}/pictures/count", params={"text": text})
        assert answer.status_code in (200, 400), (text, answer.text)
    shared = live.client().get(f"/api/v1/shared/{open_secret}/pictures/count", params={"text": "light\x00dusk"})
    assert shared.json()["count"] == 1


def test_names_with_control_characters_are_refused(live, library, tmp_path):
    admin = live.client(live.token("admin"))
    (picture_id,) = make_pictures(library, tmp_path / "p", 1)
    for name in ("\x00", "cat\x00", "bad\x1b[31m", "tab\x07bell"):
        with pytest.raises(BadInput, match="control characters"):
            library.tags.ensure(name)
        _is_error(admin.post("/api/v1/projects", json={"name": name}), 400)
        tag = {"ids": [picture_id], "operation": {"action": "tag", "tags": [name]}}
        _is_error(admin.post("/api/v1/pictures/bulk", json=tag), 400)
    assert admin.get("/api/v1/tags").json() == [] and admin.get("/api/v1/projects").json() == []


def test_one_pixel_limit_and_a_text_bomb_refused_as_bad_input(tmp_path, caplog, library):
    # Pillow warns at half its error threshold; that warning used to be our real limit (89.5 Mpx).
    big = tmp_path / "big.png"
    Image.new("1", (9600, 9600)).save(big)  # 92 Mpx, tiny on disk
    with open_image(big, MediaLimits()) as image:
        assert image.size == (9600, 9600)
    with pytest.raises(TooLarge, match="pixel limit"):
        open_image(big, MediaLimits(max_pixels=50_000_000))
    # A zTXt chunk that inflates past Pillow's text limit: refused and logged as bad input, no traceback.
    bomb = tmp_path / "ztxt.png"
    photo(64, 64).save(bomb)
    data = bomb.read_bytes()
    payload = b"Comment\x00\x00" + zlib.compress(b"a" * (64 << 20), 9)
    chunk = len(payload).to_bytes(4, "big") + b"zTXt" + payload
    chunk += zlib.crc32(b"zTXt" + payload).to_bytes(4, "big")
    bomb.write_bytes(data[:33] + chunk + data[33:])  # right after IHDR
    with caplog.at_level(logging.INFO):
        report = library.import_paths([bomb])
    assert report.imported == [] and "decompression bomb" in report.skipped[0].reason
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
