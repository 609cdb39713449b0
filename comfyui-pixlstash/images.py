"""Pictures to and from ComfyUI's tensors: IMAGE is [batch, height, width, channels] float32 in 0..1,
MASK is [batch, height, width] with 1 where the picture is not (transparent, or padding), as ComfyUI's
own LoadImage makes it. Pictures of different sizes become one batch by a rule the user picks."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo

__all__ = ["BATCH_RULES", "batch", "empty_batch", "nothing", "pictures_of", "png_with_workflow", "single"]

BATCH_RULES = ["pad to largest", "fit inside first", "fill first"]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    return image.convert("RGBA") if _has_alpha(image) else image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def single(image: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
    """One picture as a batch of one, at its own size."""
    rgb, mask = _arrays(image)
    return torch.from_numpy(rgb)[None], torch.from_numpy(mask)[None]


def batch(images: Sequence[Image.Image], rule: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Pictures as one batch. ``pad to largest``: each centred on a canvas as large as the largest;
    ``fit inside first``: each scaled to fit the first picture's size, centred; ``fill first``: each
    scaled to cover the first picture's size and centre-cropped. Padding is masked."""
    if not images:
        return empty_batch()
    if rule not in BATCH_RULES:
        raise ValueError(f"batch rule is one of {', '.join(BATCH_RULES)}")
    largest = (max(i.width for i in images), max(i.height for i in images))
    size = largest if rule == "pad to largest" else images[0].size
    rgbs, masks = [], []
    for image in images:
        rgb, mask = _arrays(image)
        if image.size != size:
            rgb, mask = _place(image, rgb, mask, size, rule)
        rgbs.append(rgb)
        masks.append(mask)
    return torch.from_numpy(np.stack(rgbs)), torch.from_numpy(np.stack(masks))


def empty_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of no pictures, for code outside ComfyUI; inside it, outputs are ``nothing()``."""
    return torch.zeros((0, 64, 64, 3), dtype=torch.float32), torch.zeros((0, 64, 64), dtype=torch.float32)


def nothing(fallback):
    """What an output holds when there is nothing to put in it. In ComfyUI: its ``ExecutionBlocker(None)``,
    the contract its own switch nodes follow, which skips every node downstream of that output without an
    error (ComfyUI's PreviewImage and SaveImage read ``images[0]`` and crash on a batch of none).
    Outside ComfyUI (scripts, tests): ``fallback``."""
    try:
        from comfy_execution.graph_utils import ExecutionBlocker
    except ImportError:
        return fallback
    return ExecutionBlocker(None)


def _arrays(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    if image.mode == "RGBA":
        mask = 1.0 - np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
    else:
        mask = np.zeros(rgb.shape[:2], dtype=np.float32)
    return rgb, mask


def _place(image: Image.Image, rgb: np.ndarray, mask: np.ndarray, size: tuple[int, int], rule: str):
    width, height = size
    if rule == "pad to largest":
        scaled_rgb, scaled_mask = rgb, mask
    else:
        scale = (min if rule == "fit inside first" else max)(width / image.width, height / image.height)
        new = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        scaled_rgb = (
            np.asarray(
                Image.fromarray((rgb * 255).round().astype(np.uint8)).resize(new, Image.Resampling.LANCZOS), np.float32
            )
            / 255.0
        )
        scaled_mask = np.asarray(Image.fromarray(mask).resize(new, Image.Resampling.BILINEAR), np.float32)
    canvas = np.zeros((height, width, 3), dtype=np.float32)
    canvas_mask = np.ones((height, width), dtype=np.float32)
    h, w = scaled_mask.shape
    # Centre the picture; where it is larger than the canvas (fill), centre-crop it.
    top, left = (height - h) // 2, (width - w) // 2
    src_y0, src_x0 = max(0, -top), max(0, -left)
    dst_y0, dst_x0 = max(0, top), max(0, left)
    rows, cols = min(h - src_y0, height - dst_y0), min(w - src_x0, width - dst_x0)
    canvas[dst_y0 : dst_y0 + rows, dst_x0 : dst_x0 + cols] = scaled_rgb[src_y0 : src_y0 + rows, src_x0 : src_x0 + cols]
    canvas_mask[dst_y0 : dst_y0 + rows, dst_x0 : dst_x0 + cols] = scaled_mask[
        src_y0 : src_y0 + rows, src_x0 : src_x0 + cols
    ]
    return canvas, canvas_mask


def pictures_of(images: torch.Tensor) -> list[Image.Image]:
    """An IMAGE batch as RGB Pillow images, the way ComfyUI's SaveImage converts them."""
    return [Image.fromarray(np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)) for image in images]


def png_with_workflow(image: Image.Image, prompt: dict | None, extra_pnginfo: dict | None, *, level: int = 4) -> bytes:
    """A PNG with the graph embedded as ComfyUI's SaveImage embeds it: a ``prompt`` text chunk (the API
    graph as JSON) and one chunk per key of ``extra_pnginfo`` (``workflow``, the editor's graph)."""
    metadata = PngInfo()
    if prompt is not None:
        metadata.add_text("prompt", json.dumps(prompt))
    for key, value in (extra_pnginfo or {}).items():
        metadata.add_text(key, json.dumps(value))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=metadata, compress_level=level)
    return out.getvalue()
