"""Stand-ins for the ComfyUI core nodes the example workflows use, with ComfyUI's own class names, input
names and types (so the graphs are real ComfyUI graphs, and the prompt a saver embeds has the shape
PixlStash's generation-data reader meets in the wild). They compute nothing real: "decoding" paints each
image of a batch a solid colour chosen by the sampler's seed, so tests know what each picture holds."""

from __future__ import annotations

import os

import numpy as np
import torch
from PIL import Image

COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 0), (255, 0, 255), (0, 255, 255), (255, 255, 255)]


class CheckpointLoaderSimple:
    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load_checkpoint"
    CATEGORY = "loaders"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"ckpt_name": (["sdxl_base.safetensors", "dreamshaper_8.safetensors"],)}}

    def load_checkpoint(self, ckpt_name):
        return (f"model:{ckpt_name}", f"clip:{ckpt_name}", f"vae:{ckpt_name}")


class CLIPTextEncode:
    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "conditioning"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"text": ("STRING", {"multiline": True}), "clip": ("CLIP",)}}

    def encode(self, text, clip):
        return ({"text": text},)


class EmptyLatentImage:
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "generate"
    CATEGORY = "latent"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "width": ("INT", {"default": 512, "min": 16, "max": 4096}),
                "height": ("INT", {"default": 512, "min": 16, "max": 4096}),
                "batch_size": ("INT", {"default": 1, "min": 1, "max": 64}),
            }
        }

    def generate(self, width, height, batch_size):
        return ({"width": width, "height": height, "batch_size": batch_size},)


class KSampler:
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "sample"
    CATEGORY = "sampling"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": ("MODEL",),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}),
                "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
                "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0}),
                "sampler_name": (["euler", "dpmpp_2m"],),
                "scheduler": (["normal", "karras"],),
                "positive": ("CONDITIONING",),
                "negative": ("CONDITIONING",),
                "latent_image": ("LATENT",),
                "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0}),
            }
        }

    def sample(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise):
        return ({**latent_image, "seed": seed},)


class VAEDecode:
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "decode"
    CATEGORY = "latent"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "vae": ("VAE",)}}

    def decode(self, samples, vae):
        images = []
        for n in range(samples["batch_size"]):
            colour = np.asarray(COLOURS[(samples["seed"] + n) % len(COLOURS)], dtype=np.float32) / 255.0
            images.append(np.broadcast_to(colour, (samples["height"], samples["width"], 3)))
        return (torch.from_numpy(np.stack(images).copy()),)


class LoadImage:
    RETURN_TYPES = ("IMAGE", "MASK")
    FUNCTION = "load_image"
    CATEGORY = "image"

    @classmethod
    def INPUT_TYPES(cls):
        import folder_paths

        folder = folder_paths.get_input_directory()
        return {"required": {"image": (sorted(os.listdir(folder)) or ["(empty)"], {"image_upload": True})}}

    def load_image(self, image):
        import folder_paths

        with Image.open(os.path.join(folder_paths.get_input_directory(), image)) as opened:
            rgb = np.asarray(opened.convert("RGB"), dtype=np.float32) / 255.0
        return (torch.from_numpy(rgb)[None], torch.zeros((1, *rgb.shape[:2])))


class PreviewImage:
    RETURN_TYPES = ()
    FUNCTION = "save_images"
    OUTPUT_NODE = True
    CATEGORY = "image"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"images": ("IMAGE",)}}

    def save_images(self, images):
        return {"ui": {"images": [{"count": int(images.shape[0])}]}}


NODE_CLASS_MAPPINGS = {
    cls.__name__: cls
    for cls in (CheckpointLoaderSimple, CLIPTextEncode, EmptyLatentImage, KSampler, VAEDecode, LoadImage, PreviewImage)
}
