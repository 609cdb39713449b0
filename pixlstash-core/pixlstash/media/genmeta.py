"""Generation metadata that AI images carry: ComfyUI ``prompt``/``workflow`` and A1111 ``parameters``.

Parsing is best effort and never raises: a malformed chunk yields what could be read, the raw text
is kept either way, so nothing is lost when a format changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from ..domain import Generation, Lora

__all__ = ["parse_a1111", "parse_comfyui", "read_generation"]

_MAX_CHUNK = 8 << 20  # a generation chunk larger than this is not metadata we keep
_LORA_IN_PROMPT = re.compile(r"<lora:([^:>]+)(?::([-\d.]+))?[^>]*>")
# "Key: value" pairs of A1111's last line; values may be quoted and contain commas.
_A1111_PAIR = re.compile(r'\s*([\w ./+-]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


_INT64 = 2**63
_SEED = re.compile(r"\s*-?\d{1,100}\s*")


def _number(value: object, kind: type) -> int | float | None:
    """A count or a setting as ``kind``; None when it is not one, or an integer past 64 bits."""
    if isinstance(value, bool):
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if kind is int and not -_INT64 <= number < _INT64 else number


def _seed(value: object) -> str | None:
    """A seed as exact decimal text: ComfyUI's reach 2^64 - 1 and A1111 writes any integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and _SEED.fullmatch(value):
        return str(int(value))
    return None


def _loras_from_prompt(prompt: str) -> list[Lora]:
    return [Lora(name.strip(), _number(weight, float)) for name, weight in _LORA_IN_PROMPT.findall(prompt)]


def parse_a1111(text: str) -> Generation:
    """Parse A1111/Forge ``parameters``: prompt, ``Negative prompt:`` and the ``Steps: ...`` line."""
    lines = text.strip().split("\n")
    settings: dict[str, str] = {}
    if lines and re.match(r"^\s*Steps:\s", lines[-1]):
        for key, value in _A1111_PAIR.findall(lines.pop()):
            settings[key.strip()] = value.strip().strip('"')
    positive_lines: list[str] = []
    negative_lines: list[str] = []
    target = positive_lines
    for line in lines:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line[len("Negative prompt:") :].lstrip()
        target.append(line)
    positive = "\n".join(positive_lines).strip()
    loras = _loras_from_prompt(positive)
    named = {lora.name for lora in loras}
    for item in settings.get("Lora hashes", "").split(","):
        name = item.split(":")[0].strip()
        if name and name not in named:
            loras.append(Lora(name))
    return Generation(
        tool="a1111",
        positive=positive,
        negative="\n".join(negative_lines).strip(),
        checkpoint=settings.get("Model") or settings.get("Model hash"),
        loras=loras,
        seed=_seed(settings.get("Seed")),
        sampler=settings.get("Sampler"),
        scheduler=settings.get("Schedule type"),
        steps=_number(settings.get("Steps"), int),
        cfg=_number(settings.get("CFG scale"), float),
        raw_parameters=text,
    )


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
            loras.append(Lora(inputs["lora_name"], _number(inputs.get("strength_model"), float)))
        if "Sampler" in kind or "sampler_name" in inputs:
            seed = seed if seed is not None else _seed(inputs.get("seed", inputs.get("noise_seed")))
            steps = steps if steps is not None else _number(inputs.get("steps"), int)
            cfg = cfg if cfg is not None else _number(inputs.get("cfg"), float)
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


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > _MAX_CHUNK:
        return None
    return value


def read_generation(
    info: Mapping[str, object], exif_fields: Mapping[str, object], user_comment: str | None
) -> Generation | None:
    """Find generation metadata in an image's text chunks (``image.info``) or EXIF."""
    prompt, workflow = _text(info.get("prompt")), _text(info.get("workflow"))
    # ComfyUI's WebP writer puts "workflow:{...}" and "prompt:{...}" in EXIF Make and Model.
    for field in ("make", "model"):
        value = exif_fields.get(field)
        if isinstance(value, str):
            if value.startswith("prompt:"):
                prompt = prompt or value[len("prompt:") :]
            elif value.startswith("workflow:"):
                workflow = workflow or value[len("workflow:") :]
    if prompt or workflow:
        return parse_comfyui(prompt, workflow)
    parameters = _text(info.get("parameters")) or user_comment
    if parameters and ("Steps:" in parameters or "Negative prompt:" in parameters):
        return parse_a1111(parameters)
    return None
