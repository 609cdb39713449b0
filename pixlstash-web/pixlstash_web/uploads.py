"""Streaming multipart uploads straight to files in the library's ``tmp`` folder, with size limits.

Nothing is buffered in memory beyond a chunk; a file over the per-file limit or a request over the
per-request limit stops the upload with 413 and every temporary file is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from pixlstash.domain import ImportReport
from pixlstash.errors import BadInput, TooLarge, UnsupportedMedia
from pixlstash.importing.arrivals import Arrivals, Hold, Release
from pixlstash.library import Library

from .api import InvalidInput

__all__ = ["EarlyImport", "ReceivedUpload", "Uploader", "receive_upload"]

_MAX_FIELD_BYTES = 10_000
_MAX_FILES = 10_000


class _File(msgspec.Struct):
    filename: str
    path: Path
    size: int = 0


class ReceivedUpload:
    def __init__(self) -> None:
        self.files: list[_File] = []
        self.fields: dict[str, str] = {}

    def discard(self) -> None:
        for file in self.files:
            file.path.unlink(missing_ok=True)

    def fields_given(self) -> tuple[int | None, list[int], list[int]]:
        """The project, the collections and each file's modified time in epoch ms (0: none), as sent."""
        try:
            project_id = int(self.fields["project_id"]) if self.fields.get("project_id") else None
            collection_ids = [int(v) for v in self.fields.get("collection_ids", "").split(",") if v.strip()]
            modified = [int(v) for v in self.fields.get("last_modified", "").split(",") if v.strip()]
        except ValueError:
            raise BadInput("project_id, collection_ids and last_modified must be numbers") from None
        return project_id, collection_ids, self._modified_times(modified)

    def private(self, default: bool) -> bool:
        """Whether the pictures stay private to their uploader: the ``private`` field (1 or 0), else
        ``default`` (the account's own default)."""
        given = self.fields.get("private", "").strip().lower()
        if given not in ("", "1", "0", "true", "false"):
            raise BadInput("private is 1 or 0")
        return default if not given else given in ("1", "true")

    def import_into(self, library: Library, owner: Uploader) -> ImportReport:
        """Import every received file (each consumed); returns one report for the request."""
        try:
            project_id, collection_ids, modified = self.fields_given()
            for file, ms in zip(self.files, modified, strict=True):
                os.utime(file.path, (ms / 1000, ms / 1000))
            files = [(file.path, file.filename) for file in self.files]
            return library.import_uploads(
                files,
                project_id=project_id,
                collection_ids=collection_ids,
                owner_id=owner.user_id,
                private=self.private(owner.private),
            )
        finally:
            self.discard()

    def _modified_times(self, modified: list[int]) -> list[int]:
        """Each received file's modified time as its browser reported it (``last_modified``: epoch ms, one
        per file in order), so that a picture without a date of its own is dated as on the sender's disk
        rather than by the upload. Times in the future (past a day of clock skew) are ignored; 0 means
        none (the importer then dates the picture by its import, and says so)."""
        latest = (time.time() + 86_400) * 1000
        given = [*modified[: len(self.files)], *[0] * (len(self.files) - len(modified))]
        return [ms if 0 < ms < latest else 0 for ms in given]


class Uploader(msgspec.Struct, frozen=True):
    """Whose the uploaded pictures become, whether they stay private to that account unless the request says
    otherwise, and how many more bytes its quota allows (None: no quota)."""

    user_id: int | None = None
    private: bool = False
    quota_left: int | None = None

    def check_quota(self, upload: ReceivedUpload) -> None:
        """An upload that would pass the account's quota is refused whole (before anything is recorded)."""
        size = sum(file.size for file in upload.files)
        if self.quota_left is not None and size > self.quota_left:
            raise TooLarge(
                f"this upload ({size:,} bytes) would pass your quota: {max(self.quota_left, 0):,} bytes are left; "
                "ask an admin of this library for more room"
            )


class EarlyImport:
    """An upload's import, started at its first file so that the import's workers prepare files while
    the rest of the request arrives; nothing is committed before the request is whole (see
    ``pixlstash.importing.arrivals``). At most two requests hold an import thread while their bodies
    arrive; others are imported when received, as before."""

    _slots = threading.BoundedSemaphore(2)

    def __init__(self, library: Library, owner: Uploader) -> None:
        self.library, self.owner = library, owner
        self.arrivals, self.hold = Arrivals(), Hold()
        self.running: asyncio.Future | None = None
        self.declined = False

    def arrived(self, file: _File) -> None:
        """A file part has ended (called on the event loop)."""
        if self.running is None and not self.declined:
            if not self._slots.acquire(blocking=False):
                self.declined = True
                return
            self.running = asyncio.get_running_loop().run_in_executor(None, self._import)
        if self.running is not None:
            self.arrivals.put(file.path, file.filename)

    def _import(self) -> ImportReport:
        try:
            return self.library.import_arriving(self.arrivals, self.hold)
        finally:
            self._slots.release()

    async def abandon(self, error: BaseException) -> None:
        """The request failed: whatever was prepared is undone (by the import's own thread), before the
        error is answered, so that nothing of the request is left when its client hears of it."""
        self.arrivals.close()
        self.hold.abandon()
        if self.running is not None and isinstance(error, Exception):  # not while being cancelled
            with contextlib.suppress(Exception):
                await self.running

    async def finish(self, upload: ReceivedUpload) -> ImportReport:
        if self.running is None:
            return await run_in_threadpool(upload.import_into, self.library, self.owner)
        self.arrivals.close()
        try:
            project_id, collection_ids, modified = upload.fields_given()
            private = upload.private(self.owner.private)
            await run_in_threadpool(self.library.check_target, project_id, collection_ids)
            label = ", ".join(file.filename for file in upload.files)
            source_id = await run_in_threadpool(self.library.new_source, "upload", label)
            self.hold.release(
                Release(
                    source_id,
                    project_id,
                    collection_ids,
                    {str(file.path): ms for file, ms in zip(upload.files, modified, strict=True)},
                    self.owner.user_id,
                    private,
                )
            )
            return await self.running
        finally:
            self.hold.abandon()  # no effect once released
            upload.discard()


def _safe_filename(raw: bytes | None) -> str:
    name = (raw or b"upload").decode("utf-8", "replace").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "upload"
    return name[:255]


async def receive_upload(
    request: Request, tmpdir: Path, settings, on_file: Callable[[_File], None] | None = None
) -> ReceivedUpload:
    """The request's files streamed to ``tmpdir`` and its fields; ``on_file`` gets each file once whole."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise UnsupportedMedia("upload with Content-Type: multipart/form-data")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_request_bytes:
        raise TooLarge(f"the request is over the {settings.max_upload_request_bytes:,}-byte upload limit")

    upload = ReceivedUpload()
    state = {
        "headers": {},
        "field": None,
        "name": b"",
        "value": b"",
        "out": None,
        "file": None,
        "total": 0,
        "error": None,
    }

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["name"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["name"].lower()] = state["value"]
        state["name"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        field = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            if field != "file":  # a file where a plain field belongs: refuse rather than ignore or misread it
                raise BadInput(f"unexpected file in the form field {field[:50]!r}; files go in the field 'file'")
            if len(upload.files) >= _MAX_FILES:
                raise TooLarge(f"at most {_MAX_FILES} files per upload")
            filename = _safe_filename(disposition.get(b"filename"))
            fd, name = tempfile.mkstemp(dir=tmpdir, prefix="upload-", suffix=Path(filename).suffix[:10])
            state["out"] = os.fdopen(fd, "wb")
            state["file"] = _File(filename, Path(name))
            upload.files.append(state["file"])
            state["field"] = None
        else:
            state["field"], state["file"] = field, None
            upload.fields[field] = ""
        state["headers"] = {}

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if state["file"] is not None:
            state["file"].size += len(chunk)
            if state["file"].size > settings.max_upload_file_bytes:
                raise TooLarge(
                    f"{state['file'].filename} is over the {settings.max_upload_file_bytes:,}-byte per-file limit"
                )
            state["out"].write(chunk)
        elif state["field"] is not None:
            value = upload.fields[state["field"]] + chunk.decode("utf-8", "replace")
            if len(value) > _MAX_FIELD_BYTES:
                raise InvalidInput(f"a form field is longer than {_MAX_FIELD_BYTES:,} characters")
            upload.fields[state["field"]] = value

    def on_part_end() -> None:
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None
            if on_file is not None:
                on_file(state["file"])

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            state["total"] += len(chunk)
            if state["total"] > settings.max_upload_request_bytes:
                raise TooLarge(f"the request is over the {settings.max_upload_request_bytes:,}-byte upload limit")
            parser.write(chunk)
        parser.finalize()
    except BaseException as error:
        if state["out"] is not None:
            state["out"].close()
        upload.discard()
        if isinstance(error, (TooLarge, UnsupportedMedia)):
            raise
        if isinstance(error, Exception) and type(error).__module__.startswith("python_multipart"):
            raise BadInput(f"malformed multipart body: {error}") from None
        raise
    if state["out"] is not None:
        state["out"].close()
    if not upload.files:
        raise BadInput("no file in the upload (use the form field 'file')")
    return upload
