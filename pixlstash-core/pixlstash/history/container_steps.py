"""Sets, characters and projects as steps of the undo history: made or deleted (undoing a deletion puts the
container back under its own id, with its members and named faces, so the steps after it find it again;
undoing a creation deletes it, never its pictures), renamed or described, moved to another project, and a
character's faces named or rejected."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ..db.database import Database
from ..db.history_state import HistoryState
from ..organising.organiser import Organiser
from ..system.events import Event, EventBus

__all__ = ["ContainerSteps"]


class ContainerSteps:
    def __init__(self, db: Database, events: EventBus, organiser: Organiser, state: HistoryState) -> None:
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

    def exists(self, collection_id: int) -> bool:
        return self.state.container_details("collection", collection_id) is not None

    # -- names, descriptions, colours; moves ------------------------------------------------------------

    def undo_details(self, part: dict) -> None:
        self._replay_details(part, part["before"])

    def redo_details(self, part: dict) -> None:
        self._replay_details(part, part["after"])

    def _replay_details(self, part: dict, values: dict) -> None:
        container, container_id = part["container"], part["id"]
        with self.db.write():
            if not self.state.put_container_details(container, container_id, values):
                return  # deleted since
        key = "project_id" if container == "project" else "collection_id"
        self.events.publish(Event(f"{container}.changed", data={key: container_id}))  # type: ignore[arg-type]

    def undo_moved(self, part: dict) -> None:
        self._replay_move(part["id"], part["before"])

    def redo_moved(self, part: dict) -> None:
        self._replay_move(part["id"], part["after"])

    def _replay_move(self, collection_id: int, project_id: int | None) -> None:
        if not self.exists(collection_id):
            return  # deleted since
        if project_id is not None and self.state.container_details("project", project_id) is None:
            project_id = None  # its project was deleted since
        self.organiser.move_collection(collection_id, project_id)

    # -- a character's faces -------------------------------------------------------------------------

    def undo_faces(self, part: dict) -> None:
        by_character: dict[int | None, list[int]] = defaultdict(list)
        for face_id, old in part["before"]:
            by_character[old].append(face_id)
        for old, face_ids in by_character.items():
            self.organiser.assign_faces(face_ids, old if old is None or self.exists(old) else None)
        character = part["character"]
        if character is not None and part["joined"] and self.exists(character):
            self.organiser.remove_members(character, self.state.existing(part["joined"]))

    def redo_faces(self, part: dict) -> None:
        character = part["character"]
        if character is None or self.exists(character):
            self.organiser.assign_faces([face_id for face_id, _ in part["before"]], character)

    def reject(self, character_id: int, face_ids: Sequence[int]) -> dict | None:
        """Never suggest these faces for the character again (inside the caller's write); the step's part."""
        details = self.state.container_details("collection", character_id) or {}
        had = set(self.state.face_rejections(character_id, face_ids))
        self.state.put_face_rejections(character_id, face_ids)
        added = [f for f in self.state.face_rejections(character_id, face_ids) if f not in had]
        self.events.publish(Event("collection.changed", data={"collection_id": character_id}))
        return (
            {"kind": "face_rejected", "character": character_id, "name": details.get("name"), "faces": added}
            if added
            else None
        )

    def undo_rejected(self, part: dict) -> None:
        with self.db.write():
            self.state.drop_face_rejections(part["character"], part["faces"])
        self.events.publish(Event("collection.changed", data={"collection_id": part["character"]}))

    def redo_rejected(self, part: dict) -> None:
        if self.exists(part["character"]):
            with self.db.write():
                self.state.put_face_rejections(part["character"], part["faces"])
            self.events.publish(Event("collection.changed", data={"collection_id": part["character"]}))
