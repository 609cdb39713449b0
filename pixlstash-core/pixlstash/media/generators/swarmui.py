"""SwarmUI: a JSON object with ``sui_image_params`` (prompt, negativeprompt, model, seed, steps, cfgscale,
sampler, scheduler, loras with loraweights), in a PNG's ``parameters`` text or a JPEG/WebP's EXIF
UserComment; ``sui_extra_data`` beside it holds timings, kept in the raw text only."""

from __future__ import annotations

from ...domain import Generation, Lora
from .fields import exact_seed, number, string

__all__ = ["is_swarmui", "parse_swarmui"]


def is_swarmui(document: dict) -> bool:
    return isinstance(document.get("sui_image_params"), dict)


def _listed(value: object) -> list:
    """A SwarmUI list value: a JSON list, or the comma-separated text its metadata document also allows."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def parse_swarmui(document: dict, raw: str) -> Generation:
    params: dict = document["sui_image_params"]
    names, weights = _listed(params.get("loras")), _listed(params.get("loraweights"))
    loras = [
        Lora(name, number(weights[n], float) if n < len(weights) else None)
        for n, name in enumerate(names)
        if string(name)
    ]
    return Generation(
        tool="swarmui",
        positive=string(params.get("prompt")) or "",
        negative=string(params.get("negativeprompt")) or "",
        checkpoint=string(params.get("model")),
        loras=loras,
        seed=exact_seed(params.get("seed")),
        sampler=string(params.get("sampler")),
        scheduler=string(params.get("scheduler")),
        steps=number(params.get("steps"), int),
        cfg=number(params.get("cfgscale"), float),
        guidance=number(params.get("fluxguidancescale"), float),
        raw_parameters=raw,
    )
