"""The settings a picture was made with, as the insights count them: its checkpoint, each LoRA and each
LoRA in its weight band, sampler, scheduler, steps, CFG, guidance, size and prompt words; each
(setting, value) numbered once for the process (``FeatureIndex``), so that counting is array work."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import chain, pairwise, repeat

import msgspec
import numpy as np

__all__ = ["SETTINGS", "FeatureIndex", "prompt_words"]

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


def _number(value: float) -> str:
    return f"{value:g}"


def prompt_words(positive: str) -> frozenset[str]:
    """A prompt's tags and words: comma-separated parts of up to four words as they are (emphasis and
    weights taken off, lower case; A1111's ``<lora:...>`` left out); longer parts, prose, as their words
    (three letters or more)."""
    return frozenset(chain.from_iterable(map(_part_words, _prompt_text(positive).split(","))))


def _prompt_text(positive: str) -> str:
    """A prompt as its parts are read: lower case, lines as commas, without A1111's ``<lora:...>``."""
    text = positive.lower()
    if "<" in text:
        text = _LORA_IN_PROMPT.sub(" ", text)
    return text.replace("\n", ",")


def _part_words(part: str) -> tuple[str, ...]:
    """The words of one part of a prompt (``prompt_words``)."""
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
    if len(words) > 4:
        return tuple(w for w in _WORD.findall(part) if w not in _STOP)
    return (" ".join(words),) if words and len(part) <= 60 else ()


def _lora_keys(name: object, weight: object) -> list[tuple[str, str]]:
    """A LoRA, and the LoRA in its weight band."""
    if not name or not isinstance(name, str):
        return []
    if not isinstance(weight, (int, float)):
        return [("lora", name)]
    low = math.floor(round(weight / _BAND, 6)) * _BAND
    return [("lora", name), ("lora_weight", f"{name}@{_number(round(low, 1))}-{_number(round(low + _BAND, 1))}")]


class _Lora(msgspec.Struct):
    name: str | None = None
    weight: float | str | bool | None = None


_LORAS = msgspec.json.Decoder(list[_Lora])
_LORA_LISTS = msgspec.json.Decoder(list[list[_Lora]])


def _loras_or_none(text: str) -> list[_Lora]:
    try:
        return _LORAS.decode(text)
    except msgspec.DecodeError:  # (not a list of LoRAs)
        return []


def _half_steps(value: float | None) -> str | None:
    return None if value is None else _number(round(value * 2) / 2)


# The settings that take one value a picture: (setting, the row's columns, the value as counted or None).
_SINGLE = (
    ("checkpoint", (2,), lambda v: v or None),
    ("sampler", (4,), lambda v: v or None),
    ("scheduler", (5,), lambda v: v or None),
    ("steps", (6,), lambda v: str(v) if v else None),
    ("cfg", (7,), _half_steps),
    ("guidance", (8,), _half_steps),
    ("size", (0, 1), lambda v: f"{v[0]}x{v[1]}" if v[0] and v[1] else None),
)


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
        for key in keys:
            index._number(key)
        return index

    def features_of(self, rows: Sequence[Sequence]) -> list[np.ndarray]:
        """Each row's settings (``db.outcomes.SETTING_COLUMNS``) as the sorted array of their numbers. A
        library's rows are numbered at once, a column at a time: each distinct value once, the prompts'
        tags in one split (a first report reads 100,000 rows)."""
        count = len(rows)
        if not count:
            return []
        columns = list(zip(*rows, strict=True))
        every_row = np.arange(count)
        owners, numbers = [], []  # (the rows, their settings' numbers) in pieces; -1: no setting
        for setting, at, value_of in _SINGLE:
            values = columns[at[0]] if len(at) == 1 else list(zip(*(columns[c] for c in at), strict=True))
            distinct = {value: self._number_or_none(setting, value_of(value)) for value in dict.fromkeys(values)}
            owners.append(every_row)
            numbers.append(np.fromiter(map(distinct.__getitem__, values), np.int64, count))
        self._number_loras(columns[3], owners, numbers)
        self._number_prompts(columns[9], owners, numbers)
        owner, number = np.concatenate(owners), np.concatenate(numbers)
        given = number >= 0
        pairs = np.sort(owner[given] * len(self.keys) + number[given])
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # each setting once a row (not
        # np.unique: numpy 2.4's hashes, 15x slower here)
        owner, number = np.divmod(pairs, len(self.keys))
        number = number.astype(np.int32)
        bounds = np.searchsorted(owner, np.arange(count + 1)).tolist()
        return [number[start:end] for start, end in pairwise(bounds)]  # (np.split: twice as slow)

    def _number_loras(self, column: Sequence[str | None], owners: list, numbers: list) -> None:
        """Each LoRA and each LoRA in its weight band. The distinct stored lists are read in one decode (one
        by one only when one is not a list of LoRAs: that one counts none), each (name, weight) numbered once."""
        distinct = dict.fromkeys(column)
        texts = [text if text else "[]" for text in distinct]
        try:
            lists = _LORA_LISTS.decode(f"[{','.join(texts)}]")
        except msgspec.DecodeError:
            lists = []
        if len(lists) != len(texts):  # (one that is no list, or two halves of one that read as one)
            lists = list(map(_loras_or_none, texts))
        for position, text in enumerate(distinct):
            distinct[text] = position
        pairs = [(lora.name, lora.weight) for listed in lists for lora in listed]
        lora_of, band_of = {}, {}
        for pair in dict.fromkeys(pairs):
            keys = _lora_keys(*pair)
            lora_of[pair] = self._number(keys[0]) if keys else -1
            band_of[pair] = self._number(keys[1]) if len(keys) > 1 else -1
        # Each row's pairs: its list's run of ``pairs``.
        lengths = np.fromiter(map(len, lists), np.int64, len(lists))
        which = np.fromiter(map(distinct.__getitem__, column), np.int64, len(column))
        row_lengths = lengths[which]
        owner = np.repeat(np.arange(len(column)), row_lengths)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(row_lengths) - row_lengths, row_lengths)
        at = (np.cumsum(lengths) - lengths)[which][owner] + within
        for numbered in (lora_of, band_of):
            owners.append(owner)
            numbers.append(np.fromiter(map(numbered.__getitem__, pairs), np.int64, len(pairs))[at])

    def _number_prompts(self, prompts: Sequence[str | None], owners: list, numbers: list) -> None:
        """The prompts' words: every prompt's parts split together and each distinct part read once (a
        library's prompts share most of their tags)."""
        given = [i for i, text in enumerate(prompts) if text]
        texts = [_prompt_text(prompts[i]) for i in given]
        if not texts:
            return
        parts = ",".join(texts).split(",")
        counts = np.fromiter(map(str.count, texts, repeat(",")), np.int64, len(texts)) + 1
        part_row = np.repeat(np.asarray(given, np.int64), counts)
        numbered = dict.fromkeys(parts, -1)  # -1: no word; -2: several (prose)
        several: dict[str, list[int]] = {}
        for part in numbered:
            words = _part_words(part)
            if len(words) == 1:
                numbered[part] = self._word_number(words[0])
            elif words:
                numbered[part], several[part] = -2, [self._word_number(word) for word in words]
        part_numbers = np.fromiter(map(numbered.__getitem__, parts), np.int64, len(parts))
        owners.append(part_row)
        numbers.append(part_numbers)
        if several:
            at = np.flatnonzero(part_numbers == -2)
            each = [several[parts[i]] for i in at.tolist()]
            lengths = np.fromiter(map(len, each), np.int64, len(each))
            owners.append(np.repeat(part_row[at], lengths))
            numbers.append(np.fromiter(chain.from_iterable(each), np.int64, int(lengths.sum())))

    def _number_or_none(self, setting: str, value: str | None) -> int:
        return -1 if value is None else self._number((setting, value))

    def _number(self, key: tuple[str, str]) -> int:
        if key[0] == "prompt_word":
            return self._word_number(key[1])
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self.keys)
            self.keys.append(key)
        return number

    def _word_number(self, word: str) -> int:
        number = self._words.get(word)
        if number is None:
            number = self._words[word] = len(self.keys)
            self.keys.append(("prompt_word", word))
        return number
