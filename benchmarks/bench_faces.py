"""Faces as people at scale: face search latency and recall through the face index, and clustering.

    .venv/bin/python benchmarks/bench_faces.py [--pictures 100000] [--new 10000]

Builds a synthetic library with 0-3 faces per picture (512-d vectors shaped like real embeddings:
low rank plus clusters, the layout the faces plugin stores), then measures:
- similar-face search (``SearchService.similar_faces``, top 10): p50 / p99 and recall@10 against exact
  search over every face vector;
- grouping every face into people from scratch, then placing ``--new`` faces into a library whose
  other faces are already grouped (what happens after a big import), with the RSS it takes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_library import build  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--skip-regroup",
        action="store_true",
        help="do not group the older faces from scratch first (each stands alone): at a million faces that "
        "takes about ten minutes here, and placing new faces costs the same either way",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    root = BENCH / f"faces-{args.pictures}"
    if not (root / "library.db").exists():
        build(root, args.pictures, tags_per_picture=2, sets=10, characters=10, faces=True, log=lambda *a: None)
    pm = make_plugin_manager(load_entry_points=False)
    with Library.open(root, plugin_manager=pm) as library:
        rows = library.db.query("SELECT id FROM faces ORDER BY id")
        face_ids = [r[0] for r in rows]
        print(f"library: {args.pictures:,} pictures, {len(face_ids):,} faces")
        index = library.indexes.get("faces/buffalo_l", "face")
        started = time.perf_counter()
        index.ensure_current()
        print(f"face index built in {time.perf_counter() - started:.1f} s")

        # Search: latency and recall@10 against exact scoring.
        vectors = library.vectors.face_vectors(face_ids)
        keys = np.array(sorted(vectors), dtype=np.int64)
        matrix = np.stack([vectors[k] for k in keys.tolist()]).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        rng = np.random.default_rng(1)
        queries = rng.choice(keys, args.queries, replace=False)
        times, recalls = [], []
        for face_id in queries.tolist():
            started = time.perf_counter()
            hits = library.search.similar_faces(face_id, limit=10)
            times.append(time.perf_counter() - started)
            sims = matrix @ matrix[np.searchsorted(keys, face_id)]
            sims[np.searchsorted(keys, face_id)] = -2
            exact = set(keys[np.argsort(-sims)[:10]].tolist())
            recalls.append(len(exact & {h.face_id for h in hits}) / 10)
        times_ms = np.array(times) * 1000
        print(
            f"similar faces, top 10: p50 {np.percentile(times_ms, 50):.2f} ms, "
            f"p99 {np.percentile(times_ms, 99):.2f} ms, recall@10 {np.mean(recalls):.4f}"
        )

        # People: everything from scratch, then the newest faces into the grouped rest.
        people = library.people
        newest = face_ids[-args.new :]
        placeholder = library.organise.create_collection("character", "bench placeholder")
        with library.db.write():  # the newest faces sit out the first grouping (as if not found yet)
            for face_id in newest:
                library.vectors.set_face_character(face_id, placeholder.id)
        if args.skip_regroup:
            with library.db.write():
                library.db.execute("UPDATE faces SET cluster_id = id WHERE character_id IS NULL")
        else:
            started = time.perf_counter()
            placed = people.clustering.rebuild()
            print(f"grouped {placed:,} faces into people from scratch in {time.perf_counter() - started:.1f} s")
        with library.db.write():
            for face_id in newest:
                library.vectors.set_face_character(face_id, None)
        before = rss_mb()
        started = time.perf_counter()
        placed = people.clustering.update()
        seconds = time.perf_counter() - started
        print(f"placed {placed:,} new faces in {seconds:.1f} s; peak RSS {rss_mb():.0f} MB", flush=True)
        clusters = people.faces.clusters(min_faces=1, limit=10_000_000)
        print(
            f"placed {placed:,} new faces among {len(face_ids) - placed:,} grouped ones in {seconds:.1f} s "
            f"({placed / seconds:,.0f} faces/s); {len(clusters):,} people, the largest {clusters[0].faces:,} faces; "
            f"peak RSS {rss_mb():.0f} MB (before {before:.0f} MB)"
        )
        library.organise.delete_collection(placeholder.id)


if __name__ == "__main__":
    main()
