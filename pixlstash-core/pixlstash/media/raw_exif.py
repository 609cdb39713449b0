"""Where a camera RAW file keeps its EXIF, read from its own bytes without any decoder:
- at its start, as a TIFF (CR2, NEF, ARW, DNG, PEF, SRW), or a TIFF with its maker's own magic number
  (Panasonic RW2 ``IIU``, Olympus ORF ``IIRO``/``IIRS``/``MMOR``);
- in the JPEG a Fujifilm RAF embeds (its header says where);
- in the CMT1 (main IFD) and CMT2 (EXIF IFD) boxes of a Canon CR3 (ISO base media file format).
And where it keeps the XMP Lightroom, Capture One or the camera wrote into it (``raw_xmp``): the TIFF's
tag 700 (wherever in the file its bytes are), or a CR3's XMP ``uuid`` box; the same reading finds a JPEG
XL container's ``xml `` box, which the JPEG XL plugin for Pillow does not hand over.
Each bound is checked: a file that lies about an offset yields no EXIF, never an error."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

from .exif import ExifInfo, read_exif

__all__ = ["raw_exif", "raw_xmp"]

_TIFF = (b"II*\x00", b"MM\x00*")
_MAKERS_TIFF = {b"IIU\x00": b"II*\x00", b"IIRO": b"II*\x00", b"IIRS": b"II*\x00", b"MMOR": b"MM\x00*"}
_RAF = b"FUJIFILMCCD-RAW"
_CR3_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")  # Canon's metadata box inside moov
_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # the XMP box of ISO base media files
_XMP_TAG = 0x02BC
_JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
_EXIF_IFD = 0x8769


class _Exif(dict):
    """The shape read_exif reads: main tags, and the EXIF IFD by ``get_ifd``."""

    def __init__(self, main: Image.Exif, sub: dict | None = None) -> None:
        super().__init__(main)
        self._main, self._sub = main, sub

    def get_ifd(self, tag: int) -> dict:
        if tag == _EXIF_IFD and self._sub is not None:
            return self._sub
        return self._main.get_ifd(tag)


class _Holder:
    def __init__(self, exif) -> None:
        self._exif = exif

    def getexif(self):
        return self._exif


def _tiff(data: bytes) -> Image.Exif | None:
    exif = Image.Exif()
    try:
        exif.load(data)
    except Exception:  # an odd structure must not fail an import
        return None
    return exif


def _boxes(data: bytes, start: int, end: int):
    """(type, payload start, payload end) of each ISO-BMFF box in data[start:end]."""
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1 and start + 16 <= end:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        if size < header or start + size > end:
            return
        yield kind, start + header, start + size
        start += size


def _cr3(head: bytes) -> ExifInfo:
    tiffs = {}
    for kind, begin, end in _boxes(head, 0, len(head)):
        if kind != b"moov":
            continue
        for inner, ibegin, iend in _boxes(head, begin, end):
            if inner == b"uuid" and head[ibegin : ibegin + 16] == _CR3_UUID:
                for name, cbegin, cend in _boxes(head, ibegin + 16, iend):
                    if name in (b"CMT1", b"CMT2"):
                        tiffs[name] = _tiff(head[cbegin:cend])
    main = tiffs.get(b"CMT1")
    if main is None:
        return ExifInfo()
    sub = tiffs.get(b"CMT2")
    return read_exif(_Holder(_Exif(main, dict(sub) if sub is not None else None)))  # type: ignore[arg-type]


def raw_exif(head: bytes) -> ExifInfo:
    """The EXIF of a RAW file from its first bytes (an empty ExifInfo when none is found there)."""
    if head[:4] in _MAKERS_TIFF:
        head = _MAKERS_TIFF[head[:4]] + head[4:]
    if head.startswith(_TIFF):
        exif = _tiff(head)
        return read_exif(_Holder(exif)) if exif is not None else ExifInfo()  # type: ignore[arg-type]
    if head.startswith(_RAF) and len(head) >= 92:
        offset, length = struct.unpack(">II", head[84:92])
        if offset >= 92 and offset + length <= len(head):
            try:
                return read_exif(Image.open(io.BytesIO(head[offset : offset + length])))
            except Exception:
                return ExifInfo()
        return ExifInfo()
    if head[4:12] == b"ftypcrx ":
        return _cr3(head)
    return ExifInfo()


def _tiff_xmp(file: io.BufferedReader, order: str, limit: int) -> bytes | None:
    """Tag 700 of a TIFF's first IFD, read from wherever its bytes are in the file."""
    file.seek(4)
    (ifd,) = struct.unpack(order + "I", file.read(4))
    file.seek(ifd)
    (count,) = struct.unpack(order + "H", file.read(2))
    for _ in range(min(count, 4096)):
        entry = file.read(12)
        if len(entry) < 12:
            return None
        tag, kind, length, offset = struct.unpack(order + "HHII", entry)
        if tag != _XMP_TAG:
            continue
        if kind not in (1, 7) or not 4 < length <= limit:  # BYTE or UNDEFINED, more than fits inline
            return None
        file.seek(offset)
        packet = file.read(length)
        return packet if len(packet) == length else None
    return None


def _bmff_xmp(file: io.BufferedReader, limit: int) -> bytes | None:
    """The top-level XMP box of an ISO base media file: a CR3's ``uuid`` one, a JPEG XL container's
    ``xml `` one."""
    start = 0
    for _ in range(64):  # a CR3 has a handful of top-level boxes
        file.seek(start)
        header = file.read(24)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header[:8])
        begin = 8
        if size == 1 and len(header) >= 16:
            size, begin = struct.unpack(">Q", header[8:16])[0], 16
        if size < begin:
            return None
        skip = 16 if kind == b"uuid" and header[begin : begin + 16] == _XMP_UUID else 0 if kind == b"xml " else -1
        if skip >= 0:
            length = size - begin - skip
            if not 0 < length <= limit:
                return None
            file.seek(start + begin + skip)
            packet = file.read(length)
            return packet if len(packet) == length else None
        start += size
    return None


def raw_xmp(path: Path, limit: int) -> bytes | None:
    """The XMP packet inside a RAW file or a JPEG XL container (at most ``limit`` bytes), or None."""
    try:
        with open(path, "rb") as file:
            magic = file.read(12)
            if magic[:4] in _MAKERS_TIFF or magic[:4] in _TIFF:
                return _tiff_xmp(file, "<" if magic[:2] == b"II" else ">", limit)
            if magic[4:8] == b"ftyp" or magic == _JXL_CONTAINER:
                return _bmff_xmp(file, limit)
    except (OSError, struct.error):
        return None
    return None
