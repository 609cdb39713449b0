"""Camera RAW files through libraw (``rawpy``, the optional ``raw`` extra): size, EXIF and thumbnails.

The original is only ever read. Thumbnails come from the preview JPEG the camera embedded when it is
large enough (most cameras embed a full-size one: no demosaicing, fast), else from a half-size
demosaic. Both are made at import, as for a video: browsers cannot show a RAW file, and the engines and
the viewer use the preview. EXIF is read from the file's own TIFF structure (CR2, NEF, ARW, DNG, ORF,
PEF, SRW are TIFF inside; RW2, ORF, RAF and CR3 keep theirs in their own ways: ``raw_exif.py``) or else
from the embedded preview.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from ..errors import TooLarge, UnsupportedMedia
from .exif import ExifInfo, read_exif
from .facts import MediaAnalysis, MediaLimits
from .hashing import perceptual_hash
from .raw_exif import raw_exif, raw_xmp
from .thumbnails import PREVIEW_SIZE, make_thumbnails
from .xmp import MAX_XMP, read_photo_metadata

__all__ = ["RAW_SUFFIXES", "analyse_raw", "file_exif", "raw_info", "raw_preview"]

RAW_SUFFIXES: dict[str, str] = {
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".nef": "image/x-nikon-nef",
    ".nrw": "image/x-nikon-nrw",
    ".arw": "image/x-sony-arw",
    ".dng": "image/x-adobe-dng",
    ".raf": "image/x-fuji-raf",
    ".orf": "image/x-olympus-orf",
    ".rw2": "image/x-panasonic-rw2",
    ".pef": "image/x-pentax-pef",
    ".srw": "image/x-samsung-srw",
}
# libraw's "flip" as the EXIF orientation that undoes it.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_EXIF_READ_BYTES = 4 << 20  # a TIFF-based RAW's IFDs are near its start


def _import_rawpy():
    try:
        import rawpy
    except ImportError:
        raise UnsupportedMedia("RAW support is not installed: pip install 'pixlstash-core[raw]' (rawpy)") from None
    return rawpy


def file_exif(path: Path) -> ExifInfo:
    """A RAW file's EXIF, from its first bytes (an empty one for a file of another kind)."""
    with open(path, "rb") as file:
        return raw_exif(file.read(_EXIF_READ_BYTES))


def raw_preview(path: Path, limits: MediaLimits) -> tuple[Image.Image, int, int, ExifInfo]:
    """The picture upright (embedded preview or half-size demosaic), its full size upright, and EXIF."""
    rawpy = _import_rawpy()
    try:
        with rawpy.imread(str(path)) as raw:
            sizes = raw.sizes
            width, height = sizes.width, sizes.height
            if width * height > limits.max_pixels:
                raise TooLarge(f"RAW image {width}x{height} is over the {limits.max_pixels:,}-pixel limit")
            orientation = _FLIP_TO_ORIENTATION.get(sizes.flip, 1)
            if orientation in (6, 8):
                width, height = height, width
            image, embedded = _embedded(raw, rawpy), True
            if image is None or max(image.size) < min(PREVIEW_SIZE, max(width, height)):
                # A sensor never reads all zeros (its black level has noise): such a file holds no image,
                # as NEF, CR3 and RAF in that state are refused by libraw itself.
                if not raw.raw_image_visible.any():
                    raise UnsupportedMedia("the RAW file holds no image data")
                # postprocess applies libraw's flip itself
                image, embedded = Image.fromarray(raw.postprocess(half_size=True, use_camera_wb=True)), False
    except rawpy.LibRawError as error:
        raise UnsupportedMedia(f"corrupt or unsupported RAW file: {error}") from None
    exif = file_exif(path)
    if not exif.fields and embedded:
        exif = read_exif(image)
    if embedded and orientation != 1:
        image = image.transpose(
            {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}[orientation]
        )
    return image.convert("RGB"), width, height, exif


def _embedded(raw, rawpy) -> Image.Image | None:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        image = Image.open(io.BytesIO(thumb.data))
        image.load()
        return image
    return Image.fromarray(thumb.data)


def raw_info(path: Path) -> dict[str, object] | None:
    """What an opened image's ``info`` would say of a RAW's metadata: the XMP Lightroom, Capture One or
    the camera wrote into it (a DNG's, a CR3's ...), or None."""
    packet = raw_xmp(path, MAX_XMP + 1)  # one byte over the limit: read_xmp says it is too large
    return {"xmp": packet} if packet else None


def analyse_raw(path: Path, analysis: MediaAnalysis, limits: MediaLimits) -> None:
    """Fill in a RAW file's facts and both thumbnails, or raise ``UnsupportedMedia`` with a reason."""
    image, width, height, exif = raw_preview(path, limits)
    suffix = path.suffix.lower()
    analysis.suffix, analysis.mime, analysis.media_type = suffix, RAW_SUFFIXES[suffix], "image"
    analysis.width, analysis.height = width, height
    analysis.exif, analysis.camera, analysis.taken_at = exif.fields, exif.camera, exif.taken_at_ms
    analysis.taken_from = "exif" if exif.taken_at_ms else None
    analysis.orientation = None  # the thumbnails are upright already
    read_photo_metadata(path, None, analysis, raw_info(path))  # its own XMP, a sidecar's over it
    grid_bytes, preview_bytes, grid = make_thumbnails(image)
    analysis.grid_thumbnail, analysis.preview_thumbnail = grid_bytes, preview_bytes
    analysis.phash = perceptual_hash(grid)
