"""Easy Diffusion's files as it writes them (issue 63): its save_utils builds the settings dict (keys in
TASK_TEXT_MAPPING's order) and sdkit's ``save_dicts(..., output_format="embed")`` writes it: a PNG gets one
text chunk per setting (``add_text(key, str(val))``), a JPEG or WebP a JSON UserComment put in with piexif,
the library Easy Diffusion itself uses. Its plain-text ``prompt`` chunk was taken for ComfyUI's graph and
nothing was read."""

from __future__ import annotations

import json
import os

import piexif
import piexif.helper
from corpus import photo
from PIL.PngImagePlugin import PngInfo

from pixlstash.domain import PictureFilter

SETTINGS = {  # as get_printable_request leaves them for a diffusers (v3 engine) render with two LoRAs
    "prompt": "a lighthouse keeper's cat, oil painting",
    "negative_prompt": "blurry, lowres",
    "seed": 3141592653,
    "use_stable_diffusion_model": "sd_xl_base_1.0",
    "clip_skip": False,
    "use_vae_model": None,
    "sampler_name": "dpmpp_2m",
    "width": 1024,
    "height": 1024,
    "num_inference_steps": 25,
    "guidance_scale": 7.5,
    "use_lora_model": ["watercolor_v2", "cats/tabby"],
    "lora_alpha": [0.6, 1.0],
    "use_embeddings_model": None,
    "tiling": None,
    "use_face_correction": None,
    "use_upscale": None,
}


def save_dicts_embed(path: str, metadata: dict, file_format: str) -> None:
    """sdkit's save_dicts for one picture with output_format "embed", step for step."""
    if file_format == "png":
        embedded = PngInfo()
        for key, val in metadata.items():
            embedded.add_text(key, str(val))
        from PIL import Image

        Image.open(path).save(path, pnginfo=embedded)
    else:
        comment = piexif.helper.UserComment.dump(json.dumps(metadata), encoding="unicode")
        piexif.insert(piexif.dump({"Exif": {piexif.ExifIFD.UserComment: comment}}), path)


def test_easy_diffusion_png_jpeg_and_webp_are_read_in_full(library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    one_lora = {**SETTINGS, "use_lora_model": "watercolor_v2", "lora_alpha": 0.6, "seed": 7}
    for name, settings, fmt in (
        ("render.png", SETTINGS, "png"),
        ("render.jpeg", SETTINGS, "jpeg"),
        ("render.webp", SETTINGS, "webp"),
        ("one-lora.png", one_lora, "png"),
    ):
        photo(160, 160, seed=len(name)).save(folder / name, quality=75)  # as save_images writes them
        save_dicts_embed(str(folder / name), settings, fmt)
    report = library.import_paths([folder])
    assert report.skipped == []
    ids = {os.path.basename(i.path): i.picture_id for i in report.imported}
    for name in ("render.png", "render.jpeg", "render.webp"):
        g = library.get(ids[name]).generation
        assert g is not None, name
        assert (g.tool, g.positive, g.negative, g.checkpoint) == (
            "easydiffusion", SETTINGS["prompt"], "blurry, lowres", "sd_xl_base_1.0"
        ), name  # fmt: skip
        assert (g.seed, g.sampler, g.steps, g.cfg) == ("3141592653", "dpmpp_2m", 25, 7.5), name
        assert [(lora.name, lora.weight) for lora in g.loras] == [("watercolor_v2", 0.6), ("cats/tabby", 1.0)], name
    g = library.get(ids["one-lora.png"]).generation
    assert ([(lora.name, lora.weight) for lora in g.loras], g.seed) == ([("watercolor_v2", 0.6)], "7")
    found = sorted(p.id for p in library.page(PictureFilter(text="lighthouse keeper cat")).items)
    assert found == sorted(ids[n] for n in ("render.png", "render.jpeg", "render.webp", "one-lora.png"))
    assert sorted(p.id for p in library.page(PictureFilter(checkpoint="sd_xl_base_1.0")).items) == sorted(ids.values())


def test_hostile_easy_diffusion_settings_never_fail_an_import(library, tmp_path):
    """Lists that are not literals, nested past any depth, or huge; a seed past 64 bits: read as far as they
    go, the picture imported."""
    folder = tmp_path / "in"
    folder.mkdir()
    hostile = [
        {"use_lora_model": "[__import__('os').system('false')]", "lora_alpha": "[1"},
        {"use_lora_model": "[" * 100_000, "lora_alpha": "]" * 10},
        {"use_lora_model": str(["x"] * 200_000), "seed": "1" * 400},
    ]
    for n, extra in enumerate(hostile):
        path = folder / f"h{n}.png"
        photo(64, 64, seed=n).save(path)
        save_dicts_embed(str(path), {**SETTINGS, **extra}, "png")
    report = library.import_paths([folder])
    assert report.skipped == [] and len(report.imported) == 3
    for item in report.imported:
        g = library.get(item.picture_id).generation
        assert g.tool == "easydiffusion" and g.positive == SETTINGS["prompt"]
