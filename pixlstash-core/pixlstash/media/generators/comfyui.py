"""ComfyUI: the API-format ``prompt`` graph and the UI ``workflow``, in a PNG's text chunks, a WebP's EXIF
Make/Model (``prompt:{...}``, ``workflow:{...}``), or a video's container tags (SaveVideo and SaveWEBM
write ``prompt`` and ``workflow``; Video Helper Suite writes one ``comment`` holding both)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping

from ...domain import Generation, Lora
from .comfyui_workflow import api_graph
from .fields import exact_seed, json_object, number, text

__all__ = ["from_video_tags", "parse_comfyui"]

log = logging.getLogger(__name__)


MAX_NODES = 100_000  # a graph larger than any real workflow is kept raw, not read
MAX_TEXTS = 1_000  # prompt texts kept from one graph (each distinct text once)
_TEXT_INPUTS = ("text", "text_g", "text_l", "prompt")
# Text typed into a primitive or string node and wired into a text encoder (ComfyUI's PrimitiveString,
# PrimitiveStringMultiline, string concatenation and other packs' text nodes).
_STRING_INPUTS = ("value", "string", "string_a", "string_b")
_STRING_NODE = re.compile(r"String|Primitive|Text", re.IGNORECASE)
# A text encoder is known by its shape, not its class name: a node given a CLIP (``clip`` linked) whose
# text inputs are strings (CLIPTextEncode's text; SD3's and HiDream's clip_l, clip_g, t5xxl, llama; Flux's
# clip_l and t5xxl; Qwen's prompt ...). Its other string inputs are choices, never prompts.
_ENCODER_CHOICES = frozenset({"empty_padding", "system_prompt", "type", "device", "crop", "upscale_method"})
# Links that carry no text: the CLIP and model chains (LoRA loaders' lora_name, checkpoint names).
_NO_TEXT_LINKS = frozenset({"clip", "model", "vae", "clip_vision", "control_net", "style_model"})
_SEED_INPUTS = ("noise_seed", "seed", "value")
_POSITIVE_INPUTS = ("positive", "conditioning", "cond1", "cond2")


def _linked(nodes: Mapping[str, object], value: object) -> dict | None:
    """The inputs of the node a link ``[node id, output]`` points at."""
    if not (isinstance(value, list) and value and isinstance(value[0], (str, int))):
        return None
    node = nodes.get(str(value[0]))
    inputs = node.get("inputs") if isinstance(node, dict) else None
    return inputs if isinstance(inputs, dict) else None


def _through(nodes: Mapping[str, object], link: object, via: str, wanted: str) -> dict | None:
    """The inputs of the first node up a chain (each node's ``via`` input: SetFirstSigma, SplitSigmas and
    the like pass sigmas along) that holds ``wanted``."""
    for _ in range(8):
        inputs = _linked(nodes, link)
        if inputs is None or wanted in inputs:
            return inputs
        link = inputs.get(via)
    return None


def _value(nodes: Mapping[str, object], value: object, names: tuple[str, ...]) -> object:
    """A widget's value, followed through links to the node that holds it (a seed from a primitive node)."""
    for _ in range(8):
        inputs = _linked(nodes, value)
        if inputs is None:
            return value
        value = next((inputs[name] for name in names if name in inputs), None)
    return None


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
            for key in self._text_keys(node, inputs):
                if isinstance(inputs.get(key), str) and inputs[key].strip():
                    self.found.setdefault(inputs[key], None)
            # Walked depth first in input order (the order people read a graph's prompts in).
            links = [value for key, value in inputs.items() if isinstance(value, list) and key not in _NO_TEXT_LINKS]
            pending.extend(reversed(links))

    @staticmethod
    def _text_keys(node: dict, inputs: dict) -> tuple[str, ...] | list[str]:
        if isinstance(inputs.get("clip"), list):  # a text encoder: each string it is given but its choices
            return [key for key in inputs if key not in _ENCODER_CHOICES and not key.endswith("_name")]
        return _TEXT_INPUTS + (_STRING_INPUTS if _STRING_NODE.search(str(node.get("class_type", ""))) else ())

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
    if not nodes and workflow_json:  # no API graph: the editor's workflow, read for ComfyUI's core nodes
        try:
            nodes = api_graph(json.loads(workflow_json), MAX_NODES)
        except (ValueError, RecursionError):
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
    cfg = guidance = None
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
        if "guidance" in inputs and guidance is None:  # FluxGuidance, CLIPTextEncodeFlux
            guidance = number(_value(nodes, inputs.get("guidance"), ("value",)), float)
        if "Sampler" in kind or "sampler_name" in inputs or "guider" in inputs:
            # The custom-sampler path (SamplerCustomAdvanced, SamplerCustom) wires its settings in from
            # other nodes: noise (RandomNoise), sampler (KSamplerSelect), sigmas (BasicScheduler and the
            # other schedulers), guider (CFGGuider, BasicGuider); the plain KSampler holds them itself.
            noise = _linked(nodes, inputs.get("noise")) or inputs
            sigmas = _through(nodes, inputs.get("sigmas"), "sigmas", "steps") or inputs
            chosen = _linked(nodes, inputs.get("sampler")) or inputs
            guider = _linked(nodes, inputs.get("guider")) or inputs
            if seed is None:
                seed = exact_seed(_value(nodes, noise.get("noise_seed", noise.get("seed")), _SEED_INPUTS))
            if steps is None:
                steps = number(_value(nodes, sigmas.get("steps"), ("value",)), int)
            if cfg is None:  # CFGGuider's cfg, DualCFGGuider's cfg_conds
                cfg = number(_value(nodes, guider.get("cfg", guider.get("cfg_conds")), ("value",)), float)
            if isinstance(chosen.get("sampler_name"), str):
                sampler = sampler or chosen["sampler_name"]
            if isinstance(sigmas.get("scheduler"), str):
                scheduler = scheduler or sigmas["scheduler"]
            for name in _POSITIVE_INPUTS:  # KSampler and CFGGuider, BasicGuider, DualCFGGuider
                positive.add_from(guider.get(name))
            negative.add_from(guider.get("negative"))
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
        guidance=guidance,
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
