"""Snapshots and restores on a 100,000-picture library with 512-d embeddings and faces.

    .venv/bin/python benchmarks/synthetic_library.py .bench/lib100k --pictures 100000 --embeddings 512 --faces
    .venv/bin/python benchmarks/bench_snapshots.py .bench/lib100k

Prints: first snapshot (time, stored bytes, ratio to the raw database), a second snapshot after 1% of
pictures changed (time, new bytes), full-restore preview, full restore, selective restore of 100
pictures. Snapshots made by the run are deleted at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pixlstash-core"))

from pixlstash.library import Library
from pixlstash.snapshots import RestoreResource


def chunk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "snapshots" / "chunks").rglob("*.zst"))


def timed(label: str, call):
    started = time.perf_counter()
    result = call()
    print(f"{label:<52} {time.perf_counter() - started:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    args = parser.parse_args()
    with Library.open(args.library) as library:
        service = library.new_snapshot_service()
        for old in service.list():  # leftovers of an interrupted run would make the first snapshot free
            if (old.label or "").startswith("bench "):
                service.delete(old.id)
        existing = {s.id for s in service.list()}
        pictures = library.db.scalar("SELECT count(*) FROM pictures")
        db_bytes = (args.library / "library.db").stat().st_size
        print(
            f"library: {pictures:,} pictures, database {db_bytes / 1e6:.0f} MB "
            f"({library.db.scalar('SELECT count(*) FROM embeddings'):,} embeddings, "
            f"{library.db.scalar('SELECT count(*) FROM faces'):,} faces)"
        )
        before = chunk_bytes(args.library)
        first = timed("first snapshot", lambda: service.take("MANUAL", "bench 1"))
        stored = chunk_bytes(args.library) - before
        print(f"    stored {stored / 1e6:.1f} MB = {stored / db_bytes:.2f} of the raw database")
        again = timed("second snapshot, nothing changed", lambda: service.take("MANUAL", "bench 2"))
        print(
            f"    new bytes {chunk_bytes(args.library) - before - stored:,} "
            f"({(chunk_bytes(args.library) - before - stored) / stored:.4%} of the first)"
        )
        rng = random.Random(1)
        changed = rng.sample(range(1, pictures + 1), pictures // 100)
        library.edits.tag(changed, add=[f"bench-changed-{time.time_ns()}"])  # a new tag: a real change
        size = chunk_bytes(args.library)
        second = timed("snapshot after 1% of pictures changed", lambda: service.take("MANUAL", "bench 3"))
        print(f"    new bytes {(chunk_bytes(args.library) - size) / 1e6:.1f} MB")
        preview = timed("full-restore preview", lambda: service.preview(first.id))
        print(f"    {preview['summary']}")
        sample = [RestoreResource("picture", pid) for pid in changed[:100]]
        timed("selective-restore preview, 100 pictures", lambda: service.preview_batch(first.id, sample))
        timed("selective restore, 100 pictures", lambda: service.restore_batch(first.id, sample))
        timed("full restore (safety snapshot included)", lambda: service.restore(first.id))
        timed("full restore back to the changed state", lambda: service.restore(second.id))
        for snapshot in service.list():
            if snapshot.id not in existing:
                service.delete(snapshot.id)
        del again
        service.close()


if __name__ == "__main__":
    main()
