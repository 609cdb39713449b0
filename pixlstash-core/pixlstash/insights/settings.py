"""The settings a picture was made with, as the insights count them: its checkpoint, each LoRA and each
LoRA in its weight band, sampler, scheduler, steps, CFG, guidance, size and prompt words; each
(setting, value) numbered once for the process (``FeatureIndex``), so that counting is array work."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat

import msgspec
import numpy as np

__all__ = ["SETTINGS", "FeatureIndex", "prompt_words", "settings_of"]

SETTINGS = (
    "checkpoint",
    "lora",
    "lora_weight",
    "sampler",
    "scheduler",
    "steps",
    "cfg",
    "guidance",
    "size",
    "prompt_word",
)
_BAND = 0.2  # LoRA weights in bands of 0.2: 0.6-0.8
_LORA_IN_PROMPT = re.compile(r"<(?:lora|lyco):[^>]*>")
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_STOP = frozenset(
    "the and with for from that this into onto over under its his her their are was were has have very".split()  # noqa: SIM905
)
_BRACKETS = " ()[]{}"
_MARKED = re.compile(r"[()\[\]{}:<\t]")


def _number(value: float) -> str:
    return f"{value:g}"


@lru_cache(maxsize=65_536)  # a batch of renders shares its prompt
def prompt_words(positive: str) -> frozenset[str]:
    """A prompt's tags and words: comma-separated parts of up to four words as they are (emphasis and
    weights taken off, lower case; A1111's ``<lora:...>`` left out); longer parts, prose, as their words
    (three letters or more)."""
    text = positive.lower()
    if "\n" in text:
        text = text.replace("\n", ",")
    if not _MARKED.search(text) and "  " not in text:
        # Plain tags, the common case, in C-level passes (a library's worth of prompts is read at once).
        parts = list(map(str.strip, text.split(",")))
        if max(map(len, parts)) <= 60 and max(map(str.count, parts, repeat(" "))) < 4:
            return frozenset(filter(None, parts))
    found: set[str] = set()
    if "<" in text:
        text = _LORA_IN_PROMPT.sub(" ", text)
    for part in text.split(","):
        part = part.strip(_BRACKETS)
        head, colon, weight = part.rpartition(":")
        if colon:  # (word:1.2)
            try:
                float(weight)
            except ValueError:
                pass
            else:
                part = head.strip(_BRACKETS)
        words = part.split()
        if not words:
            continue
        if len(words) <= 4:
            if len(part) <= 60:
                found.add(" ".join(words))
        else:
            found.update(w for w in _WORD.findall(part) if w not in _STOP)
    return frozenset(found)


def settings_of(row: Sequence) -> list[tuple[str, str]]:
    """Each (setting, value) of a row (``db.outcomes.SETTING_COLUMNS``)."""
    width, height, checkpoint, loras, sampler, scheduler, steps, cfg, guidance, positive = row
    found = []
    if checkpoint:
        found.append(("checkpoint", checkpoint))
    if loras and loras != "[]":
        for lora in msgspec.json.decode(loras):
            name, weight = lora.get("name"), lora.get("weight")
            if not name:
                continue
            found.append(("lora", name))
            if isinstance(weight, (int, float)):
                low = math.floor(round(weight / _BAND, 6)) * _BAND
                found.append(("lora_weight", f"{name}@{_number(round(low, 1))}-{_number(round(low + _BAND, 1))}"))
    if sampler:
        found.append(("sampler", sampler))
    if scheduler:
        found.append(("scheduler", scheduler))
    if steps:
        found.append(("steps", str(steps)))
    if cfg is not None:
        found.append(("cfg", _number(round(cfg * 2) / 2)))
    if guidance is not None:
        found.append(("guidance", _number(round(guidance * 2) / 2)))
    if width and height:
        found.append(("size", f"{width}x{height}"))
    if positive:
        found.extend(("prompt_word", word) for word in prompt_words(positive))
    return found


class FeatureIndex:
    """Each (setting, value) seen a number, for as long as the index lives; a picture's settings as the
    sorted array of its numbers."""

    def __init__(self) -> None:
        self.keys: list[tuple[str, str]] = []
        self._numbers: dict[tuple[str, str], int] = {}
        self._words: dict[str, int] = {}

    @classmethod
    def from_keys(cls, keys: list[tuple[str, str]]) -> FeatureIndex:
        """An index that numbers ``keys`` as they are numbered there (one read back from disk)."""
        index = cls()
        index.keys = list(keys)
        for number, (setting, value) in enumerate(keys):
            if setting == "prompt_word":
                index._words[value] = number
            else:
                index._numbers[(setting, value)] = number
        return index

    def features(self, row: Sequence) -> np.ndarray:
        numbers, found = self._numbers, set()
        for key in settings_of((*row[:-1], "")):  # all but the prompt
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(self.keys)
                self.keys.append(key)
            found.add(number)
        if row[-1]:
            # Words by themselves (a tuple each would cost a cold report over 100,000 prompts 0.3 s).
            words = prompt_words(row[-1])
            known = list(map(self._words.get, words))
            if None in known:
                known = [self._word_number(word) for word in words]
            found.update(known)
        return np.fromiter(found, np.int32, len(found))

    def _word_number(self, word: str) -> int:
        number = self._words.get(word)
        if number is None:
            number = self._words[word] = len(self.keys)
            self.keys.append(("prompt_word", word))
        return number
