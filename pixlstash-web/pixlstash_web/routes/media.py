"""Thumbnails and originals on content-hash URLs: immutable, with ETags; originals honour HTTP Range.
Face crops by face id: a face's row is never changed, only replaced by a new one, so they are immutable
too."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response, StreamingResponse

from pixlstash.domain import PreviewProgress, PreviewSettings
from pixlstash.errors import NotFound

from ..api import Api, RequestContext
from ..decode_slots import credential
from ..ranged import checked_whole, ranged_response
from ..security import Policy

T = TypeVar("T")

IMMUTABLE = "private, max-age=31536000, immutable"
BY_ID = "private, max-age=3600"  # a picture's content may change (a reference file edited): revalidate hourly
REVALIDATE = "private, no-cache"  # a URL whose edit is not the picture's now: asked again each time
NO_STORE = "no-store"  # shared images: nothing may keep them once the link is revoked
_SIZES = {"grid", "preview"}
# An original is the user's file as it came: whatever its bytes say (an SVG with script, HTML named .png),
# a browser opening it must neither sniff another type nor run anything in this origin.
ORIGINAL_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
    ),
}


def not_modified(ctx: RequestContext, etag: str, cache: str = IMMUTABLE) -> Response | None:
    match = ctx.request.headers.get("if-none-match", "")
    if etag in [tag.strip() for tag in match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    return None


def picture_id_for(ctx: RequestContext, content_hash: str) -> int:
    picture_id = ctx.library.pictures.id_for_hash(content_hash) if content_hash.isalnum() else None
    if picture_id is None:
        raise NotFound("no picture has that content hash")
    return picture_id


async def decoding(ctx: RequestContext, answer: Callable[[bool], Response | None]) -> Response:
    """``answer(False)`` from what exists (a 304, a file already made) on a worker thread; when that is
    None, ``answer(True)`` makes what is missing under the caller's decode slots (decode_slots.py)."""
    response = await run_in_threadpool(answer, False)
    if response is not None:
        return response
    made = await decode_for(ctx, lambda: answer(True))
    assert made is not None
    return made


async def decode_for(ctx: RequestContext, work: Callable[[], T]) -> T:
    """``work()`` (which decodes pictures) under the caller's decode slots (decode_slots.py)."""
    client = ctx.request.client
    return await ctx.state.decodes.run(credential(ctx.principal, client.host if client else ""), work)


def thumbnail_response(
    ctx: RequestContext, picture_id: int, content_hash: str, size: str, cache: str = IMMUTABLE, make: bool = True
) -> Response | None:
    """The thumbnail of the picture as its edit shows it; None when it must be made first and ``make`` is
    False. A URL names the edit it wants (``?edit=KEY``; none for the original's look): only when that is
    the picture's edit now may the answer be kept as immutable."""
    if size not in _SIZES:
        raise NotFound("thumbnail size is grid or preview")
    key = ctx.library.files.edit_key(picture_id)
    if key != ctx.request.query_params.get("edit", "") and cache == IMMUTABLE:
        cache = REVALIDATE
    etag = f'"{content_hash}-{size}{"-" + key if key else ""}"'
    cached = not_modified(ctx, etag, cache)
    if cached is not None:
        return cached
    # Thumbnails are small: read them here, in the handler's worker thread, in one go. The file named by the
    # key just read serves at once; only a missing one goes through the library (which makes it).
    try:
        body = ctx.library.thumbnails.path(content_hash, size, key).read_bytes()  # type: ignore[arg-type]
    except FileNotFoundError:
        if not make:
            return None
        body = ctx.library.thumbnail_path(picture_id, size).read_bytes()
    return Response(body, media_type="image/webp", headers={"ETag": etag, "Cache-Control": cache})


def edited_response(
    ctx: RequestContext, picture_id: int, cache: str = REVALIDATE, *, named_by_hash: bool = False, make: bool = True
) -> Response | None:
    """The picture as its edit shows it, at full size (a JPEG original as JPEG, else PNG), from the file it
    was rendered into once; None when it must be rendered first and ``make`` is False (see ``decoding``).
    ``named_by_hash``: the download is named by the content hash, not after the owner's file (as shares
    name every file)."""
    picture = ctx.library.get(picture_id)
    if picture.edit is None:
        raise NotFound(f"picture {picture_id} has no edit: its original is its look")
    etag = f'"{picture.content_hash}-{picture.edit_key}"'
    cached = not_modified(ctx, etag, cache)
    if cached is not None:
        return cached
    rendition = ctx.library.files.edited_rendition(picture_id, make=make)
    if rendition is None:
        return None
    opened, mime = rendition
    stem = picture.content_hash if named_by_hash else Path(picture.original_name or picture.content_hash).stem
    name = f"{stem}-edited{'.jpg' if mime == 'image/jpeg' else '.png'}"
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "Content-Disposition": f'inline; filename="{_ascii(name)}"',
        "Content-Length": str(os.fstat(opened.fileno()).st_size),
    }
    return StreamingResponse(_chunks(opened), media_type=mime, headers={**headers, **ORIGINAL_HEADERS})


def _chunks(opened: BinaryIO) -> Iterator[bytes]:
    """An open file, a megabyte at a time (Starlette reads it on a worker thread), closed when done."""
    with opened:
        while block := opened.read(1 << 20):
            yield block


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


def original_response(ctx: RequestContext, picture_id: int, cache: str = IMMUTABLE) -> Response:
    """The original file, as stored."""
    picture = ctx.library.get(picture_id)
    etag = f'"{picture.content_hash}"'
    cached = not_modified(ctx, etag, cache)
    if cached is not None:
        return cached
    filename = Path(picture.original_name or f"{picture.content_hash}{picture.suffix}").name
    store = ctx.library.store
    if picture.managed and store.local_path(picture.content_hash, picture.suffix) is None:
        try:  # in a bucket: streamed from it in the range asked for, never staged whole
            size = store.size(picture.content_hash, picture.suffix)
        except FileNotFoundError:
            raise NotFound(f"the original of picture {picture_id} is missing from the store") from None
        disposition = f'inline; filename="{_ascii(filename)}"'
        headers = {"ETag": etag, "Cache-Control": cache, "Content-Disposition": disposition, **ORIGINAL_HEADERS}

        def read(start: int, end: int):
            blocks = store.read_range(picture.content_hash, picture.suffix, start, end)
            whole = (start, end) == (0, size)  # (a range cannot be checked: only the whole has a hash)
            return checked_whole(blocks, picture.content_hash, f"picture {picture_id}") if whole else blocks

        return ranged_response(ctx.request.headers.get("range"), size, read, picture.mime, headers)
    path: Path = ctx.library.original_path(picture_id)
    return FileResponse(
        path,
        media_type=picture.mime,
        filename=filename,
        content_disposition_type="inline",
        headers={"ETag": etag, "Cache-Control": cache, **ORIGINAL_HEADERS},
    )


def register(api: Api) -> None:
    @api.get(
        "/pictures/{picture_id:int}/frame.webp",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="image/webp",
        summary="A preview of the picture turned and mirrored as edited, but neither straightened nor cropped: "
        "what the viewer's crop tool draws on",
    )
    async def crop_frame(ctx: RequestContext) -> Response:
        picture_id = ctx.path["picture_id"]

        def answer() -> Response:
            path = ctx.library.files.frame_path(picture_id)
            return Response(path.read_bytes(), media_type="image/webp", headers={"Cache-Control": REVALIDATE})

        return await decode_for(ctx, answer)

    @api.get(
        "/media/{content_hash}/{size}.webp",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="image/webp",
        summary="A thumbnail (grid or preview) by content hash",
    )
    async def thumbnail(ctx: RequestContext) -> Response:
        content_hash, size = ctx.path["content_hash"], ctx.path["size"]
        return await decoding(
            ctx, lambda make: thumbnail_response(ctx, picture_id_for(ctx, content_hash), content_hash, size, make=make)
        )

    @api.get(
        "/pictures/{picture_id:int}/{size}.webp",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="image/webp",
        summary="A thumbnail by picture id (grids paint these before they know the pictures' details)",
    )
    async def thumbnail_by_id(ctx: RequestContext) -> Response:
        picture_id, size = ctx.path["picture_id"], ctx.path["size"]

        def answer(make: bool) -> Response | None:
            content_hash = ctx.library.pictures.address(picture_id)[0]
            return thumbnail_response(ctx, picture_id, content_hash, size, cache=BY_ID, make=make)

        return await decoding(ctx, answer)

    @api.get(
        "/media/{content_hash}/original",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="*/*",
        summary="The original file by content hash (HTTP Range supported, for video)",
    )
    def original(ctx: RequestContext) -> Response:
        return original_response(ctx, picture_id_for(ctx, ctx.path["content_hash"]))

    @api.get(
        "/pictures/{picture_id:int}/edited",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="image/*",
        summary="The picture as its edit shows it, full size (JPEG for a JPEG original, else PNG); 404 "
        "when it has no edit",
    )
    async def edited(ctx: RequestContext) -> Response:
        return await decoding(ctx, lambda make: edited_response(ctx, ctx.path["picture_id"], make=make))

    @api.get(
        "/faces/{face_id:int}/crop.webp",
        policy=Policy.READ,
        raw=True,
        tag="media",
        response_media="image/webp",
        summary="A square crop of one face (made on first request, from the original)",
    )
    async def face_crop(ctx: RequestContext) -> Response:
        face_id = ctx.path["face_id"]
        etag = f'"face-{face_id}"'

        def answer(make: bool) -> Response | None:
            cached = not_modified(ctx, etag)
            if cached is not None:
                return cached
            if not make and not ctx.library.files.has_face_crop(face_id):
                return None
            body = ctx.library.files.face_crop_path(face_id).read_bytes()
            return Response(body, media_type="image/webp", headers={"ETag": etag, "Cache-Control": IMMUTABLE})

        return await decoding(ctx, answer)

    @api.get(
        "/previews",
        policy=Policy.READ,
        tag="media",
        summary="Whether previews are made ahead in the background, and what that pass did",
    )
    def preview_progress(ctx: RequestContext) -> PreviewProgress:
        return ctx.library.previews.progress()

    @api.put(
        "/previews/settings",
        policy=Policy.ADMIN,
        tag="media",
        summary="Make previews ahead when idle (on) or only on first view (off; stops a pass in progress)",
    )
    def configure_previews(ctx: RequestContext, body: PreviewSettings) -> PreviewProgress:
        ctx.library.previews.configure(body)
        return ctx.library.previews.progress()
