"""The pack's two routes on ComfyUI's server, for its settings dialog (web/pixlstash.js) and for a
PixlStash server that links this ComfyUI: ``GET /pixlstash/connection`` says where the connection comes
from and shows the token masked; ``POST /pixlstash/connection`` stores a URL and token (see
``connection.save``) and checks them against the server. The token never comes back out."""

from __future__ import annotations

import asyncio
import json
import logging

from .client import PixlStashError
from .common import forget_choices
from .connection import Connection, connect, current, save, token_hint

__all__ = ["register"]

log = logging.getLogger("pixlstash")
_MAX_BODY = 4096


def register() -> None:
    """Add the routes to ComfyUI's server; nothing outside ComfyUI."""
    try:
        from aiohttp import web
        from server import PromptServer  # ComfyUI's own module
    except ImportError:
        return
    server = getattr(PromptServer, "instance", None)
    if server is None:
        return
    routes = server.routes

    @routes.get("/pixlstash/connection")
    async def read_connection(request):
        try:
            return web.json_response(_describe(current()))
        except PixlStashError as error:
            return web.json_response({"error": str(error)}, status=409)

    @routes.post("/pixlstash/connection")
    async def write_connection(request):
        if (request.content_length or 0) > _MAX_BODY:
            return web.json_response({"error": "the request is too large"}, status=413)
        try:
            body = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict) or not isinstance(body.get("url"), str):
                raise ValueError("a JSON object with url (and token) is expected")
            token = body.get("token")
            if token is not None and not isinstance(token, str):
                raise ValueError("token is a string")
        except ValueError as error:
            return web.json_response({"error": f"malformed request: {error}"}, status=400)
        try:
            connection = save(body["url"], token)
        except PixlStashError as error:
            return web.json_response({"error": str(error)}, status=400)
        forget_choices()
        log.info("PixlStash connection set to %s (token %s)", connection.url, token_hint(connection.token) or "none")
        described = _describe(connection)
        described["check"] = await asyncio.get_running_loop().run_in_executor(None, _check)
        return web.json_response(described)


def _describe(connection: Connection) -> dict:
    return {
        "url": connection.url,
        "url_from": connection.url_from,
        "token": token_hint(connection.token),
        "token_from": connection.token_from,
    }


def _check() -> dict:
    """Whether the server takes the token, and what it may do."""
    try:
        me = connect(timeout=5.0).get("/auth/me")
    except PixlStashError as error:
        return {"ok": False, "message": str(error)}
    return {
        "ok": True,
        "message": f"Connected: the server takes this {me['scope']} {me['kind']}.",
        "scope": me["scope"],
    }
