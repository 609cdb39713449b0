"""Streaming multipart uploads straight to files in the library's ``tmp`` folder, with size limits.

Nothing is buffered in memory beyond a chunk; a file over the per-file limit or a request over the
per-request limit stops the upload with 413 and every temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import msgspec
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from pixlstash.domain import ImportReport
from pixlstash.errors import BadInput, TooLarge, UnsupportedMedia
from pixlstash.library import Library

from .api import InvalidInput

__all__ = ["ReceivedUpload", "receive_upload"]

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

    def import_into(self, library: Library) -> ImportReport:
        """Import every received file (each consumed); returns one report for the request."""
        try:
            project_id = int(self.fields["project_id"]) if self.fields.get("project_id") else None
            collection_ids = [int(v) for v in self.fields.get("collection_ids", "").split(",") if v.strip()]
            modified = [int(v) for v in self.fields.get("last_modified", "").split(",") if v.strip()]
        except ValueError:
            self.discard()
            raise BadInput("project_id, collection_ids and last_modified must be numbers") from None
        try:
            self._keep_modified_times(modified)
            files = [(file.path, file.filename) for file in self.files]
            return library.import_uploads(files, project_id=project_id, collection_ids=collection_ids)
        finally:
            self.discard()

    def _keep_modified_times(self, modified: list[int]) -> None:
        """Give each received file the modified time its browser reported (``last_modified``: epoch ms,
        one per file in order), so that a picture without a date of its own is dated as on the sender's
        disk rather than by the upload. Times in the future (past a day of clock skew) are ignored."""
        latest = (time.time() + 86_400) * 1000
        for n, file in enumerate(self.files):
            ms = modified[n] if n < len(modified) else 0
            # Time 0 for a file without one: its temporary file's time is the upload's, and the importer
            # reads 0 as "no file time" (the picture is then dated by its import, and says so).
            seconds = ms / 1000 if 0 < ms < latest else 0
            os.utime(file.path, (seconds, seconds))


def _safe_filename(raw: bytes | None) -> str:
    name = (raw or b"upload").decode("utf-8", "replace").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "upload"
    return name[:255]


async def receive_upload(request: Request, tmpdir: Path, settings) -> ReceivedUpload:
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
