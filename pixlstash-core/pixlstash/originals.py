"""Where original files live. The built-in store is a local folder; a plugin may supply another.

An original is addressed by its content hash, so storing the same bytes twice is a no-op and
nothing is ever overwritten. Stores never modify or delete a file they did not create.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import BinaryIO

__all__ = ["OriginalStore"]


class OriginalStore(abc.ABC):
    """Content-addressed storage of managed originals (not reference-folder files)."""

    id: str

    @abc.abstractmethod
    def put(self, content_hash: str, source: Path, suffix: str, *, move: bool = False) -> None:
        """Store ``source`` under ``content_hash`` (moved when ``move`` and possible, else copied).

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
