"""Loopback HTTP peers for the object storage tests. ``TamperingProxy`` stands in front of a real SeaweedFS
and changes what passes through it, as a faulty network or a service with other ETag rules would: ``etag``
gives every PUT answer an ETag that is not the MD5 of the body (AWS does so for SSE-KMS and SSE-C),
``flip`` changes one byte of every PUT body on its way to the service, ``flip-reads`` one byte of every
object a GET brings back. Requests keep their Host header, so the client's signatures still hold.
``RefusingService`` answers every request 403 and keeps the headers it was sent (to see which credentials
reached it); ``RedirectingService`` sends every request on to another address (307, the same path)."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["RedirectingService", "RefusingService", "TamperingProxy"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _LoopbackPeer:
    """A threaded HTTP server on 127.0.0.1 whose every request goes to ``answer(handler, body)``."""

    def __init__(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def handle_any(self) -> None:
                peer.answer(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class TamperingProxy(_LoopbackPeer):
    def __init__(self, upstream: str, mode: str) -> None:
        assert mode in ("etag", "flip", "flip-reads"), mode
        super().__init__()
        self.upstream, self.mode = urlsplit(upstream), mode
        self.tampered = 0  # PUTs changed so far

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        changing = handler.command == "PUT" and bool(body)
        if changing and self.mode == "flip":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        upstream = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        reading = handler.command == "GET" and reply.status in (200, 206) and bool(data)
        if reading and self.mode == "flip-reads" and "xml" not in (reply.getheader("Content-Type") or ""):
            data = bytes([data[0] ^ 0xFF]) + data[1:]  # an object, not a listing
            self.tampered += 1
        handler.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() in _HOP_BY_HOP and not (handler.command == "HEAD" and key.lower() == "content-length"):
                continue  # (a HEAD's length is the object's, with no body to count)
            if key.lower() == "etag" and changing and self.mode == "etag" and reply.status == 200:
                value = '"0123456789abcdef0123456789abcdef"'
            handler.send_header(key, value)
        if handler.command != "HEAD":
            handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
        if changing and reply.status == 200:
            self.tampered += 1


class RefusingService(_LoopbackPeer):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        self.headers.append(dict(handler.headers.items()))
        refusal = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        handler.send_response(403)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(refusal)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(refusal)


class RedirectingService(_LoopbackPeer):
    def __init__(self, to: str) -> None:
        super().__init__()
        self.to, self.asked = to.rstrip("/"), 0

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        self.asked += 1
        handler.send_response(307)
        handler.send_header("Location", self.to + handler.path)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
