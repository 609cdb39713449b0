"""The tokenizers of the text encoders captions are trained with, for the dataset check's token counts.

- **CLIP** (SD 1.5's CLIP-L, SDXL's CLIP-L and CLIP-G: one BPE): the vocabulary that ships inside
  open_clip, run by Hugging Face ``tokenizers`` after open_clip's own cleaning (ftfy, HTML entities,
  white space, lower case). Importing open_clip imports torch (5-10 s); this reads its vocabulary file
  only, and ``tests/test_caption_tokens.py`` holds it to open_clip's ``SimpleTokenizer``, token for token.
  sd-scripts reads 75 tokens of a caption unless told ``--max_token_length`` 150 or 225.
- **T5** (Flux, SD3): the T5 tokenizer's ``tokenizer.json`` read with Hugging Face ``tokenizers``, where
  one is on the machine: the ``t5_tokenizer`` setting (the file, or a folder holding it), else
  ``<models dir>/clip/t5-tokenizer/``, else a Flux or SD3 pipeline's ``tokenizer_2``/``tokenizer_3`` in the
  Hugging Face cache. sd-scripts (Flux dev) and ai-toolkit read 512 tokens with the end token; Flux
  schnell and SD3 in sd-scripts read 256.

Nothing is loaded until the first count.
"""

from __future__ import annotations

import functools
import html
import importlib.util
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


# open_clip's pre-tokenizer: its two special tokens whole, then contractions, letters, single digits, and
# runs of anything else but white space.
_CLIP_SPECIALS = ("<start_of_text>", "<end_of_text>")
_CLIP_WORDS = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
_CLIP_MERGES = 49152 - 256 - 2  # the merges open_clip reads from its vocabulary file


def _clip_vocabulary_file() -> Path:
    """open_clip's BPE vocabulary, found without importing open_clip (whose import imports torch)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip is not installed: pip install open_clip_torch")
    return Path(spec.submodule_search_locations[0]) / "bpe_simple_vocab_16e6.txt.gz"


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes, in open_clip's order (its first ids): the bytes that
    print as themselves, then the rest as the characters from U+0100 on."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    return [*map(chr, printable), *(chr(256 + n) for n in range(256 - len(printable)))]


@functools.cache
def _clip_bpe():
    import gzip

    from tokenizers import Regex, Tokenizer, models, pre_tokenizers

    lines = gzip.decompress(_clip_vocabulary_file().read_bytes()).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : _CLIP_MERGES + 1]]
    # open_clip's order (the ids it gives): the bytes, each again ending a word, every merge, the specials.
    symbols = _byte_symbols()
    vocabulary = [*symbols, *(s + "</w>" for s in symbols), *("".join(m) for m in merges), *_CLIP_SPECIALS]
    tokenizer = Tokenizer(
        models.BPE(
            vocab={token: n for n, token in enumerate(vocabulary)},
            merges=merges,
            end_of_word_suffix="</w>",
            continuing_subword_prefix="",
        )
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_WORDS), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.add_special_tokens(list(_CLIP_SPECIALS))
    return tokenizer


def _clip_clean(text: str) -> str:
    """open_clip's ``lower`` cleaning: ftfy, HTML entities undone twice, runs of white space as one, lower case."""
    import ftfy

    return " ".join(html.unescape(html.unescape(ftfy.fix_text(text))).split()).lower()


class ClipTokens:
    id = "clip"
    label = "CLIP (SD 1.5, SDXL)"
    window = 75  # 77 with its start and end tokens

    def unavailable(self) -> str:
        return ""  # its vocabulary is part of open_clip, installed with this plugin

    def count(self, texts: Sequence[str]) -> list[int]:
        encoded = _clip_bpe().encode_batch([_clip_clean(text) for text in texts], add_special_tokens=False)
        return [len(one.ids) for one in encoded]

    def ids(self, text: str) -> list[int]:
        """The token ids open_clip's ``SimpleTokenizer.encode`` gives ``text`` (for the tests' comparison)."""
        return _clip_bpe().encode(_clip_clean(text), add_special_tokens=False).ids


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
