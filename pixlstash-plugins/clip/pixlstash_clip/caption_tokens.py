"""The tokenizers of the text encoders captions are trained with, for the dataset check's token counts.

- **CLIP** (SD 1.5's CLIP-L, SDXL's CLIP-L and CLIP-G: one BPE): open_clip's own ``SimpleTokenizer``,
  whose vocabulary ships inside open_clip. sd-scripts reads 75 tokens of a caption unless told
  ``--max_token_length`` 150 or 225.
- **T5** (Flux, SD3): the T5 tokenizer's ``tokenizer.json`` read with Hugging Face ``tokenizers``, where
  one is on the machine: the ``t5_tokenizer`` setting (the file, or a folder holding it), else
  ``<models dir>/clip/t5-tokenizer/``, else a Flux or SD3 pipeline's ``tokenizer_2``/``tokenizer_3`` in the
  Hugging Face cache. sd-scripts (Flux dev) and ai-toolkit read 512 tokens with the end token; Flux
  schnell and SD3 in sd-scripts read 256.

Nothing is loaded until the first count: open_clip imports torch, which takes seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from pixlstash import hub_snapshot

from .catalogue import clip_models_dir

__all__ = ["ClipTokens", "T5Tokens", "t5_tokenizer_file"]

T5_FOLDER = "t5-tokenizer"
# Pipelines whose T5 tokenizer is in the Hugging Face cache when a person has pulled them (diffusers layout).
T5_IN_PIPELINES = (
    ("black-forest-labs/FLUX.1-dev", "tokenizer_2"),
    ("black-forest-labs/FLUX.1-schnell", "tokenizer_2"),
    ("stabilityai/stable-diffusion-3.5-large", "tokenizer_3"),
    ("stabilityai/stable-diffusion-3-medium-diffusers", "tokenizer_3"),
)


@functools.cache
def _clip_bpe():
    from open_clip.tokenizer import SimpleTokenizer

    return SimpleTokenizer()


class ClipTokens:
    id = "clip"
    label = "CLIP (SD 1.5, SDXL)"
    window = 75  # 77 with its start and end tokens

    def unavailable(self) -> str:
        return ""  # its vocabulary is part of open_clip, installed with this plugin

    def count(self, texts: Sequence[str]) -> list[int]:
        tokenizer = _clip_bpe()
        return [len(tokenizer.encode(text)) for text in texts]


def t5_tokenizer_file(setting: str) -> Path | None:
    """The T5 ``tokenizer.json`` on this machine, looked for where the module says; None when none is."""
    if setting:  # only a file of that name: the setting must not make the server parse any file it can read
        named = Path(setting).expanduser()
        return named / "tokenizer.json" if named.name != "tokenizer.json" else named
    kept = clip_models_dir() / T5_FOLDER / "tokenizer.json"
    if kept.is_file():
        return kept
    for repo, folder in T5_IN_PIPELINES:
        snapshot = hub_snapshot(repo, lambda found, folder=folder: (found / folder / "tokenizer.json").is_file())
        if snapshot is not None:
            return snapshot / folder / "tokenizer.json"
    return None


@functools.cache
def _t5(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


class T5Tokens:
    id = "t5"
    label = "T5 (Flux, SD3)"
    window = 511  # 512 with its end token: what sd-scripts (Flux dev) and ai-toolkit read

    def __init__(self, setting: str = "") -> None:
        self.setting = setting

    def unavailable(self) -> str:
        path = t5_tokenizer_file(self.setting)
        if path is None:
            return (
                "no T5 tokenizer on this machine (`pixlstash plugins config clip t5_tokenizer=PATH` names its "
                f"tokenizer.json; ComfyUI's is in comfy/text_encoders/t5_tokenizer/; or copy it into "
                f"{clip_models_dir() / T5_FOLDER})"
            )
        if not path.is_file():
            return f"the t5_tokenizer setting names {path}, which is not there (a tokenizer.json, or its folder)"
        return ""

    def count(self, texts: Sequence[str]) -> list[int]:
        path = t5_tokenizer_file(self.setting)
        if path is None:
            raise FileNotFoundError(self.unavailable())
        encoded = _t5(path).encode_batch(list(texts), add_special_tokens=False)
        return [len(one.ids) for one in encoded]
