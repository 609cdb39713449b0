"""Images as a transforming share (a watermark) serves them: made once per picture, size and share options,
kept on disk, and made at a bounded size with at most a few made at once.

An anonymous recipient must not be able to make the server decode a 48 MP original on every request:
renders are cached under ``thumbnails/shared/`` (a cache: deleting it costs renders, never data), an
original is rendered at most ``MAX_SIDE`` pixels on its long side (it is watermarked, so no longer the
original anyway; WebP cannot hold more than 16,383), a video is rendered from its poster, and
``CONCURRENT`` renders run at once whatever the number of requests. A share's renders are in a folder of
its own, deleted when the link is revoked (and, for links that expired or ended, at the next start).

Videos for shares that leave metadata out are remuxed without it once per video (``videos/``): the
same streams for every such share.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec
from PIL import Image

from ..media.strip_video import remux_without_metadata

__all__ = ["CONCURRENT", "MAX_SIDE", "ShareRenders"]

MAX_SIDE = 4096
CONCURRENT = 2


class ShareRenders:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._budget = threading.BoundedSemaphore(CONCURRENT)

    def get(
        self,
        share_id: int,
        key_parts: tuple,
        source: Path,
        render: Callable[[Image.Image], bytes],
    ) -> bytes:
        """The cached render for ``key_parts`` (content hash, size and share options), made from
        ``source`` with ``render`` when missing."""
        key = hashlib.blake2b(msgspec.json.encode(key_parts), digest_size=16).hexdigest()
        path = self.folder / str(share_id) / key[:2] / f"{key}.webp"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        with self._budget:
            try:  # made by another request while this one waited
                return path.read_bytes()
            except FileNotFoundError:
                pass
            with Image.open(source) as image:
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG decodes straight at a reduced scale
                image.load()
                if max(image.size) > MAX_SIDE:
                    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                body = render(image)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, partial = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.replace(partial, path)
            return body

    def video_without_metadata(self, content_hash: str, source: Path) -> Path | None:
        """``source`` remuxed without its metadata, made once; None when its container cannot be."""
        path = self.folder / "videos" / f"{content_hash}{source.suffix.lower()}"
        if path.is_file():
            return path
        with self._budget:
            if path.is_file() or remux_without_metadata(source, path):
                return path
        return None

    def forget(self, share_id: int) -> None:
        """A revoked link's renders (a cache: nothing else is lost)."""
        shutil.rmtree(self.folder / str(share_id), ignore_errors=True)

    def prune(self, live_share_ids: set[int]) -> None:
        """Renders of links that ended since (expired, or revoked by another process)."""
        if not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            if entry.is_dir() and entry.name.isdigit() and int(entry.name) not in live_share_ids:
                shutil.rmtree(entry, ignore_errors=True)
