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
from collections.abc import Sequence
from statistics import NormalDist
from typing import Annotated, Literal

import msgspec
import numpy as np
from msgspec import Meta

from ..domain import Id
from .settings import SETTINGS

__all__ = ["InsightsReport", "KeeperFinding", "KeptRule", "SettingStat", "keeper_report"]

_VALUES_SHOWN = 40
_FINDINGS = 12
_Z = 1.96  # 95 %


class KeptRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What counts as kept: rated ``min_rating`` stars or more, a member of the set ``set_id``, or not in
    the scrapheap. A scrapped picture is never kept."""

    by: Literal["rating", "set", "not-scrapped"] = "rating"
    min_rating: Annotated[int, Meta(ge=1, le=5)] = 4
    set_id: Id | None = None

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


def keeper_report(
    features: Sequence[np.ndarray],
    kept: np.ndarray,
    ratings: np.ndarray,
    keys: Sequence[tuple[str, str]],
    kept_rule: KeptRule,
    min_pictures: int = 20,
) -> InsightsReport:
    """The report over pictures given as their settings (``features``: numbers into ``keys``, see
    ``settings.FeatureIndex``), whether each was kept, and each one's rating (0: none)."""
    total, kept_total = len(features), int(kept.sum())
    lengths = np.fromiter(map(len, features), np.int64, total)
    flat = np.concatenate(features) if total else np.zeros(0, np.int32)
    size = len(keys)
    pictures = np.bincount(flat, minlength=size)
    kept_n = np.bincount(flat, weights=np.repeat(kept.astype(np.float64), lengths), minlength=size)
    rating_sum = np.bincount(flat, weights=np.repeat(ratings.astype(np.float64), lengths), minlength=size)
    rated = np.bincount(flat, weights=np.repeat((ratings > 0).astype(np.float64), lengths), minlength=size)
    base = kept_total / total if total else 0.0
    stats: dict[str, list[SettingStat]] = {setting: [] for setting in SETTINGS}
    tested: list[SettingStat] = []
    words = np.fromiter((setting == "prompt_word" for setting, _ in keys), bool, size)
    shown = np.nonzero((pictures > 0) & (~words | (pictures >= min_pictures)))[0]  # (not the long tail of words)
    for number in shown.tolist():
        setting, value = keys[number]
        count, kept_count = int(pictures[number]), int(kept_n[number])
        low, high = _wilson(kept_count, count)
        rate = kept_count / count
        stat = SettingStat(
            setting,
            value,
            _label(setting, value),
            count,
            kept_count,
            round(rate, 4),
            round(low, 4),
            round(high, 4),
            round(rate / base, 3) if base else 0.0,
            round(low / base, 3) if base else 0.0,
            round(high / base, 3) if base else 0.0,
            round(float(rating_sum[number] / rated[number]), 2) if rated[number] else None,
        )
        stats[setting].append(stat)
        if min_pictures <= count < total and 0 < base < 1:  # (all kept, or none: nothing to tell)
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
    findings.sort(key=lambda pair: (-pair[0], pair[1].text))  # (ties in words, not in numbering order)
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
