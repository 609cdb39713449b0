"""A loopback HTTP proxy in front of a real SeaweedFS that changes what passes through it, as a faulty
network or a service with other ETag rules would: ``etag`` gives every PUT answer an ETag that is not the
MD5 of the body (AWS does so for SSE-KMS and SSE-C), ``flip`` changes one byte of every PUT body on its
way to the service. Requests keep their Host header, so the client's signatures still hold."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["TamperingProxy"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class TamperingProxy:
    def __init__(self, upstream: str, mode: str) -> None:
        assert mode in ("etag", "flip"), mode
        self.upstream, self.mode = urlsplit(upstream), mode
        self.tampered = 0  # PUTs changed so far
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                changing = self.command == "PUT" and body
                if changing and proxy.mode == "flip":
                    body = body[:-1] + bytes([body[-1] ^ 0xFF])
                upstream = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    headers["Content-Length"] = str(len(body))
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() in _HOP_BY_HOP and not (self.command == "HEAD" and key.lower() == "content-length"):
                        continue
                    if key.lower() == "etag" and changing and proxy.mode == "etag" and answer.status == 200:
                        value = '"0123456789abcdef0123456789abcdef"'
                    self.send_header(key, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                if changing and answer.status == 200:
                    proxy.tampered += 1

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TamperingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
