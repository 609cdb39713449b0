"""Whole-library backups from Settings: to a folder on the server the owner names or a bucket
(``s3://BUCKET/PREFIX``), with progress, and on a schedule. Admin only: the server writes where it is told."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from pixlstash.backups.runner import BackupSchedule, BackupStatus

from ..api import Api, RequestContext
from ..security import Policy


class BackupRequest(msgspec.Struct, forbid_unknown_fields=True):
    target: Annotated[str, Meta(min_length=1, max_length=4096)]
    with_thumbnails: bool = False
    with_accounts: bool = False  # accounts and plugin secrets too, in clear
    force: bool = False  # replace a backup of more pictures than the library holds now
    # A bucket's service; none: the library's own bucket's endpoint, or AWS S3.
    endpoint: Annotated[str, Meta(max_length=2048, pattern="^(https?://[^\\s]+)?$")] | None = None


def register(api: Api) -> None:
    @api.get(
        "/backups",
        policy=Policy.ADMIN,
        tag="backups",
        summary="The backup running now (with progress), the last one, and the schedule",
    )
    def status(ctx: RequestContext) -> BackupStatus:
        return ctx.state.instance.backups.status()

    @api.post(
        "/backups",
        policy=Policy.ADMIN,
        status=202,
        tag="backups",
        summary="Back the whole library up to a server folder or a bucket (in the background; 409 while one runs)",
    )
    def start(ctx: RequestContext, body: BackupRequest) -> BackupStatus:
        backups = ctx.state.instance.backups
        return backups.start(body.target, body.with_thumbnails, body.with_accounts, body.force, body.endpoint or None)

    @api.put(
        "/backups/schedule",
        policy=Policy.ADMIN,
        tag="backups",
        summary="Back up on a schedule (every N hours, to a folder on the server or a bucket)",
    )
    def configure(ctx: RequestContext, body: BackupSchedule) -> BackupSchedule:
        return ctx.state.instance.backups.configure(body)
