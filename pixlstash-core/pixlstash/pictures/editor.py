"""Editing pictures: rating and flags, tags, captions and engine suggestions, each in one transaction and
announced on the event bus. The undo history (``history/undo.py``) records the ones a person makes."""

from __future__ import annotations

from collections.abc import Sequence

from ..db.database import Database
from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..errors import NotFound
from ..system.clock import now_ms
from ..system.events import Event, EventBus

__all__ = ["PictureEditor"]


class PictureEditor:
    def __init__(self, db: Database, pictures: PictureStore, tags: TagStore, events: EventBus) -> None:
        self.db, self.pictures, self.tags, self.events = db, pictures, tags, events

    def update(self, picture_ids: Sequence[int], **fields: object) -> int:
        """Set rating / favourite / flagged / taken_at on several pictures at once."""
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            changed = self.pictures.update(ids, **fields)
        self.events.publish(Event("picture.changed", ids, {"fields": sorted(fields)}))
        return changed

    def tag(
        self, picture_ids: Sequence[int], add: Sequence[str] = (), remove: Sequence[str] = (), category: str = "general"
    ) -> None:
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            self.tags.add_to_pictures(ids, [self.tags.ensure(name, category) for name in add])
            removable = [t for t in (self.tags.resolve(name) for name in remove) if t is not None]
            self.tags.remove_from_pictures(ids, removable)
        self.events.publish(Event("picture.changed", ids, {"fields": ["tags"]}))

    def set_caption(
        self, picture_id: int, text: str | None, source: str = "user", engine_version: str | None = None
    ) -> None:
        self.pictures.require([picture_id])
        with self.db.write():
            self.pictures.set_caption(picture_id, source, text, engine_version, now_ms())
        self.events.publish(Event("picture.changed", [picture_id], {"fields": ["captions"]}))

    def accept_caption(self, picture_id: int, source: str) -> None:
        """Make an engine's suggested caption the picture's caption (the user's own is replaced by it)."""
        found = next((c for c in self.pictures.get(picture_id).captions if c.source == source), None)
        if found is None or source == "user":
            raise NotFound(f"picture {picture_id} has no caption from {source}")
        self.set_caption(picture_id, found.text)

    def review_predictions(self, picture_id: int, accept: Sequence[str] = (), reject: Sequence[str] = ()) -> None:
        """Accept predicted tags (they become the picture's tags) or reject them (never proposed again)."""
        self.pictures.require([picture_id])
        with self.db.write():
            self.tags.accept_predictions(picture_id, [t for t in map(self.tags.resolve, accept) if t is not None])
            self.tags.reject_predictions(picture_id, [t for t in map(self.tags.resolve, reject) if t is not None])
        self.events.publish(Event("picture.changed", [picture_id], {"fields": ["tags", "predictions"]}))
