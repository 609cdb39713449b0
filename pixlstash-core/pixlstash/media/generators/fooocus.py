"""Fooocus in its own scheme: a JSON object in a PNG's ``parameters`` text (with a ``fooocus_scheme``
chunk saying "fooocus") or a JPEG/WebP's EXIF UserComment (the scheme in MakerNote). Keys as
Fooocus's meta_parser writes them: prompt, negative_prompt, base_model, sampler, scheduler, seed (text),
steps, guidance_scale, and LoRAs as ``loras`` ([name, weight, hash] lists) or ``lora_combined_N``
("name : weight"). Fooocus's A1111 scheme is A1111 text and read as such."""

from __future__ import annotations

from ...domain import Generation, Lora
from .fields import exact_seed, number, string

__all__ = ["is_fooocus", "parse_fooocus"]

_MARKERS = ("base_model", "full_prompt", "guidance_scale", "performance")


def is_fooocus(document: dict, scheme: str | None) -> bool:
    return scheme == "fooocus" or sum(key in document for key in _MARKERS) >= 2


def _loras(document: dict) -> list[Lora]:
    loras = []
    for item in document.get("loras") if isinstance(document.get("loras"), list) else []:
        if isinstance(item, list) and item and string(item[0]):
            loras.append(Lora(item[0], number(item[1], float) if len(item) > 1 else None))
    if loras:
        return loras
    for key in sorted(k for k in document if k.startswith("lora_combined_")):
        name, _, weight = str(document[key]).partition(" : ")
        if name.strip() and name.strip() != "None":
            loras.append(Lora(name.strip(), number(weight.strip(), float)))
    return loras


def parse_fooocus(document: dict, raw: str) -> Generation:
    return Generation(
        tool="fooocus",
        positive=string(document.get("prompt")) or "",
        negative=string(document.get("negative_prompt")) or "",
        checkpoint=string(document.get("base_model")),
        loras=_loras(document),
        seed=exact_seed(document.get("seed")),
        sampler=string(document.get("sampler")),
        scheduler=string(document.get("scheduler")),
        steps=number(document.get("steps"), int),
        cfg=number(document.get("guidance_scale"), float),
        raw_parameters=raw,
    )
