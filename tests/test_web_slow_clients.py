"""Clients that hold connections open without finishing a request (slowloris) are closed; everyone
else's requests, including a slow but steady one and many sent at once on one connection, go through."""

from __future__ import annotations

import socket
import time

import pytest
from live_server import LiveServer

from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings

HEAD_TIMEOUT = 1.0


@pytest.fixture
def server(library):
    settings = WebSettings(services=InstanceOptions(watch_folders=False, snapshot_schedule=False))
    with LiveServer(library, settings, head_timeout=HEAD_TIMEOUT) as live:
        yield live


def _connect(live) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection, or None if it is still open after ``seconds``."""
    began = time.monotonic()
    sock.settimeout(seconds)
    try:
        while data := sock.recv(4096):
            assert not data.startswith(b"HTTP/1.1 2"), data  # nothing is answered to half a request
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - began


def test_a_connection_that_trickles_its_headers_is_closed(server):
    silent = _connect(server)  # connects and sends nothing
    trickling = _connect(server)
    trickling.sendall(b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    began = time.monotonic()
    for n in range(4):  # a header line every 0.4 s: each one used to restart nothing, and nothing ended it
        time.sleep(0.4)
        try:
            trickling.sendall(f"X-Slow-{n}: {'a' * 10}\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            break
    assert _closed_within(trickling, 5) is not None
    assert time.monotonic() - began < HEAD_TIMEOUT + 3
    assert _closed_within(silent, 5) is not None
    silent.close()
    trickling.close()


def test_steady_clients_and_keep_alive_connections_are_served(server):
    sock = _connect(server)
    request = b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for half in (request[:20], request[20:]):  # a slow client well inside the deadline
        sock.sendall(half)
        time.sleep(0.3)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first
    time.sleep(0.5)
    sock.sendall(request)  # the next request on the same connection gets a deadline of its own
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    assert _closed_within(sock, 10) is not None  # and an idle connection is closed (keep-alive)
    sock.close()


def test_many_slow_connections_do_not_stop_a_normal_request(server):
    held = [_connect(server) for _ in range(200)]
    for sock in held:
        sock.sendall(b"GET / HTTP/1.1\r\n")
    with server.client() as client:
        began = time.monotonic()
        assert client.get("/api/v1/version").status_code == 200
        assert time.monotonic() - began < 1
    time.sleep(HEAD_TIMEOUT + 1)
    assert all(_closed_within(sock, 3) is not None for sock in held)
    for sock in held:
        sock.close()


def _one_answer(sock: socket.socket, received: bytes) -> tuple[bytes, bytes]:
    """The next whole answer (head and ``Content-Length`` body) on ``sock``, and what came after it."""
    while b"\r\n\r\n" not in received:
        data = sock.recv(65536)
        assert data, received
        received += data
    head, _, rest = received.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(rest) < length:
        data = sock.recv(65536)
        assert data, received
        rest += data
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def test_requests_sent_together_on_one_connection_are_each_answered(server):
    request = b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    body = b"{" + b" " * 3_000_000 + b"}"  # a big body, then the next request on the same connection
    with _connect(server) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
        sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        first, rest = _one_answer(sock, b"")
        sock.sendall(request)
        second, _ = _one_answer(sock, rest)
    assert first.startswith(b"HTTP/1.1 4"), first[:300]
    assert second.startswith(b"HTTP/1.1 200 "), second[:300]
    with _connect(server) as sock:
        sock.sendall(request * 2000)  # 92 KB of heads in one write
        received = b""
        while received.count(b"HTTP/1.1 200 ") < 2000:
            data = sock.recv(65536)
            assert data, received[-300:]
            received += data
