"""Where a picture's files are: its original (the managed copy, else a reference-folder file), its
thumbnails (remade from the original when they have gone missing) and its faces' crops (made on first
use)."""

from __future__ import annotations

from pathlib import Path

from PIL import ImageOps

from .errors import BadInput, NotFound
from .media.analyse import MediaLimits, analyse_file, open_image
from .media.video import frame_at
from .originals import OriginalStore
from .storage.folders import FolderStore
from .storage.pictures import PictureStore
from .storage.vectors import VectorStore
from .thumbnails import ThumbnailCache, ThumbnailSize, make_face_crop

__all__ = ["PictureFiles"]


class PictureFiles:
    def __init__(
        self,
        pictures: PictureStore,
        folders: FolderStore,
        store: OriginalStore,
        thumbnails: ThumbnailCache,
        limits: MediaLimits,
        vectors: VectorStore,
    ) -> None:
        self.pictures, self.folders, self.store = pictures, folders, store
        self.thumbnails, self.limits, self.vectors = thumbnails, limits, vectors

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

    def face_crop_path(self, face_id: int) -> Path:
        """A square crop of one face, made once from the original (a video's from the frame it was on)."""
        found = self.vectors.face_source(face_id)
        if found is None:
            raise NotFound(f"no face {face_id}")
        content_hash, _, _ = self.pictures.address(found.picture_id)
        path = self.thumbnails.face_path(content_hash, found.box, found.frame)
        if not path.is_file():
            _, width, _, media_type = self.pictures.media_inputs([found.picture_id])[found.picture_id]
            if media_type == "video":
                if found.frame_seconds is None:
                    source = _opened(self.thumbnail_path(found.picture_id, "preview"), self.limits)
                else:
                    source = frame_at(self.original_path(found.picture_id), found.frame_seconds)
                scale = source.width / max(width, 1)
                region = tuple(v * scale for v in found.box)
            else:
                source, region = _opened(self.original_path(found.picture_id), self.limits), found.box
            crop = make_face_crop(source, region)  # type: ignore[arg-type]
            self.thumbnails.write_face(content_hash, found.box, found.frame, crop)
        return path


def _opened(path: Path, limits: MediaLimits):
    image = open_image(path, limits)
    return ImageOps.exif_transpose(image)
