"""Pictures as WD models expect them, as the reference inference code published with the models
prepares them: transparency composited on white, padded to a square with white (centred), resized to
the model's input size with bicubic filtering, RGB turned to BGR, float32 in 0-255, NHWC."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

import numpy as np
from PIL import Image

__all__ = ["prepare", "prepare_batch"]

WHITE = (255, 255, 255)


def prepare(image: Image.Image, size: int) -> np.ndarray:
    """One picture as an ``(size, size, 3)`` float32 BGR array."""
    out = np.empty((size, size, 3), dtype=np.float32)
    _prepare_into(out, image, size)
    return out


def _square(image: Image.Image, size: int) -> Image.Image:
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
    return square


def _prepare_into(out: np.ndarray, image: Image.Image, size: int) -> None:
    out[...] = np.asarray(_square(image, size))[:, :, ::-1]  # BGR, cast to float32 in the one copy


def prepare_batch(images: Sequence[Image.Image], size: int, pool: Executor | None = None) -> np.ndarray:
    """The pictures as one ``(N, size, size, 3)`` batch, prepared in ``pool``'s threads when given (Pillow
    and NumPy let go of the GIL, so a batch prepares on every core while the model waits)."""
    batch = np.empty((len(images), size, size, 3), dtype=np.float32)
    if pool is None or len(images) < 2:
        for row, image in zip(batch, images, strict=True):
            _prepare_into(row, image, size)
    else:
        list(pool.map(lambda pair: _prepare_into(batch[pair[0]], pair[1], size), enumerate(images)))
    return batch
