"""The undo history: list the steps, undo the newest, redo what was undone."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from pixlstash.domain import History, HistoryStep
from pixlstash.errors import Conflict

from ..api import Api, RequestContext
from ..security import Policy


class HistoryQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, Meta(ge=1, le=500)] = 100  # steps, newest first


def register(api: Api) -> None:
    @api.get(
        "/history",
        policy=Policy.READ,
        tag="history",
        summary="The undo history, newest step first (undone ones can be redone)",
    )
    def history(ctx: RequestContext, query: HistoryQuery) -> History:
        return ctx.library.edits.history(query.limit)

    @api.post(
        "/history/undo",
        policy=Policy.WRITE,
        tag="history",
        summary="Undo the newest step (ratings, tags, captions, membership, scrapheap, renames, face names)",
        extra_responses={409: "there is nothing to undo"},
    )
    def undo(ctx: RequestContext) -> HistoryStep:
        step = ctx.library.edits.undo()
        if step is None:
            raise Conflict("there is nothing to undo")
        return step

    @api.post(
        "/history/redo",
        policy=Policy.WRITE,
        tag="history",
        summary="Make the last undone step again",
        extra_responses={409: "there is nothing to redo"},
    )
    def redo(ctx: RequestContext) -> HistoryStep:
        step = ctx.library.edits.redo()
        if step is None:
            raise Conflict("there is nothing to redo")
        return step
