"""Curated sets: the set a household or studio sends pictures to and one person curates.

A set may have contributors and curators. One with a curator is curated: only its curators (and the
library's owner and admins) put pictures in or take them out; its contributors submit pictures instead, and
a curator accepts (the pictures join the set, one undo step) or rejects each. A contributor sees how theirs
were decided. A set with no curator takes pictures from anyone who may write, as every set did before.
Submitted pictures must be shared with the library: a curated set's pictures are seen by everyone who sees
the set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from ..auth import Forbidden
from ..db.collections import CollectionStore
from ..db.curation_rows import CurationStore
from ..db.database import Database
from ..db.pictures import PictureStore
from ..errors import BadInput
from ..history.undo import Edits
from ..pictures.visibility import current_audience
from ..system.clock import now_ms
from ..system.events import Event, EventBus
from .curated import curator_here, owns

__all__ = ["Curation", "SetRole", "Submission"]

SetRoleName = Literal["viewer", "contributor", "curator"]
SubmissionState = Literal["pending", "accepted", "rejected"]


class SetRole(msgspec.Struct, frozen=True):
    user_id: int
    role: SetRoleName


class Submission(msgspec.Struct, frozen=True):
    picture_id: int
    submitted_by: int
    submitted_at: int
    state: SubmissionState
    decided_by: int | None = None
    decided_at: int | None = None


class Curation:
    def __init__(
        self, db: Database, collections: CollectionStore, pictures: PictureStore, edits: Edits, events: EventBus
    ) -> None:
        self.db, self.collections, self.pictures, self.edits, self.events = db, collections, pictures, edits, events
        self.store = CurationStore(db)

    def roles(self, collection_id: int) -> list[SetRole]:
        self.collections.collection(collection_id)
        return [SetRole(user_id, role) for user_id, role in self.store.roles(collection_id)]  # type: ignore[arg-type]

    def project_roles(self, project_id: int) -> list[SetRole]:
        self.collections.project(project_id)
        return [SetRole(user_id, role) for user_id, role in self.store.project_roles(project_id)]  # type: ignore[arg-type]

    def set_project_role(self, project_id: int, user_id: int, role: SetRoleName | None) -> list[SetRole]:
        """Give an account a role in the project (a private project: viewers look, contributors add pictures,
        curators manage it), or none: admins, whoever made it and its curators decide."""
        project = self.collections.project(project_id)
        if not (owns(project) or project.role == "curator"):
            raise Forbidden(f"only an admin, whoever made {project.name} or its curators give roles in it")
        with self.db.write():
            self.store.set_project_role(project_id, user_id, role)
        self.events.publish(Event("project.changed", data={"project_id": project_id}))
        return self.project_roles(project_id)

    def set_role(self, collection_id: int, user_id: int, role: SetRoleName | None) -> list[SetRole]:
        """Give an account a role in the set, or none (a viewer sees a private set; a contributor adds to it, or
        submits to a curated one; a curator manages it): admins, whoever made it and its curators decide."""
        collection = self.collections.collection(collection_id)
        if not (curator_here(self.store, collection_id) or owns(collection)):
            raise Forbidden(f"only an admin, whoever made {collection.name} or its curators give roles in it")
        with self.db.write():
            self.store.set_role(collection_id, user_id, role)
        self._changed(collection_id)
        return self.roles(collection_id)

    def submit(self, collection_id: int, picture_ids: Sequence[int]) -> list[int]:
        """Send pictures to a curated set for its curators to decide; the ids submitted now (not those in it
        already or sent before)."""
        collection = self.collections.collection(collection_id)
        audience = current_audience()
        if audience is None:
            raise BadInput("a submission is someone's: pixlstash --as NAME")
        if not self.store.curated(collection_id):
            raise BadInput(f"{collection.name} has no curator: add the pictures to it")
        if self.store.role_of(collection_id, audience.user_id) is None and not audience.sees_all:
            raise Forbidden(f"only {collection.name}'s contributors and curators submit pictures to it")
        ids = self.pictures.require(picture_ids)
        private = self.pictures.visibility.private_among(ids)
        if private:
            raise BadInput(
                f"share {'these pictures' if len(private) > 1 else 'this picture'} with the library first: a curated "
                f"set's pictures are seen by everyone who sees it ({', '.join(map(str, private[:10]))})"
            )
        with self.db.write():
            submitted = self.store.submit(collection_id, ids, audience.user_id, now_ms())
        self._changed(collection_id)
        return submitted

    def submissions(self, collection_id: int, state: SubmissionState | None = "pending") -> list[Submission]:
        """A curator sees every submission; anyone else their own, with how each was decided."""
        self.collections.collection(collection_id)
        audience = current_audience()
        by = None if curator_here(self.store, collection_id) else audience.user_id  # type: ignore[union-attr]
        rows = self.store.submissions(collection_id, state, by)
        seen = set(self.pictures.existing_ids([r[0] for r in rows]))
        return [Submission(*row) for row in rows if row[0] in seen]

    def decide(self, collection_id: int, picture_ids: Sequence[int], *, accept: bool) -> list[int]:
        """Accept submissions (their pictures join the set: one undo step) or reject them; the ids decided."""
        collection = self.collections.collection(collection_id)
        if not curator_here(self.store, collection_id):
            raise Forbidden(f"only {collection.name}'s curators accept or reject its submissions")
        audience = current_audience()
        by = audience.user_id if audience is not None else None
        edits = self.edits
        said = f"{'Accept' if accept else 'Reject'} {len(picture_ids)} submitted to {collection.name}"
        with edits.step(said):  # the decisions and the pictures joining commit together
            decided = self.store.decide(collection_id, picture_ids, "accepted" if accept else "rejected", by, now_ms())
            if accept and decided:
                edits.add_members(collection_id, decided)
        self._changed(collection_id)
        return decided

    def _changed(self, collection_id: int) -> None:
        self.events.publish(Event("collection.changed", data={"collection_id": collection_id}))
