"""Snapshots: list, take, relabel, delete, schedule, preview and restore (full or selective). Admin only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from pixlstash.snapshots import RestoreResource

from ..api import Api, RequestContext
from ..security import Policy


class SnapshotInfo(msgspec.Struct):
    id: int
    kind: str
    label: str | None
    created_at: str  # ISO 8601, UTC
    picture_count: int
    byte_size: int  # stored bytes of every chunk it uses: what it alone would need
    is_compatible: bool
    unique_bytes: int  # what deleting it would free
    schema_version: int


class SnapshotCreate(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, Meta(max_length=200)] | None = None


class SnapshotPatch(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, Meta(max_length=200)] | None


class PreviewSummary(msgspec.Struct):
    pictures_to_revert: int
    pictures_to_recreate: int
    pictures_to_delete: int
    pictures_unchanged: int
    missing_files: int
    sets_to_delete: int
    characters_to_delete: int
    projects_to_delete: int
    sets_to_recreate: int
    characters_to_recreate: int
    projects_to_recreate: int


class OrganisingChange(msgspec.Struct):
    type: str  # set, character or project
    id: int
    name: str


class Preview(msgspec.Struct):
    summary: PreviewSummary
    to_delete: list[OrganisingChange]  # sets, characters and projects a full restore deletes
    to_recreate: list[OrganisingChange]  # and those it brings back
    warnings: list[str]


class RestoreResult(msgspec.Struct):
    snapshot_id: int
    resource_type: str
    missing_files_count: int
    errors: list[dict[str, Any]]


class BatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    resources: Annotated[list[RestoreResource], Meta(min_length=1, max_length=10_000)]
    recreate_missing: bool = False


class BatchResult(msgspec.Struct):
    snapshot_id: int
    upserted_count: int
    errors: list[dict[str, Any]]


class BatchPreview(msgspec.Struct):
    snapshot_id: int
    changes: list[dict[str, Any]]
    errors: list[dict[str, Any]]


class ScheduleSettings(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


def _info(service, row) -> SnapshotInfo:
    created = dt.datetime.fromtimestamp(row.created_at / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SnapshotInfo(
        row.id,
        row.kind,
        row.label,
        created,
        row.picture_count,
        row.byte_size,
        service.is_compatible(row),
        row.unique_bytes,
        row.schema_version,
    )


def register(api: Api) -> None:
    base, item = "/snapshots", "/snapshots/{snapshot_id:int}"

    @api.get(
        base,
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Every restore point, newest first",
    )
    def snapshots(ctx: RequestContext) -> list[SnapshotInfo]:
        service = ctx.state.snapshots
        return [_info(service, row) for row in service.list()]

    @api.post(
        base,
        policy=Policy.ADMIN,
        status=201,
        tag="snapshots",
        summary="Take a MANUAL snapshot now (optionally labelled)",
    )
    def take(ctx: RequestContext, body: SnapshotCreate) -> SnapshotInfo:
        return _info(ctx.state.snapshots, ctx.state.snapshots.take("MANUAL", body.label))

    @api.get(
        "/snapshots/schedule",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Whether daily, weekly and monthly snapshots are taken automatically",
    )
    def schedule(ctx: RequestContext) -> ScheduleSettings:
        return ScheduleSettings(ctx.state.snapshots.settings().schedule_enabled)

    @api.put(
        "/snapshots/schedule",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Turn automatic snapshots on or off",
    )
    def set_schedule(ctx: RequestContext, body: ScheduleSettings) -> ScheduleSettings:
        return ScheduleSettings(ctx.state.snapshots.configure(body.enabled).schedule_enabled)

    @api.get(item, policy=Policy.ADMIN, tag="snapshots", summary="One snapshot")
    def snapshot(ctx: RequestContext) -> SnapshotInfo:
        return _info(ctx.state.snapshots, ctx.state.snapshots.get(ctx.path["snapshot_id"]))

    @api.patch(
        item,
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Relabel a snapshot",
    )
    def relabel(ctx: RequestContext, body: SnapshotPatch) -> SnapshotInfo:
        return _info(ctx.state.snapshots, ctx.state.snapshots.relabel(ctx.path["snapshot_id"], body.label))

    @api.delete(
        item,
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Delete a snapshot (frees only what no other snapshot shares)",
    )
    def delete(ctx: RequestContext) -> None:
        ctx.state.snapshots.delete(ctx.path["snapshot_id"])

    @api.get(
        item + "/restore/preview",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="What a full restore would change (a dry run)",
    )
    def preview(ctx: RequestContext) -> Preview:
        return msgspec.convert(ctx.state.snapshots.preview(ctx.path["snapshot_id"]), Preview)

    @api.post(
        item + "/restore",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Restore all metadata (a SAFETY snapshot is taken first; nobody is signed out)",
    )
    def restore(ctx: RequestContext) -> RestoreResult:
        return msgspec.convert(ctx.state.snapshots.restore(ctx.path["snapshot_id"]), RestoreResult)

    @api.post(
        item + "/restore/batch",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Restore only the listed pictures, sets, characters or projects",
    )
    def restore_batch(ctx: RequestContext, body: BatchRequest) -> BatchResult:
        result = ctx.state.snapshots.restore_batch(ctx.path["snapshot_id"], body.resources, body.recreate_missing)
        return msgspec.convert(result, BatchResult)

    @api.post(
        item + "/restore/batch/preview",
        policy=Policy.ADMIN,
        tag="snapshots",
        summary="Which of the listed pictures a selective restore would change, and how",
    )
    def preview_batch(ctx: RequestContext, body: BatchRequest) -> BatchPreview:
        return msgspec.convert(ctx.state.snapshots.preview_batch(ctx.path["snapshot_id"], body.resources), BatchPreview)
