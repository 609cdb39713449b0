"""Open a snapshot as a read-only SQLite database served straight from its chunks.

A preview or a selective restore reads a few tables of a snapshot; reassembling the whole database
first would cost seconds for a large library. This SQLite VFS answers each page read from the chunk
that holds it, decompressing and checking each chunk once (a small LRU cache keeps recent ones).
A damaged chunk fails the read, so nothing is ever compared or restored from bad data.

SQLite registers VFSes per process by name, so the VFS object is created once and kept alive here.
"""

from __future__ import annotations

import threading
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

if TYPE_CHECKING:
    from .chunks import ChunkStore

__all__ = ["VFS_NAME", "ChunkedSnapshot", "snapshot_uri"]

VFS_NAME = "pixlstash-snapshot"
_lock = threading.Lock()
_vfs: _SnapshotVFS | None = None


class ChunkedSnapshot:
    """A snapshot's chunk list, readable at any byte offset (chunks come checked from the store's cache)."""

    def __init__(self, store: ChunkStore, chunks: list[tuple[str, int]], chunk_bytes: int) -> None:
        self.store, self.chunks, self.chunk_bytes = store, chunks, chunk_bytes
        self.size = sum(raw for _, raw in chunks)

    def _chunk(self, index: int) -> bytes:
        digest, raw = self.chunks[index]
        return self.store.read_cached(digest, raw)

    def read(self, amount: int, offset: int) -> bytes:
        parts = []
        while amount > 0 and offset < self.size:
            index, start = divmod(offset, self.chunk_bytes)
            piece = self._chunk(index)[start : start + amount]
            parts.append(piece)
            amount -= len(piece)
            offset += len(piece)
        return b"".join(parts)


class _SnapshotFile(apsw.VFSFile):
    def __init__(self, snapshot: ChunkedSnapshot, name, flags) -> None:
        super().__init__("", name, flags)  # the empty placeholder file underneath holds nothing
        self.snapshot = snapshot

    def xRead(self, amount: int, offset: int) -> bytes:
        return self.snapshot.read(amount, offset)

    def xFileSize(self) -> int:
        return self.snapshot.size

    def xWrite(self, data, offset: int) -> None:
        raise apsw.ReadOnlyError("snapshots are read-only")

    def xTruncate(self, size: int) -> None:
        raise apsw.ReadOnlyError("snapshots are read-only")


class _SnapshotVFS(apsw.VFS):
    def __init__(self) -> None:
        super().__init__(VFS_NAME, "")
        self.open_snapshots: dict[str, ChunkedSnapshot] = {}

    def xOpen(self, name, flags):
        filename = name.filename() if isinstance(name, apsw.URIFilename) else name
        snapshot = self.open_snapshots.get(str(filename))
        if snapshot is None:  # journals and the like: nothing of ours
            return super().xOpen(name, flags)
        return _SnapshotFile(snapshot, name, flags)


def snapshot_uri(placeholder: Path, snapshot: ChunkedSnapshot) -> str:
    """A ``file:`` URI that opens (or ATTACHes) the snapshot read-only through the chunk VFS."""
    global _vfs
    with _lock:
        if _vfs is None:
            _vfs = _SnapshotVFS()
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.touch(exist_ok=True)
        placeholder = placeholder.resolve()  # SQLite hands xOpen the full path
        _vfs.open_snapshots[str(placeholder)] = snapshot
    return f"file:{urllib.parse.quote(str(placeholder))}?vfs={VFS_NAME}&immutable=1&mode=ro"


def forget(placeholder: Path) -> None:
    with _lock:
        if _vfs is not None:
            _vfs.open_snapshots.pop(str(placeholder.resolve()), None)
    placeholder.unlink(missing_ok=True)
