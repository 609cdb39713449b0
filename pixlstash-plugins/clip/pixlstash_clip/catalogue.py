"""Which open_clip models this plugin offers and where their files are (no torch imported here).

A model is either a hub model (``ViT-B-32@laion2b_s34b_b79k``: an open_clip name and pretrained tag)
or a local folder. A hub model's files are looked for, in order, in ``<models dir>/clip/<name>@<tag>/``
(a folder copied by hand), as a single checkpoint ``<models dir>/clip/<name>@<tag>.safetensors`` (or
``.bin`` / ``.pt``), and in the Hugging Face cache (``pixlstash models pull``). A folder is complete
when it holds ``open_clip_config.json`` and a weights file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pixlstash import models_dir

__all__ = ["DEFAULT_MODELS", "KNOWN", "ClipModel", "ClipSettings", "configured_models"]

DEFAULT_MODELS = "ViT-B-32@laion2b_s34b_b79k"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt")
CONFIG_FILE = "open_clip_config.json"

# Hub repositories and output sizes of the models most people want, so listing engines needs no torch.
KNOWN: dict[str, tuple[str, int]] = {
    "ViT-B-32@laion2b_s34b_b79k": ("laion/CLIP-ViT-B-32-laion2B-s34B-b79K", 512),
    "ViT-L-14@laion2b_s32b_b82k": ("laion/CLIP-ViT-L-14-laion2B-s32B-b82K", 768),
    "ViT-H-14@laion2b_s32b_b79k": ("laion/CLIP-ViT-H-14-laion2B-s32B-b79K", 1024),
    "ViT-B-16-SigLIP@webli": ("timm/ViT-B-16-SigLIP", 768),
    "ViT-SO400M-14-SigLIP@webli": ("timm/ViT-SO400M-14-SigLIP", 1152),
    "ViT-B-16-SigLIP2@webli": ("timm/ViT-B-16-SigLIP2", 768),
}


def clip_models_dir() -> Path:
    return models_dir() / "clip"


def complete(folder: Path) -> bool:
    return (folder / CONFIG_FILE).is_file() and any((folder / name).is_file() for name in WEIGHT_FILES)


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
        """Where this model's weights are (a complete folder, or a checkpoint file), or None when absent."""
        if complete(self.local_folder):
            return self.local_folder
        checkpoint = self.checkpoint_file()
        if checkpoint is not None:
            return checkpoint
        repo = self.hub_repo_resolved()
        if repo:
            from huggingface_hub import try_to_load_from_cache

            config = try_to_load_from_cache(repo, CONFIG_FILE)
            if isinstance(config, str) and complete(Path(config).parent):
                return Path(config).parent
        return None

    def config(self) -> dict:
        folder = self.files()
        if folder is None or not folder.is_dir():
            return {}
        return json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))

    def fingerprint(self) -> str:
        """Changes when the files change (a new checkpoint in the same folder means new vectors)."""
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


class ClipSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config clip``)."""

    models: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_MODELS])  # offered, as name@pretrained


def configured_models(settings: ClipSettings | None = None) -> list[ClipModel]:
    """The models named by the settings, then every complete local folder that is not one of them."""
    base = clip_models_dir()
    keys = [k.strip() for k in (settings or ClipSettings()).models if k.strip()]
    models = [ClipModel(key, KNOWN.get(key, (None, 0))[0], base / key) for key in keys if "@" in key]
    named = {m.key for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and complete(folder):
                models.append(ClipModel(folder.name, None, folder))
    return models
