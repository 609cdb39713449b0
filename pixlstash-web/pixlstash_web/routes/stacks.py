"""Stacks: variants under a cover. ``GET /pictures?stack_covers=true`` lists one picture per stack (each
with ``stack_size``); ``?stack=ID`` lists one stack's members. Every edit is one undo step."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from pixlstash.domain import Id, Stack

from ..api import Api, RequestContext
from ..security import Policy

Ids = Annotated[list[Id], Meta(min_length=1, max_length=100_000)]


class StackRequest(msgspec.Struct, forbid_unknown_fields=True):
    ids: Ids
    cover_id: Id | None = None  # the first of ids by default


class PictureIds(msgspec.Struct, forbid_unknown_fields=True):
    ids: Ids


class CoverRequest(msgspec.Struct, forbid_unknown_fields=True):
    picture_id: Id


class Changed(msgspec.Struct):
    ids: list[int]


def register(api: Api) -> None:
    @api.post("/stacks", policy=Policy.WRITE, status=201, tag="stacks",
              summary="Stack pictures under a cover")  # fmt: skip
    def create(ctx: RequestContext, body: StackRequest) -> Stack:
        return ctx.library.stacks.stack(body.ids, body.cover_id)

    @api.post("/stacks/duplicates", policy=Policy.WRITE, status=201, tag="stacks",
              summary="Stack every group of near-duplicates under its largest picture")  # fmt: skip
    def duplicates(ctx: RequestContext) -> list[Stack]:
        return ctx.library.stacks.from_duplicates(ctx.library.duplicate_groups())

    @api.get("/stacks/{stack_id:int}", policy=Policy.READ, tag="stacks", summary="A stack")
    def get(ctx: RequestContext) -> Stack:
        return ctx.library.stacks.get(ctx.path["stack_id"])

    @api.post("/stacks/{stack_id:int}/pictures", policy=Policy.WRITE, tag="stacks",
              summary="Add pictures to a stack")  # fmt: skip
    def add(ctx: RequestContext, body: PictureIds) -> Stack:
        return ctx.library.stacks.add(ctx.path["stack_id"], body.ids)

    @api.post("/stacks/take-out", policy=Policy.WRITE, tag="stacks",
              summary="Take pictures out of their stacks")  # fmt: skip
    def take_out(ctx: RequestContext, body: PictureIds) -> Changed:
        return Changed(ctx.library.stacks.take_out(body.ids))

    @api.put("/stacks/{stack_id:int}/cover", policy=Policy.WRITE, tag="stacks",
             summary="Make a member the stack's cover")  # fmt: skip
    def cover(ctx: RequestContext, body: CoverRequest) -> Stack:
        return ctx.library.stacks.set_cover(ctx.path["stack_id"], body.picture_id)

    @api.delete("/stacks/{stack_id:int}", policy=Policy.WRITE, tag="stacks",
                summary="Unstack: every member back on its own (none is deleted)")  # fmt: skip
    def unstack(ctx: RequestContext) -> Changed:
        return Changed(ctx.library.stacks.unstack(ctx.path["stack_id"]))

    @api.post("/stacks/{stack_id:int}/keep-cover", policy=Policy.WRITE, tag="stacks",
              summary="Keep the cover, move the rest of the stack to the scrapheap")  # fmt: skip
    def keep_cover(ctx: RequestContext) -> Changed:
        return Changed(ctx.library.stacks.keep_cover(ctx.path["stack_id"]))
