"""Likeness to a mix of references (images, pictures, sets, characters), by picture embeddings or by faces:
library pictures most alike, and scores of images that are not in the library (for ComfyUI's nodes).

Both take multipart/form-data so images can come along ('file', repeatable, and the fields below), or,
without images, the same fields as a JSON object."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from starlette.concurrency import run_in_threadpool

from pixlstash.domain import PictureFilter, SearchResult
from pixlstash.engines.inputs import open_query_image
from pixlstash.errors import BadInput
from pixlstash.search.likeness import LikenessReferences, LikenessScores

from ..api import Api, InvalidInput, RequestContext, decode_json, parse_body
from ..schemas import RowId
from ..security import Policy
from ..uploads import receive_upload
from .media import decode_for

_MAX_REFERENCE_IMAGES = 16
_MAX_SCORED_IMAGES = 64


class LikenessFields(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["picture_likeness", "face_search"] = "picture_likeness"
    picture_ids: Annotated[list[RowId], Meta(max_length=1000)] = []
    collection_ids: Annotated[list[RowId], Meta(max_length=100)] = []  # sets and characters
    engine: Annotated[str, Meta(max_length=200)] | None = None
    combine: Literal["mean", "min"] = "mean"
    threshold: Annotated[float, Meta(ge=-1.0, le=1.0)] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 50
    filter: PictureFilter | None = None

    def references(self) -> LikenessReferences:
        return LikenessReferences(self.picture_ids, self.collection_ids)


def _schema(files_required: bool, max_files: int) -> dict:
    return {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"] if files_required else [],
                "properties": {
                    "file": {"type": "array", "maxItems": max_files, "items": {"type": "string", "format": "binary"}},
                    "mode": {"type": "string", "enum": ["picture_likeness", "face_search"]},
                    "picture_ids": {"type": "string", "pattern": "^[0-9,]{0,20000}$"},
                    "collection_ids": {
                        "type": "string",
                        "pattern": "^[0-9,]{0,2000}$",
                        "description": "sets, characters",
                    },
                    "engine": {"type": "string", "maxLength": 200},
                    "combine": {"type": "string", "enum": ["mean", "min"]},
                    "threshold": {"type": "string", "pattern": "^-?[0-9.]{1,20}$"},
                    "limit": {"type": "string", "pattern": "^[0-9]{1,4}$"},
                    "filter": {"type": "string", "maxLength": 10000, "description": "a picture filter as JSON"},
                },
            }
        },
        "application/json": {
            "schema": {
                "type": "object",
                "description": "without images: the same fields, lists as arrays and the filter as an object",
            }
        },
    }


def _fields(fields: dict[str, str]) -> LikenessFields:
    data: dict = {}
    for key, value in fields.items():
        if key in ("picture_ids", "collection_ids"):
            data[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif key == "filter":
            data[key] = decode_json(value)
        else:
            data[key] = value
    try:
        return msgspec.convert(data, LikenessFields, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"invalid likeness field: {error}") from None


def _receive(ctx: RequestContext, upload, max_files: int):
    """The checked fields and the decoded images of a likeness request (its files are removed)."""
    try:
        if len(upload.files) > max_files:
            raise BadInput(f"at most {max_files} images")
        fields = _fields(upload.fields)
        if upload.files:  # before any decoding: a search that can only fail costs nothing
            ctx.library.likeness.require_engine(fields.mode, fields.engine)
        images = [open_query_image(file.path, ctx.library.limits) for file in upload.files]
    finally:
        upload.discard()
    return fields, images


async def _read(ctx: RequestContext, max_files: int):
    if ctx.request.headers.get("content-type", "").startswith("application/json"):
        return await parse_body(ctx.request, LikenessFields), []
    upload = await receive_upload(ctx.request, ctx.library.tmp, ctx.state.settings)
    return await decode_for(ctx, lambda: _receive(ctx, upload, max_files))


def _search(ctx: RequestContext, fields: LikenessFields, images) -> SearchResult:
    return ctx.library.likeness.search_pictures(
        fields.mode,
        fields.references(),
        images,
        engine_id=fields.engine,
        combine=fields.combine,
        f=fields.filter,
        threshold=fields.threshold,
        limit=fields.limit,
    )


def _score(ctx: RequestContext, fields: LikenessFields, images) -> LikenessScores:
    return ctx.library.likeness.score_images(
        fields.mode, fields.references(), images, engine_id=fields.engine, combine=fields.combine
    )


def register(api: Api) -> None:
    @api.post(
        "/search/likeness",
        policy=Policy.READ,
        tag="search",
        summary="Pictures like a mix of images, pictures, sets and characters, by picture likeness or by "
        "faces (mode), combined by mean or min",
        request_schema=_schema(False, _MAX_REFERENCE_IMAGES),
        extra_responses={409: "the engine's model is not on this machine", 413: "an image is too large"},
    )
    async def likeness_search(ctx: RequestContext) -> SearchResult:
        fields, images = await _read(ctx, _MAX_REFERENCE_IMAGES)
        return await run_in_threadpool(_search, ctx, fields, images)

    @api.post(
        "/search/likeness/score",
        policy=Policy.READ,
        tag="search",
        summary="How alike each uploaded image (not imported) is to pictures, sets and characters: one "
        "score per image, null for an image without a face in face_search mode",
        request_schema=_schema(True, _MAX_SCORED_IMAGES),
        extra_responses={409: "the engine's model is not on this machine", 413: "an image is too large"},
    )
    async def likeness_score(ctx: RequestContext) -> LikenessScores:
        fields, images = await _read(ctx, _MAX_SCORED_IMAGES)
        return await run_in_threadpool(_score, ctx, fields, images)
