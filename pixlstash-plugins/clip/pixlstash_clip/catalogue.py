"""Which open_clip models this plugin offers and where their files are (no torch imported here).

A model is either a hub model (``ViT-B-32@laion2b_s34b_b79k``: an open_clip name and pretrained tag)
or a local folder. A hub model's files are looked for, in order, in ``<models dir>/clip/<name>@<tag>/``
(a folder copied by hand), as a single checkpoint ``<models dir>/clip/<name>@<tag>.safetensors`` (or
``.bin`` / ``.pt``), and in the Hugging Face cache (``pixlstash models pull``). A folder is complete
when it holds ``open_clip_config.json`` and a weights file, and, for models whose text tower uses a
Hugging Face tokenizer (SigLIP, SigLIP2: ``hf_tokenizer_name`` in the config), that tokenizer's files:
open_clip reads them from the model's folder. A single checkpoint's tokenizer files go in the folder of
the same name, or are found in the Hugging Face cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from pixlstash import models_dir

__all__ = ["DEFAULT_MODELS", "KNOWN", "ClipModel", "ClipSettings", "configured_models", "model_named"]

DEFAULT_MODELS = "ViT-B-32@laion2b_s34b_b79k"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt")
CONFIG_FILE = "open_clip_config.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
TOKENIZER_VOCABS = ("tokenizer.json", "spiece.model", "tokenizer.model")  # one of them, by tokenizer kind
TOKENIZER_FILES = (TOKENIZER_CONFIG, *TOKENIZER_VOCABS, "special_tokens_map.json")  # what `pull` fetches

# Hub repositories and output sizes of the models most people want, so listing engines needs no torch.
KNOWN: dict[str, tuple[str, int]] = {
    "ViT-B-32@laion2b_s34b_b79k": ("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", 512),
    "ViT-L-14@laion2b_s32b_b82k": ("laion/CLIP-ViT-L-14-laion2B-s32B-b82K", 768),
    "ViT-L-14@openai": ("timm/vit_large_patch14_clip_224.openai", 768),  # what the aesthetic predictor reads
    "ViT-H-14@laion2b_s32b_b79k": ("laion/CLIP-ViT-H-14-laion2B-s32B-b79K", 1024),
    "ViT-B-16-SigLIP@webli": ("timm/ViT-B-16-SigLIP", 768),
    "ViT-SO400M-14-SigLIP@webli": ("timm/ViT-SO400M-14-SigLIP", 1152),
    "ViT-B-16-SigLIP2@webli": ("timm/ViT-B-16-SigLIP2", 768),
}
# Where their Hugging Face tokenizers come from (open_clip's configs: text_cfg.hf_tokenizer_name).
KNOWN_TOKENIZERS = {
    "ViT-B-16-SigLIP@webli": "timm/ViT-B-16-SigLIP",
    "ViT-SO400M-14-SigLIP@webli": "timm/ViT-B-16-SigLIP",
    "ViT-B-16-SigLIP2@webli": "timm/ViT-B-16-SigLIP2",
}


def clip_models_dir() -> Path:
    return models_dir() / "clip"


def has_tokenizer(folder: Path) -> bool:
    return (folder / TOKENIZER_CONFIG).is_file() and any((folder / name).is_file() for name in TOKENIZER_VOCABS)


def tokenizer_files_wanted(every: bool = False) -> str:
    """The tokenizer files, as a sentence: those needed, or (``every``) those to copy."""
    vocabs = " / ".join(TOKENIZER_VOCABS)
    if every:
        return f"{TOKENIZER_CONFIG}, special_tokens_map.json and whichever of {vocabs} the repository has"
    return f"its tokenizer's files ({TOKENIZER_CONFIG} and one of {', '.join(TOKENIZER_VOCABS)})"


def hf_tokenizer_name(config: dict) -> str:
    """The Hugging Face tokenizer a model's text tower uses ("" for open_clip's own tokenizer)."""
    return (config.get("model_cfg", config).get("text_cfg", {}).get("hf_tokenizer_name") or "").strip()


def missing_files(folder: Path) -> list[str]:
    """What a model folder lacks before open_clip can load it offline (empty: it is complete)."""
    lacking = []
    config = folder / CONFIG_FILE
    if not config.is_file():
        lacking.append(CONFIG_FILE)
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        lacking.append(" or ".join(WEIGHT_FILES))
    if config.is_file() and hf_tokenizer_name(_read(config)) and not has_tokenizer(folder):
        lacking.append(tokenizer_files_wanted())
    return lacking


def complete(folder: Path) -> bool:
    return not missing_files(folder)


def has_weights(folder: Path) -> bool:
    """The folder has open_clip's config and weights (its tokenizer may live elsewhere)."""
    return (folder / CONFIG_FILE).is_file() and any((folder / name).is_file() for name in WEIGHT_FILES)


def _read(config: Path) -> dict:
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class ClipModel:
    """One model this plugin offers."""

    key: str  # "ViT-B-32@laion2b_s34b_b79k", or a local folder's name
    hub_repo: str | None  # where `pixlstash models pull` fetches it; None for local-only models
    local_folder: Path  # where files copied by hand go

    @property
    def engine_id(self) -> str:
        return f"clip/{self.key}"

    def hub_repo_resolved(self) -> str | None:
        if self.hub_repo or "@" not in self.key:
            return self.hub_repo
        from open_clip import get_pretrained_cfg  # an unusual model: ask open_clip (imports torch)

        name, tag = self.key.split("@", 1)
        repo = (get_pretrained_cfg(name, tag) or {}).get("hf_hub", "")
        return repo.strip("/") or None

    def checkpoint_file(self) -> Path | None:
        """A single checkpoint copied next to the folders (hub models only: their config ships with open_clip)."""
        if "@" not in self.key:
            return None
        for suffix in CHECKPOINT_SUFFIXES:
            candidate = self.local_folder.with_name(self.key + suffix)
            if candidate.is_file():
                return candidate
        return None

    def files(self) -> Path | None:
        """Where this model's weights are (a complete folder, or a checkpoint file whose tokenizer is here
        too), or None when something is missing (``missing`` says what)."""
        if complete(self.local_folder):
            return self.local_folder
        checkpoint = self.checkpoint_file()
        if checkpoint is not None and (not self.tokenizer_repo() or self.tokenizer_folder() is not None):
            return checkpoint
        cached = self._cached_folder()
        if cached is not None and (complete(cached) or (has_weights(cached) and self.tokenizer_folder() is not None)):
            return cached  # (its repository may lack the tokenizer, which the tokenizer's repository brings)
        return None

    def missing(self) -> list[str]:
        """What is missing, in the layout the user started (a folder, a checkpoint, the cache)."""
        if self.files() is not None:
            return []
        if self.local_folder.is_dir() and any(self.local_folder.iterdir()) and not self.checkpoint_file():
            return [f"{self.local_folder} lacks {', '.join(missing_files(self.local_folder))}"]
        if self.checkpoint_file() is not None:
            where = f"{self.local_folder} or the Hugging Face cache ({self.tokenizer_repo()})"
            return [f"{tokenizer_files_wanted()}, in {where}"]
        cached = self._cached_folder()
        if cached is not None:
            return [f"the Hugging Face cache's copy lacks {', '.join(missing_files(cached))}"]
        return ["its files"]

    def tokenizer_repo(self) -> str:
        """The Hugging Face tokenizer its text tower uses, or "" for open_clip's own."""
        if self.key in KNOWN_TOKENIZERS:
            return KNOWN_TOKENIZERS[self.key]
        for folder in (self.local_folder, self._cached_folder()):
            if folder is not None and (folder / CONFIG_FILE).is_file():
                return hf_tokenizer_name(_read(folder / CONFIG_FILE))
        if "@" in self.key and self.checkpoint_file() is not None:
            from open_clip import get_model_config  # an unusual model's checkpoint: ask open_clip

            return hf_tokenizer_name(get_model_config(self.key.split("@", 1)[0]) or {})
        return ""

    def tokenizer_folder(self) -> Path | None:
        """A folder holding the tokenizer's files: the model's own, the folder named after a checkpoint,
        or the Hugging Face cache's copy of the tokenizer's repository."""
        for folder in (self.local_folder, self._cached_folder()):
            if folder is not None and has_tokenizer(folder):
                return folder
        repo = self.tokenizer_repo()
        if repo:
            cached = _cached(repo)
            if cached is not None and has_tokenizer(cached):
                return cached
        return None

    def _cached_folder(self) -> Path | None:
        repo = self.hub_repo_resolved()
        return _cached(repo) if repo else None

    def config(self) -> dict:
        folder = self.files()
        if folder is None or not folder.is_dir():
            return {}
        return json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))

    def fingerprint(self) -> str:
        """Changes when the files change (a new checkpoint in the same folder means new vectors)."""
        import hashlib  # here, not at the top: OpenSSL's hashlib costs every CLI start

        found = self.files() if self.hub_repo is None else None
        if found is None:
            return self.key.split("@", 1)[-1]
        if found.is_file():
            return hashlib.blake2b(f"{found.name}:{found.stat().st_size}".encode(), digest_size=6).hexdigest()
        folder = found
        digest = hashlib.blake2b((folder / CONFIG_FILE).read_bytes(), digest_size=6)
        for name in WEIGHT_FILES:
            if (folder / name).is_file():
                digest.update(str((folder / name).stat().st_size).encode())
        return digest.hexdigest()


def _cached(repo: str) -> Path | None:
    """The Hugging Face cache's snapshot folder of a repository, where one was downloaded."""
    from huggingface_hub import try_to_load_from_cache

    for name in (CONFIG_FILE, TOKENIZER_CONFIG):
        found = try_to_load_from_cache(repo, name)
        if isinstance(found, str):
            return Path(found).parent
    return None


class ClipSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config clip``)."""

    models: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_MODELS])  # offered, as name@pretrained
    # The model whose stored vectors and text tower the prompt-match score uses ("": the first of models).
    prompt_match_model: str = ""
    # The model whose vectors the aesthetic predictor reads: the CLIP it was trained on (or a local folder
    # holding the same model under another name).
    aesthetic_model: str = "ViT-L-14@openai"
    # Where image towers run on a CPU: "torch"; "onnx" (ONNX Runtime, the same vectors, 7-16% faster); "onnx-int8"
    # (an int8 copy: 1.6-2x faster, vectors at cosine ~0.999 of fp32). Exported once into the models folder.
    image_runtime: Literal["torch", "onnx", "onnx-int8"] = "torch"
    # The number format on a GPU: "auto" is bfloat16 (float16 on cards without it, and on Apple's MPS) under
    # torch's autocast, float32 on a CPU; "fp32" keeps float32 everywhere (several times slower on a GPU).
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    # The T5 tokenizer's tokenizer.json (or its folder) for the dataset check's T5 token counts ("": looked
    # for in the models folder and the Hugging Face cache; caption_tokens.py).
    t5_tokenizer: str = ""


def model_named(key: str) -> ClipModel:
    """The model a setting names: a hub model (name@pretrained) or a folder in the models folder."""
    return ClipModel(key, KNOWN.get(key, (None, 0))[0], clip_models_dir() / key)


def configured_models(settings: ClipSettings | None = None) -> list[ClipModel]:
    """The models named by the settings, then every local folder with a config that is not one of them
    (complete or not: an incomplete one is listed with what it lacks)."""
    base = clip_models_dir()
    keys = [k.strip() for k in (settings or ClipSettings()).models if k.strip()]
    models = [model_named(key) for key in keys if "@" in key]
    named = {m.key for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and (folder / CONFIG_FILE).is_file():
                models.append(ClipModel(folder.name, None, folder))
    return models
