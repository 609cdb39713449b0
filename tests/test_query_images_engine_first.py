"""A search by image on a library that has no engine able to read images answers at once, before the
uploaded image is decoded: a huge picture costs the server nothing when the search can only fail."""

from __future__ import annotations

import struct
import zlib


def _huge_png_header() -> bytes:
    """A PNG that says it is 13,000 x 13,000 (under the pixel limit) and whose pixels are cut short: decoding
    it would take seconds and fail; a server that checks the engine first never tries."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 13_000, 13_000, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 100_000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_no_engine_answers_before_any_decoding(live):
    reader = live.client(live.token("read"))
    image = ("huge.png", _huge_png_header(), "image/png")
    for mode in ("picture_likeness", "face_search"):
        answer = reader.post("/api/v1/search/likeness", data={"mode": mode}, files=[("file", image)])
        # 404 (no such engine), never 400 (the image was decoded and found cut short)
        assert answer.status_code == 404, answer.text
        assert "engine" in answer.json()["error"]["message"]
    answer = reader.post("/api/v1/search/similar/upload", files=[("file", image)])
    assert answer.status_code == 404, answer.text
