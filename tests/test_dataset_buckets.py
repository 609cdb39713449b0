"""Buckets as the trainers make them (issue 64): ``pixlstash.training.buckets`` against sd-scripts' and
ai-toolkit's own bucketing code from ``../shared/reference``, each in its venv, on hundreds of picture sizes
(portrait, landscape, square, extreme, tiny and huge) under several rule sets: every bucket and every
resized size must be the trainer's."""

from __future__ import annotations

import functools
import json
import os
import random

import msgspec
import pytest
from consumer_venv import CONSUMERS, consumer_answer, consumer_python, reference

from pixlstash.training.buckets import BucketRules, bucket_for

pytestmark = pytest.mark.slow


def _sizes() -> list[list[int]]:
    chooser = random.Random(64)
    sizes = [[1024, 1024], [1216, 832], [832, 1216], [512, 512], [4000, 3000], [3000, 4000], [1920, 1080]]
    sizes += [[64, 64], [100, 700], [7000, 300], [257, 255], [2048, 2048], [8192, 4096], [640, 1600]]
    for _ in range(400):
        long_side = chooser.randint(200, 6000)
        short_side = max(16, int(long_side * chooser.choice([1, 0.75, 0.66, 0.5625, 0.5, 0.42, chooser.random()])))
        sizes.append([long_side, short_side] if chooser.random() < 0.5 else [short_side, long_side])
    return sizes


SIZES = tuple(tuple(size) for size in _sizes())
SD_SCRIPTS_RULES = [
    BucketRules(),  # SDXL as our export's dataset.toml writes it (min 256 after its own adjustment)
    BucketRules(resolution=512, min_bucket_reso=256, max_bucket_reso=1024),  # SD 1.5 with sd-scripts' defaults
    BucketRules(resolution=1024, min_bucket_reso=320, max_bucket_reso=1536, bucket_reso_steps=32),
    BucketRules(resolution=768, min_bucket_reso=300, max_bucket_reso=1000),  # adjusted to steps, as it does
    BucketRules(resolution=1024, bucket_no_upscale=True),
    BucketRules(resolution=512, bucket_no_upscale=True, bucket_reso_steps=32),
]
SD_SCRIPTS_IDS = ["sdxl", "sd15", "steps32", "unaligned", "no-upscale", "no-upscale-512"]
AI_TOOLKIT_RULES = [
    BucketRules(trainer="ai-toolkit"),
    BucketRules(trainer="ai-toolkit", resolution=512, bucket_tolerance=64),
    BucketRules(trainer="ai-toolkit", resolution=768, bucket_tolerance=8),
]
AI_TOOLKIT_IDS = ["1024-16", "512-64", "768-8"]
EXPORT_RESOLUTIONS = [512, 1000, 1024, 1100]


def _export_job(resolution: int) -> tuple[BucketRules, tuple[tuple[int, int], ...]]:
    """The bounds the export's dataset.toml gives sd-scripts at this resolution, and our buckets' sizes."""
    from pixlstash.training.images import buckets

    told = BucketRules(resolution=resolution, min_bucket_reso=max(64, resolution // 2), max_bucket_reso=resolution * 2)
    return told, tuple(tuple(bucket) for bucket in buckets(resolution))


JOBS = {
    "sd-scripts": (*((r, SIZES) for r in SD_SCRIPTS_RULES), *map(_export_job, EXPORT_RESOLUTIONS)),
    "ai-toolkit": tuple((r, SIZES) for r in AI_TOOLKIT_RULES),
}


def _trainers_answers(trainer: str, jobs: tuple[tuple[BucketRules, tuple[tuple[int, int], ...]], ...]) -> list:
    """The trainer's answers for each (rules, sizes) job, in one run of its code (its import is most of the
    time: one process for every case of a test, not one each)."""
    source = reference(trainer)
    if trainer == "sd-scripts":
        python = consumer_python("sd-scripts", CONSUMERS / "sd-scripts-requirements.txt")
    else:
        python = consumer_python(
            "ai-toolkit", CONSUMERS / "ai-toolkit-requirements.txt", without_deps=("torchaudio==2.11.0",)
        )
    request = {"trainer": trainer, "jobs": [{"rules": msgspec.to_builtins(r), "sizes": s} for r, s in jobs]}
    answer, _ = consumer_answer(
        [python, CONSUMERS / "buckets_by_trainer.py"],
        stdin=json.dumps(request),
        env={**os.environ, "PYTHONPATH": str(source)},
        timeout=600,
    )
    return answer


@functools.cache
def _every_answer(trainer: str) -> dict[bytes, list]:
    """The trainer's answers to all of its jobs (``JOBS``), asked once, by job (``_job_key``)."""
    jobs = JOBS[trainer]
    return dict(zip(map(_job_key, jobs), _trainers_answers(trainer, jobs), strict=True))


def _job_key(job: tuple[BucketRules, tuple[tuple[int, int], ...]]) -> bytes:
    return msgspec.json.encode(job)


def _answers(trainer: str, rules: BucketRules, sizes: tuple[tuple[int, int], ...] = SIZES) -> list:
    return _every_answer(trainer)[_job_key((rules, sizes))]


def _compare(trainer: str, rules: BucketRules) -> None:
    theirs = _answers(trainer, rules)
    rules = rules.checked()
    mismatches = []
    for (width, height), answer in zip(SIZES, theirs, strict=True):
        placed = bucket_for(width, height, rules)
        if isinstance(answer, str):  # the trainer fails on it: we must say the picture has no bucket
            if 0 not in placed.bucket:
                mismatches.append(((width, height), placed.bucket, answer))
        elif [*placed.bucket, *placed.resized] != answer:
            mismatches.append(((width, height), [*placed.bucket, *placed.resized], answer))
    assert mismatches == [], f"{len(mismatches)} of {len(theirs)} differ, e.g. {mismatches[:5]}"


# Each trainer's answers are asked once per process (``_every_answer``): its tests share one worker, or each
# worker paid the trainer's start again (13-48 s each time in CI).
@pytest.mark.xdist_group("sd-scripts-buckets")
@pytest.mark.parametrize("rules", SD_SCRIPTS_RULES, ids=SD_SCRIPTS_IDS)
def test_sd_scripts_buckets_every_size_as_we_do(rules):
    _compare("sd-scripts", rules)


@pytest.mark.xdist_group("ai-toolkit-buckets")
@pytest.mark.parametrize("rules", AI_TOOLKIT_RULES, ids=AI_TOOLKIT_IDS)
def test_ai_toolkit_buckets_every_size_as_we_do(rules):
    _compare("ai-toolkit", rules)


def test_what_a_placement_says():
    rules = BucketRules().checked()
    wide = bucket_for(1600, 900, rules)
    assert wide.bucket == (1344, 768) and not wide.upscaled
    assert 0 < wide.cut < 0.05 and abs(wide.aspect_error) < 0.03
    small = bucket_for(400, 600, rules)
    assert small.upscaled and small.resized[0] >= small.bucket[0]
    tiny = bucket_for(100, 40, BucketRules(bucket_no_upscale=True).checked())
    assert tiny.bucket == (64, 0)  # sd-scripts stops on it (a division by its height)
    kept = bucket_for(700, 500, BucketRules(bucket_no_upscale=True).checked())
    assert kept.bucket == (640, 448) and kept.resized == (700, 500) and not kept.upscaled
    with pytest.raises(ValueError, match="min_bucket_reso <= resolution"):
        BucketRules(resolution=1024, max_bucket_reso=900).checked()  # 960 once moved to steps
    with pytest.raises(ValueError, match="divides by zero"):
        BucketRules(bucket_reso_steps=511).checked()  # min_bucket_reso 256 moves down to 0


@pytest.mark.xdist_group("sd-scripts-buckets")
@pytest.mark.parametrize("resolution", EXPORT_RESOLUTIONS)
def test_the_export_crops_to_buckets_sd_scripts_keeps_as_they_are(resolution):
    """What the export (``--buckets``) and the look's "crop to the bucket" crop to is a bucket sd-scripts
    puts that picture in uncut, for the bounds the export's dataset.toml gives it; also where the resolution
    is no multiple of 64 (1000: sd-scripts adds a 960x960 square and moves 500 down to 448)."""
    told, sizes = _export_job(resolution)
    ours = [list(size) for size in sizes]  # our buckets, each as a picture's size
    theirs = _answers("sd-scripts", told, sizes)
    assert [answer[:2] for answer in theirs] == ours and [answer[2:] for answer in theirs] == ours
