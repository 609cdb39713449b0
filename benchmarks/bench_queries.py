"""Listing, counting and statistics on a large synthetic library, in-process.

    .venv/bin/python benchmarks/synthetic_library.py .bench/lib1m          # once, a few minutes
    .venv/bin/python benchmarks/bench_queries.py .bench/lib1m [--runs 50]

Prints p50 and p99 per query shape (100 pictures a page) and the process RSS after opening.
"""

from __future__ import annotations

import argparse
import resource
import statistics as stats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pixlstash-core"))

from pixlstash.db.query import PictureQuery
from pixlstash.domain import PictureFilter, Sort
from pixlstash.library import Library


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def deep_cursor(library: Library, sort: Sort, depth: int) -> str:
    """The cursor a client would hold after paging ``depth`` pictures (found once with OFFSET, untimed)."""
    column = {"taken_at": "taken_at", "rating": "rating"}[sort.key]
    value, picture_id = library.db.connection.execute(
        f"SELECT {column}, id FROM pictures WHERE deleted_at IS NULL ORDER BY {column} DESC, id DESC LIMIT 1 OFFSET ?",
        (depth - 1,),
    ).fetchone()
    return PictureQuery._encode_cursor(sort, value, picture_id, 0)


def samples_ms(runs: int, call) -> list[float]:
    """``call``'s times in ms over ``runs`` runs after one to warm, sorted."""
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def timed(label: str, runs: int, call) -> None:
    samples = samples_ms(runs, call)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{label:<58} p50 {stats.median(samples):7.2f} ms   p99 {p99:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    before = rss_mb()
    library = Library.open(args.library)
    total = library.db.scalar("SELECT count(*) FROM pictures")
    print(f"library: {total:,} pictures; RSS after opening: {rss_mb():.0f} MB (interpreter alone {before:.0f} MB)")
    tag_counts = library.db.query("SELECT name, picture_count FROM tags ORDER BY picture_count DESC")
    common, median, rare = tag_counts[0], tag_counts[len(tag_counts) // 20], tag_counts[-1]
    sets = [
        r[0]
        for r in library.db.query("SELECT id FROM collections WHERE kind = 'set' ORDER BY member_count DESC LIMIT 2")
    ]
    overlap = len(library.organise.set_operation(sets, "overlap"))
    runs = args.runs
    for key in ("taken_at", "rating"):
        sort = Sort(key=key)
        timed(f"first page, by {key}", runs, lambda s=sort: library.page(None, s))
        cursor = deep_cursor(library, sort, 500_000 if total > 500_000 else total // 2)
        timed(f"page 500,000 deep, by {key}", runs, lambda s=sort, c=cursor: library.page(None, s, c))
        for label, (name, count) in (("common", common), ("5th-percentile", median), ("rare", rare)):
            f = PictureFilter(tags=[name])
            timed(f"tag {label} ({count:,} pictures), by {key}", runs, lambda f=f, s=sort: library.page(f, s))
        f = PictureFilter(collections=sets, collection_op="overlap")
        timed(f"overlap of two sets ({overlap} pictures), by {key}", runs, lambda f=f, s=sort: library.page(f, s))
        f = PictureFilter(tags=[common[0]], rating_min=4)
        timed(f"common tag and rating >= 4, by {key}", runs, lambda f=f, s=sort: library.page(f, s))
    timed("random order (seeded), first page", runs, lambda: library.page(None, Sort(key="random", seed=5)))
    timed("count, whole library", max(5, runs // 5), lambda: library.count())
    timed("count, common tag", max(5, runs // 5), lambda: library.count(PictureFilter(tags=[common[0]])))
    timed("statistics, whole library", max(5, runs // 10), lambda: library.statistics())
    print(f"RSS at the end: {rss_mb():.0f} MB")
    library.close()


if __name__ == "__main__":
    main()
