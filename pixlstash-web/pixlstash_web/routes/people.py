"""Characters by face: suggested faces for a character, accepted or rejected."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from pixlstash.domain import FaceHit

from ..api import Api, RequestContext
from ..schemas import Count, IdList
from ..security import Policy


class SuggestionQuery(msgspec.Struct, forbid_unknown_fields=True):
    combine: Literal["mean", "min"] = "mean"
    threshold: Annotated[float, Meta(ge=-1.0, le=1.0)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 50


class FaceIds(msgspec.Struct, forbid_unknown_fields=True):
    face_ids: IdList


def register(api: Api) -> None:
    @api.get(
        "/characters/{character_id:int}/suggestions",
        policy=Policy.READ,
        query=SuggestionQuery,
        response=list[FaceHit],
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
        body=FaceIds,
        response=Count,
        tag="characters",
        summary="Name suggested faces as the character (their pictures join it)",
    )
    def accept(ctx: RequestContext, body: FaceIds) -> Count:
        return Count(ctx.library.people.accept(ctx.path["character_id"], body.face_ids))

    @api.post(
        "/characters/{character_id:int}/suggestions/reject",
        policy=Policy.WRITE,
        body=FaceIds,
        response=Count,
        tag="characters",
        summary="Never suggest these faces for the character again",
    )
    def reject(ctx: RequestContext, body: FaceIds) -> Count:
        return Count(ctx.library.people.reject(ctx.path["character_id"], body.face_ids))
