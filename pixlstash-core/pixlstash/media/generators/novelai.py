"""NovelAI: PNG text chunks ``Software`` ("NovelAI"), ``Source`` (the model, e.g. "NovelAI Diffusion V4
..."), ``Description`` (the prompt) and ``Comment``, a JSON object: prompt, uc (the negative prompt),
steps, scale, seed, sampler, noise_schedule; V4 images also carry v4_prompt / v4_negative_prompt."""

from __future__ import annotations

from collections.abc import Mapping

from ...domain import Generation
from .fields import exact_seed, json_object, number, string, text

__all__ = ["is_novelai", "parse_novelai"]


def is_novelai(info: Mapping[str, object]) -> bool:
    return text(info.get("Software")) == "NovelAI" and json_object(info.get("Comment")) is not None


def _caption(value: object) -> str | None:
    """V4's {"caption": {"base_caption": ...}}."""
    caption = value.get("caption") if isinstance(value, dict) else None
    return string(caption.get("base_caption")) if isinstance(caption, dict) else None


def parse_novelai(info: Mapping[str, object]) -> Generation:
    raw = text(info.get("Comment")) or ""
    comment = json_object(raw) or {}
    positive = string(comment.get("prompt")) or _caption(comment.get("v4_prompt")) or text(info.get("Description"))
    return Generation(
        tool="novelai",
        positive=positive or "",
        negative=string(comment.get("uc")) or _caption(comment.get("v4_negative_prompt")) or "",
        checkpoint=text(info.get("Source")),
        seed=exact_seed(comment.get("seed")),
        sampler=string(comment.get("sampler")),
        scheduler=string(comment.get("noise_schedule")),
        steps=number(comment.get("steps"), int),
        cfg=number(comment.get("scale"), float),
        raw_parameters=raw,
    )
