"""A tiny random-weight CLIP (open_clip), saved as a downloaded open_clip checkpoint folder is laid out."""

from __future__ import annotations

import json
from pathlib import Path

import open_clip
import torch
from safetensors.torch import save_file

__all__ = [
    "PREPROCESS",
    "TINY_CONFIG",
    "build_tiny_clip",
    "build_tiny_siglip",
    "save_tiny_tokenizer",
    "tiny_siglip_config",
]

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


TINY_TOKENIZER_WORDS = ["<pad>", "</s>", "<unk>", "a", "photo", "of", "cat", "dog", "red", "blue", "sky"]


def save_tiny_tokenizer(folder: Path) -> Path:
    """A word-level Hugging Face tokenizer saved as a hub repository holds one (tokenizer.json,
    tokenizer_config.json, special_tokens_map.json): what a SigLIP-style model's folder needs."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {word: n for n, word in enumerate(TINY_TOKENIZER_WORDS)}
    word_level = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_siglip_config(tokenizer_repo: str = "timm/ViT-B-16-SigLIP") -> dict:
    """A tiny model whose text tower, like SigLIP's, uses a Hugging Face tokenizer (open_clip reads
    ``hf_tokenizer_name`` and, for a local folder, the tokenizer files in it)."""
    text = {**TINY_CONFIG["text_cfg"], "vocab_size": 64, "context_length": 16}
    text.update(hf_tokenizer_name=tokenizer_repo, tokenizer_kwargs={"clean": "canonicalize"})
    return {**TINY_CONFIG, "text_cfg": text}


def build_tiny_siglip(folder: Path, seed: int = 0, tokenizer: bool = True) -> Path:
    """A tiny SigLIP-style model folder, with its tokenizer's files or (``tokenizer=False``) without them."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = tiny_siglip_config()
    model = open_clip.model.CLIP(**config)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": PREPROCESS}))
    save_file(model.state_dict(), str(folder / "open_clip_model.safetensors"))
    if tokenizer:
        save_tiny_tokenizer(folder)
    return folder
