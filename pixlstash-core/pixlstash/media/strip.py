"""An image file without its metadata, the image data untouched (no decoding, no re-encoding): what a share
recipient gets when the owner has not chosen to include metadata. EXIF (GPS, camera, dates), XMP, IPTC,
comments and PNG text chunks (ComfyUI's prompt and workflow, A1111's parameters) are left out; what the
pixels need (colour profiles, JPEG's Adobe transform marker, PNG transparency and animation) stays, and
so does the EXIF orientation of a JPEG or WebP, alone in an EXIF block of its own: without it a phone's
portrait would show on its side.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

__all__ = ["STRIPPABLE", "without_metadata"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}
# JPEG markers kept among APPn/COM: APP0 (JFIF), APP2 only for ICC profiles, APP14 (Adobe colour transform).
_JPEG_APP0, _JPEG_APP2, _JPEG_APP14, _JPEG_COM, _JPEG_SOS = 0xE0, 0xE2, 0xEE, 0xFE, 0xDA
_WEBP_DROPPED = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04

STRIPPABLE = frozenset({".png", ".jpg", ".jpeg", ".webp"})


def without_metadata(path: Path, suffix: str) -> bytes | None:
    """The file's bytes with its metadata left out; None for a format this cannot strip (or a file that is
    not what its suffix says)."""
    data = Path(path).read_bytes()
    kind = suffix.lower()
    try:
        if kind == ".png":
            return _png(data)
        if kind in (".jpg", ".jpeg"):
            return _jpeg(data)
        if kind == ".webp":
            return _webp(data)
    except (ValueError, struct.error, IndexError):
        return None
    return None


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out, at = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            raise ValueError("a PNG chunk runs past the end")
        if kind not in _PNG_DROPPED:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _orientation_only(data: bytes) -> bytes | None:
    """An EXIF block ("Exif\\0\\0" and TIFF data) holding only the picture's orientation, or None when it
    is upright (1) or has none."""
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        orientation = image.getexif().get(0x0112, 1)
    if orientation in (None, 1):
        return None
    exif = Image.Exif()
    exif[0x0112] = int(orientation)
    return exif.tobytes()


def _jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    orientation = _orientation_only(data)
    out, at = [b"\xff\xd8"], 2
    while at < len(data):
        if data[at] != 0xFF:
            raise ValueError("a JPEG marker was expected")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == _JPEG_SOS or 0xD0 <= marker <= 0xD9:  # the scan and what follows: as it is
            out.append(data[at:])
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        application = 0xE0 <= marker <= 0xEF
        keep = not (application or marker == _JPEG_COM) or marker in (_JPEG_APP0, _JPEG_APP14)
        if marker == _JPEG_APP2:
            keep = segment[4:16] == b"ICC_PROFILE\x00"
        if keep:
            out.append(segment)
        if marker == _JPEG_APP0 and orientation is not None:  # EXIF's place: first, or right after JFIF
            out.append(b"\xff\xe1" + struct.pack(">H", len(orientation) + 2) + orientation)
            orientation = None
        at += 2 + length
    if orientation is not None:
        out.insert(1, b"\xff\xe1" + struct.pack(">H", len(orientation) + 2) + orientation)
    return b"".join(out)


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks, at = [], 12
    while at + 8 <= len(data):
        kind = data[at : at + 4]
        (size,) = struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + size + (size & 1)
        chunk = data[at : min(end, len(data))]
        if kind == b"VP8X":
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in _WEBP_DROPPED:
            chunks.append(chunk)
        at = end
    orientation = _orientation_only(data)
    if orientation is not None:  # WebP's EXIF chunk holds the TIFF data alone, after the image
        tiff = orientation.removeprefix(b"Exif\x00\x00")
        chunks.append(b"EXIF" + struct.pack("<I", len(tiff)) + tiff + b"\x00" * (len(tiff) & 1))
        chunks = [c[:8] + bytes([c[8] | _VP8X_EXIF]) + c[9:] if c[:4] == b"VP8X" else c for c in chunks]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
