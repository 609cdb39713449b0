"""Pictures: list, count, statistics, read, edit, bulk actions, duplicates and the scrapheap."""

from __future__ import annotations

import msgspec
import numpy as np
from starlette.responses import Response

from pixlstash.domain import (
    DuplicateGroup,
    Id,
    Page,
    Picture,
    PictureBadges,
    PictureChange,
    PictureFilter,
    Statistics,
)
from pixlstash.errors import BadInput, NotFound
from pixlstash.pictures.change import change_picture

from ..api import Api, RequestContext
from ..schemas import (
    BadgesQuery,
    BulkAddToCollection,
    BulkAddToMine,
    BulkAddToProject,
    BulkEdit,
    BulkFavourite,
    BulkFilterRequest,
    BulkFlag,
    BulkOperation,
    BulkPrivate,
    BulkRate,
    BulkRemoveFromCollection,
    BulkRemoveFromProject,
    BulkRequest,
    BulkResult,
    BulkScrap,
    BulkTag,
    BulkUnscrap,
    BulkUntag,
    Count,
    FilterQuery,
    Ids,
    LayoutQuery,
    ListQuery,
    PicturePatch,
    PruneRequest,
    PruneResult,
)
from ..security import Policy

_BULK_LIMIT = 100_000


class FacePatch(msgspec.Struct, forbid_unknown_fields=True):
    character_id: Id | None


def _apply(library, ids: list[int], op: BulkOperation) -> BulkResult:
    """Run one bulk operation; each kind of operation carries exactly the fields it needs."""
    edits = library.edits  # each bulk operation is one step of the undo history
    match op:
        case BulkRate(rating=rating):
            edits.set_fields(ids, rating=rating)
        case BulkFavourite(value=value):
            edits.set_fields(ids, favourite=value)
        case BulkFlag(value=value):
            edits.set_fields(ids, flagged=value)
        case BulkTag(tags=tags):
            edits.tag(ids, add=tags)
        case BulkUntag(tags=tags):
            edits.tag(ids, remove=tags)
        case BulkScrap():
            ids = edits.scrap(ids)
        case BulkUnscrap():
            ids = edits.unscrap(ids)
        case BulkAddToCollection(collection_id=cid):
            library.collections.collection(cid)
            edits.add_members(cid, ids)
        case BulkRemoveFromCollection(collection_id=cid):
            library.collections.collection(cid)
            edits.remove_members(cid, ids)
        case BulkAddToProject(project_id=pid):
            library.collections.project(pid)
            edits.add_to_project(pid, ids)
        case BulkRemoveFromProject(project_id=pid):
            library.collections.project(pid)
            edits.remove_from_project(pid, ids)
        case BulkEdit(change=change):
            ids = edits.change_look(ids, change)
        case BulkPrivate(value=value):
            ids = library.set_private(ids, value)
        case BulkAddToMine():
            ids = library.add_to_own(ids)
    return BulkResult(type(op).__struct_config__.tag, len(ids))


def _with_owner_name(ctx: RequestContext, picture: Picture) -> Picture:
    """Who brought the picture in, by name (the library's owner for what came before accounts)."""
    store = ctx.state.auth.store
    name = store.owner_name() if picture.owner_id is None else store.username(picture.owner_id)
    return msgspec.structs.replace(picture, owner_name=name)


def register(api: Api) -> None:
    @api.get(
        "/pictures",
        policy=Policy.READ,
        tag="pictures",
        summary="List pictures: filters, sort and cursor pages",
    )
    def list_pictures(ctx: RequestContext, query: ListQuery) -> Page:
        f, sort = query.split()
        return ctx.library.page(f, sort, query.cursor, query.limit)

    @api.patch(
        "/faces/{face_id:int}",
        policy=Policy.WRITE,
        tag="pictures",
        summary="Name a face as a character (the picture joins the character), or clear it",
    )
    def assign_face(ctx: RequestContext, body: FacePatch) -> None:
        library = ctx.library
        if library.vectors.face_picture(ctx.path["face_id"]) is None:
            raise NotFound(f"no face {ctx.path['face_id']}")
        library.edits.assign_faces([ctx.path["face_id"]], body.character_id)

    @api.get(
        "/pictures/layout",
        policy=Policy.READ,
        raw=True,
        tag="pictures",
        response_media="application/octet-stream",
        summary="Every matching picture's id and size in display order, packed for grids: little-endian "
        "uint32 count, then count uint32 ids, count uint16 widths, count uint16 heights; then uint32 "
        "groups and, per group, its first position (uint32) and key (int32): the local day (days since "
        "1970-01-01) for groups=day under a date sort, the rating for groups=rating under the rating sort",
    )
    def layout(ctx: RequestContext, query: LayoutQuery) -> Response:
        f, sort = query.split()
        rows = ctx.library.query.layout(f, sort)
        if sort.key.startswith("score:"):  # scores head no groups, and are not whole numbers
            rows = [(i, w, h, 0) for i, w, h, _ in rows]
        table = np.array(rows, dtype=np.int64).reshape(-1, 4)
        starts, keys = _groups(table[:, 3], query, sort.key)
        body = b"".join(
            (
                np.uint32(len(rows)).tobytes(),
                table[:, 0].astype("<u4").tobytes(),
                np.clip(table[:, 1], 0, 65535).astype("<u2").tobytes(),
                np.clip(table[:, 2], 0, 65535).astype("<u2").tobytes(),
                np.uint32(len(starts)).tobytes(),
                starts.astype("<u4").tobytes(),
                keys.astype("<i4").tobytes(),
            )
        )
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"Cache-Control": "no-store", "X-Total-Count": str(len(rows))},
        )

    @api.get(
        "/pictures/badges",
        policy=Policy.READ,
        tag="pictures",
        summary="Grid tiles' tags and counts (tags, suggestions, faces, caption) for up to "
        "1,000 pictures; ids that do not exist are left out",
    )
    def badges(ctx: RequestContext, query: BadgesQuery) -> list[PictureBadges]:
        return ctx.library.badges(query.ids)

    @api.get(
        "/pictures/count",
        policy=Policy.READ,
        tag="pictures",
        summary="Count the pictures a filter matches",
    )
    def count_pictures(ctx: RequestContext, query: FilterQuery) -> Count:
        return Count(ctx.library.count(query.filter()))

    @api.get(
        "/pictures/stats",
        policy=Policy.READ,
        tag="pictures",
        summary="Statistics for the pictures a filter matches",
    )
    def picture_stats(ctx: RequestContext, query: FilterQuery) -> Statistics:
        return ctx.library.statistics(query.filter())

    @api.get(
        "/pictures/{picture_id:int}",
        policy=Policy.READ,
        tag="pictures",
        summary="Everything known about one picture",
    )
    def get_picture(ctx: RequestContext) -> Picture:
        return _with_owner_name(ctx, ctx.library.get(ctx.path["picture_id"]))

    @api.patch(
        "/pictures/{picture_id:int}",
        policy=Policy.WRITE,
        tag="pictures",
        summary="Edit rating, flags, caption, tags and predictions of a picture, and turn, mirror, straighten "
        "or crop it (``edit``; its original untouched)",
    )
    def patch_picture(ctx: RequestContext, body: PicturePatch) -> Picture:
        library, picture_id = ctx.library, ctx.path["picture_id"]
        change = msgspec.to_builtins(body)
        if "private" in change:
            library.set_private([picture_id], change.pop("private"))
        change_picture(library.edits, picture_id, msgspec.convert(change, PictureChange))
        return _with_owner_name(ctx, library.get(picture_id))

    @api.delete(
        "/pictures/{picture_id:int}",
        policy=Policy.WRITE,
        tag="pictures",
        summary="Move a picture to the scrapheap (restorable)",
    )
    def delete_picture(ctx: RequestContext) -> Ids:
        return Ids(ctx.library.edits.scrap([ctx.path["picture_id"]]))

    @api.post(
        "/pictures/bulk",
        policy=Policy.WRITE,
        tag="pictures",
        summary="One operation (rate, tag, scrap, add to a set, ...) on many pictures by id",
    )
    def bulk(ctx: RequestContext, body: BulkRequest) -> BulkResult:
        return _apply(ctx.library, body.ids, body.operation)

    @api.post(
        "/pictures/bulk-by-filter",
        policy=Policy.WRITE,
        tag="pictures",
        summary="One operation on every picture a filter matches (at most 100,000)",
    )
    def bulk_by_filter(ctx: RequestContext, body: BulkFilterRequest) -> BulkResult:
        ids = ctx.library.query.ids(body.filter, limit=_BULK_LIMIT + 1)
        if len(ids) > _BULK_LIMIT:
            raise BadInput(f"a bulk operation covers at most {_BULK_LIMIT:,} pictures; narrow the filter")
        return _apply(ctx.library, ids, body.operation)

    @api.post(
        "/pictures/prune",
        policy=Policy.WRITE,
        tag="pictures",
        summary="Scrap the lowest-scored pictures of a view (the lowest N, or those under a score) in one "
        "undoable step; dry_run says which they would be",
    )
    def prune(ctx: RequestContext, body: PruneRequest) -> PruneResult:
        library = ctx.library
        ids = library.prune(body.engine_id, body.filter, lowest=body.lowest, below=body.below, dry_run=True)
        values = library.scores.values(body.engine_id, ids)
        if not body.dry_run and ids:
            ids = library.prune(body.engine_id, body.filter, lowest=body.lowest, below=body.below)
        return PruneResult(ids, [values[i] for i in ids], body.dry_run)

    @api.get(
        "/duplicates",
        policy=Policy.READ,
        tag="pictures",
        summary="Groups of near-duplicate pictures",
    )
    def duplicates(ctx: RequestContext) -> list[DuplicateGroup]:
        return ctx.library.duplicate_groups()

    @api.post(
        "/duplicates/distinct",
        policy=Policy.WRITE,
        tag="pictures",
        summary="Not duplicates: the pictures leave their near-duplicate groups for good (an undo step)",
    )
    def not_duplicates(ctx: RequestContext, body: Ids) -> Count:
        return Count(ctx.library.edits.not_duplicates(body.ids))

    @api.get(
        "/scrapheap",
        policy=Policy.READ,
        tag="scrapheap",
        summary="List the scrapheap (soft-deleted pictures)",
    )
    def scrapheap(ctx: RequestContext, query: ListQuery) -> Page:
        f, sort = query.split()
        return ctx.library.page(PictureFilter(**{**_fields(f), "scrapheap": True}), sort, query.cursor, query.limit)

    @api.post(
        "/scrapheap/restore",
        policy=Policy.WRITE,
        tag="scrapheap",
        summary="Bring pictures back from the scrapheap",
    )
    def restore(ctx: RequestContext, body: Ids) -> Ids:
        return Ids(ctx.library.edits.unscrap(body.ids))

    @api.post(
        "/scrapheap/purge",
        policy=Policy.ADMIN,
        tag="scrapheap",
        summary="Delete scrapheap pictures for good (an empty list purges all)",
    )
    def purge(ctx: RequestContext, body: Ids) -> Ids:
        return Ids(ctx.library.purge(body.ids or None))


def _fields(f: PictureFilter) -> dict:
    return {name: getattr(f, name) for name in PictureFilter.__struct_fields__}


_DAY_MS = 86_400_000


def _groups(values: np.ndarray, query: LayoutQuery, sort_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each group of the ordered values begins, and its key; none where the sort has no groups
    (a day means nothing to a file-size sort)."""
    if query.groups == "day" and sort_key in ("taken_at", "imported_at"):
        keys = (values + query.utc_offset * 60_000) // _DAY_MS
    elif query.groups == "rating" and sort_key == "rating":
        keys = values
    else:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if not len(keys):
        return keys, keys
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return starts, keys[starts]
