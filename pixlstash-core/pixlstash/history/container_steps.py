"""Sets, characters and projects made or deleted, as steps of the undo history: undoing a deletion puts the
container back under its own id, with its members and named faces, so the steps after it find it again;
undoing a creation deletes it (never its pictures)."""

from __future__ import annotations

from ..db.database import Database
from ..db.history_state import EditState
from ..organising.organiser import Organiser
from ..system.events import Event, EventBus

__all__ = ["ContainerSteps"]


class ContainerSteps:
    def __init__(self, db: Database, events: EventBus, organiser: Organiser, state: EditState) -> None:
        self.db, self.events, self.organiser, self.state = db, events, organiser, state

    def remove(self, part: dict) -> None:
        container, container_id = part["container"], part["contents"]["row"]["id"]
        if self.state.container_details(container, container_id) is None:
            return  # deleted since
        if container == "project":
            self.organiser.delete_project(container_id)
        else:
            self.organiser.delete_collection(container_id)

    def put_back(self, part: dict) -> None:
        contents = part["contents"]
        with self.db.write():
            if part["container"] == "project":
                self.state.put_project(contents)
                pictures: list[int] = []
            else:
                pictures = self.state.put_collection(contents)
        if part["container"] == "project":
            self.events.publish(Event("project.changed", data={"project_id": contents["row"]["id"]}))
            return
        if pictures:
            self.events.publish(Event("picture.changed", pictures, {"fields": ["faces"]}))
        self.events.publish(Event("collection.changed", data={"collection_id": contents["row"]["id"]}))
