"""What analysing a file yields, and the limits it is analysed within."""

from __future__ import annotations

import os

import msgspec

from ..domain import ContentCredentials, Generation, PhotoMetadata

__all__ = ["MediaAnalysis", "MediaLimits"]


class MediaLimits(msgspec.Struct, frozen=True):
    """Explicit limits against hostile or broken files; all configurable."""

    max_pixels: int = 178_956_970  # the one pixel limit (Pillow's own error threshold)
    max_file_bytes: int = 4 << 30
    max_video_seconds: float = 6 * 3600

    @classmethod
    def from_environment(cls) -> MediaLimits:
        """The defaults, with ``PIXLSTASH_MAX_PIXELS`` overriding the pixel limit (for large scans)."""
        raw = os.environ.get("PIXLSTASH_MAX_PIXELS", "").replace("_", "")
        return cls(max_pixels=int(raw)) if raw.isdigit() and int(raw) > 0 else cls()


class MediaAnalysis(msgspec.Struct):
    content_hash: str
    suffix: str
    media_type: str
    mime: str
    file_size: int
    width: int
    height: int
    taken_at: int | None = None
    taken_from: str | None = None  # "exif" or "embedded" when taken_at is set (see schema V17)
    file_mtime: int | None = None
    camera: str | None = None
    orientation: int | None = None
    exif: dict[str, object] = {}
    generation: Generation | None = None
    photo: PhotoMetadata | None = None  # keywords, rating, label, title and description from its XMP
    credentials: ContentCredentials | None = None  # its C2PA manifest, verified
    notes: list[str] = []  # what the person should know about an imported file (a graph too large to read)
    phash: int | None = None
    duration: float | None = None
    codec: str | None = None
    grid_thumbnail: bytes = b""
    preview_thumbnail: bytes = b""
