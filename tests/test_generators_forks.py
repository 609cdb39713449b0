"""A1111's scheme as its forks and Civitai write it (issue 63): Forge names itself by its version and keeps
Flux's "Distilled CFG Scale", SD.Next by ``App: SD.Next``, Civitai's on-site generator lists its checkpoint,
LoRAs and embeddings in ``Civitai resources: [...]``. Each file is written as the tool writes it (its
infotext line: A1111's ``create_infotext``, Forge's extra keys, SD.Next's ``App`` and ``Backend``, Civitai's
JSON values), imported into a real library, read back and searched; the raw parameter text is searchable."""

from __future__ import annotations

import json
import os

from corpus import photo
from PIL import PngImagePlugin

from pixlstash.domain import PictureFilter

FORGE = (
    "a koi pond under cherry blossoms, <lora:ukiyo_e:0.7>\n"
    "Negative prompt: blurry\n"
    "Steps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 1234, "
    'Size: 896x1152, Model hash: bea01d51bd, Model: flux1-dev-bnb-nf4-v2, Lora hashes: "ukiyo_e: 8a1f2c3d4e5f", '
    "Version: f2.0.1v1.10.1-previous-313-g8a042934, Module 1: ae, Module 2: clip_l, Module 3: t5xxl_fp8_e4m3fn"
)
SDNEXT = (
    "a brass diving helmet on a wooden pier\n"
    "Negative prompt: text, watermark\n"
    "Steps: 30, Seed: 987654321, Sampler: DPM++ 2M, CFG scale: 6, Size: 1024x1024, Batch: 1x1, "
    "Model: sd_xl_base_1.0, Model hash: 31e35c80fc, Backend: Diffusers, App: SD.Next, Version: 1b1f3c5, "
    "Operations: txt2img, Pipeline: StableDiffusionXLPipeline"
)
CIVITAI_RESOURCES = [
    {"type": "checkpoint", "modelVersionId": 290640, "modelName": "Pony Diffusion V6 XL",
     "modelVersionName": "V6 (start with this one)"},
    {"type": "lora", "weight": 0.8, "modelVersionId": 135867, "modelName": "Detail Tweaker XL",
     "modelVersionName": "v1.0"},
    {"type": "lora", "strength": 0.45, "modelVersionId": 471120, "modelName": "Film Grain", "modelVersionName": "v2"},
    {"type": "embed", "weight": 1, "modelVersionId": 134583, "modelName": "negativeXL", "modelVersionName": "D"},
]  # fmt: skip
CIVITAI = (
    "score_9, a fox in a snowy forest, watercolor\n"
    "Negative prompt: score_4, lowres\n"
    "Steps: 25, CFG scale: 7, Sampler: DPM++ 2M Karras, Seed: 4040404040, Size: 832x1216, Clip skip: 2, "
    "Created Date: 2025-03-14T10:22:31.1234567Z, "
    f"Civitai resources: {json.dumps(CIVITAI_RESOURCES, separators=(',', ':'))}, "
    'Civitai metadata: {"remixOfId":5551212}'
)
PLAIN_A1111 = (
    "a paper lantern\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512, Model: dreamshaper_8, "
    "Version: v1.10.1"
)


def _png(path, parameters: str, seed: int):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", parameters)
    photo(160, 200, seed).save(path, "PNG", pnginfo=info)
    return path


def test_forge_sdnext_and_civitai_are_named_and_read_in_full(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    files = [
        _png(folder / name, text, seed)
        for seed, (name, text) in enumerate(
            [("forge.png", FORGE), ("sdnext.png", SDNEXT), ("civitai.png", CIVITAI), ("a1111.png", PLAIN_A1111)]
        )
    ]
    report = library.import_paths(files)
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    assert len(ids) == 4

    def generation(name):
        return library.get(ids[name]).generation

    g = generation("forge.png")
    assert (g.tool, g.checkpoint, g.cfg, g.guidance, g.scheduler) == (
        "forge",
        "flux1-dev-bnb-nf4-v2",
        1.0,
        3.5,
        "Simple",
    )
    assert [(lora.name, lora.weight) for lora in g.loras] == [("ukiyo_e", 0.7)]
    g = generation("sdnext.png")
    assert (g.tool, g.checkpoint, g.seed, g.steps, g.cfg, g.guidance) == (
        "sdnext", "sd_xl_base_1.0", "987654321", 30, 6.0, None
    )  # fmt: skip
    g = generation("civitai.png")
    assert (g.tool, g.positive, g.negative) == (
        "civitai",
        "score_9, a fox in a snowy forest, watercolor",
        "score_4, lowres",
    )
    assert g.checkpoint == "Pony Diffusion V6 XL (V6 (start with this one))"
    assert [(lora.name, lora.weight) for lora in g.loras] == [
        ("Detail Tweaker XL (v1.0)", 0.8),
        ("Film Grain (v2)", 0.45),
    ]
    assert (g.seed, g.steps, g.cfg, g.sampler) == ("4040404040", 25, 7.0, "DPM++ 2M Karras")
    assert g.raw_parameters == CIVITAI  # byte for byte
    assert generation("a1111.png").tool == "a1111"

    def found(**f):
        return sorted(p.id for p in library.page(PictureFilter(**f)).items)

    assert found(text="negativeXL") == [ids["civitai.png"]]  # an embedding: only in the raw parameter text
    assert found(text="Pipeline StableDiffusionXLPipeline") == [ids["sdnext.png"]]
    assert found(text="t5xxl_fp8_e4m3fn") == [ids["forge.png"]]
    assert found(checkpoint="Pony Diffusion V6 XL (V6 (start with this one))") == [ids["civitai.png"]]


def test_a_broken_civitai_resource_list_keeps_everything_else():
    """Civitai's JSON cut short or of the wrong shape: the line's other settings are still read, nothing raises."""
    from pixlstash.media.generators.a1111 import parse_a1111

    for resources in ('[{"type":"lora","weight":0.8,"modelName":"Cut', '{"not": "a list"}', "[1, null, []]", "[]"):
        text = f"a cat\nSteps: 12, Sampler: Euler, Seed: 3, Civitai resources: {resources}, Civitai metadata: {{}}"
        g = parse_a1111(text)
        assert (g.positive, g.steps, g.seed, g.loras) == ("a cat", 12, "3", []), resources


def _krita_ai_diffusion_parameters(meta: dict, seed: int, size: tuple[int, int]) -> str:
    """Krita AI Diffusion's text (ai_diffusion/text.py, create_img_metadata): the prompt with each LoRA as
    ``<lora:name:weight>``, the negative, one settings line, strength only when not 1. The plugin needs
    Krita's Qt to import, so its layout is followed here line for line."""
    loras = "".join(f" <lora:{lora['name']}:{lora['weight']}>" for lora in meta["loras"] if lora["weight"] != 0)
    lines = [
        f"{meta['prompt'].strip()}{loras}",
        f"Negative prompt: {meta['negative_prompt']}",
        f"Steps: {meta['steps']}, Sampler: {meta['sampler']}, CFG scale: {meta['guidance']}, Seed: {seed}, "
        f"Size: {size[0]}x{size[1]}, Model hash: unknown, Model: {meta['checkpoint']}",
    ]
    if meta.get("strength", 1.0) != 1.0:
        lines[-1] += f", Denoising strength: {meta['strength']}"
    return "\n".join(lines)


def test_krita_ai_diffusion_s_saved_images_are_read_in_full(library, tmp_path):
    """Its "save image with metadata" writes an iTXt ``parameters`` chunk in A1111's form, not naming itself:
    read as such, LoRAs with weights and the refine strength's line included."""
    meta = {
        "prompt": "a lighthouse on a cliff, storm, oil painting",
        "negative_prompt": "blurry",
        "sampler": "DPM++ 2M Karras",
        "steps": 24,
        "guidance": 5.5,
        "checkpoint": "juggernautXL_v9.safetensors",
        "strength": 0.6,
        "loras": [{"name": "oil_paint_xl", "weight": 0.8}, {"name": "off", "weight": 0}],
    }
    path = tmp_path / "canvas-generated-1732700000-0-a lighthouse.png"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("parameters", _krita_ai_diffusion_parameters(meta, 1234567, (1024, 768)))  # save_png_w_itxt
    photo(128, 96, seed=3).save(path, pnginfo=info)
    [item] = library.import_paths([path]).imported
    g = library.get(item.picture_id).generation
    assert (g.tool, g.positive, g.negative) == (
        "a1111", "a lighthouse on a cliff, storm, oil painting <lora:oil_paint_xl:0.8>", "blurry"
    )  # fmt: skip
    assert (g.checkpoint, g.seed, g.steps, g.cfg, g.sampler) == (
        "juggernautXL_v9.safetensors", "1234567", 24, 5.5, "DPM++ 2M Karras"
    )  # fmt: skip
    assert [(lora.name, lora.weight) for lora in g.loras] == [("oil_paint_xl", 0.8)]
    assert "Denoising strength: 0.6" in g.raw_parameters


def test_reforge_is_named_apart_from_forge():
    """reForge's infotext names its version as its launch_utils.git_tag() builds it: "f" + forge_version's
    "1.7.0-v1.10.1RC" + "-" + git describe; Forge's has no hyphen before the A1111 release."""
    from pixlstash.media.generators.a1111 import parse_a1111

    settings = "Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 5, Seed: 7, Size: 832x1216, "
    for version, tool in (
        ("f1.7.0-v1.10.1RC-latest-2184-g0a5e5d43", "reforge"),
        ("f1.0.0v2-v1.10.1RC-latest-2340-g84a48b5a", "reforge"),
        ("f2.0.1v1.10.1-previous-313-g8a042934", "forge"),
        ("f0.0.17v1.8.0rc-latest-276-g29be1da7", "forge"),
        ("v1.10.1", "a1111"),
    ):
        generation = parse_a1111(f"a lighthouse\n{settings}Model: noobai_xl, Version: {version}")
        assert (generation.tool, generation.checkpoint, generation.seed) == (tool, "noobai_xl", "7"), version
