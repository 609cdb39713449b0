"""The API key goes to the address the owner entered and nowhere else: a server that answers with a
redirect gets an error back, never a second request, and a server that sends without end is read only so
far."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager

import pytest

from pixlstash import BadInput, make_plugin_manager
from pixlstash.library import Library


@contextmanager
def _server(answer):
    """A real HTTP server on 127.0.0.1 that records each request's path and Authorization header."""
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.path, self.headers.get("Authorization")))
            answer(self)

        do_GET = do_POST = _any

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def _models(handler) -> None:
    body = b'{"data": [{"id": "m"}]}'
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture
def library(tmp_path):
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_openai_vision

    pm.register(pixlstash_openai_vision, name="openai-vision")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        yield library


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_never_carries_the_key_anywhere(library, code):
    from pixlstash_openai_vision.client import ChatClient

    with _server(_models) as (elsewhere, seen_elsewhere):

        def redirect(handler) -> None:
            handler.send_response(code)
            handler.send_header("Location", elsewhere + "/v1/models")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with _server(redirect) as (configured, seen_configured):
            library.plugin_settings.update(
                "openai-vision", {"base_url": configured + "/v1", "api_key": "sk-only-for-you", "retries": 0}
            )
            client = ChatClient(library.plugin_settings.get("openai-vision"))
            with pytest.raises(BadInput, match=r"redirects to .* only to the address you entered"):
                client.models()
            with pytest.raises(BadInput, match="redirects to"):
                client.chat("describe", "data:image/jpeg;base64,AA==")
            # The engine's model probe (what a read token's GET /engines runs) goes the same way.
            from pixlstash_openai_vision.engine import server_state

            assert server_state(library.plugin_settings.get("openai-vision")).models == []
    assert [auth for _, auth in seen_configured] == ["Bearer sk-only-for-you"] * len(seen_configured)
    assert len(seen_configured) >= 2
    assert seen_elsewhere == []  # the second server never heard from us


def test_an_endless_answer_is_read_only_so_far(library):
    from pixlstash_openai_vision.client import ChatClient

    def endless(handler) -> None:
        handler.send_response(200)
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            for _ in range(64):
                handler.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    with _server(endless) as (address, _):
        library.plugin_settings.update("openai-vision", {"base_url": address + "/v1", "retries": 0})
        client = ChatClient(library.plugin_settings.get("openai-vision"))
        with pytest.raises(BadInput, match="more than 16 MiB"):
            client.models()
