"""Pictures as WD models expect them, as the reference inference code published with the models
prepares them: transparency composited on white, padded to a square with white (centred), resized to
the model's input size with bicubic filtering, RGB turned to BGR, float32 in 0-255, NHWC."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

__all__ = ["prepare", "prepare_batch"]

WHITE = (255, 255, 255)


def prepare(image: Image.Image, size: int) -> np.ndarray:
    """One picture as an ``(size, size, 3)`` float32 BGR array."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*WHITE, 255))
        canvas.alpha_composite(rgba)
        rgb = canvas.convert("RGB")
    else:  # opaque: compositing on white changes nothing, and costs a third of the preparation
        rgb = image.convert("RGB")
    side = max(rgb.size)
    square = Image.new("RGB", (side, side), WHITE)
    square.paste(rgb, ((side - rgb.width) // 2, (side - rgb.height) // 2))
    if side != size:
        square = square.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(square, dtype=np.float32)[:, :, ::-1]


def prepare_batch(images: Sequence[Image.Image], size: int) -> np.ndarray:
    return np.ascontiguousarray(np.stack([prepare(image, size) for image in images]))
