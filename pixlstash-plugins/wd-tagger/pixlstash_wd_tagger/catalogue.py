"""Which WD tagger models this plugin offers and where their files are.

A model is published as a folder holding ``model.onnx`` and ``selected_tags.csv``. Its files are looked
for in ``<models dir>/wd-tagger/<name>/`` (copied by hand, or put there by ``pixlstash models pull``),
then in the Hugging Face cache (``~/.cache/huggingface/hub``, as other tools leave it). Nothing here
touches the network; ``download`` does, and only ``pixlstash models pull`` calls it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from pixlstash import ModelMissing, fetch_file, hub_snapshot, models_dir

__all__ = ["DEFAULT_MODEL", "KNOWN", "MODEL_FILES", "WdModel", "WdSettings", "configured_models"]

log = logging.getLogger(__name__)

MODEL_FILE, TAGS_FILE = "model.onnx", "selected_tags.csv"
MODEL_FILES = (MODEL_FILE, TAGS_FILE)
DEFAULT_MODEL = "wd-vit-tagger-v3"

# The published models, by the name people use, and their Hugging Face repositories.
KNOWN: dict[str, str] = {
    "wd-vit-tagger-v3": "SmilingWolf/wd-vit-tagger-v3",
    "wd-swinv2-tagger-v3": "SmilingWolf/wd-swinv2-tagger-v3",
    "wd-convnext-tagger-v3": "SmilingWolf/wd-convnext-tagger-v3",
    "wd-vit-large-tagger-v3": "SmilingWolf/wd-vit-large-tagger-v3",
    "wd-eva02-large-tagger-v3": "SmilingWolf/wd-eva02-large-tagger-v3",
    "wd-v1-4-moat-tagger-v2": "SmilingWolf/wd-v1-4-moat-tagger-v2",
    "wd-v1-4-swinv2-tagger-v2": "SmilingWolf/wd-v1-4-swinv2-tagger-v2",
    "wd-v1-4-convnext-tagger-v2": "SmilingWolf/wd-v1-4-convnext-tagger-v2",
    "wd-v1-4-convnextv2-tagger-v2": "SmilingWolf/wd-v1-4-convnextv2-tagger-v2",
    "wd-v1-4-vit-tagger-v2": "SmilingWolf/wd-v1-4-vit-tagger-v2",
}


def wd_models_dir() -> Path:
    return models_dir() / "wd-tagger"


def complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in MODEL_FILES)


@dataclass(frozen=True)
class WdModel:
    """One model this plugin offers."""

    name: str  # "wd-vit-tagger-v3", or a local folder's name
    hub_repo: str | None  # where `pixlstash models pull` fetches it; None for local-only models
    local_folder: Path

    @property
    def engine_id(self) -> str:
        return f"wd-tagger/{self.name}"

    def files(self) -> Path | None:
        """The folder holding ``model.onnx`` and ``selected_tags.csv``, or None when they are not here."""
        if complete(self.local_folder):
            return self.local_folder
        return hub_snapshot(self.hub_repo, complete) if self.hub_repo else None

    def int8_path(self) -> Path:
        """Where the int8 copy of this model's graph is kept (named after the files it was made from)."""
        return wd_models_dir() / ".int8" / f"{self.name}-{self.fingerprint()}.onnx"

    def fp16_path(self) -> Path:
        """Where the float16 copy of this model's graph (for a GPU) is kept."""
        return wd_models_dir() / ".fp16" / f"{self.name}-{self.fingerprint()}.onnx"

    def fingerprint(self) -> str:
        """Changes when the files change (new weights under the same name mean new predictions)."""
        import hashlib  # here, not at the top: OpenSSL's hashlib costs every CLI start

        folder = self.files()
        if folder is None:
            return "0"
        digest = hashlib.blake2b((folder / TAGS_FILE).read_bytes(), digest_size=6)
        digest.update(str((folder / MODEL_FILE).stat().st_size).encode())
        return digest.hexdigest()

    def how_to_get(self) -> str:
        ways = []
        if self.hub_repo:
            ways.append(
                f"run `pixlstash models pull {self.engine_id}` on a machine with internet (it downloads "
                f"{' and '.join(MODEL_FILES)} from huggingface.co/{self.hub_repo} into {self.local_folder})"
            )
        ways.append(f"or copy {' and '.join(MODEL_FILES)} into {self.local_folder}")
        return "; ".join(ways)

    def download(self) -> Path:
        """Fetch the model's files into its local folder (the user asked: ``pixlstash models pull``)."""
        if not self.hub_repo:
            raise ModelMissing(f"{self.engine_id} is a local model with no download source: {self.how_to_get()}")
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        for name in MODEL_FILES:
            url = f"{endpoint}/{self.hub_repo}/resolve/main/{name}"
            log.warning("downloading %s", url)
            fetch_file(url, self.local_folder / name)
        return self.local_folder


class WdSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config wd-tagger``)."""

    models: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_MODEL])  # offered, by name
    threads: int = 0  # onnxruntime intra-op threads; 0: one per core
    # Tag with an int8 copy of each model (made once, beside the models): 1.4-1.5x faster on a 2-core CPU,
    # with slightly different confidences (the plugin's README says how much).
    int8: bool = False
    # On a GPU: "auto" (and "fp16") tag with a float16 copy of each graph (made once, beside the models;
    # half the memory read, the card's tensor cores), "fp32" with the graph as published.
    precision: Literal["auto", "fp32", "fp16"] = "auto"


def configured_models(settings: WdSettings | None = None) -> list[WdModel]:
    """The models named by the settings, then every complete local folder that is not one of them."""
    base = wd_models_dir()
    names = [n.strip() for n in (settings or WdSettings()).models if n.strip()]
    models = []
    for name in dict.fromkeys(names):
        # A repository id ("SmilingWolf/wd-eva02-large-tagger-v3", or a fine-tune's) names its own source.
        repo = name if "/" in name else KNOWN.get(name)
        short = name.rsplit("/", 1)[-1]
        models.append(WdModel(short, repo, base / short))
    named = {m.name for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and complete(folder):
                models.append(WdModel(folder.name, None, folder))
    return models
