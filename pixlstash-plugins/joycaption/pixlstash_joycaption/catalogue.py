"""Which JoyCaption models this plugin offers and where their files are.

A model is a transformers LLaVA folder (``config.json``, safetensors weights, the processor's and
tokenizer's files). It is looked for in ``<models dir>/joycaption/<name>/`` (copied by hand, or put there
by ``pixlstash models pull``), then in the Hugging Face cache as other tools leave it. Nothing here
touches the network but ``download``, which only ``pixlstash models pull`` calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from pixlstash import models_dir
from pixlstash.engines.shared_weights import ModelFolder

__all__ = ["DEFAULT_MODEL", "KNOWN", "JoyCaptionModel", "JoyCaptionSettings", "configured_models"]

DEFAULT_MODEL = "beta-one"
KNOWN: dict[str, str] = {
    "beta-one": "fancyfeast/llama-joycaption-beta-one-hf-llava",
    "alpha-two": "fancyfeast/llama-joycaption-alpha-two-hf-llava",
}


def has_chat_template(folder: Path) -> bool:
    """The chat template the prompts are built with: its own file (as newer transformers save it) or a
    ``chat_template`` entry in the tokenizer's or processor's config."""
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    for name in ("tokenizer_config.json", "processor_config.json"):
        try:
            if "chat_template" in json.loads((folder / name).read_text()):
                return True
        except (OSError, ValueError):
            continue
    return False


@dataclass(frozen=True)
class JoyCaptionModel(ModelFolder):
    plugin: str = "joycaption"
    label: str = "JoyCaption"
    needed: tuple[str, ...] = ("config.json", "tokenizer_config.json")
    size: str = "about 16 GB"

    def complete(self, folder: Path) -> bool:
        # The image processor's settings (preprocessor_config.json, or processor_config.json as newer
        # transformers saves them) and a chat template too: without them loading fails later.
        processor = (folder / "preprocessor_config.json").is_file() or (folder / "processor_config.json").is_file()
        return super().complete(folder) and processor and has_chat_template(folder)

    def how_to_get(self) -> str:
        ways = [self.pull_hint()] if self.hub_repo else []
        ways.append(
            f"or copy the model's folder (config.json, *.safetensors, tokenizer and processor files) to "
            f"{self.local_folder}"
        )
        return "; ".join(ways)


class JoyCaptionSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config joycaption``)."""

    models: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_MODEL])
    # On CUDA: load the weights in 8 or 4 bits through bitsandbytes (pip install 'pixlstash-joycaption[quant]').
    quantization: Literal["none", "8bit", "4bit"] = "none"
    # The number format: "auto" is bfloat16 on a GPU (float16 on cards without it, and on Apple's MPS),
    # float32 on a CPU; "fp32" keeps float32 (a GPU then runs it several times slower, with twice the memory).
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    # The decoder's key-value cache: "auto" is transformers' static cache, compiled into CUDA graphs, on a
    # GPU (unquantized), the dynamic one elsewhere; "static" or "dynamic" choose it outright.
    decoding: Literal["auto", "static", "dynamic"] = "auto"


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
            found = JoyCaptionModel(folder.name, None, folder)
            if folder.name not in named and found.files() is not None:
                models.append(found)
    return models
