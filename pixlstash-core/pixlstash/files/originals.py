"""Where original files live. The built-in store is a local folder; a plugin may supply another (an
S3-compatible bucket: ``pixlstash-s3``).

An original is addressed by its content hash, so storing the same bytes twice is a no-op and
nothing is ever overwritten. Stores never modify or delete a file they did not create. A store that is
not on this machine (``local_path`` None) is read in ranges (``read_range``, for video seeking and
downloads) or whole (``open``); an unreachable service raises ``StorageUnavailable``.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["OriginalStore"]

_CHUNK = 1 << 20


class OriginalStore(abc.ABC):
    """Content-addressed storage of managed originals (not reference-folder files)."""

    id: str
    # Writes wait on a network (a bucket): an import keeps twice as many files in flight, so that the
    # cores decode while uploads wait.
    remote: bool = False

    @abc.abstractmethod
    def put(self, content_hash: str, source: Path, suffix: str, *, move: bool = False) -> None:
        """Store ``source`` under ``content_hash`` (moved when ``move`` and possible, else copied), and
        return only once it is stored whole (a remote store verifies what it holds).

        Does nothing if it is already stored."""

    @abc.abstractmethod
    def open(self, content_hash: str, suffix: str) -> BinaryIO:
        """Open the stored original for reading; raise ``FileNotFoundError`` when it is gone."""

    @abc.abstractmethod
    def exists(self, content_hash: str, suffix: str) -> bool:
        """True when the original is stored."""

    @abc.abstractmethod
    def delete(self, content_hash: str, suffix: str) -> None:
        """Remove the stored original (only on an explicit purge); missing files are ignored."""

    def local_path(self, content_hash: str, suffix: str) -> Path | None:
        """A path on this machine that can be read directly (faster serving), or None."""
        return None

    def size(self, content_hash: str, suffix: str) -> int:
        """The stored original's size in bytes; ``FileNotFoundError`` when it is gone."""
        with self.open(content_hash, suffix) as stream:
            return stream.seek(0, os.SEEK_END)

    def read_range(self, content_hash: str, suffix: str, start: int, end: int) -> Iterator[bytes]:
        """The bytes from ``start`` up to ``end`` (exclusive), in pieces of at most a megabyte."""
        with self.open(content_hash, suffix) as stream:
            stream.seek(start)
            left = end - start
            while left > 0 and (piece := stream.read(min(_CHUNK, left))):
                left -= len(piece)
                yield piece

    def where(self) -> str:
        """Where the originals are, as a person reads it (a folder, ``s3://bucket/prefix at URL``)."""
        return self.id

    def check(self) -> None:  # noqa: B027 - a local store is always there: nothing to check
        """Raise ``StorageUnavailable`` (with the reason) when the store cannot be reached now."""

    def tidy(self) -> None:  # noqa: B027 - a bucket has no folders to leave behind
        """Remove what the store leaves once its originals were deleted (a folder's empty subfolders).
        Called only when nothing writes to the store any more (after a migration away from it)."""
