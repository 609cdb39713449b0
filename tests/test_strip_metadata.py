"""Originals for share recipients without metadata: EXIF (GPS, camera), XMP and PNG text chunks (the
ComfyUI graph) are left out, the image data is untouched, and the orientation stays."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from corpus import comfyui_png, jpeg_with_exif, photo
from PIL import Image, ImageOps

from pixlstash.media.strip import without_metadata


def _pixels(data: bytes | Path) -> bytes:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
        return ImageOps.exif_transpose(image).convert("RGB").tobytes()


def test_png_text_chunks_go_and_the_pixels_stay(tmp_path):
    source = comfyui_png(tmp_path / "render.png")
    with Image.open(source) as image:
        assert {"prompt", "workflow"} <= set(image.info)  # what a share would have given away
    stripped = without_metadata(source, ".png")
    with Image.open(io.BytesIO(stripped)) as image:
        assert not {"prompt", "workflow"} & set(image.info)
    assert _pixels(stripped) == _pixels(source)


def test_jpeg_exif_goes_but_its_orientation_stays(tmp_path):
    source = jpeg_with_exif(tmp_path / "phone.jpg", orientation=6)
    gps = Image.open(source)
    exif = gps.getexif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0)}  # GPS, as a phone writes it
    gps.save(tmp_path / "gps.jpg", exif=exif, quality=90)
    stripped = without_metadata(tmp_path / "gps.jpg", ".jpg")
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {0x0112: 6}  # the orientation alone: no camera, date or GPS
        assert image.size == (400, 300)
    assert _pixels(stripped) == _pixels(tmp_path / "gps.jpg")  # upright in both, the same pixels
    upright = jpeg_with_exif(tmp_path / "upright.jpg", orientation=1)
    with Image.open(io.BytesIO(without_metadata(upright, ".jpg"))) as image:
        assert dict(image.getexif()) == {}


def test_webp_exif_and_xmp_go(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = 3
    photo(120, 80, seed=4).save(tmp_path / "a.webp", lossless=True, exif=exif, xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    stripped = without_metadata(tmp_path / "a.webp", ".webp")
    assert b"secret" not in stripped and b"Canon" not in stripped
    with Image.open(io.BytesIO(stripped)) as image:
        assert dict(image.getexif()) == {0x0112: 3}
    assert _pixels(stripped) == _pixels(tmp_path / "a.webp")


@pytest.mark.parametrize("suffix", [".gif", ".tiff", ".mp4"])
def test_formats_it_cannot_strip_say_so(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(b"GIF89a" if suffix == ".gif" else b"\x00" * 64)
    assert without_metadata(path, suffix) is None
    (tmp_path / "fake.png").write_bytes(b"not a png")
    assert without_metadata(tmp_path / "fake.png", ".png") is None
