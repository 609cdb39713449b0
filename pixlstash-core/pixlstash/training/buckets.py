"""Aspect-ratio buckets as the trainers make them: which bucket each picture lands in, how it is resized
into it and how much the crop cuts, before a night of GPU time shows it in a training log.

Two trainers' rules, written from what their code does (tests/test_dataset_buckets.py runs their own
functions from ``../shared/reference`` on hundreds of sizes and compares every answer):

- kohya-ss sd-scripts (``library/train_util.py``, ``BucketManager``): a fixed set of buckets of
  ``bucket_reso_steps`` multiples whose area is at most ``resolution``², sides within ``min_bucket_reso`` and
  ``max_bucket_reso`` plus the square; a picture goes to the bucket whose aspect ratio is nearest its own and
  is scaled to cover it (up as well as down). With ``bucket_no_upscale`` a picture gets a bucket of its own
  size: shrunk only when its area is over ``resolution``², then cut down to step multiples.
- ostris ai-toolkit (``toolkit/buckets.py``): the picture's own aspect at the same number of pixels, capped
  at ``resolution``², each side rounded to ``bucket_tolerance`` so that the area is nearest that target; the
  picture is scaled to cover it (rounded up) and cropped in the middle.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["BucketPlacement", "BucketRules", "bucket_for", "kohya_buckets"]

Trainer = Literal["sd-scripts", "ai-toolkit"]


class BucketRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A trainer's bucket options, named as its config names them (defaults: the trainer's own)."""

    trainer: Trainer = "sd-scripts"
    resolution: Annotated[int, Meta(ge=64, le=8192)] = 1024
    min_bucket_reso: Annotated[int, Meta(ge=8, le=16_384)] = 256  # sd-scripts
    # sd-scripts (its own default, 1024, refuses a resolution over it)
    max_bucket_reso: Annotated[int, Meta(ge=64, le=16_384)] = 2048
    bucket_reso_steps: Annotated[int, Meta(ge=8, le=512)] = 64  # sd-scripts
    bucket_no_upscale: bool = False  # sd-scripts
    # ai-toolkit: its dataset takes the model's divisibility over the config's bucket_tolerance (16 for SDXL and Flux)
    bucket_tolerance: Annotated[int, Meta(ge=1, le=512)] = 16

    def checked(self) -> BucketRules:
        """The rules as the trainer takes them: sd-scripts moves min/max to step multiples (down and up)
        and refuses a resolution outside them. ``ValueError`` with the trainer's reason."""
        if self.resolution < 64 or self.bucket_reso_steps < 8 or self.bucket_tolerance < 1:
            raise ValueError("resolution must be at least 64, bucket_reso_steps 8 and bucket_tolerance 1")
        if self.trainer == "ai-toolkit":
            return self
        steps = self.bucket_reso_steps
        low = self.min_bucket_reso - self.min_bucket_reso % steps
        high = self.max_bucket_reso + (-self.max_bucket_reso) % steps
        if not low <= self.resolution <= high:
            raise ValueError(f"sd-scripts needs min_bucket_reso <= resolution <= max_bucket_reso ({low}, {high})")
        if low == 0 and not self.bucket_no_upscale:  # its bucket list would start at a width of 0
            raise ValueError("min_bucket_reso comes to 0 in steps of bucket_reso_steps: sd-scripts divides by zero")
        return msgspec.structs.replace(self, min_bucket_reso=low, max_bucket_reso=high)


class BucketPlacement(msgspec.Struct, frozen=True):
    """Where one picture of ``width`` x ``height`` goes: its bucket, the size it is scaled to before the
    crop, the bucket's aspect ratio minus the picture's, and the share of the scaled picture the crop cuts."""

    bucket: tuple[int, int]
    resized: tuple[int, int]
    aspect_error: float | None  # None: no bucket (a side of 0, which sd-scripts stops on)
    cut: float
    upscaled: bool  # scaled up to reach its bucket: a picture smaller than what it trains as


@cache
def kohya_buckets(resolution: int, low: int, high: int, steps: int) -> tuple[tuple[int, int], ...]:
    """sd-scripts' predefined buckets, sorted: the square of the largest step multiple within the area,
    and for each width from ``low`` to ``high`` the tallest step-multiple height within the area (at most
    ``high``, at least ``low``), both ways round."""
    area = resolution * resolution
    side = int(math.sqrt(area) // steps) * steps
    found = {(side, side)}
    for width in range(low, high + 1, steps):
        height = min(high, int((area // width) // steps) * steps)
        if height >= low:
            found.update({(width, height), (height, width)})
    return tuple(sorted(found))


def _down_to(value: float, steps: int) -> int:
    rounded = int(value + 0.5)
    return rounded - rounded % steps


def _kohya(width: int, height: int, rules: BucketRules) -> tuple[tuple[int, int], tuple[int, int]]:
    aspect, steps = width / height, rules.bucket_reso_steps
    if not rules.bucket_no_upscale:
        buckets = kohya_buckets(rules.resolution, rules.min_bucket_reso, rules.max_bucket_reso, steps)
        if (width, height) in buckets:
            bucket = (width, height)
        else:  # the nearest aspect ratio; of equals, the first in sorted order (numpy's argmin)
            bucket = min(buckets, key=lambda b: abs(b[0] / b[1] - aspect))
        # Scaled so that the picture covers the bucket: by height when it is wider than the bucket.
        scale = bucket[1] / height if aspect > bucket[0] / bucket[1] else bucket[0] / width
        return bucket, (int(width * scale + 0.5), int(height * scale + 0.5))
    area = rules.resolution * rules.resolution
    if width * height > area:
        # Shrunk to the area at its own aspect; then whichever side, rounded to steps first, keeps the aspect
        # nearer (the other side follows it).
        scaled_width = math.sqrt(area * aspect)
        scaled_height = area / scaled_width
        by_width = _down_to(scaled_width, steps)
        by_width_height = _down_to(by_width / aspect, steps)
        by_height = _down_to(scaled_height, steps)
        by_height_width = _down_to(by_height * aspect, steps)
        if abs(by_width / by_width_height - aspect) < abs(by_height_width / by_height - aspect):
            resized = (by_width, int(by_width / aspect + 0.5))
        else:
            resized = (int(by_height * aspect + 0.5), by_height)
    else:
        resized = (width, height)
    return (resized[0] - resized[0] % steps, resized[1] - resized[1] % steps), resized


def _ai_toolkit(width: int, height: int, rules: BucketRules) -> tuple[tuple[int, int], tuple[int, int]]:
    step, most = rules.bucket_tolerance, rules.resolution * rules.resolution
    target = min(width * height, most)
    scale = (target / (width * height)) ** 0.5
    across, down = width * scale / step, height * scale / step
    sizes = [
        (w * step, h * step)
        for w in (math.floor(across), math.ceil(across))
        for h in (math.floor(down), math.ceil(down))
    ]
    within = [(w, h) for w, h in sizes if w > 0 and h > 0 and w * h <= most]
    if not within:
        within = [(max(step, math.floor(across) * step), max(step, math.floor(down) * step))]
    bucket = min(within, key=lambda size: abs(size[0] * size[1] - target))  # of equals, the first tried
    cover = max(bucket[0] / width, bucket[1] / height)
    return bucket, (math.ceil(width * cover), math.ceil(height * cover))


def bucket_for(width: int, height: int, rules: BucketRules) -> BucketPlacement:
    """Where a picture of this size goes under ``rules`` (``BucketRules.checked`` first)."""
    if width <= 0 or height <= 0:
        raise ValueError("a picture's width and height must be positive")
    bucket, resized = (_kohya if rules.trainer == "sd-scripts" else _ai_toolkit)(width, height, rules)
    area = resized[0] * resized[1]
    cut = 1 - (bucket[0] * bucket[1]) / area if area else 0.0
    aspect_error = bucket[0] / bucket[1] - width / height if bucket[0] and bucket[1] else None
    return BucketPlacement(bucket, resized, aspect_error, max(0.0, cut), resized[0] > width or resized[1] > height)
