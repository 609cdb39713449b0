"""A picture as its edit shows it: the pixels (see domain/look_geometry.py for the order of the steps)."""

from __future__ import annotations

import math

from PIL import Image

from ..domain import PictureEdit
from ..domain.look_geometry import cover_scale

__all__ = ["render"]

_TURNS = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


def render(image: Image.Image, edit: PictureEdit | None, width: int, height: int) -> Image.Image:
    """``image`` (the upright original at any scale; ``width`` x ``height`` is its full size) as shown."""
    if edit is None:
        return image
    scale = image.width / width
    if edit.angle:
        image = _straighten(image, edit.angle, width, height)
    if edit.crop:
        x, y, w, h = edit.crop
        image = image.crop((round(x * scale), round(y * scale), round((x + w) * scale), round((y + h) * scale)))
    if edit.flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return image.transpose(_TURNS[edit.rotate]) if edit.rotate else image


def _straighten(image: Image.Image, angle: float, width: int, height: int) -> Image.Image:
    # Each output pixel reads the input at C + R(-angle)(p - C) / s: one resampling, no empty corners.
    s = cover_scale(angle, width, height)
    cos, sin = math.cos(math.radians(angle)) / s, math.sin(math.radians(angle)) / s
    cx, cy = image.width / 2, image.height / 2
    data = (cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy)
    return image.transform(image.size, Image.Transform.AFFINE, data, Image.Resampling.BICUBIC)
