"""Getting pictures in: streamed multipart uploads, server-side imports, import and reference folders."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from pixlstash.accounts import uploads_private
from pixlstash.domain import Folder, FolderOptions, ImportReport
from pixlstash.importing.folders import FolderScanReport

from ..api import Api, RequestContext
from ..schemas import FolderChange, FolderCreate, ServerImportRequest
from ..security import Policy
from ..uploads import EarlyImport, Uploader, receive_upload

UPLOAD_SCHEMA = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}},
                "project_id": {"type": "string", "pattern": "^[0-9]{0,18}$"},
                "collection_ids": {"type": "string", "pattern": "^[0-9,]{0,1000}$"},
                "last_modified": {"type": "string", "pattern": "^[0-9,]{0,2000}$"},
                "private": {"type": "string", "enum": ["", "0", "1", "true", "false"]},
            },
        }
    }
}


def _uploader(ctx: RequestContext) -> Uploader:
    """The account uploading, and its default for whether its uploads stay private to it."""
    user_id = ctx.principal.user_id
    account = ctx.state.auth.store.account(user_id) if user_id is not None else None
    if account is None:
        return Uploader(user_id)
    left = None
    if account.quota_bytes is not None:
        left = account.quota_bytes - ctx.library.pictures.visibility.uploaded_bytes(account.id)
    return Uploader(user_id, uploads_private(account), left)


def register(api: Api) -> None:
    @api.post(
        "/uploads",
        policy=Policy.WRITE,
        tag="import",
        summary="Upload pictures (multipart/form-data, field 'file', repeatable; optional 'project_id', "
        "'collection_ids', 'last_modified': each file's modified time, epoch ms, comma-separated in order, and "
        "'private': 1 to keep them to yourself, 0 to share them with the library; unsaid, your account's default)",
        extra_responses={
            413: "a file or the request is over the size limit, or the upload would pass your quota",
            415: "not multipart/form-data",
        },
        request_schema=UPLOAD_SCHEMA,
    )
    async def upload(ctx: RequestContext) -> ImportReport:
        early = EarlyImport(ctx.state.library, await run_in_threadpool(_uploader, ctx))
        upload = None
        try:
            upload = await receive_upload(ctx.request, ctx.state.library.tmp, ctx.state.settings, early.arrived)
            early.owner.check_quota(upload)
        except BaseException as error:
            await early.abandon(error)
            if upload is not None:
                upload.discard()
            raise
        return await early.finish(upload)

    @api.post(
        "/imports",
        policy=Policy.ADMIN,
        tag="import",
        summary="Import files, folders or zip archives from the server's own disk",
    )
    def server_import(ctx: RequestContext, body: ServerImportRequest) -> ImportReport:
        return ctx.library.import_paths(body.paths, project_id=body.project_id, collection_ids=body.collection_ids)

    @api.get(
        "/folders",
        policy=Policy.READ,
        tag="folders",
        summary="Import folders and reference folders",
    )
    def folders(ctx: RequestContext) -> list[Folder]:
        return ctx.library.folders.all()

    @api.post(
        "/folders",
        policy=Policy.ADMIN,
        status=201,
        tag="folders",
        summary="Watch an import folder or index a reference folder",
    )
    def add_folder(ctx: RequestContext, body: FolderCreate) -> Folder:
        options = FolderOptions(
            delete_after_import=body.delete_after_import,
            write_sidecars=body.write_sidecars,
            sidecar_format=body.sidecar_format,
            write_xmp=body.write_xmp,
            allow_purge=body.allow_purge,
            settle_seconds=body.settle_seconds,
            project_id=body.project_id,
            collection_ids=body.collection_ids,
        )
        folder = ctx.library.folder_sync.add(body.kind, body.path, options)
        if body.scan:
            ctx.library.folder_sync.scan(folder.id)
        return ctx.library.folders.get(folder.id)

    @api.get("/folders/{folder_id:int}", policy=Policy.READ, tag="folders", summary="One folder")
    def folder(ctx: RequestContext) -> Folder:
        return ctx.library.folders.get(ctx.path["folder_id"])

    @api.delete(
        "/folders/{folder_id:int}",
        policy=Policy.ADMIN,
        tag="folders",
        summary="Stop watching a folder (its files and pictures stay)",
    )
    def remove_folder(ctx: RequestContext) -> None:
        ctx.library.folder_sync.remove(ctx.path["folder_id"])

    @api.patch(
        "/folders/{folder_id:int}",
        policy=Policy.ADMIN,
        tag="folders",
        summary="Pause watching a folder or resume it (409 while another running library watches it); keep its "
        ".xmp sidecars or stop",
    )
    def change_folder(ctx: RequestContext, body: FolderChange) -> Folder:
        folder_id = ctx.path["folder_id"]
        if body.write_xmp is not None:
            ctx.library.folder_sync.set_write_xmp(folder_id, body.write_xmp)
        if body.paused is not None:
            return ctx.library.folder_sync.set_paused(folder_id, body.paused)
        return ctx.library.folders.get(folder_id)

    @api.post(
        "/folders/{folder_id:int}/rescan",
        policy=Policy.WRITE,
        tag="folders",
        summary="Scan a folder now",
    )
    def rescan(ctx: RequestContext) -> FolderScanReport:
        return ctx.library.folder_sync.scan(ctx.path["folder_id"])
