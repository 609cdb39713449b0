"""Draw Things: its generation data in the picture's XMP, a JSON object in ``exif:UserComment`` (c: prompt,
uc: negative, model, sampler, seed, steps, scale, lora: [{file, weight}]), the tool named in
``xmp:CreatorTool``. ``media/xmp.py`` reads the packet and hands over those two texts."""

from __future__ import annotations

import json

from ...domain import Generation, Lora
from .fields import exact_seed, number, string

__all__ = ["draw_things"]


def draw_things(creator_tool: str | None, raw: str | None) -> Generation | None:
    """The generation data in ``raw`` (the XMP's ``exif:UserComment``) when ``creator_tool`` is Draw Things."""
    if "Draw Things" not in (creator_tool or ""):
        return None
    try:
        document = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        return None
    listed = document.get("lora") if isinstance(document.get("lora"), list) else []
    loras = [
        Lora(item["file"], number(item.get("weight"), float))
        for item in listed
        if isinstance(item, dict) and string(item.get("file"))
    ]
    return Generation(
        tool="drawthings",
        positive=string(document.get("c")) or "",
        negative=string(document.get("uc")) or "",
        checkpoint=string(document.get("model")),
        loras=loras,
        seed=exact_seed(document.get("seed")),
        sampler=string(document.get("sampler")),
        steps=number(document.get("steps"), int),
        cfg=number(document.get("scale"), float),
        raw_parameters=raw,
    )
