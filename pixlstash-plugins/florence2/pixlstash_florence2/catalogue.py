"""Which Florence-2 models this plugin offers and where their files are.

A model is a transformers Florence-2 folder in the library's native format (``config.json`` with
``model_type`` ``florence2``, safetensors weights, the processor's and tokenizer's files), as the
``florence-community`` repositories publish it. It is looked for in ``<models dir>/florence2/<name>/``
(copied by hand, or put there by ``pixlstash models pull``), then in the Hugging Face cache. Nothing here
touches the network but ``download``, which only ``pixlstash models pull`` calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pixlstash import ModelMissing, hub_snapshot, models_dir

__all__ = ["KNOWN", "Florence2Model", "Florence2Settings", "configured_models"]

KNOWN: dict[str, tuple[str, str]] = {  # name -> (hub repository, size to download)
    "base": ("florence-community/Florence-2-base", "about 0.5 GB"),
    "large": ("florence-community/Florence-2-large", "about 1.6 GB"),
    "base-ft": ("florence-community/Florence-2-base-ft", "about 0.5 GB"),
    "large-ft": ("florence-community/Florence-2-large-ft", "about 1.6 GB"),
}
_NEEDED = ("config.json", "processor_config.json")


def complete(folder: Path) -> bool:
    """Whether the folder holds a whole model: its config, its processor's and at least one weights file."""
    return all((folder / name).is_file() for name in _NEEDED) and any(folder.glob("*.safetensors"))


@dataclass(frozen=True)
class Florence2Model:
    name: str  # "base", or a local folder's name
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
            size = next((f"{size} " for repo, size in KNOWN.values() if repo == self.hub_repo), "")
            ways.append(
                f"run `pixlstash models pull florence2/{self.name}` on a machine with internet ({size}from "
                f"huggingface.co/{self.hub_repo} into {self.local_folder})"
            )
        ways.append(
            "or copy the model's folder in transformers' native Florence-2 format (config.json, *.safetensors, "
            f"processor and tokenizer files; the florence-community repositories, not microsoft's remote-code ones) "
            f"to {self.local_folder}"
        )
        return "; ".join(ways)

    def download(self) -> Path:
        if not self.hub_repo:
            raise ModelMissing(f"florence2/{self.name} is a local model with no download source: {self.how_to_get()}")
        from huggingface_hub import snapshot_download

        self.local_folder.mkdir(parents=True, exist_ok=True)
        snapshot_download(self.hub_repo, local_dir=self.local_folder)
        return self.local_folder


class Florence2Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config florence2``)."""

    models: list[str] = msgspec.field(default_factory=lambda: ["base"])  # known names, hub ids or folder names
    num_beams: int = 3  # beam search width, as Florence-2's own examples decode


def configured_models(settings: Florence2Settings | None = None) -> list[Florence2Model]:
    """The models the settings name, then every complete folder in ``<models dir>/florence2/``."""
    base = models_dir() / "florence2"
    models = []
    for name in dict.fromkeys(n.strip() for n in (settings or Florence2Settings()).models if n.strip()):
        repo = name if "/" in name else KNOWN.get(name, (None, ""))[0]
        short = name.rsplit("/", 1)[-1]
        models.append(Florence2Model(short, repo, base / short))
    named = {m.name for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and complete(folder):
                models.append(Florence2Model(folder.name, None, folder))
    return models
