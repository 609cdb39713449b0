"""Local copies of originals that live in a remote store (a bucket), for the work that must read a file:
decoding a thumbnail that went missing, an engine, an export. They are a cache under
``<library>/cache/originals``: each checked against its content hash as it arrives, the least recently used
removed first once they pass the limit. Serving an original to a browser never stages it (it streams in
ranges, see ``OriginalStore.read_range``)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from ..errors import StorageUnavailable, damaged_address
from .originals import OriginalStore

__all__ = ["StagedOriginals", "fetch_checked"]

DEFAULT_LIMIT = 2 << 30  # bytes of staged originals kept (2 GiB)
_CHUNK = 1 << 20


def fetch_checked(store: OriginalStore, content_hash: str, suffix: str, folder: Path, prefix: str) -> Path:
    """The original read from ``store`` into a new file in ``folder``, checked against its content hash
    as it comes (``StorageUnavailable`` when it differs: damaged); the caller renames or removes it."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=prefix)
    try:
        digest = hashlib.blake2b(digest_size=32)
        with os.fdopen(fd, "wb") as out, store.open(content_hash, suffix) as source:
            while piece := source.read(_CHUNK):
                digest.update(piece)
                out.write(piece)
        if digest.hexdigest() != content_hash:
            raise StorageUnavailable(
                f"the copy in {store.where()} of {content_hash[:12]}… is damaged (its hash differs)"
            )
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


class StagedOriginals:
    def __init__(self, root: Path, store: OriginalStore, limit: int = DEFAULT_LIMIT) -> None:
        self.root, self.store, self.limit = root, store, limit
        self._trim_lock = threading.Lock()

    def path(self, content_hash: str, suffix: str) -> Path:
        """A local copy of the original (fetched now unless one is kept); ``FileNotFoundError`` when the store
        has no such original, ``StorageUnavailable`` when it cannot be read or is not what it should be."""
        if not content_hash.isalnum() or (suffix and not suffix[1:].isalnum()):
            raise damaged_address("original", content_hash, suffix)
        target = self.root / content_hash[:2] / f"{content_hash}{suffix}"
        if target.is_file():
            os.utime(target)  # recently used: trimmed last
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(fetch_checked(self.store, content_hash, suffix, target.parent, ".staging-"), target)
        self.trim(keep=target)
        return target

    def trim(self, keep: Path | None = None) -> int:
        """Remove the least recently used copies until they fit the limit; the bytes removed."""
        with self._trim_lock:
            files = [(p.stat(), p) for p in self.root.glob("*/*") if p.is_file() and not p.name.startswith(".")]
            total = sum(stat.st_size for stat, _ in files)
            removed = 0
            for stat, path in sorted(files, key=lambda item: item[0].st_mtime):
                if total - removed <= self.limit:
                    break
                if path != keep:
                    path.unlink(missing_ok=True)
                    removed += stat.st_size
            return removed
