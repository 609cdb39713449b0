"""Where a picture's files are: its original (the managed copy, else a reference-folder file), its
thumbnails (remade from the original when they have gone missing) and its faces' crops (made on first
use)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import msgspec
from PIL import Image, ImageOps

from ..db.folders import FolderStore
from ..db.picture_edit_rows import EditRow, PictureEditRows
from ..db.pictures import PictureStore
from ..db.vectors import VectorStore
from ..domain.look_geometry import cover_scale, edit_key, tidy
from ..errors import BadInput, NotFound, UnsupportedMedia
from ..media.analyse import VIDEO_SUFFIXES, MediaLimits, analyse_file, open_image
from ..media.exif import read_exif
from ..media.look_pixels import render
from ..media.raw import RAW_SUFFIXES, raw_preview
from ..media.thumbnails import (
    ThumbnailCache,
    ThumbnailSize,
    make_edited_thumbnail,
    make_face_crop,
    make_preview_thumbnail,
)
from ..media.video import frame_at
from ..system.paths import inside
from .originals import OriginalStore
from .renditions import RenditionCache
from .staged import StagedOriginals

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
        staged: StagedOriginals | None = None,
    ) -> None:
        self.pictures, self.folders, self.store = pictures, folders, store
        self.thumbnails, self.limits, self.vectors = thumbnails, limits, vectors
        self.renditions = RenditionCache(thumbnails.root / "edited")  # full-size edited looks, made once
        self.edit_rows = PictureEditRows(pictures.db)
        self.staged = staged  # local copies of originals kept in a remote store

    def original_path(self, picture_id: int) -> Path:
        """A readable path to the picture's original: the managed copy (a local copy of it when the store is
        remote), else a reference-folder file."""
        content_hash, suffix, managed = self.pictures.address(picture_id)
        if managed:
            path = self.store.local_path(content_hash, suffix)
            if path is not None and path.is_file():
                return path
            if path is None and self.staged is not None:
                try:
                    return self.staged.path(content_hash, suffix)
                except FileNotFoundError:
                    pass  # gone from the store: perhaps a reference folder still has it
        for _folder_id, root, rel_path in self.folders.locations(picture_id):
            candidate = inside(Path(root) / rel_path, Path(root))  # never through a link out of the folder
            if candidate is not None and candidate.is_file():
                return candidate
        raise NotFound(f"the original of picture {picture_id} is missing")

    def thumbnail_path(self, picture_id: int, size: ThumbnailSize = "grid", *, edited: bool = True) -> Path:
        """The thumbnail file (of the picture as its edit shows it, unless ``edited`` is False), remade from
        the original when it has gone missing."""
        if size not in ("grid", "preview"):
            raise BadInput("thumbnail size is 'grid' or 'preview'")
        content_hash, _, _ = self.pictures.address(picture_id)
        row = self.edit_rows.rows([picture_id]).get(picture_id)
        if edited and row is not None and row.edit is not None:
            return self._edited_thumbnail(picture_id, content_hash, size, row)
        path = self.thumbnails.path(content_hash, size)
        if path.is_file():
            return path
        original = self.original_path(picture_id)
        if size == "preview" and original.suffix.lower() not in VIDEO_SUFFIXES and not is_raw(original):
            # Previews are made on first view: one decode of the original, nothing else redone.
            image = open_image(original, self.limits)
            with image:
                try:
                    preview = make_preview_thumbnail(image, read_exif(image).orientation)
                except (OSError, SyntaxError, ValueError) as error:  # a reference file damaged since import
                    raise UnsupportedMedia(f"the original cannot be decoded: {error}") from None
            self.thumbnails.write(content_hash, "preview", preview)
        else:
            analysis = analyse_file(original, self.limits, known_hash=content_hash)
            self.thumbnails.write_made(content_hash, analysis.grid_thumbnail, analysis.preview_thumbnail)
            if size == "preview" and not path.is_file():
                raise NotFound(f"picture {picture_id} has no preview")
        return path

    def edit_key(self, picture_id: int) -> str:
        row = self.edit_rows.rows([picture_id]).get(picture_id)
        return edit_key(row.edit) if row is not None else ""

    def _edited_thumbnail(self, picture_id: int, content_hash: str, size: ThumbnailSize, row: EditRow) -> Path:
        edit = row.edit
        path = self.thumbnails.path(content_hash, size, edit_key(edit))
        if path.is_file():
            return path
        source = self.pixels_path(picture_id)  # a RAW file's preview has the original's size upright
        long_side = max(edit.crop[2:]) if edit is not None and edit.crop else max(row.width, row.height)
        zoom = max(row.width, row.height) / long_side * cover_scale(edit.angle if edit else 0, row.width, row.height)
        with open_image(source, self.limits) as image:
            try:
                made = make_edited_thumbnail(
                    image, read_exif(image).orientation, size, lambda up: render(up, edit, row.width, row.height), zoom
                )
            except (OSError, SyntaxError, ValueError) as error:
                raise UnsupportedMedia(f"the original cannot be decoded: {error}") from None
        return self.thumbnails.write(content_hash, size, made, edit_key(edit))

    def frame_path(self, picture_id: int) -> Path:
        """The preview of the picture turned and mirrored as its edit says, but neither straightened nor
        cropped: what a crop tool draws on (it shows the straightening itself)."""
        content_hash, _, _ = self.pictures.address(picture_id)
        row = self.edit_rows.rows([picture_id])[picture_id]
        frame = (
            tidy(msgspec.structs.replace(row.edit, crop=None, angle=0.0), row.width, row.height) if row.edit else None
        )
        if frame is None:
            return self.thumbnail_path(picture_id, "preview", edited=False)
        return self._edited_thumbnail(picture_id, content_hash, "preview", msgspec.structs.replace(row, edit=frame))

    def edited_image(self, picture_id: int) -> Image.Image | None:
        """The picture as its edit shows it, at full size; None when it has no edit."""
        row = self.edit_rows.rows([picture_id]).get(picture_id)
        if row is None or row.edit is None:
            return None
        original = self.original_path(picture_id)
        upright = raw_preview(original, self.limits)[0] if is_raw(original) else _opened(original, self.limits)
        upright.load()
        scale_to = upright if upright.size == (row.width, row.height) else upright.resize((row.width, row.height))
        return render(scale_to, row.edit, row.width, row.height)

    def edited_rendition(self, picture_id: int, *, make: bool = True) -> tuple[BinaryIO, str] | None:
        """The picture as shown at full size, as an open file, and its MIME type: a JPEG original stays JPEG
        (quality 95), anything else becomes PNG. Rendered once per look (``RenditionCache``); None when it
        is not rendered yet and ``make`` is False."""
        content_hash, suffix, _ = self.pictures.address(picture_id)
        key = self.edit_key(picture_id)
        if not key:
            raise NotFound(f"picture {picture_id} has no edit")
        jpeg = suffix.lower() in (".jpg", ".jpeg")

        def render(out: BinaryIO) -> None:
            image = self.edited_image(picture_id)
            if image is None:
                raise NotFound(f"picture {picture_id} has no edit")
            if jpeg:
                image.convert("RGB").save(out, "JPEG", quality=95)
            else:
                image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, "PNG", compress_level=1)

        opened = self.renditions.open(content_hash, key, ".jpg" if jpeg else ".png", render if make else None)
        return None if opened is None else (opened, "image/jpeg" if jpeg else "image/png")

    def pixels_path(self, picture_id: int) -> Path:
        """A file with the picture's pixels that Pillow opens: the original, or a RAW file's preview (made
        from its embedded JPEG or a demosaic, upright)."""
        original = self.original_path(picture_id)
        return self.thumbnail_path(picture_id, "preview") if is_raw(original) else original

    def png_rendition(self, picture_id: int) -> bytes:
        """The picture upright as a PNG, for a program that cannot read its original (a RAW file, HEIC,
        JPEG XL): a RAW file's embedded full-size preview (or a demosaic), else the decoded original."""
        original = self.original_path(picture_id)
        image = raw_preview(original, self.limits)[0] if is_raw(original) else _opened(original, self.limits)
        buffer = io.BytesIO()
        image.convert("RGBA" if "A" in image.getbands() else "RGB").save(buffer, "PNG", compress_level=1)
        return buffer.getvalue()

    def has_thumbnail(self, picture_id: int, size: ThumbnailSize) -> bool:
        """Whether the thumbnail exists now (without making it)."""
        return self.thumbnails.exists(self.pictures.address(picture_id)[0], size)

    def has_face_crop(self, face_id: int) -> bool:
        """Whether the face's crop exists now (without making it)."""
        found = self.vectors.face_source(face_id)
        if found is None:
            raise NotFound(f"no face {face_id}")
        content_hash, _, _ = self.pictures.address(found.picture_id)
        return self.thumbnails.face_path(content_hash, found.box, found.frame).is_file()

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
            elif is_raw(original := self.original_path(found.picture_id)):  # faces were found on the preview's pixels
                source = _opened(self.thumbnail_path(found.picture_id, "preview"), self.limits)
                scale = source.width / max(width, 1)
                region = tuple(v * scale for v in found.box)
            else:
                source, region = _opened(original, self.limits), found.box
            crop = make_face_crop(source, region)  # type: ignore[arg-type]
            self.thumbnails.write_face(content_hash, found.box, found.frame, crop)
        return path


def _opened(path: Path, limits: MediaLimits):
    image = open_image(path, limits)
    return ImageOps.exif_transpose(image)


def is_raw(path: Path) -> bool:
    return path.suffix.lower() in RAW_SUFFIXES
