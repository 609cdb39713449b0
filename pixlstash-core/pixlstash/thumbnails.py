"""The thumbnail cache: WebP files by content hash, kept apart from originals, remade when missing.

File names carry ``THUMBNAIL_VERSION``: when thumbnail making changes (size, filter, encoder), bumping
it makes every thumbnail be remade lazily, on first request, with no migration.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

__all__ = ["ThumbnailCache", "ThumbnailSize"]

ThumbnailSize = Literal["grid", "preview"]
THUMBNAIL_VERSION = 1


class ThumbnailCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, content_hash: str, size: ThumbnailSize) -> Path:
        if size not in ("grid", "preview") or not content_hash.isalnum():
            raise ValueError(f"bad thumbnail address {content_hash!r} {size!r}")
        return self.root / content_hash[:2] / f"{content_hash}.{size}.v{THUMBNAIL_VERSION}.webp"

    def write(self, content_hash: str, size: ThumbnailSize, data: bytes) -> Path:
        """Write atomically (temporary file, then rename) so a reader never sees half a thumbnail."""
        target = self.path(content_hash, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def exists(self, content_hash: str, size: ThumbnailSize) -> bool:
        return self.path(content_hash, size).is_file()

    def delete(self, content_hash: str) -> None:
        for size in ("grid", "preview"):
            self.path(content_hash, size).unlink(missing_ok=True)
