"""How fast a saved vector index comes back up to date after vectors were written elsewhere.

    .venv/bin/python benchmarks/bench_index_catchup.py .bench/ann1m [--writes 1000 10000]

For each count, rewrites that many stored embeddings (with their own values, so the library's data
is unchanged, but each write counts as a change), then times loading the saved index and catching it
up from the change log, against the one full rebuild the previous scheme needed. Run bench_ann.py
first: it builds and saves the index.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pixlstash-core"))

from pixlstash.clock import now_ms
from pixlstash.library import Library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--writes", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    with Library.open(args.library) as library:
        [(engine_id, dims, count)] = library.vectors.embedding_engines()
        index = library.search.index(engine_id)
        started = time.perf_counter()
        len(index)
        print(f"{engine_id}: {count:,} vectors of {dims} dimensions; index loaded in "
              f"{time.perf_counter() - started:.2f} s (rebuilds: {index.rebuilds})")
        library.search.save()
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
            library.search.invalidate()
            before = index.caught_up
            started = time.perf_counter()
            len(index)
            took = time.perf_counter() - started
            print(f"{writes:>7,} vectors written elsewhere ({written:.2f} s): load + catch up {took:.2f} s, "
                  f"{index.caught_up - before:,} vectors read, rebuilds {index.rebuilds}")
            library.search.save()


if __name__ == "__main__":
    main()
