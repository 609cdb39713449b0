"""Images as a transforming share (a watermark) serves them: made once per picture, size and share options,
kept on disk, and made at a bounded size with at most a few made at once.

An anonymous recipient must not be able to make the server decode a 48 MP original on every request:
renders are cached under ``thumbnails/shared/`` (a cache: deleting it costs renders, never data), an
original is rendered at most ``MAX_SIDE`` pixels on its long side (it is watermarked, so no longer the
original anyway; WebP cannot hold more than 16,383), a video is rendered from its poster, and
``CONCURRENT`` renders run at once whatever the number of requests.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import msgspec
from PIL import Image

__all__ = ["CONCURRENT", "MAX_SIDE", "ShareRenders"]

MAX_SIDE = 4096
CONCURRENT = 2


class ShareRenders:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._budget = threading.BoundedSemaphore(CONCURRENT)

    def get(
        self,
        key_parts: tuple,
        source: Path,
        render: Callable[[Image.Image], bytes],
    ) -> bytes:
        """The cached render for ``key_parts`` (content hash, size, share id and options), made from
        ``source`` with ``render`` when missing."""
        key = hashlib.blake2b(msgspec.json.encode(key_parts), digest_size=16).hexdigest()
        path = self.folder / key[:2] / f"{key}.webp"
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
