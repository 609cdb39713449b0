"""Technical faults a trainer learns from, measured on each picture of a set: blur, exposure and noise on
its grid thumbnail with the built-in quality scorer's measures (``builtin.quality.measure``: the variance of
the Laplacian less the noise's share, the mean's distance from mid-grey times the unclipped share, and
Immerkær's noise estimate), and for a JPEG original its compression, estimated from the file's own
luminance quantisation table (read from the header; no pixel is decoded).

A flag is a prompt to look, not a verdict: a deliberate low-key photograph is flagged for exposure.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from ..system.atomic import write_atomically

__all__ = [
    "BLURRY",
    "DARK_OR_BURNT",
    "JPEG_LOW",
    "NOISY",
    "MeasureCache",
    "PictureQuality",
    "jpeg_quality",
    "measure_pictures",
]

BLURRY = 0.15  # sharpness under this: out of focus, motion-blurred or upscaled from far smaller
DARK_OR_BURNT = 0.25  # exposure under this: crushed to black or burnt to white
NOISY = 0.2  # noise under this: grain or sensor noise a model learns as texture
JPEG_LOW = 75  # estimated JPEG quality under this: blocks and ringing show at training size

# The IJG standard luminance table (quality 50), in the order Pillow reports tables (zig-zag order does not
# matter: only the mean is compared).
_IJG_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


class PictureQuality(msgspec.Struct, frozen=True):
    picture_id: int
    sharpness: float  # 0 (none) to 1
    exposure: float
    noise: float  # 1: clean
    jpeg_quality: int | None  # estimated 1-100 for a JPEG original, else None


def jpeg_quality(path: str | Path) -> int | None:
    """The IJG quality (1-100) whose scaled standard table is closest in mean to the file's luminance
    table: what libjpeg's ``-quality`` was, for files it wrote; None for a file that is not a JPEG."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            tables = getattr(image, "quantization", None)
            if image.format != "JPEG" or not tables:
                return None
            luminance = tables[min(tables)]
    except OSError:
        return None
    scale = 100.0 * (sum(luminance) / len(luminance)) / (sum(_IJG_LUMINANCE) / len(_IJG_LUMINANCE))
    # libjpeg: scale = 5000 / q below 50, 200 - 2q from 50 up.
    quality = 5000.0 / scale if scale > 100 else (200.0 - scale) / 2
    return max(1, min(100, round(quality)))


def _measured(picture_id: int, thumbnail: Path, original: Path | None) -> PictureQuality | None:
    from PIL import Image

    from ..builtin.quality import measure

    try:
        with Image.open(thumbnail) as image:
            measures = measure(image.convert("RGB"))
    except OSError:
        return None  # no thumbnail yet: nothing said about it
    quality = jpeg_quality(original) if original is not None else None
    return PictureQuality(
        picture_id,
        round(measures["sharpness"], 3),
        round(measures["exposure"], 3),
        round(measures["noise"], 3),
        quality,
    )


def measure_pictures(items: Sequence[tuple[int, Path, Path | None]], workers: int = 4) -> list[PictureQuality]:
    """The measures of each (picture id, grid thumbnail, JPEG original or None), in their order; a picture
    whose thumbnail cannot be read is left out. Pillow decodes outside the GIL: a few threads overlap."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = pool.map(lambda item: _measured(*item), items)
        return [q for q in found if q is not None]


class _Measured(msgspec.Struct, frozen=True, array_like=True):
    look: str  # what was measured: the picture's content and its look
    quality: PictureQuality


_MOST_KEPT = 1_000_000


class MeasureCache:
    """The measures already taken, in one file beside the thumbnails they were taken from (derived data,
    like the thumbnails: deleting it costs a measuring pass, nothing else). Keyed by picture and look, so
    a new look or new content is measured again. Two processes writing at once: the last one's file stands,
    and what the other measured is measured again when asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[int, _Measured] | None = None
        self._lock = threading.Lock()  # the server checks sets in several threads

    def _load(self) -> dict[int, _Measured]:
        if self._entries is None:
            try:
                entries = msgspec.msgpack.decode(self.path.read_bytes(), type=list[_Measured])
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                entries = []  # none yet, or unreadable: measured again
            self._entries = {e.quality.picture_id: e for e in entries}
        return self._entries

    def get(self, looks: dict[int, str]) -> dict[int, PictureQuality]:
        """The stored measures of these pictures whose look is still the one measured."""
        with self._lock:
            entries = self._load()
            return {i: e.quality for i, look in looks.items() if (e := entries.get(i)) is not None and e.look == look}

    def put(self, measured: Iterable[tuple[str, PictureQuality]]) -> None:
        with self._lock:
            entries = self._load()
            for look, quality in measured:
                entries[quality.picture_id] = _Measured(look, quality)
            if len(entries) > _MOST_KEPT:
                entries.clear()
            with contextlib.suppress(OSError):  # a cache: not kept this time
                write_atomically(self.path, msgspec.msgpack.encode(list(entries.values())))
