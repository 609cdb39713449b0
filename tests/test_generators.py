"""Generation data from every generator, read from files written the way each generator writes them
(their layouts as their own source writes them: ComfyUI's SaveVideo / SaveWEBM in ../shared/reference,
Video Helper Suite's ``-metadata comment=``, SwarmUI's ``sui_image_params``, InvokeAI's
``invokeai_metadata``, NovelAI's ``Comment``, Fooocus's meta_parser and its EXIF), imported into a real
library, then searched and filtered. Malformed metadata never fails an import."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import msgspec
import pytest
from corpus import COMFY_PROMPT, COMFY_WORKFLOW, photo, solid
from PIL import Image, PngImagePlugin

from pixlstash.domain import PictureFilter


def _png(path: Path, chunks: dict[str, str], seed: int) -> Path:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    photo(192, 256, seed).save(path, "PNG", pnginfo=info)
    return path


def _user_comment(text: str) -> bytes:
    return b"UNICODE\x00" + text.encode("utf-16-be")  # EXIF's UserComment as A1111 and SwarmUI write it


SWARM = {
    "sui_image_params": {
        "prompt": "a glass teapot on a windowsill",
        "negativeprompt": "blurry",
        "model": "juggernautXL_v9",
        "seed": 18446744073709551615,
        "steps": 28,
        "cfgscale": 5.5,
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "loras": ["glassy", "warm_light"],
        "loraweights": ["0.6", "1"],
        "swarm_version": "0.9.6",
    },
    "sui_extra_data": {"date": "2025-02-01", "generation_time": "3.1 s"},
}

INVOKE = {
    "generation_mode": "sdxl_txt2img",
    "positive_prompt": "an origami crane made of maps",
    "negative_prompt": "text, watermark",
    "width": 1024,
    "height": 1024,
    "seed": 3141592653,
    "rand_device": "cpu",
    "cfg_scale": 6.0,
    "steps": 32,
    "scheduler": "dpmpp_2m_k",
    "model": {"key": "1a2b", "hash": "blake3:00", "name": "RealVisXL V4.0", "base": "sdxl", "type": "main"},
    "loras": [{"model": {"key": "9f", "name": "paper_texture", "base": "sdxl"}, "weight": 0.75}],
    "app_version": "5.6.0",
}

NOVEL = {
    "prompt": "1girl, lighthouse keeper, storm, oil painting",
    "steps": 28,
    "height": 1216,
    "width": 832,
    "scale": 5.0,
    "uncond_scale": 0.0,
    "cfg_rescale": 0.0,
    "seed": 2718281828,
    "n_samples": 1,
    "noise_schedule": "karras",
    "sampler": "k_euler_ancestral",
    "uc": "lowres, bad hands",
    "request_type": "PromptGenerateRequest",
}

FOOOCUS = {
    "adm_guidance": "(1.5, 0.8, 0.3)",
    "base_model": "juggernautXL_v8Rundiffusion.safetensors",
    "full_negative_prompt": ["(worst quality, low quality:1.4)"],
    "full_prompt": ["a red bicycle leaning on a brick wall, cinematic"],
    "guidance_scale": 4.0,
    "loras": [["sd_xl_offset_example-lora_1.0.safetensors", 0.1, "4852686128"]],
    "negative_prompt": "",
    "performance": "Speed",
    "prompt": "a red bicycle leaning on a brick wall",
    "resolution": "(1152, 896)",
    "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras",
    "seed": "1234567890123",
    "sharpness": 2.0,
    "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance']",
    "vae": "Default (model)",
    "version": "Fooocus v2.5.5",
}


def _files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "swarm.png": _png(folder / "swarm.png", {"parameters": json.dumps(SWARM)}, 1),
        "invoke.png": _png(
            folder / "invoke.png",
            {"invokeai_metadata": json.dumps(INVOKE), "invokeai_graph": json.dumps({"id": "graph", "nodes": {}})},
            2,
        ),
        "invoke2.png": _png(
            folder / "invoke2.png",
            {
                "sd-metadata": json.dumps(
                    {
                        "model_weights": "stable-diffusion-1.5",
                        "image": {
                            "prompt": [{"prompt": "a tin robot gardening", "weight": 1.0}],
                            "seed": 77,
                            "steps": 50,
                            "cfg_scale": 7.5,
                            "sampler": "k_lms",
                        },
                    }
                )
            },
            3,
        ),
        "novel.png": _png(
            folder / "novel.png",
            {
                "Title": "NovelAI generated image",
                "Description": NOVEL["prompt"],
                "Software": "NovelAI",
                "Source": "NovelAI Diffusion V4 4F6BE1C8",
                "Comment": json.dumps(NOVEL),
            },
            4,
        ),
        "fooocus.png": _png(
            folder / "fooocus.png", {"parameters": json.dumps(FOOOCUS), "fooocus_scheme": "fooocus"}, 5
        ),
    }
    # SwarmUI's JPEG: the same JSON in EXIF UserComment.
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = _user_comment(json.dumps(SWARM))
    photo(200, 150, 6).save(folder / "swarm.jpg", "JPEG", quality=90, exif=exif)
    files["swarm.jpg"] = folder / "swarm.jpg"
    # Fooocus's JPEG, as its get_exif writes it: UserComment and MakerNote in the main IFD, as text.
    exif = Image.Exif()
    exif[0x9286] = json.dumps(FOOOCUS)
    exif[0x0131] = "Fooocus v2.5.5"
    exif[0x927C] = "fooocus"
    photo(200, 150, 7).save(folder / "fooocus.jpg", "JPEG", quality=90, exif=exif)
    files["fooocus.jpg"] = folder / "fooocus.jpg"
    # Fooocus's A1111 scheme: A1111 text that names Fooocus as its version.
    a1111_text = (
        "a lantern in the snow\nNegative prompt: people\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 99, "
        'Size: 1152x896, Guidance Scale: 4, Model: juggernautXL_v8Rundiffusion, Version: "Fooocus v2.5.5"'
    )
    files["fooocus-a1111.png"] = _png(folder / "fooocus-a1111.png", {"parameters": a1111_text}, 8)
    # A1111's WebP: parameters in EXIF UserComment.
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = _user_comment(
        "a paper boat on a puddle\nNegative prompt: ugly\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, "
        'Model: dreamshaper_8, Lora hashes: "boat: 12ab"'
    )
    photo(160, 120, 9).save(folder / "a1111.webp", "WEBP", quality=80, exif=exif)
    files["a1111.webp"] = folder / "a1111.webp"
    return files


def _video(path: Path, tags: dict[str, str], fmt: str | None = None, options: dict | None = None) -> Path:
    """Written as ComfyUI's SaveVideo (MP4, use_metadata_tags), SaveWEBM, or VHS (one ``comment``)."""
    with av.open(str(path), "w", format=fmt, options=options or {}) as container:
        container.metadata.update(tags)
        stream = container.add_stream("libvpx-vp9" if fmt == "webm" else "libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for n in range(8):
            for packet in stream.encode(av.VideoFrame.from_image(solid(128, 96, (n * 30, 90, 160)))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_every_generator_s_metadata_is_read_stored_and_searchable(library, tmp_path):
    files = _files(tmp_path / "in")
    report = library.import_paths(list(files.values()))
    assert report.skipped == []
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}

    def generation(name):
        return library.get(ids[name]).generation

    g = generation("swarm.png")
    assert (g.tool, g.positive, g.negative, g.checkpoint) == (
        "swarmui",
        SWARM["sui_image_params"]["prompt"],
        "blurry",
        "juggernautXL_v9",
    )
    assert (g.seed, g.steps, g.cfg, g.sampler, g.scheduler) == ("18446744073709551615", 28, 5.5, "dpmpp_2m", "karras")
    assert [(lora.name, lora.weight) for lora in g.loras] == [("glassy", 0.6), ("warm_light", 1.0)]
    assert generation("swarm.jpg") == msgspec.structs.replace(g, raw_parameters=generation("swarm.jpg").raw_parameters)

    g = generation("invoke.png")
    assert (g.tool, g.positive, g.negative, g.checkpoint) == (
        "invokeai",
        INVOKE["positive_prompt"],
        "text, watermark",
        "RealVisXL V4.0",
    )
    assert (g.seed, g.steps, g.cfg, g.sampler) == ("3141592653", 32, 6.0, "dpmpp_2m_k")
    assert [(lora.name, lora.weight) for lora in g.loras] == [("paper_texture", 0.75)]
    assert json.loads(g.raw_workflow)["id"] == "graph"
    g = generation("invoke2.png")
    assert (g.tool, g.positive, g.checkpoint, g.seed, g.steps, g.sampler) == (
        "invokeai",
        "a tin robot gardening",
        "stable-diffusion-1.5",
        "77",
        50,
        "k_lms",
    )

    g = generation("novel.png")
    assert (g.tool, g.positive, g.negative, g.checkpoint) == (
        "novelai",
        NOVEL["prompt"],
        "lowres, bad hands",
        "NovelAI Diffusion V4 4F6BE1C8",
    )
    assert (g.seed, g.steps, g.cfg, g.sampler, g.scheduler) == ("2718281828", 28, 5.0, "k_euler_ancestral", "karras")

    for name in ("fooocus.png", "fooocus.jpg"):
        g = generation(name)
        assert (g.tool, g.positive, g.checkpoint, g.seed) == (
            "fooocus",
            FOOOCUS["prompt"],
            FOOOCUS["base_model"],
            "1234567890123",
        ), name
        assert (g.steps, g.cfg, g.sampler, g.scheduler) == (30, 4.0, "dpmpp_2m_sde_gpu", "karras")
        assert [(lora.name, lora.weight) for lora in g.loras] == [("sd_xl_offset_example-lora_1.0.safetensors", 0.1)]
    g = generation("fooocus-a1111.png")
    assert (g.tool, g.positive, g.negative, g.seed, g.steps) == ("fooocus", "a lantern in the snow", "people", "99", 30)
    assert g.checkpoint == "juggernautXL_v8Rundiffusion"

    g = generation("a1111.webp")
    assert (g.tool, g.positive, g.checkpoint, g.seed) == ("a1111", "a paper boat on a puddle", "dreamshaper_8", "5")

    # Searchable and filterable like ComfyUI's and A1111's.
    def found(**f):
        return sorted(p.id for p in library.page(PictureFilter(**f)).items)

    assert found(text="teapot windowsill") == sorted([ids["swarm.png"], ids["swarm.jpg"]])
    assert found(text="origami") == [ids["invoke.png"]]
    assert found(text="lighthouse keeper") == [ids["novel.png"]]
    assert found(checkpoint="juggernautXL_v8") == sorted(
        [ids["fooocus.png"], ids["fooocus.jpg"], ids["fooocus-a1111.png"]]
    )
    assert found(generation_seed="18446744073709551615") == sorted([ids["swarm.png"], ids["swarm.jpg"]])
    assert found(sampler="k_euler_ancestral") == [ids["novel.png"]]


def test_comfyui_videos_carry_their_prompt_and_workflow(library, tmp_path):
    prompt, workflow = json.dumps(COMFY_PROMPT), json.dumps(COMFY_WORKFLOW)
    videos = [
        # ComfyUI's SaveVideo: each value json.dumps'd, MP4 with use_metadata_tags.
        _video(
            tmp_path / "savevideo.mp4",
            {"prompt": prompt, "workflow": workflow},
            "mp4",
            {"movflags": "use_metadata_tags"},
        ),
        # ComfyUI's SaveWEBM: the same keys in Matroska tags.
        _video(tmp_path / "savewebm.webm", {"prompt": prompt, "workflow": workflow}, "webm"),
        # Video Helper Suite: one comment holding both as objects.
        _video(
            tmp_path / "vhs.mp4", {"comment": json.dumps({"prompt": COMFY_PROMPT, "workflow": COMFY_WORKFLOW})}, "mp4"
        ),
    ]
    report = library.import_paths(videos)
    assert len(report.imported) == 3, report.skipped
    for item in report.imported:
        g = library.get(item.picture_id).generation
        assert g is not None, item.path
        assert (g.tool, g.positive, g.checkpoint, g.seed) == (
            "comfyui",
            "a lighthouse at dusk, volumetric fog",
            "sdxl_base.safetensors",
            "123456789",
        ), item.path
        assert json.loads(g.raw_workflow)["last_node_id"] == 10
    assert len(library.page(PictureFilter(text="lighthouse")).items) == 3


@pytest.mark.parametrize(
    "chunks",
    [
        {"invokeai_metadata": "{not json"},
        {"invokeai_metadata": json.dumps({"seed": [1], "steps": "many", "model": 5, "loras": "x"})},
        {"sd-metadata": json.dumps({"image": "nope"})},
        {"Software": "NovelAI", "Comment": json.dumps({"seed": {"a": 1}, "prompt": 3})},
        {"parameters": json.dumps({"sui_image_params": {"loras": [1, None], "loraweights": "x", "seed": "abc"}})},
        {
            "parameters": json.dumps({"base_model": ["x"], "guidance_scale": "high", "loras": [[None]]}),
            "fooocus_scheme": "fooocus",
        },
        {"parameters": json.dumps([1, 2, 3])},
        {"parameters": "{" * 10_000},
    ],
)
def test_malformed_generation_metadata_never_fails_an_import(library, tmp_path, chunks):
    path = _png(tmp_path / "odd.png", chunks, 11)
    report = library.import_paths([path])
    assert len(report.imported) == 1 and report.skipped == []
    library.get(report.imported[0].picture_id)  # readable whatever was (or was not) found


def test_swarmui_loras_as_comma_separated_text_are_read(tmp_path):
    """SwarmUI's metadata allows every list value as a JSON list or as comma-separated text."""
    import json

    from pixlstash.media.generators.swarmui import parse_swarmui

    document = {
        "sui_image_params": {"prompt": "a moody forest", "loras": "forest_v2,Style/moody", "loraweights": "0.9,0.4"}
    }
    generation = parse_swarmui(document, json.dumps(document))
    assert [(lora.name, lora.weight) for lora in generation.loras] == [("forest_v2", 0.9), ("Style/moody", 0.4)]


def test_a_flux_graph_on_the_custom_sampler_path_keeps_prompt_seed_steps_scheduler_and_guidance():
    """As Flux users wire it: RandomNoise, KSamplerSelect, BasicScheduler, FluxGuidance, BasicGuider and
    SamplerCustomAdvanced, the prompt typed into a primitive string node."""
    import json

    from pixlstash.media.generators.comfyui import parse_comfyui

    graph = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "LoraLoaderModelOnly",
              "inputs": {"model": ["1", 0], "lora_name": "film_grain.safetensors", "strength_model": 0.8}},
        "3": {"class_type": "DualCLIPLoader",
              "inputs": {"clip_name1": "t5xxl_fp16.safetensors", "clip_name2": "clip_l.safetensors", "type": "flux"}},
        "4": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a lighthouse at dusk, film grain"}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["3", 0], "text": ["4", 0]}},
        "6": {"class_type": "FluxGuidance", "inputs": {"conditioning": ["5", 0], "guidance": 3.5}},
        "7": {"class_type": "BasicGuider", "inputs": {"model": ["2", 0], "conditioning": ["6", 0]}},
        "8": {"class_type": "RandomNoise", "inputs": {"noise_seed": 18446744073709551615}},
        "9": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "10": {"class_type": "BasicScheduler", "inputs": {"model": ["2", 0], "scheduler": "simple", "steps": 28,
                                                          "denoise": 1.0}},
        "11": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "12": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["8", 0], "guider": ["7", 0],
               "sampler": ["9", 0], "sigmas": ["10", 0], "latent_image": ["11", 0]}},
        "13": {"class_type": "VAEDecode", "inputs": {"samples": ["12", 0], "vae": ["14", 0]}},
        "14": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "15": {"class_type": "SaveImage", "inputs": {"images": ["13", 0], "filename_prefix": "flux"}},
    }  # fmt: skip
    g = parse_comfyui(json.dumps(graph), None)
    assert g.positive == "a lighthouse at dusk, film grain" and g.negative == ""
    assert (g.seed, g.steps, g.scheduler, g.sampler) == ("18446744073709551615", 28, "simple", "euler")
    assert (g.cfg, g.guidance) == (None, 3.5)  # BasicGuider has no CFG: the guidance is its own number
    assert g.checkpoint == "flux1-dev.safetensors"
    assert [(lora.name, lora.weight) for lora in g.loras] == [("film_grain.safetensors", 0.8)]
    # CFGGuider's own cfg and negative prompt, and a seed from a primitive node.
    graph["7"] = {
        "class_type": "CFGGuider",
        "inputs": {"model": ["2", 0], "positive": ["6", 0], "negative": ["16", 0], "cfg": 4.0},
    }
    graph["16"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": ["3", 0], "text": "blurry"}}
    graph["17"] = {"class_type": "PrimitiveInt", "inputs": {"value": 7}}
    graph["8"]["inputs"]["noise_seed"] = ["17", 0]
    g = parse_comfyui(json.dumps(graph), None)
    assert (g.cfg, g.guidance, g.negative, g.seed) == (4.0, 3.5, "blurry", "7")  # fmt: skip
    # The plain KSampler at CFG 1.0 after FluxGuidance 3.5, as Flux's example graph has it: both kept.
    for key in ("7", "8", "9", "10", "12"):
        del graph[key]
    graph["12"] = {"class_type": "KSampler", "inputs": {
        "model": ["2", 0], "positive": ["6", 0], "negative": ["16", 0], "latent_image": ["11", 0], "seed": 5,
        "steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0}}  # fmt: skip
    g = parse_comfyui(json.dumps(graph), None)
    assert (g.cfg, g.guidance, g.steps, g.positive) == (1.0, 3.5, 20, "a lighthouse at dusk, film grain")


def test_an_invokeai_flux_canvas_render_keeps_its_guidance_apart_from_cfg(library, tmp_path):
    """InvokeAI 5's canvas, FLUX: its core metadata has no cfg_scale but a ``guidance`` (the graph builder's
    extra field), and the canvas' own layers under ``canvas_v2_metadata``."""
    flux = {
        "generation_mode": "flux_inpaint",
        "positive_prompt": "a greenhouse in the rain, macro",
        "width": 1024,
        "height": 1024,
        "seed": 90210,
        "steps": 30,
        "guidance": 3.5,
        "scheduler": "euler",
        "model": {"key": "f1", "hash": "blake3:11", "name": "FLUX Dev (Quantized)", "base": "flux", "type": "main"},
        "loras": [{"model": {"key": "a1", "name": "rain_drops_flux", "base": "flux"}, "weight": 0.6}],
        "canvas_v2_metadata": {"inpaintMasks": [], "rasterLayers": [{"id": "layer_1", "isEnabled": True}]},
        "app_version": "5.10.0",
    }
    path = _png(tmp_path / "flux.png", {"invokeai_metadata": json.dumps(flux)}, 7)
    [item] = library.import_paths([path]).imported
    g = library.get(item.picture_id).generation
    assert (g.tool, g.positive, g.checkpoint, g.seed, g.steps, g.sampler) == (
        "invokeai", flux["positive_prompt"], "FLUX Dev (Quantized)", "90210", 30, "euler"
    )  # fmt: skip
    assert (g.cfg, g.guidance) == (None, 3.5)
    assert [(lora.name, lora.weight) for lora in g.loras] == [("rain_drops_flux", 0.6)]
    assert "rasterLayers" in g.raw_parameters  # the canvas' layers kept, searchable
