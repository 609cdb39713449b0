"""Pictures: list, count, statistics, read, edit, bulk actions, duplicates and the scrapheap."""

from __future__ import annotations

from msgspec import UNSET

from pixlstash.errors import BadInput
from pixlstash.models import DuplicateGroup, Page, Picture, PictureFilter, Statistics

from ..api import Api, RequestContext
from ..schemas import BulkRequest, BulkResult, Count, FilterQuery, Ids, ListQuery, PicturePatch
from ..security import Policy

_BULK_LIMIT = 100_000


def _selection(ctx: RequestContext, body: BulkRequest) -> list[int]:
    if (body.ids is None) == (body.filter is None):
        raise BadInput("give either ids or a filter")
    if body.ids is not None:
        return body.ids
    ids = ctx.library.query.ids(body.filter, limit=_BULK_LIMIT + 1)
    if len(ids) > _BULK_LIMIT:
        raise BadInput(f"a bulk action covers at most {_BULK_LIMIT:,} pictures; narrow the filter")
    return ids


def register(api: Api) -> None:
    @api.get("/pictures", policy=Policy.READ, query=ListQuery, response=Page, tag="pictures",
             summary="List pictures: filters, sort and cursor pages")
    def list_pictures(ctx: RequestContext, query: ListQuery) -> Page:
        f, sort = query.split()
        return ctx.library.page(f, sort, query.cursor, query.limit)

    @api.get("/pictures/count", policy=Policy.READ, query=FilterQuery, response=Count, tag="pictures",
             summary="Count the pictures a filter matches")
    def count_pictures(ctx: RequestContext, query: FilterQuery) -> Count:
        return Count(ctx.library.count(query.filter()))

    @api.get("/pictures/stats", policy=Policy.READ, query=FilterQuery, response=Statistics, tag="pictures",
             summary="Statistics for the pictures a filter matches")
    def picture_stats(ctx: RequestContext, query: FilterQuery) -> Statistics:
        return ctx.library.statistics(query.filter())

    @api.get("/pictures/{picture_id:int}", policy=Policy.READ, response=Picture, tag="pictures",
             summary="Everything known about one picture")
    def get_picture(ctx: RequestContext) -> Picture:
        return ctx.library.get(ctx.path["picture_id"])

    @api.patch("/pictures/{picture_id:int}", policy=Policy.WRITE, body=PicturePatch, response=Picture,
               tag="pictures", summary="Edit rating, flags, caption, tags and predictions of a picture")
    def patch_picture(ctx: RequestContext, body: PicturePatch) -> Picture:
        library, picture_id = ctx.library, ctx.path["picture_id"]
        library.get(picture_id)
        fields = {name: getattr(body, name) for name in ("rating", "favourite", "flagged", "taken_at")
                  if getattr(body, name) is not UNSET}
        if fields:
            library.update_pictures([picture_id], **fields)
        if body.caption is not UNSET:
            library.set_caption(picture_id, body.caption)
        if body.add_tags or body.remove_tags:
            library.tag_pictures([picture_id], add=body.add_tags, remove=body.remove_tags)
        if body.accept_predictions or body.reject_predictions:
            library.review_predictions(picture_id, accept=body.accept_predictions, reject=body.reject_predictions)
        return library.get(picture_id)

    @api.delete("/pictures/{picture_id:int}", policy=Policy.WRITE, response=Ids, tag="pictures",
                summary="Move a picture to the scrapheap (restorable)")
    def delete_picture(ctx: RequestContext) -> Ids:
        return Ids(ctx.library.scrap([ctx.path["picture_id"]]))

    @api.post("/pictures/bulk", policy=Policy.WRITE, body=BulkRequest, response=BulkResult, tag="pictures",
              summary="One action on many pictures (ids or a filter)")
    def bulk(ctx: RequestContext, body: BulkRequest) -> BulkResult:
        library, ids = ctx.library, _selection(ctx, body)
        action = body.action
        if action == "rate":
            if body.rating is None:
                raise BadInput("rate needs a rating")
            library.update_pictures(ids, rating=body.rating)
        elif action in ("favourite", "flag"):
            if body.value is None:
                raise BadInput(f"{action} needs a value (true or false)")
            library.update_pictures(ids, **{"favourite" if action == "favourite" else "flagged": body.value})
        elif action in ("tag", "untag"):
            if not body.tags:
                raise BadInput(f"{action} needs tags")
            library.tag_pictures(ids, add=body.tags if action == "tag" else (),
                                 remove=body.tags if action == "untag" else ())
        elif action == "scrap":
            ids = library.scrap(ids)
        elif action == "unscrap":
            ids = library.unscrap(ids)
        elif action in ("add_to_collection", "remove_from_collection"):
            if body.collection_id is None:
                raise BadInput(f"{action} needs a collection_id")
            (library.organise.add_members if action == "add_to_collection"
             else library.organise.remove_members)(body.collection_id, ids)
        else:
            if body.project_id is None:
                raise BadInput(f"{action} needs a project_id")
            (library.organise.add_to_project if action == "add_to_project"
             else library.organise.remove_from_project)(body.project_id, ids)
        return BulkResult(action, len(ids))

    @api.get("/duplicates", policy=Policy.READ, response=list[DuplicateGroup], tag="pictures",
             summary="Groups of near-duplicate pictures")
    def duplicates(ctx: RequestContext) -> list[DuplicateGroup]:
        return ctx.library.duplicate_groups()

    @api.get("/scrapheap", policy=Policy.READ, query=ListQuery, response=Page, tag="scrapheap",
             summary="List the scrapheap (soft-deleted pictures)")
    def scrapheap(ctx: RequestContext, query: ListQuery) -> Page:
        f, sort = query.split()
        return ctx.library.page(PictureFilter(**{**_fields(f), "scrapheap": True}), sort, query.cursor, query.limit)

    @api.post("/scrapheap/restore", policy=Policy.WRITE, body=Ids, response=Ids, tag="scrapheap",
              summary="Bring pictures back from the scrapheap")
    def restore(ctx: RequestContext, body: Ids) -> Ids:
        return Ids(ctx.library.unscrap(body.ids))

    @api.post("/scrapheap/purge", policy=Policy.ADMIN, body=Ids, response=Ids, tag="scrapheap",
              summary="Delete scrapheap pictures for good (an empty list purges all)")
    def purge(ctx: RequestContext, body: Ids) -> Ids:
        return Ids(ctx.library.purge(body.ids or None))


def _fields(f: PictureFilter) -> dict:
    return {name: getattr(f, name) for name in PictureFilter.__struct_fields__}
