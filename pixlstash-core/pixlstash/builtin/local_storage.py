"""The built-in original store: a content-addressed folder inside the library. Any plugin can replace it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import damaged_address
from ..files.originals import OriginalStore
from ..hookspecs import hookimpl

__all__ = ["LocalFolderStore"]


class LocalFolderStore(OriginalStore):
    """Originals at ``<root>/ab/cd/<hash><suffix>``; written once through a temporary file, never rewritten."""

    id = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, content_hash: str, suffix: str) -> Path:
        if not content_hash.isalnum() or (suffix and not suffix[1:].isalnum()):
            raise damaged_address("original", content_hash, suffix)
        return self.root / content_hash[:2] / content_hash[2:4] / f"{content_hash}{suffix}"

    def put(self, content_hash: str, source: Path, suffix: str, *, move: bool = False) -> None:
        target = self._path(content_hash, suffix)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            try:
                os.replace(source, target)
                return
            except OSError:  # another filesystem: fall back to a copy
                pass
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, content_hash: str, suffix: str) -> BinaryIO:
        return open(self._path(content_hash, suffix), "rb")

    def exists(self, content_hash: str, suffix: str) -> bool:
        return self._path(content_hash, suffix).is_file()

    def delete(self, content_hash: str, suffix: str) -> None:
        # (its empty ab/cd/ folders stay: removing them races with anything walking the folder meanwhile)
        self._path(content_hash, suffix).unlink(missing_ok=True)

    def tidy(self) -> None:
        # Deepest first; a folder that still holds something stays (rmdir refuses it).
        for folder in sorted((p for p in self.root.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            self.root.rmdir()

    def local_path(self, content_hash: str, suffix: str) -> Path | None:
        return self._path(content_hash, suffix)

    def where(self) -> str:
        return str(self.root)


@hookimpl(trylast=True)
def make_original_store(library_root: Path, settings: Mapping[str, Any]) -> OriginalStore:
    return LocalFolderStore(Path(library_root) / "originals")
