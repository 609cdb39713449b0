"""ComfyUI: the API-format ``prompt`` graph and the UI ``workflow``, in a PNG's text chunks, a WebP's EXIF
Make/Model (``prompt:{...}``, ``workflow:{...}``), or a video's container tags (SaveVideo and SaveWEBM
write ``prompt`` and ``workflow``; Video Helper Suite writes one ``comment`` holding both)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ...domain import Generation, Lora
from .fields import exact_seed, json_object, number, text

__all__ = ["from_video_tags", "parse_comfyui"]


def _upstream_texts(nodes: Mapping[str, object], link: object, seen: set[str]) -> list[str]:
    """Every prompt text feeding a conditioning input, following links through combine/concat nodes."""
    if not (isinstance(link, list) and link and str(link[0]) in nodes) or str(link[0]) in seen:
        return []
    node_id = str(link[0])
    seen.add(node_id)
    node = nodes[node_id]
    inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
    texts = [inputs[key] for key in ("text", "text_g", "text_l", "prompt") if isinstance(inputs.get(key), str)]
    for value in inputs.values():
        texts.extend(_upstream_texts(nodes, value, seen))
    return texts


def parse_comfyui(prompt_json: str | None, workflow_json: str | None) -> Generation | None:
    """Parse ComfyUI's API-format ``prompt`` graph: sampler settings, prompts, checkpoint and LoRAs."""
    try:
        nodes = json.loads(prompt_json) if prompt_json else {}
    except (ValueError, RecursionError):
        nodes = {}
    if not isinstance(nodes, dict):
        nodes = {}
    if not nodes and not workflow_json:
        return None
    positive: list[str] = []
    negative: list[str] = []
    checkpoint = sampler = scheduler = None
    seed = steps = None
    cfg = None
    loras: list[Lora] = []
    for node in nodes.values():
        if not isinstance(node, dict):
            continue
        inputs = node.get("inputs", {})
        if not isinstance(inputs, dict):
            continue
        kind = str(node.get("class_type", ""))
        if isinstance(inputs.get("ckpt_name"), str) and checkpoint is None:
            checkpoint = inputs["ckpt_name"]
        elif isinstance(inputs.get("unet_name"), str) and checkpoint is None:
            checkpoint = inputs["unet_name"]
        if isinstance(inputs.get("lora_name"), str):
            loras.append(Lora(inputs["lora_name"], number(inputs.get("strength_model"), float)))
        if "Sampler" in kind or "sampler_name" in inputs:
            seed = seed if seed is not None else exact_seed(inputs.get("seed", inputs.get("noise_seed")))
            steps = steps if steps is not None else number(inputs.get("steps"), int)
            cfg = cfg if cfg is not None else number(inputs.get("cfg"), float)
            if isinstance(inputs.get("sampler_name"), str):
                sampler = sampler or inputs["sampler_name"]
            if isinstance(inputs.get("scheduler"), str):
                scheduler = scheduler or inputs["scheduler"]
            positive.extend(_upstream_texts(nodes, inputs.get("positive"), set()))
            negative.extend(_upstream_texts(nodes, inputs.get("negative"), set()))
    return Generation(
        tool="comfyui",
        positive="\n".join(dict.fromkeys(positive)),
        negative="\n".join(dict.fromkeys(negative)),
        checkpoint=checkpoint,
        loras=loras,
        seed=seed,
        sampler=sampler,
        scheduler=scheduler,
        steps=steps if isinstance(steps, int) else None,
        cfg=cfg,
        raw_prompt=prompt_json,
        raw_workflow=workflow_json,
    )


def from_video_tags(tags: Mapping[str, str]) -> Generation | None:
    """A video container's metadata tags (keys compared without case: Matroska writes them upper case)."""
    lowered = {str(k).lower(): v for k, v in tags.items()}
    prompt, workflow = text(lowered.get("prompt")), text(lowered.get("workflow"))
    if not (prompt or workflow):
        comment = json_object(lowered.get("comment"))
        if comment is not None:
            prompt, workflow = _as_json(comment.get("prompt")), _as_json(comment.get("workflow"))
    return parse_comfyui(prompt, workflow) if prompt or workflow else None


def _as_json(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict) else None
