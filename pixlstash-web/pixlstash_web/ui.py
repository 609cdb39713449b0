"""The browser UI: static files shipped inside this package (plain ES modules, no build step, no Node).

Files are read once and served from memory with an ETag (their content hash), so a reload costs one
304 per file. Every page gets a strict Content-Security-Policy: scripts only from this origin.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["STATIC", "index", "service_worker", "share_page", "static_file"]

STATIC = Path(__file__).parent / "static"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _load() -> dict[str, tuple[bytes, str, str]]:
    files = {}
    for path in STATIC.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            kind = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
            files[path.relative_to(STATIC).as_posix()] = (body, kind, etag)
    return files


_FILES = _load()


def _service_worker() -> tuple[bytes, str, str]:
    """sw.js with the shell it caches written in: every file of the main page (not the share page's),
    under a cache name that changes whenever one of them does, so an update replaces the old shell."""
    left_out = {"sw.js", "index.html", "share.html", "js/share.js"}
    shell = ["/", *sorted(f"/ui/{name}" for name in _FILES if name not in left_out and not name.endswith("LICENSE"))]
    version = hashlib.blake2b(b"".join(_FILES[name][2].encode() for name in sorted(_FILES)), digest_size=8).hexdigest()
    body = f"const SHELL = {json.dumps('pixlstash-shell-' + version)};\nconst FILES = {json.dumps(shell)};\n".encode()
    body += _FILES["sw.js"][0]
    return body, _TYPES[".js"], f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


_FILES["/sw.js"] = _service_worker()


def _serve(request: Request, name: str, cache: str) -> Response:
    found = _FILES.get(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    body, kind, etag = found
    headers = {**_HEADERS, "ETag": etag, "Cache-Control": cache}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=kind, headers=headers)


async def index(request: Request) -> Response:
    """The app shell, for ``/`` (every view is a query string on it)."""
    return _serve(request, "index.html", "no-cache")


async def share_page(request: Request) -> Response:
    """``/s/<token>``: the share recipient's page (the token stays in the path; the page reads it)."""
    return _serve(request, "share.html", "no-store")


async def service_worker(request: Request) -> Response:
    """``/sw.js``: at the root, so that it may serve the whole app (a worker's scope is its folder)."""
    return _serve(request, "/sw.js", "no-cache")


async def static_file(request: Request) -> Response:
    """``/ui/<path>``: only files shipped in the package (a lookup in a dict, so no path can escape it)."""
    return _serve(request, request.path_params["path"], "no-cache")
