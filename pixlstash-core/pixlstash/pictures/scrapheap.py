"""The scrapheap: deleting pictures softly, bringing them back, and purging them for good.

Managed originals and thumbnails go with a purge. Reference-folder files are deleted only when their
folder allows purging; otherwise they stay untouched on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..db.database import Database
from ..db.folders import FolderStore
from ..db.pictures import PictureStore
from ..db.query import PictureQuery
from ..domain import PictureFilter
from ..errors import BadInput
from ..files.originals import OriginalStore
from ..index.near_duplicates import NearDuplicateIndex
from ..media.thumbnails import ThumbnailCache
from ..system.clock import now_ms
from ..system.events import Event, EventBus

__all__ = ["Scrapheap"]


class Scrapheap:
    def __init__(
        self,
        db: Database,
        pictures: PictureStore,
        folders: FolderStore,
        query: PictureQuery,
        store: OriginalStore,
        thumbnails: ThumbnailCache,
        near_duplicates: NearDuplicateIndex,
        events: EventBus,
    ) -> None:
        self.db, self.pictures, self.folders, self.query = db, pictures, folders, query
        self.store, self.thumbnails = store, thumbnails
        self.near_duplicates, self.events = near_duplicates, events

    def scrap(self, picture_ids: Sequence[int]) -> list[int]:
        """Soft delete: pictures move to the scrapheap, restorable until purged."""
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            moved = self.pictures.scrap(ids, now_ms())
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.removed", moved))
        return moved

    def unscrap(self, picture_ids: Sequence[int]) -> list[int]:
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            moved = self.pictures.unscrap(ids)
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.restored", moved))
        return moved

    def purge(self, picture_ids: Sequence[int] | None = None) -> list[int]:
        """Delete scrapheap pictures for good (all of them when no ids are given)."""
        if picture_ids is None:
            ids = self.query.ids(PictureFilter(scrapheap=True))
        else:
            ids = self.pictures.require(picture_ids)
            live = set(self.pictures.existing_ids(ids, live_only=True))
            if live:
                raise BadInput(
                    "only pictures in the scrapheap can be purged; delete them first", live=sorted(live)[:100]
                )
        if not ids:
            return []
        doomed = []
        for picture_id in ids:
            content_hash, suffix, managed = self.pictures.address(picture_id)
            files = []
            for folder_id, root, rel_path in self.folders.locations(picture_id):
                if self.folders.get(folder_id).options.allow_purge:
                    files.append(Path(root) / rel_path)
            doomed.append((content_hash, suffix, managed, files))
        with self.db.write():
            self.pictures.delete_rows(ids)
        # Files go only after the rows are gone: a crash in between leaves orphan files, never rows
        # that point at nothing.
        for content_hash, suffix, managed, files in doomed:
            if managed:
                self.store.delete(content_hash, suffix)
            self.thumbnails.delete(content_hash)
            for file in files:
                file.unlink(missing_ok=True)
        self.near_duplicates.invalidate()
        self.events.publish(Event("picture.removed", ids, {"purged": True}))
        return ids
