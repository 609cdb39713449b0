"""A training set's health before the training run: what the trainer will do with each picture and what
is wrong with the set, from what the export would write (its captions, its trigger word) and the
trainer's own bucket rules (``buckets``).

Each finding names its pictures, so that a person can look at them (the grid filtered to their ids) and
fix them; thresholds are said in the finding's words.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Literal

import msgspec

from ..domain import Picture
from .buckets import BucketRules, bucket_for
from .caption_tokens import TokenCount
from .picture_quality import BLURRY, DARK_OR_BURNT, JPEG_LOW, NOISY, PictureQuality
from .plan import ExportFile
from .variety import Identity, Spread, joined

__all__ = [
    "BucketCount",
    "CaptionSummary",
    "DatasetReport",
    "Finding",
    "PictureBucket",
    "TagShare",
    "TokenCount",
    "dataset_report",
    "duplicates_to_remove",
]

# A crop that cuts more than this share of the scaled picture loses what the caption may describe.
HEAVY_CUT = 0.2
# A tag on at least this share of the pictures (in a set of 10 or more) says nothing that tells them apart.
EVERYWHERE = 0.9
# sd-scripts and ai-toolkit make batches within a bucket: a bucket of fewer pictures than this trains in
# batches smaller than asked (kohya users read it in the log: "bucket 5: count 1").
FEW_IN_BUCKET = 2


class PictureBucket(msgspec.Struct, frozen=True):
    picture_id: int
    width: int
    height: int
    bucket: tuple[int, int]
    resized: tuple[int, int]
    aspect_error: float | None  # None: no bucket
    cut: float
    upscaled: bool


class BucketCount(msgspec.Struct, frozen=True):
    bucket: tuple[int, int]
    pictures: int


class TagShare(msgspec.Struct, frozen=True):
    tag: str
    pictures: int
    share: float


class CaptionSummary(msgspec.Struct, frozen=True):
    captioned: int
    uncaptioned: list[int]  # no caption file: sd-scripts trains them on the trigger (class_tokens), or nothing
    trigger: str
    without_trigger: list[int]  # captioned, but the trigger word is not in the caption
    trigger_only: list[int] = []  # the caption is the trigger and nothing else: nothing told apart
    words_min: int = 0
    words_median: float = 0.0
    words_max: int = 0
    longest: list[int] = []  # the captions with the most words, longest first
    tokens: list[TokenCount] = []  # per text encoder: how many tokens each caption becomes, which are cut


class Finding(msgspec.Struct, frozen=True):
    """Something a curator should look at before training: what, in words, and the pictures it is about."""

    kind: Literal[
        "no-bucket",
        "upscaled",
        "heavy-crop",
        "lonely-bucket",
        "uncaptioned",
        "trigger-only",
        "no-trigger",
        "long-captions",
        "everywhere-tag",
        "near-duplicates",
        "outliers",
        "someone-else",
        "no-face",
        "blurry",
        "exposure",
        "noisy",
        "jpeg",
        "missing",
        "videos",
    ]
    message: str
    picture_ids: list[int]


class DatasetReport(msgspec.Struct, frozen=True):
    pictures: int
    rules: BucketRules
    buckets: list[BucketCount]  # largest area first
    placements: list[PictureBucket]
    captions: CaptionSummary
    frequent_tags: list[TagShare]  # the most frequent caption tags
    single_tags: list[str]  # caption tags on one picture only
    near_duplicates: list[list[int]]  # groups of near-identical pictures: the library's, and by embedding
    findings: list[Finding]
    quality: list[PictureQuality] = []  # each picture's measures (those with a grid thumbnail)
    embedding: Spread | None = None  # how far each picture is from the set's centre, by its embedding
    identity: Identity | None = None  # for a character: how alike its faces are


def _pictures(n: int) -> str:
    return f"{n} picture{'' if n == 1 else 's'}"


def _saying(n: int, one: str, many: str) -> str:
    """ "1 picture looks ...", "3 pictures look ..."."""
    return f"{_pictures(n)} {one if n == 1 else many}"


def _caption_summary(files: Sequence[ExportFile], trigger: str, tokens: Sequence[TokenCount]) -> CaptionSummary:
    captioned = [f for f in files if f.caption]
    words = {f.picture_id: len(f.caption.replace(",", " ").split()) for f in captioned}
    trigger = trigger.strip()
    lowered = trigger.lower()
    without = [f.picture_id for f in captioned if trigger and lowered not in f.caption.lower()]
    alone = [f.picture_id for f in captioned if trigger and f.caption.strip(" ,").lower() == lowered]
    counts = sorted(words.values())
    return CaptionSummary(
        captioned=len(captioned),
        uncaptioned=[f.picture_id for f in files if not f.caption],
        trigger=trigger,
        without_trigger=without,
        trigger_only=alone,
        words_min=counts[0] if counts else 0,
        words_median=statistics.median(counts) if counts else 0.0,
        words_max=counts[-1] if counts else 0,
        longest=sorted(words, key=lambda i: (-words[i], i))[:10],
        tokens=list(tokens),
    )


def _near_duplicates(pictures: Sequence[Picture], similar: Sequence[Sequence[int]]) -> list[list[int]]:
    """The library's near-duplicate groups joined with ``similar`` (groups by embedding): a picture in
    both joins them."""
    groups = defaultdict(list)
    for picture in pictures:
        if picture.dup_group is not None:
            groups[picture.dup_group].append(picture.id)
    return joined([*groups.values(), *similar])


def dataset_report(
    files: Sequence[ExportFile],
    pictures: dict[int, Picture],
    rules: BucketRules,
    trigger: str,
    *,
    missing: Sequence[int] = (),
    videos_left_out: Sequence[int] = (),
    quality: Sequence[PictureQuality] = (),
    embedding: Spread | None = None,
    similar: Sequence[Sequence[int]] = (),
    identity: Identity | None = None,
    tokens: Sequence[TokenCount] = (),
) -> DatasetReport:
    """The report for the export's ``files`` (in its order), each with its ``Picture`` as shown; with the
    pictures' measures, their embeddings' spread and groups (``similar``) and a character's identity spread
    where the caller has them (``picture_quality``, ``variety``), and the captions' ``tokens`` per text
    encoder (``caption_tokens``)."""
    rules = rules.checked()
    placements = []
    for file in files:
        picture = pictures[file.picture_id]
        placed = bucket_for(picture.width, picture.height, rules)
        placements.append(
            PictureBucket(
                picture.id,
                picture.width,
                picture.height,
                placed.bucket,
                placed.resized,
                None if placed.aspect_error is None else round(placed.aspect_error, 4),
                round(placed.cut, 4),
                placed.upscaled,
            )
        )
    per_bucket = Counter(p.bucket for p in placements if 0 not in p.bucket)
    buckets = [
        BucketCount(bucket, count)
        for bucket, count in sorted(per_bucket.items(), key=lambda item: (-item[0][0] * item[0][1], item[0]))
    ]
    captions = _caption_summary(files, trigger, tokens)
    tag_counts = Counter(tag for file in files for tag in set(file.tags))
    total = len(files)
    frequent = [TagShare(tag, n, round(n / total, 3)) for tag, n in tag_counts.most_common(30)] if total else []
    singles = sorted(tag for tag, n in tag_counts.items() if n == 1)
    duplicates = _near_duplicates([pictures[f.picture_id] for f in files], similar)
    findings = _findings(placements, buckets, captions, frequent, singles, duplicates, rules, total)
    findings += _variety_findings(embedding, identity) + _quality_findings(quality)
    if missing:
        findings.append(Finding("missing", f"{_pictures(len(missing))} have no original here: left out", list(missing)))
    if videos_left_out:
        findings.append(Finding("videos", f"{len(videos_left_out)} videos are left out", list(videos_left_out)))
    return DatasetReport(
        total, rules, buckets, placements, captions, frequent, singles, duplicates, findings, list(quality), embedding,
        identity,
    )  # fmt: skip


def _variety_findings(embedding: Spread | None, identity: Identity | None) -> list[Finding]:
    findings = []
    if embedding is not None and embedding.outliers:
        findings.append(
            Finding(
                "outliers",
                f"{_pictures(len(embedding.outliers))} unlike the rest of the set (by their {embedding.engine_id} "
                "embeddings): a different subject or style, or what the set should have more of",
                embedding.outliers,
            )
        )
    if identity is not None and identity.someone_else:
        findings.append(
            Finding(
                "someone-else",
                _saying(len(identity.someone_else), "looks", "look") + " like someone else: no face on them is as "
                f"alike to the character's as {identity.threshold:g} ({identity.engine_id})",
                identity.someone_else,
            )
        )
    if identity is not None and identity.without_face:
        findings.append(
            Finding(
                "no-face",
                _saying(len(identity.without_face), "shows", "show") + " no face the engine found: the character "
                "from behind, far away or cropped (or not there)",
                identity.without_face,
            )
        )
    return findings


def _quality_findings(quality: Sequence[PictureQuality]) -> list[Finding]:
    dark = [q.picture_id for q in quality if q.exposure < DARK_OR_BURNT]
    flags = [
        ("blurry", [q.picture_id for q in quality if q.sharpness < BLURRY and q.exposure >= DARK_OR_BURNT],
         ("looks", "look"), " blurred (little detail left: out of focus, in motion, or enlarged)"),
        ("exposure", dark, ("is", "are"), " crushed to black or burnt to white"),
        ("noisy", [q.picture_id for q in quality if q.noise < NOISY], ("is", "are"),
         " noisy: the model learns grain as texture"),
        ("jpeg", [q.picture_id for q in quality if q.jpeg_quality is not None and q.jpeg_quality < JPEG_LOW],
         ("is a JPEG", "are JPEGs"), f" saved below quality {JPEG_LOW}: blocks and ringing are learned too"),
    ]  # fmt: skip
    return [Finding(kind, _saying(len(ids), *verb) + said, ids) for kind, ids, verb, said in flags if ids]


def _findings(placements, buckets, captions, frequent, singles, duplicates, rules, total) -> list[Finding]:
    findings = []
    no_bucket = [p.picture_id for p in placements if 0 in p.bucket]
    if no_bucket:
        findings.append(
            Finding(
                "no-bucket",
                f"{_pictures(len(no_bucket))} smaller than one bucket step ({rules.bucket_reso_steps} px) on a "
                "side: sd-scripts stops with a division by zero",
                no_bucket,
            )
        )
    upscaled = [p.picture_id for p in placements if p.upscaled and 0 not in p.bucket]
    if upscaled:
        findings.append(
            Finding("upscaled", f"{_pictures(len(upscaled))} smaller than their bucket: scaled up to train", upscaled)
        )
    heavy = [p.picture_id for p in placements if p.cut > HEAVY_CUT]
    if heavy:
        findings.append(
            Finding(
                "heavy-crop",
                _saying(len(heavy), "loses", "lose") + f" over {HEAVY_CUT:.0%} of the picture to the bucket's crop",
                heavy,
            )
        )
    lonely = {b.bucket for b in buckets if b.pictures < FEW_IN_BUCKET}
    if lonely:
        ids = [p.picture_id for p in placements if p.bucket in lonely]
        findings.append(
            Finding(
                "lonely-bucket",
                f"{len(lonely)} bucket{'s' if len(lonely) > 1 else ''} of {len(buckets)} "
                f"{'hold' if len(lonely) > 1 else 'holds'} a single picture: "
                "batches larger than 1 are short there",
                ids,
            )
        )
    if captions.uncaptioned:
        said = f"trained on the trigger '{captions.trigger}'" if captions.trigger else "trained with no caption"
        findings.append(
            Finding(
                "uncaptioned", f"{_pictures(len(captions.uncaptioned))} have no caption: {said}", captions.uncaptioned
            )
        )
    if captions.trigger_only:
        findings.append(
            Finding(
                "trigger-only",
                f"{_pictures(len(captions.trigger_only))} have only the trigger '{captions.trigger}' as caption: "
                "nothing in them is told apart from the character (caption or tag them)",
                captions.trigger_only,
            )
        )
    if captions.without_trigger:
        findings.append(
            Finding(
                "no-trigger",
                f"{_pictures(len(captions.without_trigger))} have a caption without the trigger '{captions.trigger}'",
                captions.without_trigger,
            )
        )
    for count in captions.tokens:
        if count.cut:
            findings.append(
                Finding(
                    "long-captions",
                    _saying(len(count.cut), "has", "have") + f" a caption longer than the {count.window} tokens "
                    f"{count.label} reads: the words after that are not trained",
                    count.cut,
                )
            )
    if total >= 10:
        for share in frequent:
            if share.share >= EVERYWHERE and share.tag.lower() != captions.trigger.lower():
                findings.append(
                    Finding(
                        "everywhere-tag",
                        f"'{share.tag}' is in {share.share:.0%} of the captions: it describes the set, not a picture "
                        "(leave it out, or make it the trigger)",
                        [],
                    )
                )
    if duplicates:
        ids = [i for group in duplicates for i in group]
        findings.append(
            Finding(
                "near-duplicates",
                f"{len(duplicates)} group{'s' if len(duplicates) > 1 else ''} of near-identical pictures "
                f"({len(ids)} pictures): they teach memorisation; keep the best of each",
                ids,
            )
        )
    return findings


def duplicates_to_remove(report: DatasetReport, pictures: dict[int, Picture]) -> list[int]:
    """The near-duplicates a set is better without: of each group, all but the best (the highest rated,
    then the most pixels, then the first imported)."""
    removed = []
    for group in report.near_duplicates:
        best = min(group, key=lambda i: (-pictures[i].rating, -pictures[i].width * pictures[i].height, i))
        removed.extend(i for i in group if i != best)
    return sorted(removed)
