"""One file in, everything PixlStash keeps about it out: identity, metadata and thumbnails.

Pure and thread-safe: Pillow and hashlib release the GIL, so a thread pool analyses files in parallel.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from ..errors import TooLarge, UnsupportedMedia
from .credentials import read_credentials
from .exif import ExifInfo, png_creation_time, read_exif
from .facts import MediaAnalysis, MediaLimits
from .genmeta import read_generation
from .hashing import content_hash, perceptual_hash
from .integrity import PNG_SIGNATURE, check_png
from .raw import RAW_SUFFIXES, analyse_raw
from .thumbnails import GRID_SIZE, decode, grid_thumbnail_from, make_grid_thumbnail
from .video import analyse_video
from .vips import vips_available, vips_grid
from .xmp import read_photo_metadata

__all__ = [
    "RAW_SUFFIXES",
    "MediaAnalysis",
    "MediaLimits",
    "analyse_file",
    "open_image",
]

# Formats we decode. Anything else (EPS through Ghostscript, ...) is refused rather than trusted.
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": (".jpg", "image/jpeg"),
    "MPO": (".jpg", "image/jpeg"),
    "PNG": (".png", "image/png"),
    "WEBP": (".webp", "image/webp"),
    "GIF": (".gif", "image/gif"),
    "BMP": (".bmp", "image/bmp"),
    "TIFF": (".tiff", "image/tiff"),
    "AVIF": (".avif", "image/avif"),
    "HEIF": (".heic", "image/heic"),
    "JXL": (".jxl", "image/jxl"),
}
VIDEO_SUFFIXES: dict[str, str] = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
}

try:  # HEIC/HEIF through the optional pillow-heif plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - depends on the optional extra
    pass

try:  # JPEG XL through the optional pillow-jxl-plugin (it registers itself when imported)
    import pillow_jxl  # noqa: F401
except ImportError:  # pragma: no cover - depends on the optional extra
    pass


def _openable_formats() -> list[str]:
    Image.init()
    return [name for name in IMAGE_FORMATS if name in Image.OPEN]  # MPO opens through JPEG


# ``MediaLimits.max_pixels`` is the one pixel limit, checked on each file's header before it is imported.
# Pillow's own check is process-wide: it would silently halve ours, and it warned on the terminal whenever
# a process that had not opened a new file yet (an enrichment worker, an engine's process) decoded an
# imported picture of 90 to 179 megapixels. Every process that decodes imports this module: it is off.
Image.MAX_IMAGE_PIXELS = None

# A JPEG XL codestream, or its ISO BMFF container.
_JXL_SIGNATURES = (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a")


def _starts_with(path: Path, *prefixes: bytes) -> bool:
    with open(path, "rb") as file:
        head = file.read(max(len(prefix) for prefix in prefixes))
    return head.startswith(prefixes)


def open_image(path: Path | io.BytesIO, limits: MediaLimits) -> Image.Image:
    """Open (header only) an image of an allowed format within the pixel limit, or raise a clear error."""
    try:
        image = Image.open(path, formats=_openable_formats())
    except Image.UnidentifiedImageError:
        if isinstance(path, Path) and _starts_with(path, PNG_SIGNATURE):
            check_png(path)  # a damaged PNG: say where, rather than "not a picture"
        raise UnsupportedMedia("not a picture or video PixlStash can read") from None
    except ValueError as error:
        if "Decompressed" in str(error):  # a zTXt / iTXt / iCCP chunk that inflates past Pillow's cap
            raise TooLarge(f"decompression bomb refused: {error}") from None
        raise UnsupportedMedia(f"corrupt image: {error}") from None
    except SyntaxError as error:  # Pillow's word for a malformed header
        raise UnsupportedMedia(f"corrupt image: {error}") from None
    except RuntimeError:  # libjxl's "Generic Error" (with advice on building libjxl): no use to a user
        if isinstance(path, Path) and _starts_with(path, *_JXL_SIGNATURES):
            raise UnsupportedMedia("corrupt or unsupported JPEG XL") from None
        raise
    if image.width * image.height > limits.max_pixels:
        image.close()
        raise TooLarge(
            f"decompression bomb refused: {image.width}x{image.height} is over the {limits.max_pixels:,}-pixel limit"
        )
    if image.width < 1 or image.height < 1:
        raise UnsupportedMedia("image has no pixels")
    return image


def _analyse_image(path: Path, analysis: MediaAnalysis, limits: MediaLimits) -> None:
    image = open_image(path, limits)
    with image:
        suffix, mime = IMAGE_FORMATS[image.format]
        width, height = image.size  # before decoding: a JPEG decoded in draft mode is smaller
        if image.format == "PNG":
            check_png(path)
        by_vips = image.format == "PNG" and vips_available() and not getattr(image, "is_animated", False)
        if by_vips:
            # A PNG's EXIF is read at open when its chunk comes before the image data (where writers put
            # it); getexif() would decode the whole image with Pillow to look further.
            exif = read_exif(image) if "exif" in image.info else ExifInfo()
        else:
            try:
                decode(image, GRID_SIZE)
            except (OSError, SyntaxError, ValueError) as error:
                # Pillow's words for truncated or corrupt data, kept short for the report.
                raise UnsupportedMedia(f"corrupt or truncated image: {error}") from None
            except RuntimeError:  # libjxl's word for the same
                if image.format != "JXL":
                    raise
                raise UnsupportedMedia("corrupt or unsupported JPEG XL") from None
            exif = read_exif(image)
        analysis.suffix, analysis.mime, analysis.media_type = suffix, mime, "image"
        analysis.generation = read_generation(
            image.info, exif.fields, exif.user_comment, exif.generator_scheme, analysis.notes
        )
        if analysis.generation and analysis.generation.tool == "comfyui":
            exif.fields.pop("make", None)
            exif.fields.pop("model", None)
            exif.camera = None
        analysis.exif, analysis.camera, analysis.orientation = exif.fields, exif.camera, exif.orientation
        read_photo_metadata(path, image, analysis)
        analysis.credentials = read_credentials(path, suffix, analysis.notes)
        analysis.taken_at, analysis.taken_from = exif.taken_at_ms, "exif" if exif.taken_at_ms else None
        if analysis.taken_at is None and (created := png_creation_time(image.info)) is not None:
            analysis.taken_at, analysis.taken_from = created, "embedded"
        if exif.orientation in (5, 6, 7, 8):
            width, height = height, width
        analysis.width, analysis.height = width, height
        if by_vips:
            grid_bytes, grid = grid_thumbnail_from(vips_grid(path, GRID_SIZE))
        else:
            grid_bytes, grid = make_grid_thumbnail(image, exif.orientation)
    # Only the grid thumbnail is made here; the preview waits for its first view (most of the bytes).
    analysis.grid_thumbnail = grid_bytes
    analysis.phash = perceptual_hash(grid)


def analyse_file(path: Path, limits: MediaLimits | None = None, known_hash: str | None = None) -> MediaAnalysis:
    """Analyse one picture or video. Raises ``UnsupportedMedia`` or ``TooLarge`` with a reason."""
    limits = limits or MediaLimits()
    stat = os.stat(path)
    if stat.st_size == 0:
        raise UnsupportedMedia("empty file")
    if stat.st_size > limits.max_file_bytes:
        raise TooLarge(f"file is {stat.st_size:,} bytes, over the {limits.max_file_bytes:,}-byte limit")
    analysis = MediaAnalysis(
        content_hash=known_hash or content_hash(path),
        suffix="",
        media_type="image",
        mime="",
        file_size=stat.st_size,
        width=0,
        height=0,
        file_mtime=int(stat.st_mtime * 1000),
    )
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        analyse_video(path, analysis, limits)
        analysis.mime = VIDEO_SUFFIXES[suffix]
        analysis.suffix = ".mp4" if suffix == ".m4v" else suffix
    elif suffix in RAW_SUFFIXES:
        analyse_raw(path, analysis, limits)
    else:
        _analyse_image(path, analysis, limits)
    return analysis
