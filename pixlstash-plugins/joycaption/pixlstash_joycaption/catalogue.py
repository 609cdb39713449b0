"""Which JoyCaption models this plugin offers and where their files are.

A model is a transformers LLaVA folder (``config.json``, safetensors weights, the processor's and
tokenizer's files). It is looked for in ``<models dir>/joycaption/<name>/`` (copied by hand, or put there
by ``pixlstash models pull``), then in the Hugging Face cache as other tools leave it. Nothing here
touches the network but ``download``, which only ``pixlstash models pull`` calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from pixlstash import ModelMissing, hub_snapshot, models_dir

__all__ = ["DEFAULT_MODEL", "KNOWN", "JoyCaptionModel", "JoyCaptionSettings", "configured_models"]

DEFAULT_MODEL = "beta-one"
KNOWN: dict[str, str] = {
    "beta-one": "fancyfeast/llama-joycaption-beta-one-hf-llava",
    "alpha-two": "fancyfeast/llama-joycaption-alpha-two-hf-llava",
}
_NEEDED = ("config.json", "tokenizer_config.json")


def complete(folder: Path) -> bool:
    """Whether the folder holds a whole model: its config, tokenizer and at least one weights file."""
    return all((folder / name).is_file() for name in _NEEDED) and any(folder.glob("*.safetensors"))


@dataclass(frozen=True)
class JoyCaptionModel:
    name: str  # "beta-one", or a local folder's name
    hub_repo: str | None
    local_folder: Path

    def files(self) -> Path | None:
        if complete(self.local_folder):
            return self.local_folder
        return hub_snapshot(self.hub_repo, complete) if self.hub_repo else None

    def fingerprint(self) -> str:
        """Changes when the weights change (new weights under the same name mean new captions)."""
        folder = self.files()
        if folder is None:
            return "0"
        digest = hashlib.blake2b((folder / "config.json").read_bytes(), digest_size=6)
        for weights in sorted(folder.glob("*.safetensors")):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        return digest.hexdigest()

    def how_to_get(self) -> str:
        ways = []
        if self.hub_repo:
            ways.append(
                f"run `pixlstash models pull joycaption/{self.name}` on a machine with internet (about 16 GB from "
                f"huggingface.co/{self.hub_repo} into {self.local_folder})"
            )
        ways.append(
            f"or copy the model's folder (config.json, *.safetensors, tokenizer and processor files) to "
            f"{self.local_folder}"
        )
        return "; ".join(ways)

    def download(self) -> Path:
        if not self.hub_repo:
            raise ModelMissing(f"joycaption/{self.name} is a local model with no download source: {self.how_to_get()}")
        from huggingface_hub import snapshot_download

        self.local_folder.mkdir(parents=True, exist_ok=True)
        snapshot_download(self.hub_repo, local_dir=self.local_folder)
        return self.local_folder


class JoyCaptionSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config joycaption``)."""

    models: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_MODEL])
    # On CUDA: load the weights in 8 or 4 bits through bitsandbytes (pip install 'pixlstash-joycaption[quant]').
    quantization: Literal["none", "8bit", "4bit"] = "none"


def configured_models(settings: JoyCaptionSettings | None = None) -> list[JoyCaptionModel]:
    """The models the settings name, then every complete folder in ``<models dir>/joycaption/``."""
    base = models_dir() / "joycaption"
    models = []
    for name in dict.fromkeys(n.strip() for n in (settings or JoyCaptionSettings()).models if n.strip()):
        repo = name if "/" in name else KNOWN.get(name)
        short = name.rsplit("/", 1)[-1]
        models.append(JoyCaptionModel(short, repo, base / short))
    named = {m.name for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and complete(folder):
                models.append(JoyCaptionModel(folder.name, None, folder))
    return models
