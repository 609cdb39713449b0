"""Damaged images are refused with their reason, never stored; previews wait for their first view."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import library_snapshot
from corpus import photo
from PIL import Image


def _chunks(png: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, length, type) of each chunk."""
    found, pos = [], 8
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        found.append((pos, length, kind))
        pos += 12 + length
    return found


def _with_chunk_data(png: bytes, offset: int, length: int, data: bytes, *, fix_crc: bool) -> bytes:
    kind = png[offset + 4 : offset + 8]
    crc = zlib.crc32(data, zlib.crc32(kind)) if fix_crc else struct.unpack(">I", png[offset + 8 + length :][:4])[0]
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
    return png[:offset] + chunk + png[offset + 12 + length :]


def damaged_pngs(folder: Path) -> dict[str, bytes]:
    buffer = io.BytesIO()
    photo(640, 480, seed=4).save(buffer, "PNG")
    png = buffer.getvalue()
    idats = [(pos, length) for pos, length, kind in _chunks(png) if kind == b"IDAT"]
    assert len(idats) > 2
    pos, length = idats[1]
    data = png[pos + 8 : pos + 8 + length]
    garbled = data[:100] + bytes(200) + data[300:]
    cases = {f"cut-{int(f * 100)}.png": png[: int(len(png) * f)] for f in (0.05, 0.3, 0.6, 0.95)}
    cases["no-iend.png"] = png[:-12]
    cases["idat-crc.png"] = _with_chunk_data(png, pos, length, garbled, fix_crc=False)
    # The checksum matches, the deflate stream inside does not: the decoder must say so.
    cases["bad-idat.png"] = _with_chunk_data(png, pos, length, garbled, fix_crc=True)
    cases["bad-deflate.png"] = _with_chunk_data(png, idats[0][0], idats[0][1], b"\xff" * 64, fix_crc=True)
    text_offset = png.index(b"IDAT") - 4
    text = struct.pack(">I", 5) + b"tEXtab\x00cd" + struct.pack(">I", zlib.crc32(b"tEXtab\x00cd") ^ 1)
    cases["text-crc.png"] = png[:text_offset] + text + png[text_offset:]
    for name, payload in cases.items():
        (folder / name).write_bytes(payload)
    buffer = io.BytesIO()
    photo(640, 480, seed=5).save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    for fraction in (0.2, 0.7, 0.98):
        name = f"cut-{int(fraction * 100)}.jpg"
        cases[name] = jpeg[: int(len(jpeg) * fraction)]
        (folder / name).write_bytes(cases[name])
    return cases


@pytest.fixture(params=["pillow", "vips"])
def decoder(request, monkeypatch):
    """Each test below runs on both PNG paths: Pillow, and libvips where it is installed."""
    from pixlstash.media.vips import vips_available

    if request.param == "pillow":
        monkeypatch.setenv("PIXLSTASH_NO_VIPS", "1")
    elif not vips_available():
        pytest.skip("pyvips is not installed")
    return request.param


def test_damaged_images_are_refused_with_their_reason_and_nothing_stored_changes(library, tmp_path, decoder):
    good = tmp_path / "good"
    good.mkdir()
    photo(320, 240, seed=1).save(good / "fine.png")
    first = library.import_paths([good])
    assert len(first.imported) == 1
    before = library_snapshot(library)

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    cases = damaged_pngs(damaged)
    report = library.import_paths([damaged])

    assert report.imported == [] and report.duplicates == []
    reasons = {Path(skip.path).name: skip.reason for skip in report.skipped}
    assert set(reasons) == set(cases)
    for name, reason in reasons.items():
        assert "corrupt" in reason or "truncated" in reason, (name, reason)
    assert "checksum" in reasons["idat-crc.png"] and "IDAT" in reasons["idat-crc.png"]
    assert "checksum" in reasons["text-crc.png"] and "tEXt" in reasons["text-crc.png"]
    assert "IEND" in reasons["no-iend.png"]
    assert library_snapshot(library) == before
    thumbnails = [p for p in (library.root / "thumbnails").rglob("*.webp")]
    assert len(thumbnails) == 1  # the good picture's grid thumbnail, nothing from the refused files


def test_the_integrity_check_accepts_every_png_pillow_writes(tmp_path):
    from pixlstash.media.integrity import check_png

    for mode in ("RGB", "RGBA", "L", "P", "1", "I;16"):
        path = tmp_path / f"{mode.replace(';', '')}.png"
        Image.new(mode, (33, 17)).save(path, optimize=mode == "P")
        check_png(path)
    animated = tmp_path / "animated.png"
    frames = [photo(40, 30, seed=n) for n in range(3)]
    frames[0].save(animated, save_all=True, append_images=frames[1:], duration=100)
    check_png(animated)


def test_previews_are_made_on_first_view_not_at_import(library, tmp_path, decoder):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(2400, 1600, seed=7).save(folder / "big.jpg", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the preview must come out upright (tall)
    photo(1600, 1200, seed=8).save(folder / "rotated.jpg", quality=90, exif=exif)
    photo(1500, 1000, seed=9).save(folder / "flat.png")
    report = library.import_paths([folder])
    assert len(report.imported) == 3
    ids = {Path(p.path).name: p.picture_id for p in report.imported}
    sizes = {name: (library.get(i).width, library.get(i).height) for name, i in ids.items()}
    assert sizes == {"big.jpg": (2400, 1600), "rotated.jpg": (1200, 1600), "flat.png": (1500, 1000)}
    files = sorted(p.name for p in (library.root / "thumbnails").rglob("*.webp"))
    assert len(files) == 3 and all(".grid." in name for name in files)

    for name, expected in (("big.jpg", (1024, 683)), ("rotated.jpg", (768, 1024)), ("flat.png", (1024, 683))):
        assert not library.files.has_thumbnail(ids[name], "preview")
        path = library.files.thumbnail_path(ids[name], "preview")
        with Image.open(path) as preview:
            assert preview.format == "WEBP" and preview.size == expected, name
        with Image.open(library.files.thumbnail_path(ids[name], "grid")) as grid:
            assert max(grid.size) == 384 and (grid.width > grid.height) == (expected[0] > expected[1])
        assert library.files.has_thumbnail(ids[name], "preview")


@pytest.mark.parametrize("size", ["grid", "preview"])
def test_a_thumbnail_removed_from_disk_is_made_again(library, tmp_path, size):
    path = tmp_path / "p.jpg"
    photo(1800, 1200, seed=3).save(path, quality=90)
    picture_id = library.import_paths([path]).imported[0].picture_id
    made = library.files.thumbnail_path(picture_id, size)
    first = made.read_bytes()
    made.unlink()
    assert library.files.thumbnail_path(picture_id, size).read_bytes() == first


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16"])
def test_libvips_and_pillow_make_the_same_grid_thumbnail(tmp_path, monkeypatch, mode):
    from pixlstash.media.analyse import analyse_file
    from pixlstash.media.hashing import hamming
    from pixlstash.media.vips import vips_available

    if not vips_available():
        pytest.skip("pyvips is not installed")
    path = tmp_path / "p.png"
    source = photo(1500, 1000, seed=11)
    if mode == "I;16":
        source = Image.fromarray(np.asarray(source.convert("L"), dtype=np.uint16) * 200)
    elif mode == "P":
        source = source.quantize(64)
    else:
        source = source.convert(mode)
    exif = Image.Exif()
    exif[0x0112] = 8  # turned: both paths must stand it up the same way
    source.save(path, exif=exif)
    by_vips = analyse_file(path)
    monkeypatch.setenv("PIXLSTASH_NO_VIPS", "1")
    by_pillow = analyse_file(path)
    assert (by_vips.width, by_vips.height, by_vips.orientation) == (by_pillow.width, by_pillow.height, 8)
    with Image.open(io.BytesIO(by_vips.grid_thumbnail)) as a, Image.open(io.BytesIO(by_pillow.grid_thumbnail)) as b:
        assert a.size == b.size == (256, 384)
        difference = np.abs(np.asarray(a.convert("RGB"), dtype=int) - np.asarray(b.convert("RGB"), dtype=int))
        if mode != "I;16":  # 16-bit grey is scaled to 8 bits differently (by its maximum, by 256): same picture
            assert difference.mean() < 12, difference.mean()
    assert hamming(by_vips.phash, by_pillow.phash) <= 8


def _import_pictures(library, folder: Path, count: int) -> list[int]:
    folder.mkdir()
    for n in range(count):
        photo(1400, 900, seed=40 + n).save(folder / f"{n}.jpg", quality=85)
    return sorted(p.picture_id for p in library.import_paths([folder]).imported)


def test_the_preview_pass_makes_missing_previews_newest_first_and_stops_when_asked(library, tmp_path):
    ids = _import_pictures(library, tmp_path / "in", 6)
    library.files.thumbnail_path(ids[-1], "preview")  # viewed already: not made again
    assert library.previews.run(limit=2) == 2
    assert [library.files.has_thumbnail(i, "preview") for i in ids] == [False, False, False, True, True, True]
    calls = []
    assert library.previews.run(lambda: calls.append(1) or len(calls) > 1) == 1  # stopped before its second
    assert library.previews.run() == 2
    assert all(library.files.has_thumbnail(i, "preview") for i in ids)
    assert library.previews.run() == 0


def test_the_idle_pass_runs_only_when_turned_on_and_nothing_else_runs(library, tmp_path):
    from pixlstash.domain import PreviewSettings

    ids = _import_pictures(library, tmp_path / "in", 3)
    assert library.previews.run_when_idle() == 0  # off by default: the disk stays small
    library.previews.configure(PreviewSettings(ahead=True))
    with library.imports_running:  # an import is running: the pass waits
        assert library.busy() and library.previews.run_when_idle() == 0
    assert library.previews.run_when_idle() == 3
    assert all(library.files.has_thumbnail(i, "preview") for i in ids)
    progress = library.previews.progress()
    assert progress.settings.ahead and progress.made == 3 and not progress.running


def test_previews_from_the_cli_and_the_api(library, tmp_path):
    from conftest import run_cli
    from live_server import LiveServer

    ids = _import_pictures(library, tmp_path / "in", 3)
    root = str(library.root)
    assert "made on first view" in run_cli("previews", "--library", root).stdout
    assert run_cli("previews", "make", "--limit", "1", "--library", root).stdout.strip() == "made 1 preview"
    assert run_cli("previews", "ahead", "on", "--library", root).stdout.startswith("previews are made on first view,")
    with LiveServer(library) as server:
        assert server.client(server.token("read")).get("/api/v1/previews").json()["settings"] == {"ahead": True}
        write = server.client(server.token("write"))
        assert write.put("/api/v1/previews/settings", json={"ahead": False}).status_code == 403
        admin = server.client(server.token("admin"))
        assert admin.put("/api/v1/previews/settings", json={"ahead": "yes"}).status_code == 422
        answer = admin.put("/api/v1/previews/settings", json={"ahead": False})
        assert answer.status_code == 200 and answer.json()["settings"] == {"ahead": False}
    assert sum(library.files.has_thumbnail(i, "preview") for i in ids) == 1


def test_a_preview_of_an_original_damaged_since_import_is_refused_with_the_reason(library, tmp_path):
    from pixlstash.errors import UnsupportedMedia

    path = tmp_path / "p.jpg"
    photo(1600, 1200, seed=12).save(path, quality=90)
    picture_id = library.import_paths([path]).imported[0].picture_id
    original = library.files.original_path(picture_id)
    data = original.read_bytes()
    original.chmod(0o644)
    original.write_bytes(data[: len(data) // 2])  # the disk lost half of it
    with pytest.raises(UnsupportedMedia, match="cannot be decoded"):
        library.files.thumbnail_path(picture_id, "preview")
    assert not library.files.has_thumbnail(picture_id, "preview")
