"""Organising a library: projects, characters, sets, memberships and the tag vocabulary.

Each operation is one write transaction followed by an event, so every caller (CLI, web, plugins)
gets the same behaviour and the live stream sees every change.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..db.collections import CollectionStore
from ..db.database import Database
from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..db.vectors import VectorStore
from ..domain import Breadcrumb, Collection, CollectionKind, Project, SetOp
from ..errors import BadInput, NotFound
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from .curated import may_add, may_change_members, may_manage, may_set_private

__all__ = ["Organiser"]


class Organiser:
    def __init__(
        self,
        db: Database,
        collections: CollectionStore,
        tags: TagStore,
        pictures: PictureStore,
        vectors: VectorStore,
        events: EventBus,
    ) -> None:
        self.db, self.store, self.tags, self.pictures, self.vectors, self.events = (
            db,
            collections,
            tags,
            pictures,
            vectors,
            events,
        )

    def _changed(self, kind: str, **data: object) -> None:
        self.events.publish(Event(kind, data=data))  # type: ignore[arg-type]

    # -- projects -------------------------------------------------------------------------------

    def create_project(self, name: str, description: str = "", color: str | None = None) -> Project:
        with self.db.write():
            project_id = self.store.create_project(name, description, color, now_ms())
        self._changed("project.changed", project_id=project_id)
        return self.store.project(project_id)

    def set_project_private(self, project_id: int, private: bool) -> Project:
        """Keep a project (and the sets in it) to whoever made it and those with a role in it, or share it."""
        may_set_private(self.store.project(project_id))
        with self.db.write():
            self.store.set_project_private(project_id, private)
        self._changed("project.changed", project_id=project_id)
        return self.store.project(project_id)

    def require_manage_project(self, project_id: int) -> Project:
        """The project, when the account in force may rename or delete it (else ``Forbidden``)."""
        project = self.store.project(project_id)
        may_manage(project)
        return project

    def update_project(self, project_id: int, **fields: str | None) -> Project:
        with self.db.write():
            self.store.update_project(project_id, **fields)
        self._changed("project.changed", project_id=project_id)
        return self.store.project(project_id)

    def delete_project(self, project_id: int) -> None:
        with self.db.write():
            self.store.delete_project(project_id)
        self._changed("project.changed", project_id=project_id, deleted=True)

    def add_to_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        ids = self.pictures.require(picture_ids)
        may_add(self.store.project(project_id))
        with self.db.write():
            self.store.add_to_project(project_id, ids)
        self._changed("project.changed", project_id=project_id)

    def remove_from_project(self, project_id: int, picture_ids: Sequence[int]) -> None:
        may_add(self.store.project(project_id))
        with self.db.write():
            self.store.remove_from_project(project_id, list(picture_ids))
        self._changed("project.changed", project_id=project_id)

    # -- characters and sets --------------------------------------------------------------------

    def create_collection(
        self,
        kind: CollectionKind,
        name: str,
        project_id: int | None = None,
        description: str = "",
        color: str | None = None,
    ) -> Collection:
        with self.db.write():
            collection_id = self.store.create_collection(kind, name, project_id, description, color, now_ms())
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def update_collection(self, collection_id: int, **fields: str | None) -> Collection:
        with self.db.write():
            self.store.update_collection(collection_id, **fields)
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def set_private(self, collection_id: int, private: bool) -> Collection:
        """Keep a set or character to whoever made it and those with a role in it, or share it with the library."""
        may_set_private(self.store.collection(collection_id))
        with self.db.write():
            self.store.set_private(collection_id, private)
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def require_manage(self, collection_id: int) -> Collection:
        """The set or character, when the account in force may rename, move or delete it (else ``Forbidden``)."""
        collection = self.store.collection(collection_id)
        may_manage(collection)
        return collection

    def move_collection(self, collection_id: int, project_id: int | None) -> Collection:
        """Move a character or set to another project; pictures follow, reference-aware."""
        with self.db.write():
            self.store.move_collection(collection_id, project_id)
        self._changed("collection.changed", collection_id=collection_id, project_id=project_id)
        return self.store.collection(collection_id)

    def delete_collection(self, collection_id: int) -> None:
        """Delete a set or character; its pictures are never deleted."""
        with self.db.write():
            self.store.delete_collection(collection_id)
        self._changed("collection.changed", collection_id=collection_id, deleted=True)

    def add_members(self, collection_id: int, picture_ids: Sequence[int]) -> Collection:
        ids = self.pictures.require(picture_ids)
        may_change_members(self.db, self.store.collection(collection_id))
        with self.db.write():
            self.store.add_members(collection_id, ids, now_ms())
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def file_under_character(self, name: str, picture_ids: Sequence[int]) -> Collection:
        """Add pictures to the character named ``name`` (the same name, any case), made when there is none:
        how a tagger's character tag becomes a character."""
        ids = self.pictures.require(picture_ids)
        with self.db.write():
            if (found := self.store.character_named(name)) is not None:
                collection_id = found
            else:
                collection_id = self.store.create_collection("character", name.strip(), None, "", None, now_ms())
            self.store.add_members(collection_id, ids, now_ms())
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def character_named(self, name: str) -> Collection | None:
        """The character of that name, in any case, or None."""
        found = self.store.character_named(name)
        return self.store.collection(found) if found is not None else None

    def remove_members(self, collection_id: int, picture_ids: Sequence[int]) -> Collection:
        may_change_members(self.db, self.store.collection(collection_id))
        with self.db.write():
            self.store.remove_members(collection_id, list(picture_ids))
        self._changed("collection.changed", collection_id=collection_id)
        return self.store.collection(collection_id)

    def assign_face(self, face_id: int, character_id: int | None) -> None:
        """Name a face as a character (or clear it); the picture joins that character too."""
        if self.vectors.face_picture(face_id) is None:
            raise NotFound(f"no face {face_id}")
        self.assign_faces([face_id], character_id)

    def assign_faces(self, face_ids: Sequence[int], character_id: int | None) -> int:
        """Name faces as a character (or clear them) in one transaction; their pictures join it."""
        if character_id is not None and self.store.collection(character_id).kind != "character":
            raise BadInput(f"{character_id} is a set, not a character")
        pictures = []
        with self.db.write():
            for face_id in face_ids:
                picture_id = self.vectors.face_picture(face_id)
                if picture_id is None:
                    continue
                self.vectors.set_face_character(face_id, character_id)
                pictures.append(picture_id)
            if character_id is not None and pictures:
                self.store.add_members(character_id, sorted(set(pictures)), now_ms())
        if pictures:
            self.events.publish(Event("picture.changed", sorted(set(pictures)), {"fields": ["faces"]}))
        if character_id is not None:
            self._changed("collection.changed", collection_id=character_id)
        return len(pictures)

    def set_operation(self, collection_ids: Sequence[int], op: SetOp) -> list[int]:
        """Picture ids (live only) of union / overlap / difference / unique over sets and characters."""
        for collection_id in collection_ids:
            self.store.collection(collection_id)
        return self.store.set_operation_ids(list(collection_ids), op)

    def breadcrumbs(self, *, project_id: int | None = None, collection_id: int | None = None) -> list[Breadcrumb]:
        return self.store.breadcrumbs(project_id=project_id, collection_id=collection_id)

    # -- tag vocabulary -------------------------------------------------------------------------

    def delete_tag(self, tag_id: int) -> None:
        with self.db.write():
            self.tags.delete(tag_id)
        self._changed("tag.changed", tag_id=tag_id, deleted=True)
