"""What a picture's edit (``PictureEdit``) does to its pixels and to boxes on it, and how the steps a person
takes (turn, mirror, straighten, crop to a box or an aspect) change an edit.

(Pixels are drawn by ``media/look_pixels.py``, which needs Pillow; this module is plain arithmetic.)

An edit applies to the original turned upright (by its EXIF orientation), in this order: straighten by
``angle`` about the centre, scaled just enough to leave no empty corner (the frame keeps the original's
size, so a crop box is always in the original's pixels); crop; mirror; turn by quarter turns. The original
itself is never rewritten.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import msgspec

from ..errors import BadInput
from . import PictureEdit

__all__ = [
    "cover_scale",
    "edit_key",
    "mirrored",
    "parse_aspect",
    "shown_box",
    "shown_size",
    "straightened",
    "tidy",
    "turned",
    "with_aspect",
    "with_crop",
    "with_shown_crop",
]

_encoder = msgspec.json.Encoder(order="sorted")
Box = tuple[float, float, float, float]


def tidy(edit: PictureEdit | None, width: int, height: int) -> PictureEdit | None:
    """The edit with its crop kept inside the frame; None when it changes nothing."""
    if edit is None:
        return None
    crop = edit.crop
    if crop is not None:
        x, y = min(crop[0], width - 1), min(crop[1], height - 1)
        crop = (x, y, max(1, min(crop[2], width - x)), max(1, min(crop[3], height - y)))
        if crop == (0, 0, width, height):
            crop = None
    angle = round(edit.angle, 2)
    # (0 degrees is left unsaid: the stored edit and its key are the same however it was reached)
    tidied = PictureEdit(rotate=edit.rotate, flip=edit.flip, crop=crop, **({"angle": angle} if angle else {}))
    return None if tidied == PictureEdit() else tidied


def edit_key(edit: PictureEdit | None) -> str:
    """A short name for the edit: part of its thumbnails' file names and URLs ("" for none)."""
    return "" if edit is None else hashlib.blake2b(_encoder.encode(edit), digest_size=6).hexdigest()


def shown_size(edit: PictureEdit | None, width: int, height: int) -> tuple[int, int]:
    """The size of the picture as shown, given its upright original's."""
    if edit is None:
        return width, height
    w, h = (edit.crop[2], edit.crop[3]) if edit.crop else (width, height)
    return (h, w) if edit.rotate in (90, 270) else (w, h)


# -- the steps a person takes, each in the picture as it is shown --------------------------------------


def turned(edit: PictureEdit | None, degrees: int, width: int, height: int) -> PictureEdit | None:
    """Turned a further ``degrees`` clockwise (a multiple of 90; negative turns the other way)."""
    if degrees % 90:
        raise BadInput("pictures turn by quarter turns: 90, 180 or 270 degrees (-90 turns left)")
    base = edit or PictureEdit()
    return tidy(msgspec.structs.replace(base, rotate=(base.rotate + degrees) % 360), width, height)


def mirrored(edit: PictureEdit | None, width: int, height: int) -> PictureEdit | None:
    """Mirrored left to right as shown. The mirror comes before the turn, so on a picture turned a
    quarter, the shown mirror is the original's mirror with the turn reversed."""
    base = edit or PictureEdit()
    return tidy(msgspec.structs.replace(base, flip=not base.flip, rotate=(360 - base.rotate) % 360), width, height)


def straightened(edit: PictureEdit | None, angle: float, width: int, height: int) -> PictureEdit | None:
    if not -45 <= angle <= 45 or not math.isfinite(angle):
        raise BadInput("straighten by -45 to 45 degrees")
    return tidy(msgspec.structs.replace(edit or PictureEdit(), angle=float(angle)), width, height)


def with_crop(edit: PictureEdit | None, box: Sequence[int] | None, width: int, height: int) -> PictureEdit | None:
    """Cropped to ``box`` (x, y, width, height in the upright original's pixels); None removes the crop."""
    if box is not None:
        x, y, w, h = (int(v) for v in box)
        if w < 1 or h < 1 or x < 0 or y < 0 or x >= width or y >= height:
            raise BadInput(f"the crop box must lie on the picture ({width}x{height}) and have a size")
        box = (x, y, w, h)
    return tidy(msgspec.structs.replace(edit or PictureEdit(), crop=box), width, height)  # type: ignore[arg-type]


def with_shown_crop(edit: PictureEdit | None, box: Sequence[float], width: int, height: int) -> PictureEdit | None:
    """Cropped to ``box`` given as (x0, y0, x1, y1) fractions of the picture as shown without its crop
    (what the viewer's crop mode draws on)."""
    x0, y0, x1, y1 = (min(1.0, max(0.0, float(v))) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise BadInput("the crop box must have a size")
    base = edit or PictureEdit()
    corners = [_unturn(base, x, y) for x, y in ((x0, y0), (x1, y1))]
    fx0, fx1 = sorted(c[0] for c in corners)
    fy0, fy1 = sorted(c[1] for c in corners)
    left, top = round(fx0 * width), round(fy0 * height)
    crop = (left, top, max(1, round(fx1 * width) - left), max(1, round(fy1 * height) - top))
    return with_crop(base, crop, width, height)


def _unturn(edit: PictureEdit, x: float, y: float) -> tuple[float, float]:
    """A point (fractions) of the shown frame, back in the frame before the mirror and the turn."""
    if edit.rotate == 90:
        x, y = y, 1 - x
    elif edit.rotate == 180:
        x, y = 1 - x, 1 - y
    elif edit.rotate == 270:
        x, y = 1 - y, x
    return (1 - x if edit.flip else x), y


def parse_aspect(text: str) -> tuple[int, int]:
    """``W:H`` (1:1, 2:3, 16:9, ...) as two positive numbers."""
    parts = text.split(":")
    try:
        w, h = int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        raise BadInput(f"an aspect ratio is W:H, like 1:1 or 2:3 (not {text!r})") from None
    if len(parts) != 2 or not (0 < w <= 10000 and 0 < h <= 10000):
        raise BadInput(f"an aspect ratio is W:H with both sides from 1 to 10000 (not {text!r})")
    return w, h


def with_aspect(
    edit: PictureEdit | None, aspect: tuple[int, int], width: int, height: int, *, snap: bool = False
) -> PictureEdit | None:
    """Cropped to the largest box of ``aspect`` (as shown: width:height after the turn) centred on the
    current crop, or on the picture; with ``snap``, to a box of the current crop's area instead (a crop
    snapped to a training bucket keeps its size)."""
    base = edit or PictureEdit()
    a, b = aspect if base.rotate in (0, 180) else (aspect[1], aspect[0])
    w = min(width, height * a / b)
    if snap and base.crop:
        w = min(w, math.sqrt(base.crop[2] * base.crop[3] * a / b))
    h = w * b / a
    cx, cy = (
        (base.crop[0] + base.crop[2] / 2, base.crop[1] + base.crop[3] / 2) if base.crop else (width / 2, height / 2)
    )
    x = min(max(0.0, cx - w / 2), width - w)
    y = min(max(0.0, cy - h / 2), height - h)
    box = (round(x), round(y), max(1, round(w)), max(1, round(h)))
    return with_crop(base, box, width, height)


# -- pixels and boxes --------------------------------------------------------------------------------


def cover_scale(angle: float, width: int, height: int) -> float:
    """How much a straightened picture is enlarged so that it covers its frame (no empty corners)."""
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    return max(c + s * height / width, c + s * width / height)


def shown_box(box: Sequence[float], edit: PictureEdit | None, width: int, height: int) -> Box | None:
    """A box (x0, y0, x1, y1) on the upright original, on the picture as shown; None when the crop leaves
    it out. A straightened box is the bounds of its turned corners."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if edit is None:
        return x0, y0, x1, y1
    if edit.angle:
        s = cover_scale(edit.angle, width, height)
        cos, sin = math.cos(math.radians(edit.angle)), math.sin(math.radians(edit.angle))
        cx, cy = width / 2, height / 2
        points = [
            (cx + s * (cos * (x - cx) - sin * (y - cy)), cy + s * (sin * (x - cx) + cos * (y - cy)))
            for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))
        ]
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    fw, fh = width, height
    if edit.crop:
        cx0, cy0, fw, fh = edit.crop
        x0, x1 = max(0.0, x0 - cx0), min(float(fw), x1 - cx0)
        y0, y1 = max(0.0, y0 - cy0), min(float(fh), y1 - cy0)
    else:
        x0, x1, y0, y1 = max(0.0, x0), min(float(fw), x1), max(0.0, y0), min(float(fh), y1)
    if x1 <= x0 or y1 <= y0:
        return None
    if edit.flip:
        x0, x1 = fw - x1, fw - x0
    if edit.rotate == 90:
        return fh - y1, x0, fh - y0, x1
    if edit.rotate == 180:
        return fw - x1, fh - y1, fw - x0, fh - y0
    if edit.rotate == 270:
        return y0, fw - x1, y1, fw - x0
    return x0, y0, x1, y1
