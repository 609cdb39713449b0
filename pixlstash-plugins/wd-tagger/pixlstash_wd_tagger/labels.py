"""The tag list that comes with a WD model (``selected_tags.csv``) and how scores become tags.

Each row is ``tag_id,name,category,count``; category 9 is the rating, 0 general, 4 character. Names are
written with underscores (``long_hair``); they become spaces unless the name is a kaomoji (``^_^``),
which keeps them, as the reference inference code does.
"""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec
import numpy as np

from pixlstash import TagScore

__all__ = ["KAOMOJIS", "Labels", "Selection", "mcut_threshold", "select_tags"]

RATING, GENERAL, CHARACTER = 9, 0, 4

KAOMOJIS = frozenset(
    {
        "0_0",
        "(o)_(o)",
        "+_+",
        "+_-",
        "._.",
        "<o>_<o>",
        "<|>_<|>",
        "=_=",
        ">_<",
        "3_3",
        "6_9",
        ">_o",
        "@_@",
        "^_^",
        "o_o",
        "u_u",
        "x_x",
        "|_|",
        "||_||",
    }
)


class Labels(msgspec.Struct, frozen=True):
    names: list[str]  # as published, underscores and all
    rating: np.ndarray  # indexes into the model's output of each kind
    general: np.ndarray
    character: np.ndarray

    @classmethod
    def read(cls, path: Path) -> Labels:
        names, kinds = [], []
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                names.append(row["name"])
                kinds.append(int(row["category"]))
        if not names:
            raise ValueError(f"{path} lists no tags")
        kinds_array = np.asarray(kinds)
        return cls(
            names,
            np.flatnonzero(kinds_array == RATING),
            np.flatnonzero(kinds_array == GENERAL),
            np.flatnonzero(kinds_array == CHARACTER),
        )


class Selection(msgspec.Struct, frozen=True):
    """How scores become tags: the engine's parameters, checked."""

    general_threshold: float = 0.35
    character_threshold: float = 0.85
    general_mcut: bool = False  # choose the general threshold per picture at the largest gap in scores
    character_mcut: bool = False
    replace_underscores: bool = True
    exclude: frozenset[str] = frozenset()  # tag names never proposed (either spelling)
    max_tags: int = 0  # general tags kept, best first; 0 keeps every tag over the threshold
    rating: bool = True  # propose the one most likely rating tag


def mcut_threshold(scores: np.ndarray) -> float:
    """Maximum Cut Thresholding (Largeron et al., 2012): the midpoint of the largest gap between
    consecutive sorted scores."""
    if len(scores) < 2:
        return 0.0
    ranked = np.sort(scores)[::-1]
    gaps = ranked[:-1] - ranked[1:]
    t = int(gaps.argmax())
    return float((ranked[t] + ranked[t + 1]) / 2)


def display_name(name: str, replace_underscores: bool) -> str:
    return name.replace("_", " ") if replace_underscores and name not in KAOMOJIS else name


def select_tags(scores: np.ndarray, labels: Labels, selection: Selection) -> list[TagScore]:
    """One picture's tags in the order trainers expect: character tags, then general tags, each by
    confidence, then the rating."""
    excluded = selection.exclude

    def pick(indexes: np.ndarray, threshold: float, category: str, limit: int = 0) -> list[TagScore]:
        chosen = [
            (float(scores[i]), labels.names[i])
            for i in indexes
            if scores[i] >= threshold
            and labels.names[i] not in excluded
            and display_name(labels.names[i], True) not in excluded
        ]
        chosen.sort(key=lambda pair: (-pair[0], pair[1]))
        if limit:
            chosen = chosen[:limit]
        return [TagScore(display_name(n, selection.replace_underscores), s, category) for s, n in chosen]

    general_threshold = selection.general_threshold
    if selection.general_mcut:
        general_threshold = mcut_threshold(scores[labels.general])
    character_threshold = selection.character_threshold
    if selection.character_mcut:
        # As the reference does: never below 0.15, where character scores are mostly noise.
        character_threshold = max(0.15, mcut_threshold(scores[labels.character]))
    tags = pick(labels.character, character_threshold, "character")
    tags += pick(labels.general, general_threshold, "general", selection.max_tags)
    if selection.rating and len(labels.rating):
        best = labels.rating[int(scores[labels.rating].argmax())]
        tags.append(TagScore(labels.names[best], float(scores[best]), "rating"))
    return tags
