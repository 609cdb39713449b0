"""ComfyUI's editor-format ``workflow`` turned into the API format the reader understands, for a picture
that carries no ``prompt`` (an editor or an upload tool kept only the workflow). The editor keeps each
node's widget values as a list in its own order; for ComfyUI's core nodes that order is fixed, and links
name the node and output they come from. A muted node is left out, as ComfyUI leaves it out of what it
runs; a bypassed one passes its inputs through, so it stays as a link in the chain and nothing more."""

from __future__ import annotations

__all__ = ["api_graph"]

_SEED = ("seed", None)  # the editor keeps "control after generate" after every seed widget
# class -> its widgets' names, in the order the editor saves them (None: a widget the reader has no use for)
WIDGETS: dict[str, tuple[str | None, ...]] = {
    "KSampler": (*_SEED, "steps", "cfg", "sampler_name", "scheduler", "denoise"),
    "KSamplerAdvanced": ("add_noise", "noise_seed", None, "steps", "cfg", "sampler_name", "scheduler"),
    "SamplerCustom": ("add_noise", "noise_seed", None, "cfg"),
    "RandomNoise": ("noise_seed", None),
    "KSamplerSelect": ("sampler_name",),
    "BasicScheduler": ("scheduler", "steps", "denoise"),
    # ComfyUI's other sigma nodes (comfy_extras/nodes_custom_sampler.py): steps come first
    "KarrasScheduler": ("steps",),
    "ExponentialScheduler": ("steps",),
    "PolyexponentialScheduler": ("steps",),
    "LaplaceScheduler": ("steps",),
    "VPScheduler": ("steps",),
    "BetaSamplingScheduler": ("steps", "alpha", "beta"),
    "SDTurboScheduler": ("steps", "denoise"),
    # and those of comfy_extras' model-specific files
    "AlignYourStepsScheduler": ("model_type", "steps", "denoise"),
    "GITSScheduler": ("coeff", "steps", "denoise"),
    "OptimalStepsScheduler": ("model_type", "steps", "denoise"),
    "LTXVScheduler": ("steps", "max_shift", "base_shift", "stretch", "terminal"),
    "CFGGuider": ("cfg",),
    "DualCFGGuider": ("cfg_conds", "cfg_cond2_negative", "style"),
    "FluxGuidance": ("guidance",),
    "CLIPTextEncode": ("text",),
    "CheckpointLoaderSimple": ("ckpt_name",),
    "UNETLoader": ("unet_name", "weight_dtype"),
    "LoraLoader": ("lora_name", "strength_model", "strength_clip"),
    "LoraLoaderModelOnly": ("lora_name", "strength_model"),
    "PrimitiveNode": ("value",),  # the editor's own primitive: the API graph holds its value inline
    "PrimitiveString": ("value",),
    "PrimitiveStringMultiline": ("value",),
    "PrimitiveInt": ("value", None),
    "PrimitiveFloat": ("value",),
}
_MUTED, _BYPASSED = 2, 4  # the editor's modes


def api_graph(workflow: object, max_nodes: int) -> dict:
    """The API-format graph of an editor-format workflow ({} when it is not one, or larger than ``max_nodes``)."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        return {}
    nodes = workflow["nodes"]
    if len(nodes) > max_nodes:
        return {}
    sources = {}
    for link in workflow.get("links") or []:
        if isinstance(link, list) and len(link) >= 3 and isinstance(link[1], (int, str)):
            sources[link[0]] = [str(link[1]), link[2]]
    graph: dict[str, dict] = {}
    for node in nodes:
        if not isinstance(node, dict) or node.get("mode") == _MUTED or "id" not in node:
            continue
        bypassed = node.get("mode") == _BYPASSED
        inputs: dict[str, object] = {}
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and slot.get("link") in sources and isinstance(slot.get("name"), str):
                inputs[slot["name"]] = sources[slot["link"]]
        values = None if bypassed else node.get("widgets_values")
        if isinstance(values, list):
            for name, value in zip(WIDGETS.get(str(node.get("type")), ()), values, strict=False):
                if name is not None and name not in inputs:  # a widget turned into a linked input is linked
                    inputs[name] = value
        kind = "Bypassed" if bypassed else str(node.get("type", ""))
        graph[str(node["id"])] = {"class_type": kind, "inputs": inputs}
    return graph
