"""The images engines see: the smallest stored rendition whose short side covers the engine's input size.

Grid thumbnails (384 px) serve small models such as CLIP, previews (1024 px) bigger ones where they
have been made (on first view), and the original (oriented, decoded at reduced size where the format
allows) anything larger. Videos use their
poster frame, and tasks that look at more of a video (faces) get a few more keyframes at the poster's size.
Images are RGB, or RGBA where the picture has transparency and the engine keeps alpha (``keeps_alpha``).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from PIL import Image, ImageOps

from ..errors import BadInput
from ..files.picture_files import PictureFiles
from ..media.analyse import open_image
from ..media.facts import MediaLimits
from ..media.thumbnails import GRID_SIZE, PREVIEW_SIZE
from ..media.video import spread_frames

__all__ = ["InputFrame", "decoded_input", "input_rendition", "load_frames", "load_input", "open_query_image"]

log = logging.getLogger(__name__)


class InputFrame(NamedTuple):
    """One image an engine sees of a picture: a still is frame 0; a video's poster is frame 0 and its
    other keyframes 1, 2, ... with their time in seconds."""

    index: int
    seconds: float | None
    image: Image.Image


def _short_side(width: int, height: int, box: int) -> float:
    scale = min(1.0, box / max(width, height, 1))
    return min(width, height) * scale


def input_rendition(
    files: PictureFiles, picture_id: int, width: int, height: int, media_type: str, input_size: int
) -> str:
    """Which rendition an engine of ``input_size`` reads: ``grid``, ``preview`` or ``original``."""
    if media_type == "video" or _short_side(width, height, GRID_SIZE) >= min(input_size, min(width, height)):
        return "grid" if media_type != "video" or input_size <= GRID_SIZE else "preview"
    if _short_side(width, height, PREVIEW_SIZE) >= min(input_size, min(width, height)) and files.has_thumbnail(
        picture_id, "preview"
    ):
        return "preview"
    return "original"  # previews are made on first view only: enrichment reads the original rather than make them


def load_input(
    files: PictureFiles,
    picture_id: int,
    content_hash: str,
    width: int,
    height: int,
    media_type: str,
    input_size: int,
    keep_alpha: bool = False,
) -> Image.Image:
    """The picture as an RGB image at least ``input_size`` on its short side (or as large as it is); RGBA
    where it has transparency and ``keep_alpha`` (thumbnails keep the original's alpha)."""
    rendition = input_rendition(files, picture_id, width, height, media_type, input_size)
    path = files.pixels_path(picture_id) if rendition == "original" else files.thumbnail_path(picture_id, rendition)
    with Image.open(path) as image:
        return decoded_input(image, input_size, keep_alpha, original=path.suffix.lower() != ".webp")


def decoded_input(image: Image.Image, input_size: int, keep_alpha: bool, original: bool = True) -> Image.Image:
    """An opened image as an engine gets it: an original decoded at reduced size where its format allows
    and turned upright (a thumbnail is both already)."""
    if original:
        image.draft("RGB", (input_size, input_size))  # JPEG decodes straight at a reduced scale
        image = ImageOps.exif_transpose(image)
    return image.convert("RGBA" if keep_alpha and _has_alpha(image) else "RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def load_frames(
    files: PictureFiles,
    picture_id: int,
    content_hash: str,
    width: int,
    height: int,
    media_type: str,
    input_size: int,
    video_frames: int = 1,
    keep_alpha: bool = False,
) -> list[InputFrame]:
    """What an engine sees of one picture: the image, or a video's poster and up to ``video_frames - 1``
    more keyframes. A video whose other frames cannot be decoded still gives its poster."""
    poster = load_input(files, picture_id, content_hash, width, height, media_type, input_size, keep_alpha)
    frames = [InputFrame(0, None, poster)]
    if media_type != "video" or video_frames <= 1:
        return frames
    try:
        spread = spread_frames(files.original_path(picture_id), video_frames - 1)
    except Exception as error:  # no PyAV, a missing or damaged original: the poster is still worth reading
        log.warning("picture %d: only the poster frame is used (%s)", picture_id, error)
        return frames
    for index, (seconds, image) in enumerate(spread, start=1):
        frames.append(InputFrame(index, seconds, image.convert("RGB").resize(poster.size, Image.Resampling.BOX)))
    return frames


def open_query_image(path, limits: MediaLimits) -> Image.Image:
    """An uploaded query image (search by example): checked like an import, decoded small, RGB."""
    try:
        image = open_image(path, limits)
        image.draft("RGB", (PREVIEW_SIZE, PREVIEW_SIZE))
        image = ImageOps.exif_transpose(image)
        image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
        return image.convert("RGB")
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt pixel data
        raise BadInput(f"the image could not be decoded: {error}") from None
