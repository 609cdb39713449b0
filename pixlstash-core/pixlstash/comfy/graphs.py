"""ComfyUI API graphs (the JSON ComfyUI's ``/prompt`` takes and its SaveImage embeds as ``prompt``), read
and changed without ComfyUI: a remix's new seed, prompt and LoRA strengths; the picture a workflow runs
on; and the pre-flight that finds, before anything is queued, every node class, model or input a ComfyUI
lacks. Pure functions: graphs in, graphs or lists of problems out."""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Mapping
from pathlib import PurePosixPath

from ..errors import BadInput

__all__ = [
    "image_inputs",
    "parse_graph",
    "preflight",
    "remix",
    "saved_images",
    "with_image",
]

_SEED_INPUTS = ("seed", "noise_seed")
_MAX_SEED = 2**53 - 1  # what every ComfyUI front end can show exactly


def parse_graph(text: str | bytes | dict) -> dict:
    """An API graph (a new one) from JSON or a dict, or ``BadInput`` saying what it is instead."""
    try:
        graph = json.loads(text) if isinstance(text, (str, bytes)) else copy.deepcopy(text)  # the caller's stays
    except ValueError as error:
        raise BadInput(f"the workflow is not JSON: {error}") from None
    if isinstance(graph, dict) and isinstance(graph.get("nodes"), list):
        raise BadInput(
            "this is ComfyUI's editor format; export the workflow with Workflow > Export (API) and use that file"
        )
    if not isinstance(graph, dict) or not graph:
        raise BadInput("a workflow in API format is a JSON object of nodes")
    for node_id, node in graph.items():
        if not (
            isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(node.get("inputs"), dict)
        ):
            raise BadInput(f"node {node_id} of the workflow has no class_type and inputs: is it in API format?")
    return graph


def remix(
    graph: dict,
    *,
    seed: int | None = None,
    positive: str | None = None,
    loras: Mapping[str, float] | None = None,
) -> tuple[dict, int]:
    """The graph with every sampler's seed set to ``seed`` (a new random one when None), the positive
    prompt text replaced, and the named LoRAs at new strengths; returns (graph, seed used)."""
    graph = copy.deepcopy(graph)
    if seed is None:
        seed = secrets.randbelow(_MAX_SEED)
    if not 0 <= seed <= 0xFFFFFFFFFFFFFFFF:
        raise BadInput("a seed is a whole number from 0 to 18446744073709551615")
    seeded = [
        (node_id, name)
        for node_id, node in graph.items()
        for name in _SEED_INPUTS
        if isinstance(node["inputs"].get(name), int) and not isinstance(node["inputs"][name], bool)
    ]
    if not seeded:
        raise BadInput("the workflow has no sampler seed to change (no seed or noise_seed input)")
    for node_id, name in seeded:
        graph[node_id]["inputs"][name] = seed
    if positive is not None:
        _positive_text_node(graph)["inputs"]["text"] = positive
    for name, strength in (loras or {}).items():
        matched = [node for node in graph.values() if _same_model(node["inputs"].get("lora_name"), name)]
        if not matched:
            known = sorted({str(n["inputs"]["lora_name"]) for n in graph.values() if "lora_name" in n["inputs"]})
            raise BadInput(f"the workflow loads no LoRA {name!r} (it loads: {', '.join(known) or 'none'})")
        for node in matched:
            for key in ("strength_model", "strength_clip", "strength"):
                if key in node["inputs"] and not isinstance(node["inputs"][key], list):
                    node["inputs"][key] = float(strength)
    return graph, seed


def _positive_text_node(graph: dict) -> dict:
    """The text node a sampler's ``positive`` input comes from (through conditioning nodes in between)."""
    for node in graph.values():
        link = node["inputs"].get("positive")
        seen = set()
        while _is_link(link) and str(link[0]) in graph and str(link[0]) not in seen:
            seen.add(str(link[0]))
            source = graph[str(link[0])]
            if isinstance(source["inputs"].get("text"), str):
                return source
            link = next((v for v in source["inputs"].values() if _is_link(v)), None)
    raise BadInput(
        "the workflow's positive prompt could not be found (no sampler whose positive input leads to a text)"
    )


def _same_model(value: object, name: str) -> bool:
    """LoRA names as the library shows them: any case, with or without folder and extension."""
    if not isinstance(value, str):
        return False
    stem = lambda text: PurePosixPath(text.replace("\\", "/")).stem.casefold()  # noqa: E731
    return value.casefold() == name.casefold() or stem(value) == stem(name)


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def image_inputs(graph: dict) -> list[str]:
    """The nodes a picture can be fed to: ComfyUI's LoadImage nodes, by id."""
    return sorted((node_id for node_id, node in graph.items() if node["class_type"] == "LoadImage"), key=_node_order)


def with_image(graph: dict, node_id: str | None, image_name: str) -> dict:
    """The graph with ``image_name`` (in ComfyUI's input folder) in its image input ``node_id`` (or its
    only LoadImage)."""
    inputs = image_inputs(graph)
    if node_id is None:
        if len(inputs) != 1:
            raise BadInput(
                f"the workflow has {len(inputs)} LoadImage nodes ({', '.join(inputs) or 'none'}): "
                "say which one the pictures go to"
            )
        node_id = inputs[0]
    if node_id not in inputs:
        raise BadInput(
            f"node {node_id} is not a LoadImage node of the workflow (those are: {', '.join(inputs) or 'none'})"
        )
    graph = copy.deepcopy(graph)
    graph[node_id]["inputs"]["image"] = image_name
    return graph


def preflight(graph: dict, object_info: dict, *, fed: tuple[str, ...] = ()) -> list[str]:
    """Everything that would stop ``graph`` on the ComfyUI whose ``/object_info`` this is: node classes it
    lacks (a custom node pack not installed), models and other choices not in its lists, required inputs
    missing, links to nodes that are not there, and a graph that saves nothing. ``fed``: LoadImage nodes
    whose picture is uploaded when the run starts (not checked against the input folder)."""
    problems = []
    saves = False
    for node_id in sorted(graph, key=_node_order):
        node = graph[node_id]
        info = object_info.get(node["class_type"])
        where = f"node {node_id} ({node['class_type']})"
        if info is None:
            problems.append(f"{where}: this ComfyUI has no such node (a custom node pack is not installed there)")
            continue
        saves = saves or (bool(info.get("output_node")) and node["class_type"] != "PreviewImage")
        declared = {**info.get("input", {}).get("optional", {}), **info.get("input", {}).get("required", {})}
        for name in info.get("input", {}).get("required", {}):
            if name not in node["inputs"]:
                problems.append(f"{where}: the required input {name} is not set")
        for name, value in node["inputs"].items():
            spec = declared.get(name)
            if _is_link(value):
                if str(value[0]) not in graph:
                    problems.append(f"{where}: {name} comes from node {value[0]}, which the workflow does not have")
                continue
            if spec is None or node_id in fed:
                continue
            choices = _choices(spec)
            if choices is not None and value not in choices:
                problems.append(f"{where}: {name} {value!r} is not on this ComfyUI ({_what(name)})")
    if not saves:
        problems.append("the workflow saves nothing: add a Save Image node (or the PixlStash Picture Saver)")
    return problems


def _choices(spec: list) -> list | None:
    """The allowed values of a combo input, in either of the forms ``/object_info`` uses."""
    if spec and isinstance(spec[0], list):
        return spec[0]
    if spec and spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return spec[1].get("options")
    return None


def _what(name: str) -> str:
    if name.endswith(("ckpt_name", "lora_name", "vae_name", "unet_name", "clip_name", "control_net_name")):
        return "the model is missing from its models folder"
    if name == "image":
        return "the picture is not in its input folder"
    return "not one of the values it offers"


def _node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id), node_id) if node_id.isdigit() else (1 << 62, node_id)


def saved_images(entry: dict) -> list[dict]:
    """The pictures a finished prompt saved (its history entry's outputs of type "output": SaveImage and
    the like, not previews), in node order: [{"filename", "subfolder", "type"}, ...]."""
    saved = []
    for node_id in sorted(entry.get("outputs", {}), key=_node_order):
        for image in entry["outputs"][node_id].get("images", []):
            if image.get("type") == "output":
                saved.append(image)
    return saved
