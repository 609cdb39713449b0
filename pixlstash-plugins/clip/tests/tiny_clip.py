"""A tiny random-weight CLIP (open_clip), saved as a downloaded open_clip checkpoint folder is laid out."""

from __future__ import annotations

import json
from pathlib import Path

import open_clip
import torch
from safetensors.torch import save_file

__all__ = ["PREPROCESS", "TINY_CONFIG", "build_tiny_clip"]

TINY_CONFIG = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
}
PREPROCESS = {
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}


def build_tiny_clip(folder: Path, seed: int = 0, embed_dim: int = 64) -> Path:
    """A random-weight CLIP saved exactly as a downloaded open_clip checkpoint folder is laid out;
    ``embed_dim`` 512 makes it pass for ViT-B-32 (whose vectors PixlStash knows to be 512 long)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = {**TINY_CONFIG, "embed_dim": embed_dim}
    model = open_clip.model.CLIP(**config)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": PREPROCESS}))
    save_file(model.state_dict(), str(folder / "open_clip_model.safetensors"))
    return folder
