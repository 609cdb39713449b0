"""Sidecars next to pictures in reference folders: ``.txt`` ones as training-set tools write them, and
``.xmp`` ones for photo software.

A ``.txt`` sidecar holds either tags (comma-separated, booru style) or a caption, as the folder's
``sidecar_format`` says. Both kinds are read on every rescan when changed; a ``.txt`` one is written back
only when the folder enables ``write_sidecars``, an ``.xmp`` one when it enables ``write_xmp`` (its other
properties kept: ``media/xmp_sidecar.py``). The picture files themselves are never touched.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..db.collections import CollectionStore
from ..db.database import Database
from ..db.folders import FolderStore
from ..db.pictures import PictureStore
from ..domain import OWN_CAPTION_SOURCES, Picture
from ..media.xmp import MAX_XMP, sidecar_stamp, sidecar_to_write
from ..media.xmp_sidecar import SidecarContent, people_regions, updated_sidecar, xmp_sidecar
from ..system.atomic import write_atomically
from ..system.events import Event

__all__ = ["SidecarWriter", "read_sidecar", "sidecar_path"]

log = logging.getLogger(__name__)
_MAX_SIDECAR_BYTES = 1 << 20


def sidecar_path(picture_path: Path) -> Path:
    return picture_path.with_suffix(".txt")


def read_sidecar(picture_path: Path, fmt: str) -> tuple[list[str], str | None]:
    """(tags, caption) from the sidecar of ``picture_path``; empty when there is none or it is unreadable."""
    path = sidecar_path(picture_path)
    try:
        if path.stat().st_size > _MAX_SIDECAR_BYTES:
            log.warning("sidecar %s is too large to read", path)
            return [], None
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return [], None
    if not text:
        return [], None
    if fmt == "caption":
        return [], text
    tags = [" ".join(part.split()) for part in text.replace("\n", ",").split(",")]
    return [t for t in dict.fromkeys(tags) if t and len(t) <= 200], None


_TEXT_FIELDS = {"tags", "captions"}
_XMP_FIELDS = {"tags", "captions", "rating", "faces"}


class SidecarWriter:
    """Writes what a person changes back beside reference pictures whose folder allows it."""

    def __init__(
        self, db: Database, folders: FolderStore, pictures: PictureStore, collections: CollectionStore
    ) -> None:
        self.db, self.folders, self.pictures, self.collections = db, folders, pictures, collections

    def __call__(self, event: Event) -> None:
        fields = set(event.data.get("fields", ()))
        if event.kind != "picture.changed" or not fields & _XMP_FIELDS:
            return
        for picture_id in event.picture_ids:
            try:
                self.write(picture_id, fields)
            except Exception:  # a read-only folder must not fail the edit that triggered this
                log.exception("could not write the sidecar of picture %s", picture_id)

    def write(self, picture_id: int, fields: set[str] | frozenset[str] = frozenset(_XMP_FIELDS)) -> None:
        locations = self.folders.locations(picture_id)
        if not locations:
            return
        picture = None
        for folder_id, root, rel_path in locations:
            options = self.folders.get(folder_id).options
            if options.write_sidecars and fields & _TEXT_FIELDS:
                picture = picture or self.pictures.get(picture_id)
                self._write_text(folder_id, rel_path, Path(root) / rel_path, picture, options.sidecar_format)
            if options.write_xmp and fields & _XMP_FIELDS:
                picture = picture or self.pictures.get(picture_id)
                self._write_xmp(folder_id, rel_path, Path(root) / rel_path, picture)

    def _write_text(self, folder_id: int, rel_path: str, path: Path, picture: Picture, sidecar_format: str) -> None:
        if sidecar_format == "caption":
            # The accepted caption (a person's, or read from this file): never an engine's suggestion.
            captions = [c.text for c in picture.captions if c.source in OWN_CAPTION_SOURCES]
            text = captions[0] if captions else ""
        else:
            text = ", ".join(tag.name for tag in picture.tags)
        target = sidecar_path(path)
        if not text and not target.exists():
            return  # nothing to say, and no file to empty: leave the folder as it is
        write_atomically(target, (text + "\n" if text else "").encode("utf-8"))
        with self.db.write():
            self.folders.set_sidecar_mtime(folder_id, rel_path, target.stat().st_mtime_ns)

    def _write_xmp(self, folder_id: int, rel_path: str, path: Path, picture: Picture) -> None:
        """Its tags, stars, own caption and people into the ``.xmp`` sidecar beside it (the one photo software
        made, else a new ``name.ext.xmp``), everything else that sidecar holds kept. Private characters are
        never named in a file."""
        target = sidecar_to_write(path)
        if target is None:
            log.warning("%s: its .xmp sidecar is a link: not written", path)
            return
        names = self.collections.character_names(shared_only=True)
        captions = [c.text for c in picture.captions if c.source in OWN_CAPTION_SOURCES]
        content = SidecarContent(
            [tag.name for tag in picture.tags],
            picture.rating,
            captions[0] if captions else "",
            people_regions(picture, names, shown=False),
            (picture.original_width, picture.original_height),
        )
        if target.is_file():
            if target.stat().st_size > MAX_XMP:
                log.warning("%s: its .xmp sidecar is over %s bytes: not written", path, f"{MAX_XMP:,}")
                return
            data = updated_sidecar(target.read_bytes(), content)
        elif content.tags or content.rating or content.description or content.people:
            data = xmp_sidecar(content)
        else:
            data = None  # nothing to say, and no file: leave the folder as it is
        if data is None:
            return
        write_atomically(target, data)
        with self.db.write():  # what was written is not read again as the photo software's change
            self.folders.set_xmp_mtime(folder_id, rel_path, sidecar_stamp(path))
