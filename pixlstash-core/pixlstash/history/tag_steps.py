"""The tag vocabulary's changes as steps of the undo history: a tag renamed or moved to another category, an
alias added, one tag merged into another. Tags are recorded by name (as everywhere in the history): a replay
finds them as they are then, and skips what was deleted since. Undoing a merge makes the merged tag again,
with its aliases, its pictures (source and confidence as they were) and its predictions, and takes the
other tag off the pictures and predictions the merge gave it."""

from __future__ import annotations

from ..db.database import Database
from ..db.history_state import HistoryState
from ..db.tags import TagStore
from ..system.events import Event, EventBus

__all__ = ["TagSteps"]


class TagSteps:
    def __init__(self, db: Database, events: EventBus, tags: TagStore, state: HistoryState) -> None:
        self.db, self.events, self.tags, self.state = db, events, tags, state

    # -- recording (inside the caller's write) --------------------------------------------------------

    def rename(self, tag_id: int, name: str | None, category: str | None) -> dict | None:
        before = self.tags.get(tag_id)
        self.tags.update(tag_id, name=name, category=category)
        after = self.tags.get(tag_id)
        self.events.publish(Event("tag.changed", data={"tag_id": tag_id}))
        if (before.name, before.category) == (after.name, after.category):
            return None
        return {"kind": "tag_renamed", "before": [before.name, before.category], "after": [after.name, after.category]}

    def alias(self, tag_id: int, alias: str) -> dict | None:
        had = set(self.state.aliases(tag_id))
        self.tags.add_alias(tag_id, alias)
        added = sorted(set(self.state.aliases(tag_id)) - had)
        self.events.publish(Event("tag.changed", data={"tag_id": tag_id}))
        return {"kind": "tag_alias", "tag": self.tags.get(tag_id).name, "aliases": added} if added else None

    def merge(self, source_id: int, target_id: int) -> dict | None:
        if source_id == target_id:
            return None
        source, target = self.tags.get(source_id), self.tags.get(target_id)
        rows = [list(row) for row in self.state.every_tag_row(source_id)]
        carried = {row[0] for row in self.state.every_tag_row(target_id)}
        predicted = self.state.target_predictions(target_id)
        predictions = self.state.tag_predictions(source_id)
        part = {
            "kind": "tag_merged",
            "source": [source.name, source.category],
            "into": target.name,
            "aliases": self.state.aliases(source_id),
            "rows": rows,
            "added": [row[0] for row in rows if row[0] not in carried],
            "predictions": predictions,
            "predictions_added": [[row[0], row[1]] for row in predictions if (row[0], row[1]) not in predicted],
        }
        self.tags.merge(source_id, target_id)
        return part

    # -- undo and redo ---------------------------------------------------------------------------------

    def undo_renamed(self, part: dict) -> None:
        self._rename(part["after"][0], part["before"])

    def redo_renamed(self, part: dict) -> None:
        self._rename(part["before"][0], part["after"])

    def _rename(self, current: str, to: list) -> None:
        with self.db.write():
            if (tag_id := self.tags.resolve(current)) is None:
                return  # deleted since
            self.tags.update(tag_id, name=to[0], category=to[1])
        self.events.publish(Event("tag.changed", data={"tag_id": tag_id}))

    def undo_alias(self, part: dict) -> None:
        with self.db.write():
            for alias in part["aliases"]:
                self.state.drop_alias(alias)
        self.events.publish(Event("tag.changed", data={}))

    def redo_alias(self, part: dict) -> None:
        with self.db.write():
            if (tag_id := self.tags.resolve(part["tag"])) is None:
                return
            for alias in part["aliases"]:
                self.tags.add_alias(tag_id, alias)
        self.events.publish(Event("tag.changed", data={"tag_id": tag_id}))

    def undo_merged(self, part: dict) -> None:
        with self.db.write():
            if (target_id := self.tags.resolve(part["into"])) is None:
                return  # the merged-into tag was deleted since: nothing to take back from
            self.state.drop_alias(part["source"][0])
            source_id = self.tags.ensure(*part["source"])
            alive = set(self.state.existing([row[0] for row in part["rows"]]))
            part = {**part, "rows": [row for row in part["rows"] if row[0] in alive]}
            self.state.unmerge_tag(source_id, target_id, part)
        self._pictures_changed(part)

    def redo_merged(self, part: dict) -> None:
        with self.db.write():
            source_id, target_id = self.tags.resolve(part["source"][0]), self.tags.resolve(part["into"])
            if source_id is None or target_id is None or source_id == target_id:
                return
            self.tags.merge(source_id, target_id)
        self._pictures_changed(part)

    def _pictures_changed(self, part: dict) -> None:
        if pictures := sorted({row[0] for row in part["rows"]} | {row[0] for row in part["predictions"]}):
            self.events.publish(Event("picture.changed", pictures, {"fields": ["tags", "predictions"]}))
        self.events.publish(Event("tag.changed", data={}))
