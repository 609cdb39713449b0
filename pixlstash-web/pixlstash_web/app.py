"""The application factory."""

from __future__ import annotations

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pixlstash import __version__

__all__ = ["create_app"]

_encoder = msgspec.json.Encoder()


async def version(request: Request) -> Response:
    return Response(_encoder.encode({"version": __version__}), media_type="application/json")


def create_app(library=None, settings=None) -> Starlette:
    """Build the ASGI app. ``library`` is an open library (or None for a version-only app)."""
    return Starlette(routes=[Route("/api/v1/version", version, methods=["GET"])])
