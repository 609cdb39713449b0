"""Full-size renditions of edited pictures (what downloading an edited picture gives), made once per look
and kept on disk.

A straighten and crop of a 100-megapixel picture takes tens of seconds and gigabytes to render: rendered
again on every request, four downloads through one share link kept the machine busy for a minute each.
Here each look (content hash and edit key) is rendered once, by one thread while the others asking for it
wait, into ``thumbnails/edited/`` (a cache: deleting it costs renders, never data), and served from the
file. The folder stays under ``max_bytes``: the renditions used least recently go first.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import damaged_address

__all__ = ["RENDITION_CACHE_BYTES", "RenditionCache"]

RENDITION_CACHE_BYTES = 2 << 30


class RenditionCache:
    def __init__(self, folder: Path, max_bytes: int = RENDITION_CACHE_BYTES) -> None:
        self.folder, self.max_bytes = Path(folder), max_bytes
        self._locks: dict[str, tuple[threading.Lock, int]] = {}
        self._guard = threading.Lock()

    def path(self, content_hash: str, edit_key: str, extension: str) -> Path:
        if not (content_hash.isalnum() and edit_key.isalnum() and extension in (".jpg", ".png")):
            raise damaged_address("edited copy", content_hash, edit_key, extension)
        return self.folder / content_hash[:2] / f"{content_hash}.e{edit_key}{extension}"

    def open(
        self, content_hash: str, edit_key: str, extension: str, make: Callable[[BinaryIO], None] | None
    ) -> BinaryIO | None:
        """The rendition's file, open for reading (so trimming it meanwhile never cuts a download short),
        written by ``make`` when it is not there yet (once, whoever else asks); None when it is not there and
        ``make`` is None."""
        while True:
            if make is None:
                path = self.path(content_hash, edit_key, extension)
                if not _touched(path):
                    return None
            else:
                path = self._get(content_hash, edit_key, extension, make)
            try:
                return open(path, "rb")  # the caller streams and closes it
            except FileNotFoundError:  # trimmed by another request between the two: made again
                continue

    def _get(self, content_hash: str, edit_key: str, extension: str, make: Callable[[BinaryIO], None]) -> Path:
        path = self.path(content_hash, edit_key, extension)
        if _touched(path):
            return path
        key = path.name
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                if _touched(path):  # made while this one waited
                    return path
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".part-")
                try:
                    with os.fdopen(fd, "wb") as out:
                        make(out)
                    os.replace(partial, path)
                except BaseException:
                    Path(partial).unlink(missing_ok=True)
                    raise
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
        self._trim(keep=path)
        return path

    def _trim(self, keep: Path) -> None:
        """Delete the least recently used renditions until the folder is under ``max_bytes`` (``keep``, just
        made, stays whatever its size: the request that made it reads it next)."""
        found = []
        for entry in self.folder.glob("*/*.e*.*"):
            try:
                stat = entry.stat()
            except FileNotFoundError:
                continue
            found.append((stat.st_mtime, stat.st_size, entry))
        total = sum(size for _, size, _ in found)
        for _, size, entry in sorted(found, key=lambda item: item[0]):
            if total <= self.max_bytes:
                break
            if entry != keep:
                entry.unlink(missing_ok=True)
                total -= size


def _touched(path: Path) -> bool:
    """Whether ``path`` is there; marked as just used when it is (its modification time orders the trim)."""
    try:
        os.utime(path)
        return True
    except FileNotFoundError:
        return False
