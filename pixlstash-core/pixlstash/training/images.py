"""The image files of a training export: the original bytes, or a copy decoded, oriented, resized to a
long side, or cropped to an aspect bucket, and encoded as asked."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

from ..media.analyse import open_image
from ..media.facts import MediaLimits
from .buckets import BucketRules, kohya_buckets
from .options import ExportOptions

__all__ = [
    "BUCKET_STEP",
    "aspect_bucket",
    "box_in_bucket",
    "bucket_crop",
    "buckets",
    "converted_image",
    "copied_as_is",
    "image_suffix",
]

BUCKET_STEP = 64  # bucket sides are multiples of this (kohya's bucket_reso_steps)
_FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}
_KEEP = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}


def buckets(resolution: int) -> list[tuple[int, int]]:
    """The aspect buckets the export crops to: sd-scripts' own for the bounds its ``dataset.toml`` is given
    (``configs.bucket_bounds``: sides from half to twice the resolution, steps of ``BUCKET_STEP``; the bounds
    moved to steps as sd-scripts moves them), so an exported picture is already in its bucket and is not
    cut again (1024: SDXL's)."""
    low, high = max(BUCKET_STEP, resolution // 2), resolution * 2
    rules = BucketRules(resolution=resolution, min_bucket_reso=low, max_bucket_reso=high, bucket_reso_steps=BUCKET_STEP)
    rules = rules.checked()
    return list(kohya_buckets(rules.resolution, rules.min_bucket_reso, rules.max_bucket_reso, BUCKET_STEP))


def aspect_bucket(width: int, height: int, resolution: int) -> tuple[int, int]:
    """The bucket whose aspect ratio is nearest the picture's (the larger one on a tie)."""
    ratio = width / height
    return min(buckets(resolution), key=lambda b: (abs(b[0] / b[1] - ratio), -b[0] * b[1]))


def bucket_crop(width: int, height: int, bucket: tuple[int, int]) -> tuple[float, float, float, float]:
    """(left, top, width, height) of the part of a ``width`` x ``height`` picture its bucket keeps: the
    centred crop ``ImageOps.fit`` takes (no bleed) before it scales to the bucket."""
    wanted = bucket[0] / bucket[1]
    if width / height >= wanted:
        kept_width, kept_height = wanted * height, float(height)
    else:
        kept_width, kept_height = float(width), width / wanted
    return (width - kept_width) / 2, (height - kept_height) / 2, kept_width, kept_height


def box_in_bucket(
    box: tuple[float, float, float, float], width: int, height: int, bucket: tuple[int, int]
) -> tuple[float, float, float, float] | None:
    """A box (fractions of a ``width`` x ``height`` picture) as fractions of the part its bucket keeps
    (``bucket_crop``), clipped to it; None when the crop cuts more than half of it away."""
    left, top, kept_width, kept_height = bucket_crop(width, height, bucket)
    x0, y0, x1, y1 = box
    moved = ((x0 * width - left) / kept_width, (y0 * height - top) / kept_height,
             (x1 * width - left) / kept_width, (y1 * height - top) / kept_height)  # fmt: skip
    kept = tuple(min(max(v, 0.0), 1.0) for v in moved)
    inside = (kept[2] - kept[0]) * (kept[3] - kept[1]) >= 0.5 * (moved[2] - moved[0]) * (moved[3] - moved[1])
    return kept if inside else None  # type: ignore[return-value]


def image_suffix(original_suffix: str, options: ExportOptions, *, force: bool = False) -> str:
    """The exported file's suffix: the original's when its bytes are copied, else the format written."""
    if options.copies(original_suffix) and not force:
        return original_suffix.lower()
    return _FORMATS[_format(original_suffix, options)][1]


def _format(original_suffix: str, options: ExportOptions) -> str:
    if options.image_format not in ("auto", "original"):
        return options.image_format
    kept = _KEEP.get(original_suffix.lower(), "png")  # others (GIF, HEIC, AVIF, TIFF ...) become PNG: lossless
    return "png" if kept == "jpeg" and options.transparency == "alpha" else kept  # a JPEG has no alpha


def _transparent(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def has_transparency(path: Path) -> bool:
    """Whether the picture at ``path`` has an alpha channel or a transparent colour (its header alone)."""
    try:
        with Image.open(path) as image:
            return _transparent(image)
    except (OSError, ValueError):
        return False


def is_rgba(path: Path) -> bool:
    """Whether the picture at ``path`` is stored as RGBA (its header alone): the only form ai-toolkit's
    alpha mask reads (its ``load_mask_image`` takes the fourth channel of the decoded array)."""
    try:
        with Image.open(path) as image:
            return image.mode == "RGBA"
    except (OSError, ValueError):
        return False


def copied_as_is(path: Path, suffix: str, options: ExportOptions) -> bool:
    """Whether the original at ``path`` goes into the export byte for byte: its format is one every
    trainer reads, and its pixels are what the trainer should see (no transparency to flatten; with
    ``alpha``, already RGBA)."""
    if not options.copies(suffix):
        return False
    if options.transparency == "alpha":
        return is_rgba(path)
    return not has_transparency(path)


def _flattened(image: Image.Image, background: str) -> Image.Image:
    """Transparent pixels on ``background`` (#rrggbb), as RGB."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, background)
    flat.alpha_composite(rgba)
    return flat.convert("RGB")


def converted_image(
    source: Path | Image.Image, original_suffix: str, options: ExportOptions, limits: MediaLimits
) -> bytes:
    """The picture decoded (EXIF orientation applied), resized or bucketed, and encoded as asked."""
    image = source if isinstance(source, Image.Image) else ImageOps.exif_transpose(open_image(source, limits))
    fmt = _format(original_suffix, options)
    if options.transparency == "alpha" and fmt in ("png", "webp"):
        image = image.convert("RGBA")  # every image: the trainers' alpha_mask is set for the whole folder
    elif not _transparent(image):
        image = image.convert("RGB")
    else:
        image = _flattened(image, options.background)
    if options.bucket_resolution:  # the bucket decides the size exactly
        target = aspect_bucket(image.width, image.height, options.bucket_resolution)
        image = ImageOps.fit(image, target, Image.Resampling.LANCZOS)  # cover, then centre-crop
    elif options.max_side and max(image.size) > options.max_side:
        scale = options.max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pillow_format = _FORMATS[fmt][0]
    extra = {"quality": 95} if fmt in ("jpeg", "webp") else {"compress_level": 6}
    image.save(out, pillow_format, **extra)
    return out.getvalue()
