"""Easy Diffusion (through sdkit's ``save_dicts`` with "embed"): in a PNG, one text chunk per setting, each
value written with Python's ``str`` (a list of LoRAs reads ``['a', 'b']``, nothing reads ``None``); in a
JPEG or WebP, the same settings as a JSON object in EXIF UserComment. Keys as its save_utils names them:
prompt, negative_prompt, seed, use_stable_diffusion_model, sampler_name, num_inference_steps,
guidance_scale, use_lora_model and lora_alpha (one, or lists of the same length), clip_skip, ..."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from ...domain import Generation, Lora
from .fields import exact_seed, number, string, text

__all__ = ["is_easydiffusion", "parse_easydiffusion"]

# Keys no other generator writes; two of them make a picture Easy Diffusion's.
_MARKERS = ("use_stable_diffusion_model", "num_inference_steps", "sampler_name", "use_vae_model")
_MAX_LIST = 64 << 10  # a list written as text larger than this is not read


def is_easydiffusion(settings: Mapping[str, object]) -> bool:
    return sum(key in settings for key in _MARKERS) >= 2


def _value(raw: object) -> object:
    """A setting as Easy Diffusion meant it: PNG chunks hold ``str(value)``, JSON the value itself."""
    if not isinstance(raw, (str, bytes)):
        return raw
    value = text(raw)
    if value is None or value == "None":
        return None
    if value.startswith("["):
        if len(value) > _MAX_LIST:
            return None
        try:
            parsed = ast.literal_eval(value)  # literals only: never runs anything
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def _loras(names: object, weights: object) -> list[Lora]:
    names = names if isinstance(names, list) else [names]
    weights = weights if isinstance(weights, list) else [weights] * len(names)
    return [
        Lora(name, number(weights[n], float) if n < len(weights) else None)
        for n, name in enumerate(names)
        if string(name)
    ]


def parse_easydiffusion(settings: Mapping[str, object], raw: str) -> Generation:
    """``settings``: the PNG's text chunks, or the JSON object of a JPEG's or WebP's UserComment."""
    get = lambda key: _value(settings.get(key))  # noqa: E731
    return Generation(
        tool="easydiffusion",
        positive=string(get("prompt")) or "",
        negative=string(get("negative_prompt")) or "",
        checkpoint=string(get("use_stable_diffusion_model")),
        loras=_loras(get("use_lora_model"), get("lora_alpha")),
        seed=exact_seed(get("seed")),
        sampler=string(get("sampler_name")),
        steps=number(get("num_inference_steps"), int),
        cfg=number(get("guidance_scale"), float),
        raw_parameters=raw,
    )
