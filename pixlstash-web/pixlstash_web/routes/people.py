"""People: unnamed faces grouped into people, named as characters; characters merged; suggested faces for
a character, accepted or rejected."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from pixlstash.domain import (
    CharacterFace,
    CharacterGuess,
    Collection,
    FaceCluster,
    FaceHit,
    NamedPerson,
    PeopleSettings,
)

from ..api import Api, RequestContext
from ..schemas import Count, IdList, Name, RowId
from ..security import Policy


class SuggestionQuery(msgspec.Struct, forbid_unknown_fields=True):
    combine: Literal["mean", "min"] = "mean"
    threshold: Annotated[float, Meta(ge=-1.0, le=1.0)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 50


class FaceIds(msgspec.Struct, forbid_unknown_fields=True):
    face_ids: IdList


class UnnamedQuery(msgspec.Struct, forbid_unknown_fields=True):
    min_faces: Annotated[int, Meta(ge=1, le=1_000_000)] = 2
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class FacesPage(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100
    offset: Annotated[int, Meta(ge=0, le=2**63 - 1)] = 0


class NameCluster(msgspec.Struct, forbid_unknown_fields=True):
    """An existing character, or the name of a new one."""

    character_id: RowId | None = None
    name: Name | None = None


class MergeInto(msgspec.Struct, forbid_unknown_fields=True):
    into: RowId


class UndoAutomatic(msgspec.Struct, forbid_unknown_fields=True):
    character_id: RowId | None = None  # None: every character


def register(api: Api) -> None:
    @api.get(
        "/people/settings",
        policy=Policy.READ,
        tag="characters",
        summary="How faces become people: the clustering likeness and automatic naming",
    )
    def people_settings(ctx: RequestContext) -> PeopleSettings:
        return ctx.library.people.settings()

    @api.put(
        "/people/settings",
        policy=Policy.ADMIN,
        tag="characters",
        summary="Change how faces become people (automatic naming is off until turned on here)",
    )
    def configure_people(ctx: RequestContext, body: PeopleSettings) -> PeopleSettings:
        return ctx.library.people.configure(body)

    @api.post(
        "/people/undo-automatic",
        policy=Policy.WRITE,
        tag="characters",
        summary="Unname the faces named automatically (of one character, or of all)",
    )
    def undo_automatic(ctx: RequestContext, body: UndoAutomatic) -> Count:
        return Count(ctx.library.people.undo_automatic(body.character_id))

    @api.get(
        "/people/unnamed",
        policy=Policy.READ,
        tag="characters",
        summary="Unnamed people: faces grouped by likeness, largest first (new faces are placed first)",
    )
    def unnamed(ctx: RequestContext, query: UnnamedQuery) -> list[FaceCluster]:
        return ctx.library.people.unnamed(min_faces=query.min_faces, limit=query.limit)

    @api.get(
        "/people/named",
        policy=Policy.READ,
        tag="characters",
        summary="Characters as people: their named faces and a cover face, most faces first",
    )
    def named(ctx: RequestContext) -> list[NamedPerson]:
        return ctx.library.people.named()

    @api.get(
        "/characters/{character_id:int}/faces",
        policy=Policy.READ,
        tag="characters",
        summary="The faces named as a character: automatically named and least confident first",
    )
    def character_faces(ctx: RequestContext, query: FacesPage) -> list[CharacterFace]:
        return ctx.library.people.character_faces(ctx.path["character_id"], limit=query.limit, offset=query.offset)

    @api.post(
        "/characters/{character_id:int}/faces/remove",
        policy=Policy.WRITE,
        tag="characters",
        summary="Split wrong faces out of a character: unnamed, never suggested for it again",
    )
    def remove_faces(ctx: RequestContext, body: FaceIds) -> Count:
        return Count(ctx.library.people.remove_faces(ctx.path["character_id"], body.face_ids))

    @api.post(
        "/people/unnamed/{cluster_id:int}/name",
        policy=Policy.WRITE,
        tag="characters",
        summary="Name an unnamed person: every face of it joins a character (an existing one, or a new one)",
    )
    def name_cluster(ctx: RequestContext, body: NameCluster) -> Collection:
        return ctx.library.people.name_cluster(ctx.path["cluster_id"], character_id=body.character_id, name=body.name)

    @api.post(
        "/characters/{character_id:int}/merge",
        policy=Policy.WRITE,
        tag="characters",
        summary="Fold this character into another: faces and pictures move, then it is deleted",
    )
    def merge(ctx: RequestContext, body: MergeInto) -> Collection:
        return ctx.library.people.merge(ctx.path["character_id"], body.into)

    @api.get(
        "/pictures/{picture_id:int}/character-guesses",
        policy=Policy.READ,
        tag="characters",
        summary="Characters the picture's unnamed faces look like (by each face engine's own likeness)",
    )
    def guesses(ctx: RequestContext) -> list[CharacterGuess]:
        ctx.library.pictures.require([ctx.path["picture_id"]])  # NotFound names a wrong id
        return ctx.library.people.guesses(ctx.path["picture_id"])

    @api.get(
        "/characters/{character_id:int}/suggestions",
        policy=Policy.READ,
        tag="characters",
        summary="Unnamed faces most like a character's named faces (rejected ones never come back)",
    )
    def suggestions(ctx: RequestContext, query: SuggestionQuery) -> list[FaceHit]:
        return ctx.library.people.suggestions(
            ctx.path["character_id"], combine=query.combine, threshold=query.threshold, limit=query.limit
        )

    @api.post(
        "/characters/{character_id:int}/suggestions/accept",
        policy=Policy.WRITE,
        tag="characters",
        summary="Name suggested faces as the character (their pictures join it)",
    )
    def accept(ctx: RequestContext, body: FaceIds) -> Count:
        library = ctx.library  # through the undo history, as naming a face in the overlay is
        return Count(library.edits.assign_faces(library.people.checked_faces(body.face_ids), ctx.path["character_id"]))

    @api.post(
        "/characters/{character_id:int}/suggestions/reject",
        policy=Policy.WRITE,
        tag="characters",
        summary="Never suggest these faces for the character again",
    )
    def reject(ctx: RequestContext, body: FaceIds) -> Count:
        return Count(ctx.library.people.reject(ctx.path["character_id"], body.face_ids))
