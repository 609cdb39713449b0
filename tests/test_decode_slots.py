"""Pictures decoded on a request's behalf (missing previews, face crops, share renders, search by image)
are bounded per credential: one read token cannot occupy the server, and others keep being served."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from live_server import LiveServer, make_pictures

from pixlstash.auth import RateLimited
from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings
from pixlstash_web.decode_slots import DecodeSlots


def test_one_credential_decodes_two_at_a_time_and_others_are_not_held_up(library, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 8)
    for picture_id in ids:  # previews are made on first view: every request below must decode
        library.thumbnails.path(library.get(picture_id).content_hash, "preview").unlink(missing_ok=True)
    running, most = 0, 0
    lock = threading.Lock()
    make_preview = library.files.thumbnail_path

    def slow_preview(picture_id, size="grid"):  # the real work, made slow enough to overlap
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.3)
            return make_preview(picture_id, size)
        finally:
            with lock:
                running -= 1

    library.files.thumbnail_path = slow_preview
    settings = WebSettings(services=InstanceOptions(watch_folders=False, snapshot_schedule=False))
    with LiveServer(library, settings) as live:
        reader, owner = live.client(live.token("read")), live.client(live.token("admin"))
        with ThreadPoolExecutor(8) as pool:
            began = time.monotonic()
            pending = [pool.submit(reader.get, f"/api/v1/pictures/{i}/preview.webp") for i in ids]
            time.sleep(0.1)
            listed = owner.get("/api/v1/pictures", params={"limit": 10})
            owner_took = time.monotonic() - began
            answers = [p.result() for p in pending]
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.content[:4] == b"RIFF" for a in answers)
    assert most == 2  # the token's eight decodes ran two at a time
    assert listed.status_code == 200 and owner_took < 1.0  # the owner did not wait for them


def test_past_the_waiting_room_the_answer_is_429():
    async def scenario() -> None:
        slots = DecodeSlots(per_credential=1, waiting=1, total=4)
        release = threading.Event()
        first = asyncio.create_task(slots.run(("token", 1), release.wait))
        second = asyncio.create_task(slots.run(("token", 1), release.wait))
        await asyncio.sleep(0.1)
        assert slots.in_use(("token", 1)) == 2
        with pytest.raises(RateLimited):
            await slots.run(("token", 1), lambda: None)
        assert await slots.run(("token", 2), lambda: "other credentials are served") == "other credentials are served"
        release.set()
        await asyncio.gather(first, second)
        assert slots.in_use(("token", 1)) == 0  # forgotten once idle

    anyio.run(scenario)
