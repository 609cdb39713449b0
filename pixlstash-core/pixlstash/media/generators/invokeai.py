"""InvokeAI: the ``invokeai_metadata`` PNG text chunk (a JSON object: positive_prompt, negative_prompt,
model as an object with its name, loras as objects with a model and a weight, seed, steps, cfg_scale
and ``scheduler``, which in InvokeAI names the sampler; a FLUX graph adds ``guidance``), or the
``sd-metadata`` chunk of InvokeAI 2 (model_weights, and an ``image`` object whose prompt is a list of
weighted parts). The graph
(``invokeai_graph``) is kept as the raw workflow."""

from __future__ import annotations

from ...domain import Generation, Lora
from .fields import exact_seed, number, string

__all__ = ["parse_invokeai", "parse_invokeai_legacy"]


def _name(model: object) -> str | None:
    if isinstance(model, dict):
        return string(model.get("name")) or string(model.get("model_name"))
    return string(model)


def parse_invokeai(metadata: dict, raw: str, graph: str | None) -> Generation:
    loras = []
    for item in metadata.get("loras") if isinstance(metadata.get("loras"), list) else []:
        if isinstance(item, dict) and (name := _name(item.get("model") or item.get("lora"))):
            loras.append(Lora(name, number(item.get("weight"), float)))
    return Generation(
        tool="invokeai",
        positive=string(metadata.get("positive_prompt")) or "",
        negative=string(metadata.get("negative_prompt")) or "",
        checkpoint=_name(metadata.get("model")),
        loras=loras,
        seed=exact_seed(metadata.get("seed")),
        sampler=string(metadata.get("scheduler")),
        steps=number(metadata.get("steps"), int),
        cfg=number(metadata.get("cfg_scale"), float),
        guidance=number(metadata.get("guidance"), float),
        raw_parameters=raw,
        raw_workflow=graph,
    )


def parse_invokeai_legacy(metadata: dict, raw: str) -> Generation | None:
    image = metadata.get("image")
    if not isinstance(image, dict):
        return None
    prompt = image.get("prompt")
    if isinstance(prompt, list):  # [{"prompt": "...", "weight": 1.0}, ...]
        prompt = " ".join(p["prompt"] for p in prompt if isinstance(p, dict) and string(p.get("prompt")))
    return Generation(
        tool="invokeai",
        positive=string(prompt) or "",
        checkpoint=string(metadata.get("model_weights")),
        seed=exact_seed(image.get("seed")),
        sampler=string(image.get("sampler")),
        steps=number(image.get("steps"), int),
        cfg=number(image.get("cfg_scale"), float),
        raw_parameters=raw,
    )
