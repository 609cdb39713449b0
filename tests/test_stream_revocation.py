"""Revoking a token or a share link ends its live event streams: nothing more is delivered."""

from __future__ import annotations

import threading
import time

import httpx
from live_server import make_pictures


def _events_after(client: httpx.Client, path: str, revoke, change) -> list[str]:
    """Open the stream, revoke, then change the library; return the data lines received afterwards."""
    received: list[str] = []
    with client.stream("GET", path, timeout=10) as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry")

        def later() -> None:
            revoke()
            time.sleep(0.1)
            change()

        threading.Timer(0.2, later).start()
        started = time.monotonic()
        for line in lines:  # ends when the server closes the stream
            if line.startswith("data:"):
                received.append(line)
            assert time.monotonic() - started < 8, "the stream stayed open after the revocation"
    return received


def test_a_revoked_token_ends_its_event_stream(live, tmp_path):
    ids = make_pictures(live.library, tmp_path / "p", 1)
    admin = live.client(live.token("admin"))
    created = admin.post("/api/v1/tokens", json={"name": "watcher", "scope": "read"}).json()
    watcher = live.client(created["token"])
    received = _events_after(
        watcher,
        "/api/v1/events",
        lambda: admin.delete(f"/api/v1/tokens/{created['id']}").raise_for_status(),
        lambda: live.library.edits.set_fields(ids, rating=3),
    )
    assert received == []
    assert watcher.get("/api/v1/events").status_code == 401


def test_a_revoked_share_ends_its_event_stream(live, tmp_path):
    ids = make_pictures(live.library, tmp_path / "p", 1)
    admin = live.client(live.token("admin"))
    share = admin.post("/api/v1/shares", json={"scope_type": "pictures", "picture_ids": ids}).json()
    received = _events_after(
        live.client(),
        f"/api/v1/shared/{share['token']}/events",
        lambda: admin.delete(f"/api/v1/shares/{share['id']}").raise_for_status(),
        lambda: live.library.edits.set_fields(ids, rating=3),
    )
    assert received == []
