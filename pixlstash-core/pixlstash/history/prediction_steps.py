"""Reviewing an engine's predicted tags as a step of the undo history: what a review is about to change,
read just before it runs, and how to put it back. Undo takes off the tags the review put on (those the
picture did not carry before) and gives the predictions back as they were: pending or rejected, with their
engine, version and confidence. Tags are recorded by name, as in ``undo.py``: a replay finds them as they
are then (made again, in their category, if deleted since)."""

from __future__ import annotations

from collections.abc import Sequence

from ..db.database import Database
from ..db.history_state import HistoryState
from ..db.tags import TagStore
from ..pictures.editor import PictureEditor
from ..system.events import Event, EventBus

__all__ = ["PredictionSteps"]


class PredictionSteps:
    def __init__(self, db: Database, events: EventBus, tags: TagStore, editor: PictureEditor, state: HistoryState):
        self.db, self.events, self.tags, self.editor, self.state = db, events, tags, editor, state

    def review(self, picture_id: int, accept: Sequence[str], reject: Sequence[str]) -> dict | None:
        """Accept and reject predictions of one picture; the step's part, or None when nothing changed."""
        named = {name: tag_id for name in (*accept, *reject) if (tag_id := self.tags.resolve(name)) is not None}
        rows = self.state.prediction_rows(picture_id, sorted(set(named.values())))
        carried = {
            name for name in accept if name in named and self.state.tag_rows([picture_id], named[name])
        }  # accepting these changes only the prediction
        self.editor.review_predictions(picture_id, accept, reject)
        predicted = {row[0].casefold() for row in rows}
        accepted = [name for name in accept if name.casefold() in predicted]
        rejected = [name for name in reject if name.casefold() in predicted and name not in accepted]
        if not (accepted or rejected):
            return None
        return {
            "kind": "predictions",
            "picture": picture_id,
            "accepted": accepted,
            "rejected": rejected,
            "added": [name for name in accepted if name not in carried],
            "rows": rows,
        }

    def undo(self, part: dict) -> None:
        picture_id = part["picture"]
        if not self.state.existing([picture_id]):
            return  # purged since
        with self.db.write():
            added = [tag_id for name in part["added"] if (tag_id := self.tags.resolve(name)) is not None]
            self.tags.remove_from_pictures([picture_id], added)
            tag_ids = [self.tags.ensure(row[0], row[1]) for row in part["rows"]]
            self.state.put_prediction_rows(picture_id, part["rows"], tag_ids)
        self.events.publish(Event("picture.changed", [picture_id], {"fields": ["tags", "predictions"]}))

    def redo(self, part: dict) -> None:
        if self.state.existing([part["picture"]]):
            self.editor.review_predictions(part["picture"], part["accepted"], part["rejected"])
