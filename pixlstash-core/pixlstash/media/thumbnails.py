"""Thumbnails: how they are made (sizes, filter, encoder) and the cache of WebP files by content hash,
kept apart from originals and remade when missing.

File names carry ``THUMBNAIL_VERSION``: when thumbnail making below changes (size, filter, encoder),
bumping it makes every thumbnail be remade lazily, on first request, with no migration.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageOps

from ..errors import damaged_address
from ..system.atomic import write_atomically

__all__ = [
    "GRID_SIZE",
    "PREVIEW_SIZE",
    "ThumbnailCache",
    "ThumbnailSize",
    "grid_thumbnail_from",
    "make_edited_thumbnail",
    "make_grid_thumbnail",
    "make_preview_thumbnail",
    "make_thumbnails",
]

ThumbnailSize = Literal["grid", "preview"]
THUMBNAIL_VERSION = 1
GRID_SIZE = 384  # longest side of grid thumbnails
PREVIEW_SIZE = 1024  # longest side of overlay previews
# WebP (quality, method), chosen by measurement (benchmarks/README.md, issue 22): method 2 is 18-24%
# smaller than 0 for a little more time; 4 and 6 save a few percent more at 2-3x the time; AVIF at the
# same size costs 4x the time.
GRID_WEBP = (80, 2)
PREVIEW_WEBP = (80, 2)
FACE_CROP_SIZE = 128  # side of the square crop shown for each face
FACE_MARGIN = 1.5  # a face crop is this many times the face's box, so hair and chin stay in


def _to_display_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        return Image.fromarray((array * (255.0 / top)).clip(0, 255).astype(np.uint8), "L").convert("RGB")
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode_webp(image: Image.Image, quality: int, method: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=quality, method=method)
    return buffer.getvalue()


def decode(image: Image.Image, box: int) -> None:
    """Decode an opened image, a JPEG straight at a reduced scale (at least ``box`` on its long side).

    Raises Pillow's errors for damaged data. Call it before anything that may load the image on its own
    (a PNG's ``getexif()`` does, and swallowing its error there would leave a half-decoded image)."""
    if image.format in ("JPEG", "MPO"):  # (no-op once loaded: draft() only acts before decoding)
        scale = box / max(image.size)
        if scale < 1:
            # draft() keeps both sides at or above what it is given: give the real target.
            image.draft("RGB", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image.load()


def _decoded(image: Image.Image, box: int, orientation: int | None) -> Image.Image:
    """``image`` decoded, turned upright and in a mode WebP takes."""
    decode(image, box)
    if orientation and orientation != 1:
        image = ImageOps.exif_transpose(image)
    return _to_display_mode(image)


def make_grid_thumbnail(image: Image.Image, orientation: int | None = None) -> tuple[bytes, Image.Image]:
    """The grid thumbnail (what every import makes): WebP bytes, and the image so callers can hash it."""
    return grid_thumbnail_from(_decoded(image, GRID_SIZE, orientation))


def grid_thumbnail_from(upright: Image.Image) -> tuple[bytes, Image.Image]:
    """The grid thumbnail of an image already decoded and upright (at any size)."""
    grid = _fit(_to_display_mode(upright), GRID_SIZE)
    return _encode_webp(grid, *GRID_WEBP), grid


def make_preview_thumbnail(image: Image.Image, orientation: int | None = None) -> bytes:
    """The overlay's preview, made on first view rather than at import (it is most of the derived bytes)."""
    return _encode_webp(_fit(_decoded(image, PREVIEW_SIZE, orientation), PREVIEW_SIZE), *PREVIEW_WEBP)


def make_thumbnails(image: Image.Image, orientation: int | None = None) -> tuple[bytes, bytes, Image.Image]:
    """Grid and preview from one decode: for a video's frame, which is costly to decode again.

    Never upscales. Returns (grid bytes, preview bytes, grid image) so callers can hash the grid.
    """
    preview = _fit(_decoded(image, PREVIEW_SIZE, orientation), PREVIEW_SIZE)
    # BOX (area averaging) is the fastest good filter for downscaling; nothing is ever upscaled.
    grid = _fit(preview, GRID_SIZE)
    return _encode_webp(grid, *GRID_WEBP), _encode_webp(preview, *PREVIEW_WEBP), grid


def make_edited_thumbnail(
    image: Image.Image,
    orientation: int | None,
    size: ThumbnailSize,
    shown: Callable[[Image.Image], Image.Image],
    zoom: float,
) -> bytes:
    """A thumbnail of an edited picture: ``shown(upright)`` draws the edit (edit_render.render bound to
    the picture's edit and size) on the upright original, decoded ``zoom`` times larger than the thumbnail
    (how much the edit's crop enlarges)."""
    box = GRID_SIZE if size == "grid" else PREVIEW_SIZE
    upright = _decoded(image, math.ceil(box * zoom), orientation)
    quality = GRID_WEBP if size == "grid" else PREVIEW_WEBP
    return _encode_webp(_fit(_to_display_mode(shown(upright)), box), *quality)


def make_face_crop(image: Image.Image, box: tuple[float, float, float, float]) -> bytes:
    """A square WebP around one face of ``image`` (box in its pixels), the face centred with a margin;
    what lies outside the picture is filled grey."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 1.0) * FACE_MARGIN
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    region = tuple(round(v) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
    square = Image.new("RGB", (region[2] - region[0], region[3] - region[1]), (64, 64, 64))
    square.paste(_to_display_mode(image).convert("RGB").crop(region), (0, 0))
    return _encode_webp(square.resize((FACE_CROP_SIZE, FACE_CROP_SIZE), Image.Resampling.LANCZOS), 82, 4)


def _fit(image: Image.Image, box: int) -> Image.Image:
    scale = box / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX, reducing_gap=3.0)


class ThumbnailCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, content_hash: str, size: ThumbnailSize, edit_key: str = "") -> Path:
        """Where a thumbnail is; an edited picture's (``edit_key``, see domain/look_geometry.py) apart from the
        original's, so undoing an edit finds its thumbnails still there."""
        if size not in ("grid", "preview") or not content_hash.isalnum() or not (edit_key.isalnum() or not edit_key):
            raise damaged_address("thumbnail", content_hash, size, edit_key)
        edited = f".e{edit_key}" if edit_key else ""
        return self.root / content_hash[:2] / f"{content_hash}.{size}{edited}.v{THUMBNAIL_VERSION}.webp"

    def write(self, content_hash: str, size: ThumbnailSize, data: bytes, edit_key: str = "") -> Path:
        return self._write(self.path(content_hash, size, edit_key), data)

    @staticmethod
    def _write(target: Path, data: bytes) -> Path:
        """Written whole, so a reader never sees half a thumbnail."""
        write_atomically(target, data)
        return target

    def face_path(self, content_hash: str, box: tuple[float, float, float, float], frame: int = 0) -> Path:
        """A face crop's file: named by the picture's content, the face's box and (on a video) its frame,
        so it never goes stale."""
        if not content_hash.isalnum():
            raise damaged_address("face crop", content_hash)
        corners = "-".join(str(round(v)) for v in box) + (f"f{int(frame)}" if frame else "")
        return self.root / content_hash[:2] / f"{content_hash}.face{corners}.v{THUMBNAIL_VERSION}.webp"

    def write_face(self, content_hash: str, box: tuple[float, float, float, float], frame: int, data: bytes) -> Path:
        return self._write(self.face_path(content_hash, box, frame), data)

    def write_made(self, content_hash: str, grid: bytes, preview: bytes = b"") -> None:
        """Write what an analysis made: the grid thumbnail, and the preview when it made one (videos)."""
        self.write(content_hash, "grid", grid)
        if preview:
            self.write(content_hash, "preview", preview)

    def exists(self, content_hash: str, size: ThumbnailSize, edit_key: str = "") -> bool:
        return self.path(content_hash, size, edit_key).is_file()

    def delete(self, content_hash: str) -> None:
        """Every file made from the picture: thumbnails, its edits' and its faces' crops."""
        for made in self.path(content_hash, "grid").parent.glob(f"{content_hash}.*.webp"):
            made.unlink(missing_ok=True)
        for made in (self.root / "edited" / content_hash[:2]).glob(f"{content_hash}.e*"):  # files/renditions.py
            made.unlink(missing_ok=True)
