"""Issue 64's figures: the insights over 100,000 generated pictures, and the dataset check of a
2,000-picture set, cold (a new process: the library opened, nothing cached) and warm (the same call
again), side by side in one run.

    .venv/bin/python benchmarks/bench_insights.py [--pictures 100000] [--set 2000] [--runs 3] [--small]
        [--before REV]

The library is ``synthetic_library.build`` with ComfyUI generation data on every picture (five
checkpoints, 32 LoRAs, six samplers, four schedulers, tag prompts from 500 tags; film_grain at 0.6-0.8
and ddim planted as kept more and less often), made once into ``.bench/``. The set's pictures get stub
originals. The dataset check runs on its own library: a character of ``--set`` pictures with a 512-d
embedding and 0-3 faces each, real grid thumbnails, small JPEG originals (the check measures the
thumbnails and reads the JPEGs' headers) and captions of 4 to 90 phrases (their tokens are counted when the
clip plugin is installed: loading its tokenizer imports torch). Goals: insights <= 2 s for the
whole view and <= 300 ms after a filter change; the dataset check <= 5 s cold and <= 1 s warm. ``--small``
runs everything on 5,000 pictures (a check of the script, not a figure). ``--before REV`` also times the
first insights report ever with that git revision's core, the two taking turns, ``--runs`` times each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))

from synthetic_library import build  # noqa: E402

BENCH = HERE.parent / ".bench"
TOKENS_KEPT = Path("indexes") / "caption-tokens.v1.msgpack"

# Run in a fresh interpreter for each cold figure: the times of the calls, then a warm repeat of each.
PROBE = r"""
import json, sys, time
began = time.perf_counter()
from pixlstash.domain import PictureFilter
from pixlstash.insights import KeptRule
from pixlstash.library import Library
from pixlstash.training import BucketRules, ExportOptions
root, what, set_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = {}
with Library.open(root) as library:
    opened = time.perf_counter()
    times["open"] = opened - began
    def timed(name, call):
        started = time.perf_counter()
        result = call()
        times[name] = time.perf_counter() - started
        return result
    if what == "insights":
        whole = timed("whole view, cold", lambda: library.insights.keepers(PictureFilter(), KeptRule()))
        timed("whole view, warm", lambda: library.insights.keepers(PictureFilter(), KeptRule()))
        timed("checkpoint filter", lambda: library.insights.keepers(PictureFilter(checkpoint="juggernaut"), KeptRule()))
        timed("rating 1+ filter", lambda: library.insights.keepers(PictureFilter(rating_min=1), KeptRule()))
        timed("kept = in a set", lambda: library.insights.keepers(PictureFilter(), KeptRule("set", set_id=set_id)))
        times["pictures"] = whole.pictures
        times["findings"] = [finding.text for finding in whole.findings[:3]]
    else:
        f = PictureFilter(collections=[set_id])
        report = timed("check, cold", lambda: library.training.check(f, ExportOptions(trigger="ohwx"), BucketRules()))
        timed("check, warm", lambda: library.training.check(f, ExportOptions(trigger="ohwx"), BucketRules()))
        times["pictures"] = report.pictures
        times["findings"] = [
            f.message for f in report.findings if f.kind in ("outliers", "someone-else", "jpeg", "long-captions")
        ]
print(json.dumps(times))
"""


def library_for(pictures: int, set_size: int) -> tuple[Path, int]:
    root = BENCH / f"insights-{pictures}"
    marker = root / "set-id"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        build(root / "library", pictures, sets=200, characters=20, generation=True, log=lambda *_: None)
        from pixlstash.library import Library

        with Library.open(root / "library") as library:
            chosen = library.edits.create_collection("set", "bench-set")
            ids = [row[0] for row in library.db.query("SELECT id FROM pictures ORDER BY id LIMIT ?", (set_size,))]
            library.edits.add_members(chosen.id, ids)
            for picture_id in ids:  # stub originals: the check needs their paths to exist, not their pixels
                content_hash, suffix, _ = library.pictures.address(picture_id)
                path = library.store.local_path(content_hash, suffix)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"stub")
        marker.write_text(str(chosen.id))
    return root / "library", int(marker.read_text())


def dataset_library(set_size: int) -> tuple[Path, int]:
    """A library of ``set_size`` pictures, all in one character, with what a curator's library holds
    before the check: a 512-d embedding and 0-3 faces per picture, a real grid thumbnail and a small real
    JPEG original each (the check measures the thumbnail and reads the JPEG's header)."""
    root = BENCH / f"dataset-{set_size}"
    marker = root / "set-id"
    if not marker.exists():
        import io
        import shutil

        from PIL import Image

        from pixlstash.media.thumbnails import grid_thumbnail_from

        shutil.rmtree(root, ignore_errors=True)
        build(root / "library", set_size, sets=10, characters=2, embedding_dims=512, faces=True, log=lambda *_: None)
        from pixlstash.library import Library

        sys.path.insert(0, str(HERE.parent / "tests"))
        from corpus import photo

        with Library.open(root / "library") as library:
            chosen = library.edits.create_collection("character", "bench-character")
            ids = [row[0] for row in library.db.query("SELECT id FROM pictures ORDER BY id")]
            library.edits.add_members(chosen.id, ids)
            for n, picture_id in enumerate(ids):
                content_hash, suffix, _ = library.pictures.address(picture_id)
                image = photo(512, 384, seed=n % 97)
                data, _ = grid_thumbnail_from(image)
                thumbnail = library.thumbnails.path(content_hash, "grid")
                thumbnail.parent.mkdir(parents=True, exist_ok=True)
                thumbnail.write_bytes(data)
                original = library.store.local_path(content_hash, suffix)
                original.parent.mkdir(parents=True, exist_ok=True)
                buffer = io.BytesIO()
                image.resize((64, 48), Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=60 + n % 40)
                original.write_bytes(buffer.getvalue())
        marker.write_text(str(chosen.id))
    caption_pictures(root)
    return root / "library", int(marker.read_text())


def caption_pictures(root: Path) -> None:
    """Captions of 4 to 90 tag-like phrases, as a tagger and a person write them, on every picture (once)."""
    if (root / "captioned").exists():
        return
    import random

    from pixlstash.library import Library

    words = ["1girl", "solo", "long hair", "looking at viewer", "smile", "outdoors", "sky", "dress", "flower",
             "film grain", "soft light", "from side", "upper body", "blue eyes", "detailed background"]  # fmt: skip
    chance = random.Random(64)
    with Library.open(root / "library") as library:
        ids = [row[0] for row in library.db.query("SELECT id FROM pictures ORDER BY id")]
        for picture_id in ids:
            phrases = [chance.choice(words) for _ in range(chance.randint(4, 90))]
            library.edits.caption(picture_id, ", ".join(phrases))
    (root / "captioned").write_text("yes")


def probe(root: Path, set_id: int, what: str, core: Path = HERE.parent / "pixlstash-core") -> dict:
    env = {**os.environ, "PYTHONPATH": str(core)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), what, str(set_id)], capture_output=True, text=True, env=env
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.splitlines()[-1])


def first_ever_side_by_side(root: Path, set_id: int, kept: Path, before: str, runs: int) -> None:
    """The first insights report ever, this tree's core and ``before``'s taking turns."""
    from revision_tree import tree_at

    times: dict[str, list[float]] = {before: [], "now": []}
    with tree_at(before) as tree:
        for _ in range(runs):
            for name, core in ((before, tree / "pixlstash-core"), ("now", HERE.parent / "pixlstash-core")):
                kept.unlink(missing_ok=True)
                times[name].append(probe(root, set_id, "insights", core)["whole view, cold"])
    print("\ninsights, the first report ever, side by side:")
    for name, values in times.items():
        print(f"  {name:12} median {statistics.median(values):6.3f} s  (runs: {', '.join(f'{v:.3f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=100_000)
    parser.add_argument("--set", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--before", metavar="REV", help="also time the first report ever at this git revision")
    args = parser.parse_args()
    if args.small:
        args.pictures, args.runs = 5000, 1
    started = time.perf_counter()
    root, set_id = library_for(args.pictures, args.set)
    print(
        f"library: {args.pictures:,} pictures ({time.perf_counter() - started:.0f} s to have it); "
        f"{os.cpu_count()} cores"
    )
    started = time.perf_counter()
    dataset_root, character_id = dataset_library(args.set)
    print(
        f"dataset: a character of {args.set:,} pictures with embeddings, faces, thumbnails and JPEG originals "
        f"({time.perf_counter() - started:.0f} s to have it)"
    )
    for what, goals in (
        (
            "insights",
            {"whole view, cold": 2.0, "whole view, warm": 2.0, "checkpoint filter": 0.3, "rating 1+ filter": 0.3},
        ),
        ("check", {"check, cold": 5.0, "check, warm": 1.0}),
    ):
        where = (root, set_id) if what == "insights" else (dataset_root, character_id)
        # The first report ever numbers every picture's settings (the first check measures every thumbnail);
        # later processes start from what it kept on disk.
        kept, key = (
            ([root / "indexes" / "insights.v1.npz"], "whole view, cold")
            if what == "insights"
            else (
                [
                    dataset_root / "thumbnails" / "measures.v1.msgpack",
                    dataset_root / "indexes" / "caption-tokens.v1.msgpack",
                ],
                "check, cold",
            )
        )
        if what == "insights" and args.before:
            first_ever_side_by_side(root, set_id, kept[0], args.before, args.runs)
        for path in kept:
            path.unlink(missing_ok=True)
        first = probe(*where, what)
        print(f"\n{what}, the first ever (nothing kept on disk yet): {first[key]:.3f} s")
        runs = [probe(*where, what) for _ in range(args.runs)]
        print(f"\n{what}: {runs[0]['pictures']:,} pictures")
        for key in runs[0]:
            if key in ("pictures", "findings"):
                continue
            values = [run[key] for run in runs]
            goal = goals.get(key)
            verdict = (
                "" if goal is None else f"goal {goal:g} s: {'met' if statistics.median(values) <= goal else 'MISSED'}"
            )
            print(
                f"  {key:20} median {statistics.median(values):6.3f} s  "
                f"(runs: {', '.join(f'{v:.3f}' for v in values)})  {verdict}"
            )
        if "findings" in runs[0]:
            for text in runs[0]["findings"]:
                print(f"  finding: {text}")


if __name__ == "__main__":
    main()
