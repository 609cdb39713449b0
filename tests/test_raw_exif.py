"""Camera and date from RAW files whose EXIF is not a plain TIFF at their start, built byte for byte as
the cameras write them: Panasonic RW2 (``IIU``), Olympus ORF (``IIRO``, ``MMOR``), Fujifilm RAF (a JPEG
whose place its header gives) and Canon CR3 (CMT1 and CMT2 boxes in ISO base media). They used to import
without camera or date when their preview was too small to carry EXIF."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from pixlstash.media.raw import file_exif

DATE = "2024:05:01 10:20:30"


def _exif(make: str, model: str, byte_order: str = "<") -> Image.Exif:
    exif = Image.Exif()
    exif.endian = byte_order
    exif[0x010F], exif[0x0110] = make, model  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = DATE  # DateTimeOriginal
    return exif


def _tiff(exif: Image.Exif) -> bytes:
    return exif.tobytes()[6:]  # without "Exif\\0\\0"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


@pytest.mark.parametrize(
    ("suffix", "magic", "order"),
    [(".rw2", b"IIU\x00", "<"), (".orf", b"IIRO", "<"), (".orf", b"MMOR", ">")],
)
def test_tiff_structures_with_a_makers_magic_number(tmp_path, suffix, magic, order):
    path = tmp_path / f"photo{suffix}"
    path.write_bytes(magic + _tiff(_exif("Panasonic", "DC-G9", order))[4:])
    info = file_exif(path)
    assert info.camera == "Panasonic DC-G9" and info.taken_at_ms is not None


def test_a_raf_s_embedded_jpeg(tmp_path):
    preview = io.BytesIO()
    Image.new("RGB", (160, 120), (90, 90, 90)).save(preview, "JPEG", exif=_exif("FUJIFILM", "X-T5").tobytes())
    jpeg = preview.getvalue()
    header = b"FUJIFILMCCD-RAW 0201FF383501".ljust(84, b"\x00") + struct.pack(">II", 100, len(jpeg))
    path = tmp_path / "photo.raf"
    path.write_bytes(header.ljust(100, b"\x00") + jpeg)
    info = file_exif(path)
    assert info.camera == "FUJIFILM X-T5" and info.taken_at_ms is not None
    # An offset past the file's end is no EXIF, not an error.
    path.write_bytes(header[:84] + struct.pack(">II", 10**9, 10) + b"\x00" * 8)
    assert file_exif(path).camera is None


def test_a_cr3_s_metadata_boxes(tmp_path):
    main = Image.Exif()
    main[0x010F], main[0x0110] = "Canon", "EOS R5"
    sub = Image.Exif()
    sub[0x9003] = DATE  # CMT2 is the EXIF IFD written as a TIFF of its own
    canon = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
    uuid = _box(b"uuid", canon + _box(b"CMT1", _tiff(main)) + _box(b"CMT2", _tiff(sub)))
    path = tmp_path / "photo.cr3"
    path.write_bytes(_box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + _box(b"moov", uuid))
    info = file_exif(path)
    assert info.camera == "Canon EOS R5" and info.taken_at_ms is not None
    # A box that claims to be longer than the file ends the reading quietly.
    path.write_bytes(_box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + struct.pack(">I4s", 10**6, b"moov"))
    assert file_exif(path).camera is None
