"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``, and its status."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from pixlstash.accounts import InviteGone
from pixlstash.auth import Forbidden, RateLimited, Unauthenticated
from pixlstash.errors import (
    BadInput,
    ComfyUnreachable,
    Conflict,
    NotFound,
    PixlstashError,
    StorageUnavailable,
    TooLarge,
    UnsupportedMedia,
)
from pixlstash.sharing.service import ShareGone
from pixlstash.sign_in.oidc import ProviderUnreachable
from pixlstash.snapshots import SnapshotDamaged

from .api import InvalidInput

__all__ = ["ErrorBody", "ErrorDetail", "error_response", "exception_handlers", "status_of"]

log = logging.getLogger("pixlstash_web")
_encoder = msgspec.json.Encoder()

# Most specific first.
_STATUS: list[tuple[type[PixlstashError], int]] = [
    (InvalidInput, 422),
    (BadInput, 400),
    (SnapshotDamaged, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (ShareGone, 410),
    (InviteGone, 410),
    (NotFound, 404),
    (Conflict, 409),
    (TooLarge, 413),
    (UnsupportedMedia, 415),
    (RateLimited, 429),
    (ComfyUnreachable, 502),
    (ProviderUnreachable, 502),
    (StorageUnavailable, 503),
]
_HTTP_CODES = {
    400: "bad_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


def error_response(
    status: int, code: str, message: str, details: dict | None = None, headers: dict[str, str] | None = None
) -> Response:
    body = ErrorBody(ErrorDetail(code, message, details or {}))
    return Response(_encoder.encode(body), status_code=status, media_type="application/json", headers=headers)


def status_of(error: PixlstashError) -> int:
    return next((s for kind, s in _STATUS if isinstance(error, kind)), 400)


async def _pixlstash_error(request: Request, error: PixlstashError) -> Response:
    status = status_of(error)
    headers = {}
    if status == 429 and "retry_after" in error.details:
        headers["Retry-After"] = str(error.details["retry_after"])
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="pixlstash"'
    log.info("%s %s -> %d %s: %s", request.method, request.url.path, status, error.code, error.message)
    return error_response(status, error.code, error.message, dict(error.details), headers)


async def _http_error(request: Request, error: HTTPException) -> Response:
    message = {404: "no such route", 405: "method not allowed"}.get(error.status_code, str(error.detail))
    return error_response(
        error.status_code, _HTTP_CODES.get(error.status_code, "error"), message, headers=getattr(error, "headers", None)
    )


async def _out_of_range(request: Request, error: OverflowError) -> Response:
    return error_response(422, "invalid", "a number is out of range (integers are 64-bit)")


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "an unexpected error happened; it has been logged")


exception_handlers = {
    PixlstashError: _pixlstash_error,
    HTTPException: _http_error,
    OverflowError: _out_of_range,
    Exception: _unexpected,
}
