"""Vector search: semantic (text), similar pictures (stored or uploaded), similar faces; and the same for
share recipients, always inside the share's scope."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from pixlstash.domain import FaceHit, PictureFilter, SearchResult
from pixlstash.engines.inputs import open_query_image
from pixlstash.errors import BadInput, NotFound
from pixlstash.sharing.service import SharedSearchResult

from ..api import Api, RequestContext, decode_json
from ..schemas import RowId
from ..security import Policy
from ..uploads import receive_upload
from .media import decode_for
from .share_links import PREFIX as SHARED

Similarity = Annotated[float, Meta(ge=-1.0, le=1.0)]
Limit = Annotated[int, Meta(ge=1, le=1000)]
EngineId = Annotated[str, Meta(max_length=200)]
References = Annotated[list[RowId], Meta(min_length=1, max_length=100)]

_MAX_QUERY_IMAGES = 16


class SemanticQuery(PictureFilter, frozen=True, kw_only=True):
    """The text to search for (``q``) plus any picture filter, as query parameters."""

    q: Annotated[str, Meta(min_length=1, max_length=1000)]
    engine: EngineId | None = None
    threshold: Similarity | None = None
    limit: Limit = 50

    def filter(self) -> PictureFilter:
        return PictureFilter(**{f: getattr(self, f) for f in PictureFilter.__struct_fields__})


class SimilarRequest(msgspec.Struct, forbid_unknown_fields=True):
    picture_ids: References
    engine: EngineId | None = None
    combine: Literal["mean", "min"] = "mean"
    threshold: Similarity | None = None
    limit: Limit = 50
    filter: PictureFilter | None = None


class FaceQuery(msgspec.Struct, forbid_unknown_fields=True):
    threshold: Similarity | None = None
    limit: Limit = 50


UPLOAD_SCHEMA = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": _MAX_QUERY_IMAGES,
                    "items": {"type": "string", "format": "binary"},
                },
                "picture_ids": {"type": "string", "pattern": "^[0-9,]{0,2000}$"},
                "engine": {"type": "string", "maxLength": 200},
                "combine": {"type": "string", "enum": ["mean", "min"]},
                "threshold": {"type": "string", "pattern": "^-?[0-9.]{1,20}$"},
                "limit": {"type": "string", "pattern": "^[0-9]{1,4}$"},
                "filter": {"type": "string", "maxLength": 10000, "description": "a picture filter as JSON"},
            },
        }
    }
}


class _UploadFields(msgspec.Struct, forbid_unknown_fields=True):
    picture_ids: list[RowId] = []
    engine: EngineId | None = None
    combine: Literal["mean", "min"] = "mean"
    threshold: Similarity | None = None
    limit: Limit = 50
    filter: PictureFilter | None = None


def _upload_fields(fields: dict[str, str]) -> _UploadFields:
    data: dict = {}
    try:
        for key, value in fields.items():
            if key == "picture_ids":
                data[key] = [int(v) for v in value.split(",") if v.strip()]
            elif key == "filter":
                data[key] = decode_json(value)
            elif key in ("threshold", "limit"):
                data[key] = float(value) if key == "threshold" else int(value)
            else:
                data[key] = value
        return msgspec.convert(data, _UploadFields)
    except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise BadInput(f"invalid search field: {error}") from None


def _similar_upload(ctx: RequestContext, upload, scope: PictureFilter | None) -> SearchResult:
    library = ctx.library
    try:
        if len(upload.files) > _MAX_QUERY_IMAGES:
            raise BadInput(f"at most {_MAX_QUERY_IMAGES} query images")
        fields = _upload_fields(upload.fields)
        library.search.require_embedder(fields.engine)  # before any decoding: a missing model answers 409 at once
        images = [open_query_image(file.path, library.limits) for file in upload.files]
    finally:
        upload.discard()
    f = fields.filter
    if scope is not None:
        _check_in_scope(ctx, fields.picture_ids)
        f = ctx.state.shares.restrict(ctx.share, f)
    return library.search.similar(
        picture_ids=fields.picture_ids,
        images=images,
        engine_id=fields.engine,
        combine=fields.combine,
        f=f,
        threshold=fields.threshold,
        limit=fields.limit,
    )


def _check_in_scope(ctx: RequestContext, picture_ids: list[int]) -> None:
    for picture_id in picture_ids:
        if not ctx.state.shares.contains(ctx.share, picture_id):
            raise NotFound(f"no picture {picture_id} in this share")


def register(api: Api) -> None:
    @api.get(
        "/search/semantic",
        policy=Policy.READ,
        tag="search",
        summary="Pictures matching a text through an embedder's text encoder (filters restrict it)",
        extra_responses={409: "the engine's model is not on this machine (the message says how to get it)"},
    )
    def semantic(ctx: RequestContext, query: SemanticQuery) -> SearchResult:
        return ctx.library.search.semantic(
            query.q, engine_id=query.engine, f=query.filter(), threshold=query.threshold, limit=query.limit
        )

    @api.post(
        "/search/similar",
        policy=Policy.READ,
        tag="search",
        summary="Pictures similar to stored pictures, combined by mean or min similarity",
        extra_responses={409: "the engine's model is not on this machine"},
    )
    def similar(ctx: RequestContext, body: SimilarRequest) -> SearchResult:
        return ctx.library.search.similar(
            picture_ids=body.picture_ids,
            engine_id=body.engine,
            combine=body.combine,
            f=body.filter,
            threshold=body.threshold,
            limit=body.limit,
        )

    @api.post(
        "/search/similar/upload",
        policy=Policy.READ,
        tag="search",
        summary="Pictures similar to uploaded images (multipart: 'file' repeatable, optional fields)",
        request_schema=UPLOAD_SCHEMA,
        extra_responses={409: "the engine's model is not on this machine", 413: "an image is too large"},
    )
    async def similar_upload(ctx: RequestContext) -> SearchResult:
        upload = await receive_upload(ctx.request, ctx.library.tmp, ctx.state.settings)
        return await decode_for(ctx, lambda: _similar_upload(ctx, upload, None))

    @api.get(
        "/search/faces/{face_id:int}",
        policy=Policy.READ,
        tag="search",
        summary="Faces similar to one detected face",
    )
    def similar_faces(ctx: RequestContext, query: FaceQuery) -> list[FaceHit]:
        return ctx.library.search.similar_faces(ctx.path["face_id"], threshold=query.threshold, limit=query.limit)

    # -- share recipients: the same searches, never outside the share ----------------------------

    @api.get(
        SHARED + "/search/semantic",
        policy=Policy.SHARE,
        tag="shared",
        summary="Search the shared pictures by text",
    )
    def shared_semantic(ctx: RequestContext, query: SemanticQuery) -> SharedSearchResult:
        shares = ctx.state.shares
        f = shares.restrict(ctx.share, query.filter())
        result = ctx.library.search.semantic(
            query.q, engine_id=query.engine, f=f, threshold=query.threshold, limit=query.limit
        )
        return shares.search_result(ctx.share, result)

    @api.post(
        SHARED + "/search/similar",
        policy=Policy.SHARE,
        tag="shared",
        summary="Shared pictures similar to shared pictures",
    )
    def shared_similar(ctx: RequestContext, body: SimilarRequest) -> SharedSearchResult:
        _check_in_scope(ctx, body.picture_ids)
        shares = ctx.state.shares
        f = shares.restrict(ctx.share, body.filter)
        result = ctx.library.search.similar(
            picture_ids=body.picture_ids,
            engine_id=body.engine,
            combine=body.combine,
            f=f,
            threshold=body.threshold,
            limit=body.limit,
        )
        return shares.search_result(ctx.share, result)
