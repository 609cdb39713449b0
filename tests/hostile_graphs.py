"""ComfyUI prompt graphs shaped to cost a reader the most: one node shared by every sampler and fed by
every text node (quadratic to a reader that walks it once per sampler), and one long chain (deep to a
reader that recurses). Used by the tests and by ``benchmarks/bench_comfy_graph.py``."""

from __future__ import annotations

import json


def shared_fan(samplers: int, texts: int) -> dict:
    """``samplers`` KSamplers whose positive input is one Concat node fed by ``texts`` text nodes."""
    nodes: dict[str, dict] = {"hub": {"class_type": "ConditioningConcat", "inputs": {}}}
    for n in range(texts):
        nodes[f"t{n}"] = {"class_type": "CLIPTextEncode", "inputs": {"text": f"prompt part {n}", "clip": ["c", 0]}}
        nodes["hub"]["inputs"][f"in{n}"] = [f"t{n}", 0]
    for n in range(samplers):
        nodes[f"s{n}"] = {
            "class_type": "KSampler",
            "inputs": {"seed": n, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
                       "positive": ["hub", 0], "negative": ["hub", 0], "model": ["m", 0]},
        }  # fmt: skip
    return nodes


def chain(length: int) -> dict:
    """One sampler whose positive input runs through ``length`` conditioning nodes to a text node."""
    nodes: dict[str, dict] = {"0": {"class_type": "CLIPTextEncode", "inputs": {"text": "at the end of the chain"}}}
    for n in range(1, length):
        nodes[str(n)] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": [str(n - 1), 0]}}
    nodes["sampler"] = {
        "class_type": "KSampler",
        "inputs": {"seed": 7, "steps": 4, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple",
                   "positive": [str(length - 1), 0], "negative": [str(length - 1), 0]},
    }  # fmt: skip
    return nodes


def as_text(nodes: dict) -> str:
    return json.dumps(nodes, separators=(",", ":"))
