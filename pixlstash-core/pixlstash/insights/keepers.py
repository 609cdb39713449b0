"""Which generation settings make keepers: for each setting a picture was made with (its checkpoint, each
LoRA and its weight band, sampler, scheduler, steps, CFG, guidance, size and prompt words), how many
pictures, how many were kept, and how that rate compares with the whole selection's.

"Kept" is the person's own word for it (``KeptRule``): rated at least N stars, in a set, or not scrapped.
Each rate has a 95 % Wilson score interval, so that a LoRA used on 6 pictures is not read as a discovery;
the lift (the rate over the selection's) carries the same interval, the selection's rate being taken as
known (it is over many more pictures). A finding is a setting on at least ``min_pictures`` pictures whose
rate lies above or below the selection's at 95 % for the whole report: hundreds of settings are tested at
once, and at 95 % each, one in twenty would stand out by chance, so the interval a finding is held to is
widened for their number (Bonferroni).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = ["InsightsReport", "KeeperFinding", "KeptRule", "SettingStat", "keeper_report"]

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
_VALUES_SHOWN = 40
_FINDINGS = 12
_Z = 1.96  # 95 %
_BAND = 0.2  # LoRA weights in bands of 0.2: 0.6-0.8
_LORA_IN_PROMPT = re.compile(r"<(?:lora|lyco):[^>]*>", re.IGNORECASE)
_WEIGHT = re.compile(r":\s*-?\d+(?:\.\d+)?\s*$")
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_STOP = frozenset(
    [
        "the",
        "and",
        "with",
        "for",
        "from",
        "that",
        "this",
        "into",
        "onto",
        "over",
        "under",
        "its",
        "his",
        "her",
        "their",
        "are",
        "was",
        "were",
        "has",
        "have",
        "very",
    ]
)


class KeptRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What counts as kept: rated ``min_rating`` stars or more, a member of the set ``set_id``, or not in
    the scrapheap. A scrapped picture is never kept."""

    by: Literal["rating", "set", "not-scrapped"] = "rating"
    min_rating: Annotated[int, Meta(ge=1, le=5)] = 4
    set_id: int | None = None

    def says(self) -> str:
        if self.by == "rating":
            return f"rated {self.min_rating} star{'s' if self.min_rating > 1 else ''} or more"
        return "in the set" if self.by == "set" else "not scrapped"

    def kept(self, rating: int, scrapped: bool, in_set: bool) -> bool:
        if scrapped:
            return False
        return rating >= self.min_rating if self.by == "rating" else in_set if self.by == "set" else True


class SettingStat(msgspec.Struct, frozen=True):
    setting: str  # one of SETTINGS
    value: str
    label: str  # in words: "LoRA film_grain at 0.6-0.8"
    pictures: int
    kept: int
    rate: float
    rate_low: float  # 95 % Wilson interval of the rate
    rate_high: float
    lift: float  # the rate over the selection's
    lift_low: float
    lift_high: float
    mean_rating: float | None  # over its rated pictures


class KeeperFinding(msgspec.Struct, frozen=True):
    text: str  # "LoRA film_grain at 0.6-0.8: kept 3.1x as often as average (31% against 10%), 412 pictures"
    direction: Literal["above", "below"]
    stat: SettingStat


class InsightsReport(msgspec.Struct, frozen=True):
    pictures: int  # with generation data, in the selection (scrapped ones included)
    kept: int
    rate: float
    kept_rule: KeptRule
    min_pictures: int
    tested: int  # settings on min_pictures pictures or more: what a finding's interval is widened for
    settings: dict[str, list[SettingStat]]  # per setting, its values with most pictures first
    findings: list[KeeperFinding]  # strongest first


def _number(value: float) -> str:
    return f"{value:g}"


def prompt_words(positive: str) -> set[str]:
    """A prompt's tags and words: comma-separated parts of up to four words as they are (emphasis and
    weights taken off, lower case); longer parts, prose, as their words (three letters or more)."""
    found: set[str] = set()
    for part in _LORA_IN_PROMPT.sub(" ", positive.lower()).replace("\n", ",").split(","):
        part = _WEIGHT.sub("", part.strip().strip("()[]{} ")).strip("()[]{} ")
        if not part:
            continue
        words = part.split()
        if len(words) <= 4:
            if len(part) <= 60:
                found.add(" ".join(words))
        else:
            found.update(w for w in _WORD.findall(part) if w not in _STOP)
    return found


def _settings(row: Sequence) -> Iterable[tuple[str, str]]:
    _, _, _, _, width, height, checkpoint, loras, sampler, scheduler, steps, cfg, guidance, positive = row
    if checkpoint:
        yield "checkpoint", checkpoint
    if loras and loras != "[]":
        for lora in msgspec.json.decode(loras):
            name, weight = lora.get("name"), lora.get("weight")
            if not name:
                continue
            yield "lora", name
            if isinstance(weight, (int, float)):
                low = math.floor(round(weight / _BAND, 6)) * _BAND
                yield "lora_weight", f"{name}@{_number(round(low, 1))}-{_number(round(low + _BAND, 1))}"
    if sampler:
        yield "sampler", sampler
    if scheduler:
        yield "scheduler", scheduler
    if steps:
        yield "steps", str(steps)
    if cfg is not None:
        yield "cfg", _number(round(cfg * 2) / 2)
    if guidance is not None:
        yield "guidance", _number(round(guidance * 2) / 2)
    if width and height:
        yield "size", f"{width}x{height}"
    if positive:
        for word in prompt_words(positive):
            yield "prompt_word", word


def _label(setting: str, value: str) -> str:
    if setting == "lora_weight":
        name, _, band = value.rpartition("@")
        return f"LoRA {name} at {band}"
    return {
        "checkpoint": f"Checkpoint {value}",
        "lora": f"LoRA {value}",
        "sampler": f"Sampler {value}",
        "scheduler": f"Scheduler {value}",
        "steps": f"{value} steps",
        "cfg": f"CFG {value}",
        "guidance": f"Guidance {value}",
        "size": f"Size {value}",
        "prompt_word": f'Prompt "{value}"',
    }[setting]


def _wilson(kept: int, pictures: int, z: float = _Z) -> tuple[float, float]:
    if not pictures:
        return 0.0, 1.0
    rate, z2 = kept / pictures, z * z
    scale = 1 + z2 / pictures
    centre = (rate + z2 / (2 * pictures)) / scale
    half = z * math.sqrt(rate * (1 - rate) / pictures + z2 / (4 * pictures * pictures)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


def keeper_report(rows: Iterable[Sequence], kept_rule: KeptRule, min_pictures: int = 20) -> InsightsReport:
    """The report over ``rows`` (``db.outcomes.OUTCOME_COLUMNS``)."""
    counts: dict[tuple[str, str], list] = {}
    total = kept_total = 0
    for row in rows:
        rating, scrapped, in_set = row[1], row[2], row[3]
        kept = kept_rule.kept(rating, bool(scrapped), bool(in_set))
        total += 1
        kept_total += kept
        for key in set(_settings(row)):
            entry = counts.get(key)
            if entry is None:
                entry = counts[key] = [0, 0, 0, 0]  # pictures, kept, rating sum, rated
            entry[0] += 1
            entry[1] += kept
            if rating:
                entry[2] += rating
                entry[3] += 1
    base = kept_total / total if total else 0.0
    stats: dict[str, list[SettingStat]] = {setting: [] for setting in SETTINGS}
    tested: list[SettingStat] = []
    for (setting, value), (pictures, kept, rating_sum, rated) in counts.items():
        if pictures < min_pictures and setting == "prompt_word":
            continue  # the long tail of words, never shown
        low, high = _wilson(kept, pictures)
        rate = kept / pictures
        stat = SettingStat(
            setting,
            value,
            _label(setting, value),
            pictures,
            kept,
            round(rate, 4),
            round(low, 4),
            round(high, 4),
            round(rate / base, 3) if base else 0.0,
            round(low / base, 3) if base else 0.0,
            round(high / base, 3) if base else 0.0,
            round(rating_sum / rated, 2) if rated else None,
        )
        stats[setting].append(stat)
        if pictures >= min_pictures and pictures < total and 0 < base < 1:  # (all kept, or none: nothing to tell)
            tested.append(stat)
    findings: list[tuple[float, KeeperFinding]] = []
    family_z = NormalDist().inv_cdf(1 - (1 - 0.95) / 2 / max(1, len(tested)))
    for stat in tested:
        low, high = _wilson(stat.kept, stat.pictures, family_z)
        said = (
            f"kept {stat.lift:.1f}x as often as average ({stat.rate:.0%} against {base:.0%}), "
            f"{stat.pictures:,} pictures"
        )
        if low > base:
            findings.append((low / base, KeeperFinding(f"{stat.label}: {said}", "above", stat)))
        elif high < base:
            findings.append((base / high, KeeperFinding(f"{stat.label}: {said}", "below", stat)))
    for values in stats.values():
        values.sort(key=lambda s: (-s.pictures, s.value))
        del values[_VALUES_SHOWN:]
    findings.sort(key=lambda pair: -pair[0])
    return InsightsReport(
        total,
        kept_total,
        round(base, 4),
        kept_rule,
        min_pictures,
        len(tested),
        stats,
        [finding for _, finding in findings[:_FINDINGS]],
    )
