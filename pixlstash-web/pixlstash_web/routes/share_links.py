"""What a share link recipient can reach: the share, its pictures, their images and live updates.

Every route takes the share token from the path and restricts everything to the share's scope.
Images pass through the share transforms (the watermark) when the share asks for them.
"""

from __future__ import annotations

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from pixlstash.auth import Forbidden
from pixlstash.domain import Statistics
from pixlstash.errors import NotFound
from pixlstash.media.strip import without_metadata
from pixlstash.sharing.service import SharedPage, SharedPicture
from pixlstash.system.events import Event

from ..api import Api, RequestContext
from ..event_streams import event_stream, sse
from ..schemas import Count, FilterQuery, ListQuery
from ..security import Policy, authorise
from .media import (
    NO_STORE,
    ORIGINAL_HEADERS,
    decoding,
    edited_response,
    not_modified,
    original_response,
    thumbnail_response,
)

PREFIX = "/shared/{share_token}"


class Added(msgspec.Struct):
    added: bool  # False: it was among yours already


class ShareInfo(msgspec.Struct):
    title: str
    scope_type: str
    picture_count: int
    allow_original: bool
    include_metadata: bool
    expires_at: int | None
    edited_downloads: bool = False  # an edited picture's full-size download is its edited look
    transformed: bool = False  # what it serves is rendered (a watermark): a download is never the original file


def _shares(ctx: RequestContext):
    return ctx.state.shares


def _image(ctx: RequestContext, content_hash: str, size: str, make: bool = True) -> Response | None:
    """What the recipient gets; None when it means decoding or rewriting a file and ``make`` is False
    (see ``decoding``)."""
    share, shares = ctx.share, _shares(ctx)
    picture_id = shares.picture_for_hash(share, content_hash)
    if not shares.transforms_apply(share):
        if size == "original":
            if not share.options.allow_original:
                raise NotFound("this share does not offer original files")
            if share.options.edited_downloads and ctx.library.files.edit_key(picture_id):
                # Rendered anew (no metadata), and named by its hash as every shared file is, not after the
                # owner's file.
                return edited_response(ctx, picture_id, NO_STORE, named_by_hash=True, make=make)
            if not share.options.include_metadata:
                return _original_without_metadata(ctx, picture_id) if make else None
            return original_response(ctx, picture_id, NO_STORE)
        return thumbnail_response(ctx, picture_id, content_hash, size, NO_STORE, make=make)
    etag = f'"{content_hash}-{size}-s{share.id}-{ctx.library.files.edit_key(picture_id)}"'
    cached = not_modified(ctx, etag, NO_STORE)
    if cached is not None:
        return cached
    if size == "original" and not share.options.allow_original:
        raise NotFound("this share does not offer original files")
    if size not in ("grid", "preview", "original"):
        raise NotFound("the sizes are grid, preview and original")
    if not make:
        return None
    body = shares.rendered(share, picture_id, size)
    return Response(body, media_type="image/webp", headers={"ETag": etag, "Cache-Control": NO_STORE})


def _original_without_metadata(ctx: RequestContext, picture_id: int) -> Response:
    """A share that hides metadata hides it in the files too: the original without EXIF (GPS), XMP or text
    chunks (the ComfyUI graph), its pixels untouched, named by its content hash."""
    picture = ctx.library.get(picture_id)
    path = ctx.library.original_path(picture_id)
    filename = f"{picture.content_hash}{picture.suffix}"
    headers = {"Cache-Control": NO_STORE, **ORIGINAL_HEADERS}
    if picture.media_type == "video":
        # The share page plays videos from their original: remuxed once without the container's metadata
        # (where and when it was shot, a workflow), served from disk so that seeking (Range) works.
        stripped = _shares(ctx).renders.video_without_metadata(picture.content_hash, path)
        if stripped is None:
            raise NotFound(
                f"this share leaves metadata out, and a {picture.suffix} video cannot be served without it "
                "(the owner can include metadata in the share)"
            )
        return FileResponse(
            stripped, media_type=picture.mime, filename=filename, content_disposition_type="inline", headers=headers
        )
    body = without_metadata(path, picture.suffix)
    if body is None:
        raise NotFound(
            f"this share leaves metadata out, and a {picture.suffix} original cannot be served without it "
            "(the owner can include metadata in the share)"
        )
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(body, media_type=picture.mime, headers=headers)


def register(api: Api) -> None:
    @api.get(PREFIX, policy=Policy.SHARE, tag="shared", summary="What a share link holds")
    def info(ctx: RequestContext) -> ShareInfo:
        share = ctx.share
        count = ctx.library.count(_shares(ctx).restrict(share))
        return ShareInfo(
            share.title,
            share.scope_type,
            count,
            share.options.allow_original,
            share.options.include_metadata,
            share.expires_at,
            share.options.edited_downloads,
            _shares(ctx).transforms_apply(share),
        )

    @api.get(
        PREFIX + "/pictures",
        policy=Policy.SHARE,
        tag="shared",
        summary="List the shared pictures",
    )
    def pictures(ctx: RequestContext, query: ListQuery) -> SharedPage:
        f, sort = query.split()
        share, shares = ctx.share, _shares(ctx)
        page = ctx.library.page(shares.restrict(share, f), shares.restrict_sort(share, sort), query.cursor, query.limit)
        return shares.page(share, page)

    @api.get(
        PREFIX + "/pictures/count",
        policy=Policy.SHARE,
        tag="shared",
        summary="Count shared pictures",
    )
    def count(ctx: RequestContext, query: FilterQuery) -> Count:
        return Count(ctx.library.count(_shares(ctx).restrict(ctx.share, query.filter())))

    @api.get(
        PREFIX + "/pictures/stats",
        policy=Policy.SHARE,
        tag="shared",
        summary="Statistics of the shared pictures",
    )
    def stats(ctx: RequestContext, query: FilterQuery) -> Statistics:
        shares = _shares(ctx)
        return shares.statistics(ctx.share, ctx.library.statistics(shares.restrict(ctx.share, query.filter())))

    @api.get(
        PREFIX + "/pictures/{picture_id:int}",
        policy=Policy.SHARE,
        tag="shared",
        summary="One shared picture",
    )
    def picture(ctx: RequestContext) -> SharedPicture:
        return _shares(ctx).picture(ctx.share, ctx.path["picture_id"])

    @api.post(
        PREFIX + "/pictures/{picture_id:int}/add-to-my-library",
        policy=Policy.SHARE,
        tag="shared",
        summary="Add a shared picture to your own pictures: for someone signed in to this library (a session "
        "with its CSRF token, or a write token), besides the link",
        extra_responses={401: "not signed in to this library", 403: "a viewer's account, or another site's page"},
    )
    async def add_to_my_library(ctx: RequestContext) -> Added:
        person, _ = await authorise(ctx.request, ctx.state, Policy.WRITE)  # the link opens it; an account keeps it
        if person.user_id is None:
            raise Forbidden("these credentials act for no account")
        added = await run_in_threadpool(
            _shares(ctx).add_to_library_of, ctx.share, ctx.path["picture_id"], person.user_id
        )
        if added:
            ctx.library.events.publish(Event("picture.changed", [ctx.path["picture_id"]], {"mine": True}))
        return Added(added)

    @api.get(
        PREFIX + "/media/{content_hash}/{size}.webp",
        policy=Policy.SHARE,
        raw=True,
        tag="shared",
        response_media="image/webp",
        summary="A shared picture's thumbnail",
    )
    async def thumbnail(ctx: RequestContext) -> Response:
        return await decoding(ctx, lambda make: _image(ctx, ctx.path["content_hash"], ctx.path["size"], make))

    @api.get(
        PREFIX + "/media/{content_hash}/original",
        policy=Policy.SHARE,
        raw=True,
        tag="shared",
        response_media="*/*",
        summary="A shared picture's original (if allowed)",
    )
    async def original(ctx: RequestContext) -> Response:
        return await decoding(ctx, lambda make: _image(ctx, ctx.path["content_hash"], "original", make))

    @api.get(
        PREFIX + "/events",
        policy=Policy.SHARE,
        raw=True,
        tag="shared",
        response_media="text/event-stream",
        summary="Live updates about the shared pictures only",
    )
    async def events(ctx: RequestContext) -> StreamingResponse:
        share, shares = ctx.share, _shares(ctx)

        def visible(events: list[Event]) -> list[Event]:
            kept = []
            for event in events:  # jobs, folders, tags, collections: nothing a recipient may see
                if event.kind.startswith("picture.") and event.picture_ids:
                    scrapped = event.kind == "picture.removed"  # removed pictures are in the scrapheap
                    ids = shares.within(share, event.picture_ids, scrapheap=scrapped)
                    if ids:
                        kept.append(Event(event.kind, ids))
            return kept

        client = ctx.request.client
        stream = event_stream(ctx.request, ctx.state, Policy.SHARE, visible, ctx.state.share_stream_checks)
        give_back = ctx.state.share_streams.take(share.id, client.host if client else "", stream)
        return sse(stream, give_back)
