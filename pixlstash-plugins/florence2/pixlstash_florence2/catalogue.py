"""Which Florence-2 models this plugin offers and where their files are.

A model is a transformers Florence-2 folder in the library's native format (``config.json`` with
``model_type`` ``florence2``, safetensors weights, the processor's and tokenizer's files), as the
``florence-community`` repositories publish it. It is looked for in ``<models dir>/florence2/<name>/``
(copied by hand, or put there by ``pixlstash models pull``), then in the Hugging Face cache. Nothing here
touches the network but ``download``, which only ``pixlstash models pull`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import msgspec

from pixlstash import models_dir
from pixlstash.engines.shared_weights import ModelFolder

__all__ = ["KNOWN", "Florence2Model", "Florence2Settings", "configured_models"]

KNOWN: dict[str, tuple[str, str]] = {  # name -> (hub repository, size to download)
    "base": ("florence-community/Florence-2-base", "about 0.5 GB"),
    "large": ("florence-community/Florence-2-large", "about 1.6 GB"),
    "base-ft": ("florence-community/Florence-2-base-ft", "about 0.5 GB"),
    "large-ft": ("florence-community/Florence-2-large-ft", "about 1.6 GB"),
}


@dataclass(frozen=True)
class Florence2Model(ModelFolder):
    plugin: str = "florence2"
    label: str = "Florence-2"
    needed: tuple[str, ...] = ("config.json", "processor_config.json")

    def how_to_get(self) -> str:
        ways = [self.pull_hint()] if self.hub_repo else []
        ways.append(
            "or copy the model's folder in transformers' native Florence-2 format (config.json, *.safetensors, "
            f"processor and tokenizer files; the florence-community repositories, not microsoft's remote-code ones) "
            f"to {self.local_folder}"
        )
        return "; ".join(ways)


class Florence2Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config florence2``)."""

    models: list[str] = msgspec.field(default_factory=lambda: ["base"])  # known names, hub ids or folder names
    num_beams: int = 3  # beam search width, as Florence-2's own examples decode
    # The number format: "auto" is bfloat16 on a GPU that has it (else float16; float16 on Apple's MPS),
    # float32 on a CPU; "fp32" keeps float32.
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    # The decoder's key-value cache: "auto" is transformers' static cache, compiled into CUDA graphs, on a
    # GPU, the dynamic one elsewhere; "static" or "dynamic" choose it outright.
    decoding: Literal["auto", "static", "dynamic"] = "auto"


def configured_models(settings: Florence2Settings | None = None) -> list[Florence2Model]:
    """The models the settings name, then every complete folder in ``<models dir>/florence2/``."""
    base = models_dir() / "florence2"
    models = []
    for name in dict.fromkeys(n.strip() for n in (settings or Florence2Settings()).models if n.strip()):
        repo, size = KNOWN.get(name, (name if "/" in name else None, ""))
        short = name.rsplit("/", 1)[-1]
        models.append(Florence2Model(short, repo, base / short, size=size))
    named = {m.name for m in models}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            found = Florence2Model(folder.name, None, folder)
            if folder.name not in named and found.files() is not None:
                models.append(found)
    return models
