"""How fast a saved vector index comes back up to date after vectors were written elsewhere, and
across a full restore.

    .venv/bin/python benchmarks/bench_index_catchup.py .bench/ann1m [--writes 1000 10000] [--restore 1000]

For each count, rewrites that many stored embeddings (with their own values, so the library's data
is unchanged, but each write counts as a change), then times loading the saved index and catching it
up from the change log, against the one full rebuild the previous scheme needed.

With ``--restore N``: takes a snapshot, changes N embeddings, restores the snapshot in full with the
index loaded, and times the restore and the first search after it (the index is carried over, not
rebuilt); the snapshots it made are deleted. Run bench_ann.py first: it builds and saves the index.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pixlstash-core"))

from pixlstash.library import Library
from pixlstash.system.clock import now_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--writes", type=int, nargs="*", default=[1_000, 10_000])
    parser.add_argument("--restore", type=int, default=0, metavar="N")
    args = parser.parse_args()
    with Library.open(args.library) as library:
        [(engine_id, dims, count)] = library.vectors.embedding_engines()
        index = library.indexes.get(engine_id)
        started = time.perf_counter()
        len(index)
        print(
            f"{engine_id}: {count:,} vectors of {dims} dimensions; index loaded in "
            f"{time.perf_counter() - started:.2f} s (rebuilds: {index.rebuilds})"
        )
        library.indexes.save()
        ids = [r[0] for r in library.db.query("SELECT picture_id FROM embeddings WHERE engine_id = ?", (engine_id,))]
        rng = random.Random(3)
        for writes in args.writes:
            chosen = rng.sample(ids, writes)
            vectors = library.vectors.embeddings(engine_id, chosen)
            started = time.perf_counter()
            with library.db.write():  # as another process would: the loaded index does not see these
                for picture_id, vector in vectors.items():
                    library.vectors.put_embedding(picture_id, engine_id, "1", vector, now_ms())
            written = time.perf_counter() - started
            library.indexes.invalidate()
            before = index.caught_up
            started = time.perf_counter()
            len(index)
            took = time.perf_counter() - started
            print(
                f"{writes:>7,} vectors written elsewhere ({written:.2f} s): load + catch up {took:.2f} s, "
                f"{index.caught_up - before:,} vectors read, rebuilds {index.rebuilds}"
            )
            library.indexes.save()
        if args.restore:
            restore_with_the_index_loaded(library, engine_id, ids, args.restore, rng)


def restore_with_the_index_loaded(
    library: Library, engine_id: str, ids: list[int], changes: int, rng: random.Random
) -> None:
    service = library.new_snapshot_service()
    existing = {s.id for s in service.list()}
    started = time.perf_counter()
    snapshot = service.take("MANUAL", "bench carry-over")
    print(f"snapshot of the {len(ids):,}-picture library: {time.perf_counter() - started:.1f} s")
    chosen = rng.sample(ids, changes)
    before = library.vectors.embeddings(engine_id, chosen)
    with library.db.write():  # really different vectors: the restore must put the old ones back
        for picture_id, vector in before.items():
            library.vectors.put_embedding(picture_id, engine_id, "1", -vector, now_ms())
    index = library.indexes.get(engine_id)
    len(index)
    rebuilds = index.rebuilds
    started = time.perf_counter()
    service.restore(snapshot.id)
    restored = time.perf_counter() - started
    started = time.perf_counter()
    keys, _ = index.search(before[chosen[0]], 10)  # the index itself: a rebuild would show here
    first = time.perf_counter() - started
    hits = [k for k in keys[0].tolist() if k >= 0]
    present, vectors = index.vectors(np.array(chosen, dtype=np.uint64))
    worst = max(float(np.abs(v - before[k]).max()) for k, v in zip(present.tolist(), vectors, strict=True))
    print(
        f"full restore with {changes:,} vectors changed since the snapshot (safety snapshot included): "
        f"{restored:.1f} s; first search after it {first * 1000:.0f} ms ({len(hits)} hits); "
        f"rebuilds {index.rebuilds - rebuilds}; changed vectors back in the index: {len(present):,}, "
        f"largest difference {worst:.4f} (half precision)"
    )
    for old in service.list():
        if old.id not in existing:
            service.delete(old.id)
    service.close()


if __name__ == "__main__":
    main()
