"""ComfyUI: the API-format ``prompt`` graph and the UI ``workflow``, in a PNG's text chunks, a WebP's EXIF
Make/Model (``prompt:{...}``, ``workflow:{...}``), or a video's container tags (SaveVideo and SaveWEBM
write ``prompt`` and ``workflow``; Video Helper Suite writes one ``comment`` holding both)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from ...domain import Generation, Lora
from .fields import exact_seed, json_object, number, text

__all__ = ["from_video_tags", "parse_comfyui"]

log = logging.getLogger(__name__)


MAX_NODES = 100_000  # a graph larger than any real workflow is kept raw, not read
MAX_TEXTS = 1_000  # prompt texts kept from one graph (each distinct text once)
_TEXT_INPUTS = ("text", "text_g", "text_l", "prompt")


class _Texts:
    """The prompt texts that feed conditioning inputs of one kind (positive, or negative), collected over
    every sampler of a graph in one walk: a node reached once is never walked again, so a graph read costs
    time in proportion to its size, and a deep chain needs no recursion."""

    def __init__(self, nodes: Mapping[str, object]) -> None:
        self.nodes, self.seen, self.found = nodes, set(), {}

    def add_from(self, link: object) -> None:
        pending = [link]
        while pending and len(self.found) < MAX_TEXTS:
            link = pending.pop()
            if not (isinstance(link, list) and link) or not isinstance(link[0], (str, int)):
                continue
            node_id = str(link[0])
            if node_id in self.seen or node_id not in self.nodes:
                continue
            self.seen.add(node_id)
            node = self.nodes[node_id]
            inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
            if not isinstance(inputs, dict):
                continue
            for key in _TEXT_INPUTS:
                if isinstance(inputs.get(key), str):
                    self.found.setdefault(inputs[key], None)
            # Walked depth first in input order (the order people read a graph's prompts in).
            pending.extend(reversed([value for value in inputs.values() if isinstance(value, list)]))

    def joined(self) -> str:
        return "\n".join(self.found)


def parse_comfyui(
    prompt_json: str | None, workflow_json: str | None, notes: list[str] | None = None
) -> Generation | None:
    """Parse ComfyUI's API-format ``prompt`` graph: sampler settings, prompts, checkpoint and LoRAs. What
    the person should know about the file (a graph too large to read) is added to ``notes``."""
    try:
        nodes = json.loads(prompt_json) if prompt_json else {}
    except (ValueError, RecursionError):
        nodes = {}
    if not isinstance(nodes, dict):
        nodes = {}
    if len(nodes) > MAX_NODES:
        said = f"its ComfyUI graph has {len(nodes):,} nodes (over {MAX_NODES:,}): kept as it is, not read"
        log.warning("a picture's %s", said)
        if notes is not None:
            notes.append(said)
        nodes = {}  # read no further; the raw graph is still kept below
    elif not nodes and not workflow_json:
        return None
    positive, negative = _Texts(nodes), _Texts(nodes)
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
            positive.add_from(inputs.get("positive"))
            negative.add_from(inputs.get("negative"))
    return Generation(
        tool="comfyui",
        positive=positive.joined(),
        negative=negative.joined(),
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


def from_video_tags(tags: Mapping[str, str], notes: list[str] | None = None) -> Generation | None:
    """A video container's metadata tags (keys compared without case: Matroska writes them upper case)."""
    lowered = {str(k).lower(): v for k, v in tags.items()}
    prompt, workflow = text(lowered.get("prompt")), text(lowered.get("workflow"))
    if not (prompt or workflow):
        comment = json_object(lowered.get("comment"))
        if comment is not None:
            prompt, workflow = _as_json(comment.get("prompt")), _as_json(comment.get("workflow"))
    return parse_comfyui(prompt, workflow, notes) if prompt or workflow else None


def _as_json(value: object) -> str | None:
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict) else None
