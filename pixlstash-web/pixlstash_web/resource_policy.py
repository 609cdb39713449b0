"""``Cross-Origin-Resource-Policy: same-origin`` on every answer that a browser's cookie could unlock.

The session cookie is ``SameSite=Lax``, and a "site" ignores ports and subdomains: a page served by
another program on the same machine or home network (``http://nas.local:8080``) could embed
``<img src="http://nas.local:9537/api/v1/media/...">`` and the owner's browser would send the cookie.
With this header the browser refuses to hand such a response to another origin. Share links are left
out: they carry their own credential in the URL, and a recipient may embed what was shared with them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SameOriginResources"]

_HEADER = (b"cross-origin-resource-policy", b"same-origin")
_OPEN_PREFIXES = ("/api/v1/shared/", "/s/")


class SameOriginResources:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), _HEADER]
            await send(message)

        await self.app(scope, receive, send_with_policy)
