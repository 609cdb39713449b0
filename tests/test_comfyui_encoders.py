"""Every text encoder a real ComfyUI serves (``/object_info``: each node given a CLIP that makes
CONDITIONING: CLIPTextEncode, SDXL's, SD3's ``clip_l``/``clip_g``/``t5xxl``, Flux's, HiDream's ``llama``,
Qwen's, Lumina's ...) gives the reader its prompt, whatever its inputs are called: found by the graph's
shape, not a list of class names (issue 63). Each is wired as a user wires it (a checkpoint's CLIP through a
LoRA loader, into the encoder, into a KSampler), its text inputs filled with distinct words, its choices
with ComfyUI's own first option. The choices, the LoRA's file name and the checkpoint never read as prompt."""

from __future__ import annotations

import json

import pytest

from pixlstash.media.generators.comfyui import parse_comfyui

pytestmark = pytest.mark.slow


def _encoders(info: dict) -> dict[str, dict]:
    """ComfyUI's nodes that take a CLIP and give CONDITIONING, with their inputs (required and optional)."""
    found = {}
    for name, node in info.items():
        inputs = {**node["input"].get("required", {}), **node["input"].get("optional", {})}
        takes_clip = any(spec[0] == "CLIP" for spec in inputs.values() if isinstance(spec, list) and spec)
        if takes_clip and "CONDITIONING" in node.get("output", []):
            found[name] = inputs
    return found


def _choices(spec: list) -> list | None:
    kind = spec[0]
    if isinstance(kind, list):
        return kind
    if kind == "COMBO":
        return spec[1].get("options") if len(spec) > 1 else None
    return None


def _graph(name: str, inputs: dict) -> tuple[dict, list[str], list[str]]:
    """(the API graph, the texts typed into the encoder, the choices made on it)."""
    texts, choices, encoder = [], [], {}
    for key, spec in inputs.items():
        if not (isinstance(spec, list) and spec):
            continue
        options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
        if spec[0] == "CLIP":
            encoder[key] = ["2", 1]
        elif (listed := _choices(spec)) is not None:
            if listed:
                encoder[key] = listed[0]
                choices.append(str(listed[0]))
        elif spec[0] == "STRING":
            encoder[key] = f"{key} words for {name}"
            texts.append(encoder[key])
        elif spec[0] in ("INT", "FLOAT", "BOOLEAN"):
            encoder[key] = options.get("default", 0)
        else:  # another link (an image, a VAE): from a node that holds no text
            encoder[key] = ["9", 0]
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "base.safetensors"}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "strength_model": 0.8,
              "strength_clip": 0.8, "lora_name": "film_grain.safetensors"}},
        "3": {"class_type": name, "inputs": encoder},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "negative words"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0],
              "latent_image": ["5", 0], "seed": 1, "steps": 20, "cfg": 4.5, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1.0}},
        "9": {"class_type": "LoadImage", "inputs": {"image": "reference.png"}},
    }  # fmt: skip
    return graph, texts, choices


def test_every_text_encoder_comfyui_serves_gives_its_prompt(comfyui):
    encoders = _encoders(comfyui.get("/object_info").json())
    # The ones issue 63 found losing their prompt are among them, as ComfyUI declares them.
    assert {"CLIPTextEncode", "CLIPTextEncodeSD3", "CLIPTextEncodeFlux", "CLIPTextEncodeHiDream"} <= set(encoders)
    assert {"clip_l", "clip_g", "t5xxl"} <= set(encoders["CLIPTextEncodeSD3"])
    read_in_full = []
    for name, inputs in sorted(encoders.items()):
        graph, texts, choices = _graph(name, inputs)
        if not texts:
            continue  # an encoder given no text (an image's, a pooled output's)
        g = parse_comfyui(json.dumps(graph), None)
        lines = g.positive.split("\n")
        assert sorted(lines) == sorted(texts), name  # every text, nothing else: no choice, file or name
        assert not set(choices) & set(lines), name
        assert g.negative == "negative words" and g.checkpoint == "base.safetensors", name
        assert [(lora.name, lora.weight) for lora in g.loras] == [("film_grain.safetensors", 0.8)], name
        read_in_full.append(name)
    assert len(read_in_full) >= 10, read_in_full


def test_flux_s_encoder_keeps_its_guidance_apart_from_the_sampler_s_cfg(comfyui):
    inputs = _encoders(comfyui.get("/object_info").json())["CLIPTextEncodeFlux"]
    graph, texts, _ = _graph("CLIPTextEncodeFlux", inputs)
    graph["3"]["inputs"]["guidance"] = 2.8
    g = parse_comfyui(json.dumps(graph), None)
    assert (g.cfg, g.guidance) == (4.5, 2.8)
    assert sorted(g.positive.split("\n")) == sorted(texts) and len(texts) == 2  # clip_l and t5xxl
