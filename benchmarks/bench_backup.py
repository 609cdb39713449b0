"""Whole-library backup speed: a full backup, an incremental one of the unchanged library, a check and
a restore, into a folder and into a tar file.

    .venv/bin/python benchmarks/bench_backup.py [--gigabytes 2] [--pictures 200000]

Builds a library in a temporary folder: ``--pictures`` synthetic pictures (metadata only, so the
databases have a realistic size), of which enough carry a real original file of random bytes (about
10 MB each, stored under its own BLAKE2b hash, as an import stores it) to make ``--gigabytes``. The
page cache is not dropped (that needs root): on this machine the source files are read from memory,
so the figures are the copy and hash speed, not the disk's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))
sys.path.insert(0, str(HERE))

from synthetic_library import build  # noqa: E402

from pixlstash.backups import create_backup, restore_backup, verify_backup  # noqa: E402
from pixlstash.library import Library  # noqa: E402

FILE_BYTES = 10_000_000


def give_originals(library: Library, gigabytes: float) -> int:
    """Real original files for the first pictures, so the backup has bytes to copy."""
    count = max(1, int(gigabytes * 1e9 / FILE_BYTES))
    rng = os.urandom
    with library.db.write():
        for picture_id in range(1, count + 1):
            data = rng(FILE_BYTES)
            content_hash = hashlib.blake2b(data, digest_size=32).hexdigest()
            path = library.store.local_path(content_hash, ".jpg")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            library.db.execute(
                "UPDATE pictures SET content_hash = ?, suffix = '.jpg', file_size = ?, managed = 1 WHERE id = ?",
                (content_hash, FILE_BYTES, picture_id),
            )
        library.db.execute("UPDATE pictures SET managed = 0 WHERE id > ?", (count,))  # metadata only
    return count


def rate(size: int, seconds: float) -> str:
    return f"{size / 1e9:.2f} GB in {seconds:.2f} s = {size / 1e9 / seconds:.2f} GB/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--pictures", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backup-", dir=os.environ.get("TMPDIR")) as folder:
        root = Path(folder) / "library"
        build(root, args.pictures, sets=100, characters=20, log=lambda *_: None)
        with Library.open(root) as library:
            files = give_originals(library, args.gigabytes)
            db_bytes = (root / "library.db").stat().st_size
            print(f"machine: {os.cpu_count()} cores; {args.pictures:,} pictures, library.db {db_bytes / 1e6:.0f} MB,")
            print(f"  {files} originals of {FILE_BYTES / 1e6:.0f} MB ({files * FILE_BYTES / 1e9:.2f} GB)")
            for kind in ("folder", "tar"):
                target = Path(folder) / ("backup" if kind == "folder" else "backup.tar")
                began = time.perf_counter()
                full = create_backup(library.backup_source(), target)
                elapsed = time.perf_counter() - began
                print(f"{kind:>6} full backup:        {rate(full.bytes_in_backup, elapsed)} ({full.files:,} files)")
                if kind == "folder":
                    began = time.perf_counter()
                    again = create_backup(library.backup_source(), target)
                    elapsed = time.perf_counter() - began
                    print(
                        f"{kind:>6} incremental, unchanged: {elapsed:.2f} s, {again.files_written} files "
                        f"({again.bytes_written / 1e6:.0f} MB: the databases) written"
                    )
                began = time.perf_counter()
                _, problems = verify_backup(target)
                elapsed = time.perf_counter() - began
                assert problems == [], problems[:3]
                print(f"{kind:>6} verify:             {rate(full.bytes_in_backup, elapsed)}")
                restored = Path(folder) / f"restored-{kind}"
                began = time.perf_counter()
                restore_backup(target, restored)
                elapsed = time.perf_counter() - began
                print(f"{kind:>6} restore:            {rate(full.bytes_in_backup, elapsed)}")
                shutil.rmtree(restored)
                if kind == "folder":
                    shutil.rmtree(target)
                else:
                    target.unlink()


if __name__ == "__main__":
    main()
