"""Structural checks that catch damage a decoder lets through.

Pillow decodes a PNG's image data without checking chunk checksums and stops at the last image row, so a
file with a broken chunk, a damaged IDAT whose deflate stream still inflates, or its end cut off can
decode "successfully" into garbage. A PNG is only accepted when every chunk's CRC is right and it ends
with IEND. (A truncated JPEG or WebP already fails to decode.)
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from ..errors import UnsupportedMedia

__all__ = ["PNG_SIGNATURE", "check_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNK = (1 << 31) - 1  # the PNG specification's limit on a chunk's length


def check_png(path: Path) -> None:
    """Raise ``UnsupportedMedia`` unless every chunk of the PNG at ``path`` is whole and its CRC right."""
    with open(path, "rb") as file:
        if file.read(8) != PNG_SIGNATURE:
            raise UnsupportedMedia("corrupt image: not a PNG signature")
        while True:
            header = file.read(8)
            if len(header) < 8:
                raise UnsupportedMedia("corrupt or truncated image: the PNG ends before its IEND chunk")
            length, kind = struct.unpack(">I4s", header)
            name = kind.decode("latin-1")
            if not kind.isalpha() or length > _MAX_CHUNK:
                raise UnsupportedMedia(f"corrupt image: a garbled PNG chunk header at byte {file.tell() - 8:,}")
            data = file.read(length)
            stored = file.read(4)
            if len(data) < length or len(stored) < 4:
                raise UnsupportedMedia(f"corrupt or truncated image: the PNG is cut inside its {name} chunk")
            if zlib.crc32(data, zlib.crc32(kind)) != struct.unpack(">I", stored)[0]:
                raise UnsupportedMedia(f"corrupt image: the PNG's {name} chunk fails its checksum")
            if kind == b"IEND":
                return
