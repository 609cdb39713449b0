"""Snapshot chunks: 64 KiB pieces of a database copy, each stored once, named by its BLAKE2b-256 hash
and compressed with zstd (with a frame checksum); read back checked, through a small LRU cache."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import zstandard

from ..errors import PixlstashError

__all__ = ["CHUNK_BYTES", "ChunkStore", "SnapshotDamaged"]

CHUNK_BYTES = 64 * 1024  # small enough that reading one row of a snapshot decompresses little


class SnapshotDamaged(PixlstashError):
    """A chunk of the snapshot is missing or does not match its checksum."""

    code = "snapshot_damaged"


class ChunkStore:
    """Compressed, checksummed chunks in ``snapshots/chunks/ab/<hash>.zst``.

    Chunks never change once written, so checked, decompressed chunks are kept in a small LRU cache:
    a preview followed by the restore it previews reads each chunk once.
    """

    CACHE_CHUNKS = 1024  # 64 MiB

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_lock = threading.Lock()

    def read_cached(self, digest: str, raw_bytes: int) -> bytes:
        with self._cache_lock:
            data = self._cache.get(digest)
            if data is not None:
                self._cache.move_to_end(digest)
                return data
        data = self.read(digest, raw_bytes)
        with self._cache_lock:
            self._cache[digest] = data
            while len(self._cache) > self.CACHE_CHUNKS:
                self._cache.popitem(last=False)
        return data

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.zst"

    def write(self, digest: str, data: bytes) -> int:
        target = self.path(digest)
        if target.exists():
            return target.stat().st_size
        target.parent.mkdir(parents=True, exist_ok=True)
        # The zstd frame carries its own checksum (XXH64), checked by every decompression: reads in place
        # skip recomputing the BLAKE2b digest; verify() still recomputes it.
        compressed = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(compressed)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(compressed)

    def read(self, digest: str, raw_bytes: int, *, full_check: bool = False) -> bytes:
        """A chunk's bytes. Damage is always detected: by the frame checksum that decompression checks,
        or, for frames without one (older chunks) and when ``full_check`` asks, by the content digest."""
        try:
            compressed = self.path(digest).read_bytes()
            framed = zstandard.get_frame_parameters(compressed).has_checksum
            data = zstandard.ZstdDecompressor().decompress(compressed, max_output_size=raw_bytes)
        except (OSError, zstandard.ZstdError) as error:
            raise SnapshotDamaged(f"chunk {digest[:12]} is missing or unreadable: {error}", chunk=digest) from None
        if len(data) != raw_bytes or (
            (full_check or not framed) and hashlib.blake2b(data, digest_size=32).hexdigest() != digest
        ):
            raise SnapshotDamaged(f"chunk {digest[:12]} does not match its checksum", chunk=digest)
        return data

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)

    def sweep(self, known: set[str]) -> None:
        """Delete every chunk file the catalog does not name (of a snapshot a crash cut short, or replaced)."""
        for path in self.root.glob("*/*.zst"):
            if path.stem not in known:
                path.unlink(missing_ok=True)
