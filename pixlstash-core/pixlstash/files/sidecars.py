"""``.txt`` sidecars next to pictures in reference folders, as training-set tools write them.

A sidecar holds either tags (comma-separated, booru style) or a caption, as the folder's
``sidecar_format`` says. They are read on every rescan when changed, and written back only when the
folder enables ``write_sidecars``; the picture files themselves are never touched.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..db.database import Database
from ..db.folders import FolderStore
from ..db.pictures import PictureStore
from ..domain import OWN_CAPTION_SOURCES
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


class SidecarWriter:
    """Writes tags or captions back to sidecars of reference pictures whose folder allows it."""

    def __init__(self, db: Database, folders: FolderStore, pictures: PictureStore) -> None:
        self.db, self.folders, self.pictures = db, folders, pictures

    def __call__(self, event: Event) -> None:
        fields = set(event.data.get("fields", ()))
        if event.kind != "picture.changed" or not fields & {"tags", "captions"}:
            return
        for picture_id in event.picture_ids:
            try:
                self.write(picture_id)
            except Exception:  # a read-only folder must not fail the edit that triggered this
                log.exception("could not write the sidecar of picture %s", picture_id)

    def write(self, picture_id: int) -> None:
        locations = self.folders.locations(picture_id)
        if not locations:
            return
        picture = None
        for folder_id, root, rel_path in locations:
            options = self.folders.get(folder_id).options
            if not options.write_sidecars:
                continue
            picture = picture or self.pictures.get(picture_id)
            if options.sidecar_format == "caption":
                # The accepted caption (a person's, or read from this file): never an engine's suggestion.
                captions = [c.text for c in picture.captions if c.source in OWN_CAPTION_SOURCES]
                text = captions[0] if captions else ""
            else:
                text = ", ".join(tag.name for tag in picture.tags)
            target = sidecar_path(Path(root) / rel_path)
            if not text and not target.exists():
                continue  # nothing to say, and no file to empty: leave the folder as it is
            write_atomically(target, (text + "\n" if text else "").encode("utf-8"))
            with self.db.write():
                self.folders.set_sidecar_mtime(folder_id, rel_path, target.stat().st_mtime_ns)
