"""Training-set export: preview a set's (or any selection's) captions, remember its options, and download
it as a zip streamed as it is made."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.responses import Response, StreamingResponse

from pixlstash.domain import PictureFilter
from pixlstash.errors import BadInput
from pixlstash.training import BucketRules, DatasetReport, ExportOptions
from pixlstash.training.dataset_fixes import remove_near_duplicates

from ..api import Api, RequestContext
from ..exports import ExportTicket
from ..security import Policy

_SAMPLES = 3


class ExportRequest(msgspec.Struct, forbid_unknown_fields=True):
    filter: PictureFilter
    options: ExportOptions = ExportOptions()
    name: Annotated[str, Meta(max_length=200)] = "training-set"  # the zip's file name


class DatasetCheckRequest(msgspec.Struct, forbid_unknown_fields=True):
    filter: PictureFilter
    options: ExportOptions = ExportOptions()
    rules: BucketRules = BucketRules()


class DatasetFixRequest(msgspec.Struct, forbid_unknown_fields=True):
    options: ExportOptions = ExportOptions()
    rules: BucketRules = BucketRules()


class DuplicatesRemoved(msgspec.Struct):
    removed: list[int]  # taken out of the set, one undo step
    report: DatasetReport  # the set's check after


class ExportSample(msgspec.Struct):
    file: str
    caption: str


class ExportPreview(msgspec.Struct):
    pictures: int
    missing: list[int]
    videos_left_out: list[int]
    folder: str
    samples: list[ExportSample]  # the first pictures' files and captions, as the export writes them
    uncaptioned: list[int]  # pictures that get no caption file: their caption is empty
    warnings: list[str]  # what a trainer will not do with this export


class ExportStarted(msgspec.Struct):
    id: str
    url: str
    pictures: int


class ExportProgress(msgspec.Struct):
    id: str
    pictures: int
    done: int
    finished: bool


def register(api: Api) -> None:
    @api.post(
        "/exports/preview",
        policy=Policy.READ,
        tag="exports",
        summary="What a training-set export would write: counts, and the first pictures' captions",
    )
    def preview(ctx: RequestContext, body: ExportRequest) -> ExportPreview:
        plan = ctx.library.training.plan(body.filter, body.options)
        return ExportPreview(
            len(plan.files),
            [m.picture_id for m in plan.missing],
            plan.videos_left_out,
            plan.folder,
            [ExportSample(f.image, f.caption) for f in plan.files[:_SAMPLES]],
            plan.uncaptioned,
            plan.warnings,
        )

    @api.post(
        "/exports/check",
        policy=Policy.READ,
        tag="exports",
        summary="A training set's health as the trainer would see it: buckets, captions, findings (pixlstash "
        "dataset check)",
    )
    def check(ctx: RequestContext, body: DatasetCheckRequest) -> DatasetReport:
        return ctx.library.training.check(body.filter, body.options, _checked(body.rules))

    for kind, plural in (("set", "sets"), ("character", "characters")):
        _register_fixes(api, kind, plural)

    @api.get(
        "/exports/options/{collection_id:int}",
        policy=Policy.READ,
        tag="exports",
        summary="The export options last used for a set or character",
    )
    def remembered(ctx: RequestContext) -> ExportOptions:
        ctx.library.collections.collection(ctx.path["collection_id"])
        return ctx.library.training.remembered(ctx.path["collection_id"])

    @api.put(
        "/exports/options/{collection_id:int}",
        policy=Policy.WRITE,
        tag="exports",
        summary="Remember export options for a set or character",
    )
    def remember(ctx: RequestContext, body: ExportOptions) -> ExportOptions:
        ctx.library.collections.collection(ctx.path["collection_id"])
        ctx.library.training.remember(ctx.path["collection_id"], body.check())
        return body

    @api.post(
        "/exports",
        policy=Policy.READ,
        status=201,
        tag="exports",
        summary="Prepare a training-set export; GET its url to download the zip as it is made",
    )
    def start(ctx: RequestContext, body: ExportRequest) -> ExportStarted:
        plan = ctx.library.training.plan(body.filter, body.options)  # bad options fail here, not mid-download
        ticket = ctx.state.exports.create(body.filter, body.options, body.name, len(plan.files))
        return ExportStarted(ticket.id, f"/api/v1/exports/{ticket.id}.zip", ticket.pictures)

    @api.get(
        "/exports/{ticket_id}.zip",
        policy=Policy.READ,
        raw=True,
        tag="exports",
        response_media="application/zip",
        summary="The export as a zip, streamed as it is made (nothing is staged on the server's disk)",
    )
    def download(ctx: RequestContext) -> Response:
        ticket = ctx.state.exports.get(ctx.path["ticket_id"])
        training = ctx.library.training
        plan = training.plan(ticket.filter, ticket.options)
        filename = re.sub(r"[^\w.-]+", "_", ticket.name).strip("._") or "training-set"
        return StreamingResponse(
            _counted(ticket, training.zip_chunks(plan, ticket.options, lambda done, _: _progress(ticket, done))),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}.zip"', "Cache-Control": "no-store"},
        )

    @api.get(
        "/exports/{ticket_id}",
        policy=Policy.READ,
        tag="exports",
        summary="How far a download of an export has come",
    )
    def progress(ctx: RequestContext) -> ExportProgress:
        ticket = ctx.state.exports.get(ctx.path["ticket_id"])
        return ExportProgress(ticket.id, ticket.pictures, ticket.done, ticket.finished)


def _checked(rules: BucketRules) -> BucketRules:
    try:
        return rules.checked()
    except ValueError as error:
        raise BadInput(str(error)) from None


def _register_fixes(api: Api, kind: str, plural: str) -> None:
    @api.post(
        f"/{plural}/{{collection_id:int}}/remove-near-duplicates",
        policy=Policy.WRITE,
        tag="exports",
        summary=f"Take a {kind}'s near-duplicates out of it, keeping the best-rated of each group (one undo "
        "step): the dataset check's fix",
    )
    def remove_duplicates(ctx: RequestContext, body: DatasetFixRequest) -> DuplicatesRemoved:
        collection = ctx.library.collections.collection(ctx.path["collection_id"], kind)
        rules = _checked(body.rules)
        f = PictureFilter(collections=[collection.id])
        report = ctx.library.training.check(f, body.options, rules)
        library = ctx.library
        removed = remove_near_duplicates(library.edits, library.pictures, collection.id, collection.name, report)
        if removed:
            report = ctx.library.training.check(f, body.options, rules)
        return DuplicatesRemoved(removed, report)


def _progress(ticket: ExportTicket, done: int) -> None:
    ticket.done = done


def _counted(ticket: ExportTicket, chunks):
    for chunk in chunks:
        if chunk:
            yield chunk
    ticket.finished = True
