"""Camera RAW (a DNG written here with PiDNG, as a camera lays one out: a Bayer mosaic, colour matrix,
orientation) and JPEG XL pictures import like any other: size, thumbnails upright, EXIF, and the
original never changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from corpus import photo
from PIL import Image

from pixlstash.domain import PictureFilter

pidng_core = pytest.importorskip("pidng.core")
pidng_defs = pytest.importorskip("pidng.defs")


def write_dng(path: Path, width: int = 640, height: int = 426, orientation: int = 6) -> Path:
    """A 12-bit RGGB mosaic: the left of the scene dark, the right bright, the rows of green darker."""
    Tag, defs = pidng_core.Tag, pidng_defs
    rows, cols = np.mgrid[0:height, 0:width]
    mosaic = (cols / width * 3000 + 500).astype(np.uint16)
    mosaic[rows % 2 == 1] = (mosaic[rows % 2 == 1] * 0.7).astype(np.uint16)
    tags = pidng_core.DNGTags()
    for tag, value in [
        (Tag.ImageWidth, width),
        (Tag.ImageLength, height),
        (Tag.TileWidth, width),
        (Tag.TileLength, height),
        (Tag.Orientation, orientation),
        (Tag.PhotometricInterpretation, defs.PhotometricInterpretation.Color_Filter_Array),
        (Tag.SamplesPerPixel, 1),
        (Tag.BitsPerSample, 12),
        (Tag.CFARepeatPatternDim, [2, 2]),
        (Tag.CFAPattern, defs.CFAPattern.RGGB),
        (Tag.BlackLevel, 0),
        (Tag.WhiteLevel, 4095),
        (Tag.ColorMatrix1, [[v, 10000] for v in (19549, -7877, -2582, -5724, 10121, 1917, -1267, -110, 6621)]),
        (Tag.CalibrationIlluminant1, defs.CalibrationIlluminant.D65),
        (Tag.AsShotNeutral, [[1, 1], [1, 1], [1, 1]]),
        (Tag.Make, "PixlStash"),
        (Tag.Model, "Test Camera"),
        (Tag.DNGVersion, defs.DNGVersion.V1_4),
        (Tag.DNGBackwardVersion, defs.DNGVersion.V1_2),
    ]:
        tags.set(tag, value)
    writer = pidng_core.RAW2DNG()
    writer.options(tags, path="", compress=False)
    writer.convert(mosaic, filename=str(path.with_suffix("")))
    return path


def test_a_raw_file_imports_upright_with_its_camera_and_is_never_changed(library, tmp_path):
    dng = write_dng(tmp_path / "IMG_0001.dng")
    before = hashlib.sha256(dng.read_bytes()).hexdigest()
    report = library.import_paths([dng])
    assert report.skipped == [] and len(report.imported) == 1
    picture = library.get(report.imported[0].picture_id)
    assert (picture.width, picture.height) == (426, 640)  # orientation 6: a portrait
    assert picture.mime == "image/x-adobe-dng" and picture.suffix == ".dng"
    assert picture.camera == "PixlStash Test Camera"
    for size in ("grid", "preview"):  # both made at import: no browser can draw a RAW file
        assert library.files.has_thumbnail(picture.id, size)
        with Image.open(library.thumbnail_path(picture.id, size)) as thumb:
            assert thumb.height > thumb.width, size  # upright
            pixels = np.asarray(thumb.convert("L"), dtype=float)
            # the scene's left (dark) is now at the top: rotated as the camera said
            assert pixels[: pixels.shape[0] // 4].mean() < pixels[-pixels.shape[0] // 4 :].mean(), size
    assert hashlib.sha256(dng.read_bytes()).hexdigest() == before
    stored = library.original_path(picture.id)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == before  # kept byte for byte
    assert library.files.pixels_path(picture.id).suffix == ".webp"  # engines and crops read the preview
    assert [p.id for p in library.page(PictureFilter(text="IMG_0001")).items] == [picture.id]


def test_a_damaged_raw_file_is_refused_with_its_reason(library, tmp_path):
    good = write_dng(tmp_path / "good.dng").read_bytes()
    (tmp_path / "cut.dng").write_bytes(good[:300])
    (tmp_path / "text.nef").write_bytes(b"not a raw file at all" * 50)
    report = library.import_paths([tmp_path / "cut.dng", tmp_path / "text.nef"])
    assert report.imported == []
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"cut.dng", "text.nef"}
    assert all("RAW" in reason for reason in reasons.values()), reasons


def test_jpeg_xl_imports(library, tmp_path):
    pytest.importorskip("pillow_jxl")
    path = tmp_path / "still.jxl"
    photo(300, 200, seed=4).save(path, "JXL", quality=90)
    [item] = library.import_paths([path]).imported
    picture = library.get(item.picture_id)
    assert (picture.width, picture.height, picture.mime, picture.suffix) == (300, 200, "image/jxl", ".jxl")
    with Image.open(library.thumbnail_path(picture.id, "preview")) as preview:
        assert preview.size == (300, 200)


def test_a_jpeg_xl_libjxl_rejects_is_said_in_a_users_words(library, tmp_path, caplog):
    """libjxl's "Generic Error. Please build libjxl from source ..." is no use to a user, nor a traceback."""
    pytest.importorskip("pillow_jxl")
    whole = tmp_path / "whole.jxl"
    photo(300, 200, seed=5).save(whole, "JXL", quality=90)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "header-only.jxl").write_bytes(whole.read_bytes()[:20])  # a codestream cut after its header
    (folder / "garbage.jxl").write_bytes(b"\xff\x0a" + bytes(range(256)) * 4)
    with caplog.at_level("ERROR"):
        report = library.import_paths([folder])
    assert report.imported == [] and len(report.skipped) == 2
    assert {s.reason for s in report.skipped} == {"corrupt or unsupported JPEG XL"}
    assert "Traceback" not in caplog.text and "unexpected error" not in caplog.text


def test_a_dng_without_image_data_is_refused_not_imported_black(library, tmp_path):
    path = write_dng(tmp_path / "empty.dng")
    data = bytearray(path.read_bytes())
    mosaic_bytes = 640 * 426 * 12 // 8  # uncompressed, at the end of the file
    data[-mosaic_bytes:] = bytes(mosaic_bytes)
    path.write_bytes(bytes(data))
    report = library.import_paths([path])
    assert report.imported == [] and [s.reason for s in report.skipped] == ["the RAW file holds no image data"]


def test_the_xmp_inside_a_raw_file_comes_in_and_a_sidecar_s_word_goes_over_it(library, tmp_path):
    """Lightroom writes a DNG's keywords and stars into the DNG itself (TIFF tag 700, written here by exiv2,
    the library digiKam writes with); Canon's CR3 keeps its XMP in a ``uuid`` box. A sidecar beside the
    file is read over it; a tag 700 that points past the file's end is no XMP, and the picture comes in."""
    import struct

    import pyexiv2

    dng = write_dng(tmp_path / "IMG_0002.dng")
    with pyexiv2.Image(str(dng)) as image:
        image.modify_xmp({"Xmp.dc.subject": ["harbour", "boat"], "Xmp.xmp.Rating": "4", "Xmp.xmp.Label": "Green"})
    placed = write_dng(tmp_path / "IMG_0003.dng")
    with pyexiv2.Image(str(placed)) as image:
        image.modify_xmp({"Xmp.dc.subject": ["quay"], "Xmp.xmp.Rating": "2"})
    (tmp_path / "IMG_0003.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>'
    )
    broken = write_dng(tmp_path / "IMG_0004.dng")
    data = bytearray(broken.read_bytes())
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd : ifd + 2])
    entry = ifd + 2 + count * 12  # a tag 700 after the others, pointing past the end
    data[ifd : ifd + 2] = struct.pack("<H", count + 1)
    data[entry:entry] = struct.pack("<HHII", 0x02BC, 7, 5000, len(data) + 10**6)
    broken.write_bytes(bytes(data))
    report = library.import_paths([dng, placed, broken])
    ids = {Path(i.path).name: i.picture_id for i in report.imported}
    assert sorted(t.name for t in library.get(ids["IMG_0002.dng"]).tags) == ["boat", "harbour", "label/green"]
    assert library.get(ids["IMG_0002.dng"]).rating == 4
    quay = library.get(ids["IMG_0003.dng"])
    assert [t.name for t in quay.tags] == ["quay"] and quay.rating == 5  # the sidecar's stars over the DNG's
    assert report.skipped == [] and library.get(ids["IMG_0004.dng"]).tags == []


def test_a_cr3_s_xmp_box_is_read(tmp_path):
    """Canon's CR3: the XMP in a top-level ``uuid`` box (be7acfcb-97a9-42e8-9c71-999491e3afac), after the
    moov box; a box that claims more than the file holds gives nothing."""
    import struct

    from pixlstash.media.raw import raw_info

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3"/></rdf:RDF></x:xmpmeta>'
    )
    xmp_uuid = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
    head = box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + box(b"moov", b"\x00" * 64)
    path = tmp_path / "photo.cr3"
    path.write_bytes(head + box(b"uuid", xmp_uuid + packet) + box(b"mdat", b"\x00" * 32))
    assert raw_info(path) == {"xmp": packet}
    path.write_bytes(head + struct.pack(">I4s", 10**6, b"uuid") + xmp_uuid + packet)
    assert raw_info(path) is None


def test_the_xmp_of_heic_and_jpeg_xl_pictures_comes_in(library, tmp_path):
    """HEIC's XMP item (pillow-heif hands it over) and a JPEG XL container's ``xml `` box (the JPEG XL plugin
    for Pillow keeps only the Exif box: read from the file), each written by its own library's encoder."""
    pytest.importorskip("pillow_heif")
    pytest.importorskip("pillow_jxl")
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4"><dc:subject><rdf:Bag><rdf:li>{}</rdf:li>'
        "</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    photo(96, 64, seed=1).save(tmp_path / "phone.heic", "HEIF", xmp=packet.format("heic").encode())
    photo(96, 64, seed=2).save(tmp_path / "render.jxl", "JXL", xmp=packet.format("jxl").encode())
    report = library.import_paths([tmp_path / "phone.heic", tmp_path / "render.jxl"])
    assert report.skipped == [] and all(i.notes == [] for i in report.imported), report
    for item in report.imported:
        picture = library.get(item.picture_id)
        assert ([t.name for t in picture.tags], picture.rating) == ([Path(item.path).suffix[1:]], 4), item.path
