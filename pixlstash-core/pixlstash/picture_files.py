"""Where a picture's files are: its original (the managed copy, else a reference-folder file) and its
thumbnails, remade from the original when they have gone missing."""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput, NotFound
from .media.analyse import MediaLimits, analyse_file
from .originals import OriginalStore
from .storage.folders import FolderStore
from .storage.pictures import PictureStore
from .thumbnails import ThumbnailCache, ThumbnailSize

__all__ = ["PictureFiles"]


class PictureFiles:
    def __init__(
        self,
        pictures: PictureStore,
        folders: FolderStore,
        store: OriginalStore,
        thumbnails: ThumbnailCache,
        limits: MediaLimits,
    ) -> None:
        self.pictures, self.folders, self.store = pictures, folders, store
        self.thumbnails, self.limits = thumbnails, limits

    def original_path(self, picture_id: int) -> Path:
        """A readable path to the picture's original: the managed copy, else a reference-folder file."""
        content_hash, suffix, managed = self.pictures.address(picture_id)
        if managed:
            path = self.store.local_path(content_hash, suffix)
            if path is not None and path.is_file():
                return path
        for _folder_id, root, rel_path in self.folders.locations(picture_id):
            candidate = Path(root) / rel_path
            if candidate.is_file():
                return candidate
        raise NotFound(f"the original of picture {picture_id} is missing")

    def thumbnail_path(self, picture_id: int, size: ThumbnailSize = "grid") -> Path:
        """The thumbnail file, remade from the original when it has gone missing."""
        if size not in ("grid", "preview"):
            raise BadInput("thumbnail size is 'grid' or 'preview'")
        content_hash, _, _ = self.pictures.address(picture_id)
        path = self.thumbnails.path(content_hash, size)
        if not path.is_file():
            analysis = analyse_file(self.original_path(picture_id), self.limits, known_hash=content_hash)
            self.thumbnails.write(content_hash, "grid", analysis.grid_thumbnail)
            self.thumbnails.write(content_hash, "preview", analysis.preview_thumbnail)
        return path
