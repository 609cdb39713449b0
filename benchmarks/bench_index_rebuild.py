"""A vector index rebuilt in the background: how long the rebuild takes, and how fast
searches answer meanwhile by exact scoring over the stored vectors.

    .venv/bin/python benchmarks/synthetic_library.py .bench/ann100k --pictures 100000 --embeddings 512 \\
        --tags-per-picture 2 --sets 50 --characters 10
    .venv/bin/python benchmarks/bench_index_rebuild.py .bench/ann100k [--searches 5]

Deletes the library's saved index (a damaged or foreign-epoch one is rebuilt the same way), starts the
rebuild as a search would, and runs exact searches (the whole library, and a filter keeping the pictures
rated 4 or more) while it runs; the two compete for the same cores, as they would for a user. Then times
index searches and their recall@10 against exact search. Searches go through the library's own search
path (``SearchService._nearest``) with embedding-like query vectors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pixlstash-core"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from synthetic_library import _vectors  # noqa: E402

from pixlstash.domain import PictureFilter  # noqa: E402
from pixlstash.library import Library  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--searches", type=int, default=5, help="exact searches of each kind during the build")
    parser.add_argument("--recall-queries", type=int, default=50)
    parser.add_argument("--reach-sample", type=int, default=5000, help="vectors searched for themselves")
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    with Library.open(args.library) as library:
        [(engine_id, dims, count)] = library.vectors.embedding_engines()
        print(f"{engine_id}: {count:,} vectors of {dims} dimensions, {os.cpu_count()} cores")
        index = library.indexes.get(engine_id)
        library.indexes.delete_saved()
        search = library.search._nearest
        rated = PictureFilter(rating_min=4)
        started = time.perf_counter()
        assert index.ensure_current(wait=False) is None and index.building
        timings: dict[str, list[float]] = {"whole library": [], "rated 4+ (filter)": []}
        for _ in range(args.searches):
            for name, f in (("whole library", None), ("rated 4+ (filter)", rated)):
                if not index.building:
                    break
                query = _vectors(rng, 1, dims)
                began = time.perf_counter()
                hits, exact = search(engine_id, query, "mean", f, None, 10)
                if exact:
                    timings[name].append(time.perf_counter() - began)
        for name, values in timings.items():
            if values:
                print(
                    f"exact search during the rebuild, {name}: p50 {statistics.median(values) * 1000:.0f} ms "
                    f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, n={len(values)})"
                )
        while index.building:
            time.sleep(0.2)
        built = time.perf_counter() - started
        print(
            f"rebuild in the background: {built:.1f} s ({count / built:,.0f} vectors/s), {len(index):,} vectors indexed"
        )
        latencies, found = [], 0
        for _ in range(args.recall_queries):
            query = _vectors(rng, 1, dims)
            began = time.perf_counter()
            hits, exact = search(engine_id, query, "mean", None, None, 10)
            latencies.append(time.perf_counter() - began)
            truth = library.search._exact(engine_id, query, "mean", PictureFilter(), None, 10, frozenset())
            found += len({h.picture.id for h in hits} & {h.picture.id for h in truth})
        print(
            f"index search after it: p50 {statistics.median(latencies) * 1000:.1f} ms; recall@10 against exact "
            f"search {found / (10 * args.recall_queries):.3f} over {args.recall_queries} queries"
        )
        # Stranded nodes: stored vectors that a search for themselves does not find (usearch#735).
        sample = next(iter(library.vectors.iter_embeddings(engine_id)))
        keys, vectors = sample[0][: args.reach_sample].astype(np.int64), sample[1][: args.reach_sample]
        found_keys, _ = index.search(vectors, 10)
        stranded = sum(int(k) not in row for k, row in zip(keys, found_keys, strict=True))
        print(f"stranded: {stranded} of {len(keys):,} stored vectors not found by a search for themselves")


if __name__ == "__main__":
    main()
