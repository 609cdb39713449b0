"""People: faces as characters. Unnamed faces grouped into people (``FaceClustering``) and named in one
step; characters merged; new faces named automatically when they are clearly one character's (off by
default, marked, undoable); and suggestions for a character, accepted (the face is named, the picture
joins the character) or rejected (never suggested for it again); and wrong faces split out of a character
(unnamed, and rejected so they do not come back as suggestions).

Suggestions compare a character's faces with every face of the same engine (the engine that found most
of them) through the face index; ``combine`` scores a candidate by the mean of its likenesses to the
character's faces (a typical likeness) or by the least of them (like every one of them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..db.collections import CollectionStore
from ..db.database import Database
from ..db.faces import FaceStore
from ..db.settings import SettingsStore
from ..db.vectors import VectorStore
from ..domain import (
    CharacterFace,
    CharacterGuess,
    Collection,
    FaceCluster,
    FaceHit,
    NamedPerson,
    PeopleSettings,
    PictureFilter,
)
from ..errors import BadInput, NotFound
from ..history.undo import Edits
from ..organising.organiser import Organiser
from ..pictures.visibility import seen_by
from ..search.service import Combine, SearchService
from ..system.events import EventBus
from .clusters import FaceClustering

__all__ = ["People"]


class People:
    def __init__(
        self,
        db: Database,
        vectors: VectorStore,
        collections: CollectionStore,
        search: SearchService,
        organise: Organiser,
        edits: Edits,
        events: EventBus,
        faces: FaceStore,
        clustering: FaceClustering,
        settings_store: SettingsStore,
    ) -> None:
        self.db, self.vectors, self.collections = db, vectors, collections
        self.search, self.organise, self.edits, self.events = search, organise, edits, events
        self.faces, self.clustering, self.settings_store = faces, clustering, settings_store

    # -- settings and the periodic update -------------------------------------------------------

    def settings(self) -> PeopleSettings:
        return self.settings_store.get("people", PeopleSettings, PeopleSettings())

    def configure(self, settings: PeopleSettings) -> PeopleSettings:
        self.settings_store.put("people", settings)
        self._apply(settings)
        return settings

    def _apply(self, settings: PeopleSettings) -> None:
        self.clustering.threshold = settings.cluster_threshold
        self.clustering.engine_thresholds = dict(settings.engine_thresholds)

    def update(self) -> int:
        """Deal with faces found since the last update: name those clearly one character's (when automatic
        naming is on), then place the rest among the unnamed people. Returns how many were placed."""
        settings = self.settings()
        self._apply(settings)
        if settings.auto_assign:
            self._auto_assign(settings.auto_assign_threshold)
        return self.clustering.update()

    def _auto_assign(self, cosine_threshold: float) -> int:
        """Name each new face whose alike named faces (at ``threshold``) all name one character."""
        decided: dict[int, list[int]] = {}
        for engine_id in self.faces.engines_with_unclustered():
            new, keys, sims = self.clustering.neighbours(engine_id, self.faces.unclustered(engine_id, 1_000_000))
            # A learned metric (CCIP) says "one character" at its own threshold, not at a cosine's.
            learned = self.clustering.likeness.learned(engine_id) is not None
            threshold = self.clustering.threshold_for(engine_id) if learned else cosine_threshold
            named = self.faces.named_as(sorted({int(k) for k in keys.ravel() if k >= 0}))
            for face, row_keys, row_sims in zip(new, keys.tolist(), sims.tolist(), strict=True):
                characters = {
                    named[k] for k, s in zip(row_keys, row_sims, strict=True) if k in named and s >= threshold
                }
                if len(characters) == 1:
                    decided.setdefault(characters.pop(), []).append(face)
        for character_id, faces in decided.items():
            self.organise.assign_faces(faces, character_id)
            with self.db.write():
                self.faces.mark_automatic(faces)
        return sum(len(faces) for faces in decided.values())

    def undo_automatic(self, character_id: int | None = None) -> int:
        """Unname every automatically named face (of one character, or of all); pictures that no other face
        ties to the character leave it. Returns how many faces."""
        faces = self.faces.automatic(character_id)
        by_character: dict[int, list[int]] = {}
        for face, character in self.faces.named_as(faces).items():
            by_character.setdefault(character, []).append(face)
        for character, named in by_character.items():
            self._unname(character, named)
        return len(faces)

    def _unname(self, character_id: int, face_ids: list[int]) -> None:
        """Unname faces; their pictures leave the character unless another of their faces still names it."""
        pictures = sorted({p for p, _ in self.vectors.faces_of(face_ids).values()})
        self.organise.assign_faces(face_ids, None)
        gone = sorted(set(pictures) - self.faces.pictures_still_named(pictures, character_id))
        if gone:
            self.organise.remove_members(character_id, gone)

    # -- named people ---------------------------------------------------------------------------

    def named(self) -> list[NamedPerson]:
        """Every character, with its named faces and a cover face, most faces first."""
        counts = self.faces.named_counts()
        people = [
            NamedPerson(c.id, c.name, c.member_count, *counts.get(c.id, (0, 0, None, None)))
            for c in self.collections.collections("character")
        ]
        return sorted(people, key=lambda p: (-p.faces, p.name.lower()))

    def character_faces(self, character_id: int, *, limit: int = 100, offset: int = 0) -> list[CharacterFace]:
        """A character's named faces, those named automatically and the least confident first."""
        self.collections.collection(character_id, "character")
        return self.faces.character_faces(character_id, limit, offset)

    def remove_faces(self, character_id: int, face_ids: Sequence[int]) -> int:
        """Split wrong faces out of a character: they are unnamed, never suggested for it again, and their
        pictures leave it unless another of their faces names it. Returns how many faces."""
        character = self.collections.collection(character_id, "character")
        faces = self.checked_faces(face_ids)
        named = self.faces.named_as(faces)
        wrong = [face for face in faces if named.get(face) != character_id]
        if wrong:
            raise BadInput(f"face {wrong[0]} is not named {character.name}", faces=wrong[:100])
        pictures = sorted({p for p, _ in self.vectors.faces_of(faces).values()})
        said = f"{len(faces):,} face{'' if len(faces) == 1 else 's'}"
        with self.edits.step(f"Take {said} out of {character.name}"):  # one undo step
            self.edits.assign_faces(faces, None)
            if gone := sorted(set(pictures) - self.faces.pictures_still_named(pictures, character_id)):
                self.edits.remove_members(character_id, gone)
            self.edits.reject_faces(character_id, faces)
        return len(faces)

    # -- people not named yet -------------------------------------------------------------------

    def unnamed(self, *, min_faces: int = 2, limit: int = 100) -> list[FaceCluster]:
        """Groups of unnamed faces of one person each, largest first (new faces are placed first)."""
        self.update()
        return self.faces.clusters(min_faces, limit)

    def name_cluster(self, cluster_id: int, *, character_id: int | None = None, name: str | None = None) -> Collection:
        """Name every face of an unnamed person as a character: an existing one, or a new one called ``name``."""
        faces = self.faces.cluster_faces(cluster_id)
        if not faces:
            raise NotFound(f"no unnamed person {cluster_id}")
        if (character_id is None) == (name is None):
            raise BadInput("give either a character or a name for a new one")
        shown = name if character_id is None else self.collections.collection(character_id).name
        with self.edits.step(f"Name a person {shown}"):  # the new character and its faces: one undo step
            if character_id is None:
                character_id = self.edits.create_collection("character", str(name)).id
            self.edits.assign_faces(faces, character_id)
        return self.collections.collection(character_id)

    def merge(self, source_id: int, target_id: int) -> Collection:
        """Fold one character into another: its faces and pictures move, then it is deleted."""
        if source_id == target_id:
            raise BadInput("a character cannot be merged into itself")
        source = self.collections.collection(source_id, "character")
        target = self.collections.collection(target_id, "character")
        # One undo step: its parts are undone in reverse (the character back, its pictures and faces back).
        with self.edits.step(f"Merge {source.name} into {target.name}"):
            faces = [face for face, _ in self.vectors.character_faces(source_id)]
            if faces:
                self.edits.assign_faces(faces, target_id)
            # Every member moves, those the caller may not see too: the source is deleted next, and a
            # private picture of someone else's must not fall out of its character (the caller learns
            # nothing of it: what comes back counts only what they see).
            with seen_by(None):
                members = self.organise.set_operation([source.id], "union")
                if members:
                    self.edits.add_members(target_id, members)
            self.edits.delete_collection(source_id)
        return self.collections.collection(target_id)

    # -- suggestions for a named person ---------------------------------------------------------

    def suggestions(
        self,
        character_id: int,
        *,
        combine: Combine = "mean",
        threshold: float | None = None,
        limit: int = 50,
        f: PictureFilter | None = None,
    ) -> list[FaceHit]:
        """Unnamed faces most like the character's faces, best first (rejected ones never come back)."""
        character = self.collections.collection(character_id, "character")
        named = self.vectors.character_faces(character_id)
        if not named:
            raise BadInput(f"name at least one face as {character.name} first: suggestions are faces like its faces")
        engine_id = Counter(engine for _, engine in named).most_common(1)[0][0]
        vectors = self.vectors.face_vectors([face for face, engine in named if engine == engine_id])
        if not vectors:
            raise BadInput(f"the faces named {character.name} have no identity vectors")
        return self.search.faces_like(
            engine_id,
            np.stack(list(vectors.values())),
            combine=combine,
            skip=lambda keys: self.vectors.named_or_rejected(character_id, keys),
            f=f,
            threshold=threshold,
            limit=limit,
        )

    def guesses(self, picture_id: int, per_face: int = 3) -> list[CharacterGuess]:
        """For each unnamed face on the picture, the characters whose named faces (of the same engine) it is
        like at or above that engine's threshold for one person, most alike first; a face rejected for a
        character is never guessed as it."""
        self._apply(self.settings())  # the thresholds as set, in whichever process asks
        found: list[CharacterGuess] = []
        names = {c.id: c.name for c in self.collections.collections("character")}
        for face_id, engine_id in self.faces.unnamed_on(picture_id):
            vector = self.vectors.face_vectors([face_id]).get(face_id)
            if vector is None:
                continue
            hits = self.search.faces_like(
                engine_id,
                vector[None, :],
                skip=lambda keys: set(keys) - set(self.faces.named_as(keys)),
                threshold=self.clustering.threshold_for(engine_id),
                limit=per_face * 8,
            )
            named = self.faces.named_as([h.face_id for h in hits])
            best: dict[int, float] = {}
            for hit in hits:  # best first
                character = named.get(hit.face_id)
                if (
                    character in names
                    and character not in best
                    and face_id not in self.vectors.named_or_rejected(character, [face_id])
                ):
                    best[character] = hit.similarity
            found += [
                CharacterGuess(face_id, character, names[character], round(likeness, 4), engine_id)
                for character, likeness in list(best.items())[:per_face]
            ]
        return found

    def accept(self, character_id: int, face_ids: Sequence[int]) -> int:
        """Name the faces as the character (their pictures join it); returns how many."""
        return self.organise.assign_faces(self.checked_faces(face_ids), character_id)

    def reject(self, character_id: int, face_ids: Sequence[int]) -> int:
        """Never suggest these faces for the character again; returns how many."""
        self.collections.collection(character_id, "character")
        return self.edits.reject_faces(character_id, self.checked_faces(face_ids))  # one undo step

    def checked_faces(self, face_ids: Sequence[int]) -> list[int]:
        """The faces, sorted and without repeats; NotFound naming any that do not exist."""
        wanted = sorted(set(int(f) for f in face_ids))
        missing = sorted(set(wanted) - set(self.vectors.existing_faces(wanted)))
        if missing:
            raise NotFound(f"no face {', '.join(map(str, missing[:20]))}", missing=missing[:100])
        return wanted
