"""IPTC-IIM, read: the keywords, caption and title older photo software (Photoshop, Bridge, Lightroom's
legacy IIM, Photo Mechanic) writes in a JPEG's Photoshop resource block, parsed by Pillow. Texts are
UTF-8 where they decode as such (exiv2 and modern writers), else ISO 8859-1, IIM's old default."""

from __future__ import annotations

from PIL import Image, IptcImagePlugin

from ..domain import PhotoMetadata

__all__ = ["iptc_metadata"]

_KEYWORDS, _CAPTION, _TITLE = (2, 25), (2, 120), (2, 5)


def _decoded(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _texts(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [text for item in items if isinstance(item, bytes) and (text := _decoded(item).strip())]


def iptc_metadata(image: Image.Image) -> PhotoMetadata | None:
    """What the image's IPTC-IIM says of it, or None (no IIM block, or one Pillow cannot parse)."""
    try:
        found = IptcImagePlugin.getiptcinfo(image) or {}
    except (OSError, SyntaxError, ValueError, IndexError, TypeError):
        return None
    keywords = list(dict.fromkeys(kw[:200] for kw in _texts(found.get(_KEYWORDS))))[:1000]
    caption, title = _texts(found.get(_CAPTION)), _texts(found.get(_TITLE))
    if not (keywords or caption or title):
        return None
    return PhotoMetadata(
        keywords=keywords, title=title[0] if title else None, description=caption[0] if caption else None
    )
